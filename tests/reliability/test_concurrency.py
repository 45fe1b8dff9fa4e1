"""Two processes capturing the same consultation at the same moment (two terminals, or a terminal and a cron
job). A latency fault on the capture widens the window so both are really in flight together. Each test runs
on both backends (`ledger_backend`): an flock on SQLite, the server's advisory lock on PostgreSQL;
tests/cli/test_team_ledger.py has the same race between two machines (two SARAPAY_HOME) on PostgreSQL."""

from __future__ import annotations

import os
import subprocess

from tests.cli.payments_helpers import TEST_KEY, authorised, consultation, last_seq, posts
from tests.reliability.conftest import sarapay_cmd


def start(*args):
    env = {**os.environ}
    env.pop("SARAPAY_DEBUG", None)
    return subprocess.Popen(sarapay_cmd(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)


def finish(proc):
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


def both(*args):
    first, second = start(*args), start(*args)
    return [finish(first), finish(second)]


def test_two_captures_at_once_one_captures_the_other_is_told_it_was_already_captured(ledger_backend, run, sandbox, stripe_client, doctor):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("latency", 2, latency_ms=1500, method="POST", path="/v1/payment_intents/")
    try:
        results = both("capture", cid, "--yes")
    finally:
        sandbox.clear_faults()

    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] in (2, 5), results
    loser = next(r for r in results if r[0] != 0)
    assert "déjà capturée" in " ".join(loser[2].split()), loser
    assert "Traceback" not in loser[2]

    applied = [r for r in posts(sandbox, since) if r["path"].endswith("/capture") and r["status"] == 200 and not r["replayed"]]
    assert len(applied) == 1
    pi = stripe_client(TEST_KEY).v1.payment_intents.retrieve(
        consultation(cid).payment_intent_id, options={"stripe_account": doctor["account"]}
    )
    assert (pi.status, pi.amount_received) == ("succeeded", 2500)
    row = consultation(cid)
    assert (row.state, row.captured_cents) == ("succeeded", 2500)


def test_two_captures_of_different_amounts_at_once_capture_once(ledger_backend, run, sandbox, stripe_client, doctor):
    """Different amounts are different keys: Stripe itself refuses the second capture."""
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("latency", 2, latency_ms=1500, method="POST", path="/v1/payment_intents/")
    try:
        first, second = start("capture", cid, "20", "--yes"), start("capture", cid, "15", "--yes")
        results = [finish(first), finish(second)]
    finally:
        sandbox.clear_faults()
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] in (2, 5), results
    loser = next(r for r in results if r[0] != 0)
    assert "déjà capturée" in " ".join(loser[2].split()), loser
    applied = [r for r in posts(sandbox, since) if r["path"].endswith("/capture") and r["status"] == 200 and not r["replayed"]]
    assert len(applied) == 1
    pi = stripe_client(TEST_KEY).v1.payment_intents.retrieve(
        consultation(cid).payment_intent_id, options={"stripe_account": doctor["account"]}
    )
    assert pi.amount_received in (2000, 1500)
    assert consultation(cid).captured_cents == pi.amount_received


def test_a_command_killed_while_capturing_leaves_no_stale_lock(ledger_backend, run, sandbox, stripe_client, doctor):
    """kill -9 while its capture request is in flight (held 2 s by the sandbox): the next capture does not
    wait for the dead one's lock, and the money moves once (Stripe refuses the late first capture)."""
    import signal
    import time

    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("latency", 1, latency_ms=2000, method="POST", path="/v1/payment_intents/")
    proc = start("capture", cid, "20", "--yes")
    deadline = time.monotonic() + 30
    while sandbox.queued_faults():  # the capture request has started once it consumed the latency fault
        assert time.monotonic() < deadline, "the capture never reached the sandbox"
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    started = time.monotonic()
    result = run("capture", cid, "15", "--yes")
    assert result.exit_code == 0, result.stderr
    assert time.monotonic() - started < 60  # far below the lock's 120 s wait
    time.sleep(2)  # the killed one's request ends on the sandbox, refused
    applied = [r for r in posts(sandbox, since) if r["path"].endswith("/capture") and r["status"] == 200 and not r["replayed"]]
    assert len(applied) == 1
    pi = stripe_client(TEST_KEY).v1.payment_intents.retrieve(
        consultation(cid).payment_intent_id, options={"stripe_account": doctor["account"]}
    )
    assert pi.amount_received == 1500
    assert (consultation(cid).state, consultation(cid).captured_cents) == ("succeeded", 1500)


def test_two_paid_plans_of_the_same_slot_at_once_give_two_consultations_each_with_its_link(ledger_backend, run, sandbox, doctor):
    """The second terminal starts while the first's Checkout request is held: without the per-slot lock it took the
    first's row (still without its session) for a plan whose answer was lost, sent the same key (409 while the
    first is in flight), then discarded the row the first was still creating: a session without a consultation,
    and the first told « Consultation inconnue »."""
    import time

    since = last_seq(sandbox)
    args = ("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid")
    sandbox.fault("latency", 2, latency_ms=1500, method="POST", path="/v1/checkout/sessions")
    try:
        first = start(*args)
        time.sleep(0.4)  # the first has written its row and is waiting for Stripe
        second = start(*args)
        results = [finish(first), finish(second)]
    finally:
        sandbox.clear_faults()
    assert [code for code, _, _ in results] == [0, 0], results
    created = [r for r in posts(sandbox, since) if r["path"] == "/v1/checkout/sessions" and r["status"] == 200
               and not r["replayed"]]
    assert len(created) == 2
    ids = {line.strip() for _, out, _ in results for line in out.splitlines() if line.startswith("TC-")}
    assert len(ids) == 2 and all(consultation(cid).checkout_session_id for cid in ids)
