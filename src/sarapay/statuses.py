"""The payment states of a consultation, defined once: codes, labels, and how Stripe objects map to them.

The state is decided from the PaymentIntent (and its charge), never from the Checkout Session's
`payment_status`; the session only speaks when there is no PaymentIntent to ask, or to tell a link
that ran out from a PaymentIntent that never got a card. Inputs are the plain dicts Stripe returns.

Money after a partial capture: Stripe releases the uncaptured remainder (amount − amount_captured) as
a refund on the charge, so `amount_refunded` includes it. That release is not money returned to the
patient: refunds after capture = amount_refunded − (amount − amount_captured).

Disputes: a captured payment the patient disputes with their bank is « Contesté » while a chargeback holds
its funds (Stripe's dispute `needs_response`, `under_review`), « Contestation perdue » once the bank decided
for the patient (`lost`); a won dispute (`won`) and an inquiry that moves no money (`warning_*`) leave the
payment in the state its PaymentIntent and charge say (`with_dispute`, the one rule; refresh, reconcile and
a webhook receiver all ask here).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, TypedDict

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

NO_ONLINE_PAYMENT = "no_online_payment"
INCOMPLETE = "incomplete"
UNCAPTURED = "uncaptured"
SUCCEEDED = "succeeded"
CANCELED = "canceled"
EXPIRED = "expired"
REFUNDED = "refunded"
PARTIALLY_REFUNDED = "partially_refunded"
DISPUTED = "disputed"
DISPUTE_LOST = "dispute_lost"

_LABELS: dict[str, dict[str, str]] = {
    NO_ONLINE_PAYMENT: {"fr": "Sans paiement en ligne", "en": "No online payment"},
    INCOMPLETE: {"fr": "Incomplet", "en": "Incomplete"},
    UNCAPTURED: {"fr": "Non capturé", "en": "Uncaptured"},
    SUCCEEDED: {"fr": "Réussi", "en": "Succeeded"},
    CANCELED: {"fr": "Annulé", "en": "Canceled"},
    EXPIRED: {"fr": "Expiré", "en": "Expired"},
    REFUNDED: {"fr": "Remboursé", "en": "Refunded"},
    PARTIALLY_REFUNDED: {"fr": "Remboursé partiellement", "en": "Partially refunded"},
    DISPUTED: {"fr": "Contesté", "en": "Disputed"},
    DISPUTE_LOST: {"fr": "Contestation perdue", "en": "Dispute lost"},
}
CODES: tuple[str, ...] = tuple(_LABELS)

# Neither the patient's Checkout nor a hold's deadline can change these any more; only a person can (a
# refund), or the patient's bank (a dispute, which reconcile follows through each account's list of disputes,
# not through its Checkout Sessions). Reconcile polls the others through their sessions.
FINAL_STATES = frozenset(
    {NO_ONLINE_PAYMENT, SUCCEEDED, CANCELED, EXPIRED, REFUNDED, PARTIALLY_REFUNDED, DISPUTED, DISPUTE_LOST}
)
# A payment whose money was taken: the states a dispute can move it between.
CAPTURED_STATES = frozenset({SUCCEEDED, PARTIALLY_REFUNDED, REFUNDED, DISPUTED, DISPUTE_LOST})

# Stripe's dispute statuses (the Dispute object). A chargeback withdraws the funds at once and keeps them
# until the bank decides; an inquiry (`warning_*`) moves no money. `prevented` never reached the payment.
DISPUTE_HOLDS_FUNDS = frozenset({"needs_response", "under_review"})
DISPUTE_LOST_STATUS = "lost"
DISPUTE_NEEDS_RESPONSE = frozenset({"needs_response", "warning_needs_response"})
DISPUTE_OPEN = frozenset({"needs_response", "warning_needs_response", "under_review", "warning_under_review"})

# cancellation_reason values Stripe sets when a hold runs out: `automatic` (older API versions), `expired`.
_EXPIRY_REASONS = frozenset({"automatic", "expired"})

i18n.register({f"status.{code}": texts for code, texts in _LABELS.items()})
i18n.register(
    {
        "status.unknown": {
            "fr": "État « {value} » inconnu : choisissez parmi {codes}.",
            "en": "Unknown state “{value}”: choose one of {codes}.",
        },
    }
)


def label(code: str, lang: str | None = None) -> str:
    """The portal's label for a state code (`uncaptured` → « Non capturé »), in `lang` or the current language."""
    try:
        texts = _LABELS[code]
    except KeyError:
        raise ValueError(f"unknown state code {code!r}") from None
    return texts[lang or i18n.get_lang()]


