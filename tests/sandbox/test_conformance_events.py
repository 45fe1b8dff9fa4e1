"""Conformance: events of the manual-capture flow and the events list (stripe.md §2 "Events", §10)."""

from __future__ import annotations

import pytest
import stripe

from .helpers import DAY, acct, authorise, capture, client, create_session, event_types  # noqa: F401

AUTH_EVENTS = {
    "payment_intent.created",
    "charge.succeeded",
    "payment_intent.amount_capturable_updated",
    "checkout.session.completed",
}


def test_authorisation_emits_the_four_checkout_events(sandbox, client, acct):
    authorise(sandbox, client, acct)
    assert AUTH_EVENTS <= set(event_types(client, acct))


def test_capture_emits_charge_captured_and_payment_intent_succeeded(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    before = set(event_types(client, acct))
    assert "charge.captured" not in before and "payment_intent.succeeded" not in before
    capture(client, acct, auth.pi_id)
    after = event_types(client, acct)
    assert after.count("charge.captured") == 1
    assert after.count("payment_intent.succeeded") == 1


def test_cancel_emits_payment_intent_canceled(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    client.v1.payment_intents.cancel(auth.pi_id, options={"stripe_account": acct})
    assert "payment_intent.canceled" in event_types(client, acct)


def test_expire_emits_checkout_session_expired(sandbox, client, acct):
    session = create_session(client, acct)
    client.v1.checkout.sessions.expire(session.id, options={"stripe_account": acct})
    assert "checkout.session.expired" in event_types(client, acct)


def test_events_are_listed_newest_first(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    events = client.v1.events.list(params={"limit": 100}, options={"stripe_account": acct}).data
    created = [e.created for e in events]
    assert created == sorted(created, reverse=True)
    types = [e.type for e in events]
    assert types.index("payment_intent.succeeded") < types.index("payment_intent.created")


def test_event_shape_carries_the_object_snapshot(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    events = client.v1.events.list(
        params={"type": "payment_intent.succeeded"}, options={"stripe_account": acct}
    ).data
    assert len(events) == 1
    event = events[0]
    assert event.object == "event"
    assert event.id.startswith("evt_")
    assert event.livemode is False
    assert isinstance(event.created, int)
    obj = event.data.object
    assert obj.object == "payment_intent"
    assert obj.id == auth.pi_id
    assert obj.status == "succeeded"
    assert obj.amount_received == 2500


def test_events_type_filter_returns_only_that_type(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    assert event_types(client, acct, type="charge.captured") == ["charge.captured"]


def test_events_type_wildcard_matches_the_prefix(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    types = event_types(client, acct, type="payment_intent.*")
    assert types and all(t.startswith("payment_intent.") for t in types)
    assert {"payment_intent.created", "payment_intent.succeeded"} <= set(types)


def test_events_types_array_filter(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    types = event_types(client, acct, types=["charge.captured", "checkout.session.completed"])
    assert sorted(types) == ["charge.captured", "checkout.session.completed"]


def test_connected_account_events_are_not_listed_for_the_platform(sandbox, client, acct):
    authorise(sandbox, client, acct)
    platform_types = event_types(client, None)
    assert not (AUTH_EVENTS & set(platform_types))


def test_hold_expiry_emits_charge_expired_and_payment_intent_canceled(sandbox, client, acct):
    authorise(sandbox, client, acct)
    sandbox.advance(7 * DAY + 60)
    types = event_types(client, acct)
    assert "charge.expired" in types
    assert "payment_intent.canceled" in types


def test_api_triggered_event_carries_the_request_and_its_idempotency_key(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id, key="cap-evt")
    event = client.v1.events.list(params={"type": "charge.captured"}, options={"stripe_account": acct}).data[0]
    assert event.request.id.startswith("req_")
    assert event.request.idempotency_key == "cap-evt"


def test_events_created_gte_filter(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    now = sandbox.advance(3600)
    capture(client, acct, auth.pi_id)
    types = event_types(client, acct, created={"gte": now})
    assert "charge.captured" in types
    assert "payment_intent.created" not in types


def test_type_and_types_together_are_refused(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.events.list(
            params={"type": "charge.captured", "types": ["charge.succeeded"]}, options={"stripe_account": acct}
        )
    assert info.value.http_status == 400



def test_events_older_than_30_days_are_not_listed(sandbox, client, acct):
    # stripe.md §10: GET /v1/events has up to 30 days of history.
    authorise(sandbox, client, acct)
    sandbox.advance(31 * DAY)
    types = event_types(client, acct)
    assert not (AUTH_EVENTS & set(types))
