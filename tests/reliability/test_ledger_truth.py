"""The ledger never lies for long: right after each money command, a refresh from Stripe finds nothing to
change. (If it did, the command wrote something Stripe does not say, and the row would flip-flop.)"""

from __future__ import annotations

import pytest

from tests.cli.payments_helpers import authorised, plan_paid
from tests.reliability.conftest import dump_tables


def _settled(run, cid):
    before = dump_tables()
    assert run("status", cid, "--refresh").exit_code == 0
    assert dump_tables() == before


@pytest.mark.parametrize(
    "steps",
    [
        [["capture", "{id}", "--yes"]],
        [["capture", "{id}", "18,40", "--yes"]],
        [["capture", "{id}", "0", "--yes"]],
        [["cancel", "{id}", "--yes"]],
        [["capture", "{id}", "--yes"], ["refund", "{id}", "5", "--yes"]],
        [["capture", "{id}", "--yes"], ["refund", "{id}", "--yes"]],
    ],
    ids=["capture", "partial-capture", "capture-0", "cancel", "partial-refund", "refund"],
)
def test_a_refresh_right_after_a_money_command_changes_nothing(run, sandbox, doctor, steps):
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    for step in steps:
        result = run(*[a.replace("{id}", cid) for a in step])
        assert result.exit_code == 0, result.stderr
        _settled(run, cid)


def test_a_refresh_right_after_closing_a_link_changes_nothing(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"])["id"]
    assert run("cancel", cid, "--yes").exit_code == 0
    _settled(run, cid)