def _folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[\s_\-]+", " ", plain).strip()


_BY_NAME = {_folded(name): code for code, texts in _LABELS.items() for name in (code, *texts.values())}


def parse_state(text: str) -> str:
    """A state code from a code or a label in either language, case and accents ignored (`non capture`)."""
    raw = clean(text)
    code = _BY_NAME.get(_folded(raw))
    if code is None:
        raise BadInput("status.unknown", value=shown(raw), codes=", ".join(CODES))
    return code


def _charge_of(payment_intent: dict[str, Any] | None, charge: dict[str, Any] | None) -> dict[str, Any] | None:
    if charge is not None:
        return charge
    latest = (payment_intent or {}).get("latest_charge")
    return latest if isinstance(latest, dict) else None


def capture_deadline(payment_intent: dict[str, Any] | None, charge: dict[str, Any] | None = None) -> int | None:
    """The hold's `capture_before` (Unix seconds) from the charge, or None when unknown."""
    ch = _charge_of(payment_intent, charge)
    card = (((ch or {}).get("payment_method_details") or {}).get("card")) or {}
    deadline = card.get("capture_before")
    return int(deadline) if deadline is not None else None


def after_capture(captured: int, refunded: int) -> str:
    """The state of a captured payment from its amounts alone (no dispute): « Réussi », « Remboursé
    partiellement » or « Remboursé »."""
    if refunded <= 0:
        return SUCCEEDED
    return REFUNDED if refunded >= captured else PARTIALLY_REFUNDED


def with_dispute(state: str, dispute_status: str | None) -> str:
    """The state once the payment's latest dispute is taken into account. `state` is what the PaymentIntent
    and charge say (or the ledger's state); a state without captured money is left alone (Stripe disputes
    only captured charges). A dispute that no longer holds the funds gives the payment back its state
    without the dispute: pass that state (`after_capture`) rather than « Contesté »."""
    if state not in CAPTURED_STATES or dispute_status is None:
        return state
    if dispute_status in DISPUTE_HOLDS_FUNDS:
        return DISPUTED
    if dispute_status == DISPUTE_LOST_STATUS:
        return DISPUTE_LOST
    return state


def state_with_dispute(state: str, *, captured: int, refunded: int, dispute_status: str | None) -> str:
    """`with_dispute` from what the ledger knows (no PaymentIntent at hand): a captured payment's state
    without the dispute comes from its amounts, so a won dispute returns it to « Réussi » (or « Remboursé
    partiellement »)."""
    if state not in CAPTURED_STATES:
        return state
    return with_dispute(after_capture(captured, refunded), dispute_status)


class Amounts(TypedDict):
    """A payment's amounts in cents, as Stripe's objects say them (amounts_from)."""

    authorised: int
    captured: int
    refunded: int  # money returned after capture only


def amounts_from(payment_intent: dict[str, Any] | None, charge: dict[str, Any] | None = None) -> Amounts:
    """`{"authorised", "captured", "refunded"}` in cents; refunded counts money returned after capture only."""
    pi = payment_intent or {}
    ch = _charge_of(payment_intent, charge)
    if ch is not None and (ch.get("paid") or ch.get("status") == "succeeded"):
        authorised = int(ch.get("amount") or 0)
        captured = int(ch.get("amount_captured") or 0)
        released = authorised - captured  # the uncaptured remainder, released, not refunded
        refunded = int(ch.get("amount_refunded") or 0) - released
        return {"authorised": authorised, "captured": captured, "refunded": min(max(refunded, 0), captured)}
    status = pi.get("status")
    if status == "requires_capture":
        return {"authorised": int(pi.get("amount_capturable") or 0), "captured": 0, "refunded": 0}
    if status == "succeeded":
        return {"authorised": int(pi.get("amount") or 0), "captured": int(pi.get("amount_received") or 0), "refunded": 0}
    return {"authorised": 0, "captured": 0, "refunded": 0}


