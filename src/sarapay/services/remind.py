"""Reminders (cron): email each practitioner the card holds to capture before they expire, and the disputes to
answer before their deadline.

    remind(ctx, within=48h, rpps=None, dry_run=False, refresh_first=True, progress=None) -> RemindReport

What it reads. First the open consultations are brought up to date from Stripe with reconcile's own bulk
read (`reconcile.refresh_open`: one list per connected account, under reconcile's lock, reconcile's
last-run mark untouched), so a hold captured or released meanwhile, in the portal or the dashboard, is not
reminded. When a reconcile or sync holds the lock, that run is refreshing the same rows: remind reads the
ledger as it leaves it (report.refresh = "busy"). `refresh_first=False` reads the ledger as last
reconciled, without asking Stripe anything. Then the holds « Non capturé » whose `capture_before` falls
within `within` of Stripe's time (`refresh.stripe_now`), and the disputes whose answer deadline does.

What it sends. One email per practitioner, in their language (`prefs set-lang`, French by default), to
the address `link --email` recorded, listing only what was not reminded yet: each reminder goes once per
consultation, kind and deadline (the `reminders_sent` table; a new authorisation with a new deadline is
reminded again). A reminder is recorded once the mail server accepted its message, and only then: a
server that refuses one message, or drops the connection mid-way, leaves the unsent ones unrecorded for
the next run, and what was accepted is never sent again. Nothing about the patient is in an email (see
reminder_mail.Line).

Errors: the SMTP settings are checked before anything else (incomplete, no password: ConfigError, exit 4);
the connection is opened at the first message to send (unreachable: MailUnavailable, exit 6; login or
STARTTLS refused: ConfigError, exit 4), so a run with nothing to send never connects. In all those cases
nothing is recorded. A second `remind` while one runs stops at once (Busy, exit 1): two runs at once could
send the same reminder twice.

One audit row per run (`remind`), its detail counting what was sent, skipped and not sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Callable, TypedDict

from sarapay import credentials, i18n, reminder_mail, settings, timefmt
from sarapay.errors import MailUnavailable
from sarapay.services import refresh
from sarapay.services.practitioners import require_practitioner

if TYPE_CHECKING:
    from email.message import EmailMessage

    from sarapay.records import Consultation
    from sarapay.services.context import Context
    from sarapay.services.reconcile import Unavailable

i18n.register(
    {
        "remind.busy": {
            "fr": "Un envoi de rappels est déjà en cours ({holder}) : celui-ci s'arrête sans rien envoyer (deux envois "
            "simultanés pourraient doubler un rappel). Le verrou est {path}.",
            "en": "A reminder run is already going on ({holder}): this one stops without sending anything (two runs at "
            "once could send a reminder twice). The lock is {path}.",
        },
    }
)

DEFAULT_WITHIN = 48 * 3600
LOCK_FILE_NAME = "remind.lock"
# Timeline note on each consultation reminded (notes are ledger data, in its working language: French).
NOTE_REMINDED = "rappel envoyé par e-mail au praticien (échéance {deadline})"

# A practitioner's outcome in a run.
SENT = "sent"  # the server accepted the email; its reminders are recorded
WOULD_SEND = "would_send"  # --dry-run: the email shown, nothing sent nor recorded
ALREADY_SENT = "already_sent"  # everything due was reminded by an earlier run: nothing to send
NO_EMAIL = "no_email"  # no address in the ledger: a person must add one (link RPPS --email)
REFUSED = "refused"  # the server refused this email (its answer in `error`); retried next run
NOT_SENT = "not_sent"  # the connection dropped before this email's turn; retried next run
OUTCOMES = (SENT, WOULD_SEND, ALREADY_SENT, NO_EMAIL, REFUSED, NOT_SENT)


class Refusal(TypedDict):
    """Why the mail server refused one reminder (in the report and in `remind --json`)."""

    code: int | None  # the SMTP code; None when the server gave none
    temporary: bool  # a 4xx answer: the next run tries again
    reason: str  # the server's words


@dataclass
class PractitionerReminder:
    rpps: str
    name: str | None
    email: str | None
    lang: str
    lines: list[reminder_mail.Line] = field(default_factory=list)  # due and not reminded yet
    already: list[reminder_mail.Line] = field(default_factory=list)  # due, reminded by an earlier run
    outcome: str = NOT_SENT
    subject: str | None = None
    body: str | None = None
    message_id: str | None = None
    error: Refusal | None = None

    @property
    def needs_person(self) -> bool:
        """Nothing the next run can fix by itself: no address, or a permanent refusal (5xx)."""
        return self.outcome == NO_EMAIL or (self.outcome == REFUSED and not (self.error is not None and self.error["temporary"]))


@dataclass
class RemindReport:
    now: int
    within: int
    rpps: str | None = None
    dry_run: bool = False
    refresh: str = "done"  # "done", "busy" (a reconcile held the lock: the ledger as it leaves it), "skipped"
    refreshed_changes: int = 0
    unavailable: list[Unavailable] = field(default_factory=list)  # accounts not read
    practitioners: list[PractitionerReminder] = field(default_factory=list)
    stopped: MailUnavailable | None = None  # the connection dropped mid-way

    def count(self, outcome: str) -> int:
        return sum(1 for p in self.practitioners if p.outcome == outcome)

    @property
    def incomplete(self) -> bool:
        """Something due was not sent for a reason the next run may overcome (exit 6)."""
        return self.stopped is not None or any(
            p.outcome == NOT_SENT or (p.outcome == REFUSED and not p.needs_person) for p in self.practitioners
        )

    @property
    def needs_action(self) -> bool:
        """A practitioner cannot be reminded until a person acts (exit 8)."""
        return any(p.needs_person for p in self.practitioners)


def disputes_due(ctx: Context, *, after: int, until: int, rpps: str | None = None) -> list[dict[str, Any]]:
    """Disputes waiting for the practitioner's answer whose deadline (`due_by`) falls in (after, until], as rows
    with consultation_id, rpps, scheduled_at, amount_cents, currency, due_by (one ledger query); their reminders
    follow the holds' path (kind "dispute", the deadline being `due_by`)."""
    from sarapay import statuses

    return [
        row
        for row in ctx.ledger.list_disputes(rpps=rpps, statuses=sorted(statuses.DISPUTE_NEEDS_RESPONSE))
        if row.get("due_by") is not None and after < int(row["due_by"]) <= until
    ]


