"""`status`: the payments table, one consultation in detail, and bringing them up to date from Stripe.

Reads go through the ledger only (no `stripe` import); `refresh_*` asks Stripe through
services.refresh. Machine rows have stable keys (MACHINE_FIELDS), integer cents and ISO 8601 UTC times.
The patient's email stays out of machine output unless the caller asks for it (`show_email`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Generator, Iterable, Iterator

from sarapay import i18n, ids, records, statuses, timefmt
from sarapay.errors import BadInput, StripeRefused
from sarapay.records import CONSULTATION_FIELD, AuditEntry, Consultation, Field, HistoryEntry, Totals, machine_names
from sarapay.rpps import normalize_rpps

if TYPE_CHECKING:
    from sarapay.services.context import Context

i18n.register(
    {
        "listing.empty_range": {
            "fr": "La période est vide : --since ({since}) doit précéder --until ({until}).",
            "en": "The period is empty: --since ({since}) must come before --until ({until}).",
        },
        "listing.detail_with_filters": {
            "fr": "Une consultation nommée ne se filtre pas : retirez --practitioner, --state, --since, --until et --limit, "
            "ou retirez l'identifiant pour lister.",
            "en": "A named consultation takes no filter: drop --practitioner, --state, --since, --until and --limit, "
            "or drop the id to list.",
        },
    }
)

# The keys of a consultation in machine output, in this order (a contract for scripts): records.CONSULTATION_FIELDS.
MACHINE_FIELDS: tuple[str, ...] = machine_names()


def machine_fields(show_email: bool = False) -> tuple[str, ...]:
    """MACHINE_FIELDS, with patient_email after patient_ref when asked (`--show-email`)."""
    return machine_names(show_email=show_email)


@dataclass(frozen=True)
class Filters:
    """What `status` lists: bounds are half-open (since ≤ scheduled_at < until)."""

    rpps: str | None = None
    states: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None

    @property
    def any(self) -> bool:
        return bool(self.rpps or self.states or self.since or self.until)

    def ledger_kwargs(self, *, with_state: bool = True) -> dict[str, Any]:
        return {
            "rpps": self.rpps,
            "state": list(self.states) if (self.states and with_state) else None,
            "since": self.since,
            "until": self.until,
        }


def parse_filters(
    *, practitioner: str | None = None, states: Iterable[str] = (), since: str | None = None, until: str | None = None
) -> Filters:
    """Filters from typed input: RPPS (or IDNPS), state codes or labels, days or moments; BadInput otherwise."""
    codes: list[str] = []
    for text in states:
        code = statuses.parse_state(text)
        if code not in codes:
            codes.append(code)
    start = timefmt.parse_since(since) if since else None
    end = timefmt.parse_until(until) if until else None
    if start is not None and end is not None and start.timestamp() >= end.timestamp():
        raise BadInput("listing.empty_range", since=(since or "").strip(), until=(until or "").strip())
    return Filters(
        rpps=normalize_rpps(practitioner) if practitioner else None, states=tuple(codes), since=start, until=end
    )


def _iso(value: str | int | None) -> str | None:
    """A ledger time (ISO 8601 UTC text, or Stripe's unix time) in the one machine format."""
    if value is None or value == "":
        return None
    if isinstance(value, str):  # the ledger's own ISO 8601 UTC text, re-written in the one format
        return timefmt.iso_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    return timefmt.iso_utc(value)


def _currency(value: str | None) -> str:
    return (value or "eur").lower()


def _converter(field: Field) -> Callable[[Any], Any] | None:
    """How a consultation's value is written in machine output, by its kind: times in ISO 8601 UTC, flags as
    bools, the currency lowercase (eur when unknown); cents and text as they are (None)."""
    if field.is_time:
        return _iso
    if field.kind == "bool":
        return bool
    if field.kind == "currency":
        return _currency
    return None


@functools.cache
def _machine_plan(show_email: bool, document: bool) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    names = machine_names(show_email=show_email, document=document)
    return tuple((name, _converter(CONSULTATION_FIELD[name])) for name in names)


def _machine(record: Consultation, *, show_email: bool, document: bool = False) -> dict[str, Any]:
    """Once per row of an export (`status --limit 0 --json` streams them all): the plan is made once."""
    row: dict[str, Any] = {}
    for name, convert in _machine_plan(show_email, document):
        value = getattr(record, name)
        row[name] = value if convert is None else convert(value)
    return row


def machine_row(record: Consultation, *, show_email: bool = False) -> dict[str, Any]:
    """A ledger consultation as machine output: MACHINE_FIELDS (plus patient_email if asked), cents, ISO UTC."""
    return _machine(record, show_email=show_email)


def iter_records(ctx: Context, filters: Filters, *, limit: int | None = None) -> Iterator[Consultation]:
    """Matching consultations, newest first (at most `limit`: one query with its LIMIT; else streamed)."""
    return _part_rows(ctx, filters.rpps, list(filters.states) or None, filters.since, filters.until, True, limit)


def _paris_today(now: datetime | None) -> tuple[datetime, datetime]:
    """[start, end) of today in Paris, as aware datetimes."""
    from datetime import timedelta, timezone

    moment = (now or datetime.now(timezone.utc)).astimezone(timefmt.PARIS)
    start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)  # wall-clock arithmetic: the next midnight in Paris, DST or not
    return start, end


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or a.timestamp() < b.timestamp() else a