def closed_on_purpose(session: dict[str, Any] | None, expired_event: dict[str, Any] | None = None, *, known: bool = False) -> bool:
    """Whether an expired Checkout Session was closed on purpose (« Annulé ») rather than run out (« Expiré »).
    The one rule: refresh, reconcile and sync all ask here.

    Closed on purpose = expired before its time: through the API (sarapay's own cancel or pay-link, another
    program) or the practitioner's dashboard. The session object cannot tell: `expire` leaves `expires_at`
    as it was (API reference, "Expire a Checkout Session", example response) and the object has no time
    of expiry; comparing `expires_at` with sarapay's clock would not do either (it is not Stripe's).
    Its `checkout.session.expired` event can: `request.id` is the "ID of the API request that caused the
    event. If null, the event was automatic" (API reference, the Event object), and `created` is when it
    happened, by Stripe's clock, to compare with `expires_at`. Without the event (not fetched, or past
    Stripe's 30 days of events), `known` stands: what the ledger already knows about this session (sarapay
    closed it itself, or an earlier look at its event said so). A session that is not expired: False.
    """
    if (session or {}).get("status") != "expired":
        return False
    if expired_event is None:
        return known
    by_request = bool((expired_event.get("request") or {}).get("id"))
    expires_at = (session or {}).get("expires_at")
    early = expires_at is not None and int(expired_event.get("created") or 0) < int(expires_at)
    return by_request or early


def derive_state(
    *,
    paid_online: bool,
    session: dict[str, Any] | None,
    payment_intent: dict[str, Any] | None,
    charge: dict[str, Any] | None,
    now: int,
    closed_on_purpose: bool = False,
    dispute_status: str | None = None,
) -> str:
    """The state code of a consultation from its latest Checkout Session, PaymentIntent and charge.

    `closed_on_purpose`: the session was closed before its time (see `closed_on_purpose()`, which decides
    it), so an expired session means « Annulé », not « Expiré ». `now` (Unix seconds) spots a hold or link
    past its deadline that Stripe has not closed yet. `dispute_status`: the status of the charge's latest
    dispute, if any (see `with_dispute`).
    """
    if not paid_online:
        return NO_ONLINE_PAYMENT
    session_status = (session or {}).get("status")
    if payment_intent is not None:
        pi_status = payment_intent.get("status")
        ch = _charge_of(payment_intent, charge)
        if pi_status == "requires_capture" and int(payment_intent.get("amount_capturable") or 0) > 0:
            deadline = capture_deadline(payment_intent, ch)
            return EXPIRED if deadline is not None and now >= deadline else UNCAPTURED
        if pi_status == "succeeded":
            amounts = amounts_from(payment_intent, ch)
            return with_dispute(after_capture(amounts["captured"], amounts["refunded"]), dispute_status)
        if pi_status == "canceled":
            if payment_intent.get("cancellation_reason") in _EXPIRY_REASONS:
                return EXPIRED
            # A session expires only before payment: the PaymentIntent never held money, the link ran out.
            if session_status == "expired" and not closed_on_purpose:
                return EXPIRED
            return CANCELED
        # requires_payment_method / requires_action / requires_confirmation / processing: no hold yet;
        # the session says whether the patient can still pay.
    if session is None:
        return INCOMPLETE
    if session_status == "expired":
        return CANCELED if closed_on_purpose else EXPIRED
    if session_status == "open":
        expires_at = session.get("expires_at")
        return EXPIRED if expires_at is not None and now >= int(expires_at) else INCOMPLETE
    if session_status == "complete" and payment_intent is None:
        raise ValueError("a complete Checkout Session needs its PaymentIntent to decide the state")
    return INCOMPLETE


def needs_action(state: str, *, capture_before: int | None, now: int, warn_within: int) -> bool:
    """True for a hold still to capture whose deadline is within `warn_within` seconds (or past)."""
    return state == UNCAPTURED and capture_before is not None and capture_before - now <= warn_within


def dispute_needs_answer(dispute_status: str | None, *, due_by: int | None, now: int, warn_within: int) -> bool:
    """True for a dispute still waiting for the practitioner's answer whose deadline is within `warn_within`
    seconds (or past: Stripe has not decided it yet)."""
    if dispute_status not in DISPUTE_NEEDS_RESPONSE or not due_by:
        return False
    return int(due_by) - now <= warn_within
