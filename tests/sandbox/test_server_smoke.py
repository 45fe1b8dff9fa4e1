"""Smoke tests of the sandbox server itself: it starts, answers the real SDK, persists, resets.

The behaviour against stripe.md is covered by the conformance suite; these only prove the plumbing
(in-process server, `python -m sarapay.sandbox serve`, --state, concurrency of idempotency keys).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

import pytest
import stripe

from sarapay.sandbox import SandboxServer

os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"
KEY = "sk_test_smokeTests0001"


def control(url: str, endpoint: str, method: str = "POST", **params: object) -> dict:
    data = urllib.parse.urlencode(params).encode() if method == "POST" else None
    req = urllib.request.Request(url + endpoint, data=data, method=method)
    with urllib.request.urlopen(req) as resp:
        return json.load(resp)


def client_for(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(KEY, base_addresses={"api": url, "connect": url}, http_client=stripe.UrllibClient())


def new_session(client: stripe.StripeClient, amount: int = 2500):
    return client.v1.checkout.sessions.create(params={
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": amount,
                                       "product_data": {"name": "Téléconsultation"}}, "quantity": 1}],
        "payment_intent_data": {"capture_method": "manual", "metadata": {"consultation": "TC-SMOKE1"}},
    })


@pytest.fixture
def server():
    with SandboxServer(port=0) as sb:
        yield sb


def test_pay_capture_and_fee_through_the_sdk(server):
    client = client_for(server.url)
    session = new_session(client)
    paid = control(server.url, f"/_sandbox/checkout/sessions/{session.id}/pay", card="4242 4242 4242 4242")
    assert paid["outcome"] == "authorized"
    pi = client.v1.payment_intents.capture(paid["payment_intent"]["id"], params={
        "amount_to_capture": 2500, "expand": ["latest_charge.balance_transaction"]})
    assert pi.status == "succeeded"
    assert pi.metadata["consultation"] == "TC-SMOKE1"
    assert pi.latest_charge.balance_transaction.fee == 63  # 1.5 % + 25, half up
    assert client.v1.balance.retrieve().pending[0].amount == 2500 - 63


def test_unknown_route_is_json_404_with_request_id(server):
    req = urllib.request.Request(server.url + "/v1/nothing")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 404
    assert info.value.headers["Request-Id"].startswith("req_")
    assert json.load(info.value)["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nothing)")


def test_same_idempotency_key_in_flight_gets_409(server):
    client = client_for(server.url)
    client.v1.balance.retrieve()  # creates the platform
    control(server.url, "/_sandbox/faults", kind="latency", latency_ms=600, path="/v1/checkout/sessions")
    results: list[object] = []

    def first() -> None:
        try:
            results.append(client.v1.checkout.sessions.create(
                params={"mode": "payment", "line_items": [{"price_data": {"currency": "eur", "unit_amount": 900,
                        "product_data": {"name": "x"}}, "quantity": 1}]}, options={"idempotency_key": "same"}))
        except stripe.StripeError as e:  # pragma: no cover - reported by the assertion below
            results.append(e)

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.2)
    with pytest.raises(stripe.APIError) as info:
        client.v1.checkout.sessions.create(
            params={"mode": "payment", "line_items": [{"price_data": {"currency": "eur", "unit_amount": 900,
                    "product_data": {"name": "x"}}, "quantity": 1}]}, options={"idempotency_key": "same"})
    thread.join()
    assert info.value.http_status == 409
    assert info.value.error.code == "idempotency_key_in_use"
    assert results and results[0].object == "checkout.session"


def test_state_file_survives_a_restart_and_reset_clears_it(tmp_path):
    state = tmp_path / "state.json"
    with SandboxServer(port=0, state_file=str(state)) as sb:
        session = new_session(client_for(sb.url))
    assert state.exists()
    with SandboxServer(port=0, state_file=str(state)) as sb:
        client = client_for(sb.url)
        assert client.v1.checkout.sessions.retrieve(session.id).status == "open"
        control(sb.url, "/_sandbox/reset")
        with pytest.raises(stripe.InvalidRequestError):
            client.v1.checkout.sessions.retrieve(session.id)


def test_module_entry_point_prints_the_url_first():
    proc = subprocess.Popen([sys.executable, "-m", "sarapay.sandbox", "serve", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("SANDBOX_URL=http://127.0.0.1:")
        assert control(line.split("=", 1)[1], "/_sandbox/health", method="GET")["ok"] is True
    finally:
        proc.terminate()
        proc.wait(timeout=10)
