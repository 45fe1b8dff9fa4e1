"""`sarapay webhooks register|serve` end to end: the sandbox delivers signed events over HTTP to a real
receiver process, which applies them to the ledger (docs/cli.md, docs/sandbox.md "Webhooks").

The receiver runs as `python -m sarapay webhooks serve` in a subprocess (as systemd would run it), on a
free loopback port registered in the sandbox; tests read the ledger and the receiver's log lines.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sarapay import credentials

from .payments_helpers import TEST_KEY, consultation, ledger, link_practitioner, plan_paid, session_id_of


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout: float = 15.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class ReceiverProcess:
    def __init__(self, port: int, env: dict[str, str]) -> None:
        self.port = port
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.lines: list[dict] = []

    def start(self) -> "ReceiverProcess":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sarapay", "webhooks", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        line = self.proc.stdout.readline().strip()
        assert line == f"WEBHOOKS_URL=http://127.0.0.1:{self.port}/webhooks/stripe", (line, self.proc.stderr.read())
        threading.Thread(target=self._read_log, args=(self.proc,), daemon=True).start()
        return self

    def _read_log(self, proc) -> None:
        for text in proc.stderr:
            if text.startswith("{"):
                self.lines.append(json.loads(text))

    def events(self, outcome: str | None = None) -> list[dict]:
        return [l for l in self.lines if "event" in l and (outcome is None or l["outcome"] == outcome)]

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=15)
        self.proc = None
        return code


@pytest.fixture
def webhooks(run, sandbox, tmp_path, monkeypatch):
    """A practitioner, an endpoint registered through `sarapay webhooks register --file` on a free port, and
    a factory of receiver processes sharing the test's SARAPAY_HOME, key and sandbox."""
    practitioner = link_practitioner(sandbox)
    port = free_port()
    result = run("webhooks", "register", f"http://127.0.0.1:{port}/webhooks/stripe", "--file")
    assert result.exit_code == 0, result.stderr
    env = {**os.environ}
    env.pop("COVERAGE_PROCESS_START", None)
    made: list[ReceiverProcess] = []

    def start() -> ReceiverProcess:
        receiver = ReceiverProcess(port, env).start()
        made.append(receiver)
        return receiver

    class Bag:
        pass

    bag = Bag()
    bag.practitioner, bag.port, bag.start, bag.register = practitioner, port, start, result
    yield bag
    for receiver in made:
        receiver.stop(signal.SIGKILL)
        print("receiver log:", receiver.lines)  # shown when the test failed
    print("deliveries:", [(d["type"], d["status"], [(a["status"], a["error"]) for a in d["attempts"]])
                          for d in sandbox.webhook_deliveries()])


def _event_ids(sandbox, **filters) -> set[str]:
    return {d["event"] for d in sandbox.webhook_deliveries(**filters)}


def settled(sandbox) -> bool:
    """Every delivery acknowledged (or given up)."""
    deliveries = sandbox.webhook_deliveries()
    return bool(deliveries) and all(d["status"] in ("succeeded", "failed", "abandoned") for d in deliveries)


def test_register_keeps_the_secret_in_a_0600_file_and_never_prints_it(webhooks, sandbox):
    path = credentials.webhook_secret_file_path()
    secret = path.read_text().strip()
    assert secret.startswith("whsec_")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    out = webhooks.register.stdout + webhooks.register.stderr
    assert secret not in out and "whsec_…" in out
    with ledger() as book:
        [row] = book.list_audit(5, command="webhooks register")
    assert secret not in json.dumps(dataclasses.asdict(row))


def test_each_payment_event_reaches_the_ledger(run, webhooks, sandbox):
    receiver = webhooks.start()
    rpps = webhooks.practitioner["rpps"]
    cid = plan_paid(run, rpps)["id"]
    sandbox.pay(session_id_of(cid))  # checkout.session.completed, payment_intent.amount_capturable_updated
    wait_for(lambda: consultation(cid).state == "uncaptured", what="uncaptured")
    assert run("capture", cid, "20", "--yes").exit_code == 0
    row = consultation(cid)
    acct = webhooks.practitioner["account"]
    # The practitioner refunds 5 € from their dashboard: the same API, with the account header.
    from sarapay.stripe_gateway import Gateway

    dashboard = Gateway(TEST_KEY, api_base=sandbox.url)
    dashboard._client.v1.refunds.create(params={"payment_intent": row.payment_intent_id, "amount": 500},
                                        options={"stripe_account": acct})
    wait_for(lambda: consultation(cid).state == "partially_refunded", what="partially refunded")
    assert consultation(cid).refunded_cents == 500
    wait_for(lambda: settled(sandbox), what="deliveries settled")
    handled = {l["type"] for l in receiver.events() if l["outcome"] in ("applied", "already_known")}
    assert {"checkout.session.completed", "payment_intent.amount_capturable_updated", "charge.captured",
            "payment_intent.succeeded", "charge.refunded"} <= handled
    # One structured line per event, ids only.
    line = next(l for l in receiver.events() if l["type"] == "charge.refunded")
    assert set(line) <= {"at", "status", "outcome", "event", "type", "account", "consultation", "state", "ms", "reason"}
    assert line["consultation"] == cid and line["status"] == 200


