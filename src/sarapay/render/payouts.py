"""`sarapay payouts`: balance, schedule, recent payouts, and what one payout contains."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sarapay import i18n
from sarapay.render import cells, console

if TYPE_CHECKING:
    from rich.table import Table


i18n.register(
    {
        "view.col.payout_status": {"fr": "État", "en": "Status"},
        "view.col.arrival": {"fr": "Arrivée (Paris)", "en": "Arrival (Paris)"},
        "view.col.payout_id": {"fr": "Versement", "en": "Payout"},
        "view.payout.paid": {"fr": "Payé", "en": "Paid"},
        "view.payout.pending": {"fr": "En attente", "en": "Pending"},
        "view.payout.in_transit": {"fr": "En transit", "en": "In transit"},
        "view.payout.canceled": {"fr": "Annulé", "en": "Canceled"},
        "view.payout.failed": {"fr": "Échec", "en": "Failed"},
        "view.balance.available": {"fr": "Solde disponible", "en": "Available balance"},
        "view.balance.pending": {"fr": "Solde en attente", "en": "Pending balance"},
        "view.balance.account": {"fr": "Compte Stripe", "en": "Stripe account"},
        "view.balance.schedule": {"fr": "Calendrier des versements", "en": "Payout schedule"},
        "view.payouts_title": {"fr": "Versements récents", "en": "Recent payouts"},
        "view.schedule.daily": {"fr": "Quotidien", "en": "Daily"},
        "view.schedule.weekly": {"fr": "Hebdomadaire, le {day}", "en": "Weekly, on {day}"},
        "view.schedule.monthly": {"fr": "Mensuel, le {day} du mois", "en": "Monthly, on day {day}"},
        "view.schedule.manual": {"fr": "Manuel (à la demande)", "en": "Manual (on request)"},
        "view.schedule.delay": {"fr": "{text} ; fonds disponibles après {days} jours", "en": "{text}; funds available after {days} days"},
        "view.schedule.read_only": {
            "fr": "{text} (modifiable seulement par le praticien, dans son tableau de bord Stripe)",
            "en": "{text} (only the practitioner can change it, in their Stripe dashboard)",
        },
        "view.weekday.monday": {"fr": "lundi", "en": "Monday"},
        "view.weekday.tuesday": {"fr": "mardi", "en": "Tuesday"},
        "view.weekday.wednesday": {"fr": "mercredi", "en": "Wednesday"},
        "view.weekday.thursday": {"fr": "jeudi", "en": "Thursday"},
        "view.weekday.friday": {"fr": "vendredi", "en": "Friday"},
        "view.weekday.saturday": {"fr": "samedi", "en": "Saturday"},
        "view.weekday.sunday": {"fr": "dimanche", "en": "Sunday"},
    }
)


def schedule_text(schedule: dict[str, Any] | None, *, editable: bool = True) -> str:
    """`Hebdomadaire, le lundi ; fonds disponibles après 7 jours` from settings.payouts.schedule."""
    if not schedule:
        return i18n.t("view.none")
    interval = schedule.get("interval")
    if interval == "weekly":
        anchor = schedule.get("weekly_anchor") or "monday"
        text = i18n.t("view.schedule.weekly", day=i18n.t(f"view.weekday.{anchor}"))
    elif interval == "monthly":
        text = i18n.t("view.schedule.monthly", day=schedule.get("monthly_anchor") or 1)
    elif interval in ("daily", "manual"):
        text = i18n.t(f"view.schedule.{interval}")
    else:
        text = str(interval)
    if interval != "manual" and schedule.get("delay_days") is not None:
        text = i18n.t("view.schedule.delay", text=text, days=schedule["delay_days"])
    return text if editable else i18n.t("view.schedule.read_only", text=text)


def _balance_text(entries: list[dict[str, Any]]) -> str:
    if not entries:
        return cells.amount(0)
    return " + ".join(cells.amount(entry["amount_cents"], entry["currency"]) for entry in entries)


def payouts_view(overview: dict[str, Any]) -> None:
    """A practitioner's balance, payout schedule and recent payouts (services.payouts.overview)."""
    from rich.table import Table

    from sarapay import timefmt

    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    head.add_row(i18n.t("view.field.rpps"), overview["rpps"])
    head.add_row(i18n.t("view.balance.account"), overview["account_id"])
    head.add_row(i18n.t("view.balance.available"), _balance_text(overview["balance"]["available"]))
    head.add_row(i18n.t("view.balance.pending"), _balance_text(overview["balance"]["pending"]))
    head.add_row(i18n.t("view.balance.schedule"), schedule_text(overview["schedule"], editable=overview["schedule_editable"]))
    console.print_data(head)
    if not overview["payouts"]:
        console.message(i18n.t("view.no_payouts"))
        return
    table = cells.new_table(
        "view.col.payout_id", "view.col.amount", "view.col.payout_status", "view.col.arrival",
        title=i18n.t("view.payouts_title"), right=("view.col.amount",),
    )
    from datetime import datetime

    for payout in overview["payouts"]:
        arrival = payout.get("arrival_date")
        table.add_row(
            payout["id"],
            cells.amount(payout["amount_cents"], payout["currency"]),
            i18n.t(f"view.payout.{payout['status']}") if f"view.payout.{payout['status']}" in i18n.catalog() else payout["status"],
            timefmt.format_day(datetime.fromisoformat(arrival.replace("Z", "+00:00"))) if arrival else i18n.t("view.none"),
        )
    console.print_data(table)


