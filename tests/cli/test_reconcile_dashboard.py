"""reconcile also sees what the practitioner did in their dashboard to payments it considered done, in the
pages it already reads; and cron's commands work with a read-only restricted key (rk_test_…) while a write
says which permission is missing (docs/cli.md, docs/sandbox.md "Restricted keys")."""

from __future__ import annotations

import json

from sarapay.stripe_gateway import Gateway

from .payments_helpers import TEST_KEY, consultation, link_practitioner, plan_paid, posts, session_id_of, last_seq


def _held(run, sandbox, rpps: str, at: str) -> str:
    cid = plan_paid(run, rpps, at=at)["id"]
    sandbox.pay(session_id_of(cid))
    assert run("status", cid, "--refresh").exit_code == 0
    return cid


def test_dashboard_refund_of_a_done_payment_is_seen_in_the_same_pages(run, sandbox):
    practitioner = link_practitioner(sandbox)
    rpps, acct = practitioner["rpps"], practitioner["account"]
    done = _held(run, sandbox, rpps, "01/12/2099 10:30")
    assert run("capture", done, "--yes").exit_code == 0
    assert consultation(done).state == "succeeded"
    _held(run, sandbox, rpps, "02/12/2099 10:30")  # an open one: the account's pages are read
    dashboard = Gateway(TEST_KEY, api_base=sandbox.url)._client
    dashboard.v1.refunds.create(params={"payment_intent": consultation(done).payment_intent_id, "amount": 1000},
                                options={"stripe_account": acct})
    seq = last_seq(sandbox)
    result = run("reconcile", "--json")
    assert result.exit_code in (0, 8), result.stderr
    row = consultation(done)
    assert row.state == "partially_refunded" and row.refunded_cents == 1000
    changes = json.loads(result.stdout)["changes"]
    assert {"consultation_id": done, "rpps": rpps, "from": "succeeded", "to": "partially_refunded"} in changes
    reads = [r for r in sandbox.requests(seq) if r["method"] == "GET"]
    # No request more for the dashboard change: the sessions list it was seen in, and the account's one list of
    # disputes that reconcile reads anyway for an account with a recent capture.
    assert sorted(r["path"] for r in reads) == ["/v1/checkout/sessions", "/v1/disputes"]
    assert posts(sandbox, seq) == []


def test_cron_commands_work_with_a_read_only_key_and_writes_name_the_missing_permission(run, sandbox, monkeypatch):
    practitioner = link_practitioner(sandbox)
    cid = _held(run, sandbox, practitioner["rpps"], "01/12/2099 10:30")
    monkeypatch.setenv("STRIPE_API_KEY", sandbox.restricted_key(TEST_KEY))
    assert run("reconcile", "--json").exit_code in (0, 8)
    assert run("status", "--refresh", cid).exit_code == 0
    assert run("payouts", practitioner["rpps"]).exit_code == 0
    result = run("capture", cid, "--yes")
    assert result.exit_code == 4, result.stderr
    assert "rak_payment_intent_write" in result.stderr and "rk_test_…" in result.stderr
    assert consultation(cid).state == "uncaptured"
