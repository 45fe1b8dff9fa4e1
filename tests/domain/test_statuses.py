"""statuses.py: state codes, labels, and the mapping from Stripe objects (payloads shaped as in stripe.md)."""

from __future__ import annotations

import pytest

from sarapay import statuses
from sarapay.errors import BadInput
from sarapay.statuses import (
    FINAL_STATES,
    amounts_from,
    capture_deadline,
    derive_state,
    label,
    needs_action,
    parse_state,
)

NOW = 1_780_000_000
HOUR = 3600
DEADLINE = NOW + 5 * 24 * HOUR


def session(status="complete", expires_at=NOW + 20 * HOUR, payment_status="unpaid"):
    return {"id": "cs_test_1", "object": "checkout.session", "status": status, "expires_at": expires_at, "payment_status": payment_status}


def pi(status, amount=2500, capturable=0, received=0, reason=None, latest_charge="ch_1"):
    return {
        "id": "pi_1",
        "object": "payment_intent",
        "status": status,
        "amount": amount,
        "amount_capturable": capturable,
        "amount_received": received,
        "cancellation_reason": reason,
        "latest_charge": latest_charge,
    }


def charge(amount=2500, captured=0, refunded=0, paid=True, capture_before=DEADLINE):
    return {
        "id": "ch_1",
        "object": "charge",
        "status": "succeeded" if paid else "failed",
        "paid": paid,
        "amount": amount,
        "captured": captured > 0,
        "amount_captured": captured,
        "amount_refunded": refunded,
        "refunded": refunded == amount,
        "payment_method_details": {"card": {"capture_before": capture_before}},
    }


def state(**kw):
    kw.setdefault("paid_online", True)
    kw.setdefault("session", None)
    kw.setdefault("payment_intent", None)
    kw.setdefault("charge", None)
    kw.setdefault("now", NOW)
    return derive_state(**kw)


# --- labels ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, fr, en",
    [
        ("no_online_payment", "Sans paiement en ligne", "No online payment"),
        ("incomplete", "Incomplet", "Incomplete"),
        ("uncaptured", "Non capturé", "Uncaptured"),
        ("succeeded", "Réussi", "Succeeded"),
        ("canceled", "Annulé", "Canceled"),
        ("expired", "Expiré", "Expired"),
        ("refunded", "Remboursé", "Refunded"),
        ("partially_refunded", "Remboursé partiellement", "Partially refunded"),
        ("disputed", "Contesté", "Disputed"),
        ("dispute_lost", "Contestation perdue", "Dispute lost"),
    ],
)
def test_labels(code, fr, en, lang):
    assert label(code, "fr") == fr
    assert label(code, "en") == en
    lang("en")
    assert label(code) == en
    assert parse_state(code) == code
    assert parse_state(fr) == code
    assert parse_state(en.upper()) == code


def test_codes_are_the_ten_of_the_product():
    assert statuses.CODES == (
        "no_online_payment", "incomplete", "uncaptured", "succeeded", "canceled", "expired", "refunded", "partially_refunded",
        "disputed", "dispute_lost",
    )


def test_unknown_code():
    with pytest.raises(ValueError):
        label("paid", "fr")


@pytest.mark.parametrize("text, code", [("non capture", "uncaptured"), ("NON-CAPTURÉ", "uncaptured"), ("  reussi ", "succeeded"), ("partially-refunded", "partially_refunded"), ("rembourse partiellement", "partially_refunded")])
def test_parse_state_is_lenient_on_case_accents_and_separators(text, code):
    assert parse_state(text) == code