def test_a_link_closed_from_the_dashboard_and_a_hold_released_there(run, webhooks, sandbox):
    webhooks.start()
    rpps, acct = webhooks.practitioner["rpps"], webhooks.practitioner["account"]
    from sarapay.stripe_gateway import Gateway

    dashboard = Gateway(TEST_KEY, api_base=sandbox.url)._client
    first = plan_paid(run, rpps)["id"]
    dashboard.v1.checkout.sessions.expire(session_id_of(first), options={"stripe_account": acct})
    wait_for(lambda: consultation(first).state == "canceled", what="link closed on purpose")
    second = plan_paid(run, rpps, at="02/12/2099 10:30")["id"]
    sandbox.pay(session_id_of(second))
    wait_for(lambda: consultation(second).state == "uncaptured", what="held")
    dashboard.v1.payment_intents.cancel(consultation(second).payment_intent_id, options={"stripe_account": acct})
    wait_for(lambda: consultation(second).state == "canceled", what="hold released")


def test_the_hold_running_out_reaches_the_ledger(run, webhooks, sandbox):
    webhooks.start()
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    sandbox.pay(session_id_of(cid))
    wait_for(lambda: consultation(cid).state == "uncaptured", what="held")
    sandbox.advance(8 * 86400)  # charge.expired, payment_intent.canceled
    wait_for(lambda: consultation(cid).state == "expired", what="expired")


def test_deauthorization_marks_the_practitioner_disconnected(run, webhooks, sandbox):
    receiver = webhooks.start()
    rpps = webhooks.practitioner["rpps"]
    cid = plan_paid(run, rpps)["id"]
    sandbox.deauthorize(webhooks.practitioner["account"])
    wait_for(lambda: receiver.events("disconnected"), what="deauthorized")
    with ledger() as book:
        assert book.get_practitioner(rpps).disconnected_at
    result = run("reconcile", "--json")
    assert result.exit_code == 8, result.stderr
    items = json.loads(result.stdout)["items"]
    assert [(i["kind"], i["consultation_id"]) for i in items] == [("account_disconnected", cid)]
    for command in (("prefs", "show"), ("status",), ("link", rpps, "--check")):
        assert "a déconnecté la plateforme" in run(*command).stderr, command
    assert json.loads(run("prefs", "show", rpps, "--json").stdout)["disconnected_at"]


def test_forged_stale_oversized_and_unknown_are_refused_and_change_nothing(run, webhooks, sandbox):
    receiver = webhooks.start()
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    before = consultation(cid)
    url = f"http://127.0.0.1:{webhooks.port}/webhooks/stripe"
    secret = credentials.webhook_secret_file_path().read_text().strip()
    event = {"id": "evt_forged0001", "object": "event", "type": "checkout.session.expired", "created": int(time.time()),
             "account": webhooks.practitioner["account"],
             "data": {"object": {"id": before.checkout_session_id, "object": "checkout.session"}}}
    body = json.dumps(event).encode()

    def post(data: bytes, signature: str | None, length: str | None = None) -> int:
        request = urllib.request.Request(url, data=data, method="POST")
        if signature:
            request.add_header("Stripe-Signature", signature)
        try:
            with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request, timeout=10) as answer:
                return answer.status
        except urllib.error.HTTPError as exc:
            return exc.code

    import stripe

    now = int(time.time())
    forged = stripe.WebhookSignature._compute_signature(f"{now}.{body.decode()}", "whsec_notTheSecret000")
    assert post(body, f"t={now},v1={forged}") == 400
    assert post(body, None) == 400
    stale_sig = stripe.WebhookSignature._compute_signature(f"{now - 600}.{body.decode()}", secret)
    assert post(body, f"t={now - 600},v1={stale_sig}") == 400
    assert post(b"x" * (600 * 1024), "t=1,v1=00") == 413
    other = dict(event, id="evt_unknownacct01", account="acct_notOurs0000001")
    other_body = json.dumps(other).encode()
    good = stripe.WebhookSignature._compute_signature(f"{now}.{other_body.decode()}", secret)
    assert post(other_body, f"t={now},v1={good}") == 400
    wait_for(lambda: len(receiver.lines) >= 5, what="log lines")
    reasons = [l["outcome"] for l in receiver.lines if l.get("status", 0) >= 400]
    assert reasons == ["signature", "signature", "stale", "too_large", "unknown_account"]
    assert consultation(cid) == before
    with ledger() as book:
        assert book.webhook_events() == []


