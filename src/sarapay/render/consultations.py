"""`sarapay status`: the payments table, the totals per state, one consultation in detail."""

from __future__ import annotations

from typing import Any, Iterable

from sarapay import i18n
from sarapay.render import cells, console


_MONEY_COLUMNS = ("view.col.max", "view.col.authorised", "view.col.captured", "view.col.refunded", "view.col.fee", "view.col.net")

# What matters most when the terminal is narrow: which payment, when, its state, the money, the deadline.
_STATUS_PRIORITY = [
    "view.col.consultation", "view.col.when", "view.col.state", "view.col.captured", "view.col.deadline", "view.col.rpps",
    "view.col.authorised", "view.col.net", "view.col.fee", "view.col.refunded", "view.col.max",
]


def _status_table(records: Iterable[dict[str, Any]]):
    from sarapay import statuses

    columns = ["view.col.consultation", "view.col.when", "view.col.rpps", "view.col.state", *_MONEY_COLUMNS, "view.col.deadline"]
    narrow = console.isatty(console.out().file) and console.out().width < 120
    rows = []
    for row in records:
        currency = row.get("currency") or "eur"
        deadline = row.get("capture_before") if row["state"] == statuses.UNCAPTURED else None
        rows.append([
            row["id"],
            cells.when(row["scheduled_at"]),
            row["rpps"],
            statuses.label(row["state"]),
            cells.amount(row.get("max_cents"), currency),
            cells.amount(row.get("authorised_cents"), currency),
            cells.amount(row.get("captured_cents"), currency),
            cells.amount(row.get("refunded_cents"), currency),
            cells.amount(row.get("fee_cents"), currency),
            cells.amount(row.get("net_cents"), currency),
            cells.deadline(deadline) if narrow else cells.when(deadline),
        ])
    table, hidden = cells.fitted(columns, rows, priority=_STATUS_PRIORITY, right=_MONEY_COLUMNS)
    return table, hidden, len(rows)


def status_table(records: Iterable[dict[str, Any]]) -> int:
    """The payments table (ledger rows), Paris time, the portal's labels; returns the number of rows.
    On a narrow terminal (80 columns) the less important columns give way rather than being cut."""
    table, hidden, count = _status_table(records)
    console.print_data(table)
    cells.say_hidden(hidden)
    return count


def _totals_table(totals: dict[str, Any], currency: str = "eur"):
    from sarapay import statuses

    sums = ("authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents")
    money_cols = ["view.col.authorised", "view.col.captured", "view.col.refunded", "view.col.fee", "view.col.net"]
    columns = ["view.col.state", "view.col.count", *money_cols]
    ordered = [code for code in statuses.CODES if code in totals["by_state"]]
    rows = [
        [statuses.label(code), str(totals["by_state"][code]["count"]), *(cells.amount(totals["by_state"][code][key], currency) for key in sums)]
        for code in ordered
    ]
    footer = [i18n.t("view.total"), str(totals["count"]), *(cells.amount(totals[key], currency) for key in sums)]
    priority = ["view.col.state", "view.col.count", "view.col.captured", "view.col.net", "view.col.authorised", "view.col.fee",
                "view.col.refunded"]
    return cells.fitted(
        columns, rows, priority=priority, right=("view.col.count", *money_cols), title=i18n.t("view.totals_title"), footer=footer,
    )


def totals_table(totals: dict[str, Any], currency: str = "eur") -> None:
    """Counts and sums per state (Ledger.totals), then the overall line."""
    table, hidden = _totals_table(totals, currency)
    console.print_data(table)
    cells.say_hidden(hidden, "view.hidden_totals")


def status_listing(records: Iterable[dict[str, Any]], totals: dict[str, Any], notice: str | None = None) -> int:
    """`sarapay status`: the payments table, the totals per state and the notice (« 50 consultations affichées
    sur 65 »). On a terminal they are one text, paged together, the notice first: what the pager shows is
    complete, nothing is left for after it quits. Piped, the tables go to stdout and the words to stderr."""
    table, hidden, count = _status_table(records)
    totals_view, hidden_totals = _totals_table(totals)
    if not console.isatty(console.out().file):
        console.print_data(table)
        cells.say_hidden(hidden)
        console.print_data(totals_view)
        cells.say_hidden(hidden_totals, "view.hidden_totals")
        if notice:
            console.message(notice)
        return count
    from rich.console import Group
    from rich.text import Text

    parts: list[Any] = []
    if notice:
        parts += [Text(notice, style="bold"), Text("")]
    parts.append(table)
    if hidden:
        parts.append(Text(i18n.t("view.hidden_columns", columns=", ".join(hidden)), style="dim"))
    parts += [Text(""), totals_view]
    if hidden_totals:
        parts.append(Text(i18n.t("view.hidden_totals", columns=", ".join(hidden_totals)), style="dim"))
    console.print_data(Group(*parts))
    return count


_DETAIL_FIELDS = (
    "id", "rpps", "account_id", "scheduled_at", "state", "paid_online", "max_cents", "authorised_cents", "captured_cents",
    "refunded_cents", "fee_cents", "net_cents", "capture_before", "link_expires_at", "patient_ref", "patient_email",
    "checkout_session_id", "payment_intent_id", "charge_id", "created_at", "updated_at", "stripe_synced_at",
)


def consultation_detail(record: dict[str, Any], history: Iterable[dict[str, Any]], *, show_email: bool = False) -> None:
    """One consultation, every field (email masked unless asked), then its timeline."""
    from rich.table import Table

    from sarapay import ids, statuses

    currency = record.get("currency") or "eur"
    fields = Table(show_header=False, box=None, pad_edge=False)
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column(no_wrap=True)
    none = i18n.t("view.none")
    for key in _DETAIL_FIELDS:
        value = record.get(key)
        if key.endswith("_cents"):
            text = cells.amount(value, currency)
        elif key in ("scheduled_at", "created_at", "updated_at", "stripe_synced_at", "capture_before", "link_expires_at"):
            text = cells.when(value)
        elif key == "state":
            text = statuses.label(value)
        elif key == "paid_online":
            text = i18n.t("view.yes" if value else "view.no")
        elif key == "patient_email":
            text = (value if show_email else ids.mask_email(value)) or none
        else:
            text = value if value not in (None, "") else none
        fields.add_row(i18n.t(f"view.field.{key}"), str(text))
    console.print_data(fields)
    timeline = cells.new_table("view.col.when", "view.col.state", "view.col.note", title=i18n.t("view.history_title"))
    for line in history:
        timeline.add_row(cells.when(line["at"]), statuses.label(line["state"]) if line.get("state") else "", line.get("note") or "")
    console.print_data(timeline)
