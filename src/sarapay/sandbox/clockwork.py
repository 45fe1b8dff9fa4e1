"""Time-driven transitions, run lazily before every request against the sandbox clock.

Due transitions run in time order, each with the clock set to the moment it fell due, so objects
and events carry the right timestamps whether the clock was advanced or real time passed:
session expiry, hold expiry (capture_before), funds becoming available, automatic payouts at 00:00
UTC following the account's schedule, payouts moving pending → in_transit → paid, and disputes: opened
after the capture of a dispute test card's payment, decided after test evidence, lost past `due_by`.
"""

from __future__ import annotations

import calendar
import time
from contextlib import contextmanager
from typing import Any, Iterator

from . import auth, balances, checkout, disputes, payments
from .events import changed
from .framework import Store

DAY = 86400
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@contextmanager
def at(store: Store, moment: int) -> Iterator[None]:
    saved = store.clock.offset
    store.clock.offset = moment - int(time.time())
    try:
        yield
    finally:
        store.clock.offset = saved


def _is_payout_day(day_start: int, sched: dict[str, Any]) -> bool:
    interval = sched.get("interval", "daily")
    tm = time.gmtime(day_start)
    if interval == "daily":
        return True
    if interval == "weekly":
        return WEEKDAYS[tm.tm_wday] == (sched.get("weekly_anchor") or "monday")
    if interval == "monthly":
        anchor = int(sched.get("monthly_anchor") or 1)
        last = calendar.monthrange(tm.tm_year, tm.tm_mon)[1]
        return tm.tm_mday == min(anchor, last)  # 31 means the month's last day
    return False  # manual


def _next_run(store: Store, acct: str, now: int) -> int | None:
    sched = auth.schedule(store, acct)
    if sched.get("interval") == "manual":
        return None
    runs = store.table("payout_runs")
    if acct not in runs:
        runs[acct] = (store.accounts.get(acct) or {}).get("created") or now
    day: int = (runs[acct] // DAY + 1) * DAY
    for _ in range(400):
        if day > now:
            return None
        if _is_payout_day(day, sched):
            return day
        day += DAY
    return None


def _due(store: Store, now: int) -> tuple[list[tuple[int, int, str, Any]], float]:
    """The transitions due at `now`, in time order, and the horizon: the earliest moment anything not due yet
    could fall due (a lower bound; +inf when nothing is waiting)."""
    due: list[tuple[int, int, str, Any]] = []
    horizon = float("inf")
    for acct, objects in store.objects.items():
        has_money = False
        for obj in objects.values():
            kind = obj.get("object")
            moment, what = None, ""
            if kind == "checkout.session" and obj["status"] == "open":
                moment, what = obj["expires_at"], "session"
            elif kind == "payment_intent" and obj["status"] == "requires_capture":
                charge = objects.get(obj.get("latest_charge") or "")
                moment, what = ((charge or {}).get("payment_method_details") or {}).get("card", {}).get("capture_before"), "hold"
            elif kind == "balance_transaction":
                has_money = True
                if obj["status"] == "pending":
                    moment, what = obj["available_on"], "txn"
            elif kind == "payout" and obj["status"] == "pending":
                moment, what = obj["created"] + DAY, "in_transit"
            elif kind == "payout" and obj["status"] == "in_transit":
                moment, what = obj["arrival_date"], "paid"
            elif kind == "charge" and obj.get("_dispute_due"):
                moment, what = obj["_dispute_due"], "dispute"
            elif kind == "dispute" and (when := disputes.due(obj)):
                moment, what = when
            if not moment:
                continue
            if moment <= now:
                due.append((moment, obj["_seq"], what, obj))
            else:
                horizon = min(horizon, moment)
        if has_money:
            run = _next_run(store, acct, now)
            if run is not None:
                due.append((run, 0, "payout_run", acct))
            else:
                horizon = min(horizon, (now // DAY + 1) * DAY)  # payout runs happen at 00:00 UTC, at the earliest the next one
    due.sort(key=lambda d: (d[0], d[1]))
    return due, horizon


def _apply(store: Store, kind: str, target: Any, moment: int) -> None:
    if kind == "session":
        checkout.expire_session(store, target)
    elif kind == "hold":
        payments.cancel(store, target, "automatic", None, when=moment)
    elif kind == "txn":
        changed(target, status="available")
    elif kind == "in_transit":
        balances.advance_payout(store, target, "in_transit")
    elif kind == "paid":
        balances.advance_payout(store, target, "paid")
    elif kind == "dispute":
        disputes.open_dispute(store, target)
    elif kind in ("outcome", "run_out"):
        disputes.apply_due(store, target, kind)
    elif kind == "payout_run":
        store.table("payout_runs")[target] = moment
        balances.automatic_payout(store, target)


# Transitions after which new ones may fall due: collect again before going on.
_RECOLLECT = {"payout_run", "in_transit"}


def run(store: Store, *, changed: bool = True) -> int:
    """Apply every transition due up to now. Returns how many were applied.

    Finding what is due scans every object (about 0,5 µs each: some 30 ms a request at 10 000 consultations),
    so a scan made for a request that changes nothing (`changed=False`: a GET, which the server runs with the
    store locked from this scan to its answer) remembers its horizon, the earliest moment something could
    fall due; the following GETs skip the scan while the clock is before it and no object was added. Any other
    request (`changed=True`: a POST, a DELETE, the clock endpoint) scans and forgets the horizon before its
    handler runs, since the handler may change what is due.
    """
    applied = 0
    with store.lock:
        now = store.now()
        cached = getattr(store, "_clockwork_horizon", None)
        if not changed and cached is not None and cached[:2] == (store.seq, id(store.objects)) and now < cached[2]:
            return 0
        store._clockwork_horizon = None  # type: ignore[attr-defined]
        while True:
            due, horizon = _due(store, now)
            if not due:
                if not changed:
                    store._clockwork_horizon = (store.seq, id(store.objects), horizon)  # type: ignore[attr-defined]
                return applied
            for moment, _, kind, target in due:
                with at(store, moment):
                    _apply(store, kind, target, moment)
                applied += 1
                if kind in _RECOLLECT:
                    break
