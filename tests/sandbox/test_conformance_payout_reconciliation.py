"""Conformance: what a payout contains and a month of balance transactions (stripe.md §6, §13).

- `GET /v1/balance_transactions?payout=po_…` lists the transactions an automatic payout paid out, each
  `source` expandable (`expand[]=data.source`) to the charge or refund behind it; the filter is
  "for automatic Stripe payouts only" (API reference), so a manual payout is refused (docs/sandbox.md).
- `created[gte]` / `created[lt]` bound the transactions of a period; `arrival_date[gte]` / `[lt]` the
  payouts that arrived in it.
"""

from __future__ import annotations

import pytest
import stripe

from .helpers import DAY, acct, authorise, capture, client  # noqa: F401


def half_up_fee(cents: int) -> int:
    """1,5 % + 0,25 €, the percentage rounded half up (stripe.md §7), in integers."""
    return (cents * 15 + 500) // 1000 + 25


def _paid_payout(sandbox, client, acct):
    payouts = client.v1.payouts.list(options={"stripe_account": acct}).data
    assert len(payouts) == 1, payouts
    return payouts[0]


def test_payout_filter_lists_its_charges_refund_and_itself_and_the_nets_add_up(sandbox, client, acct):
    first = authorise(sandbox, client, acct, 2500, payment_intent_data={"metadata": {"consultation_id": "TC-AAAAAA"}})
    second = authorise(sandbox, client, acct, 1800, payment_intent_data={"metadata": {"consultation_id": "TC-BBBBBB"}})
    capture(client, acct, first.pi_id)
    capture(client, acct, second.pi_id)
    refund = client.v1.refunds.create(params={"payment_intent": second.pi_id, "amount": 500},
                                      options={"stripe_account": acct})
    sandbox.advance(9 * DAY)
    payout = _paid_payout(sandbox, client, acct)
    expected = (2500 - half_up_fee(2500)) + (1800 - half_up_fee(1800)) - 500
    assert payout.amount == expected and payout.automatic is True

    txns = client.v1.balance_transactions.list(
        params={"payout": payout.id, "expand": ["data.source"], "limit": 100}, options={"stripe_account": acct}
    ).data
    by_type: dict[str, list] = {}
    for txn in txns:
        by_type.setdefault(txn.type, []).append(txn)
    assert sorted(by_type) == ["charge", "payout", "refund"]
    assert [t.id for t in by_type["payout"]] == [payout.balance_transaction]
    assert sum(t.net for t in txns if t.type != "payout") == payout.amount
    assert sum(t.net for t in txns) == 0
    # Each source expanded in the same answer: the charge (with the PaymentIntent's metadata) and the refund.
    charges = {t.source.id: t.source for t in by_type["charge"]}
    assert {c.object for c in charges.values()} == {"charge"}
    assert sorted(c.metadata["consultation_id"] for c in charges.values()) == ["TC-AAAAAA", "TC-BBBBBB"]
    [refund_txn] = by_type["refund"]
    assert (refund_txn.source.object, refund_txn.source.id, refund_txn.amount) == ("refund", refund.id, -500)
    assert refund_txn.source.payment_intent == second.pi_id
    assert by_type["payout"][0].source.id == payout.id


def _manual_account(sandbox, client) -> str:
    """An account the platform created, onboarded, on the manual payout schedule."""
    account = client.v1.accounts.create(params={
        "country": "FR", "email": "manuel@example.org",
        "controller": {"fees": {"payer": "account"}, "losses": {"payments": "stripe"},
                       "requirement_collection": "stripe", "stripe_dashboard": {"type": "full"}},
    })
    sandbox.complete_onboarding(account.id, "complete")
    client.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": {"interval": "manual"}}}})
    return account.id


def test_payout_filter_refuses_a_manual_payout(sandbox, client):
    account = _manual_account(sandbox, client)
    auth = authorise(sandbox, client, account, 2500)
    capture(client, account, auth.pi_id)
    sandbox.advance(8 * DAY)  # available after 7 days; the manual schedule pays nothing out by itself
    options = {"stripe_account": account}
    manual = client.v1.payouts.create(params={"amount": 2500 - half_up_fee(2500), "currency": "eur"}, options=options)
    assert manual.automatic is False
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.balance_transactions.list(params={"payout": manual.id}, options=options)
    assert info.value.http_status == 400
    assert "automatic" in str(info.value)


def test_payout_filter_with_an_unknown_payout_is_404(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.balance_transactions.list(params={"payout": "po_nope"}, options={"stripe_account": acct})
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"


def test_created_range_bounds_the_transactions_of_a_period(sandbox, client, acct):
    early = authorise(sandbox, client, acct, 2500)
    capture(client, acct, early.pi_id)
    boundary = sandbox.now() + 3600
    sandbox.advance(2 * 3600)
    late = authorise(sandbox, client, acct, 1800)
    capture(client, acct, late.pi_id)
    options = {"stripe_account": acct}
    before = client.v1.balance_transactions.list(params={"created": {"lt": boundary}}, options=options).data
    after = client.v1.balance_transactions.list(params={"created": {"gte": boundary}}, options=options).data
    assert [t.amount for t in before] == [2500]
    assert [t.amount for t in after] == [1800]


def test_arrival_date_range_selects_the_payouts_that_arrived(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = _paid_payout(sandbox, client, acct)
    options = {"stripe_account": acct}
    inside = client.v1.payouts.list(params={"arrival_date": {"gte": payout.arrival_date, "lt": payout.arrival_date + 1}},
                                    options=options).data
    outside = client.v1.payouts.list(params={"arrival_date": {"lt": payout.arrival_date}}, options=options).data
    assert [p.id for p in inside] == [payout.id]
    assert outside == []
