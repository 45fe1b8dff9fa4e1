"""`sarapay reconcile`: the cron job that brings open payments up to date from Stripe and says what needs a person.

Exit codes: 0 nothing needs a person · 8 something does (the list is on stdout) · 6 an account could not be
read (network or Stripe unavailable; the report still lists what was found) · 1 another reconcile or sync
is running (nothing was checked).
"""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_RECONCILE, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_document, output_flags

i18n.register(
    {
        "reconcile.summary": {"fr": "Rapprochement : {checked} sur {accounts}, {changed}, {items}.",
                              "en": "Reconcile: {checked} on {accounts}, {changed}, {items}."},
        # Counted phrases (i18n.count): "singular|plural", French singular for 0 and 1.
        "reconcile.n_checked": {"fr": "{n} consultation vérifiée|{n} consultations vérifiées",
                                "en": "{n} consultation checked|{n} consultations checked"},
        "reconcile.n_accounts": {"fr": "{n} compte Stripe|{n} comptes Stripe", "en": "{n} Stripe account|{n} Stripe accounts"},
        "reconcile.n_changed": {"fr": "{n} mise à jour|{n} mises à jour", "en": "{n} updated|{n} updated"},
        "reconcile.n_items": {"fr": "{n} point à traiter|{n} points à traiter",
                              "en": "{n} item needing action|{n} items needing action"},
        "reconcile.nothing": {
            "fr": "Rien à traiter : aucune empreinte n'expire ni aucune contestation n'attend de réponse dans les {window}, "
            "rien n'a expiré, été refusé ni contesté depuis le {since}.",
            "en": "Nothing needs action: no hold expires and no dispute awaits an answer within {window}, nothing expired, "
            "was declined or disputed since {since}.",
        },
        "reconcile.unavailable": {
            "fr": "Compte {account} (RPPS {rpps}) non lu : {reason} Il sera repris au prochain passage.",
            "en": "Account {account} (RPPS {rpps}) not read: {reason} It will be read again on the next run.",
        },
        "reconcile.retrieves": {
            "fr": "{n} consultation absente des listes Stripe a été lue à part.|{n} consultations absentes des listes "
            "Stripe ont été lues une à une.",
            "en": "{n} consultation missing from Stripe's lists was read on its own.|{n} consultations missing from "
            "Stripe's lists were read one by one.",
        },
        "reconcile.progress": {"fr": "Comptes Stripe lus", "en": "Stripe accounts read"},
    }
)


@app.command(
    "reconcile",
    rich_help_panel=PANEL_RECONCILE,
    epilog="Exemples : [bold]sarapay reconcile[/] · [bold]sarapay reconcile --warn-within 24h --json[/] · "
    "cron : [bold]*/30 * * * * sarapay reconcile --json > /var/log/sarapay/reconcile.json || alerte[/] "
    "(code 8 : à traiter ; 6 : Stripe injoignable ; 1 : un autre passage est en cours).",
)
@output_flags("json")
def reconcile(
    ctx: typer.Context,
    practitioner: Optional[str] = typer.Option(None, "--practitioner", "-p", metavar="RPPS", help="Seulement ce praticien (RPPS).", autocompletion=rpps_numbers),
    warn_within: str = typer.Option(
        "48h", "--warn-within", metavar="DURÉE",
        help="Signale les empreintes à capturer et les contestations à répondre avant cette échéance (48h, 2j, 36h…).",
    ),
    output: Output = Output.HUMAN,
) -> None:
    """Met à jour depuis Stripe les paiements en cours et signale ce qui demande une personne (code 8) : empreintes
    bientôt expirées ou expirées, cartes refusées, liens de paiement expirés, paiements contestés et réponses aux
    contestations bientôt dues. Sans danger à relancer."""
    from sarapay import timefmt
    from sarapay.render import console
    from sarapay.render.reconcile import reconcile_items
    from sarapay.errors import EXIT_NEEDS_ACTION, StripeUnavailable
    from sarapay.services import reconcile as service
    from sarapay.services.context import Context

    window = timefmt.parse_duration(warn_within)
    bar = console.progress(i18n.t("reconcile.progress"), enabled=not output.machine)
    with Context(live=global_options(ctx).live) as services, bar as progress:
        report = service.reconcile(services, rpps=practitioner, warn_within=window, progress=progress)
    document = service.report_document(report)

    if output is Output.JSON:
        emit_document(document)
    else:
        for gap in report.unavailable:
            console.warn(i18n.t("reconcile.unavailable", account=gap.account_id, rpps=gap.rpps, reason=gap.message))
        reconcile_items(document["items"])
        if report.retrieves:
            console.message(i18n.count("reconcile.retrieves", report.retrieves))
        console.message(
            i18n.t(
                "reconcile.summary", checked=i18n.count("reconcile.n_checked", report.checked),
                accounts=i18n.count("reconcile.n_accounts", report.accounts),
                changed=i18n.count("reconcile.n_changed", len(report.changes)),
                items=i18n.count("reconcile.n_items", len(report.items)),
            )
        )
        if not report.items and report.complete:
            console.message(i18n.t("reconcile.nothing", window=warn_within.strip(), since=timefmt.format_when(report.since)))
    if not report.complete:
        raise typer.Exit(StripeUnavailable.exit_code)
    if report.needs_action:
        raise typer.Exit(EXIT_NEEDS_ACTION)

