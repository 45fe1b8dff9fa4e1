"""`sarapay status`: the payments table with totals per state, or one consultation in detail."""

from __future__ import annotations

from typing import List, Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import consultation_ids, rpps_numbers
from sarapay.cli.output import Output, emit_document, emit_rows, output_flags

i18n.register(
    {
        "listing.none": {"fr": "Aucune consultation.", "en": "No consultation."},
        "listing.none_matching": {
            "fr": "Aucune consultation ne correspond à ces critères.",
            "en": "No consultation matches these criteria.",
        },
        "listing.limited": {
            "fr": "{shown} consultations affichées sur {total} : à capturer d'abord, puis aujourd'hui et les plus "
            "récentes (--limit 0 pour toutes). Les totaux portent sur les {total}.",
            "en": "{shown} of {total} consultations shown: holds to capture first, then today and the most recent "
            "(--limit 0 for all). The totals cover all {total}.",
        },
        "listing.refreshed": {
            "fr": "{n} consultation mise à jour depuis Stripe.|{n} consultations mises à jour depuis Stripe.",
            "en": "{n} consultation brought up to date from Stripe.|{n} consultations brought up to date from Stripe.",
        },
        "listing.refresh_failed": {
            "fr": "{consultation_id} n'a pas pu être mise à jour : {reason}",
            "en": "{consultation_id} could not be brought up to date: {reason}",
        },
    }
)

HUMAN_LIMIT = 50  # rows on screen by default; machine output has no default limit


@app.command(
    "status",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemples : [bold]sarapay status[/] · [bold]sarapay status TC-8F3K2Q[/] · "
    "[bold]sarapay status --practitioner 10000012343 --state \"Non capturé\" --since 01/12/2026[/] · "
    "[bold]sarapay status --since 2026-12-01 --until 2026-12-31 --excel > decembre.csv[/]",
)
@output_flags("json", "csv", "nl", "excel")
def status(
    ctx: typer.Context,
    consultation: Optional[str] = typer.Argument(
        None, metavar="[CONSULTATION]", help="Une consultation (TC-…) à voir en détail, avec son historique.",
        autocompletion=consultation_ids,
    ),
    practitioner: Optional[str] = typer.Option(None, "--practitioner", "-p", metavar="RPPS", help="Seulement ce praticien (RPPS).", autocompletion=rpps_numbers),
    state: Optional[List[str]] = typer.Option(
        None, "--state", "-s", metavar="ÉTAT",
        help="Seulement cet état, en code ou en libellé (uncaptured, « Non capturé »…) ; répétable.",
    ),
    since: Optional[str] = typer.Option(None, "--since", metavar="DATE", help="À partir de ce jour inclus (01/12/2026), heure de Paris."),
    until: Optional[str] = typer.Option(None, "--until", metavar="DATE", help="Jusqu'à ce jour inclus (31/12/2026), heure de Paris."),
    refresh: bool = typer.Option(False, "--refresh", help="Met d'abord à jour depuis Stripe les consultations non finales listées (ou celle nommée)."),
    limit: Optional[int] = typer.Option(
        None, "--limit", "-n", min=0, metavar="N",
        help=f"Au plus N consultations : à capturer d'abord (échéance la plus proche), puis aujourd'hui et les plus récentes (défaut : {HUMAN_LIMIT} à l'écran, toutes en --json/--csv/--nl ; 0 : toutes).",
    ),
    show_email: bool = typer.Option(False, "--show-email", help="Montre l'e-mail du patient en clair (masqué par défaut, absent des sorties machine)."),
    output: Output = Output.HUMAN,
) -> None:
    """Tableau des paiements (états, montants, frais, échéances) et totaux par état, ou une consultation en détail.

    À l'écran, ce qui demande une action vient d'abord : les empreintes à capturer (échéance la plus proche en
    tête), les paiements incomplets du jour, puis aujourd'hui et les jours passés (les plus récents d'abord),
    enfin les jours à venir. Les sorties --json, --csv, --nl et --excel restent dans l'ordre des dates, les
    plus récentes d'abord."""
    from sarapay.render import console
    from sarapay.errors import BadInput
    from sarapay.services import status as service
    from sarapay.services.context import Context

    if consultation is not None:
        if practitioner or state or since or until or limit is not None:
            raise BadInput("listing.detail_with_filters")
        with Context(live=global_options(ctx).live) as services:
            record = service.get_consultation(services, consultation)
            if refresh:
                record = service.refresh_one(services, record)
            timeline = service.history(services, record.id)
            in_doubt = service.moves_in_doubt(services, record.id)
        if output is Output.JSON:
            emit_document(service.detail_document(record, timeline, show_email=show_email))
        elif output.machine:
            emit_rows(output, [service.machine_row(record, show_email=show_email)], service.machine_fields(show_email))
        else:
            from sarapay.render.consultations import consultation_detail
            from sarapay.render.reconcile import move_in_doubt_text

            consultation_detail(record, timeline, show_email=show_email)
            for move in in_doubt:  # sent without an answer: say what to re-run (the same key moves money once)
                console.warn(move_in_doubt_text(record.id, move))
        return

    filters = service.parse_filters(practitioner=practitioner, states=state or (), since=since, until=until)
    with Context(live=global_options(ctx).live) as services:
        if refresh:
            report = service.refresh_listed(services, filters)
            for consultation_id, exc in report.failed:
                console.warn(i18n.t("listing.refresh_failed", consultation_id=consultation_id, reason=exc.message))
            if not output.machine:
                console.message(i18n.count("listing.refreshed", len(report.refreshed)))
        if output.machine:
            emit_rows(
                output,
                service.iter_machine_rows(services, filters, limit=limit or None, show_email=show_email),
                service.machine_fields(show_email),
            )
            return
        shown_limit = HUMAN_LIMIT if limit is None else (limit or None)
        from sarapay.render import stream

        # The first chunk decides: a page keeps the usual table; more rows (--limit 0) are streamed.
        records, rest = stream.split_first(service.iter_attention(services, filters, limit=shown_limit))
        if not records:
            console.message(i18n.t("listing.none_matching" if filters.any else "listing.none"))
            return
        for gone in service.disconnected_listed(services, filters, records, complete=rest is None):
            console.warn(i18n.t("practitioners.disconnected", **gone))
        totals = service.totals(services, filters)

        def notice(shown: int) -> str | None:
            return i18n.t("listing.limited", shown=shown, total=totals.count) if totals.count > shown else None

        if rest is not None:
            stream.status_stream(records, rest, totals, notice)
            return
    from sarapay.render.consultations import status_listing

    status_listing(records, totals, notice(len(records)))
