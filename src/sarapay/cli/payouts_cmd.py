"""`sarapay payouts RPPS`: balance, payout schedule and recent payouts of a practitioner; --schedule changes it;
--payout po_… shows what one payout contains."""

from __future__ import annotations

from typing import Any, Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_PAYOUTS, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_document, output_flags

i18n.register(
    {
        "payouts.disabled": {
            "fr": "Les versements sont suspendus sur ce compte Stripe (inscription incomplète ou vérification en attente) : "
            "vérifiez l'appariement avec « sarapay link {rpps} --check ».",
            "en": "Payouts are paused on this Stripe account (onboarding incomplete or verification pending): "
            "check the pairing with 'sarapay link {rpps} --check'.",
        },
        "payouts.manual_payout": {
            "fr": "Le versement {payout} est un versement manuel : Stripe ne relie les transactions qu'aux versements "
            "automatiques (ceux du calendrier). Un versement manuel prend un montant choisi à la demande sur le solde, "
            "sans lien avec des paiements précis : Stripe ne peut donc pas dire quelles consultations il contient. "
            "Le relevé du mois (« sarapay statement {rpps} --month AAAA-MM ») liste toutes les transactions.",
            "en": "Payout {payout} is a manual payout: Stripe links transactions to automatic payouts only (those of "
            "the schedule). A manual payout takes an amount chosen on request from the balance, not tied to given "
            "payments, so Stripe cannot tell which consultations it contains. The month's statement "
            "('sarapay statement {rpps} --month YYYY-MM') lists every transaction.",
        },
        "payouts.reconciling": {
            "fr": "Stripe n'a pas fini de rapprocher ce versement (reconciliation_status : in_progress) : "
            "la liste peut encore s'allonger. Réessayez dans quelques minutes.",
            "en": "Stripe has not finished reconciling this payout (reconciliation_status: in_progress): "
            "the list may still grow. Try again in a few minutes.",
        },
        "payouts.difference": {
            "fr": "Attention : la somme des nets ({nets}) diffère du montant du versement ({amount}) de {difference}.",
            "en": "Warning: the sum of the nets ({nets}) differs from the payout amount ({amount}) by {difference}.",
        },
        "payouts.payout_and_schedule": {
            "fr": "--payout et --schedule ne vont pas ensemble : montrez un versement, ou changez le calendrier.",
            "en": "--payout and --schedule do not go together: show a payout, or change the schedule.",
        },
        "payouts.schedule_changed": {
            "fr": "Calendrier des versements mis à jour : {schedule}.",
            "en": "Payout schedule updated: {schedule}.",
        },
    }
)


@app.command(
    "payouts",
    rich_help_panel=PANEL_PAYOUTS,
    epilog="Exemples : [bold]sarapay payouts 10000012343[/] · [bold]sarapay payouts 10000012343 --schedule weekly:monday[/] · "
    "[bold]sarapay payouts 10000012343 --schedule monthly:1 --json[/] · "
    "[bold]sarapay payouts 10000012343 --payout po_1QxY2Z[/]",
)
@output_flags("json")
def payouts(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Le praticien (RPPS, 11 chiffres, ou IDNPS de la carte CPS).", autocompletion=rpps_numbers),
    schedule: Optional[str] = typer.Option(
        None, "--schedule", metavar="CALENDRIER",
        help="Change le calendrier : daily, weekly:monday (ou hebdomadaire:lundi), monthly:1 (jour 1 à 31), manual ; "
        "le jour est obligatoire pour weekly et monthly. Possible seulement sur les comptes créés par la plateforme.",
    ),
    payout: Optional[str] = typer.Option(
        None, "--payout", metavar="po_…",
        help="Montre ce que contient ce versement : une ligne par transaction Stripe (paiement, remboursement, litige) "
        "avec sa consultation, et la somme des nets comparée au montant versé. Versements automatiques seulement.",
    ),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=100, metavar="N", help="Nombre de versements récents montrés (1 à 100)."),
    output: Output = Output.HUMAN,
) -> None:
    """Solde (disponible, en attente), calendrier et versements récents du compte Stripe d'un praticien, ou le
    contenu d'un versement (--payout)."""
    from sarapay.render import console
    from sarapay.render.payouts import payout_contents_view, payouts_view, schedule_text
    from sarapay.services import payouts as service
    from sarapay.services.context import Context

    if payout is not None:
        if schedule is not None:
            from sarapay.errors import BadInput

            raise BadInput("payouts.payout_and_schedule")
        with Context(live=global_options(ctx).live) as services:
            contents = service.payout_contents(services, rpps, payout)
        if output is Output.JSON:
            emit_document(contents)
        else:
            payout_contents_view(contents)
        _explain(contents, human=output is Output.HUMAN)
        return

    with Context(live=global_options(ctx).live) as services:
        if schedule is not None:
            view = service.change_schedule(services, rpps, schedule, limit=limit)
            if not output.machine:
                console.message(i18n.t("payouts.schedule_changed", schedule=schedule_text(view["schedule"])))
        else:
            view = service.overview(services, rpps, limit=limit)
    if output is Output.JSON:
        emit_document(view)
    else:
        payouts_view(view)
        if not view["payouts_enabled"]:
            console.warn(i18n.t("payouts.disabled", rpps=view["rpps"]))


def _explain(contents: dict[str, Any], *, human: bool) -> None:
    """On stderr: why a manual payout has no list, a reconciliation still running, a difference in the sums.

    A difference is said in every output mode: it must never go unnoticed."""
    from sarapay import money
    from sarapay.render import console

    payout = contents["payout"]
    if not contents["reconcilable"]:
        if human:
            console.message(i18n.t("payouts.manual_payout", payout=payout["id"], rpps=contents["rpps"]))
        return
    if human and payout.get("reconciliation_status") == "in_progress":
        console.warn(i18n.t("payouts.reconciling"))
    if contents["difference_cents"]:
        currency = payout["currency"]
        console.warn(i18n.t(
            "payouts.difference",
            nets=money.format_amount(contents["totals"]["net_cents"], currency=currency),
            amount=money.format_amount(payout["amount_cents"], currency=currency),
            difference=money.format_amount(contents["difference_cents"], currency=currency),
        ))
