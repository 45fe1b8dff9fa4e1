"""The reminder email a practitioner receives: its subject, its plain-text body, the message itself.

What it may say (docs/architecture.md, "Rules every change keeps"): for each item, the consultation id, its date and time, the
amount held (or disputed) and the deadline, plus what to do. Never a patient reference, a patient email,
nor anything medical: the `Line` it is built from has no field for them, so they cannot slip in.

Dates and amounts follow the practitioner's language (French by default: `05/01/2026 14:07`, `25,00 €`,
Paris time), whatever language the person or cron job running `remind` uses. Plain text only: it reads the
same in every mail client and in a terminal (`remind --dry-run`).

`email` is imported inside `build_message`, in the path that sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Sequence

from sarapay import i18n, timefmt
from sarapay.money import format_amount

if TYPE_CHECKING:
    from email.message import EmailMessage

HOLD = "hold"
DISPUTE = "dispute"

i18n.register(
    {
        "remind.mail.subject.holds": {
            "fr": "sarapay : {holds} à capturer avant le {deadline}",
            "en": "sarapay: {holds} to capture before {deadline}",
        },
        "remind.mail.subject.disputes": {
            "fr": "sarapay : {disputes} à traiter avant le {deadline}",
            "en": "sarapay: {disputes} to answer before {deadline}",
        },
        "remind.mail.subject.both": {
            "fr": "sarapay : {holds} à capturer et {disputes} à traiter avant le {deadline}",
            "en": "sarapay: {holds} to capture and {disputes} to answer before {deadline}",
        },
        # Counted words of the subjects, "singular|plural" (no « (s) » in an email).
        "remind.mail.n_holds": {"fr": "{n} empreinte|{n} empreintes", "en": "{n} card hold|{n} card holds"},
        "remind.mail.n_disputes": {
            "fr": "{n} contestation de paiement|{n} contestations de paiement",
            "en": "{n} payment dispute|{n} payment disputes",
        },
        "remind.mail.hello_name": {"fr": "Bonjour {name},", "en": "Hello {name},"},
        "remind.mail.hello": {"fr": "Bonjour,", "en": "Hello,"},
        "remind.mail.holds_intro": {
            "fr": "Ces empreintes bancaires de vos téléconsultations arrivent à échéance. Capturez le montant de chaque "
            "acte réalisé avant l'échéance : passé ce délai, l'empreinte expire et le paiement est perdu.",
            "en": "These card holds for your teleconsultations are about to run out. Capture the amount of each act "
            "performed before the deadline: after it, the hold expires and the payment is lost.",
        },
        "remind.mail.holds_todo": {
            "fr": "Que faire : validez l'acte et capturez depuis le portail, ou demandez au support de le faire :",
            "en": "What to do: validate the act and capture from the portal, or ask the support team to do it:",
        },
        "remind.mail.holds_not_performed": {
            "fr": "Acte non réalisé : libérez l'empreinte (sarapay cancel ID) plutôt que de la laisser expirer.",
            "en": "Act not performed: release the hold (sarapay cancel ID) rather than letting it expire.",
        },
        "remind.mail.disputes_intro": {
            "fr": "Ces paiements sont contestés par la banque du patient. Sans réponse avant l'échéance, la contestation "
            "est perdue et le montant ne vous revient pas.",
            "en": "These payments are disputed by the patient's bank. Without an answer before the deadline, the "
            "dispute is lost and the amount does not come back to you.",
        },
        "remind.mail.disputes_todo": {
            "fr": "Que faire : répondez depuis votre tableau de bord Stripe (Paiements › Litiges), pièces justificatives "
            "sans donnée médicale, ou contactez le support du portail.",
            "en": "What to do: answer from your Stripe dashboard (Payments › Disputes), with evidence that holds no "
            "medical data, or contact the portal's support team.",
        },
        "remind.mail.col.consultation": {"fr": "Consultation", "en": "Consultation"},
        "remind.mail.col.when": {"fr": "Date (Paris)", "en": "Date (Paris)"},
        "remind.mail.col.held": {"fr": "Montant retenu", "en": "Amount held"},
        "remind.mail.col.disputed": {"fr": "Montant contesté", "en": "Amount disputed"},
        "remind.mail.col.capture_before": {"fr": "À capturer avant (Paris)", "en": "Capture before (Paris)"},
        "remind.mail.col.answer_before": {"fr": "Répondre avant (Paris)", "en": "Answer before (Paris)"},
        "remind.mail.footer": {
            "fr": "Message automatique de sarapay (paiement des téléconsultations). Chaque échéance n'est rappelée "
            "qu'une fois ; ce message ne contient aucune donnée de patient.",
            "en": "Automatic message from sarapay (teleconsultation payments). Each deadline is reminded only once; "
            "this message holds no patient data.",
        },
    }
)

@dataclass(frozen=True)
class Line:
    """One item of a reminder: a hold to capture or a dispute to answer. Nothing about the patient."""

    kind: str  # HOLD or DISPUTE
    consultation_id: str
    scheduled_at: str  # ISO 8601 UTC, the consultation's time
    amount_cents: int  # held (hold) or disputed (dispute)
    currency: str
    deadline: int  # Stripe's unix time: capture_before, or the dispute's due_by


def _t(lang: str, key: str, **params: object) -> str:
    return i18n.t_in(lang, key, **params)


def subject(lines: Sequence[Line], lang: str) -> str:
    holds = sum(1 for line in lines if line.kind == HOLD)
    disputes = sum(1 for line in lines if line.kind == DISPUTE)
    deadline = timefmt.format_when(min(line.deadline for line in lines), lang)
    key = "both" if holds and disputes else "holds" if holds else "disputes"
    return _t(lang, f"remind.mail.subject.{key}", holds=i18n.count_in(lang, "remind.mail.n_holds", holds),
              disputes=i18n.count_in(lang, "remind.mail.n_disputes", disputes), deadline=deadline)


def _table(lines: Sequence[Line], lang: str, amount_title: str, deadline_title: str) -> list[str]:
    titles = [_t(lang, "remind.mail.col.consultation"), _t(lang, "remind.mail.col.when"), _t(lang, amount_title),
              _t(lang, deadline_title)]
    rows = [
        [line.consultation_id, timefmt.format_when(datetime.fromisoformat(line.scheduled_at.replace("Z", "+00:00")), lang),
         format_amount(line.amount_cents, lang, line.currency), timefmt.format_when(line.deadline, lang)]
        for line in lines
    ]
    widths = [max(len(row[i]) for row in [titles, *rows]) for i in range(4)]

    def render(row: list[str]) -> str:
        cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3]]
        return "  ".join(cells).rstrip()

    return [render(titles), *(render(row) for row in rows)]


def body(lines: Sequence[Line], *, lang: str, name: str | None = None) -> str:
    """The plain-text body: greeting, the holds to capture, the disputes to answer, what to do."""
    holds = [line for line in lines if line.kind == HOLD]
    disputes = [line for line in lines if line.kind == DISPUTE]
    out = [_t(lang, "remind.mail.hello_name", name=name) if name else _t(lang, "remind.mail.hello"), ""]
    if holds:
        out += [_t(lang, "remind.mail.holds_intro"), ""]
        out += _table(holds, lang, "remind.mail.col.held", "remind.mail.col.capture_before")
        out += ["", _t(lang, "remind.mail.holds_todo")]
        out += [f"  sarapay capture {line.consultation_id}" for line in holds]
        out += [_t(lang, "remind.mail.holds_not_performed"), ""]
    if disputes:
        out += [_t(lang, "remind.mail.disputes_intro"), ""]
        out += _table(disputes, lang, "remind.mail.col.disputed", "remind.mail.col.answer_before")
        out += ["", _t(lang, "remind.mail.disputes_todo"), ""]
    out += ["-- ", _t(lang, "remind.mail.footer")]
    return "\n".join(out) + "\n"


def build_message(
    lines: Sequence[Line], *, lang: str, name: str | None, to: str, sender: str, now: datetime,
) -> EmailMessage:
    """The message to send: From, To, Subject, Date, a Message-ID on the sender's domain, a UTF-8 text body."""
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject(lines, lang)
    message["Date"] = format_datetime(now.astimezone(timefmt.PARIS))
    # The sender's domain, not the machine's name: make_msgid would otherwise ask DNS for it.
    message["Message-ID"] = make_msgid("sarapay", domain=sender.rpartition("@")[2] or "sarapay.invalid")
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-reply loops
    message.set_content(body(lines, lang=lang, name=name), charset="utf-8")
    message["Content-Language"] = lang  # after set_content, which clears every Content-* header
    return message
