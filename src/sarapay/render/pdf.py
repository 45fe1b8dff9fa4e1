"""The monthly statement as a PDF file a practitioner hands to their accountant (`statement --pdf FILE`).

Rendered with fpdf2 (pure Python; imported here only, so no other command pays for it at start-up), on A4
with the PDF core font Helvetica: no font file to ship, and its Windows-1252 encoding holds French text,
`€`, `«»` and the no-break space French amounts use. A character outside it (a name in another script) is
written without its accent, or as `?`, rather than failing the statement.

What it shows: the practitioner (name, RPPS), the Stripe account, the month and its Paris-time bounds;
consultations captured, refunds, disputes, other Stripe transactions, each with Stripe's gross, fee and
net; the payouts that arrived; the totals; the date of generation on every page. Nothing about patients:
consultations appear by their id only.
"""

from __future__ import annotations

import os
import tempfile
import unicodedata
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sarapay import i18n, money, timefmt
from sarapay.errors import BadInput

if TYPE_CHECKING:
    from fpdf import FPDF

i18n.register(
    {
        "pdf.title": {"fr": "Relevé mensuel — {month}", "en": "Monthly statement — {month}"},
        "pdf.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "pdf.account": {"fr": "Compte Stripe", "en": "Stripe account"},
        "pdf.period": {"fr": "Période", "en": "Period"},
        "pdf.currency": {"fr": "Devise", "en": "Currency"},
        "pdf.note": {
            "fr": "Montants tels que Stripe les a comptés (transactions de solde) : montant brut, frais Stripe "
            "(frais de litige compris), net pour le praticien. Une transaction appartient au mois de sa date en "
            "heure de Paris ; les versements sont ceux arrivés sur le compte bancaire dans le mois.",
            "en": "Amounts as Stripe booked them (balance transactions): gross amount, Stripe fees (dispute fees "
            "included), net to the practitioner. A transaction belongs to the month of its Paris-time date; the "
            "payouts are those that arrived in the bank account during the month.",
        },
        "pdf.footer": {
            "fr": "Généré le {when} (heure de Paris) par sarapay",
            "en": "Generated on {when} (Paris time) by sarapay",
        },
        "pdf.page": {"fr": "Page {page} sur {{nb}}", "en": "Page {page} of {{nb}}"},
        "pdf.col.date": {"fr": "Date", "en": "Date"},
        "pdf.col.consultation": {"fr": "Consultation", "en": "Consultation ID"},
        "pdf.col.captured": {"fr": "Montant encaissé", "en": "Amount captured"},
        "pdf.col.amount": {"fr": "Montant", "en": "Amount"},
        "pdf.col.fee": {"fr": "Frais Stripe", "en": "Stripe fee"},
        "pdf.col.net": {"fr": "Net", "en": "Net amount"},
        "pdf.col.kind": {"fr": "Opération", "en": "Transaction"},
        "pdf.col.arrival": {"fr": "Arrivée", "en": "Arrival"},
        "pdf.col.payout": {"fr": "Versement", "en": "Payout"},
        "pdf.col.status": {"fr": "État", "en": "Status"},
        "pdf.col.section": {"fr": "Rubrique", "en": "Section"},
        "pdf.col.count": {"fr": "Nombre", "en": "Count"},
        "pdf.subtotal": {"fr": "Sous-total", "en": "Subtotal"},
        "pdf.empty.charges": {"fr": "Aucune consultation encaissée ce mois-ci.", "en": "No consultation captured this month."},
        "pdf.empty.refunds": {"fr": "Aucun remboursement ce mois-ci.", "en": "No refund this month."},
        "pdf.empty.disputes": {"fr": "Aucun litige ce mois-ci.", "en": "No dispute this month."},
        "pdf.empty.payouts": {"fr": "Aucun versement arrivé ce mois-ci.", "en": "No payout arrived this month."},
        "pdf.net_total": {"fr": "Total du mois", "en": "Total of the month"},
        "pdf.payouts_line": {
            "fr": "Versements arrivés sur le compte bancaire dans le mois : {count}, pour {amount}.",
            "en": "Payouts that arrived in the bank account during the month: {count}, for {amount}.",
        },
        "statement.pdf_unwritable": {
            "fr": "Impossible d'écrire le PDF dans {path} : {reason}. Vérifiez que le dossier existe et qu'il est accessible en écriture.",
            "en": "Cannot write the PDF to {path}: {reason}. Check that the folder exists and is writable.",
        },
    }
)

