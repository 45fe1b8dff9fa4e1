"""`sarapay capture`, `sarapay cancel`, `sarapay refund`: the commands that move money.

Each shows a banner (action, amount, practitioner, connected account, mode), then asks on a TTY;
`--yes` skips the question, `--dry-run` shows the request and sends nothing. One audit row per run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import consultation_ids

if TYPE_CHECKING:
    from sarapay.services.context import Context
    from sarapay.services.payments import Plan

i18n.register(
    {
        "moves.title.capture": {
            "fr": "Capture de {amount} sur l'empreinte de {hold}",
            "en": "Capture of {amount} out of the {hold} hold",
        },
        "moves.title.cancel": {"fr": "Libération de l'empreinte de {amount}", "en": "Release of the {amount} hold"},
        "moves.title.close_link": {"fr": "Fermeture du lien de paiement", "en": "Closing the payment link"},
        "moves.title.refund": {"fr": "Remboursement de {amount}", "en": "Refund of {amount}"},
        "moves.title.cancel_local": {
            "fr": "Annulation d'une consultation sans paiement en ligne",
            "en": "Cancelling a consultation without online payment",
        },
        "moves.row.stripe": {"fr": "Envoi à Stripe", "en": "Sent to Stripe"},
        "moves.row.stripe_nothing": {
            "fr": "rien n'est envoyé (aucun paiement en ligne)",
            "en": "nothing is sent (no online payment)",
        },
        "moves.done.cancel_local": {
            "fr": "Consultation annulée dans le registre ; rien n'a été envoyé à Stripe.",
            "en": "Consultation canceled in the ledger; nothing was sent to Stripe.",
        },
        "moves.dry_run_local": {
            "fr": "Simulation : la consultation serait marquée « Annulé » dans le registre ; aucune requête à Stripe.",
            "en": "Dry run: the consultation would be marked “Canceled” in the ledger; no request to Stripe.",
        },
        "moves.title.refund_again": {
            "fr": "Nouveau remboursement de {amount} (un remboursement a déjà été fait)",
            "en": "Another refund of {amount} (a refund was already made)",
        },
        "moves.row.previous_refund": {"fr": "Déjà remboursé", "en": "Already refunded"},
        "moves.row.previous_refund_value": {"fr": "{amount} le {when} ({refund_id})", "en": "{amount} on {when} ({refund_id})"},
        "moves.row.resumed": {"fr": "Reprise", "en": "Resumed"},
        "moves.row.resumed_value": {
            "fr": "envoyé plus tôt sans réponse de Stripe : renvoyé avec la même clé, appliqué une seule fois",
            "en": "sent earlier without Stripe's answer: sent again with the same key, applied only once",
        },
        "moves.question_again": {
            "fr": "Rembourser encore {amount} au patient ? [o/N]",
            "en": "Refund the patient {amount} more? [y/N]",
        },
        "moves.row.consultation": {"fr": "Consultation", "en": "Consultation"},
        "moves.row.amount": {"fr": "Montant", "en": "Amount"},
        "moves.row.hold": {"fr": "Empreinte", "en": "Hold"},
        "moves.row.released": {"fr": "Libéré", "en": "Released"},
        "moves.row.captured": {"fr": "Capturé", "en": "Captured"},
        "moves.row.refunded": {"fr": "Remboursé", "en": "Refunded"},
        "moves.row.fee": {"fr": "Frais Stripe", "en": "Stripe fee"},
        "moves.row.net": {"fr": "Net", "en": "Net"},
        "moves.row.state": {"fr": "État", "en": "State"},
        "moves.row.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "moves.row.account": {"fr": "Compte connecté", "en": "Connected account"},
        "moves.row.link": {"fr": "Lien de paiement", "en": "Payment link"},
        "moves.done.capture": {"fr": "Capture effectuée.", "en": "Capture done."},
        "moves.done.cancel": {"fr": "Empreinte libérée : rien n'a été débité.", "en": "Hold released: nothing was charged."},
        "moves.done.close_link": {
            "fr": "Lien de paiement fermé : le patient ne peut plus payer.",
            "en": "Payment link closed: the patient can no longer pay.",
        },
        "moves.done.refund": {"fr": "Remboursement effectué.", "en": "Refund done."},
        "moves.replayed": {
            "fr": "Stripe a rejoué la réponse d'une demande identique déjà faite (même clé d'idempotence) : "
            "l'argent n'a pas bougé une seconde fois.",
            "en": "Stripe replayed the answer to an identical request already made (same idempotency key): "
            "money did not move a second time.",
        },
        "moves.refresh_failed": {
            "fr": "L'opération est faite, mais le registre local n'a pas pu être mis à jour : "
            "lancez « sarapay status {consultation_id} --refresh ».",
            "en": "The operation is done, but the local ledger could not be updated: run 'sarapay status {consultation_id} --refresh'.",
        },
    }
)


def _banner(plan: Plan, *, live: bool) -> None:
    from sarapay.cli.confirm import show_banner
    from sarapay.money import format_amount
    from sarapay.timefmt import format_when

    row = plan.consultation
    amount = format_amount(plan.amount_cents)
    kind = "refund_again" if plan.needs_again else plan.action
    title = i18n.t(f"moves.title.{kind}", amount=amount, hold=format_amount(row.authorised_cents))
    name = plan.practitioner.name if plan.practitioner else None
    who = f"{name} (RPPS {row.rpps})" if name else f"RPPS {row.rpps}"
    rows = [(i18n.t("moves.row.consultation"), row.id)]
    if plan.action == "cancel_local":
        rows.append((i18n.t("moves.row.stripe"), i18n.t("moves.row.stripe_nothing")))
    elif plan.action != "close_link":
        rows.append((i18n.t("moves.row.amount"), amount))
    if plan.action == "capture":
        rows.append((i18n.t("moves.row.hold"), format_amount(row.authorised_cents)))
    if plan.action == "refund":
        rows.append((i18n.t("moves.row.captured"), format_amount(row.captured_cents)))
        rows.append((i18n.t("moves.row.refunded"), format_amount(row.refunded_cents)))
    if plan.action == "close_link":
        rows.append((i18n.t("moves.row.link"), row.checkout_session_id or "—"))
    for refund in plan.previous_refunds:
        value = i18n.t(
            "moves.row.previous_refund_value", amount=format_amount(refund.amount_cents), when=format_when(refund.created),
            refund_id=refund.refund_id,
        )
        rows.append((i18n.t("moves.row.previous_refund"), value))
    if plan.resumes:
        rows.append((i18n.t("moves.row.resumed"), i18n.t("moves.row.resumed_value")))
    rows.append((i18n.t("moves.row.practitioner"), who))
    rows.append((i18n.t("moves.row.account"), plan.account_id))
    show_banner(title, rows, live=live)


def _machine(result: dict[str, Any]) -> dict[str, Any]:
    row = result["consultation"]
    return {
        "consultation_id": row.id,
        "action": result["action"],
        "state": row.state,
        "amount_cents": result["amount_cents"],
        "authorised_cents": row.authorised_cents,
        "captured_cents": row.captured_cents,
        "refunded_cents": row.refunded_cents,
        "fee_cents": row.fee_cents,
        "net_cents": row.net_cents,
        "currency": row.currency or "eur",
        "payment_intent_id": row.payment_intent_id,
        "request_id": result["request_id"],
        "replayed": result["replayed"],
        "resumed": result["resumed"],
    }


def _human(result: dict[str, Any]) -> None:
    from sarapay.render import console
    from sarapay.money import format_amount
    from sarapay.statuses import label

    row = result["consultation"]
    lines = [
        (i18n.t("moves.row.consultation"), row.id),
        (i18n.t("moves.row.state"), label(row.state)),
    ]
    action = result["action"]
    if action == "cancel":
        lines.append((i18n.t("moves.row.released"), format_amount(result["amount_cents"])))
    if row.captured_cents:
        lines.append((i18n.t("moves.row.captured"), format_amount(row.captured_cents)))
    if row.refunded_cents:
        lines.append((i18n.t("moves.row.refunded"), format_amount(row.refunded_cents)))
    if row.fee_cents is not None and row.captured_cents:
        lines.append((i18n.t("moves.row.fee"), format_amount(row.fee_cents)))
    if row.net_cents is not None and row.captured_cents:
        lines.append((i18n.t("moves.row.net"), format_amount(row.net_cents)))
    width = max(len(name) for name, _ in lines)
    for name, value in lines:
        console.data_line(f"{name.ljust(width)}  {value}")


def _run(
    ctx: typer.Context,
    command: str,
    consultation: str,
    prepare: Callable[[Context], Plan],
    *,
    yes: bool,
    dry_run: bool,
    as_json: bool,
    again: bool = False,
) -> None:
    from sarapay.render import console, machine
    from sarapay.cli.confirm import confirm_or_abort, is_interactive, show_dry_run
    from sarapay.money import format_amount
    from sarapay.services import payments
    from sarapay.services.context import Context

    live = global_options(ctx).live

    def present(plan: Plan) -> None:
        """The banner, then the dry run or the question, inside the command's audit row."""
        _banner(plan, live=live)
        request = plan.request
        if dry_run:
            if as_json:
                machine.emit_json(
                    {
                        "dry_run": True,
                        "consultation_id": plan.consultation_id,
                        "action": plan.action,
                        "amount_cents": plan.amount_cents,
                        "request": {
                            "method": request.method if request else "",
                            "path": request.path if request else "",
                            "account": plan.account_id,
                            "idempotency_key": plan.idempotency_key,
                            "params": request.form() if request else {},
                        },
                    }
                )
            elif request is None:
                console.message(i18n.t("moves.dry_run_local"))
            else:
                show_dry_run(request)
            return
        if plan.needs_again and not again:
            # A second refund is never implied by --yes: a re-run or a second terminal must not pay twice.
            if yes or not is_interactive():
                raise payments.again_needed(plan)
            confirm_or_abort(yes=False, question=i18n.t("moves.question_again", amount=format_amount(plan.amount_cents)))
        else:
            confirm_or_abort(yes=yes)

    with Context(live=live) as context:
        result = payments.run(context, command, consultation, prepare, dry_run=dry_run, present=present)
    if result is None:  # a dry run
        return
    if as_json:
        machine.emit_json(_machine(result))
    else:
        _human(result)
    console.message(i18n.t(f"moves.done.{result['action']}"))
    if result["replayed"]:
        console.warn(i18n.t("moves.replayed"))
    if result["refresh_failed"]:
        console.warn(i18n.t("moves.refresh_failed", consultation_id=result["consultation"].id))