def _hold_line(row: Consultation) -> reminder_mail.Line:
    return reminder_mail.Line(
        kind=reminder_mail.HOLD, consultation_id=row.id, scheduled_at=row.scheduled_at,
        amount_cents=int(row.authorised_cents), currency=row.currency or "eur", deadline=int(row.capture_before or 0),
    )


def _dispute_line(row: dict[str, Any]) -> reminder_mail.Line:
    return reminder_mail.Line(
        kind=reminder_mail.DISPUTE, consultation_id=row["consultation_id"], scheduled_at=row["scheduled_at"],
        amount_cents=int(row["amount_cents"]), currency=row.get("currency") or "eur", deadline=int(row["due_by"]),
    )


def _key(line: reminder_mail.Line) -> tuple[str, str, int]:
    return (line.consultation_id, line.kind, line.deadline)


def remind(
    ctx: Context,
    *,
    within: int = DEFAULT_WITHIN,
    rpps: str | None = None,
    dry_run: bool = False,
    refresh_first: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> RemindReport:
    from sarapay.services import reconcile

    with ctx.audited("remind", rpps) as entry:
        if rpps is not None:
            rpps = entry.target = require_practitioner(ctx, rpps).rpps
        smtp, password = (None, None) if dry_run else credentials.resolve_smtp()  # exit 4 before anything else
        with reconcile.run_lock(LOCK_FILE_NAME, "remind.busy", ctx=ctx):
            report = RemindReport(now=refresh.now(), within=within, rpps=rpps, dry_run=dry_run)
            if not refresh_first:
                report.refresh = "skipped"
            else:
                try:
                    fresh = reconcile.refresh_open(ctx, rpps=rpps, progress=progress)
                except reconcile.Busy:
                    report.refresh = "busy"
                else:
                    report.refreshed_changes, report.unavailable = len(fresh.changes), fresh.unavailable
            report.now = refresh.stripe_now(ctx)
            _collect(ctx, report)
            if dry_run:
                _compose_all(report)
                entry.outcome = "dry_run"
            else:
                assert smtp is not None  # resolved above: this is not a dry run
                _send_all(ctx, report, smtp, password)
                if report.incomplete or report.count(REFUSED):
                    entry.outcome = "error"
        entry.detail = " ".join(f"{outcome}={report.count(outcome)}" for outcome in OUTCOMES if report.count(outcome))
        # An hourly cron that found nothing new to send changed nothing: no audit row for it (errors always have one).
        entry.record = any(p.outcome != ALREADY_SENT for p in report.practitioners)
        return report


def _collect(ctx: Context, report: RemindReport) -> None:
    """Who gets what: due items, grouped by practitioner, split into new and already reminded."""
    ledger = ctx.ledger
    after, until = report.now, report.now + report.within
    due = [(row.rpps, _hold_line(row)) for row in ledger.holds_due(after=after, until=until, rpps=report.rpps)]
    due += [(row["rpps"], _dispute_line(row)) for row in disputes_due(ctx, after=after, until=until, rpps=report.rpps)]
    if not due:
        return
    sent = ledger.sent_reminders(line.consultation_id for _, line in due)
    by_rpps: dict[str, PractitionerReminder] = {}
    for rpps, line in sorted(due, key=lambda item: (item[1].deadline, item[1].kind, item[1].consultation_id)):
        reminder = by_rpps.get(rpps)
        if reminder is None:
            known = ledger.get_practitioner(rpps)
            reminder = by_rpps[rpps] = PractitionerReminder(
                rpps=rpps, name=known.name if known else None, email=known.email if known else None,
                lang=(known.lang if known else None) or "fr",
            )
        (reminder.already if _key(line) in sent else reminder.lines).append(line)
    for reminder in sorted(by_rpps.values(), key=lambda r: r.rpps):
        if not reminder.lines:
            reminder.outcome = ALREADY_SENT
        elif not reminder.email:
            reminder.outcome = NO_EMAIL
        report.practitioners.append(reminder)


def _to_send(report: RemindReport) -> list[PractitionerReminder]:
    return [p for p in report.practitioners if p.lines and p.email]


def _compose(reminder: PractitionerReminder, sender: str, now: datetime) -> EmailMessage:
    message = reminder_mail.build_message(
        reminder.lines, lang=reminder.lang, name=reminder.name, to=reminder.email or "", sender=sender, now=now,
    )
    reminder.subject = str(message["Subject"])
    reminder.body = message.get_content()
    reminder.message_id = str(message["Message-ID"])
    return message


def _compose_all(report: RemindReport) -> None:
    """--dry-run: the emails as they would leave (the configured sender, or a placeholder when none is set)."""
    sender = settings.load_smtp().sender or "sarapay@expediteur.invalid"
    now = datetime.now(timezone.utc)
    for reminder in _to_send(report):
        _compose(reminder, sender, now)
        reminder.outcome = WOULD_SEND


def _send_all(ctx: Context, report: RemindReport, smtp: settings.SmtpSettings, password: credentials.SmtpPassword | None) -> None:
    from sarapay.mail_gateway import Mailer, MessageNotSent

    pending = _to_send(report)
    if not pending:
        return  # nothing to send: no connection, so no failure of a server that had nothing to do
    sender = smtp.sender
    assert sender is not None  # credentials.resolve_smtp refuses mail settings without a sender
    mailer = Mailer(smtp, password)
    mailer.open()  # ConfigError / MailUnavailable: nothing sent, nothing recorded
    try:
        for index, reminder in enumerate(pending):
            message = _compose(reminder, sender, datetime.now(timezone.utc))
            try:
                mailer.send(message)
            except MessageNotSent as exc:
                reminder.outcome = REFUSED
                reminder.error = {"code": exc.code, "temporary": exc.temporary, "reason": exc.reason}
                continue
            except MailUnavailable as exc:
                report.stopped = exc
                for rest in pending[index:]:
                    rest.outcome = NOT_SENT
                break
            # Accepted: recorded now, before the next message, so a crash later cannot make it go twice.
            ctx.ledger.record_reminders(
                [{"consultation_id": line.consultation_id, "kind": line.kind, "deadline": line.deadline, "rpps": reminder.rpps,
                  "note": NOTE_REMINDED.format(deadline=timefmt.format_when(line.deadline, "fr"))}
                 for line in reminder.lines],
                message_id=reminder.message_id,
            )
            reminder.outcome = SENT
    finally:
        mailer.close()


# --------------------------------------------------------------------------- machine output


class LineDocument(TypedDict):
    kind: str
    consultation_id: str
    scheduled_at: str
    amount_cents: int
    currency: str
    deadline: str  # ISO 8601 UTC


class AccountDocument(TypedDict):
    account_id: str
    rpps: str
    code: str  # the message key


class StoppedDocument(TypedDict):
    code: str
    message: str


class PractitionerDocument(TypedDict):
    rpps: str
    email: str | None
    lang: str
    outcome: str
    reminders: list[LineDocument]
    already_sent: list[LineDocument]
    message_id: str | None
    subject: str | None
    body: str | None
    error: Refusal | None


class ReportDocument(TypedDict):
    """`remind --json`."""

    now: str
    within_seconds: int
    practitioner: str | None
    dry_run: bool
    refresh: str
    refreshed_changes: int
    unavailable: list[AccountDocument]
    counts: dict[str, int]  # by outcome (OUTCOMES)
    complete: bool
    needs_action: bool
    stopped: StoppedDocument | None
    practitioners: list[PractitionerDocument]


def _line_document(line: reminder_mail.Line) -> LineDocument:
    return {
        "kind": line.kind, "consultation_id": line.consultation_id, "scheduled_at": line.scheduled_at,
        "amount_cents": line.amount_cents, "currency": line.currency, "deadline": timefmt.iso_utc(line.deadline),
    }


def report_document(report: RemindReport) -> ReportDocument:
    """The run as one language-independent JSON document: stable keys, cents, ISO 8601 UTC."""
    return {
        "now": timefmt.iso_utc(report.now),
        "within_seconds": report.within,
        "practitioner": report.rpps,
        "dry_run": report.dry_run,
        "refresh": report.refresh,
        "refreshed_changes": report.refreshed_changes,
        "unavailable": [{"account_id": u.account_id, "rpps": u.rpps, "code": u.code} for u in report.unavailable],
        "counts": {outcome: report.count(outcome) for outcome in OUTCOMES},
        "complete": not report.incomplete,
        "needs_action": report.needs_action,
        "stopped": None if report.stopped is None else {"code": report.stopped.key, "message": report.stopped.message},
        "practitioners": [
            {
                "rpps": p.rpps,
                "email": p.email,
                "lang": p.lang,
                "outcome": p.outcome,
                "reminders": [_line_document(line) for line in p.lines],
                "already_sent": [_line_document(line) for line in p.already],
                "message_id": p.message_id if p.outcome in (SENT, WOULD_SEND) else None,
                "subject": p.subject,
                "body": p.body if report.dry_run else None,
                "error": p.error,
            }
            for p in report.practitioners
        ],
    }