def test_parse_state_refuses_with_the_list(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        parse_state("payé")
    assert caught.value.key == "status.unknown"
    assert caught.value.message.startswith("État « payé » inconnu : choisissez parmi no_online_payment, incomplete,")


# --- derive_state ---------------------------------------------------------------------------------


def test_planned_without_online_payment():
    assert state(paid_online=False) == "no_online_payment"
    assert state(paid_online=False, payment_intent=pi("succeeded", received=2500)) == "no_online_payment"


@pytest.mark.parametrize(
    "kw, expected",
    [
        # no PaymentIntent yet: the session speaks
        ({}, "incomplete"),
        ({"session": session("open")}, "incomplete"),
        ({"session": session("open", expires_at=NOW)}, "expired"),  # past its deadline, not closed yet
        ({"session": session("open", expires_at=NOW + 1)}, "incomplete"),
        ({"session": session("expired")}, "expired"),
        ({"session": session("expired"), "closed_on_purpose": True}, "canceled"),
        # the patient is on it, or was declined
        ({"session": session("open"), "payment_intent": pi("requires_payment_method")}, "incomplete"),
        ({"session": session("open"), "payment_intent": pi("requires_action")}, "incomplete"),
        ({"session": session("open"), "payment_intent": pi("requires_confirmation")}, "incomplete"),
        ({"session": session("complete"), "payment_intent": pi("processing")}, "incomplete"),
        ({"session": session("expired"), "payment_intent": pi("requires_payment_method")}, "expired"),
        ({"session": session("expired"), "payment_intent": pi("requires_payment_method"), "closed_on_purpose": True}, "canceled"),
        # authorised
        ({"session": session("complete", payment_status="unpaid"), "payment_intent": pi("requires_capture", capturable=2500)}, "uncaptured"),
        ({"payment_intent": pi("requires_capture", capturable=2500), "charge": charge()}, "uncaptured"),
        ({"payment_intent": pi("requires_capture", capturable=2500), "charge": charge(capture_before=NOW + 1)}, "uncaptured"),
        ({"payment_intent": pi("requires_capture", capturable=2500), "charge": charge(capture_before=NOW)}, "expired"),
        ({"payment_intent": pi("requires_capture", capturable=2500, latest_charge=charge(capture_before=NOW - 1))}, "expired"),
        # captured
        ({"payment_intent": pi("succeeded", received=2500), "charge": charge(captured=2500)}, "succeeded"),
        ({"payment_intent": pi("succeeded", received=2500)}, "succeeded"),
        # canceled: released on purpose or expired
        ({"session": session("complete"), "payment_intent": pi("canceled", reason=None), "charge": charge(refunded=2500)}, "canceled"),
        ({"session": session("complete"), "payment_intent": pi("canceled", reason="requested_by_customer")}, "canceled"),
        ({"session": session("complete"), "payment_intent": pi("canceled", reason="abandoned")}, "canceled"),
        ({"session": session("complete"), "payment_intent": pi("canceled", reason="automatic")}, "expired"),
        ({"session": session("complete"), "payment_intent": pi("canceled", reason="expired")}, "expired"),
        ({"session": session("expired"), "payment_intent": pi("canceled", reason="abandoned")}, "expired"),
        ({"session": session("expired"), "payment_intent": pi("canceled"), "closed_on_purpose": True}, "canceled"),
    ],
)
def test_derive_state(kw, expected):
    assert state(**kw) == expected


def expired_event(created, request_id=None):
    return {"id": "evt_1", "object": "event", "type": "checkout.session.expired", "created": created,
            "request": {"id": request_id, "idempotency_key": None}, "data": {"object": {"id": "cs_test_1"}}}


EXPIRES = NOW + 20 * HOUR


@pytest.mark.parametrize(
    "event, known, expected",
    [
        (expired_event(NOW, "req_1"), False, True),  # the expire call (API, dashboard), before its time
        (expired_event(EXPIRES + 3 * HOUR, "req_1"), False, True),  # caused by a request, whatever the time
        (expired_event(NOW), False, True),  # no request id, yet before expires_at by Stripe's clock
        (expired_event(EXPIRES), False, False),  # Stripe's clock ran out: « Expiré »
        (expired_event(EXPIRES + DEADLINE), True, False),  # the event wins over a stale ledger
        (None, True, True),  # no event (past 30 days): the ledger's knowledge stands
        (None, False, False),
    ],
)
def test_closed_on_purpose_is_decided_by_the_expiry_event_then_the_ledger(event, known, expected):
    assert statuses.closed_on_purpose(session("expired", expires_at=EXPIRES), event, known=known) is expected


@pytest.mark.parametrize("status", ["open", "complete"])
def test_a_session_that_did_not_expire_was_not_closed_on_purpose(status):
    assert statuses.closed_on_purpose(session(status), expired_event(NOW, "req_1"), known=True) is False
    assert statuses.closed_on_purpose(None, None, known=True) is False


def test_session_payment_status_is_never_used():
    # Checkout says "paid" for an authorised manual-capture session only in some versions: ignored.
    liar = session("complete", payment_status="paid")
    assert state(session=liar, payment_intent=pi("requires_payment_method")) == "incomplete"
    assert state(session=session("complete", payment_status="unpaid"), payment_intent=pi("requires_capture", capturable=2500)) == "uncaptured"


def test_requires_capture_with_nothing_capturable_is_not_a_hold():
    assert state(session=session("complete"), payment_intent=pi("requires_capture", capturable=0)) == "incomplete"


def test_a_complete_session_without_its_payment_intent_is_a_caller_bug():
    with pytest.raises(ValueError):
        state(session=session("complete"))


# Refunds (stripe.md): after a partial capture of X on a hold of A, the charge has amount_captured = X
# and amount_refunded = A − X (the released remainder). Patient refunds R add to amount_refunded.
@pytest.mark.parametrize(
    "hold, captured, amount_refunded, expected_state, expected_refunded",
    [
        (2500, 2500, 0, "succeeded", 0),
        (2500, 2000, 500, "succeeded", 0),  # remainder released, nothing returned to the patient
        (2500, 2000, 1000, "partially_refunded", 500),  # 500 released + 500 refunded
        (2500, 2000, 2500, "refunded", 2000),  # 500 released + 2000 refunded
        (2500, 2500, 1, "partially_refunded", 1),
        (2500, 2500, 2500, "refunded", 2500),
        (2500, 50, 2450, "succeeded", 0),
        (2500, 50, 2500, "refunded", 50),
    ],
)
def test_refunds_after_a_partial_capture(hold, captured, amount_refunded, expected_state, expected_refunded):
    ch = charge(amount=hold, captured=captured, refunded=amount_refunded)
    intent = pi("succeeded", amount=hold, received=captured)
    assert state(payment_intent=intent, charge=ch) == expected_state
    assert amounts_from(intent, ch) == {"authorised": hold, "captured": captured, "refunded": expected_refunded}


def test_charge_is_read_from_an_expanded_latest_charge():
    ch = charge(amount=2500, captured=2000, refunded=1000)
    intent = pi("succeeded", received=2000, latest_charge=ch)
    assert state(payment_intent=intent) == "partially_refunded"
    assert amounts_from(intent) == {"authorised": 2500, "captured": 2000, "refunded": 500}


# --- amounts_from -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "intent, ch, expected",
    [
        (pi("requires_payment_method"), None, {"authorised": 0, "captured": 0, "refunded": 0}),
        (pi("requires_payment_method"), charge(paid=False), {"authorised": 0, "captured": 0, "refunded": 0}),  # declined
        (pi("requires_capture", capturable=2500), None, {"authorised": 2500, "captured": 0, "refunded": 0}),
        (pi("requires_capture", capturable=2500), charge(), {"authorised": 2500, "captured": 0, "refunded": 0}),
        # hold released: the whole amount comes back on the charge, none of it is a refund
        (pi("canceled"), charge(refunded=2500), {"authorised": 2500, "captured": 0, "refunded": 0}),
        (pi("succeeded", received=1800), None, {"authorised": 2500, "captured": 1800, "refunded": 0}),
        (None, None, {"authorised": 0, "captured": 0, "refunded": 0}),
    ],
)
def test_amounts_from(intent, ch, expected):
    assert amounts_from(intent, ch) == expected


