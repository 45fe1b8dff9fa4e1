"""Reconcile (cron): bring every non-final consultation up to date from Stripe, and say what needs a person.

    reconcile(ctx, rpps=None, warn_within=48h, progress=None) -> ReconcileReport

What it costs on Stripe: for each connected account with open consultations, ONE paginated list of
Checkout Sessions (`created[gte]` = the oldest open item's session creation, limit 100), each session
carrying its PaymentIntent, the PaymentIntent's charge (hold deadline) and the charge's balance
transaction (fee) through `expand[]=data.payment_intent.latest_charge.balance_transaction` (4 levels,
Stripe's maximum). Every PaymentIntent sarapay deals with is born from one of its sessions, so a list of
PaymentIntents would bring nothing more: one request per account and per hundred sessions, never one
retrieve per consultation. The one exception: a consultation whose session is not in the list (the ledger
knows a session Stripe did not return in the window, which should not happen) gets a retrieve of its own,
counted in `report.retrieves`. One more list, only for an account where a consultation not yet final is
found with its link closed: that account's `checkout.session.expired` events in the same window, which
tell a link closed on purpose (« Annulé », through the API or the dashboard) from one that ran out
(« Expiré »); the answer is kept, so the next run does not ask again.

Disputes: ONE more paginated list, `GET /v1/disputes` (`created[gte]` = the last run minus WINDOW_MARGIN, or
back to the oldest dispute the ledger still knows open; the last DISPUTE_LOOKBACK on a first run), for each
account still linked that has a payment captured for a consultation of the last DISPUTE_WINDOW, or a dispute
still open; and for an account otherwise read only for its sessions, when one of them shows a disputed charge.
Each dispute comes with its balance transactions (amount withdrawn, dispute fee, reinstatement): nothing more is
asked. So a run costs, per account: one list of sessions if it has open consultations, one list of disputes if it
has recent captures, one list of expiry events when a link closed (each per hundred objects).

Accounts are read concurrently by a bounded pool (MAX_WORKERS threads, one Gateway each, 429 handled by
the Gateway's backoff); every ledger write happens on the calling thread, through the one mapping from
Stripe objects to ledger rows (`refresh.apply_stripe_state`), which writes only what changed: a second
run in a row writes no consultation and no history line (only the last-run time in the ledger's meta).

What needs a person (report.items, most urgent first):
- hold_expiring: a card hold whose `capture_before` falls within `warn_within` (capture it, or lose it);
- hold_expired: a hold that ran out since the last run (lost income unless the patient pays again);
- link_expired: a payment link that ran out before the consultation (send a new one: `pay-link`);
- declined: the patient's card was refused, the link is still open (the patient may retry);
- abandoned: a payment link that ran out after the consultation without a payment;
- dispute_deadline: a dispute waiting for the practitioner's answer, due within `warn_within` (or past);
- dispute_new: a dispute opened since the last run (or first seen by this one while still open);
- account_disconnected: an open consultation of a practitioner who disconnected the platform from their
  dashboard (`account.application.deauthorized`, recorded by `webhooks serve`); their account is not read;
- move_in_doubt: a money move sent without an answer that nobody re-ran (the command to re-run);
- account_refused: Stripe refuses to read a practitioner's account (access revoked...).
(Ordered: hold_expiring, move_in_doubt, dispute_deadline, hold_expired, dispute_new, account_disconnected,
then the links, then refused accounts.)

Changes made in the dashboard to payments reconcile considered done (a refund, a capture, a release, a link
closed) are seen in the same pages: every session of those pages that belongs to a consultation of the
ledger in a final state goes through the same mapping, without a request more. An account's ledger
writes are one transaction (one commit per account, not per consultation).

Deadlines are Stripe's, so "now" is Stripe's time as its answers give it (`refresh.stripe_now`): a
machine clock that is off, or a sandbox clock moved forward for a training, changes nothing to what is
reported. "Since the last run" uses the time of the last complete run kept in the ledger's meta (the last
DEFAULT_LOOKBACK when there is none). A run that could not read an account (network, exit 6) keeps the
previous time, so nothing that ran out meanwhile goes unreported.

A lock file (fcntl.flock, non-blocking) in the data folder keeps a second reconcile or sync from running
at the same time: it stops at once with a message (exit 1, see `run_lock`).
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, TypeVar

from sarapay import i18n, moves, statuses, timefmt
from sarapay.errors import ConfigError, SarapayError, StripeRefused, StripeUnavailable
from sarapay.services import refresh
from sarapay.services.practitioners import require_practitioner

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.records import Consultation
    from sarapay.services.context import Context
    from sarapay.stripe_gateway import Gateway

R = TypeVar("R")  # what read_accounts' fetch returns for one account

i18n.register(
    {
        "reconcile.busy": {
            "fr": "Un rapprochement ou une synchronisation est déjà en cours ({holder}) : celui-ci s'arrête sans rien faire "
            "(code 1 : il n'a rien vérifié, donc il ne peut dire ni « rien à faire » (0) ni « à traiter » (8)). "
            "Relancez quand l'autre aura fini ; le verrou est {path}.",
            "en": "A reconcile or sync is already running ({holder}): this one stops without doing anything "
            "(exit 1: it checked nothing, so it can say neither 'nothing to do' (0) nor 'needs action' (8)). "
            "Run it again once the other one has finished; the lock is {path}.",
        },
        "reconcile.busy_unknown": {"fr": "processus inconnu", "en": "unknown process"},
        "reconcile.busy_holder": {"fr": "processus {pid} depuis {since}", "en": "process {pid} since {since}"},
    }
)

LOCK_FILE_NAME = "stripe-sync.lock"
META_LAST_RUN = "reconcile.last_run"
DEFAULT_WARN_WITHIN = 48 * 3600
DEFAULT_LOOKBACK = 7 * 86400  # the first run reports what ran out during the last week
MAX_WORKERS = 4
WINDOW_MARGIN = 3600  # slack on the created[gte] bound
LINK_LIFETIME_MAX = 86400  # a Checkout Session lives at most 24 h: created ≥ expires_at − 24 h
HOLD_LIFETIME_MAX = 8 * 86400  # a hold lives 7 days (capture_before), plus a day of slack
SESSION_EXPAND = ["data.payment_intent.latest_charge.balance_transaction"]

# Disputes: the card networks give a cardholder 120 days (540 at most, rarely) to dispute; accounts with a
# capture this recent, or with a dispute still open, have their disputes read.
DISPUTE_WINDOW = 180 * 86400
DISPUTE_LOOKBACK = 120 * 86400  # the first run reads the disputes of the last 120 days
DISPUTE_DONE = frozenset({"won", "warning_closed", "prevented"})  # no longer anyone's concern

HOLD_EXPIRING = "hold_expiring"
DISPUTE_DEADLINE = "dispute_deadline"
HOLD_EXPIRED = "hold_expired"
DISPUTE_NEW = "dispute_new"
MOVE_IN_DOUBT = "move_in_doubt"
LINK_EXPIRED = "link_expired"
DECLINED = "declined"
ABANDONED = "abandoned"
ACCOUNT_REFUSED = "account_refused"
ACCOUNT_DISCONNECTED = "account_disconnected"
KINDS = (  # most urgent first
    HOLD_EXPIRING, MOVE_IN_DOUBT, DISPUTE_DEADLINE, HOLD_EXPIRED, DISPUTE_NEW, ACCOUNT_DISCONNECTED, LINK_EXPIRED,
    DECLINED, ABANDONED, ACCOUNT_REFUSED,
)


@dataclass
class Item:
    """One thing a person should look at."""

    kind: str
    rpps: str
    practitioner: str | None
    account_id: str | None
    consultation_id: str | None = None
    state: str | None = None
    amount_cents: int | None = None
    currency: str = "eur"
    deadline: int | None = None  # unix: capture_before for holds, the link's expiry for links, due_by for disputes
    scheduled_at: str | None = None  # ISO 8601 UTC, from the ledger
    detail: str | None = None  # a decline code, a Stripe error code, a dispute's reason
    dispute_id: str | None = None

    def sort_key(self) -> tuple[int, bool, int, str, str]:
        return (KINDS.index(self.kind), self.deadline is None, self.deadline or 0, self.scheduled_at or "", self.consultation_id or "")


@dataclass
class Change:
    consultation_id: str
    rpps: str
    before: str
    after: str


@dataclass
class Unavailable:
    account_id: str
    rpps: str
    code: str  # the message key (language-independent)
    message: str


@dataclass
class ReconcileReport:
    now: int
    since: int
    warn_within: int
    rpps: str | None = None
    accounts: int = 0
    checked: int = 0
    retrieves: int = 0
    changes: list[Change] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    new_disputes: set[str] = field(default_factory=set)  # dispute ids this run recorded for the first time

    @property
    def needs_action(self) -> bool:
        return bool(self.items)

    @property
    def complete(self) -> bool:
        return not self.unavailable


# --------------------------------------------------------------------------- the lock


class Busy(SarapayError):
    """Another run holds the lock (exit 1): this one did nothing."""


@contextmanager
def run_lock(name: str = LOCK_FILE_NAME, busy_key: str = "reconcile.busy", ctx: Context | None = None) -> Iterator[None]:
    """Holds the reconcile/sync lock (or the lock file `name`) for the block, or raises Busy at once (exit 1)
    if another run holds it; `busy_key` is the message, given {holder} and {path}.

    An flock dies with its process, so a crashed cron job never leaves a stale lock; the file stays
    (deleting it would let two runs lock two different files). With a PostgreSQL ledger the lock is the
    server's, so it holds across machines (and dies with the session of a crashed run)."""
    if ctx is not None and ctx.ledger.is_postgres:
        ledger = ctx.ledger
        if not ledger.try_lock("run", name):
            holder = ledger.lock_holder("run", name)
            shown = i18n.t("reconcile.busy_holder", pid=holder[0], since=holder[1]) if holder else i18n.t("reconcile.busy_unknown")
            raise Busy(busy_key, holder=shown, path=f"{ledger.location} (advisory lock {name})")
        try:
            yield
        finally:
            ledger.unlock("run", name)
        return
    import fcntl

    from sarapay import settings

    folder = settings.ensure_private_dir(settings.data_dir())
    path = folder / name
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # BlockingIOError (EWOULDBLOCK), or EACCES on some systems
            raise Busy(busy_key, holder=_holder(path), path=str(path)) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()} {timefmt.iso_utc(refresh.now())}\n".encode(), 0)
        yield
    finally:
        os.close(fd)  # releases the lock


