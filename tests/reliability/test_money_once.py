"""Money moves once, even after a lost answer, a Ctrl-C, or a second terminal (issue 9, points 1 to 4).

A money move is recorded in the ledger with its idempotency key before it is sent; a re-run re-sends that
key until the ledger records Stripe's answer. What Stripe applied is read from the sandbox (its refunds and
its request log), never from sarapay's output.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.cli.payments_helpers import TEST_KEY, audit, authorised, consultation, last_seq, ledger, plan_paid, posts
from tests.reliability.conftest import sarapay_cmd


@pytest.fixture
def captured(run, sandbox, doctor):
    """A consultation captured for its whole 25 € hold."""
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("capture", cid, "--yes").exit_code == 0
    return cid


def refunds_on_stripe(stripe_client, doctor, cid) -> list[int]:
    pi = consultation(cid).payment_intent_id
    page = stripe_client(TEST_KEY).v1.refunds.list(
        params={"payment_intent": pi}, options={"stripe_account": doctor["account"]}
    )
    return sorted(r.amount for r in page.data)


def refund_posts(sandbox, since):
    return [r for r in posts(sandbox, since) if r["path"] == "/v1/refunds"]


def plain(text: str) -> str:
    return " ".join(text.split())


# --- 1. a re-run refund replays the recorded key ----------------------------------------------------------


def test_rerun_after_every_answer_was_lost_replays_and_refunds_once(run, sandbox, stripe_client, doctor, captured):
    since = last_seq(sandbox)
    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        first = run("refund", captured, "5", "--yes")
    finally:
        sandbox.clear_faults()
    assert first.exit_code == 6, first.stderr
    assert "on ne sait pas" in plain(first.stderr) and "sans risque" in plain(first.stderr)
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]  # Stripe applied it

    again = run("refund", captured, "5", "--yes")
    assert again.exit_code == 0, again.stderr
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]  # not twice
    keys = {r["idempotency_key"] for r in refund_posts(sandbox, since)}
    assert len(keys) == 1  # every attempt, the re-run's included, sent the key recorded first
    assert refund_posts(sandbox, since)[-1]["replayed"] is True
    assert "rejoué" in plain(again.stderr)
    row = consultation(captured)
    assert (row.state, row.refunded_cents) == ("partially_refunded", 500)
    assert [m["state"] for m in ledger().money_moves(captured) if m["action"] == "refund"] == ["done"]


def test_rerun_without_amount_resumes_the_lost_refund(run, sandbox, stripe_client, doctor, captured):
    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        assert run("refund", captured, "7", "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    # "all that remains" would be 18 € now: the lost 7 € refund is finished instead, never topped up.
    again = run("refund", captured, "--yes", "--json")
    assert again.exit_code == 0, again.stderr
    assert refunds_on_stripe(stripe_client, doctor, captured) == [700]


def test_a_different_amount_while_a_refund_is_in_doubt_is_refused_and_sends_nothing(run, sandbox, stripe_client, doctor, captured):
    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        assert run("refund", captured, "5", "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    since = last_seq(sandbox)
    other = run("refund", captured, "3", "--yes")
    assert other.exit_code == 2
    assert f"sarapay refund {captured} 5" in plain(other.stderr)  # how to finish the one in doubt
    assert refund_posts(sandbox, since) == []
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]


def test_a_refund_lost_more_than_a_day_ago_is_found_among_the_refunds_not_sent_again(run, sandbox, stripe_client, doctor, captured):
    """Stripe forgets an idempotency key after 24 hours: the refund carries its key in its metadata."""
    from freezegun import freeze_time

    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        assert run("refund", captured, "5", "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    since = last_seq(sandbox)
    with freeze_time(datetime.now(timezone.utc) + timedelta(hours=25), tick=True):
        again = run("refund", captured, "5", "--yes")
    assert again.exit_code == 3  # the earlier refund was applied: another one must be meant
    assert "--again" in again.stderr
    assert refund_posts(sandbox, since) == []
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]
    assert [m["state"] for m in ledger().money_moves(captured) if m["action"] == "refund"] == ["done"]


# --- 1. a second refund must be meant ----------------------------------------------------------------------


def test_a_second_terminal_refunding_after_the_first_is_stopped(run, sandbox, stripe_client, doctor, captured):
    assert run("refund", captured, "5", "--yes").exit_code == 0
    since = last_seq(sandbox)
    second = run("refund", captured, "5", "--yes")
    assert second.exit_code == 3
    message = plain(second.stderr)
    assert "déjà été remboursée de 5,00" in message and "--again" in message
    assert refund_posts(sandbox, since) == []
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]
    assert audit("refund")[0].outcome == "cancelled"

    meant = run("refund", captured, "5", "--yes", "--again")
    assert meant.exit_code == 0, meant.stderr
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500, 500]


def test_the_confirmation_of_a_second_refund_names_the_refunds_already_made(run, sandbox, stripe_client, doctor, captured, monkeypatch):
    assert run("refund", captured, "4", "--yes").exit_code == 0
    [made] = stripe_client(TEST_KEY).v1.refunds.list(
        params={"payment_intent": consultation(captured).payment_intent_id},
        options={"stripe_account": doctor["account"]},
    ).data
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    refused = run("refund", captured, "2", input="n\n")
    assert refused.exit_code == 3
    shown = plain(refused.stderr)
    assert "Déjà remboursé" in shown and made.id in shown and "4,00" in shown
    assert "Rembourser encore 2,00" in shown  # the question itself says it is another refund
    assert refunds_on_stripe(stripe_client, doctor, captured) == [400]
    accepted = run("refund", captured, "2", input="o\n")
    assert accepted.exit_code == 0, accepted.stderr
    assert refunds_on_stripe(stripe_client, doctor, captured) == [200, 400]


def test_a_partial_capture_release_is_not_taken_for_a_refund(run, sandbox, doctor):
    """Stripe records the release of an uncaptured remainder as a Refund without a balance transaction."""
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("capture", cid, "20", "--yes").exit_code == 0
    first = run("refund", cid, "5", "--yes")
    assert first.exit_code == 0, first.stderr


# --- 2. Ctrl-C during a money request ---------------------------------------------------------------------


def test_ctrl_c_during_a_refund_says_it_may_have_gone_through_and_a_rerun_refunds_once(run, sandbox, stripe_client, doctor, captured):
    since = last_seq(sandbox)
    sandbox.fault("latency", 1, latency_ms=1500, method="POST", path="/v1/refunds")
    env = {**os.environ}
    env.pop("SARAPAY_DEBUG", None)
    proc = subprocess.Popen(
        sarapay_cmd("refund", captured, "5", "--yes"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    deadline = time.monotonic() + 30
    while sandbox.queued_faults():  # the refund request has started once it consumed the latency fault
        assert time.monotonic() < deadline, "the refund never reached the sandbox"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    message = plain(stderr)
    assert "Traceback" not in stderr and "KeyboardInterrupt" not in stderr
    assert "on ne sait pas" in message and f"sarapay status {captured} --refresh" in message
    assert "sans risque" in message
    entry = audit("refund")[0]
    assert entry.outcome == "error" and "interrupted, outcome unknown" in entry.detail
    assert "KeyboardInterrupt" not in entry.detail

    while not [r for r in refund_posts(sandbox, since) if r["status"] == 200]:  # the sandbox finishes it anyway
        assert time.monotonic() < deadline + 30, "the interrupted refund never ended on the sandbox"
        time.sleep(0.05)
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]
    again = run("refund", captured, "5", "--yes")
    assert again.exit_code == 0, again.stderr
    assert refunds_on_stripe(stripe_client, doctor, captured) == [500]
    assert len({r["idempotency_key"] for r in refund_posts(sandbox, since)}) == 1


# --- 3. and 4. what an unreachable Stripe is called -----------------------------------------------------


@pytest.mark.parametrize("command", ["pay-link", "unlink", "refund"])
def test_lost_answers_are_said_in_one_wording_without_python_names(run, sandbox, doctor, command):
    planned = plan_paid(run, doctor["rpps"])["id"]
    if command == "pay-link":
        sandbox.advance(2 * 86400)  # the first link ran out: pay-link creates a new one
        args, path = ("pay-link", planned), "/v1/checkout/sessions"
    elif command == "unlink":
        args, path = ("unlink", doctor["rpps"], "--yes"), "/oauth/deauthorize"
    else:
        cid = authorised(run, sandbox, doctor["rpps"])
        assert run("capture", cid, "--yes").exit_code == 0
        args, path = ("refund", cid, "--yes"), "/v1/refunds"
    sandbox.fault("drop", 10, method="POST", path=path)
    try:
        result = run(*args)
    finally:
        sandbox.clear_faults()
    assert result.exit_code == 6, (result.exit_code, result.stderr)
    message = plain(result.stderr)
    for python_name in ("RemoteDisconnected", "ConnectionResetError", "Error", "Exception", "Traceback"):
        assert python_name not in message, message
    assert "on ne sait pas" in message.lower()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_refused_connection_says_nothing_was_sent_and_names_the_address(run, sandbox, doctor, monkeypatch):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0  # capture then sends its one request first
    address = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("SARAPAY_API_BASE", address)
    result = run("capture", cid, "--yes")
    assert result.exit_code == 6, result.stderr
    message = plain(result.stderr)
    assert "connexion refusée" in message and "rien n'a été envoyé" in message and address in message
    assert "On ne sait pas" not in message and "on ne sait pas" not in message
    assert ledger().pending_money_move(cid, ["capture"]) is None  # nothing in doubt either
    monkeypatch.delenv("SARAPAY_API_BASE")
    assert consultation(cid).state == "uncaptured"


# --- pay-link: replacing an open link, the new one's answer lost ------------------------------------------


def test_pay_link_rerun_after_the_new_links_answer_was_lost_gives_that_same_link(run, sandbox, stripe_client, doctor):
    """pay-link closes the open link (an API request: Stripe records it as closed on purpose), then creates
    the new one, whose answer is lost. The re-run must finish the replacement with the same key, not take
    the consultation for cancelled, and not create a third link."""
    cid = plan_paid(run, doctor["rpps"])["id"]
    first_session = consultation(cid).checkout_session_id
    since = last_seq(sandbox)
    sandbox.fault("drop", 10, method="POST", path="/v1/checkout/sessions$")
    try:
        lost = run("pay-link", cid)
    finally:
        sandbox.clear_faults()
    assert lost.exit_code == 6, lost.stderr
    again = run("pay-link", cid)
    assert again.exit_code == 0, again.stderr
    created = [r for r in posts(sandbox, since) if r["path"] == "/v1/checkout/sessions"]
    assert len({r["idempotency_key"] for r in created}) == 1  # one new link, asked for with one key
    sessions = stripe_client(TEST_KEY).v1.checkout.sessions.list(options={"stripe_account": doctor["account"]}).data
    assert len(sessions) == 2  # the first link and its one replacement
    row = consultation(cid)
    assert row.state == "incomplete" and row.checkout_session_id not in (None, first_session)
    assert [s.status for s in sessions if s.id == row.checkout_session_id] == ["open"]


# --- what the fault matrix (scripts/fault_matrix.py) found ------------------------------------------------


def test_cancel_rerun_after_a_lost_answer_replays_and_succeeds(run, sandbox, doctor):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("drop", 10, method="POST", path="/v1/payment_intents/")
    try:
        assert run("cancel", cid, "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    again = run("cancel", cid, "--yes")
    assert again.exit_code == 0, again.stderr  # what the first message promised: re-running is safe, and works
    releases = [r for r in posts(sandbox, since) if r["path"].endswith("/cancel")]
    assert len({r["idempotency_key"] for r in releases}) == 1 and releases[-1]["replayed"] is True
    assert consultation(cid).state == "canceled"


def test_a_429_storm_says_nothing_was_applied_and_leaves_nothing_pending(run, sandbox, doctor):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    sandbox.fault("429", 20, method="POST", path="/v1/payment_intents/")
    try:
        result = run("capture", cid, "--yes")
    finally:
        sandbox.clear_faults()
    assert result.exit_code == 6, result.stderr
    message = plain(result.stderr)
    assert "429" in message and "n'a pas été appliquée" in message and "on ne sait pas" not in message
    assert ledger().pending_money_move(cid, ["capture"]) is None
    assert run("capture", cid, "--yes").exit_code == 0


def test_ctrl_c_while_planning_points_to_pay_link_not_to_planning_again(run, sandbox, doctor):
    sandbox.fault("latency", 1, latency_ms=1500, method="POST", path="/v1/checkout/sessions$")
    env = {**os.environ}
    env.pop("SARAPAY_DEBUG", None)
    proc = subprocess.Popen(
        sarapay_cmd("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid"),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 30
    while sandbox.queued_faults():
        assert time.monotonic() < deadline, "the checkout request never reached the sandbox"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    [row] = ledger().list_consultations()
    message = plain(stderr)
    assert f"sarapay pay-link {row.id}" in message and "Ne la replanifiez pas" in message


def test_two_terminals_asking_for_a_new_link_at_once_leave_one_open_link(run, sandbox, stripe_client, doctor):
    cid = plan_paid(run, doctor["rpps"])["id"]
    sandbox.fault("latency", 1, latency_ms=800, method="POST", path="/v1/checkout/sessions$")
    env = {**os.environ}
    env.pop("SARAPAY_DEBUG", None)
    procs = [
        subprocess.Popen(sarapay_cmd("pay-link", cid), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        for _ in range(2)
    ]
    outcomes = [(p.wait(timeout=120), p.stdout.read(), p.stderr.read()) for p in procs]
    assert [code for code, _, _ in outcomes] == [0, 0], outcomes
    sessions = stripe_client(TEST_KEY).v1.checkout.sessions.list(options={"stripe_account": doctor["account"]}).data
    assert len(sessions) == 2  # the first link and one replacement: the second terminal did not replace it again
    open_ones = [s for s in sessions if s.status == "open"]
    assert [s.id for s in open_ones] == [consultation(cid).checkout_session_id]
    assert [out.strip() for _, out, _ in outcomes] == [open_ones[0].url] * 2  # both give the patient that link


def test_plan_rerun_after_its_page_answer_was_lost_gives_that_consultation_its_link(run, sandbox, stripe_client, doctor):
    """Re-running the same plan (against the advice) does not plan the visit twice: the consultation left
    without a link gets it, with the same Checkout key (Stripe replays the page it created)."""
    since = last_seq(sandbox)
    sandbox.fault("drop", 10, method="POST", path="/v1/checkout/sessions$")
    try:
        lost = run("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid", "--patient-ref", "P-1")
    finally:
        sandbox.clear_faults()
    assert lost.exit_code == 6, lost.stderr
    [first] = ledger().list_consultations()
    again = run("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid", "--patient-ref", "P-1")
    assert again.exit_code == 0, again.stderr
    assert first.id in again.stdout and "sans doublon" in plain(again.stderr)
    assert [r.id for r in ledger().list_consultations()] == [first.id]
    created = [r for r in posts(sandbox, since) if r["path"] == "/v1/checkout/sessions"]
    assert len({r["idempotency_key"] for r in created}) == 1
    sessions = stripe_client(TEST_KEY).v1.checkout.sessions.list(options={"stripe_account": doctor["account"]}).data
    assert [s.id for s in sessions] == [consultation(first.id).checkout_session_id]


def test_reconcile_reports_a_refund_left_without_an_answer_and_the_command_to_rerun(run, sandbox, doctor, captured):
    import json

    from freezegun import freeze_time

    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        assert run("refund", captured, "5", "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    assert run("reconcile", "--json").exit_code == 0  # just sent: it may still be on its way, not reported
    later = datetime.now(timezone.utc) + timedelta(minutes=10)
    with freeze_time(later, tick=True):
        found = run("reconcile", "--json")
        line = run("reconcile")
    assert found.exit_code == 8, found.stderr
    [item] = [i for i in json.loads(found.stdout)["items"] if i["kind"] == "move_in_doubt"]
    assert (item["consultation_id"], item["detail"], item["amount_cents"]) == (captured, "refund", 500)
    assert f"sarapay refund {captured} 5,00" in line.stdout
    assert run("refund", captured, "5,00", "--yes").exit_code == 0  # the re-run it names: replayed, once
    with freeze_time(later, tick=True):
        after = json.loads(run("reconcile", "--json").stdout)
    assert [i for i in after["items"] if i["kind"] == "move_in_doubt"] == []


def test_reconcile_settles_a_lost_capture_that_stripe_shows_done(run, sandbox, doctor):
    import json

    from freezegun import freeze_time

    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    sandbox.fault("drop", 10, method="POST", path="/v1/payment_intents/")
    try:
        assert run("capture", cid, "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    with freeze_time(datetime.now(timezone.utc) + timedelta(minutes=10), tick=True):
        report = json.loads(run("reconcile", "--json").stdout)
    assert [i for i in report["items"] if i["kind"] == "move_in_doubt"] == []  # Stripe shows it captured
    assert consultation(cid).state == "succeeded"
    assert [m["state"] for m in ledger().money_moves(cid)] == ["settled"]


def test_status_of_a_consultation_names_the_refund_left_without_an_answer(run, sandbox, doctor, captured):
    sandbox.fault("drop", 10, method="POST", path="/v1/refunds")
    try:
        assert run("refund", captured, "5", "--yes").exit_code == 6
    finally:
        sandbox.clear_faults()
    shown = plain(run("status", captured).stderr)
    assert "sans réponse : remboursement de 5,00" in shown and f"sarapay refund {captured} 5,00" in shown
    assert run("refund", captured, "5", "--yes").exit_code == 0
    assert "sans réponse" not in run("status", captured).stderr
