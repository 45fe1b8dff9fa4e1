"""The process killed after Stripe answered and before the ledger wrote (the SARAPAY_TEST_CRASH_AFTER=stripe
hook in services/payments.py does os._exit(137) at that exact point): the money moved once, the ledger
is behind, and the next `status --refresh` or `reconcile` brings it back in line with Stripe."""

from __future__ import annotations

import pytest

from tests.cli.payments_helpers import TEST_KEY, authorised, consultation, half_up_fee, last_seq, posts
from tests.reliability.conftest import sarapay_proc

CRASH = {"SARAPAY_TEST_CRASH_AFTER": "stripe"}


@pytest.fixture
def hold(run, sandbox, doctor):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    return cid


def crash(*args):
    proc = sarapay_proc(*args, env=CRASH)
    assert proc.returncode == 137, (proc.returncode, proc.stderr)
    return proc


def stripe_pi(stripe_client, doctor, cid):
    return stripe_client(TEST_KEY).v1.payment_intents.retrieve(
        consultation(cid).payment_intent_id, options={"stripe_account": doctor["account"]}
    )


def test_killed_after_capture_status_refresh_heals_the_row(run, sandbox, stripe_client, doctor, hold):
    since = last_seq(sandbox)
    crash("capture", hold, "20", "--yes")
    assert stripe_pi(stripe_client, doctor, hold).amount_received == 2000  # Stripe captured...
    assert consultation(hold).state == "uncaptured"  # ...the ledger does not know yet
    assert len([r for r in posts(sandbox, since) if r["path"].endswith("/capture")]) == 1

    result = run("status", hold, "--refresh")
    assert result.exit_code == 0, result.stderr
    row = consultation(hold)
    assert (row.state, row.captured_cents, row.fee_cents) == ("succeeded", 2000, half_up_fee(2000))

    # Re-running the capture after the crash is refused by the state, and nothing is sent.
    since = last_seq(sandbox)
    again = run("capture", hold, "20", "--yes")
    assert again.exit_code == 2 and "déjà capturée" in again.stderr
    assert posts(sandbox, since) == []


def test_rerunning_the_killed_capture_without_refresh_is_replayed_not_doubled(run, sandbox, stripe_client, doctor, hold):
    """The ledger still shows the hold, so the re-run sends the same capture with the same idempotency key:
    Stripe replays its first answer, the ledger catches up, and the user is told it was a replay."""
    crash("capture", hold, "--yes")
    since = last_seq(sandbox)
    again = run("capture", hold, "--yes")
    assert again.exit_code == 0, again.stderr
    assert "rejoué" in again.stderr
    [resent] = posts(sandbox, since)
    assert resent["path"].endswith("/capture") and resent["replayed"]
    assert consultation(hold).state == "succeeded"
    assert stripe_pi(stripe_client, doctor, hold).amount_received == 2500


def test_killed_after_cancel_and_after_refund_status_refresh_heals_both(run, sandbox, stripe_client, doctor, hold):
    refunded = authorised(run, sandbox, doctor["rpps"])
    assert run("capture", refunded, "--yes").exit_code == 0
    crash("cancel", hold, "--yes")
    crash("refund", refunded, "10", "--yes")
    assert consultation(hold).state == "uncaptured" and consultation(refunded).refunded_cents == 0
    assert stripe_pi(stripe_client, doctor, hold).status == "canceled"

    for cid in (hold, refunded):
        assert run("status", cid, "--refresh").exit_code == 0
    assert consultation(hold).state == "canceled"
    row = consultation(refunded)
    assert (row.state, row.refunded_cents) == ("partially_refunded", 1000)