def _holder(path: Path) -> str:
    try:
        pid, since = path.read_text(encoding="utf-8").split()[:2]
    except (OSError, ValueError):
        return i18n.t("reconcile.busy_unknown")
    return i18n.t("reconcile.busy_holder", pid=pid, since=since)


# --------------------------------------------------------------------------- matching Stripe objects to rows


def consultation_of(obj: dict[str, Any]) -> str | None:
    """The consultation id a Stripe object carries in its metadata (or client_reference_id)."""
    from sarapay.stripe_gateway import METADATA_CONSULTATION

    return ((obj.get("metadata") or {}).get(METADATA_CONSULTATION)) or obj.get("client_reference_id") or None


# Checkout Sessions (Stripe's JSON) by id, and by consultation id (newest first).
SessionsById = dict[str, dict[str, Any]]
SessionsByConsultation = dict[str, list[dict[str, Any]]]


def index_sessions(sessions: list[dict[str, Any]]) -> tuple[SessionsById, SessionsByConsultation]:
    """Sessions by id, and by consultation id (newest first, as Stripe lists them)."""
    by_id: SessionsById = {}
    by_consultation: SessionsByConsultation = {}
    for session in sorted(sessions, key=lambda s: int(s.get("created") or 0), reverse=True):
        by_id[session["id"]] = session
        cid = consultation_of(session)
        if cid:
            by_consultation.setdefault(cid, []).append(session)
    return by_id, by_consultation


