"""`sync --rebuild`: the ledger's consultations rebuilt from Stripe alone (Stripe is the system of record).

    rebuild(ctx, progress=None) -> SyncReport      # with its audit row

For every practitioner of the ledger linked to a Stripe account: one paginated list of all the account's
Checkout Sessions (no created filter), each with its PaymentIntent, charge and balance transaction
expanded (the same expansion as reconcile), plus, only for an account with an expired session, one list
of its `checkout.session.expired` events. Every Stripe object sarapay creates carries the consultation id
and the RPPS in its metadata (and the planned time, `scheduled_at`), so each consultation paid online is
rebuilt into an empty ledger or over an existing one; what Stripe says goes through the one mapping from
Stripe objects to ledger rows (`refresh.stripe_fields` / `apply_stripe_state`).

What a rebuild cannot know, because it never goes to Stripe (privacy rules): the patient reference
(`patient_ref`), and consultations without online payment. Over an existing ledger both are kept as they
are; into an empty one they are absent. Also local: `created_at`, `updated_at`, `stripe_synced_at` and the
history (a rebuilt consultation starts with one line, "rebuilt from Stripe"). Two things come from Stripe
with a limit: `scheduled_at` needs the `scheduled_at` metadata (sessions created before plan sent it get
the session's creation time, listed in `approximate_time`); `closed_on_purpose` (a link closed before its
time, by sarapay, another program or the dashboard: « Annulé » rather than « Expiré ») is decided from
the session's expiry event by the same rule as refresh and reconcile (statuses.closed_on_purpose), and
Stripe keeps events 30 days: past that, an existing ledger's value is kept, and a new row says « Expiré ».

Practitioners are local configuration: they must be in the ledger (`sarapay link RPPS --account acct_…`
re-attaches one). Sessions naming no sarapay consultation are ignored (`foreign`), sessions of a
practitioner absent from the ledger are skipped and listed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, TypedDict

from sarapay import i18n, statuses
from sarapay.errors import BadInput, StripeUnavailable
from sarapay.ids import normalize_consultation_id
from sarapay.rpps import is_valid_rpps
from sarapay.services import refresh
from sarapay.services.reconcile import (
    MAX_WORKERS,
    SESSION_EXPAND,
    consultation_of,
    index_sessions,
    payment_intent_of,
    pick_session,
    read_accounts,
    run_lock,
)

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.records import Consultation
    from sarapay.services.context import Context
    from sarapay.stripe_gateway import Gateway

REBUILT_NOTE = "rebuilt from Stripe (sync --rebuild)"

i18n.register(
    {
        "sync.needs_rebuild": {
            "fr": "Précisez --rebuild : « sarapay sync --rebuild » reconstruit les consultations depuis Stripe "
            "(pour mettre à jour les paiements en cours, utilisez « sarapay reconcile »).",
            "en": "Add --rebuild: 'sarapay sync --rebuild' rebuilds the consultations from Stripe "
            "(to bring open payments up to date, use 'sarapay reconcile').",
        },
        "sync.no_practitioner": {
            "fr": "Aucun praticien lié à Stripe dans le registre : les praticiens sont une configuration locale, "
            "rattachez-les d'abord (sarapay link RPPS --account acct_…), puis relancez.",
            "en": "No practitioner linked to Stripe in the ledger: practitioners are local configuration, attach them "
            "first (sarapay link RPPS --account acct_…), then run this again.",
        },
    }
)


@dataclass
class SyncReport:
    accounts: int = 0
    sessions: int = 0
    added: list[tuple[str, str]] = field(default_factory=list)  # (consultation id, state)
    corrected: list[tuple[str, list[str]]] = field(default_factory=list)  # (consultation id, fields)
    unchanged: int = 0
    kept_offline: int = 0  # consultations without online payment: never on Stripe, kept as they are
    not_found: list[str] = field(default_factory=list)  # paid online in the ledger, absent from its account
    foreign: int = 0  # sessions that name no sarapay consultation
    unknown_practitioner: list[tuple[str, str]] = field(default_factory=list)  # (consultation id, rpps)
    approximate_time: list[str] = field(default_factory=list)  # no scheduled_at in metadata
    unread: list[Unread] = field(default_factory=list)  # accounts Stripe did not let us read

    @property
    def complete(self) -> bool:
        return not self.unread

    @property
    def exit_code(self) -> int:
        """0 when every account was read; 6 when one was unavailable (network); 5 when Stripe refused one."""
        if not self.unread:
            return 0
        return max(u.exit_code for u in self.unread)


@dataclass
class Unread:
    account_id: str
    rpps: str
    code: str
    message: str
    exit_code: int


def rebuild(
    ctx: Context, *, progress: Callable[[int, int], None] | None = None, max_workers: int = MAX_WORKERS
) -> SyncReport:
    """Rebuild every consultation paid online from Stripe, under the reconcile/sync lock. One audit row
    ("sync"): what was added and corrected, and "error" when an account could not be read."""
    with ctx.audited("sync") as entry:
        with run_lock(ctx=ctx):
            report = _rebuild(ctx, progress=progress, max_workers=max_workers)
        entry.detail = f"added={len(report.added)} corrected={len(report.corrected)} unread={len(report.unread)}"
        if not report.complete:
            entry.outcome = "error"
    return report


def _fetch(gateway: Gateway, account: str) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]]]:
    """The account's sessions, and the expiry events of its sessions (only if one expired)."""
    sessions = list(gateway.list_checkout_sessions(account, None, expand=SESSION_EXPAND))
    events: dict[str, dict[str, Any]] = {}
    if any(s.get("status") == "expired" for s in sessions):
        events = refresh.fetch_expiry_events(gateway, account, None)
    return sessions, events


