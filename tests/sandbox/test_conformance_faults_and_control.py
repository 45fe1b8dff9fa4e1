"""Conformance: injected faults vs the SDK's retry rules (stripe.md §8), and the control endpoints (docs/sandbox.md)."""

from __future__ import annotations

import time

import pytest
import stripe

from sarapay.sandbox_control import SandboxControlError

from .helpers import (  # noqa: F401
    acct,
    authorise,
    capture,
    client,
    connect_account,
    create_session,
    param_value,
    retrieve_pi,
)


def _capture_requests(sandbox, pi_id):
    return [r for r in sandbox.requests() if r["path"] == f"/v1/payment_intents/{pi_id}/capture"]


# --- faults -------------------------------------------------------------------------------------


def test_500_then_sdk_retry_succeeds_with_a_single_capture(sandbox, stripe_client, acct):
    client = stripe_client(retries=2)
    auth = authorise(sandbox, client, acct, 2500)
    sandbox.fault("500", 1, method="POST", path="/v1/payment_intents")
    pi = capture(client, acct, auth.pi_id, 2000)
    assert pi.status == "succeeded"
    assert pi.amount_received == 2000
    attempts = _capture_requests(sandbox, auth.pi_id)
    assert [a["status"] for a in attempts] == [500, 200]
    assert attempts[0]["idempotency_key"] == attempts[1]["idempotency_key"]
    captured = client.v1.events.list(params={"type": "charge.captured"}, options={"stripe_account": acct}).data
    assert len(captured) == 1