_YES = typer.Option(False, "--yes", "-y", help="Ne pose pas de question (tâches cron) : exécute directement.")
_DRY_RUN = typer.Option(False, "--dry-run", help="Montre la requête qui serait envoyée à Stripe, sans rien envoyer.")
_JSON = typer.Option(False, "--json", help="Sortie JSON (centimes, clés stables).")
_CONSULTATION = typer.Argument(..., help="Identifiant de la consultation (TC-…).", autocompletion=consultation_ids)


@app.command(
    "capture",
    rich_help_panel=PANEL_SUPPORT,
    # "-3" reaches the amount parser, which says in French that it is negative, instead of "no such option".
    context_settings={"ignore_unknown_options": True},
    epilog="Exemples : sarapay capture TC-8F3K2Q 20 (capture 20 € et libère le reste) · sarapay capture TC-8F3K2Q "
    "(toute l'empreinte) · sarapay capture TC-8F3K2Q 0 (libère toute l'empreinte)",
)
def capture(
    ctx: typer.Context,
    consultation: str = _CONSULTATION,
    amount: Optional[str] = typer.Argument(
        None, help="Montant à débiter : de 0,50 € jusqu'à l'empreinte (défaut : toute l'empreinte ; 0 la libère)."
    ),
    yes: bool = _YES,
    dry_run: bool = _DRY_RUN,
    as_json: bool = _JSON,
) -> None:
    """Débite le patient après l'acte : capture tout ou partie de l'empreinte bancaire.

    Le reste de l'empreinte est libéré par Stripe ; une empreinte ne se capture qu'une fois. Affiche ensuite
    le montant capturé, les frais Stripe et le net pour le praticien.
    """
    from sarapay.services import payments

    _run(ctx, "capture", consultation, lambda c: payments.prepare_capture(c, consultation, amount),
         yes=yes, dry_run=dry_run, as_json=as_json)


