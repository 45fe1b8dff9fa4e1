"""Webhook endpoints, signed deliveries, retries, disorder and duplicates; deauthorization; restricted keys.

Expected behaviour: shared/docs/stripe.md §10 and §13 and docs/sandbox.md "Webhooks". A tiny stdlib
receiver records what it gets; the signature is checked with the stripe SDK (the sandbox signs with hmac).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import stripe

from tests.conftest import TEST_KEY

from .helpers import GOOD_CARD, authorise, capture, connect_account, create_session, raw


class Receiver:
    """Records every POST; answers `status` (a list is consumed one answer per request)."""

    def __init__(self, status=200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.got: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.got.append({"body": body, "signature": self.headers.get("Stripe-Signature"), "path": self.path})
                time.sleep(outer.delay)
                code = outer.status.pop(0) if isinstance(outer.status, list) and outer.status else outer.status
                if isinstance(code, list):
                    code = 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/webhooks/stripe"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def events(self) -> list[dict]:
        return [json.loads(g["body"]) for g in self.got]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    made = []

    def make(**kwargs):
        r = Receiver(**kwargs)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def wait_for(predicate, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def endpoint(client, url: str, events=("*",), connect: bool = True):
    return client.v1.webhook_endpoints.create(params={"url": url, "enabled_events": list(events), "connect": connect})


def test_endpoint_crud_secret_only_at_creation(sandbox, stripe_client):
    client = stripe_client()
    created = endpoint(client, "https://portal.example/webhooks/stripe", ["checkout.session.completed"])
    assert created.secret.startswith("whsec_") and created.object == "webhook_endpoint"
    assert created.enabled_events == ["checkout.session.completed"] and created.status == "enabled"
    again = client.v1.webhook_endpoints.retrieve(created.id)
    assert "secret" not in again
    assert [e.id for e in client.v1.webhook_endpoints.list().data] == [created.id]
    # Another platform does not see it.
    with pytest.raises(stripe.InvalidRequestError):
        stripe_client(key="sk_test_anotherPlatform1").v1.webhook_endpoints.retrieve(created.id)
    assert client.v1.webhook_endpoints.delete(created.id).deleted is True
    assert client.v1.webhook_endpoints.list().data == []
    with pytest.raises(stripe.InvalidRequestError) as err:
        client.v1.webhook_endpoints.create(params={"url": "https://x.example/h"})
    assert err.value.param == "enabled_events"


def test_connect_events_are_signed_and_carry_the_account(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    r = receiver()
    secret = endpoint(client, r.url, ["checkout.session.completed", "payment_intent.*"]).secret
    held = authorise(sandbox, client, acct)
    got = wait_for(lambda: len(r.got) >= 2 and r.got)
    types = sorted(json.loads(g["body"])["type"] for g in got)
    assert "checkout.session.completed" in types and "payment_intent.amount_capturable_updated" in types
    assert "charge.succeeded" not in types  # not enabled
    for g in got:
        event = stripe.Webhook.construct_event(g["body"].decode(), g["signature"], secret, tolerance=300)
        assert event["account"] == acct
        # Signed with Stripe's time: the sandbox clock.
        assert abs(int(g["signature"].split(",")[0][2:]) - sandbox.now()) <= 2
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(got[0]["body"].decode(), got[0]["signature"], "whsec_wrong", tolerance=300)
    deliveries = sandbox.webhook_deliveries(status="succeeded")
    assert {d["event"] for d in deliveries} >= {json.loads(g["body"])["id"] for g in got}
    assert held.pi_id


def test_no_delivery_without_endpoint_and_platform_events_skip_connect_endpoints(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    authorise(sandbox, client, acct)
    assert sandbox.webhook_deliveries() == []
    r = receiver()
    endpoint(client, r.url, ["*"], connect=False)  # the platform's own events only
    authorise(sandbox, client, acct)
    time.sleep(0.5)
    assert r.got == []


def test_failures_are_retried_with_backoff_on_the_sandbox_clock(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    sandbox.webhook_settings(retry_base_seconds=60, max_attempts=3)
    r = receiver(status=[500, 500])
    endpoint(client, r.url, ["checkout.session.completed"])
    authorise(sandbox, client, acct)
    wait_for(lambda: len(r.got) == 1)
    [d] = wait_for(lambda: sandbox.webhook_deliveries(status="retrying"))
    assert d["attempts"][0]["status"] == 500 and d["next_attempt"] >= sandbox.now() + 55
    sandbox.advance(60)
    wait_for(lambda: len(r.got) == 2)
    sandbox.advance(120)
    wait_for(lambda: sandbox.webhook_deliveries(status="succeeded"))
    assert len(r.got) == 3 and len({json.loads(g["body"])["id"] for g in r.got}) == 1


def test_slow_receiver_times_out_and_gives_up_after_max_attempts(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    sandbox.webhook_settings(timeout_ms=200, retry_base_seconds=0, max_attempts=2)
    r = receiver(delay=0.6)
    endpoint(client, r.url, ["checkout.session.completed"])
    authorise(sandbox, client, acct)
    [d] = wait_for(lambda: sandbox.webhook_deliveries(status="failed"))
    assert [a["error"] for a in d["attempts"]] == ["timeout", "timeout"]


def test_shuffle_and_duplicate_switches(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    r = receiver()
    endpoint(client, r.url, ["*"])
    sandbox.webhook_settings(paused=True, shuffle=True, duplicate=True)
    held = authorise(sandbox, client, acct)
    capture(client, acct, held.pi_id, 2000)
    queued = sandbox.webhook_deliveries(status="pending")
    assert len(queued) >= 4
    sandbox.webhook_settings(paused=False)
    wait_for(lambda: len(r.got) >= 2 * len(queued))
    ids = [json.loads(g["body"])["id"] for g in r.got]
    order = [d["event"] for d in queued]
    firsts = list(dict.fromkeys(ids))
    assert firsts == list(reversed(order))  # newest first
    assert all(ids.count(i) == 2 for i in order)  # each twice


def test_dashboard_refund_through_the_api_reaches_the_endpoint(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    held = authorise(sandbox, client, acct)
    capture(client, acct, held.pi_id)
    r = receiver()
    endpoint(client, r.url, ["charge.refunded"])
    # The dashboard acts on the account itself: the same API, with the account header.
    client.v1.refunds.create(params={"payment_intent": held.pi_id, "amount": 500}, options={"stripe_account": acct})
    [event] = [e for e in wait_for(lambda: r.events()) if e["type"] == "charge.refunded"]
    assert event["data"]["object"]["amount_refunded"] == 500


def test_practitioner_deauthorizes_the_platform(sandbox, stripe_client, receiver):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    r = receiver()
    endpoint(client, r.url, ["account.application.deauthorized"])
    answer = sandbox.deauthorize(acct)
    [event] = wait_for(lambda: r.events())
    assert event["type"] == "account.application.deauthorized" and event["account"] == acct
    assert event["id"] == answer["event"] and event["data"]["object"]["object"] == "application"
    with pytest.raises(stripe.PermissionError):
        client.v1.payment_intents.list(options={"stripe_account": acct})


def test_restricted_key_reads_but_cannot_write(sandbox, stripe_client):
    client = stripe_client()
    acct = connect_account(sandbox, client)
    held = authorise(sandbox, client, acct)
    rk = sandbox.restricted_key(TEST_KEY)
    assert rk.startswith("rk_test_")
    reader = stripe_client(key=rk)
    assert reader.v1.payment_intents.retrieve(held.pi_id, options={"stripe_account": acct}).status == "requires_capture"
    answer = raw(sandbox.url, "POST", f"/v1/payment_intents/{held.pi_id}/capture", key=rk, account=acct, data={})
    assert answer.status == 403
    error = answer.body["error"]
    assert error["type"] == "invalid_request_error"
    assert "does not have the required permissions" in error["message"]
    assert "'rak_payment_intent_write'" in error["message"] and rk not in error["message"]
    with pytest.raises(stripe.PermissionError):
        capture(reader, acct, held.pi_id)
    assert client.v1.payment_intents.retrieve(held.pi_id, options={"stripe_account": acct}).status == "requires_capture"
    assert raw(sandbox.url, "GET", "/v1/balance", key="rk_test_unknownKey00000000").status == 401
    assert GOOD_CARD and create_session