def test_a_replayed_event_is_applied_once(run, webhooks, sandbox):
    receiver = webhooks.start()
    sandbox.webhook_settings(duplicate=True)
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    sandbox.pay(session_id_of(cid))
    wait_for(lambda: settled(sandbox) and consultation(cid).state == "uncaptured", what="held")
    wait_for(lambda: len(receiver.events("duplicate")) >= 2, what="duplicates answered")
    with ledger() as book:
        recorded = [e["event_id"] for e in book.webhook_events()]
        history = book.history(cid)
    assert len(recorded) == len(set(recorded))
    assert [h.state for h in history if h.state].count("uncaptured") == 1


def test_reordered_events_end_in_the_right_state(run, webhooks, sandbox):
    receiver = webhooks.start()
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    sandbox.webhook_settings(paused=True, shuffle=True)
    sandbox.pay(session_id_of(cid))
    assert run("capture", cid, "--yes").exit_code == 0
    sandbox.webhook_settings(paused=False)
    wait_for(lambda: settled(sandbox), what="deliveries settled")
    assert consultation(cid).state == "succeeded"
    outcomes = [l["outcome"] for l in receiver.events()]
    assert "applied" in outcomes and all(o in ("applied", "already_known", "ignored") for o in outcomes)


def test_receiver_down_then_up_converges(run, webhooks, sandbox):
    sandbox.webhook_settings(retry_base_seconds=1, max_attempts=10)
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    sandbox.pay(session_id_of(cid))
    wait_for(lambda: sandbox.webhook_deliveries(status="retrying"), what="failed deliveries")
    assert consultation(cid).state == "incomplete"
    webhooks.start()
    sandbox.advance(5)
    wait_for(lambda: consultation(cid).state == "uncaptured", what="converged")
    wait_for(lambda: settled(sandbox), what="deliveries settled")
    assert all(d["status"] == "succeeded" for d in sandbox.webhook_deliveries())


def test_receiver_and_reconcile_on_the_same_consultation(run, webhooks, sandbox):
    webhooks.start()
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    sandbox.pay(session_id_of(cid))
    results = []
    threads = [threading.Thread(target=lambda: results.append(run("reconcile", "--json").exit_code)) for _ in range(1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_for(lambda: settled(sandbox), what="deliveries settled")
    assert results[0] in (0, 8)
    assert consultation(cid).state == "uncaptured"
    assert run("reconcile", "--json").exit_code in (0, 8)
    assert consultation(cid).state == "uncaptured"


def test_sigterm_finishes_the_event_in_hand(run, webhooks, sandbox):
    receiver = webhooks.start()
    cid = plan_paid(run, webhooks.practitioner["rpps"])["id"]
    # The receiver's read of Stripe is slow: SIGTERM arrives while the event is in hand.
    sandbox.fault("latency", count=1, latency_ms=1500, method="GET", path="/v1/checkout/sessions")
    sandbox.webhook_settings(timeout_ms=10000)
    sandbox.pay(session_id_of(cid))
    wait_for(lambda: not sandbox.queued_faults(), what="the slow read started")
    assert receiver.stop(signal.SIGTERM) == 0
    assert consultation(cid).state == "uncaptured"
    assert any(l.get("outcome") == "stopped" for l in receiver.lines) or receiver.lines
    first = sandbox.webhook_deliveries()[0]
    assert first["attempts"][0]["status"] == 200


def test_health_endpoint(webhooks):
    webhooks.start()
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(
        f"http://127.0.0.1:{webhooks.port}/healthz", timeout=5
    ) as answer:
        doc = json.loads(answer.read())
    assert answer.status == 200 and doc["status"] == "ok"


def test_serve_without_a_secret_says_how_to_get_one(run, tmp_path):
    result = run("webhooks", "serve", "--port", "0")
    assert result.exit_code == 4
    assert "webhooks register" in result.stderr
    assert Path  # noqa


def test_a_dispute_and_its_outcome_reach_the_ledger(run, webhooks, sandbox):
    """The patient's bank disputes a captured payment (Stripe's dispute test card): « Contesté » from the
    charge.dispute.created event, then back to « Réussi » with a history line when the dispute is won."""
    receiver = webhooks.start()
    rpps = webhooks.practitioner["rpps"]
    cid = plan_paid(run, rpps)["id"]
    sandbox.pay(session_id_of(cid), "4000000000000259")
    wait_for(lambda: consultation(cid).state == "uncaptured", what="uncaptured")
    assert run("capture", cid, "--yes").exit_code == 0
    sandbox.now()  # a request after the capture: the sandbox opens the dispute then, as Stripe does soon after
    wait_for(lambda: consultation(cid).state == "disputed", what="disputed through the receiver")
    with ledger() as book:
        [dispute] = book.list_disputes(rpps=rpps)
    assert dispute["status"] == "needs_response" and dispute["amount_cents"] == 2500 and dispute["due_by"]
    sandbox.settle_dispute(dispute["id"], "won")
    wait_for(lambda: consultation(cid).state == "succeeded", what="won: back to succeeded")
    handled = {l["type"] for l in receiver.events() if l["outcome"] == "applied"}
    assert "charge.dispute.created" in handled and "charge.dispute.closed" in handled
