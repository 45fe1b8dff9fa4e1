"""`sarapay link` and `sarapay unlink`: a practitioner's Stripe account, linked, checked, unlinked.

Typer wiring only: the modes of `link` are checked here (one mode per run), the work is in
services/practitioners.py, the output on stdout (URLs, account ids, health lines, or --json), messages on
stderr.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import typer

from sarapay import i18n
from sarapay.render import console, machine
from sarapay.render.practitioners import link_method_label
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.errors import BadInput

if TYPE_CHECKING:
    from sarapay.records import Practitioner
    from sarapay.services.context import Context

i18n.register(
    {
        "link.no_mode": {
            "fr": "Indiquez ce qu'il faut faire : --email EMAIL (lien d'autorisation), --new --email EMAIL (nouveau compte), "
            "--account acct_… (compte déjà connecté), --code CODE --state STATE (retour d'autorisation) ou --check.",
            "en": "Say what to do: --email EMAIL (authorisation link), --new --email EMAIL (new account), "
            "--account acct_… (account already connected), --code CODE --state STATE (authorisation return) or --check.",
        },
        "link.exclusive": {
            "fr": "Les options {first} et {second} ne vont pas ensemble : choisissez un seul mode (voir sarapay link --help).",
            "en": "The options {first} and {second} do not go together: choose one mode (see sarapay link --help).",
        },
        "link.needs": {
            "fr": "L'option {first} demande aussi {second} : par exemple « sarapay link {example} ».",
            "en": "The option {first} also needs {second}: for example 'sarapay link {example}'.",
        },
        "link.oauth_next": {
            "fr": "Lien d'autorisation Stripe pour le praticien {rpps} ({email}), valable jusqu'au {expires} et une seule fois. "
            "Envoyez ce lien au praticien ; à son retour : sarapay link {rpps} --code CODE --state STATE "
            "(ou --return-url 'ADRESSE DE RETOUR').",
            "en": "Stripe authorisation link for practitioner {rpps} ({email}), valid until {expires}, once. "
            "Send this link to the practitioner; when they come back: sarapay link {rpps} --code CODE --state STATE "
            "(or --return-url 'RETURN ADDRESS').",
        },
        "link.oauth_done": {
            "fr": "Praticien {rpps} lié au compte Stripe {account_id} (Connect OAuth). Vérifiez l'appariement : sarapay link {rpps} --check",
            "en": "Practitioner {rpps} linked to the Stripe account {account_id} (Connect OAuth). Check the pairing: sarapay link {rpps} --check",
        },
        "link.created": {
            "fr": "Compte Stripe {account_id} créé pour le praticien {rpps} ({email}).",
            "en": "Stripe account {account_id} created for practitioner {rpps} ({email}).",
        },
        "link.onboarding_next": {
            "fr": "Envoyez ce lien d'inscription au praticien (une seule utilisation, valable jusqu'au {expires}) ; "
            "ensuite : sarapay link {rpps} --check (qui en émet un nouveau si besoin).",
            "en": "Send this onboarding link to the practitioner (single use, valid until {expires}); "
            "then: sarapay link {rpps} --check (which issues a new one if needed).",
        },
        "link.onboarding_failed": {
            "fr": "Le compte est enregistré mais le lien d'inscription n'a pas pu être émis ({problem}) : "
            "obtenez-en un avec « sarapay link {rpps} --check ».",
            "en": "The account is stored but the onboarding link could not be issued ({problem}): "
            "get one with 'sarapay link {rpps} --check'.",
        },
        "link.attached": {
            "fr": "Praticien {rpps} lié au compte Stripe {account_id} (compte déjà connecté, vérifié auprès de Stripe).",
            "en": "Practitioner {rpps} linked to the Stripe account {account_id} (already connected account, verified with Stripe).",
        },
        "check.title": {
            "fr": "Appariement du praticien {rpps} avec le compte {account_id} ({method}) :",
            "en": "Pairing of practitioner {rpps} with account {account_id} ({method}):",
        },
        "check.charges_on": {"fr": "Paiements par carte activés", "en": "Card payments enabled"},
        "check.charges_off": {"fr": "Paiements par carte désactivés", "en": "Card payments disabled"},
        "check.payouts_on": {"fr": "Versements vers la banque activés", "en": "Payouts to the bank enabled"},
        "check.payouts_off": {"fr": "Versements vers la banque désactivés", "en": "Payouts to the bank disabled"},
        "check.details_on": {"fr": "Inscription Stripe complétée", "en": "Stripe onboarding completed"},
        "check.details_off": {"fr": "Inscription Stripe incomplète", "en": "Stripe onboarding incomplete"},
        "check.nothing_due": {"fr": "Aucune information demandée par Stripe", "en": "No information requested by Stripe"},
        "check.currently_due": {"fr": "Informations à fournir : {fields}", "en": "Information to provide: {fields}"},
        "check.past_due": {"fr": "Informations en retard : {fields}", "en": "Overdue information: {fields}"},
        "check.disabled": {"fr": "Compte restreint par Stripe ({reason})", "en": "Account restricted by Stripe ({reason})"},
        "check.healthy": {
            "fr": "Appariement en bon état : le praticien peut recevoir des paiements en ligne.",
            "en": "Pairing healthy: the practitioner can receive online payments.",
        },
        "check.onboarding": {
            "fr": "Inscription à terminer : envoyez ce nouveau lien au praticien (une seule utilisation, valable jusqu'au {expires}), "
            "puis revérifiez avec « sarapay link {rpps} --check ».",
            "en": "Onboarding to finish: send this new link to the practitioner (single use, valid until {expires}), "
            "then check again with 'sarapay link {rpps} --check'.",
        },
        "check.self_managed": {
            "fr": "Ce compte est géré par le praticien lui-même : il doit compléter les informations demandées dans son tableau de bord Stripe "
            "(dashboard.stripe.com) ; la plateforme ne peut pas lui envoyer de lien d'inscription.",
            "en": "This account is managed by the practitioner: they must provide the requested information in their Stripe dashboard "
            "(dashboard.stripe.com); the platform cannot send them an onboarding link.",
        },
        "unlink.title": {"fr": "Délier le compte Stripe d'un praticien", "en": "Unlink a practitioner's Stripe account"},
        "unlink.action": {"fr": "Action", "en": "Action"},
        "unlink.action_deauthorize": {
            "fr": "retirer l'accès de la plateforme au compte (le compte du praticien n'est pas supprimé)",
            "en": "remove the platform's access to the account (the practitioner's account is not deleted)",
        },
        "unlink.action_forget": {
            "fr": "oublier le compte dans le registre local (aucune requête à Stripe)",
            "en": "forget the account in the local ledger (no request to Stripe)",
        },
        "unlink.amount": {"fr": "Montant", "en": "Amount"},
        "unlink.no_money": {"fr": "aucun mouvement d'argent", "en": "no money moves"},
        "unlink.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "unlink.account": {"fr": "Compte connecté", "en": "Connected account"},
        "unlink.holds": {"fr": "Empreintes non capturées", "en": "Uncaptured holds"},
        "unlink.holds_forced": {
            "fr": "{count} (--force : elles ne pourront plus être capturées ni libérées par la plateforme)",
            "en": "{count} (--force: the platform will no longer be able to capture or release them)",
        },
        "unlink.open_links": {"fr": "Liens de paiement encore ouverts", "en": "Payment links still open"},
        "unlink.forget_dry_run": {
            "fr": "Simulation (--dry-run) : aucune requête ne serait envoyée à Stripe ; le compte serait seulement oublié localement.",
            "en": "Dry run (--dry-run): no request would be sent to Stripe; the account would only be forgotten locally.",
        },
        "unlink.done_deauthorized": {
            "fr": "Praticien {rpps} délié : la plateforme n'a plus accès au compte {account_id}, qui reste au praticien.",
            "en": "Practitioner {rpps} unlinked: the platform no longer has access to the account {account_id}, which stays the practitioner's.",
        },
        "unlink.done_revoked": {
            "fr": "Praticien {rpps} délié : l'accès au compte {account_id} était déjà révoqué côté Stripe ; il est oublié localement.",
            "en": "Practitioner {rpps} unlinked: access to the account {account_id} was already revoked on Stripe; it is forgotten locally.",
        },
        "unlink.done_created": {
            "fr": "Praticien {rpps} délié localement. Le compte {account_id}, créé par la plateforme, reste sur Stripe "
            "(Tableau de bord › Connect › Comptes) ; il peut être rattaché de nouveau avec « sarapay link {rpps} --account {account_id} ».",
            "en": "Practitioner {rpps} unlinked locally. The account {account_id}, created by the platform, remains on Stripe "
            "(Dashboard › Connect › Accounts); it can be attached again with 'sarapay link {rpps} --account {account_id}'.",
        },
    }
)


def _when(unix: Any) -> str:
    from sarapay.timefmt import format_when

    return format_when(int(unix)) if unix else "-"


def _iso(unix: Any) -> str | None:
    from sarapay.timefmt import iso_utc

    return iso_utc(int(unix)) if unix else None


def _mode(
    *, email: Optional[str], name: Optional[str], new: bool, account: Optional[str], code: Optional[str],
    state: Optional[str], return_url: Optional[str], check: bool,
) -> str:
    """The one mode asked for, or BadInput naming the two options that clash (nothing opened yet)."""
    given = {
        "--new": new,
        "--account": account is not None,
        "--code": code is not None,
        "--state": state is not None,
        "--return-url": return_url is not None,
        "--check": check,
    }
    groups = [["--new"], ["--account"], ["--code", "--state"], ["--return-url"], ["--check"]]
    chosen = [group for group in groups if any(given[o] for o in group)]
    if len(chosen) > 1:
        first = next(o for o in chosen[0] if given[o])
        second = next(o for o in chosen[1] if given[o])
        raise BadInput("link.exclusive", first=first, second=second)
    if check and (email is not None or name is not None):
        raise BadInput("link.exclusive", first="--check", second="--email" if email is not None else "--name")
    if (code is not None or state is not None or return_url is not None) and email is not None:
        raise BadInput("link.exclusive", first="--code" if code is not None else "--state" if state is not None else "--return-url", second="--email")
    if code is not None and state is None:
        raise BadInput("link.needs", first="--code", second="--state", example="RPPS --code ac_… --state STATE")
    if state is not None and code is None:
        raise BadInput("link.needs", first="--state", second="--code", example="RPPS --code ac_… --state STATE")
    if new and email is None:
        raise BadInput("link.needs", first="--new", second="--email", example="RPPS --new --email nom@domaine.fr")
    if chosen:
        return {"--new": "new", "--account": "attach", "--code": "oauth-finish", "--return-url": "oauth-finish", "--check": "check"}[chosen[0][0]]
    if email is not None:
        return "oauth-start"
    raise BadInput("link.no_mode")


def _context(ctx: typer.Context) -> Context:
    from sarapay.services.context import Context

    return Context(live=global_options(ctx).live)


@app.command(
    "link",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemples : [bold]sarapay link 10000000017 --email dr.martin@example.fr[/] (lien d'autorisation) · "
    "[bold]sarapay link 10000000017 --code ac_… --state …[/] (au retour) · "
    "[bold]sarapay link 10000000017 --new --email dr.martin@example.fr[/] · "
    "[bold]sarapay link 10000000017 --account acct_1Nv0FGQ9RKHgCVdK[/] · [bold]sarapay link 10000000017 --check[/]",
)
def link(
    ctx: typer.Context,
    rpps: str = typer.Argument(
        ..., metavar="RPPS", help="Numéro RPPS du praticien (11 chiffres, ou 12 commençant par 8).", autocompletion=rpps_numbers
    ),
    email: Optional[str] = typer.Option(None, "--email", help="E-mail du praticien (pré-remplit la page Stripe)."),
    name: Optional[str] = typer.Option(None, "--name", help="Nom affiché dans sarapay (jamais envoyé à Stripe)."),
    new: bool = typer.Option(False, "--new", help="Crée un nouveau compte connecté et affiche son lien d'inscription."),
    account: Optional[str] = typer.Option(None, "--account", help="Rattache un compte déjà connecté à la plateforme (acct_…)."),
    code: Optional[str] = typer.Option(None, "--code", help="Code d'autorisation reçu au retour (ac_…), avec --state."),
    state: Optional[str] = typer.Option(None, "--state", help="Paramètre state reçu au retour, avec --code."),
    return_url: Optional[str] = typer.Option(None, "--return-url", help="L'adresse de retour complète (contient code et state, ou l'erreur)."),
    check: bool = typer.Option(False, "--check", help="Vérifie l'appariement ; émet un nouveau lien d'inscription si besoin."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON (clés stables, heures ISO 8601 UTC)."),
) -> None:
    """Lie le compte Stripe d'un praticien à la plateforme (Connect), ou vérifie cet appariement.

    Modes : --email (lien d'autorisation OAuth pour un compte existant ou à créer), --code/--state ou --return-url (fin de l'autorisation), --new (compte créé par la plateforme + lien d'inscription), --account (compte déjà connecté), --check (état de l'appariement).

    Code de sortie de --check : 0 si l'appariement est en bon état ou si l'inscription reste à terminer (le nouveau lien est alors affiché), 5 si Stripe refuse (accès révoqué par exemple).
    """
    from sarapay.services import practitioners as svc

    mode = _mode(email=email, name=name, new=new, account=account, code=code, state=state, return_url=return_url, check=check)
    with _context(ctx) as context:
        if mode == "oauth-start":
            _show_oauth_start(svc.start_oauth(context, rpps, email or "", name), json_out)
        elif mode == "oauth-finish":
            if return_url is not None:
                back = svc.parse_oauth_return(return_url)
                row = svc.complete_oauth(context, rpps, state=back["state"] or "", code=back["code"], error=back["error"])
            else:
                row = svc.complete_oauth(context, rpps, state=state or "", code=code)
            _show_row(row, "link.oauth_done", json_out)
        elif mode == "new":
            _show_created(svc.create_account(context, rpps, email or "", name), json_out)
        elif mode == "attach":
            _show_row(svc.attach_account(context, rpps, account or "", email=email, name=name), "link.attached", json_out)
        else:
            from sarapay.rpps import is_valid_rpps, normalize_rpps

            if is_valid_rpps(rpps):  # a bad number is refused (and audited) by check itself
                for gone in svc.disconnected(context, normalize_rpps(rpps)):
                    console.warn(i18n.t("practitioners.disconnected", **gone))
            _show_health(svc.check(context, rpps), json_out)


def _show_oauth_start(result: dict[str, Any], json_out: bool) -> None:
    from sarapay.ids import mask_email

    if json_out:
        machine.emit_json({**result, "expires_at": _iso(result["expires_at"])})
        return
    console.data_line(result["url"])
    console.message(
        i18n.t("link.oauth_next", rpps=result["rpps"], email=mask_email(result["email"]), expires=_when(result["expires_at"]))
    )


def _show_row(row: Practitioner, key: str, json_out: bool) -> None:
    from sarapay.services.practitioners import practitioner_view

    if json_out:
        machine.emit_json(practitioner_view(row))
        return
    console.data_line(row.account_id or "")
    console.message(i18n.t(key, rpps=row.rpps, account_id=row.account_id))


def _show_created(result: dict[str, Any], json_out: bool) -> None:
    from sarapay.ids import mask_email
    from sarapay.services.practitioners import practitioner_view

    row, onboarding = result["practitioner"], result["onboarding"]
    if json_out:
        machine.emit_json(
            {
                **practitioner_view(row),
                "onboarding_url": onboarding["url"] if onboarding else None,
                "onboarding_expires_at": _iso(onboarding["expires_at"]) if onboarding else None,
            }
        )
    else:
        console.message(i18n.t("link.created", account_id=result["account_id"], rpps=row.rpps, email=mask_email(row.email)))
        if onboarding:
            console.data_line(onboarding["url"])
            console.message(i18n.t("link.onboarding_next", expires=_when(onboarding["expires_at"]), rpps=row.rpps))
    if not onboarding:
        console.warn(i18n.t("link.onboarding_failed", problem=result["onboarding_error"], rpps=row.rpps))


def _show_health(health: dict[str, Any], json_out: bool) -> None:
    onboarding = health["onboarding"]
    if json_out:
        machine.emit_json(
            {
                **{k: v for k, v in health.items() if k != "onboarding"},
                "onboarding_url": onboarding["url"] if onboarding else None,
                "onboarding_expires_at": _iso(onboarding["expires_at"]) if onboarding else None,
            }
        )
        return
    method = link_method_label(health["link_method"])
    console.data_line(i18n.t("check.title", rpps=health["rpps"], account_id=health["account_id"], method=method))
    lines: list[tuple[bool, str, dict[str, Any]]] = [
        (health["charges_enabled"], "check.charges_on" if health["charges_enabled"] else "check.charges_off", {}),
        (health["payouts_enabled"], "check.payouts_on" if health["payouts_enabled"] else "check.payouts_off", {}),
        (health["details_submitted"], "check.details_on" if health["details_submitted"] else "check.details_off", {}),
    ]
    if health["past_due"]:
        lines.append((False, "check.past_due", {"fields": ", ".join(health["past_due"])}))
    extra_due = [f for f in health["currently_due"] if f not in health["past_due"]]
    if extra_due:
        lines.append((False, "check.currently_due", {"fields": ", ".join(extra_due)}))
    if not health["currently_due"] and not health["past_due"]:
        lines.append((True, "check.nothing_due", {}))
    if health["disabled_reason"]:
        lines.append((False, "check.disabled", {"reason": health["disabled_reason"]}))
    for ok, key, params in lines:
        console.data_line(("✓ " if ok else "✗ ") + i18n.t(key, **params))
    if health["healthy"]:
        console.message(i18n.t("check.healthy"))
    elif onboarding:
        console.data_line(onboarding["url"])
        console.message(i18n.t("check.onboarding", expires=_when(onboarding["expires_at"]), rpps=health["rpps"]))
    elif not health["controlled"]:
        console.warn(i18n.t("check.self_managed"))


@app.command(
    "unlink",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemples : [bold]sarapay unlink 10000000017[/] · [bold]sarapay unlink 10000000017 --dry-run[/] · "
    "[bold]sarapay unlink 10000000017 --yes[/] (sans question, pour un script)",
)
def unlink(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Numéro RPPS du praticien.", autocompletion=rpps_numbers),
    yes: bool = typer.Option(False, "--yes", "-y", help="Ne pose pas de question (obligatoire sans terminal)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Montre la requête sans rien envoyer ni modifier."),
    force: bool = typer.Option(False, "--force", help="Délie même s'il reste des empreintes bancaires non capturées."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON du résultat."),
) -> None:
    """Délie le compte Stripe d'un praticien : retire l'accès de la plateforme, sans jamais supprimer le compte.

    Compte relié par OAuth : l'accès de la plateforme est révoqué (deauthorize). Compte créé par la plateforme : la plateforme ne peut pas s'en retirer ; sarapay l'oublie seulement localement, le compte reste sur Stripe. Refusé tant qu'il reste des empreintes non capturées (sauf --force).
    """
    from sarapay.cli import confirm
    from sarapay.services import practitioners as svc

    live = global_options(ctx).live

    def present(plan: dict[str, Any]) -> None:
        who = plan["rpps"] + (f" ({plan['name']})" if plan.get("name") else "")
        rows = [
            (i18n.t("unlink.action"), i18n.t(f"unlink.action_{plan['action']}")),
            (i18n.t("unlink.amount"), i18n.t("unlink.no_money")),
            (i18n.t("unlink.practitioner"), who),
            (i18n.t("unlink.account"), f"{plan['account_id']} ({link_method_label(plan['link_method'])})"),
        ]
        if plan["uncaptured"]:
            rows.append((i18n.t("unlink.holds"), i18n.t("unlink.holds_forced", count=plan["uncaptured"])))
        if plan["open_links"]:
            rows.append((i18n.t("unlink.open_links"), str(plan["open_links"])))
        confirm.show_banner(i18n.t("unlink.title"), rows, live=live)
        if dry_run:
            request = plan["request"]
            if request:
                confirm.show_dry_run(request)
            else:
                console.message(i18n.t("unlink.forget_dry_run"))
            return
        confirm.confirm_or_abort(yes=yes)

    with _context(ctx) as context:
        plan = svc.unlink(context, rpps, force=force, dry_run=dry_run, present=present)
    if json_out and not dry_run:
        machine.emit_json({k: v for k, v in plan.items() if k != "request"})
    if dry_run:
        return
    if plan["action"] == "deauthorize" and plan["reason"] != "already_revoked":
        key = "unlink.done_deauthorized"
    elif plan["reason"] == "already_revoked":
        key = "unlink.done_revoked"
    else:
        key = "unlink.done_created"
    console.message(i18n.t(key, rpps=plan["rpps"], account_id=plan["account_id"]))
