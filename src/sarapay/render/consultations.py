"""`sarapay status`: the payments table, the totals per state, one consultation in detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

from sarapay import i18n
from sarapay.records import CONSULTATION_FIELDS, DETAIL_FIELDS, SUMMED_FIELDS, Consultation, Field, HistoryEntry, Totals
from sarapay.render import cells, console

if TYPE_CHECKING:
    from rich.table import Table

# The money columns of the payments table (records.CONSULTATION_FIELDS with a column label), in their order.
_MONEY_FIELDS = tuple(field for field in CONSULTATION_FIELDS if field.column_key is not None)
MONEY_COLUMNS = tuple(key for field in _MONEY_FIELDS if (key := field.column_key) is not None)

# What matters most when the terminal is narrow: which payment, when, its state, the money, the deadline.
_STATUS_PRIORITY = [
    "view.col.consultation", "view.col.when", "view.col.state", "view.col.captured", "view.col.deadline", "view.col.rpps",
    "view.col.authorised", "view.col.net", "view.col.fee", "view.col.refunded", "view.col.max",
]


STATUS_COLUMNS = ["view.col.consultation", "view.col.when", "view.col.rpps", "view.col.state", *MONEY_COLUMNS,
                  "view.col.deadline"]


def status_cells(row: Consultation, *, narrow: bool = False) -> list[str]:
    """One consultation as the cells of the payments table (STATUS_COLUMNS); render/stream.py uses it too."""
    from sarapay import statuses

    currency = row.currency or "eur"
    deadline = row.capture_before if row.state == statuses.UNCAPTURED else None
    return [
        row.id,
        cells.when(row.scheduled_at),
        row.rpps,
        statuses.label(row.state),
        *(cells.amount(row.value(field.name), currency) for field in _MONEY_FIELDS),
        cells.deadline(deadline) if narrow else cells.when(deadline),
    ]


def _status_table(records: Iterable[Consultation]) -> tuple[Table, list[str], int]:
    narrow = cells.narrow()
    rows = [status_cells(row, narrow=narrow) for row in records]
    table, hidden = cells.fitted(STATUS_COLUMNS, rows, priority=_STATUS_PRIORITY, right=MONEY_COLUMNS)
    return table, hidden, len(rows)


def _totals_line(label: str, totals: Totals, currency: str) -> list[str]:
    return [label, str(totals.count), *(cells.amount(totals.sum(field.name), currency) for field in SUMMED_FIELDS)]


def _totals_table(totals: Totals, currency: str = "eur") -> tuple[Table, list[str]]:
    from sarapay import statuses

    money_cols = [field.column_key for field in SUMMED_FIELDS if field.column_key is not None]
    columns = ["view.col.state", "view.col.count", *money_cols]
    ordered = [code for code in statuses.CODES if code in totals.by_state]
    rows = [_totals_line(statuses.label(code), totals.by_state[code], currency) for code in ordered]
    footer = _totals_line(i18n.t("view.total"), totals, currency)
    priority = ["view.col.state", "view.col.count", "view.col.captured", "view.col.net", "view.col.authorised", "view.col.fee",
                "view.col.refunded"]
    return cells.fitted(
        columns, rows, priority=priority, right=("view.col.count", *money_cols), title=i18n.t("view.totals_title"), footer=footer,
    )


def totals_table(totals: Totals, currency: str = "eur") -> None:
    """Counts and sums per state (Ledger.totals), then the overall line."""
    table, hidden = _totals_table(totals, currency)
    console.print_data(table)
    cells.say_hidden(hidden, "view.hidden_totals")


def status_listing(records: Iterable[Consultation], totals: Totals, notice: str | None = None) -> int:
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


def _detail_text(field: Field, value: Any, currency: str, *, show_email: bool) -> str:
    """A consultation's value in the detail view, by its field's kind (records.Field)."""
    from sarapay import ids, statuses

    none = i18n.t("view.none")
    if field.is_cents:
        return cells.amount(value, currency)
    if field.is_time:
        return cells.when(value)
    if field.kind == "state":
        return statuses.label(value)
    if field.kind == "bool":
        return i18n.t("view.yes" if value else "view.no")
    if field.kind == "email":
        return (value if show_email else ids.mask_email(value)) or none
    return str(value) if value not in (None, "") else none


def consultation_detail(record: Consultation, history: Iterable[HistoryEntry], *, show_email: bool = False) -> None:
    """One consultation, every field of records.DETAIL_FIELDS (email masked unless asked), then its timeline."""
    from rich.table import Table

    from sarapay import statuses

    currency = record.currency or "eur"
    fields = Table(show_header=False, box=None, pad_edge=False)
    fields.add_column(style="bold", no_wrap=True)
    fields.add_column(no_wrap=True)
    for field in DETAIL_FIELDS:
        text = _detail_text(field, record.value(field.name), currency, show_email=show_email)
        fields.add_row(i18n.t(field.label_key), text)
    console.print_data(fields)
    timeline = cells.new_table("view.col.when", "view.col.state", "view.col.note", title=i18n.t("view.history_title"))
    for line in history:
        timeline.add_row(cells.when(line.at), statuses.label(line.state) if line.state else "", line.note or "")
    console.print_data(timeline)