# --- what a payout contains (payouts RPPS --payout po_…) and the monthly statement ---------------------------

i18n.register(
    {
        "view.kind.charge": {"fr": "Paiement", "en": "Payment"},
        "view.kind.refund": {"fr": "Remboursement", "en": "Refund"},
        "view.kind.dispute_withdrawal": {"fr": "Litige : retrait", "en": "Dispute: withdrawal"},
        "view.kind.dispute_reinstatement": {"fr": "Litige : restitué", "en": "Dispute: reinstated"},
        "view.kind.payout": {"fr": "Versement", "en": "Payout"},
        "view.kind.other": {"fr": "Autre ({type})", "en": "Other ({type})"},
        "view.col.kind": {"fr": "Opération", "en": "Transaction"},
        "view.col.day": {"fr": "Date", "en": "Day"},
        "view.payout.head.id": {"fr": "Versement", "en": "Payout"},
        "view.payout.head.amount": {"fr": "Montant du versement", "en": "Payout amount"},
        "view.payout.head.status": {"fr": "État", "en": "Status"},
        "view.payout.head.arrival": {"fr": "Arrivée sur le compte bancaire", "en": "Arrival in the bank account"},
        "view.payout.head.created": {"fr": "Créé le", "en": "Created"},
        "view.payout.head.automatic": {"fr": "Déclenchement", "en": "Triggered by"},
        "view.payout.automatic": {"fr": "automatique (calendrier des versements)", "en": "automatic (payout schedule)"},
        "view.payout.manual": {"fr": "manuel (à la demande)", "en": "manual (on request)"},
        "view.payout.contents_title": {"fr": "Contenu du versement", "en": "What the payout contains"},
        "view.payout.sum_of_nets": {"fr": "Somme des nets", "en": "Sum of the nets"},
        "view.payout.difference": {"fr": "Écart", "en": "Difference"},
        "view.payout.no_transactions": {
            "fr": "Stripe ne liste aucune transaction pour ce versement.",
            "en": "Stripe lists no transaction for this payout.",
        },
    }
)


def kind_label(kind: str, type_: str | None = None) -> str:
    """`Paiement`, `Remboursement`, `Litige : retrait`... for a line's kind (services.balance_lines.KINDS)."""
    key = f"view.kind.{kind}"
    if key not in i18n.catalog():
        key = "view.kind.other"
    return i18n.t(key, type=type_ or kind)


