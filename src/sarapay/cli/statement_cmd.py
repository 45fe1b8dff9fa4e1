"""`sarapay statement RPPS --month YYYY-MM`: a practitioner's monthly statement, on the terminal, as
--json / --csv / --excel, or as a PDF file for their accountant (--pdf FILE)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_PAYOUTS, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_document, emit_rows, output_flags

i18n.register(
    {
        "statement.pdf_with_format": {
            "fr": "--pdf écrit un fichier : ne le combinez pas avec --json, --csv ou --excel.",
            "en": "--pdf writes a file: do not combine it with --json, --csv or --excel.",
        },
        "statement.pdf_written": {
            "fr": "Relevé de {month} écrit dans {path} ({pages}).",
            "en": "Statement of {month} written to {path} ({pages}).",
        },
        "statement.n_pages": {"fr": "{n} page|{n} pages", "en": "{n} page|{n} pages"},
    }
)


@app.command(
    "statement",
    rich_help_panel=PANEL_PAYOUTS,
    epilog="Exemples : [bold]sarapay statement 10000012343 --month 2026-11[/] · "
    "[bold]sarapay statement 10000012343 --month 2026-11 --pdf releve-2026-11.pdf[/] · "
    "[bold]sarapay statement 10000012343 --month 11/2026 --excel > releve.csv[/]",
)
@output_flags("json", "csv", "excel")
def statement(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Le praticien (RPPS, 11 chiffres, ou IDNPS de la carte CPS).", autocompletion=rpps_numbers),
    month: str = typer.Option(
        ..., "--month", "-m", metavar="AAAA-MM",
        help="Le mois, en heure de Paris : 2026-11 (ou 11/2026), du 1er à 00:00 au dernier jour à 24:00.",
    ),
    pdf: Optional[Path] = typer.Option(
        None, "--pdf", metavar="FICHIER", dir_okay=False,
        help="Écrit le relevé en PDF dans FICHIER (à remettre au comptable) : consultations, remboursements, litiges, "
        "versements, totaux. Aucune donnée patient, seulement les identifiants de consultation.",
    ),
    output: Output = Output.HUMAN,
) -> None:
    """Relevé mensuel d'un praticien : les transactions Stripe du mois (consultations encaissées, remboursements,
    litiges) avec les frais Stripe et le net, les versements arrivés dans le mois, les totaux. Montants tels que
    Stripe les a comptés, jamais recalculés."""
    from sarapay.render import console
    from sarapay.render.statement import STATEMENT_EXCEL_LABELS, statement_view
    from sarapay.errors import BadInput
    from sarapay.services import statements as service
    from sarapay.services.context import Context

    if pdf is not None and output.machine:
        raise BadInput("statement.pdf_with_format")
    with Context(live=global_options(ctx).live) as services:
        document = service.monthly_statement(services, rpps, month)
    if pdf is not None:
        from sarapay.render import pdf as statement_pdf

        pages = statement_pdf.write_statement(document, pdf)
        console.message(i18n.t("statement.pdf_written", month=document["month"], path=str(pdf), pages=i18n.count("statement.n_pages", pages)))
    elif output is Output.JSON:
        emit_document(document)
    elif output.machine:
        emit_rows(output, service.rows(document), service.ROW_FIELDS, labels=STATEMENT_EXCEL_LABELS)
    else:
        statement_view(document)