def _rebuild(ctx: Context, *, progress: Callable[[int, int], None] | None, max_workers: int) -> SyncReport:
    ledger = ctx.ledger
    report = SyncReport()
    practitioners = ledger.list_practitioners()
    owners = {p.account_id: p.rpps for p in practitioners if p.account_id}
    if not owners:
        raise BadInput("sync.no_practitioner")
    known = {p.rpps for p in practitioners}
    report.accounts = len(owners)
    seen: set[str] = set()

    for account, result, error in read_accounts(ctx, list(owners), _fetch, progress=progress, max_workers=max_workers):
        now = refresh.stripe_now(ctx)  # Stripe's deadlines against Stripe's time, as of this answer
        if error is not None:
            code = error.key if isinstance(error, StripeUnavailable) else (error.stripe_code or error.key)
            report.unread.append(Unread(account, owners[account], code, error.message, error.exit_code))
            continue
        assert result is not None  # read_accounts gives the result when it gives no error
        sessions, events = result
        report.sessions += len(sessions)
        by_id, by_consultation = index_sessions(sessions)
        report.foreign += sum(1 for s in sessions if not _valid_id(consultation_of(s)))
        for cid in sorted(by_consultation):
            if not _valid_id(cid):
                continue
            existing = ledger.get_consultation(cid)
            session = pick_session(cid, existing.checkout_session_id if existing else None, by_id, by_consultation)
            if session is None:
                continue
            rpps = _rpps_of(session, owners[account])
            if rpps not in known:
                report.unknown_practitioner.append((cid, rpps))
                continue
            seen.add(cid)
            _rebuild_one(ledger, report, cid, rpps, account, session, existing, events.get(session["id"]), now)

    if report.complete:
        for row in ledger.iter_consultations():
            if not row.paid_online:
                report.kept_offline += 1
            elif row.id not in seen and row.account_id in owners:
                report.not_found.append(row.id)
    return report


def _valid_id(value: str | None) -> bool:
    if not value:
        return False
    try:
        return normalize_consultation_id(value) == value
    except BadInput:
        return False


def _rpps_of(session: dict[str, Any], owner: str) -> str:
    from sarapay.stripe_gateway import METADATA_PRACTITIONER

    named = (session.get("metadata") or {}).get(METADATA_PRACTITIONER)
    return named if named and is_valid_rpps(named) else owner


def _scheduled_at(session: dict[str, Any]) -> str | None:
    from sarapay.stripe_gateway import METADATA_SCHEDULED

    value = (session.get("metadata") or {}).get(METADATA_SCHEDULED)
    if not value:
        return None
    try:
        return _iso_utc_text(value)
    except ValueError:
        return None


def _iso_utc_text(value: str) -> str:
    from sarapay.timefmt import iso_utc

    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("naive time")
    return iso_utc(moment)


