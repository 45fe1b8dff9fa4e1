"""Conformance: the sandbox clock and what falls due when it moves (docs/sandbox.md; stripe.md §1 "Authorization expiry")."""

from __future__ import annotations

import time

import pytest
import stripe

from sarapay.sandbox_control import SandboxControlError

from .helpers import DAY, acct, authorise, capture, client, create_session, raw, retrieve_pi  # noqa: F401


def test_clock_starts_at_real_time_after_reset(sandbox):
    assert abs(sandbox.now() - time.time()) < 5


def test_advance_moves_the_clock_by_the_given_seconds(sandbox):
    before = sandbox.now()
    after = sandbox.advance(3600)
    assert 3600 <= after - before <= 3605
    assert abs(sandbox.now() - after) <= 2


def test_date_header_is_the_sandbox_clock_in_rfc_7231_form(sandbox):
    """Stripe's `Date` is Stripe's time: clients read deadlines against it, so it follows `advance`."""
    import re
    from email.utils import parsedate_to_datetime

    now = sandbox.advance(8 * DAY)
    for method, path, key in (("GET", "/v1/balance", "sk_test_sarapayTests0000"), ("GET", "/v1/nowhere", None)):
        date = raw(sandbox.url, method, path, key=key).headers["Date"]
        assert re.fullmatch(r"[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT", date), date
        assert abs(parsedate_to_datetime(date).timestamp() - now) <= 2


def test_negative_advance_is_refused(sandbox):
    with pytest.raises(SandboxControlError) as info:
        sandbox.advance(-10)
    assert info.value.status == 400


def test_objects_are_created_at_the_sandbox_time(sandbox, client, acct):
    now = sandbox.advance(10 * DAY)
    session = create_session(client, acct)
    assert abs(session.created - now) <= 2


def test_hold_is_still_capturable_just_before_seven_days(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(7 * DAY - 120)
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"
    assert capture(client, acct, auth.pi_id).status == "succeeded"


def test_hold_expires_after_seven_days_and_the_intent_is_canceled_automatically(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(7 * DAY + 60)
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert pi.status == "canceled"
    # stripe.md §1: `automatic` in older versions, `expired` in the SDK 16 enum; both are Stripe's.
    assert pi.cancellation_reason in ("automatic", "expired")
    assert pi.amount_capturable == 0


def test_capture_after_the_hold_expired_fails_with_status_canceled(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(7 * DAY + 60)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id)
    assert info.value.http_status == 400
    assert info.value.code == "payment_intent_unexpected_state"
    assert "status of canceled" in info.value.error.message


def test_open_session_expires_at_its_default_24_hours(sandbox, client, acct):
    session = create_session(client, acct)
    sandbox.advance(DAY - 60)
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).status == "open"
    sandbox.advance(120)
    expired = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct})
    assert expired.status == "expired"
    assert expired.url is None


def test_timed_out_session_emits_checkout_session_expired(sandbox, client, acct):
    create_session(client, acct)
    sandbox.advance(DAY + 60)
    types = [e.type for e in client.v1.events.list(options={"stripe_account": acct}).data]
    assert "checkout.session.expired" in types


def test_complete_session_does_not_expire_with_time(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(DAY + 60)
    session = client.v1.checkout.sessions.retrieve(auth.session_id, options={"stripe_account": acct})
    assert session.status == "complete"