def test_500_without_retries_is_api_error_and_nothing_changes(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.fault("500", 1, path="/v1/payment_intents")
    with pytest.raises(stripe.APIError) as info:
        capture(client, acct, auth.pi_id)
    assert info.value.http_status == 500
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_429_is_rate_limit_error_and_not_retried_by_the_sdk(sandbox, stripe_client, acct):
    client = stripe_client(retries=2)
    auth = authorise(sandbox, client, acct)
    sandbox.fault("429", 1, path="/v1/payment_intents")
    with pytest.raises(stripe.RateLimitError) as info:
        capture(client, acct, auth.pi_id)
    assert info.value.http_status == 429
    assert info.value.error.code == "rate_limit"
    assert len(_capture_requests(sandbox, auth.pi_id)) == 1
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_drop_applies_the_change_and_the_same_key_returns_the_first_result(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    sandbox.fault("drop", 1, method="POST", path="/v1/payment_intents")
    # stripe 16's UrllibClient lets http.client's RemoteDisconnected (a ConnectionError) through unwrapped.
    with pytest.raises((stripe.APIConnectionError, ConnectionError)):
        capture(client, acct, auth.pi_id, 1800, key="dropped-capture")
    assert retrieve_pi(client, acct, auth.pi_id).status == "succeeded"
    again = capture(client, acct, auth.pi_id, 1800, key="dropped-capture")
    assert again.status == "succeeded"
    assert again.amount_received == 1800
    last = _capture_requests(sandbox, auth.pi_id)[-1]
    assert last["replayed"] is True


def test_latency_fault_delays_the_answer(sandbox, client, acct):
    sandbox.fault("latency", 1, latency_ms=700, path="/v1/balance")
    start = time.monotonic()
    client.v1.balance.retrieve(options={"stripe_account": acct})
    assert time.monotonic() - start >= 0.65


def test_fault_count_applies_to_that_many_requests(sandbox, client, acct):
    sandbox.fault("500", 2, path="/v1/balance")
    for _ in range(2):
        with pytest.raises(stripe.APIError):
            client.v1.balance.retrieve(options={"stripe_account": acct})
    assert client.v1.balance.retrieve(options={"stripe_account": acct}).object == "balance"


def test_fault_filters_on_method_and_path(sandbox, client, acct):
    sandbox.fault("500", 1, method="POST", path="/v1/checkout/sessions")
    client.v1.checkout.sessions.list(options={"stripe_account": acct})  # GET: not matched
    client.v1.balance.retrieve(options={"stripe_account": acct})  # other path: not matched
    with pytest.raises(stripe.APIError):
        create_session(client, acct)


def test_control_endpoints_never_consume_faults(sandbox, client, acct):
    sandbox.fault("500", 1)
    sandbox.health()
    sandbox.now()
    with pytest.raises(stripe.APIError):
        client.v1.balance.retrieve(options={"stripe_account": acct})


def test_clear_faults(sandbox, client, acct):
    queued = sandbox.fault("500", 3)
    assert len(queued["queued"]) >= 1
    sandbox.clear_faults()
    assert client.v1.balance.retrieve(options={"stripe_account": acct}).object == "balance"


def test_faulted_request_is_logged_with_its_fault(sandbox, client, acct):
    sandbox.fault("500", 1, path="/v1/balance")
    with pytest.raises(stripe.APIError):
        client.v1.balance.retrieve(options={"stripe_account": acct})
    entry = [r for r in sandbox.requests() if r["path"] == "/v1/balance"][-1]
    assert entry["status"] == 500
    assert entry["fault"]


# --- control endpoints --------------------------------------------------------------------------


def test_health(sandbox):
    health = sandbox.health()
    assert health["ok"] is True
    assert isinstance(health["now"], int)


def test_reset_forgets_objects_accounts_and_requests(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(3600)
    sandbox.reset()
    assert sandbox.requests() == []
    assert abs(sandbox.now() - time.time()) < 5
    with pytest.raises(stripe.PermissionError):
        retrieve_pi(client, acct, auth.pi_id)


def test_reset_clears_queued_faults(sandbox, client):
    sandbox.fault("500", 5)
    sandbox.reset()
    assert client.v1.balance.retrieve().object == "balance"


def test_request_log_records_the_api_call_fields(sandbox, client, acct):
    sandbox.clear_requests()
    create_session(client, acct, idempotency_key="log-me", metadata={"rdv": "42"})
    entries = sandbox.requests()
    assert len(entries) == 1
    entry = entries[0]
    assert set(entry) >= {"seq", "method", "path", "account", "idempotency_key", "status", "params", "replayed", "fault"}
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/checkout/sessions"
    assert entry["account"] == acct
    assert entry["idempotency_key"] == "log-me"
    assert entry["status"] == 200
    assert entry["replayed"] is False
    assert not entry["fault"]
    assert param_value(entry["params"], "metadata", "rdv") == "42"
    assert param_value(entry["params"], "mode") == "payment"
    # The request's headers, for what a client discloses, never the key.
    assert entry["headers"]["stripe-account"] == acct and entry["headers"]["idempotency-key"] == "log-me"
    assert "authorization" not in entry["headers"]


def test_request_log_holds_get_query_params(sandbox, client, acct):
    sandbox.clear_requests()
    client.v1.checkout.sessions.list(params={"limit": 3}, options={"stripe_account": acct})
    entry = sandbox.requests()[-1]
    assert entry["method"] == "GET"
    assert str(param_value(entry["params"], "limit")) == "3"


def test_request_log_since_returns_only_newer_entries(sandbox, client, acct):
    client.v1.balance.retrieve(options={"stripe_account": acct})
    last_seq = sandbox.requests()[-1]["seq"]
    client.v1.payouts.list(options={"stripe_account": acct})
    newer = sandbox.requests(since=last_seq)
    assert [r["path"] for r in newer] == ["/v1/payouts"]


def test_request_log_is_oldest_first_and_excludes_control_endpoints(sandbox, client, acct):
    sandbox.clear_requests()
    client.v1.balance.retrieve(options={"stripe_account": acct})
    sandbox.health()
    client.v1.payouts.list(options={"stripe_account": acct})
    entries = sandbox.requests()
    assert [r["path"] for r in entries] == ["/v1/balance", "/v1/payouts"]
    assert entries[0]["seq"] < entries[1]["seq"]


def test_oauth_calls_are_logged_without_the_control_calls(sandbox, client):
    sandbox.clear_requests()
    connect_account(sandbox, client)
    paths = [r["path"] for r in sandbox.requests()]
    assert paths == ["/oauth/token"]


def test_pay_unknown_session_is_a_json_error(sandbox):
    with pytest.raises(SandboxControlError) as info:
        sandbox.pay("cs_test_doesnotexist")
    assert info.value.status in (400, 404)
    assert isinstance(info.value.body, dict)


def test_onboarding_of_unknown_account_is_a_json_error(sandbox):
    with pytest.raises(SandboxControlError) as info:
        sandbox.complete_onboarding("acct_1Unknown000000")
    assert info.value.status in (400, 404)
    assert isinstance(info.value.body, dict)


def test_platform_requests_are_logged_without_an_account(sandbox, client):
    sandbox.clear_requests()
    client.v1.balance.retrieve()
    assert sandbox.requests()[-1]["account"] is None


def test_state_file_keeps_objects_across_a_restart(tmp_path):
    import subprocess
    import sys

    from sarapay.sandbox_control import SandboxControl

    state = tmp_path / "state.json"

    def start():
        proc = subprocess.Popen(
            [sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0", "--state", str(state)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = proc.stdout.readline().strip()
        assert line.startswith("SANDBOX_URL="), line
        return proc, line.split("=", 1)[1]

    def client_for(url):
        return stripe.StripeClient(
            "sk_test_stateFile0001", client_id="ca_stateFile0001",
            base_addresses={"api": url, "connect": url}, http_client=stripe.UrllibClient(),
        )

    proc, url = start()
    try:
        c = client_for(url)
        acct_id = connect_account(SandboxControl(url), c)
        session = create_session(c, acct_id)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    proc, url = start()
    try:
        again = client_for(url).v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct_id})
        assert again.id == session.id
        assert again.status == "open"
    finally:
        proc.terminate()
        proc.wait(timeout=5)