def pick_session(
    consultation_id: str, known_session_id: str | None, by_id: SessionsById, by_consultation: SessionsByConsultation
) -> dict[str, Any] | None:
    """The session that speaks for a consultation: the one the ledger knows, unless it expired and a newer
    one was issued for the same consultation (a `pay-link` from another machine); a session the patient
    completed always wins over one that merely exists."""
    candidates = by_consultation.get(consultation_id, [])
    known = by_id.get(known_session_id) if known_session_id else None
    completed = next((s for s in candidates if s.get("status") == "complete"), None)
    if completed is not None:
        return completed
    newest = candidates[0] if candidates else None
    if known is None:
        return newest
    if newest is not None and newest is not known and known.get("status") == "expired":
        return newest
    return known


def payment_intent_of(session: dict[str, Any] | None) -> dict[str, Any] | None:
    pi = (session or {}).get("payment_intent")
    return pi if isinstance(pi, dict) else None


def _created_bound(rows: list[Consultation]) -> int:
    """created[gte] for one account: the oldest open item's session creation, by Stripe's own clock
    when the ledger has a Stripe time for it (no skew with ours), minus a margin."""
    bounds = []
    for row in rows:
        if row.link_expires_at:
            bounds.append(int(row.link_expires_at) - LINK_LIFETIME_MAX)
        elif row.capture_before:
            bounds.append(int(row.capture_before) - HOLD_LIFETIME_MAX)
        else:
            created = datetime.fromisoformat(row.created_at.replace("Z", "+00:00")).timestamp()
            bounds.append(int(created) - LINK_LIFETIME_MAX)  # our clock: a day of slack
    return max(0, min(bounds) - WINDOW_MARGIN)


