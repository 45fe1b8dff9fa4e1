"""`statement`: a practitioner's monthly statement (relevé mensuel), for their accountant.

The month is taken in Paris time, half-open (00:00 Paris on the 1st to 00:00 Paris on the next 1st, DST
included). What it holds, all from Stripe (docs/architecture.md, "Rules every change keeps"):
- the balance transactions created in the month: consultations captured, refunds, dispute withdrawals and
  reinstatements, anything else Stripe booked (by its `type`), each with Stripe's gross, fee (dispute
  fees included) and net, never recomputed. The payout-side transactions (`payout`, `payout_failure`,
  `payout_cancel`...) are left to the payouts section: they move money to the bank, they earn nothing;
- the payouts that arrived in the month (`arrival_date`), whatever month their transactions are from;
- totals: sums of those figures, per currency (a French account has one, EUR).

Requests: one list request per 100 balance transactions (`created[gte]`, `created[lt]`,
`expand[]=data.source`), one per 100 payouts (`arrival_date[gte]`, `arrival_date[lt]`); consultation ids
come from the sources or, in one query, from the ledger (services.balance_lines).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterator

from sarapay import timefmt

if TYPE_CHECKING:
    from sarapay.services.context import Context

SECTIONS = {"charge": "charges", "refund": "refunds", "dispute_withdrawal": "disputes",
            "dispute_reinstatement": "disputes"}  # anything else: "other"
TOTAL_SECTIONS = ("charges", "refunds", "disputes", "other", "transactions")
# Payouts that did not reach the bank are listed, not added up.
PAYOUT_NOT_ARRIVED = ("failed", "canceled")

# --csv / --excel: one row per transaction, then one per payout (keys fixed: a contract).
ROW_FIELDS = (
    "date", "kind", "consultation_id", "amount_cents", "fee_cents", "net_cents", "currency", "stripe_id", "type",
    "source_id", "status",
)


def _is_payout_side(txn: dict[str, Any]) -> bool:
    return (txn.get("type") or "").startswith("payout")


def monthly_statement(ctx: Context, rpps: str, month: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The statement of `month` (`2026-11` or `11/2026`) for a linked practitioner (machine view: cents,
    ISO 8601 UTC, stable keys). BadInput for a malformed month, before anything is sent."""
    from sarapay.services import balance_lines
    from sarapay.services.payouts import payout_row
    from sarapay.services.practitioners import require_linked

    year, number = timefmt.parse_month(month)
    practitioner = require_linked(ctx, rpps)
    account_id = practitioner.account_id
    assert account_id is not None  # require_linked refuses a practitioner without one
    start, end = timefmt.month_bounds(year, number)
    first, after = int(start.timestamp()), int(end.timestamp())
    gateway = ctx.gateway
    listed = gateway.list_balance_transactions(account_id, created_gte=first, created_lt=after, expand=["data.source"])
    lines = balance_lines.build_lines(ctx.ledger, (txn for txn in listed if not _is_payout_side(txn)))
    payouts = sorted(
        (payout_row(p) for p in gateway.list_payouts_arriving(account_id, arrival_gte=first, arrival_lt=after)),
        key=lambda p: (p["arrival_date"] or "", p["id"]),
    )
    return {
        "rpps": practitioner.rpps,
        "name": practitioner.name,
        "account_id": account_id,
        "month": f"{year:04d}-{number:02d}",
        "period": {"start": timefmt.iso_utc(start), "end": timefmt.iso_utc(end)},
        "generated_at": timefmt.iso_utc(now or datetime.now(timezone.utc)),
        "transactions": lines,
        "payouts": payouts,
        "totals": _totals(lines, payouts),
    }


def section_of(line: dict[str, Any]) -> str:
    return SECTIONS.get(line["kind"], "other")


def _totals(lines: list[dict[str, Any]], payouts: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`{"eur": {"charges": {count, amount_cents, fee_cents, net_cents}, "refunds": …, "disputes": …,
    "other": …, "transactions": (all of them), "payouts": {count, amount_cents}}}`."""
    from sarapay.services import balance_lines

    currencies = sorted({row["currency"] for row in lines} | {p["currency"] for p in payouts}) or ["eur"]
    result: dict[str, dict[str, Any]] = {}
    for currency in currencies:
        mine = [row for row in lines if row["currency"] == currency]
        sums = {section: balance_lines.totals(row for row in mine if section_of(row) == section)
                for section in TOTAL_SECTIONS[:-1]}
        sums["transactions"] = balance_lines.totals(mine)
        arrived = [p for p in payouts if p["currency"] == currency and p["status"] not in PAYOUT_NOT_ARRIVED]
        sums["payouts"] = {"count": len(arrived), "amount_cents": sum(p["amount_cents"] for p in arrived)}
        result[currency] = sums
    return result


def rows(statement: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The flat rows of --csv / --excel (ROW_FIELDS): each transaction (dated when Stripe booked it), then
    each payout (dated by its arrival; no fee nor net of its own)."""
    for line in statement["transactions"]:
        yield {
            "date": line["created"], "kind": line["kind"], "consultation_id": line["consultation_id"],
            "amount_cents": line["amount_cents"], "fee_cents": line["fee_cents"], "net_cents": line["net_cents"],
            "currency": line["currency"], "stripe_id": line["id"], "type": line["type"], "source_id": line["source_id"],
            "status": line["status"],
        }
    for payout in statement["payouts"]:
        yield {
            "date": payout["arrival_date"], "kind": "payout", "consultation_id": None,
            "amount_cents": payout["amount_cents"], "fee_cents": None, "net_cents": None, "currency": payout["currency"],
            "stripe_id": payout["id"], "type": "payout", "source_id": None, "status": payout["status"],
        }
