"""Stripe's balance transactions as the lines of a payout or a monthly statement.

Each line says what the transaction is (a consultation's charge, a refund, a dispute's withdrawal or
reinstatement, a payout, anything else by Stripe's own `type`), which consultation it belongs to, and its
amounts exactly as Stripe states them: gross `amount`, `fee` (Stripe's, dispute fees included) and `net`.
Nothing is recomputed here; totals are sums of Stripe's figures.

The consultation comes from the transaction's `source`, expanded in the same list request
(`expand[]=data.source`, docs/stripe-behaviour.md): the charge's metadata when it carries the consultation id (the
sandbox copies the PaymentIntent's metadata onto the charge; Stripe's reference does not promise it);
otherwise (a refund, a dispute, a charge without it) the charge or PaymentIntent id the source names is
looked up in the ledger, in one query for all the lines. No request per transaction either way.
Disputes are recognised generically, by their source object (`dispute`, `dp_…`) or reporting category
(`dispute`, `dispute_reversal`), whatever the transaction's `type` (`adjustment` today).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Iterable

from sarapay import timefmt
from sarapay.stripe_gateway import METADATA_CONSULTATION

if TYPE_CHECKING:
    from sarapay.ledger import Ledger

KINDS = ("charge", "refund", "dispute_withdrawal", "dispute_reinstatement", "payout", "other")
LINE_FIELDS = (
    "id", "kind", "type", "reporting_category", "created", "consultation_id", "source_id",
    "amount_cents", "fee_cents", "net_cents", "currency", "status",
)
TOTAL_FIELDS = ("count", "amount_cents", "fee_cents", "net_cents")

# Source id prefixes, for a source Stripe did not expand (a plain id).
_PREFIX_KIND = (("dp_", "dispute"), ("du_", "dispute"), ("ch_", "charge"), ("py_", "charge"),
                ("re_", "refund"), ("pyr_", "refund"), ("po_", "payout"))
_DISPUTE_CATEGORIES = ("dispute", "dispute_reversal")


def _source_kind(source: object) -> str | None:
    if isinstance(source, dict):
        return source.get("object")
    if isinstance(source, str):
        return next((kind for prefix, kind in _PREFIX_KIND if source.startswith(prefix)), None)
    return None


def source_id(source: object) -> str | None:
    if isinstance(source, dict):
        return source.get("id")
    return source if isinstance(source, str) else None


def kind_of(txn: dict[str, Any]) -> str:
    """charge, refund, dispute_withdrawal, dispute_reinstatement, payout or other."""
    kind = txn.get("type") or ""
    category = txn.get("reporting_category") or ""
    if _source_kind(txn.get("source")) == "dispute" or category in _DISPUTE_CATEGORIES or kind in _DISPUTE_CATEGORIES:
        # The withdrawal takes the disputed amount (negative); a won dispute gives it back (positive).
        reinstated = category == "dispute_reversal" or kind == "dispute_reversal" or int(txn.get("amount") or 0) > 0
        return "dispute_reinstatement" if reinstated else "dispute_withdrawal"
    if kind in ("charge", "payment"):
        return "charge"
    if kind in ("refund", "payment_refund"):
        return "refund"
    if kind == "payout":
        return "payout"
    return "other"


def _links(source: object) -> tuple[str | None, list[str]]:
    """The consultation id the source carries itself, and the charge / PaymentIntent ids it names."""
    if isinstance(source, str):
        return None, [source]
    if not isinstance(source, dict):
        return None, []
    consultation = (source.get("metadata") or {}).get(METADATA_CONSULTATION)
    ids: list[str] = []
    if source.get("object") == "charge" and source.get("id"):
        ids.append(source["id"])
    for field in ("charge", "payment_intent"):  # a refund's or a dispute's payment, or a charge's PaymentIntent
        value = source.get(field)
        if isinstance(value, dict):
            consultation = consultation or (value.get("metadata") or {}).get(METADATA_CONSULTATION)
            value = value.get("id")
        if isinstance(value, str) and value:
            ids.append(value)
    return consultation or None, ids


def _iso(unix: Any) -> str | None:
    return timefmt.iso_utc(datetime.fromtimestamp(int(unix), timezone.utc)) if unix is not None else None


def line(txn: dict[str, Any], consultation_id: str | None) -> dict[str, Any]:
    """The machine view of one balance transaction (keys LINE_FIELDS, cents, ISO 8601 UTC)."""
    return {
        "id": txn["id"],
        "kind": kind_of(txn),
        "type": txn.get("type"),
        "reporting_category": txn.get("reporting_category"),
        "created": _iso(txn.get("created")),
        "consultation_id": consultation_id,
        "source_id": source_id(txn.get("source")),
        "amount_cents": int(txn.get("amount") or 0),
        "fee_cents": int(txn.get("fee") or 0),
        "net_cents": int(txn.get("net") or 0),
        "currency": (txn.get("currency") or "eur").lower(),
        "status": txn.get("status"),
    }


def build_lines(ledger: Ledger, txns: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Lines for `txns` (sources expanded), oldest first, each with its consultation id where there is one."""
    linked = [(txn, *_links(txn.get("source"))) for txn in txns]
    unresolved = [stripe_id for _, found, ids in linked if not found for stripe_id in ids]
    known = ledger.consultation_ids_by_stripe_id(unresolved) if unresolved else {}
    lines = []
    for txn, found, ids in linked:
        consultation = found or next((known[i] for i in ids if i in known), None)
        lines.append(line(txn, consultation))
    # Stripe lists newest first; within one second its order still tells which came first (a charge before
    # its refund): oldest first is that order reversed.
    order = {id(row): position for position, row in enumerate(lines)}
    lines.sort(key=lambda row: (row["created"] or "", -order[id(row)]))
    return lines


def totals(lines: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Count and sums of Stripe's gross, fee and net over `lines` (one currency)."""
    result = dict.fromkeys(TOTAL_FIELDS, 0)
    for row in lines:
        result["count"] += 1
        for key in ("amount_cents", "fee_cents", "net_cents"):
            result[key] += row[key]
    return result