# --------------------------------------------------------------------------- reading accounts concurrently


def read_accounts(
    ctx: Context,
    accounts: list[str],
    fetch: Callable[[Gateway, str], R],
    *,
    progress: Callable[[int, int], None] | None = None,
    max_workers: int = MAX_WORKERS,
) -> Iterator[tuple[str, R | None, StripeRefused | StripeUnavailable | None]]:
    """Runs `fetch(gateway, account)` for every account on a bounded pool (one Gateway per thread: a Gateway
    is not thread-safe) and yields `(account, result, None)` or `(account, None, error)` on the calling thread,
    as they complete, so the caller writes the ledger from one thread. Stripe's refusal or unavailability
    for one account is yielded and the others go on; a refused key (ConfigError) stops everything."""
    if progress:
        progress(0, len(accounts))
    if not accounts:
        return
    base = ctx.gateway
    local = threading.local()

    def job(account: str) -> R:
        gateway: Gateway | None = getattr(local, "gateway", None)
        if gateway is None:
            gateway = local.gateway = base.clone()
        return fetch(gateway, account)

    pool = ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(accounts))), thread_name_prefix="sarapay-read")
    try:
        futures = {pool.submit(job, account): account for account in accounts}
        for done, future in enumerate(as_completed(futures), start=1):
            account = futures[future]
            try:
                result = future.result()
            except ConfigError:
                raise  # the key itself is refused: no account can be read
            except (StripeUnavailable, StripeRefused) as exc:
                yield account, None, exc
            else:
                yield account, result, None
            if progress:
                progress(done, len(accounts))
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


# --------------------------------------------------------------------------- the run


def last_run_key(rpps: str | None) -> str:
    return META_LAST_RUN if rpps is None else f"{META_LAST_RUN}.{rpps}"


def _last_run(ledger: Ledger, rpps: str | None) -> int | None:
    times = []
    for key in {last_run_key(None), last_run_key(rpps)}:
        value = ledger.get_meta(key)
        if value:
            times.append(int(datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()))
    return max(times) if times else None


def reconcile(
    ctx: Context,
    *,
    rpps: str | None = None,
    warn_within: int = DEFAULT_WARN_WITHIN,
    progress: Callable[[int, int], None] | None = None,
    max_workers: int = MAX_WORKERS,
) -> ReconcileReport:
    """One reconcile run under the lock. `progress(done, total)` is called with the number of accounts read."""
    with run_lock(ctx=ctx):
        return _reconcile(ctx, rpps=rpps, warn_within=warn_within, progress=progress, max_workers=max_workers)


def _reconcile(
    ctx: Context, *, rpps: str | None, warn_within: int, progress: Callable[[int, int], None] | None, max_workers: int
) -> ReconcileReport:
    # One audit row when the run changed the ledger, or failed; a quiet run (cron, every few minutes) none.
    with ctx.audited("reconcile", rpps) as entry:
        if rpps is not None:
            rpps = entry.target = require_practitioner(ctx, rpps).rpps
        report = _reconcile_run(ctx, rpps=rpps, warn_within=warn_within, progress=progress, max_workers=max_workers)
        entry.record = bool(report.changes)
        entry.detail = f"updated={len(report.changes)} needs_action={len(report.items)}"
        return report