_ENCODING = "windows-1252"
_INK = (33, 37, 41)
_MUTED = (108, 117, 125)
_HEAD_FILL = (226, 232, 240)
_TOTAL_FILL = (241, 245, 249)
_WIDTH = 180  # mm of text on A4 with 15 mm margins


def _text(value: Any) -> str:
    """Text the core font can write: French amounts' narrow no-break space becomes a no-break space, a letter
    outside Windows-1252 loses its accent (or becomes `?`)."""
    text = str(value).replace("\u202f", "\u00a0")
    try:
        text.encode(_ENCODING)
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode(_ENCODING)
            out.append(char)
        except UnicodeEncodeError:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append(base if base and all(_encodable(c) for c in base) else "?")
    return "".join(out)


def _encodable(char: str) -> bool:
    try:
        char.encode(_ENCODING)
        return True
    except UnicodeEncodeError:
        return False


def _money(cents: int | None, currency: str) -> str:
    return "" if cents is None else money.format_amount(cents, currency=currency)


def _day(iso: str | None) -> str:
    if not iso:
        return ""
    return timefmt.format_day(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def _document(statement: dict[str, Any]) -> FPDF:
    from fpdf import FPDF

    footer = i18n.t("pdf.footer", when=timefmt.format_when(datetime.fromisoformat(statement["generated_at"].replace("Z", "+00:00"))))

    class StatementPDF(FPDF):
        def footer(self) -> None:
            self.set_y(-12)
            self.set_font("Helvetica", size=7.5)
            self.set_text_color(*_MUTED)
            self.cell(_WIDTH / 2, 5, _text(footer), align="L")
            self.cell(_WIDTH / 2, 5, _text(i18n.t("pdf.page", page=self.page_no())), align="R")

    pdf = StatementPDF(orientation="portrait", unit="mm", format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_margins(15, 15, 15)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_lang("fr" if i18n.get_lang() == "fr" else "en")
    return pdf


def _heading(pdf: FPDF, text: str, keep: float = 22) -> None:
    """A section title, on a new page unless `keep` mm (its first rows) fit under it: never alone at a page's foot."""
    if pdf.will_page_break(keep):
        pdf.add_page()
    pdf.ln(4)
    pdf.set_font("Helvetica", style="B", size=11)
    pdf.set_text_color(*_INK)
    pdf.cell(_WIDTH, 7, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=9)


def _muted(pdf: FPDF, text: str) -> None:
    pdf.set_font("Helvetica", style="I", size=9)
    pdf.set_text_color(*_MUTED)
    pdf.cell(_WIDTH, 6, _text(text), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", size=9)


def _table(pdf: FPDF, headings: list[str], rows: list[list[str]], widths: tuple[float, ...], right_from: int,
           total: list[str] | None = None) -> None:
    """A table whose columns from `right_from` on (the amounts) are right-aligned; an optional bold total."""
    from fpdf.fonts import FontFace

    align = tuple("LEFT" if i < right_from else "RIGHT" for i in range(len(headings)))
    head_style = FontFace(emphasis="BOLD", fill_color=_HEAD_FILL, color=_INK)
    total_style = FontFace(emphasis="BOLD", fill_color=_TOTAL_FILL, color=_INK)
    pdf.set_font("Helvetica", size=9)
    pdf.set_text_color(*_INK)
    pdf.set_draw_color(203, 213, 225)
    with pdf.table(width=_WIDTH, col_widths=widths, text_align=align, headings_style=head_style, line_height=5.5,
                   borders_layout="HORIZONTAL_LINES", padding=(0.8, 1.5), align="LEFT") as table:
        table.row([_text(h) for h in headings])
        for cells in rows:
            table.row([_text(c) for c in cells])
        if total is not None:
            row = table.row()
            for cell in total:
                row.cell(_text(cell), style=total_style)


def _lines_section(pdf: FPDF, lines: list[dict[str, Any]], sums: dict[str, Any], currency: str, *, title: str,
                   empty: str | None, with_kind: bool = False, kind_as_type: bool = False, captured: bool = False) -> None:
    from sarapay.render.payouts import kind_label

    if not lines and empty is None:
        return
    _heading(pdf, title)
    if not lines:
        _muted(pdf, i18n.t(empty or ""))
        return
    amount_head = i18n.t("pdf.col.captured" if captured else "pdf.col.amount")
    money_heads = [amount_head, i18n.t("pdf.col.fee"), i18n.t("pdf.col.net")]
    if with_kind or kind_as_type:
        headings = [i18n.t("pdf.col.date"), i18n.t("pdf.col.consultation"), i18n.t("pdf.col.kind"), *money_heads]
        widths: tuple[float, ...] = (24, 32, 46, 28, 25, 25)
    else:
        headings = [i18n.t("pdf.col.date"), i18n.t("pdf.col.consultation"), *money_heads]
        widths = (30, 48, 36, 33, 33)
    rows = []
    for row in lines:
        cells = [_day(row["created"]), row.get("consultation_id") or "—"]
        if with_kind or kind_as_type:
            cells.append(kind_label(row["kind"], row.get("type")))
        cells += [_money(row["amount_cents"], currency), _money(row["fee_cents"], currency), _money(row["net_cents"], currency)]
        rows.append(cells)
    blanks = [""] * (len(headings) - 4)
    total = [i18n.t("pdf.subtotal"), *blanks, _money(sums["amount_cents"], currency), _money(sums["fee_cents"], currency),
             _money(sums["net_cents"], currency)]
    _table(pdf, headings, rows, widths, len(headings) - 3, total)


def _render(statement: dict[str, Any]) -> FPDF:
    from sarapay.render.payouts import payout_status_label
    from sarapay.render.statement import statement_bounds, statement_month
    from sarapay.services.statements import section_of

    pdf = _document(statement)
    title = i18n.t("pdf.title", month=statement_month(statement))
    pdf.set_title(_text(title))
    pdf.set_author("sarapay")
    pdf.set_creator("sarapay")
    pdf.add_page()
    pdf.set_text_color(*_INK)
    pdf.set_font("Helvetica", style="B", size=16)
    pdf.cell(_WIDTH, 10, _text(title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)
    who = f"{statement['name']} — RPPS {statement['rpps']}" if statement.get("name") else f"RPPS {statement['rpps']}"
    currencies = list(statement["totals"]) or ["eur"]
    facts = [
        (i18n.t("pdf.practitioner"), who),
        (i18n.t("pdf.account"), statement["account_id"]),
        (i18n.t("pdf.period"), statement_bounds(statement)),
    ]
    if len(currencies) > 1:
        facts.append((i18n.t("pdf.currency"), ", ".join(c.upper() for c in currencies)))
    for label, value in facts:
        pdf.set_font("Helvetica", style="B", size=10)
        pdf.cell(32, 6, _text(label))
        pdf.set_font("Helvetica", size=10)
        pdf.cell(_WIDTH - 32, 6, _text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", size=8)
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(_WIDTH, 4, _text(i18n.t("pdf.note")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(*_INK)

    for currency in currencies:
        totals = statement["totals"][currency]
        suffix = f" ({currency.upper()})" if len(currencies) > 1 else ""
        _heading(pdf, i18n.t("view.statement.totals_title") + suffix, keep=60)
        rows = []
        for name in ("charges", "refunds", "disputes", "other"):
            sums = totals[name]
            if sums["count"] or name != "other":
                rows.append([i18n.t(f"view.statement.section.{name}"), str(sums["count"]), _money(sums["amount_cents"], currency),
                             _money(sums["fee_cents"], currency), _money(sums["net_cents"], currency)])
        sums = totals["transactions"]
        total = [i18n.t("pdf.net_total"), str(sums["count"]), _money(sums["amount_cents"], currency),
                 _money(sums["fee_cents"], currency), _money(sums["net_cents"], currency)]
        _table(pdf, [i18n.t("pdf.col.section"), i18n.t("pdf.col.count"), i18n.t("pdf.col.amount"), i18n.t("pdf.col.fee"),
                     i18n.t("pdf.col.net")], rows, (62, 20, 33, 32, 33), 1, total)
        pdf.ln(2)
        pdf.set_font("Helvetica", style="B", size=9.5)
        pdf.multi_cell(_WIDTH, 5, _text(i18n.t("pdf.payouts_line", count=totals["payouts"]["count"],
                                               amount=_money(totals["payouts"]["amount_cents"], currency))),
                       new_x="LMARGIN", new_y="NEXT")
    for currency in currencies:
        totals = statement["totals"][currency]
        mine = [row for row in statement["transactions"] if row["currency"] == currency]
        suffix = f" ({currency.upper()})" if len(currencies) > 1 else ""

        def section(name: str) -> list[dict[str, Any]]:
            return [row for row in mine if section_of(row) == name]

        _lines_section(pdf, section("charges"), totals["charges"], currency, captured=True,
                       title=i18n.t("view.statement.section.charges") + suffix, empty="pdf.empty.charges")
        _lines_section(pdf, section("refunds"), totals["refunds"], currency,
                       title=i18n.t("view.statement.section.refunds") + suffix, empty="pdf.empty.refunds")
        _lines_section(pdf, section("disputes"), totals["disputes"], currency, with_kind=True,
                       title=i18n.t("view.statement.section.disputes") + suffix, empty="pdf.empty.disputes")
        _lines_section(pdf, section("other"), totals["other"], currency, kind_as_type=True,
                       title=i18n.t("view.statement.section.other") + suffix, empty=None)

        payouts = [p for p in statement["payouts"] if p["currency"] == currency]
        _heading(pdf, i18n.t("view.statement.payouts_title") + suffix)
        if payouts:
            rows = [[_day(p["arrival_date"]), p["id"], payout_status_label(p["status"]), _money(p["amount_cents"], currency)]
                    for p in payouts]
            total = [i18n.t("pdf.subtotal"), "", "", _money(totals["payouts"]["amount_cents"], currency)]
            _table(pdf, [i18n.t("pdf.col.arrival"), i18n.t("pdf.col.payout"), i18n.t("pdf.col.status"), i18n.t("pdf.col.amount")],
                   rows, (30, 80, 35, 35), 3, total)
            if any(p["status"] in ("failed", "canceled") for p in payouts):
                _muted(pdf, i18n.t("view.statement.not_counted"))
        else:
            _muted(pdf, i18n.t("pdf.empty.payouts"))

    return pdf


def write_statement(statement: dict[str, Any], path: Path | str) -> int:
    """Writes the statement (services.statements.monthly_statement) as a PDF at `path`, whole or not at all
    (a temporary file in the same folder, then renamed). Returns the number of pages. BadInput (exit 2) when
    the file cannot be written."""
    target = Path(path).expanduser()
    pdf = _render(statement)
    data = bytes(pdf.output())
    folder = target.parent if str(target.parent) else Path(".")
    try:
        fd, temporary = tempfile.mkstemp(prefix=".sarapay-", suffix=".pdf", dir=folder)
    except OSError as exc:
        raise BadInput("statement.pdf_unwritable", path=str(target), reason=exc.strerror or type(exc).__name__) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise BadInput("statement.pdf_unwritable", path=str(target), reason=exc.strerror or type(exc).__name__) from None
    return len(pdf.pages)
