"""`sarapay disputes`: disputed payments."""

from __future__ import annotations

from typing import Any, Iterable

from sarapay import i18n
from sarapay.render import cells, console


# --- disputes ---------------------------------------------------------------------------------------------

i18n.register(
    {
        "view.col.reason": {"fr": "Motif", "en": "Reason"},
        "view.col.dispute_status": {"fr": "Contestation", "en": "Dispute"},
        "view.col.answer_by": {"fr": "Échéance", "en": "Answer by"},  # short: the table fits 80 columns
    }
)

_DISPUTE_PRIORITY = [
    "view.col.consultation", "view.col.dispute_status", "view.col.amount", "view.col.answer_by", "view.col.reason",
    "view.col.fee", "view.col.rpps",
]


def disputes_table(rows: Iterable[dict[str, Any]]) -> int:
    """Disputed payments (machine rows of services.disputes): amount taken back, dispute fee, reason and
    status in words, the answer deadline in Paris time; fits 80 columns like the payments table."""
    from sarapay import disputes

    columns = ["view.col.consultation", "view.col.rpps", "view.col.amount", "view.col.fee", "view.col.reason",
               "view.col.dispute_status", "view.col.answer_by"]
    narrow = cells.narrow()
    lines = []
    for row in rows:
        due = row["due_by"] if row["needs_response"] else None
        lines.append([
            row["consultation_id"],
            row["rpps"],
            cells.amount(row["amount_cents"], row["currency"]),
            cells.amount(row["fee_cents"], row["currency"]),
            disputes.reason_label(row["reason"], short=True),
            disputes.status_label(row["status"]),
            cells.deadline(due) if narrow else cells.when(due),
        ])
    table, hidden = cells.fitted(columns, lines, priority=_DISPUTE_PRIORITY, right=("view.col.amount", "view.col.fee"))
    console.print_data(table)
    cells.say_hidden(hidden)
    return len(lines)