def _reconcile_run(
    ctx: Context, *, rpps: str | None, warn_within: int, progress: Callable[[int, int], None] | None, max_workers: int
) -> ReconcileReport:
    ledger = ctx.ledger
    last = _last_run(ledger, rpps)
    report = ReconcileReport(now=refresh.now(), since=0, warn_within=warn_within, rpps=rpps)  # times set once Stripe answered

    names = {p.rpps: p.name for p in ledger.list_practitioners()}
    after_rows, declined = _read_open(ctx, report, names, last=last, progress=progress, max_workers=max_workers)

    # Stripe's time once the accounts were read (the machine's when there was nothing to ask Stripe).
    report.now = now = refresh.stripe_now(ctx)
    report.since = last if last is not None else now - DEFAULT_LOOKBACK
    for row in after_rows:
        if statuses.needs_action(row.state, capture_before=row.capture_before, now=now, warn_within=warn_within):
            report.items.append(_item(HOLD_EXPIRING, row, names, amount=row.authorised_cents, deadline=row.capture_before))
        elif row.state == statuses.INCOMPLETE and row.id in declined:
            error = declined[row.id]
            report.items.append(
                _item(DECLINED, row, names, amount=row.max_cents, deadline=row.link_expires_at,
                      detail=error.get("decline_code") or error.get("code"))
            )
    report.items.extend(_ran_out(ledger, report, names))
    report.items.extend(_moves_in_doubt(ledger, report, names))
    report.items.extend(_dispute_items(ledger, report, names))
    report.items.sort(key=Item.sort_key)

    if report.complete:
        # Never back: a run that asked Stripe nothing has the machine's clock, which may be behind Stripe's
        # (a sandbox moved forward), and a mark moved back would report again what ran out before it.
        ledger.set_meta(last_run_key(rpps), timefmt.iso_utc(now if last is None else max(now, last)))
    return report


def refresh_open(
    ctx: Context, *, rpps: str | None = None, progress: Callable[[int, int], None] | None = None,
    max_workers: int = MAX_WORKERS,
) -> ReconcileReport:
    """Brings the open consultations (of `rpps`, a normalised RPPS, or all) up to date from Stripe with
    reconcile's own bulk read (their disputes included), under its lock, and nothing more: no judgement of
    what needs a person, no audit row, and reconcile's last-run mark left alone, so reconcile still reports
    what ran out since its own last run. For commands that act on fresh holds (remind). Raises Busy when a
    reconcile or sync runs; `report.now` is Stripe's time once read, `changes` and `unavailable` say what
    happened."""
    with run_lock(ctx=ctx):
        report = ReconcileReport(now=refresh.now(), since=0, warn_within=0, rpps=rpps)
        names = {p.rpps: p.name for p in ctx.ledger.list_practitioners()}
        _read_open(ctx, report, names, last=_last_run(ctx.ledger, rpps), progress=progress, max_workers=max_workers)
        report.now = refresh.stripe_now(ctx)
    return report


