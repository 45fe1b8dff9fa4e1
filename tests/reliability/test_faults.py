"""Faults injected by the sandbox (docs/sandbox.md, /_sandbox/faults) while the real commands run over HTTP.

The promise under test: money moves at most once, the ledger never lies for long, and when the outcome
is unknown the user is told so and how to check. What Stripe applied is read from the sandbox's own
objects and its request log (idempotency keys, statuses, replays), never from sarapay's output.
"""

from __future__ import annotations

import pytest

from tests.cli.payments_helpers import TEST_KEY, authorised, consultation, last_seq, posts
from tests.reliability.conftest import dump_tables


def _client(stripe_client):
    return stripe_client(TEST_KEY)


def payment_intent(stripe_client, doctor, cid):
    pi = consultation(cid).payment_intent_id
    return _client(stripe_client).v1.payment_intents.retrieve(
        pi, params={"expand": ["latest_charge"]}, options={"stripe_account": doctor["account"]}
    )


def refunds_of(stripe_client, doctor, cid):
    pi = consultation(cid).payment_intent_id
    return _client(stripe_client).v1.refunds.list(params={"payment_intent": pi}, options={"stripe_account": doctor["account"]}).data


@pytest.fixture
def hold(run, sandbox, doctor):
    """An authorised consultation (25 € hold) that the ledger already knows as « Non capturé »."""
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    assert consultation(cid).state == "uncaptured"
    return cid


@pytest.fixture
def captured(run, hold):
    assert run("capture", hold, "--yes").exit_code == 0
    assert consultation(hold).state == "succeeded"
    return hold


def calls(sandbox, since, suffix):
    return [r for r in posts(sandbox, since) if r["path"].endswith(suffix)]


# --- 5xx ----------------------------------------------------------------------------------------------------


def test_a_500_then_success_on_capture_is_retried_with_the_same_key_and_captures_once(run, sandbox, stripe_client, doctor, hold):
    since = last_seq(sandbox)
    sandbox.fault("500", 1, method="POST", path="/v1/payment_intents/")
    result = run("capture", hold, "--yes")
    assert result.exit_code == 0, result.stderr

    tries = calls(sandbox, since, "/capture")
    assert [t["status"] for t in tries] == [500, 200]
    assert tries[0]["idempotency_key"] == tries[1]["idempotency_key"] and tries[0]["idempotency_key"]
    pi = payment_intent(stripe_client, doctor, hold)
    assert (pi.status, pi.amount_received) == ("succeeded", 2500)
    row = consultation(hold)
    assert (row.state, row.captured_cents) == ("succeeded", 2500)


def test_500_until_retries_run_out_exits_6_changes_nothing_and_says_how_to_check(run, sandbox, stripe_client, doctor, hold):
    before = dump_tables()
    since = last_seq(sandbox)
    sandbox.fault("500", 10, method="POST", path="/v1/payment_intents/")
    try:
        result = run("capture", hold, "--yes")
    finally:
        sandbox.clear_faults()
    assert result.exit_code == 6, result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    message = " ".join(result.stderr.split())
    assert "on ne sait pas" in message  # the outcome is unknown...
    assert f"sarapay status {hold} --refresh" in message  # ...and how to check
    tries = calls(sandbox, since, "/capture")
    assert len(tries) == 3 and {t["status"] for t in tries} == {500}  # 1 try + 2 SDK retries
    assert len({t["idempotency_key"] for t in tries}) == 1
    after = dump_tables()
    # The consultation is unchanged; the capture stays recorded as sent without an answer, with its key.
    [move] = after.pop("money_moves")
    assert (move[0], move[2], move[3], move[4]) == (tries[0]["idempotency_key"], "capture", 2500, "pending")
    before.pop("money_moves")
    assert after == before
    assert payment_intent(stripe_client, doctor, hold).status == "requires_capture"  # nothing moved
    # and the advice holds: checking says it is still to capture, re-running captures once
    assert run("status", hold, "--refresh").exit_code == 0
    assert consultation(hold).state == "uncaptured"


# --- lost answers (drop): applied by Stripe, the answer never arrives ----------------------------------------


def _replayed_once(sandbox, since, suffix):
    tries = calls(sandbox, since, suffix)
    assert len(tries) == 2, tries
    first, retry = tries
    assert first["fault"] == "drop" and retry["replayed"] is True
    assert first["idempotency_key"] == retry["idempotency_key"]
    return tries


def test_lost_answer_on_capture_the_retry_gets_the_first_result(run, sandbox, stripe_client, doctor, hold):
    since = last_seq(sandbox)
    sandbox.fault("drop", 1, method="POST", path="/v1/payment_intents/")
    result = run("capture", hold, "20", "--yes")
    assert result.exit_code == 0, result.stderr
    _replayed_once(sandbox, since, "/capture")
    pi = payment_intent(stripe_client, doctor, hold)
    assert (pi.status, pi.amount_received) == ("succeeded", 2000)
    row = consultation(hold)
    assert (row.state, row.captured_cents, row.authorised_cents) == ("succeeded", 2000, 2500)
    assert "une seconde fois" in result.stderr  # told that Stripe replayed its first answer


def test_lost_answer_on_cancel_the_retry_gets_the_first_result(run, sandbox, stripe_client, doctor, hold):
    since = last_seq(sandbox)
    sandbox.fault("drop", 1, method="POST", path="/v1/payment_intents/")
    result = run("cancel", hold, "--yes")
    assert result.exit_code == 0, result.stderr
    _replayed_once(sandbox, since, "/cancel")
    pi = payment_intent(stripe_client, doctor, hold)
    assert (pi.status, pi.amount_received) == ("canceled", 0)
    assert consultation(hold).state == "canceled"


def test_lost_answer_on_refund_the_retry_gets_the_first_result(run, sandbox, stripe_client, doctor, captured):
    since = last_seq(sandbox)
    sandbox.fault("drop", 1, method="POST", path="/v1/refunds")
    result = run("refund", captured, "5", "--yes")
    assert result.exit_code == 0, result.stderr
    _replayed_once(sandbox, since, "/v1/refunds")
    refunds = refunds_of(stripe_client, doctor, captured)
    assert [r.amount for r in refunds] == [500]  # one refund, not two
    row = consultation(captured)
    assert (row.state, row.captured_cents, row.refunded_cents) == ("partially_refunded", 2500, 500)
    # A second refund of the same amount must be meant (--again): then it is a new operation (a new key).
    assert run("refund", captured, "5", "--yes").exit_code == 3
    assert [r.amount for r in refunds_of(stripe_client, doctor, captured)] == [500]
    assert run("refund", captured, "5", "--yes", "--again").exit_code == 0
    assert sorted(r.amount for r in refunds_of(stripe_client, doctor, captured)) == [500, 500]
    assert consultation(captured).refunded_cents == 1000

