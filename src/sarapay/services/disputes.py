"""`sarapay disputes`: the payments patients dispute with their bank, as the ledger knows them.

    listing(ctx, rpps=None, open_only=False) -> list[dict]       machine rows (FIELDS), the most urgent first
    refresh_disputes(ctx, rpps=None) -> RefreshReport             reads each watched account's disputes first

The ledger learns disputes from reconcile (one list of disputes per account with recent captures), from
`status --refresh` (a charge that says `disputed`), and from `refresh_disputes` here, which asks Stripe the
way reconcile does, one list per account, and applies what it finds through the same rule
(refresh.apply_disputes → statuses.with_dispute). Amounts are Stripe's: the disputed amount, the dispute fee
and the net of the dispute's balance transactions (−amount − fee while the bank decides; back to 0 when the
dispute is won and the fee given back).

The practitioner answers in their own Stripe dashboard (the dispute lives on their account: direct charges);
`dashboard_url` is the dispute's page there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sarapay import disputes as terms, statuses, timefmt
from sarapay.errors import StripeRefused
from sarapay.services import refresh

if TYPE_CHECKING:
    from sarapay.services.context import Context

FIELDS = (
    "dispute_id", "consultation_id", "rpps", "practitioner", "account_id", "status", "open", "needs_response",
    "reason", "amount_cents", "fee_cents", "net_cents", "currency", "due_by", "created", "scheduled_at", "state",
    "dashboard_url",
)


def _iso(value: int | None) -> str | None:
    return timefmt.iso_utc(value) if value else None


def machine_row(dispute: dict[str, Any], names: dict[str, Any]) -> dict[str, Any]:
    """One dispute, language-independent: codes, cents, ISO 8601 UTC."""
    status = dispute["status"]
    return {
        "dispute_id": dispute["id"],
        "consultation_id": dispute["consultation_id"],
        "rpps": dispute["rpps"],
        "practitioner": names.get(dispute["rpps"]),
        "account_id": dispute["account_id"],
        "status": status,
        "open": status in statuses.DISPUTE_OPEN,
        "needs_response": status in statuses.DISPUTE_NEEDS_RESPONSE,
        "reason": dispute["reason"],
        "amount_cents": dispute["amount_cents"],
        "fee_cents": dispute["fee_cents"],
        "net_cents": dispute["net_cents"],
        "currency": dispute.get("currency") or "eur",
        "due_by": _iso(dispute.get("due_by")),
        "created": _iso(dispute.get("created")),
        "scheduled_at": dispute.get("scheduled_at"),
        "state": dispute["state"],
        "dashboard_url": terms.dashboard_url(dispute["id"], livemode=bool(dispute.get("livemode"))),
    }


def _most_urgent_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """To answer first (nearest deadline first), then under review, then the closed ones (newest first, as
    the ledger lists them)."""
    answer = sorted((r for r in rows if r["needs_response"]), key=lambda r: (r["due_by"] is None, r["due_by"] or ""))
    review = [r for r in rows if r["open"] and not r["needs_response"]]
    closed = [r for r in rows if not r["open"]]
    return [*answer, *review, *closed]


def listing(ctx: Context, *, rpps: str | None = None, open_only: bool = False) -> list[dict[str, Any]]:
    """The disputes the ledger knows (a practitioner's, or all), as machine rows, the most urgent first."""
    from sarapay.services.practitioners import require_practitioner

    if rpps is not None:
        rpps = require_practitioner(ctx, rpps).rpps
    names = {p.rpps: p.name for p in ctx.ledger.list_practitioners()}
    found = ctx.ledger.list_disputes(rpps=rpps, statuses=statuses.DISPUTE_OPEN if open_only else None)
    return _most_urgent_first([machine_row(d, names) for d in found])


@dataclass
class RefreshReport:
    accounts: int = 0
    changed: list[tuple[str, str, str]] = field(default_factory=list)  # (consultation id, from, to)
    new: list[str] = field(default_factory=list)
    refused: list[tuple[str, StripeRefused]] = field(default_factory=list)  # (account id, why)


def refresh_disputes(ctx: Context, *, rpps: str | None = None) -> RefreshReport:
    """Reads the disputes of every account reconcile watches (recent captures, open disputes), one list per
    account since the first-run lookback or the oldest open dispute, and applies them. A refused account is
    reported and the others go on; Stripe unreachable stops everything (exit 6). One audit row."""
    from sarapay.services.practitioners import require_practitioner
    from sarapay.services.reconcile import dispute_bounds

    if rpps is not None:
        rpps = require_practitioner(ctx, rpps).rpps
    report = RefreshReport()
    with ctx.audited("disputes.refresh", rpps or "*") as entry:
        bounds = dispute_bounds(ctx.ledger, rpps, None)
        report.accounts = len(bounds)
        for account, created_gte in bounds.items():
            try:
                found = list(ctx.gateway.list_disputes(account, created_gte=created_gte))
            except StripeRefused as exc:
                report.refused.append((account, exc))
                continue
            by_payment: dict[str, list[dict[str, Any]]] = {}
            for dispute in found:
                pi_id = refresh.id_of(dispute.get("payment_intent"))
                if pi_id:
                    by_payment.setdefault(pi_id, []).append(dispute)
            for pi_id, of_payment in by_payment.items():
                row = ctx.ledger.find_by_payment_intent(pi_id)
                if row is None or row.account_id != account:
                    continue  # not a payment sarapay made
                after, new = refresh.apply_disputes(ctx.ledger, row, of_payment)
                report.new.extend(new)
                if after.state != row.state:
                    report.changed.append((row.id, row.state, after.state))
        entry.detail = f"accounts={report.accounts} new={len(report.new)} updated={len(report.changed)} refused={len(report.refused)}"
    return report
