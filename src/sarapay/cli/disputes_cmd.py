"""`sarapay disputes`: payments the patients dispute with their bank (litiges), what was withdrawn, the
answer deadline and where the practitioner answers."""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_rows, output_flags

i18n.register(
    {
        "disputes.where": {
            "fr": "{consultation_id} : le praticien (RPPS {rpps}) répond dans son tableau de bord Stripe avant le {due} : {url}",
            "en": "{consultation_id}: the practitioner (RPPS {rpps}) answers in their Stripe dashboard before {due}: {url}",
        },
        "disputes.none": {
            "fr": "Aucune contestation enregistrée. Le rapprochement (sarapay reconcile) les relève ; "
            "« sarapay disputes --refresh » les demande à Stripe tout de suite.",
            "en": "No dispute recorded. Reconcile (sarapay reconcile) picks them up; "
            "'sarapay disputes --refresh' asks Stripe right now.",
        },
        "disputes.none_open": {
            "fr": "Aucune contestation en cours.",
            "en": "No open dispute.",
        },
        "disputes.refreshed": {
            "fr": "Contestations relues chez Stripe sur {accounts} : {new}, {changed}.",
            "en": "Disputes read from Stripe on {accounts}: {new}, {changed}.",
        },
        "disputes.n_accounts": {"fr": "{n} compte|{n} comptes", "en": "{n} account|{n} accounts"},
        "disputes.n_new": {"fr": "{n} nouvelle|{n} nouvelles", "en": "{n} new|{n} new"},
        "disputes.n_changed": {
            "fr": "{n} paiement changé d'état|{n} paiements changés d'état",
            "en": "{n} payment changed state|{n} payments changed state",
        },
        "disputes.refused": {
            "fr": "Compte {account} non lu : {reason}",
            "en": "Account {account} not read: {reason}",
        },
        "disputes.money": {
            "fr": "Pendant la contestation, le montant et les frais de contestation sont retirés du solde du praticien ; "
            "gagnée, le montant lui revient (et les frais, selon la tarification Stripe) ; perdue, il est rendu au patient.",
            "en": "While the dispute lasts, the amount and the dispute fee are withdrawn from the practitioner's balance; "
            "won, the amount comes back (and the fee, depending on Stripe's pricing); lost, it goes back to the patient.",
        },
    }
)


@app.command(
    "disputes",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemples : [bold]sarapay disputes[/] · [bold]sarapay disputes --open[/] · "
    "[bold]sarapay disputes --practitioner 10000012343 --refresh --json[/]",
)
@output_flags("json")
def disputes(
    ctx: typer.Context,
    practitioner: Optional[str] = typer.Option(
        None, "--practitioner", "-p", metavar="RPPS", help="Seulement ce praticien (RPPS).", autocompletion=rpps_numbers
    ),
    open_only: bool = typer.Option(False, "--open", help="Seulement les contestations en cours (à répondre ou en examen)."),
    refresh: bool = typer.Option(
        False, "--refresh", help="Relit d'abord les contestations chez Stripe (une requête par compte suivi), comme le rapprochement."
    ),
    output: Output = Output.HUMAN,
) -> None:
    """Paiements contestés par les patients auprès de leur banque : montant retiré, frais de contestation, motif,
    échéance pour répondre (heure de Paris) et lien où le praticien répond, dans son tableau de bord Stripe."""
    from datetime import datetime

    from sarapay import timefmt
    from sarapay.render import console
    from sarapay.render.disputes import disputes_table
    from sarapay.services import disputes as service
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        if refresh:
            report = service.refresh_disputes(services, rpps=practitioner)
            for account, exc in report.refused:
                console.warn(i18n.t("disputes.refused", account=account, reason=exc.message))
            if not output.machine:
                console.message(i18n.t(
                    "disputes.refreshed", accounts=i18n.count("disputes.n_accounts", report.accounts),
                    new=i18n.count("disputes.n_new", len(report.new)),
                    changed=i18n.count("disputes.n_changed", len(report.changed)),
                ))
        rows = service.listing(services, rpps=practitioner, open_only=open_only)
    if output is Output.JSON:
        emit_rows(output, rows, service.FIELDS)
        return
    if not rows:
        console.message(i18n.t("disputes.none_open" if open_only else "disputes.none"))
        return
    disputes_table(rows)
    for row in rows:
        if row["needs_response"] and row["due_by"]:
            console.message(i18n.t("disputes.where", consultation_id=row["consultation_id"], rpps=row["rpps"],
                                  due=timefmt.format_when(datetime.fromisoformat(row["due_by"].replace("Z", "+00:00"))),
                                  url=row["dashboard_url"]))
    if any(row["open"] for row in rows):
        console.message(i18n.t("disputes.money"), style="dim")