def _rebuild_one(
    ledger: Ledger, report: SyncReport, cid: str, rpps: str, account: str, session: dict[str, Any],
    existing: Consultation | None, expired_event: dict[str, Any] | None, now: int,
) -> None:
    payment_intent = payment_intent_of(session)
    scheduled = _scheduled_at(session)
    # Without the event (older than 30 days?), what the ledger knew about this same session stands.
    known = bool(existing and existing.checkout_session_id == session["id"] and existing.closed_on_purpose)
    closed_on_purpose = statuses.closed_on_purpose(session, expired_event, known=known)
    identity: dict[str, Any] = {
        "rpps": rpps,
        "paid_online": True,
        "account_id": account,
        "checkout_session_id": session["id"],
        "max_cents": int(session.get("amount_total") or 0),
        "currency": session.get("currency") or "eur",
    }
    identity["closed_on_purpose"] = closed_on_purpose
    if payment_intent is None:
        identity["payment_intent_id"] = None
    if session.get("customer_email"):
        identity["patient_email"] = session["customer_email"]

    if existing is None:
        if scheduled is None:
            report.approximate_time.append(cid)
            scheduled = datetime.fromtimestamp(int(session["created"]), timezone.utc).isoformat()
        fields = refresh.stripe_fields(None, session, payment_intent, now, expired_event)
        state = fields.pop("state")
        values = {k: v for k, v in {**identity, **fields}.items() if k != "rpps"}
        ledger.insert_consultation(
            cid, rpps=rpps, scheduled_at=scheduled, state=state, note=REBUILT_NOTE,
            stripe_synced_at=datetime.now(timezone.utc), **values,
        )
        report.added.append((cid, state))
        return

    if scheduled is not None:
        identity["scheduled_at"] = scheduled
    changed = [name for name, value in identity.items() if existing.value(name) != value]
    if "rpps" in changed:
        changed.remove("rpps")  # a consultation stays with its practitioner; Stripe's metadata is a cross-check
        identity.pop("rpps")
    row = existing
    if changed:
        row = ledger.update_consultation(cid, **{name: identity[name] for name in changed})
    fields = refresh.stripe_fields(row, session, payment_intent, now, expired_event)
    changed += [name for name, value in fields.items() if row.value(name) != value]
    refresh.apply_stripe_state(ledger, row, session, payment_intent, now, expired_event)
    if changed:
        report.corrected.append((cid, changed))
    else:
        report.unchanged += 1


class AddedDocument(TypedDict):
    consultation_id: str
    state: str


class CorrectedDocument(TypedDict):
    consultation_id: str
    fields: list[str]


class UnknownPractitionerDocument(TypedDict):
    consultation_id: str
    rpps: str


class UnreadDocument(TypedDict):
    account_id: str
    rpps: str
    code: str  # the message key, or Stripe's error code


class ReportDocument(TypedDict):
    """`sync --rebuild --json`."""

    complete: bool
    accounts: int
    sessions: int
    added: list[AddedDocument]
    corrected: list[CorrectedDocument]
    unchanged: int
    kept_offline: int
    not_found: list[str]
    foreign_sessions: int
    unknown_practitioner: list[UnknownPractitionerDocument]
    approximate_time: list[str]
    unread: list[UnreadDocument]


def report_document(report: SyncReport) -> ReportDocument:
    """Language-independent: stable keys, ids and field names only."""
    return {
        "complete": report.complete,
        "accounts": report.accounts,
        "sessions": report.sessions,
        "added": [{"consultation_id": cid, "state": state} for cid, state in report.added],
        "corrected": [{"consultation_id": cid, "fields": fields} for cid, fields in report.corrected],
        "unchanged": report.unchanged,
        "kept_offline": report.kept_offline,
        "not_found": report.not_found,
        "foreign_sessions": report.foreign,
        "unknown_practitioner": [{"consultation_id": cid, "rpps": rpps} for cid, rpps in report.unknown_practitioner],
        "approximate_time": report.approximate_time,
        "unread": [{"account_id": u.account_id, "rpps": u.rpps, "code": u.code} for u in report.unread],
    }


# Consultation fields a rebuild cannot take from Stripe (besides the history, and consultations without
# online payment): kept over an existing ledger, absent from a new one.
NOT_FROM_STRIPE = ("patient_ref", "created_at", "updated_at", "stripe_synced_at")