def _read_open(
    ctx: Context, report: ReconcileReport, names: dict[str, Any], *, last: int | None,
    progress: Callable[[int, int], None] | None, max_workers: int,
) -> tuple[list[Consultation], dict[str, dict[str, Any]]]:
    """Reads every account with open consultations (one list of sessions each) or disputes to watch (one
    list of disputes), and applies what Stripe says to the ledger; fills the report's counts, changes, new
    disputes, unavailable accounts and refused ones. Returns the rows as written, and the declines seen
    (consultation id -> the PaymentIntent's last_payment_error)."""
    ledger, rpps = ctx.ledger, report.rpps
    practitioners = ledger.list_practitioners()
    rpps_of = {p.account_id: p.rpps for p in practitioners if p.account_id}
    disconnected = {p.rpps for p in practitioners if p.disconnected_at}

    groups: dict[str, list[Consultation]] = {}
    for row in ledger.non_final(rpps):
        if row.rpps in disconnected and row.paid_online:
            # The practitioner disconnected the platform: Stripe would refuse every read; a person decides.
            report.items.append(_item(ACCOUNT_DISCONNECTED, row, names, amount=row.authorised_cents or row.max_cents,
                                      deadline=row.capture_before or row.link_expires_at, detail="deauthorized"))
            continue
        if row.paid_online and row.account_id and (row.checkout_session_id or row.payment_intent_id):
            groups.setdefault(row.account_id, []).append(row)
    declined: dict[str, dict[str, Any]] = {}  # consultation id -> its PaymentIntent's last_payment_error
    after_rows: list[Consultation] = []

    bounds = {account: _created_bound(rows) for account, rows in groups.items()}
    watched = dispute_bounds(ledger, rpps, last)
    accounts = list(dict.fromkeys([*groups, *watched]))
    report.accounts = len(accounts)

    def fetch(gateway: Gateway, account: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], list[dict[str, Any]] | None]:
        sessions: list[dict[str, Any]] = []
        events: dict[str, dict[str, Any]] = {}
        if account in groups:
            sessions = list(gateway.list_checkout_sessions(account, bounds[account], expand=SESSION_EXPAND))
            by_id, by_consultation = index_sessions(sessions)
            link_closed = any(
                refresh.needs_expiry_event(row, pick_session(row.id, row.checkout_session_id, by_id, by_consultation))
                for row in groups[account]
            )
            events = refresh.fetch_expiry_events(gateway, account, bounds[account]) if link_closed else {}
        disputes = None
        if account in watched:
            disputes = list(gateway.list_disputes(account, created_gte=watched[account]))
        elif any(refresh.charge_disputed(payment_intent_of(session)) for session in sessions):
            # A payment captured and disputed since the last look (from the dashboard): its dispute came after its session.
            disputes = list(gateway.list_disputes(account, created_gte=bounds[account]))
        return sessions, events, disputes

    for account, result, error in read_accounts(ctx, accounts, fetch, progress=progress, max_workers=max_workers):
        now = refresh.stripe_now(ctx)  # Stripe's deadlines against Stripe's time, as of this answer
        rows = groups.get(account, [])
        owner = rows[0].rpps if rows else rpps_of.get(account, "")
        if isinstance(error, StripeUnavailable):
            report.unavailable.append(Unavailable(account, owner, error.key, error.message))
        elif error is not None:
            report.items.append(
                Item(ACCOUNT_REFUSED, owner, names.get(owner), account, detail=getattr(error, "stripe_code", None) or error.key)
            )
        else:
            assert result is not None  # read_accounts gives the result when it gives no error
            sessions, events, disputes = result
            index = index_sessions(sessions)
            by_payment: dict[str, list[dict[str, Any]]] = {}
            for dispute in disputes or []:
                pi_id = refresh.id_of(dispute.get("payment_intent"))
                if pi_id:
                    by_payment.setdefault(pi_id, []).append(dispute)
            with ledger.transaction():  # one commit per account
                for row in rows:
                    after_rows.append(_apply(ctx, report, row, sessions_index=index, events=events, now=now,
                                             declined=declined, disputes=by_payment))
                _apply_done(ctx, report, sessions, {row.id for row in rows}, now)
                _apply_disputes(ctx, report, account, by_payment)
    return after_rows, declined


def _apply(
    ctx: Context, report: ReconcileReport, row: Consultation, *, sessions_index: tuple[SessionsById, SessionsByConsultation],
    events: dict[str, dict[str, Any]], now: int, declined: dict[str, dict[str, Any]],
    disputes: dict[str, list[dict[str, Any]]],
) -> Consultation:
    by_id, by_consultation = sessions_index
    session = pick_session(row.id, row.checkout_session_id, by_id, by_consultation)
    event = events.get(session["id"]) if session is not None else None
    if session is None:
        # Not in the window Stripe returned: ask for this one alone (rare; counted).
        report.retrieves += 1
        session, payment_intent = refresh.fetch_stripe_objects(ctx, row)
        if refresh.needs_expiry_event(row, session):
            assert session is not None
            event = refresh.fetch_expiry_event(ctx.gateway, refresh.account_of(row), session)
    else:
        payment_intent = payment_intent_of(session)
        if session["id"] != row.checkout_session_id:
            # A newer link for the consultation: what the ledger knew about the old one does not carry over.
            row = ctx.ledger.update_consultation(row.id, checkout_session_id=session["id"], closed_on_purpose=False)
    pi_id = (payment_intent or {}).get("id")
    if pi_id in disputes:
        report.new_disputes.update(refresh.record_disputes(ctx.ledger, row, disputes.pop(pi_id)))
    elif refresh.charge_disputed(payment_intent):
        assert pi_id is not None  # disputed outside the listed window: asked for alone, like the retrieve
        report.retrieves += 1
        report.new_disputes.update(
            refresh.record_disputes(ctx.ledger, row, refresh.fetch_disputes(ctx.gateway, refresh.account_of(row), pi_id))
        )
    report.checked += 1
    after = refresh.apply_stripe_state(ctx.ledger, row, session, payment_intent, now, event)
    if after.state != row.state:
        report.changes.append(Change(row.id, row.rpps, row.state, after.state))
    error = (payment_intent or {}).get("last_payment_error")
    if error and (payment_intent or {}).get("status") == "requires_payment_method":
        declined[row.id] = error
    return after


