"""Every mutating command leaves exactly one audit row with its outcome, failed runs included: ok, refused
(bad input once the command is understood, a wrong state, Stripe's refusal, configuration), error (Stripe
unavailable, a bug), dry_run, cancelled (no confirmation).

A value that does not even parse (a mistyped RPPS, amount or schedule) is a refused command too: one row.
Only a combination of options that makes no command at all (--code without --state) leaves none.
"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import audit_rows
from tests.reliability.test_bad_input import AT, World

FAULT_500 = ("500", "POST")


def row(id, args, command, outcome, code, fault=None):
    return pytest.param(list(args), command, outcome, code, fault, id=id)


CASES = [
    row("capture-ok", ["capture", "{hold}", "--yes"], "capture", "ok", 0),
    row("capture-dry-run", ["capture", "{hold}", "--dry-run"], "capture", "dry_run", 0),
    row("capture-no-confirmation", ["capture", "{hold}"], "capture", "cancelled", 3),
    row("capture-wrong-state", ["capture", "{done}", "--yes"], "capture", "refused", 2),
    row("capture-bad-amount", ["capture", "{hold}", "abc", "--yes"], "capture", "refused", 2),
    row("capture-stripe-down", ["capture", "{hold}", "--yes"], "capture", "error", 6, FAULT_500),
    row("cancel-ok", ["cancel", "{hold}", "--yes"], "cancel", "ok", 0),
    row("cancel-wrong-state", ["cancel", "{done}", "--yes"], "cancel", "refused", 2),
    row("cancel-no-confirmation", ["cancel", "{hold}"], "cancel", "cancelled", 3),
    row("refund-ok", ["refund", "{done}", "5", "--yes"], "refund", "ok", 0),
    row("refund-dry-run", ["refund", "{done}", "--dry-run"], "refund", "dry_run", 0),
    row("refund-wrong-state", ["refund", "{hold}", "--yes"], "refund", "refused", 2),
    row("refund-stripe-down", ["refund", "{done}", "--yes"], "refund", "error", 6, FAULT_500),
    row("plan-ok", ["plan", "{A}", "--at", AT, "--paid"], "plan", "ok", 0),
    row("plan-unlinked", ["plan", "{U}", "--at", AT, "--paid"], "plan", "refused", 2),
    row("plan-bad-date", ["plan", "{A}", "--at", "31/02/2026 10:00"], "plan", "refused", 2),
    row("plan-stripe-down", ["plan", "{A}", "--at", AT, "--paid"], "plan", "error", 6, FAULT_500),
    row("pay-link-ok", ["pay-link", "{incomplete}"], "pay-link", "ok", 0),
    row("pay-link-wrong-state", ["pay-link", "{no_pay}"], "pay-link", "refused", 2),
    row("set-max-ok", ["prefs", "set-max", "{A}", "30"], "prefs.set-max", "ok", 0),
    row("set-max-unknown-practitioner", ["prefs", "set-max", "{B}", "30"], "prefs.set-max", "refused", 2),
    row("set-max-bad-amount", ["prefs", "set-max", "{A}", "25,555"], "prefs.set-max", "refused", 2),
    row("set-max-mistyped-rpps", ["prefs", "set-max", "12345", "30"], "prefs.set-max", "refused", 2),
    row("link-mistyped-rpps", ["link", "12345678901", "--email", "dr@example.fr"], "link.oauth-start", "refused", 2),
    row("unlink-mistyped-rpps", ["unlink", "abc", "--yes"], "unlink", "refused", 2),
    row("payouts-junk-schedule", ["payouts", "{A}", "--schedule", "weekly:funday"], "payouts.schedule", "refused", 2),
    row("link-oauth-start", ["link", "{B}", "--email", "dr@example.fr"], "link.oauth-start", "ok", 0),
    row("link-new", ["link", "{B}", "--new", "--email", "dr@example.fr"], "link.new", "ok", 0),
    row("link-check", ["link", "{A}", "--check"], "link.check", "ok", 0),
    row("link-attach-unknown-account", ["link", "{B}", "--account", "acct_1234567890ABCDEF"], "link.attach", "refused", 5),
    row("link-oauth-forged-state", ["link", "{B}", "--code", "ac_1234567890", "--state", "x" * 32], "link.oauth", "refused", 2),
    row("unlink-dry-run", ["unlink", "{A}", "--dry-run"], "unlink", "dry_run", 0),
    row("unlink-no-confirmation", ["unlink", "{A}"], "unlink", "cancelled", 3),
    row("unlink-ok", ["unlink", "{A}", "--yes"], "unlink", "ok", 0),
    row("payouts-schedule-refused", ["payouts", "{A}", "--schedule", "weekly:monday"], "payouts.schedule", "refused", 5),
    row("status-refresh", ["status", "{hold}", "--refresh"], "status.refresh", "ok", 0),
    row("status-refresh-stripe-down", ["status", "{hold}", "--refresh"], "status.refresh", "error", 6, ("500", "GET")),
    row("sync-rebuild", ["sync", "--rebuild", "{A}"], "sync", "ok", 0),
    row("reconcile-mistyped-rpps", ["reconcile", "--practitioner", "12345"], "reconcile", "refused", 2),
    row("reconcile-unknown-practitioner", ["reconcile", "--practitioner", "{B}"], "reconcile", "refused", 2),
]


@pytest.mark.parametrize("args, command, outcome, code, fault", CASES)
def test_one_audit_row_per_mutating_command_with_its_outcome(run, sandbox, args, command, outcome, code, fault):
    from tests.cli.payments_helpers import ledger

    world = World(run, sandbox)
    args = [world.fill(a) for a in args]
    if args[:2] == ["sync", "--rebuild"]:
        args = args[:2]  # {A} only made sure a practitioner is linked
    ledger().close()
    known = {r["id"] for r in audit_rows()}
    if fault:
        sandbox.fault(fault[0], 50, method=fault[1])
    try:
        result = run(*args)
    finally:
        sandbox.clear_faults()
    assert result.exit_code == code, (result.exit_code, result.stderr)
    new = [r for r in audit_rows() if r["id"] not in known]
    assert [(r["command"], r["outcome"]) for r in new] == [(command, outcome)], new


def test_reconcile_writes_a_row_when_it_changed_the_ledger_and_none_when_quiet(run, sandbox, stripe_client):
    """Reconcile is the cron's command: a run that changed nothing adds no row (one every few minutes would
    bury the log); a run that brought a payment up to date adds one."""
    from tests.cli.payments_helpers import TEST_KEY, consultation, ledger

    world = World(run, sandbox)
    hold = consultation(world.fill("{hold}"))
    ledger().close()
    known = {r["id"] for r in audit_rows()}
    # Captured outside sarapay (the practitioner's Stripe dashboard): reconcile brings the ledger up to date.
    stripe_client(TEST_KEY).v1.payment_intents.capture(hold.payment_intent_id, options={"stripe_account": hold.account_id})
    changed = run("reconcile")
    assert changed.exit_code in (0, 8), changed.stderr
    new = [r for r in audit_rows() if r["id"] not in known]
    assert [(r["command"], r["outcome"]) for r in new] == [("reconcile", "ok")], new
    assert new[0]["detail"].startswith("updated=1 ")
    quiet = run("reconcile")
    assert quiet.exit_code in (0, 8), quiet.stderr
    assert [r for r in audit_rows() if r["id"] not in known] == new