def test_capture_deadline():
    assert capture_deadline(pi("requires_capture", capturable=2500), charge()) == DEADLINE
    assert capture_deadline(pi("requires_capture", capturable=2500, latest_charge=charge(capture_before=NOW + 7))) == NOW + 7
    assert capture_deadline(pi("requires_capture", capturable=2500)) is None  # latest_charge not expanded
    assert capture_deadline(None, {"id": "ch_1", "payment_method_details": None}) is None


# --- final states, needs_action ---------------------------------------------------------------------


def test_final_states():
    # The dispute states change with the bank's decision, but reconcile follows them through the disputes list.
    assert FINAL_STATES == {"no_online_payment", "succeeded", "canceled", "expired", "refunded", "partially_refunded",
                            "disputed", "dispute_lost"}
    assert "incomplete" not in FINAL_STATES and "uncaptured" not in FINAL_STATES


@pytest.mark.parametrize(
    "st, capture_before, expected",
    [
        ("uncaptured", NOW + 48 * HOUR, True),  # exactly at the edge
        ("uncaptured", NOW + 48 * HOUR + 1, False),
        ("uncaptured", NOW + HOUR, True),
        ("uncaptured", NOW - HOUR, True),  # past, Stripe has not canceled yet
        ("uncaptured", None, False),
        ("succeeded", NOW + HOUR, False),
        ("incomplete", NOW + HOUR, False),
    ],
)
def test_needs_action(st, capture_before, expected):
    assert needs_action(st, capture_before=capture_before, now=NOW, warn_within=48 * HOUR) is expected