def dispute_bounds(ledger: Ledger, rpps: str | None, last: int | None) -> dict[str, int]:
    """created[gte] of each account whose disputes are read: since the last run (a margin before it), or the
    last DISPUTE_LOOKBACK on a first run; back to the oldest dispute still open, so its status is read too."""
    since = (last - WINDOW_MARGIN) if last is not None else refresh.now() - DISPUTE_LOOKBACK
    watch = ledger.dispute_watch(
        captured_since=datetime.fromtimestamp(refresh.now() - DISPUTE_WINDOW, timezone.utc),
        open_statuses=statuses.DISPUTE_OPEN, rpps=rpps,
    )
    return {account: max(0, min(since, oldest) if oldest is not None else since) for account, oldest in watch.items()}


def _apply_disputes(ctx: Context, report: ReconcileReport, account: str, disputes: dict[str, list[dict[str, Any]]]) -> None:
    """Disputes of payments reconcile did not read through a session (captured, so final): recorded, and the
    consultation's state moved by them (statuses.with_dispute). A dispute of a payment sarapay did not make
    is left alone."""
    for pi_id, found in disputes.items():
        row = ctx.ledger.find_by_payment_intent(pi_id)
        if row is None or row.account_id != account:
            continue
        after, new = refresh.apply_disputes(ctx.ledger, row, found)
        report.new_disputes.update(new)
        if after.state != row.state:
            report.changes.append(Change(row.id, row.rpps, row.state, after.state))


def _apply_done(ctx: Context, report: ReconcileReport, sessions: list[dict[str, Any]], open_ids: set[str], now: int) -> None:
    """Dashboard changes to payments the ledger considers done (refunded from the dashboard, a hold captured or
    released there...): the sessions of the pages already read that belong to a final consultation go through
    the same mapping. No request more; a session that is not the consultation's current one is left alone."""
    ledger = ctx.ledger
    for session in sessions:
        row = ledger.find_by_checkout_session(session["id"])
        if row is None or row.id in open_ids or row.state not in statuses.FINAL_STATES:
            continue
        if report.rpps is not None and row.rpps != report.rpps:
            continue
        payment_intent = payment_intent_of(session)
        if payment_intent is None and session.get("payment_intent"):
            continue  # not expanded: nothing to compare
        after = refresh.apply_stripe_state(ledger, row, session, payment_intent, now)
        if after.state != row.state:
            report.changes.append(Change(row.id, row.rpps, row.state, after.state))


def _dispute_items(ledger: Ledger, report: ReconcileReport, names: dict[str, Any]) -> list[Item]:
    """An answer due within the window (the practitioner answers in their Stripe dashboard), then disputes
    opened since the last run (or first seen by this one while still open)."""
    items = []
    for dispute in ledger.list_disputes(rpps=report.rpps):
        status, due_by = dispute["status"], dispute.get("due_by")
        if statuses.dispute_needs_answer(status, due_by=due_by, now=report.now, warn_within=report.warn_within):
            kind = DISPUTE_DEADLINE
        elif status not in DISPUTE_DONE and (
            report.since < int(dispute["created"]) <= report.now
            or (dispute["id"] in report.new_disputes and status in statuses.DISPUTE_OPEN)
        ):
            kind = DISPUTE_NEW
        else:
            continue
        items.append(Item(
            kind=kind, rpps=dispute["rpps"], practitioner=names.get(dispute["rpps"]), account_id=dispute["account_id"],
            consultation_id=dispute["consultation_id"], state=dispute["state"], amount_cents=dispute["amount_cents"],
            currency=dispute.get("currency") or "eur", deadline=int(due_by) if due_by else None,
            scheduled_at=dispute.get("scheduled_at"), detail=dispute["reason"], dispute_id=dispute["id"],
        ))
    return items


