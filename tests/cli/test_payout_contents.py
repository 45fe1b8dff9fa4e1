"""`sarapay payouts RPPS --payout po_…`: what one payout contains, from Stripe's balance transactions of the
payout (sandbox over HTTP, clock advanced until the automatic payout is paid); a manual payout says why its
contents cannot be known. Expected amounts are computed here from the fee rule, never read from the output."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from sarapay.rpps import make_test_rpps

from .payments_helpers import DAY, GOOD_CARD, authorised, half_up_fee, link_practitioner

EUR = "\u00a0€"


def paid_payout(run, rpps: str) -> dict:
    view = json.loads(run("payouts", rpps, "--json").stdout)
    payouts = view["payouts"]
    assert len(payouts) == 1, payouts
    return payouts[0]


def lists(sandbox, since: int) -> list[str]:
    """The Stripe API paths sarapay asked for since `since` (the sandbox's request log)."""
    return [r["path"] for r in sandbox.requests(since) if r["method"] == "GET"]


def last_seq(sandbox) -> int:
    log = sandbox.requests()
    return log[-1]["seq"] if log else 0


@pytest.fixture
def story(run, sandbox):
    """Three captures (one partial) and a refund, then the clock moved until the daily payout is paid."""
    practitioner = link_practitioner(sandbox, 301)
    rpps = practitioner["rpps"]
    full = authorised(run, sandbox, rpps)                  # 25,00 € hold, captured whole
    partial = authorised(run, sandbox, rpps)               # 25,00 € hold, 18,00 € captured
    refunded = authorised(run, sandbox, rpps)              # 20,00 € captured, 5,00 € refunded
    for cid, amount in ((full, None), (partial, "18"), (refunded, "20")):
        args = ["capture", cid, "--yes"] if amount is None else ["capture", cid, amount, "--yes"]
        assert run(*args).exit_code == 0
    assert run("refund", refunded, "5", "--yes").exit_code == 0
    sandbox.advance(12 * DAY)  # available after 7 days, paid out at the next 00:00 UTC, arrived 2 days later
    return {"rpps": rpps, "account": practitioner["account"], "full": full, "partial": partial, "refunded": refunded}


def test_one_line_per_transaction_and_the_nets_add_up_to_the_payout(run, sandbox, story):
    payout = paid_payout(run, story["rpps"])
    assert payout["status"] == "paid"
    since = last_seq(sandbox)
    result = run("payouts", story["rpps"], "--payout", payout["id"], "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)

    # Expected, from the fee rule (1,5 % + 0,25 €, half up) on what was captured; a refund returns no fee.
    expected = {
        (story["full"], "charge"): (2500, half_up_fee(2500)),
        (story["partial"], "charge"): (1800, half_up_fee(1800)),
        (story["refunded"], "charge"): (2000, half_up_fee(2000)),
        (story["refunded"], "refund"): (-500, 0),
    }
    lines = view["transactions"]
    got = {(row["consultation_id"], row["kind"]): (row["amount_cents"], row["fee_cents"]) for row in lines}
    assert got == expected
    assert len(lines) == 4
    for row in lines:
        assert row["net_cents"] == row["amount_cents"] - row["fee_cents"]
        assert row["currency"] == "eur" and row["created"].endswith("Z") and row["id"].startswith("txn_")
    expected_amount = sum(gross - fee for gross, fee in expected.values())
    assert view["payout"]["amount_cents"] == expected_amount
    assert view["totals"] == {
        "count": 4,
        "amount_cents": 2500 + 1800 + 2000 - 500,
        "fee_cents": half_up_fee(2500) + half_up_fee(1800) + half_up_fee(2000),
        "net_cents": expected_amount,
        "currency": "eur",
    }
    assert view["difference_cents"] == 0
    assert (view["reconcilable"], view["reason"], view["rpps"], view["account_id"]) == (True, None, story["rpps"], story["account"])
    assert list(lines[0]) == [
        "id", "kind", "type", "reporting_category", "created", "consultation_id", "source_id",
        "amount_cents", "fee_cents", "net_cents", "currency", "status",
    ]
    # One request for the payout, one list request for its transactions with their sources: none per line.
    assert lists(sandbox, since) == [f"/v1/payouts/{payout['id']}", "/v1/balance_transactions"]
    listed = [r for r in sandbox.requests(since) if r["path"] == "/v1/balance_transactions"][0]["params"]
    assert listed["payout"] == payout["id"]
    assert "data.source" in json.dumps(listed)


def test_human_view_shows_each_consultation_and_the_check(run, sandbox, story):
    payout = paid_payout(run, story["rpps"])
    result = run("payouts", story["rpps"], "--payout", payout["id"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert payout["id"] in out
    net_partial = 1800 - half_up_fee(1800)
    assert "Paiement" in out and "Remboursement" in out
    line = next(text for text in out.splitlines() if story["partial"] in text)
    assert f"{net_partial // 100},{net_partial % 100:02d}{EUR}" in line
    refund_line = next(text for text in out.splitlines() if "Remboursement" in text)
    assert story["refunded"] in refund_line and f"-5,00{EUR}" in refund_line
    assert "Somme des nets" in out and "Écart" in out and f"0,00{EUR}" in out
    assert "Attention" not in result.stderr
    # Oldest first: a refund comes after the payment it returns.
    rows = [text for text in out.splitlines() if story["refunded"] in text]
    assert "Paiement" in rows[0] and "Remboursement" in rows[1]


def test_the_table_fits_80_columns_on_a_terminal(run, sandbox, story, monkeypatch):
    from sarapay.render import console

    payout = paid_payout(run, story["rpps"])
    monkeypatch.setattr(console, "isatty", lambda stream: True)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("SARAPAY_PAGER", "cat")
    console._consoles.clear()
    result = run("payouts", story["rpps"], "--payout", payout["id"])
    console._consoles.clear()
    assert result.exit_code == 0, result.stderr
    assert max(len(text) for text in result.stdout.splitlines()) <= 80
    assert story["full"] in result.stdout


def test_english(run, sandbox, story):
    payout = paid_payout(run, story["rpps"])
    result = run("--lang", "en", "payouts", story["rpps"], "--payout", payout["id"])
    assert result.exit_code == 0
    assert "Refund" in result.stdout and "Sum of the nets" in result.stdout and "-€5.00" in result.stdout


def _created_account(sandbox, stripe_client) -> str:
    client = stripe_client()
    account = client.v1.accounts.create(params={
        "country": "FR", "email": "manuel@example.org",
        "controller": {"fees": {"payer": "account"}, "losses": {"payments": "stripe"},
                       "requirement_collection": "stripe", "stripe_dashboard": {"type": "full"}},
    })
    sandbox.complete_onboarding(account.id)
    return account.id


def test_a_manual_payout_says_why_its_contents_cannot_be_known(run, sandbox, stripe_client):
    from .payments_helpers import ledger

    rpps = make_test_rpps(302)
    account = _created_account(sandbox, stripe_client)
    with ledger() as book:
        book.upsert_practitioner(rpps, name="Dr Manuel", account_id=account, link_method="created",
                                 linked_at=datetime.now(timezone.utc))
    assert run("payouts", rpps, "--schedule", "manual").exit_code == 0
    cid = authorised(run, sandbox, rpps)
    assert run("capture", cid, "--yes").exit_code == 0
    sandbox.advance(8 * DAY)
    manual = stripe_client().v1.payouts.create(params={"amount": 2500 - half_up_fee(2500), "currency": "eur"},
                                               options={"stripe_account": account})
    since = last_seq(sandbox)
    human = run("payouts", rpps, "--payout", manual.id)
    assert human.exit_code == 0, human.stderr
    assert manual.id in human.stdout and "manuel" in human.stdout
    assert "versement manuel" in human.stderr and "Stripe ne relie les transactions" in human.stderr
    assert f"sarapay statement {rpps} --month" in human.stderr
    as_json = run("payouts", rpps, "--payout", manual.id, "--json")
    view = json.loads(as_json.stdout)
    assert (view["reconcilable"], view["reason"], view["transactions"], view["totals"]) == (False, "manual_payout", None, None)
    assert view["payout"]["automatic"] is False
    # Nothing asked of Stripe's payout filter, which works for automatic payouts only.
    assert "/v1/balance_transactions" not in lists(sandbox, since)


@pytest.mark.parametrize("value", ["123", "tr_123", "po_", "po_ab-cd"])
def test_a_malformed_payout_id_exits_2_before_any_request(run, sandbox, value):
    rpps = link_practitioner(sandbox, 303)["rpps"]
    since = last_seq(sandbox)
    result = run("payouts", rpps, "--payout", value)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "po_" in result.stderr
    assert lists(sandbox, since) == []


def test_an_unknown_payout_exits_5(run, sandbox):
    rpps = link_practitioner(sandbox, 304)["rpps"]
    result = run("payouts", rpps, "--payout", "po_doesnotexist")
    assert (result.exit_code, result.stdout) == (5, "")


def test_payout_and_schedule_together_exit_2(run, sandbox):
    rpps = link_practitioner(sandbox, 305)["rpps"]
    assert run("payouts", rpps, "--payout", "po_x1", "--schedule", "daily").exit_code == 2


def test_many_transactions_take_one_list_request_per_hundred(run, sandbox, stripe_client):
    """105 captures in one payout: two list pages (100 + 5), not one request per transaction."""
    practitioner = link_practitioner(sandbox, 306)
    client = stripe_client()
    options = {"stripe_account": practitioner["account"]}
    for n in range(105):
        session = client.v1.checkout.sessions.create(params={
            "mode": "payment", "payment_intent_data": {"capture_method": "manual", "metadata": {"consultation_id": f"TC-N{n:05d}"}},
            "line_items": [{"price_data": {"currency": "eur", "unit_amount": 1000 + n, "product_data": {"name": "Téléconsultation"}}, "quantity": 1}],
            "success_url": "https://example.org/ok", "cancel_url": "https://example.org/ko",
        }, options=options)
        pi = sandbox.pay(session.id, GOOD_CARD)["payment_intent"]
        client.v1.payment_intents.capture(pi["id"] if isinstance(pi, dict) else pi, options=options)
    sandbox.advance(12 * DAY)
    payout = paid_payout(run, practitioner["rpps"])
    since = last_seq(sandbox)
    view = json.loads(run("payouts", practitioner["rpps"], "--payout", payout["id"], "--json").stdout)
    assert len(view["transactions"]) == 105
    assert sorted(row["consultation_id"] for row in view["transactions"]) == [f"TC-N{n:05d}" for n in range(105)]
    expected_net = sum(1000 + n - half_up_fee(1000 + n) for n in range(105))
    assert view["totals"]["net_cents"] == expected_net == view["payout"]["amount_cents"]
    assert view["difference_cents"] == 0
    assert lists(sandbox, since) == [f"/v1/payouts/{payout['id']}", "/v1/balance_transactions", "/v1/balance_transactions"]


def test_a_difference_is_shown_never_hidden(capsys):
    """Stripe's nets not adding up to the payout (a reconciliation still running, a line Stripe left out):
    the table says the difference, and a warning says it on stderr in every output mode."""
    from sarapay.render.payouts import payout_contents_view
    from sarapay.cli.payouts_cmd import _explain

    line = {"id": "txn_1", "kind": "charge", "type": "charge", "reporting_category": "charge", "created": "2026-11-30T09:00:00Z",
            "consultation_id": "TC-AAAAAA", "source_id": "ch_1", "amount_cents": 2500, "fee_cents": 63, "net_cents": 2437,
            "currency": "eur", "status": "available"}
    view = {
        "rpps": make_test_rpps(307), "account_id": "acct_x",
        "payout": {"id": "po_1", "amount_cents": 2474, "currency": "eur", "status": "paid", "arrival_date": "2026-12-02T00:00:00Z",
                   "created": "2026-11-30T00:00:00Z", "automatic": True, "method": "standard", "reconciliation_status": "completed"},
        "reconcilable": True, "reason": None, "transactions": [line],
        "totals": {"count": 1, "amount_cents": 2500, "fee_cents": 63, "net_cents": 2437, "currency": "eur"},
        "difference_cents": 2437 - 2474,
    }
    payout_contents_view(view)
    _explain(view, human=False)  # as under --json
    out, err = capsys.readouterr()
    assert f"-0,37{EUR}" in next(text for text in out.splitlines() if "Écart" in text)
    assert "Attention" in err and f"-0,37{EUR}" in err and f"24,37{EUR}" in err and f"24,74{EUR}" in err
