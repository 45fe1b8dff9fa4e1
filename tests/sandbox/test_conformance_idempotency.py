"""Conformance: idempotent requests (stripe.md §8, §12.7)."""

from __future__ import annotations

import threading
import time

import pytest
import stripe

from .helpers import (  # noqa: F401
    DECLINED_CARD,
    GOOD_CARD,
    acct,
    authorise,
    capture,
    client,
    create_session,
    raw,
    retrieve_pi,
    session_params,
)

KEY = "sk_test_sarapayTests0000"


def test_replay_returns_the_same_object(sandbox, client, acct):
    first = create_session(client, acct, idempotency_key="create-1")
    second = create_session(client, acct, idempotency_key="create-1")
    assert second.id == first.id
    assert second.to_dict() == first.to_dict()
    assert len(client.v1.checkout.sessions.list(options={"stripe_account": acct}).data) == 1


def test_replay_of_a_capture_returns_the_first_result_without_capturing_again(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    first = capture(client, acct, auth.pi_id, 2000, key="cap-1")
    second = capture(client, acct, auth.pi_id, 2000, key="cap-1")
    assert second.status == "succeeded"
    assert second.amount_received == 2000
    assert second.to_dict() == first.to_dict()
    events = client.v1.events.list(params={"type": "charge.captured"}, options={"stripe_account": acct}).data
    assert len(events) == 1


def test_replay_carries_the_idempotent_replayed_header(sandbox, client, acct):
    body = "amount_to_capture=2000"
    auth = authorise(sandbox, client, acct, 2500)
    path = f"/v1/payment_intents/{auth.pi_id}/capture"
    headers = {"Idempotency-Key": "raw-cap-1"}
    first = raw(sandbox.url, "POST", path, key=KEY, account=acct, data=body, headers=headers)
    second = raw(sandbox.url, "POST", path, key=KEY, account=acct, data=body, headers=headers)
    assert first.status == second.status == 200
    assert second.body == first.body
    assert second.header("Idempotent-Replayed") == "true"
    assert first.header("Idempotent-Replayed") in (None, "false")


def test_errors_are_replayed_with_their_status_and_message(sandbox, client, acct):
    # The first capture fails (state error: the patient's card was declined, nothing to capture); after a
    # good card authorises the intent, the same key still answers the stored 400 and captures nothing.
    session = create_session(client, acct)
    declined = sandbox.pay(session.id, DECLINED_CARD)
    pi_id = declined["payment_intent"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as first:
        capture(client, acct, pi_id, key="cap-early")
    assert first.value.code == "payment_intent_unexpected_state"
    assert "status of requires_payment_method" in first.value.error.message
    assert sandbox.pay(session.id, GOOD_CARD)["outcome"] == "authorized"
    with pytest.raises(stripe.InvalidRequestError) as replay:
        capture(client, acct, pi_id, key="cap-early")
    assert replay.value.http_status == first.value.http_status == 400
    assert replay.value.code == first.value.code
    assert replay.value.error.message == first.value.error.message
    assert retrieve_pi(client, acct, pi_id).status == "requires_capture"
    assert capture(client, acct, pi_id, key="cap-later").status == "succeeded"


def test_replayed_error_body_is_the_stored_snapshot(sandbox, client, acct):
    # stripe.md §8: Stripe stores the status code and body of the first request and replays that result.
    # The embedded `payment_intent` of a replayed error must be the one of the first answer, not the PI now.
    session = create_session(client, acct)
    pi_id = sandbox.pay(session.id, DECLINED_CARD)["payment_intent"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as first:
        capture(client, acct, pi_id, key="cap-early")
    sandbox.pay(session.id, GOOD_CARD)
    with pytest.raises(stripe.InvalidRequestError) as replay:
        capture(client, acct, pi_id, key="cap-early")
    assert replay.value.json_body == first.value.json_body


def test_same_key_with_other_parameters_is_idempotency_error(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, 2000, key="cap-x")
    with pytest.raises(stripe.IdempotencyError) as info:
        capture(client, acct, auth.pi_id, 1500, key="cap-x")
    err = info.value
    assert err.http_status == 400
    assert err.error.type == "idempotency_error"
    assert err.error.message == (
        "Keys for idempotent requests can only be used with the same parameters they were first used with. "
        "Try using a key other than 'cap-x' if you meant to execute a different request."
    )


def test_same_key_on_another_endpoint_is_idempotency_error(sandbox, client, acct):
    create_session(client, acct, idempotency_key="shared-key")
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.IdempotencyError):
        capture(client, acct, auth.pi_id, key="shared-key")
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_validation_failures_are_not_stored(sandbox, client, acct):
    params = session_params()
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.checkout.sessions.create(
            params=params, options={"stripe_account": acct, "idempotency_key": "fix-and-retry"}
        )
    session = create_session(client, acct, idempotency_key="fix-and-retry")
    assert session.status == "open"


def test_concurrent_requests_with_one_key_get_409_idempotency_key_in_use(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    sandbox.fault("latency", 1, latency_ms=1500, method="POST", path=f"/v1/payment_intents/{auth.pi_id}/capture")
    results: dict[str, object] = {}

    def run(name: str) -> None:
        try:
            results[name] = capture(client, acct, auth.pi_id, key="concurrent")
        except stripe.StripeError as exc:
            results[name] = exc

    slow = threading.Thread(target=run, args=("slow",))
    slow.start()
    time.sleep(0.4)
    run("fast")
    slow.join(timeout=10)
    outcomes = list(results.values())
    conflicts = [r for r in outcomes if isinstance(r, stripe.APIError)]
    successes = [r for r in outcomes if not isinstance(r, Exception)]
    assert len(conflicts) == 1 and len(successes) == 1, results
    conflict = conflicts[0]
    assert conflict.http_status == 409
    assert conflict.error.code == "idempotency_key_in_use"
    assert retrieve_pi(client, acct, auth.pi_id).amount_received == 2500


def test_conflicting_request_is_not_stored_and_can_be_retried(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    sandbox.fault("latency", 1, latency_ms=1200, method="POST", path=f"/v1/payment_intents/{auth.pi_id}/capture")
    slow = threading.Thread(target=lambda: capture(client, acct, auth.pi_id, key="retry-me"))
    slow.start()
    time.sleep(0.3)
    with pytest.raises(stripe.APIError):
        capture(client, acct, auth.pi_id, key="retry-me")
    slow.join(timeout=10)
    again = capture(client, acct, auth.pi_id, key="retry-me")
    assert again.status == "succeeded"


def test_sdk_retries_a_409_and_gets_the_replayed_result(sandbox, stripe_client, acct):
    # stripe.md §8: the SDK retries 409 when retries are on, with the same key; once the first request is done
    # the retry is answered with the stored result.
    client = stripe_client(retries=3)
    auth = authorise(sandbox, client, acct, 2500)
    sandbox.fault("latency", 1, latency_ms=1200, method="POST", path=f"/v1/payment_intents/{auth.pi_id}/capture")
    results: dict[str, object] = {}
    slow = threading.Thread(target=lambda: results.update(slow=capture(client, acct, auth.pi_id, key="k409")))
    slow.start()
    time.sleep(0.3)
    fast = capture(client, acct, auth.pi_id, key="k409")
    slow.join(timeout=15)
    assert fast.status == "succeeded"
    assert results["slow"].to_dict() == fast.to_dict()
    statuses = [r["status"] for r in sandbox.requests() if r["path"].endswith("/capture")]
    assert 409 in statuses


def test_a_255_character_key_is_accepted_and_replayed(sandbox, client, acct):
    key = "k" * 255
    first = create_session(client, acct, idempotency_key=key)
    again = create_session(client, acct, idempotency_key=key)
    assert again.id == first.id


def test_keys_on_get_have_no_effect(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    path = f"/v1/payment_intents/{auth.pi_id}"
    headers = {"Idempotency-Key": "get-key"}
    before = raw(sandbox.url, "GET", path, key=KEY, account=acct, headers=headers)
    capture(client, acct, auth.pi_id)
    after = raw(sandbox.url, "GET", path, key=KEY, account=acct, headers=headers)
    assert before.body["status"] == "requires_capture"
    assert after.body["status"] == "succeeded"


def test_replay_is_logged_as_replayed(sandbox, client, acct):
    create_session(client, acct, idempotency_key="logged")
    create_session(client, acct, idempotency_key="logged")
    entries = [r for r in sandbox.requests() if r["idempotency_key"] == "logged"]
    assert [e["replayed"] for e in entries] == [False, True]