def _ran_out(ledger: Ledger, report: ReconcileReport, names: dict[str, Any]) -> list[Item]:
    """Holds and links that ran out since the last run (or during this one)."""
    changed_now = {c.consultation_id for c in report.changes if c.after == statuses.EXPIRED}
    items = []
    for row in ledger.list_consultations(rpps=report.rpps, state=statuses.EXPIRED):
        if not row.paid_online:
            continue
        hold, link = row.capture_before, row.link_expires_at
        if hold is not None and int(row.authorised_cents or 0) > 0:
            if row.id in changed_now or report.since < hold <= report.now:
                items.append(_item(HOLD_EXPIRED, row, names, amount=row.authorised_cents, deadline=hold))
        elif link is not None and (row.id in changed_now or report.since < link <= report.now):
            before_consultation = timefmt.iso_utc(link) < row.scheduled_at
            items.append(
                _item(LINK_EXPIRED if before_consultation else ABANDONED, row, names, amount=row.max_cents, deadline=link)
            )
    return items


# A money move younger than this may still be on its way (a command running now): not reported yet.
MOVE_IN_FLIGHT = 300


def _moves_in_doubt(ledger: Ledger, report: ReconcileReport, names: dict[str, Any]) -> list[Item]:
    """Money moves sent without an answer (lost answer, Ctrl-C, crash) that nobody re-ran: each is an item
    saying which command to re-run (safe: the same idempotency key)."""
    before = timefmt.iso_utc(refresh.now() - MOVE_IN_FLIGHT)
    items = []
    for move in ledger.pending_money_moves(created_before=before, rpps=report.rpps):
        row = ledger.get_consultation(move["consultation_id"])
        if row is None:
            continue
        moves.settle_pending(ledger, row)  # Stripe's state, just read, may show it went through (or not)
        if (ledger.get_money_move(move["idempotency_key"]) or {}).get("state") != "pending":
            continue
        items.append(_item(MOVE_IN_DOUBT, row, names, amount=int(move["amount_cents"]), deadline=None, detail=move["action"]))
    return items


def _item(kind: str, row: Consultation, names: dict[str, Any], *, amount: int | None, deadline: int | None,
          detail: str | None = None) -> Item:
    return Item(
        kind=kind, rpps=row.rpps, practitioner=names.get(row.rpps), account_id=row.account_id,
        consultation_id=row.id, state=row.state, amount_cents=amount, currency=row.currency or "eur",
        deadline=int(deadline) if deadline is not None else None, scheduled_at=row.scheduled_at, detail=detail,
    )


def _iso(value: int | None) -> str | None:
    return timefmt.iso_utc(value) if value is not None else None


ITEM_FIELDS = ("kind", "consultation_id", "rpps", "practitioner", "account_id", "state", "amount_cents", "currency",
               "deadline", "scheduled_at", "detail", "dispute_id")


def item_document(item: Item) -> dict[str, Any]:
    values = {name: getattr(item, name) for name in ITEM_FIELDS}
    values["deadline"] = _iso(item.deadline)
    return values


def report_document(report: ReconcileReport) -> dict[str, Any]:
    """The report as one language-independent JSON document: stable keys, cents, ISO 8601 UTC."""
    return {
        "now": _iso(report.now),
        "since": _iso(report.since),
        "warn_within_seconds": report.warn_within,
        "practitioner": report.rpps,
        "accounts": report.accounts,
        "checked": report.checked,
        "retrieves": report.retrieves,
        "complete": report.complete,
        "needs_action": report.needs_action,
        "items": [item_document(item) for item in report.items],
        "changes": [{"consultation_id": c.consultation_id, "rpps": c.rpps, "from": c.before, "to": c.after} for c in report.changes],
        "unavailable": [{"account_id": u.account_id, "rpps": u.rpps, "code": u.code} for u in report.unavailable],
    }
