"""A 429 storm while `sarapay reconcile` reads Stripe: it backs off, finishes or exits 6, never half-writes."""

from __future__ import annotations

import pytest

from tests.cli.payments_helpers import authorised, consultation, last_seq
from tests.reliability.conftest import dump_tables, sarapay_proc


# -------------------------------------------------------------------------------


@pytest.fixture
def open_holds(run, sandbox, doctor):
    """Three consultations whose patients left a card hold on Stripe, still « Incomplet » in the ledger."""
    from tests.cli.payments_helpers import link_practitioner

    other = link_practitioner(sandbox, 42, name="Dr Bernard")
    cids = [authorised(run, sandbox, doctor["rpps"]), authorised(run, sandbox, doctor["rpps"]),
            authorised(run, sandbox, other["rpps"])]
    assert {consultation(c).state for c in cids} == {"incomplete"}
    return cids


def _consistent(row):
    """A row is either the old copy or Stripe's new state in full, never half of each."""
    if row.state == "incomplete":
        return row["authorised_cents"] in (0, None) and row["payment_intent_id"] in (None, row["payment_intent_id"])
    return row.state == "uncaptured" and row.authorised_cents == 2500 and row.payment_intent_id \
        and row.capture_before and row.stripe_synced_at


def test_a_short_429_storm_during_reconcile_backs_off_and_finishes(run, sandbox, open_holds):
    since = last_seq(sandbox)
    sandbox.fault("429", 2, method="GET")
    result = run("reconcile", "--json")
    assert result.exit_code in (0, 8), result.stderr
    log = [r for r in sandbox.requests(since)]
    assert [r["status"] for r in log].count(429) == 2
    assert not [r for r in log if r["method"] != "GET"]  # reconcile only reads Stripe
    for cid in open_holds:
        row = consultation(cid)
        assert row.state == "uncaptured" and _consistent(row), row


def test_a_429_storm_that_outlasts_the_backoff_exits_6_without_half_writes(run, sandbox, open_holds):
    before = dump_tables()
    sandbox.fault("429", 1000, method="GET")
    try:
        result = run("reconcile")
    finally:
        sandbox.clear_faults()
    assert result.exit_code == 6, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert "429" in result.stderr
    assert dump_tables() == before  # nothing it could not read is written (the last-run time neither)
    # the next run, once Stripe answers again, heals everything
    healed = run("reconcile")
    assert healed.exit_code in (0, 8), healed.stderr
    assert {consultation(c).state for c in open_holds} == {"uncaptured"}


def test_a_storm_that_beats_some_accounts_only_leaves_each_row_whole(run, sandbox, open_holds):
    """Five 429s shared by two accounts read in parallel: each account either gets through or not, and
    every row is either the old copy or Stripe's state in full."""
    sandbox.fault("429", 5, method="GET")
    try:
        result = run("reconcile")
    finally:
        sandbox.clear_faults()
    assert result.exit_code in (0, 6, 8), result.stderr
    assert "Traceback" not in result.stderr
    rows = [consultation(c) for c in open_holds]
    assert all(_consistent(row) for row in rows), rows
    if result.exit_code != 6:
        assert {row.state for row in rows} == {"uncaptured"}


def test_killed_after_cancel_reconcile_heals_the_row(run, sandbox, doctor):
    """SARAPAY_TEST_CRASH_AFTER=stripe: the process dies after Stripe released the hold, before the ledger."""
    hold = authorised(run, sandbox, doctor["rpps"])
    assert run("status", hold, "--refresh").exit_code == 0
    proc = sarapay_proc("cancel", hold, "--yes", env={"SARAPAY_TEST_CRASH_AFTER": "stripe"})
    assert proc.returncode == 137, proc.stderr
    assert consultation(hold).state == "uncaptured"
    result = run("reconcile")
    assert result.exit_code in (0, 8), result.stderr
    assert consultation(hold).state == "canceled"