def _earlier(a: datetime | None, b: datetime) -> datetime:
    return b if a is None or a.timestamp() > b.timestamp() else a


def iter_attention(
    ctx: Context, filters: Filters, *, limit: int | None = None, now: datetime | None = None
) -> Iterator[Consultation]:
    """What a person at the terminal needs first (`status` on screen), within the filters, streamed:

    1. holds to capture (« Non capturé »), the soonest `capture_before` first;
    2. today's payments left « Incomplet » (the patient has not paid yet);
    3. today and the recent past, newest first;
    4. then the days to come, soonest first.

    Each part is read in index order (schema step 0012), at most `limit` rows each: no part sorts or
    reads every consultation, so the first page costs the same on an empty ledger and on a million rows.
    Parts 3 and 4 are streamed from a cursor (`--limit 0` on a million rows holds one row at a time); only
    the ids of parts 1 and 2 are remembered, to skip them when 3 and 4 meet them again.
    """
    start, end = _paris_today(now)
    wanted = set(filters.states) if filters.states else None
    rpps = filters.rpps
    seen: set[str] = set()
    shown = 0

    def states(*codes: str) -> list[str] | None:
        return [c for c in codes if wanted is None or c in wanted]

    first: list[Consultation] = []
    if states(statuses.UNCAPTURED):
        first += ctx.ledger.holds_by_deadline(rpps=rpps, since=filters.since, until=filters.until, limit=limit)
    if states(statuses.INCOMPLETE):
        today_since, today_until = _later(filters.since, start), _earlier(filters.until, end)
        if today_since.timestamp() < today_until.timestamp():
            first += ctx.ledger.list_consultations(
                rpps=rpps, since=today_since, until=today_until, state=[statuses.INCOMPLETE], limit=limit
            )
    for row in first:
        if limit is not None and shown >= limit:
            return
        if row.id not in seen:
            seen.add(row.id)
            shown += 1
            yield row
    state = list(filters.states) if filters.states else None
    more = None if limit is None else limit + len(seen)  # rows already shown come back in these queries
    past_until, future_since = _earlier(filters.until, end), _later(filters.since, end)
    parts: list[tuple[datetime | None, datetime | None, bool]] = []
    if filters.since is None or filters.since.timestamp() < past_until.timestamp():
        parts.append((filters.since, past_until, True))
    if filters.until is None or future_since.timestamp() < filters.until.timestamp():
        parts.append((future_since, filters.until, False))
    for since, until, newest_first in parts:
        stream = _part_rows(ctx, rpps, state, since, until, newest_first, more)
        try:
            for row in stream:
                if limit is not None and shown >= limit:
                    return
                if row.id not in seen:
                    shown += 1
                    yield row
        finally:
            stream.close()  # releases the cursor when the caller stops early


def _part_rows(
    ctx: Context, rpps: str | None, state: list[str] | None, since: datetime | None, until: datetime | None,
    newest_first: bool, limit: int | None,
) -> Generator[Consultation, None, None]:
    """A page: one query with its LIMIT (one round trip to a server); everything: a streamed cursor."""
    if limit is not None:
        yield from ctx.ledger.list_consultations(
            rpps=rpps, state=state, since=since, until=until, newest_first=newest_first, limit=limit
        )
        return
    # `yield from` closes the ledger's cursor when the caller stops early.
    yield from ctx.ledger.iter_consultations(rpps=rpps, state=state, since=since, until=until, newest_first=newest_first)


def iter_machine_rows(
    ctx: Context, filters: Filters, *, limit: int | None = None, show_email: bool = False
) -> Iterator[dict[str, Any]]:
    for record in iter_records(ctx, filters, limit=limit):
        yield machine_row(record, show_email=show_email)