def payout_status_label(status: str | None) -> str:
    key = f"view.payout.{status}"
    return i18n.t(key) if status and key in i18n.catalog() else (status or i18n.t("view.none"))


def lines_table(
    lines: list[dict[str, Any]], totals: dict[str, Any] | None, currency: str, *, title: str | None = None
) -> tuple[Table, list[str]]:
    """Balance-transaction lines: what, which consultation, when, gross, fee, net (80 columns: the least
    needed columns give way, named on stderr)."""
    columns = ["view.col.kind", "view.col.consultation", "view.col.day", "view.col.amount", "view.col.fee", "view.col.net"]
    rows = [
        [
            kind_label(row["kind"], row.get("type")),
            row.get("consultation_id") or i18n.t("view.none"),
            cells.day(row.get("created")),
            cells.amount(row["amount_cents"], row["currency"]),
            cells.amount(row["fee_cents"], row["currency"]),
            cells.amount(row["net_cents"], row["currency"]),
        ]
        for row in lines
    ]
    footer = None
    if totals is not None:
        footer = [
            i18n.t("view.total"), "", "", cells.amount(totals["amount_cents"], currency), cells.amount(totals["fee_cents"], currency),
            cells.amount(totals["net_cents"], currency),
        ]
    priority = ["view.col.kind", "view.col.consultation", "view.col.net", "view.col.day", "view.col.amount", "view.col.fee"]
    money_cols = ("view.col.amount", "view.col.fee", "view.col.net")
    return cells.fitted(columns, rows, priority=priority, right=money_cols, title=title, footer=footer)


def payout_contents_view(view: dict[str, Any]) -> None:
    """One payout: its head, then (automatic payouts) one line per balance transaction, the totals and the
    check of the nets against the payout's amount (services.payouts.payout_contents)."""
    from rich.table import Table

    payout = view["payout"]
    currency = payout["currency"]
    head = Table(show_header=False, box=None, pad_edge=False)
    head.add_column(style="bold", no_wrap=True)
    head.add_column(no_wrap=True)
    head.add_row(i18n.t("view.field.rpps"), view["rpps"])
    head.add_row(i18n.t("view.balance.account"), view["account_id"])
    head.add_row(i18n.t("view.payout.head.id"), payout["id"])
    head.add_row(i18n.t("view.payout.head.amount"), cells.amount(payout["amount_cents"], currency))
    head.add_row(i18n.t("view.payout.head.status"), payout_status_label(payout.get("status")))
    head.add_row(i18n.t("view.payout.head.arrival"), cells.day(payout.get("arrival_date")))
    head.add_row(i18n.t("view.payout.head.created"), cells.when(payout.get("created")))
    head.add_row(i18n.t("view.payout.head.automatic"), i18n.t("view.payout.automatic" if payout["automatic"] else "view.payout.manual"))
    console.print_data(head)
    if view["transactions"] is None:
        return
    if not view["transactions"]:
        console.message(i18n.t("view.payout.no_transactions"))
    else:
        table, hidden = lines_table(view["transactions"], view["totals"], currency, title=i18n.t("view.payout.contents_title"))
        console.print_data(table)
        cells.say_hidden(hidden)
    check = Table(show_header=False, box=None, pad_edge=False)
    check.add_column(style="bold", no_wrap=True)
    check.add_column(justify="right", no_wrap=True)
    check.add_row(i18n.t("view.payout.sum_of_nets"), cells.amount(view["totals"]["net_cents"], currency))
    check.add_row(i18n.t("view.payout.head.amount"), cells.amount(payout["amount_cents"], currency))
    check.add_row(i18n.t("view.payout.difference"), cells.amount(view["difference_cents"], currency),
                  style=None if view["difference_cents"] == 0 else "bold red")
    console.print_data(check)