# --- disputes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dispute_status, captured, refunded, expected",
    [
        (None, 2500, 0, "succeeded"),
        ("needs_response", 2500, 0, "disputed"),
        ("under_review", 2000, 500, "disputed"),
        ("lost", 2500, 0, "dispute_lost"),
        ("won", 2500, 0, "succeeded"),  # back to its former state
        ("won", 2500, 500, "partially_refunded"),
        ("warning_needs_response", 2500, 0, "succeeded"),  # an inquiry takes no money
        ("warning_under_review", 2500, 0, "succeeded"),
        ("warning_closed", 2500, 0, "succeeded"),
        ("prevented", 2500, 0, "succeeded"),
    ],
)
def test_a_dispute_on_a_captured_payment(dispute_status, captured, refunded, expected):
    intent = pi("succeeded", received=captured)
    ch = charge(captured=captured, refunded=refunded)
    assert state(payment_intent=intent, charge=ch, dispute_status=dispute_status) == expected
    for before in ("succeeded", "partially_refunded", "disputed", "dispute_lost"):
        assert statuses.state_with_dispute(before, captured=captured, refunded=refunded,
                                           dispute_status=dispute_status) == expected


@pytest.mark.parametrize("before", ["incomplete", "uncaptured", "canceled", "expired", "no_online_payment"])
def test_a_dispute_never_moves_a_payment_without_captured_money(before):
    assert statuses.with_dispute(before, "needs_response") == before
    assert statuses.state_with_dispute(before, captured=0, refunded=0, dispute_status="lost") == before


@pytest.mark.parametrize(
    "dispute_status, due_by, expected",
    [
        ("needs_response", NOW + 48 * HOUR, True),
        ("needs_response", NOW + 48 * HOUR + 1, False),
        ("warning_needs_response", NOW + HOUR, True),
        ("needs_response", NOW - HOUR, True),  # past: Stripe has not decided it yet
        ("under_review", NOW + HOUR, False),  # answered
        ("won", NOW + HOUR, False),
        ("needs_response", None, False),
    ],
)
def test_dispute_needs_answer(dispute_status, due_by, expected):
    assert statuses.dispute_needs_answer(dispute_status, due_by=due_by, now=NOW, warn_within=48 * HOUR) is expected
