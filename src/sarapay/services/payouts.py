"""`payouts`: a practitioner's Stripe balance, recent payouts and payout schedule, and changing the schedule.

The platform may change the schedule only on accounts it controls (created by sarapay, `controller.
is_controller`); on an OAuth-connected Standard account Stripe answers 403, which becomes a sentence
sending the practitioner to their own Stripe dashboard. Machine output: integer cents with an ISO
currency, ISO 8601 UTC times, Stripe's own status codes.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sarapay import i18n, timefmt
from sarapay.errors import BadInput, StripeRefused
from sarapay.inputs import clean, shown

if TYPE_CHECKING:
    from sarapay.records import Practitioner
    from sarapay.services.context import Context

i18n.register(
    {
        "payouts.schedule_invalid": {
            "fr": "Calendrier « {value} » non reconnu : écrivez daily, weekly:monday (un jour de la semaine, en anglais ou en français), "
            "monthly:1 (un jour du mois de 1 à 31) ou manual.",
            "en": "Schedule “{value}” not recognised: write daily, weekly:monday (a day of the week), "
            "monthly:1 (a day of the month from 1 to 31) or manual.",
        },
        "payouts.schedule_weekly_needs_day": {
            "fr": "Précisez le jour des versements hebdomadaires, par exemple « weekly:monday » (ou « hebdomadaire:lundi ») : "
            "Stripe l'exige. Rien n'a été envoyé.",
            "en": "Give the day of the weekly payouts, for example “weekly:monday”: Stripe requires it. Nothing was sent.",
        },
        "payouts.schedule_monthly_needs_day": {
            "fr": "Précisez le jour du mois des versements mensuels (1 à 31), par exemple « monthly:1 » (ou « mensuel:1 ») : "
            "Stripe l'exige. Rien n'a été envoyé.",
            "en": "Give the day of the month of the monthly payouts (1 to 31), for example “monthly:1”: Stripe requires it. "
            "Nothing was sent.",
        },
        "payouts.payout_invalid": {
            "fr": "« {value} » n'est pas un identifiant de versement Stripe : il commence par po_ (voir « sarapay payouts RPPS »).",
            "en": "“{value}” is not a Stripe payout id: it starts with po_ (see 'sarapay payouts RPPS').",
        },
        "payouts.schedule_dashboard": {
            "fr": "Stripe ne permet pas à la plateforme de changer le calendrier des versements du compte {account} "
            "(compte Standard relié par OAuth) : le praticien le règle lui-même dans son tableau de bord Stripe, "
            "Paramètres › Versements (https://dashboard.stripe.com/settings/payouts).",
            "en": "Stripe does not let the platform change the payout schedule of account {account} "
            "(a Standard account linked through OAuth): the practitioner sets it in their own Stripe dashboard, "
            "Settings › Payouts (https://dashboard.stripe.com/settings/payouts).",
        },
    }
)

INTERVALS = ("daily", "weekly", "monthly", "manual")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_INTERVAL_ALIASES = {"quotidien": "daily", "hebdomadaire": "weekly", "mensuel": "monthly", "manuel": "manual"}
_WEEKDAY_ALIASES = dict(zip(("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"), WEEKDAYS))
_SCHEDULE = re.compile(r"(?P<interval>[a-z]+)(?:\s*:\s*(?P<anchor>[a-z0-9]+))?")

RECENT_PAYOUTS = 10
PAYOUT_FIELDS = ("id", "amount_cents", "currency", "status", "arrival_date", "created", "automatic", "method")
_PAYOUT_ID = re.compile(r"po_[A-Za-z0-9]{1,250}")


def parse_schedule(text: str) -> dict[str, Any]:
    """`{"interval": "weekly", "weekly_anchor": "monday"}` from `weekly:monday` (or `hebdomadaire:lundi`).

    Forms: daily, manual, weekly:DAY, monthly:1-31. Stripe requires the day with a weekly or monthly
    interval (API reference, update an account: `weekly_anchor` / `monthly_anchor` are "Required and
    applicable only if interval is weekly / monthly"), so `weekly` or `monthly` alone is refused here,
    before anything is sent, with the accepted form: a support user asking for weekly payouts picks the
    day; sending the current anchor is no answer (a daily schedule has none), and guessing one would set
    a day nobody chose.
    """
    raw = clean(text)
    match = _SCHEDULE.fullmatch(raw.lower())
    if not match:
        raise BadInput("payouts.schedule_invalid", value=shown(raw))
    interval = _INTERVAL_ALIASES.get(match["interval"], match["interval"])
    anchor = match["anchor"]
    if interval not in INTERVALS:
        raise BadInput("payouts.schedule_invalid", value=shown(raw))
    schedule: dict[str, Any] = {"interval": interval}
    if anchor is None:
        if interval in ("weekly", "monthly"):
            raise BadInput(f"payouts.schedule_{interval}_needs_day")
        return schedule
    if interval == "weekly":
        day = _WEEKDAY_ALIASES.get(anchor, anchor)
        if day not in WEEKDAYS:
            raise BadInput("payouts.schedule_invalid", value=shown(raw))
        schedule["weekly_anchor"] = day
    elif interval == "monthly":
        if not anchor.isdigit() or not 1 <= int(anchor) <= 31:
            raise BadInput("payouts.schedule_invalid", value=shown(raw))
        schedule["monthly_anchor"] = int(anchor)
    else:  # daily and manual take no anchor
        raise BadInput("payouts.schedule_invalid", value=shown(raw))
    return schedule


def _iso(unix: int | None) -> str | None:
    return timefmt.iso_utc(datetime.fromtimestamp(int(unix), timezone.utc)) if unix is not None else None


def _money_list(entries: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return [{"amount_cents": int(e.get("amount") or 0), "currency": (e.get("currency") or "eur").lower()} for e in entries or []]


def payout_row(payout: dict[str, Any]) -> dict[str, Any]:
    """The machine view of a payout (PAYOUT_FIELDS: cents, ISO 8601 UTC)."""
    return {
        "id": payout["id"],
        "amount_cents": int(payout.get("amount") or 0),
        "currency": (payout.get("currency") or "eur").lower(),
        "status": payout.get("status"),
        "arrival_date": _iso(payout.get("arrival_date")),
        "created": _iso(payout.get("created")),
        "automatic": bool(payout.get("automatic")),
        "method": payout.get("method"),
    }


def _schedule_of(account: dict[str, Any]) -> dict[str, Any] | None:
    schedule = (((account.get("settings") or {}).get("payouts") or {}).get("schedule")) or None
    if schedule is None:
        return None
    keep = ("interval", "delay_days", "weekly_anchor", "monthly_anchor")
    return {key: schedule.get(key) for key in keep}


def overview(ctx: Context, rpps: str, *, limit: int = RECENT_PAYOUTS) -> dict[str, Any]:
    """Balance, schedule and recent payouts of a linked practitioner (BadInput if not linked)."""
    from sarapay.services.practitioners import require_linked

    practitioner = require_linked(ctx, rpps)
    return _overview(ctx, practitioner, limit=limit)


def _overview(ctx: Context, practitioner: Practitioner, *, limit: int) -> dict[str, Any]:
    from sarapay.services.practitioners import account_of

    account_id = account_of(practitioner)
    gateway = ctx.gateway
    account = gateway.retrieve_account(account_id)
    balance = gateway.balance(account_id)
    payouts = gateway.list_payouts(account_id, limit=limit)
    return {
        "rpps": practitioner.rpps,
        "account_id": account_id,
        "balance": {"available": _money_list(balance.get("available")), "pending": _money_list(balance.get("pending"))},
        "schedule": _schedule_of(account),
        # Only an account the platform controls accepts a schedule change from it (docs/stripe-behaviour.md).
        "schedule_editable": bool((account.get("controller") or {}).get("is_controller")),
        "payouts_enabled": bool(account.get("payouts_enabled")),
        "payouts": [payout_row(p) for p in payouts],
    }


def change_schedule(ctx: Context, rpps: str, schedule_text: str, *, limit: int = RECENT_PAYOUTS) -> dict[str, Any]:
    """Sets the practitioner's payout schedule, then returns the overview. One audit row, whatever happens.

    The syntax is checked before anything is sent (a refusal is still audited); a 403 from Stripe (OAuth
    Standard account) becomes StripeRefused "payouts.schedule_dashboard" (exit 5).
    """
    from sarapay.inputs import shown
    from sarapay.services.practitioners import account_of, require_linked

    with ctx.audited("payouts.schedule", shown(rpps)) as entry:
        schedule = parse_schedule(schedule_text)
        practitioner = require_linked(ctx, rpps)
        account_id = account_of(practitioner)
        entry.target = practitioner.rpps
        entry.detail = " ".join(f"{k}={v}" for k, v in schedule.items())
        try:
            # No deterministic idempotency key: daily → weekly → daily must apply three times, not replay.
            ctx.gateway.update_payout_schedule(account_id, schedule)
        except StripeRefused as exc:
            if exc.http_status == 403 and exc.stripe_code != "account_invalid":
                refused = StripeRefused("payouts.schedule_dashboard", account=account_id)
                refused.with_stripe(exc).http_status = 403
                raise refused from None
            raise
    return _overview(ctx, practitioner, limit=limit)


def payout_contents(ctx: Context, rpps: str, payout_id: str) -> dict[str, Any]:
    """What one payout contains: one line per balance transaction it paid out (services.balance_lines), their
    totals, and the difference between the sum of their nets and the payout's amount (0 when they agree;
    never hidden when they do not).

    Requests: one to read the payout, then one list request per 100 transactions with their sources expanded
    (`GET /v1/balance_transactions?payout=po_…&expand[]=data.source`); the consultation ids Stripe's sources
    do not carry come from the ledger. A manual payout has no list: Stripe links transactions to automatic
    payouts only (docs: payout reconciliation), so `reconcilable` is False and `transactions` None.
    """
    from sarapay.services import balance_lines
    from sarapay.services.practitioners import account_of, require_linked

    raw = clean(payout_id)
    if not _PAYOUT_ID.fullmatch(raw):
        raise BadInput("payouts.payout_invalid", value=shown(raw))
    practitioner = require_linked(ctx, rpps)
    account_id = account_of(practitioner)
    payout = ctx.gateway.retrieve_payout(account_id, raw)
    detail = {**payout_row(payout), "reconciliation_status": payout.get("reconciliation_status")}
    view: dict[str, Any] = {
        "rpps": practitioner.rpps,
        "account_id": account_id,
        "payout": detail,
        "reconcilable": bool(payout.get("automatic")),
        # Why there is no list: a manual payout (Stripe links transactions to automatic payouts only).
        "reason": None if payout.get("automatic") else "manual_payout",
        "transactions": None,
        "totals": None,
        "difference_cents": None,
    }
    if not view["reconcilable"]:
        return view
    own = payout.get("balance_transaction")
    own_id = own.get("id") if isinstance(own, dict) else own
    listed = ctx.gateway.list_balance_transactions(account_id, payout=payout["id"], expand=["data.source"])
    # The list holds the payout's own transaction (its −amount): the others are what it paid out.
    contents = [
        txn for txn in listed
        if txn["id"] != own_id and not (txn.get("type") == "payout" and balance_lines.source_id(txn.get("source")) == payout["id"])
    ]
    lines = balance_lines.build_lines(ctx.ledger, contents)
    totals = {**balance_lines.totals(lines), "currency": detail["currency"]}
    view.update(transactions=lines, totals=totals, difference_cents=totals["net_cents"] - detail["amount_cents"])
    return view
