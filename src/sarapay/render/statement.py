"""`sarapay statement`: the monthly statement on a terminal, and its --excel labels."""

from __future__ import annotations

from typing import Any, Callable

from sarapay import i18n
from sarapay.render import cells, console, payouts


i18n.register(
    {
        "view.statement.title": {"fr": "Relevé mensuel", "en": "Monthly statement"},
        "view.statement.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "view.statement.month": {"fr": "Mois", "en": "Month"},
        "view.statement.bounds": {"fr": "Période", "en": "Period"},
        "view.statement.period": {
            "fr": "du {start} au {end} inclus (heure de Paris)",
            "en": "from {start} to {end} inclusive (Paris time)",
        },
        "view.statement.transactions_title": {"fr": "Transactions Stripe du mois", "en": "Stripe transactions of the month"},
        "view.statement.payouts_title": {"fr": "Versements arrivés dans le mois", "en": "Payouts that arrived in the month"},
        "view.statement.totals_title": {"fr": "Totaux du mois", "en": "Totals of the month"},
        "view.statement.none": {"fr": "Aucune transaction Stripe ce mois-ci.", "en": "No Stripe transaction this month."},
        "view.statement.no_payouts": {"fr": "Aucun versement arrivé ce mois-ci.", "en": "No payout arrived this month."},
        "view.statement.section.charges": {"fr": "Consultations encaissées", "en": "Consultations captured"},
        "view.statement.section.refunds": {"fr": "Remboursements", "en": "Refunds"},
        "view.statement.section.disputes": {"fr": "Litiges", "en": "Disputes"},
        "view.statement.section.other": {"fr": "Autres opérations Stripe", "en": "Other Stripe transactions"},
        "view.statement.section.transactions": {"fr": "Total des transactions", "en": "All transactions"},
        "view.statement.section.payouts": {"fr": "Versements arrivés", "en": "Payouts arrived"},
        "view.statement.not_counted": {
            "fr": "Les versements en échec ou annulés sont listés sans être comptés.",
            "en": "Failed or canceled payouts are listed, not counted.",
        },
        "view.col.section": {"fr": "Rubrique", "en": "Section"},
        "view.txn.available": {"fr": "Disponible", "en": "Available"},
        "view.txn.pending": {"fr": "En attente", "en": "Pending"},
        "view.field.date": {"fr": "Date (Paris)", "en": "Date (Paris)"},
        "view.field.kind": {"fr": "Opération", "en": "Transaction"},
        "view.field.consultation_id": {"fr": "Consultation", "en": "Consultation ID"},
        "view.field.amount_cents": {"fr": "Montant", "en": "Amount"},
        "view.field.stripe_id": {"fr": "Identifiant Stripe", "en": "Stripe ID"},
        "view.field.type": {"fr": "Type Stripe", "en": "Stripe type"},
        "view.field.source_id": {"fr": "Objet Stripe lié", "en": "Related Stripe object"},
        "view.field.status": {"fr": "Statut", "en": "Status"},
    }
)


def statement_status_label(value: Any, row: dict[str, Any]) -> str:
    """A payout's status (Payé, En transit…) or a balance transaction's (Disponible, En attente)."""
    if row.get("kind") == "payout":
        return payouts.payout_status_label(value)
    key = f"view.txn.{value}"
    return i18n.t(key) if key in i18n.catalog() else str(value)


# --excel of a statement: codes as words.
STATEMENT_EXCEL_LABELS: dict[str, Callable[[Any, dict[str, Any]], str]] = {
    "kind": lambda value, row: payouts.kind_label(value, row.get("type")),
    "status": statement_status_label,
}


def statement_bounds(statement: dict[str, Any]) -> str:
    """`du 01/11/2026 au 30/11/2026 inclus (heure de Paris)`: the statement's first and last day."""
    from datetime import datetime, timedelta

    from sarapay import timefmt

    start = datetime.fromisoformat(statement["period"]["start"].replace("Z", "+00:00"))
    last = datetime.fromisoformat(statement["period"]["end"].replace("Z", "+00:00")) - timedelta(seconds=1)
    return i18n.t("view.statement.period", start=timefmt.format_day(start), end=timefmt.format_day(last))


def statement_month(statement: dict[str, Any]) -> str:
    """`novembre 2026`."""
    from sarapay import timefmt

    year, month = (int(part) for part in statement["month"].split("-"))
    return timefmt.format_month(year, month)


def statement_view(statement: dict[str, Any]) -> None:
    """The monthly statement on a terminal: who and which month, the month's transactions, the payouts that
    arrived, the totals per section (services.statements.monthly_statement)."""
    from rich.table import Table

    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    who = f"{statement['name']} (RPPS {statement['rpps']})" if statement.get("name") else f"RPPS {statement['rpps']}"
    head.add_row(i18n.t("view.statement.practitioner"), who)
    head.add_row(i18n.t("view.balance.account"), statement["account_id"])
    head.add_row(i18n.t("view.statement.month"), statement_month(statement))
    head.add_row(i18n.t("view.statement.bounds"), statement_bounds(statement))
    console.print_data(head)
    currencies = list(statement["totals"]) or ["eur"]
    if statement["transactions"]:
        for currency in currencies:
            mine = [row for row in statement["transactions"] if row["currency"] == currency]
            if mine:
                table, hidden = payouts.lines_table(mine, statement["totals"][currency]["transactions"], currency,
                                             title=i18n.t("view.statement.transactions_title"))
                console.print_data(table)
                cells.say_hidden(hidden)
    else:
        console.message(i18n.t("view.statement.none"))
    if statement["payouts"]:
        table = cells.new_table("view.col.payout_id", "view.col.arrival", "view.col.payout_status", "view.col.amount",
                       title=i18n.t("view.statement.payouts_title"), right=("view.col.amount",))
        for payout in statement["payouts"]:
            table.add_row(payout["id"], cells.day(payout.get("arrival_date")), payouts.payout_status_label(payout.get("status")),
                          cells.amount(payout["amount_cents"], payout["currency"]))
        console.print_data(table)
        if any(p["status"] in ("failed", "canceled") for p in statement["payouts"]):
            console.message(i18n.t("view.statement.not_counted"))
    else:
        console.message(i18n.t("view.statement.no_payouts"))
    for currency in currencies:
        totals = statement["totals"][currency]
        money_cols = ("view.col.amount", "view.col.fee", "view.col.net")
        table = cells.new_table("view.col.section", "view.col.count", *money_cols, title=i18n.t("view.statement.totals_title"),
                       right=("view.col.count", *money_cols))
        for section in ("charges", "refunds", "disputes", "other"):
            sums = totals[section]
            if sums["count"] or section in ("charges", "refunds"):
                table.add_row(i18n.t(f"view.statement.section.{section}"), str(sums["count"]),
                              *(cells.amount(sums[key], currency) for key in ("amount_cents", "fee_cents", "net_cents")))
        table.add_section()
        sums = totals["transactions"]
        table.add_row(i18n.t("view.statement.section.transactions"), str(sums["count"]),
                      *(cells.amount(sums[key], currency) for key in ("amount_cents", "fee_cents", "net_cents")), style="bold")
        table.add_row(i18n.t("view.statement.section.payouts"), str(totals["payouts"]["count"]),
                      cells.amount(totals["payouts"]["amount_cents"], currency), "", "")
        console.print_data(table)