def disconnected_listed(
    ctx: Context, filters: Filters, shown: list[Consultation], *, complete: bool
) -> list[dict[str, Any]]:
    """The disconnected practitioners (practitioners.disconnected) whose consultations the listing holds: seen
    among the rows `shown` when they are the whole listing (`complete`), else asked of the ledger's totals
    (a streamed listing: the practitioner may come after the first rows)."""
    from sarapay.services.practitioners import disconnected

    def listed(rpps: str) -> bool:
        if filters.rpps == rpps or any(row.rpps == rpps for row in shown):
            return True
        return not complete and totals(ctx, replace(filters, rpps=rpps)).count > 0

    return [gone for gone in disconnected(ctx, filters.rpps) if listed(gone["rpps"])]


def totals(ctx: Context, filters: Filters) -> Totals:
    """Ledger.totals for the same filters."""
    return ctx.ledger.totals(**filters.ledger_kwargs())


def get_consultation(ctx: Context, consultation: str) -> Consultation:
    """The ledger row of a typed id (`tc-8f3k2q` works); BadInput (exit 2) when malformed or unknown."""
    from sarapay.services.consultations import require_consultation  # the one lookup, with its one message

    return require_consultation(ctx, consultation)


def moves_in_doubt(ctx: Context, consultation_id: str) -> list[dict[str, Any]]:
    """The consultation's money moves sent without an answer yet (each names the command to re-run)."""
    return [move for move in ctx.ledger.money_moves(consultation_id) if move["state"] == "pending"]


def history(ctx: Context, consultation_id: str) -> list[HistoryEntry]:
    return ctx.ledger.history(consultation_id)


def detail_document(
    record: Consultation, timeline: Iterable[HistoryEntry], *, show_email: bool = False
) -> dict[str, Any]:
    """The machine form of one consultation: its row, the Stripe ids and the history (ISO UTC)."""
    document = _machine(record, show_email=show_email, document=True)
    document["history"] = [{"at": _iso(line.at), "state": line.state, "note": line.note} for line in timeline]
    return document


# --- refresh from Stripe ----------------------------------------------------------------------------------


@dataclass
class RefreshReport:
    refreshed: list[str] = field(default_factory=list)
    failed: list[tuple[str, StripeRefused]] = field(default_factory=list)


def _refresh(ctx: Context, record: Consultation) -> Consultation:
    from sarapay.services.refresh import refresh_consultation

    return refresh_consultation(ctx, record)


def refresh_one(ctx: Context, record: Consultation) -> Consultation:
    """Brings one consultation up to date from Stripe (final ones too: a refund may have happened)."""
    with ctx.audited("status.refresh", record.id):
        return _refresh(ctx, record)


def refresh_listed(ctx: Context, filters: Filters) -> RefreshReport:
    """Refreshes the non-final consultations within the practitioner and date filters.

    The state filter is applied after the refresh (a hold may just have become « Réussi »). A refusal
    by Stripe on one consultation (an account no longer connected...) is reported and the others go
    on; Stripe being unreachable stops everything (exit 6). One audit row for the whole run.
    """
    from sarapay.ledger import NON_FINAL_STATES

    report = RefreshReport()
    scope = filters.ledger_kwargs(with_state=False)
    # Listed first, then refreshed: writes must not run under an open read cursor.
    pending = ctx.ledger.list_consultations(**{**scope, "state": list(NON_FINAL_STATES)})
    with ctx.audited("status.refresh", filters.rpps or "*") as entry:
        for record in pending:
            try:
                _refresh(ctx, record)
            except StripeRefused as exc:
                report.failed.append((record.id, exc))
            else:
                report.refreshed.append(record.id)
        entry.detail = f"refreshed={len(report.refreshed)} failed={len(report.failed)}"
    return report


# --- the audit log ----------------------------------------------------------------------------------------

# Keys of an audit entry in machine output, in this order.
AUDIT_FIELDS = records.AUDIT_FIELDS


def iter_audit_entries(
    ctx: Context, limit: int, *, command: str | None = None, target: str | None = None
) -> Iterator[AuditEntry]:
    """The last `limit` audit entries, newest first, streamed from a cursor (`log -n 100000` holds one entry
    at a time). A consultation id target is normalised (`tc-8f3k2q`)."""
    if target:
        try:
            target = ids.normalize_consultation_id(target)
        except BadInput:
            target = target.strip()  # an RPPS, an account id: matched as typed
    return ctx.ledger.iter_audit(limit, command=command or None, target=target or None)


def audit_row(entry: AuditEntry) -> dict[str, Any]:
    return {key: (_iso(entry.at) if key == "at" else getattr(entry, key)) for key in AUDIT_FIELDS}