@app.command(
    "cancel",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemple : sarapay cancel TC-8F3K2Q --yes",
)
def cancel(
    ctx: typer.Context,
    consultation: str = _CONSULTATION,
    yes: bool = _YES,
    dry_run: bool = _DRY_RUN,
    as_json: bool = _JSON,
) -> None:
    """Annule une consultation : libère l'empreinte, ferme le lien de paiement encore ouvert, ou annule une consultation planifiée sans paiement en ligne.

    Rien n'est débité au patient. Sans paiement en ligne, seul le registre change (« Annulé ») : rien n'est
    envoyé à Stripe. Refusé une fois le paiement capturé (voir « sarapay refund »).
    """
    from sarapay.services import payments

    _run(ctx, "cancel", consultation, lambda c: payments.prepare_cancel(c, consultation),
         yes=yes, dry_run=dry_run, as_json=as_json)


@app.command(
    "refund",
    rich_help_panel=PANEL_SUPPORT,
    # "-3" reaches the amount parser, which says in French that it is negative, instead of "no such option".
    context_settings={"ignore_unknown_options": True},
    epilog="Exemples : sarapay refund TC-8F3K2Q (tout ce qui reste) · sarapay refund TC-8F3K2Q 5,50 · "
    "sarapay refund TC-8F3K2Q 2 --yes --again (un second remboursement, voulu)",
)
def refund(
    ctx: typer.Context,
    consultation: str = _CONSULTATION,
    amount: Optional[str] = typer.Argument(None, help="Montant à rembourser (défaut : tout ce qui reste remboursable)."),
    yes: bool = _YES,
    again: bool = typer.Option(
        False, "--again",
        help="Confirme un nouveau remboursement d'une consultation déjà remboursée en partie (exigé avec --yes).",
    ),
    dry_run: bool = _DRY_RUN,
    as_json: bool = _JSON,
) -> None:
    """Rembourse au patient tout ou partie d'un paiement capturé.

    Les frais Stripe de la capture restent dus par le praticien. Un second remboursement de la même
    consultation doit être voulu : la confirmation liste ceux déjà faits, et avec --yes il faut --again.
    Relancer après une réponse perdue renvoie la même demande (même clé) : le patient n'est remboursé qu'une fois.
    """
    from sarapay.services import payments

    _run(ctx, "refund", consultation, lambda c: payments.prepare_refund(c, consultation, amount),
         yes=yes, dry_run=dry_run, as_json=as_json, again=again)
