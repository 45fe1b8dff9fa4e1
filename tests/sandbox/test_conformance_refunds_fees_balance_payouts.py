"""Conformance: refunds of the released remainder, fees, balances, payouts (stripe.md §1, §3, §6, §7)."""

from __future__ import annotations

from .helpers import DAY, acct, authorise, capture, charge_of, client, retrieve_pi  # noqa: F401


def _bt(client, acct, pi_id):
    pi = retrieve_pi(client, acct, pi_id, "latest_charge.balance_transaction")
    return pi.latest_charge.balance_transaction


def _balance(client, acct):
    return client.v1.balance.retrieve(options={"stripe_account": acct})


def _amount(entries, currency="eur"):
    return sum(e.amount for e in entries if e.currency == currency)


def test_partial_capture_creates_a_refund_for_the_remainder(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, 2000)
    charge = charge_of(client, acct, auth.pi_id)
    refunds = client.v1.refunds.list(params={"charge": charge.id}, options={"stripe_account": acct}).data
    assert len(refunds) == 1
    refund = refunds[0]
    assert refund.object == "refund"
    assert refund.id.startswith("re_")
    assert refund.amount == 500
    assert refund.currency == "eur"
    assert refund.charge == charge.id
    assert refund.payment_intent == auth.pi_id
    assert refund.status == "succeeded"


def test_full_capture_creates_no_refund(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    charge = charge_of(client, acct, auth.pi_id)
    assert client.v1.refunds.list(params={"charge": charge.id}, options={"stripe_account": acct}).data == []


def test_fee_is_1_5_percent_plus_25_cents_on_a_full_capture(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    bt = _bt(client, acct, auth.pi_id)
    assert bt.object == "balance_transaction"
    assert bt.amount == 2500
    assert bt.fee == 63  # 37.5 + 25, half up
    assert bt.net == 2437
    assert bt.currency == "eur"


def test_fee_is_charged_on_the_captured_amount_not_the_authorised_one(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, 2000)
    bt = _bt(client, acct, auth.pi_id)
    assert bt.amount == 2000
    assert bt.fee == 55
    assert bt.net == 1945


def test_fee_rounds_half_up_to_the_cent(sandbox, client, acct):
    # 1.5 % of 2300 = 34.5: half up gives 35 (+25 = 60); half even would give 34.
    auth = authorise(sandbox, client, acct, 2300)
    capture(client, acct, auth.pi_id)
    bt = _bt(client, acct, auth.pi_id)
    assert bt.fee == 60
    assert bt.net == 2240


def test_fee_details_hold_one_stripe_fee_entry(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    bt = _bt(client, acct, auth.pi_id)
    details = [(d.type, d.amount, d.currency) for d in bt.fee_details]
    assert details == [("stripe_fee", 63, "eur")]


def test_charge_balance_transaction_is_a_pending_charge_sourced_from_the_charge(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    pi = retrieve_pi(client, acct, auth.pi_id, "latest_charge.balance_transaction")
    bt = pi.latest_charge.balance_transaction
    assert bt.id.startswith("txn_")
    assert bt.type in ("charge", "payment")
    assert bt.status == "pending"
    assert bt.source == pi.latest_charge.id
    assert bt.available_on >= pi.latest_charge.created + 7 * DAY - DAY


def test_application_fee_appears_in_fee_details_of_a_direct_charge(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, application_fee_amount=100)
    bt = _bt(client, acct, auth.pi_id)
    by_type = {d.type: d for d in bt.fee_details}
    assert by_type["stripe_fee"].amount == 63
    assert by_type["application_fee"].amount == 100
    assert by_type["application_fee"].application == "ca_sarapayTests0000"
    assert bt.fee == 163
    assert bt.net == 2500 - 163


def test_balance_is_pending_after_capture(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    balance = _balance(client, acct)
    assert balance.object == "balance"
    assert "id" not in balance
    assert balance.livemode is False
    assert _amount(balance.pending) == 2437
    assert _amount(balance.available) == 0


def test_authorisation_alone_does_not_move_the_balance(sandbox, client, acct):
    authorise(sandbox, client, acct, 2500)
    balance = _balance(client, acct)
    assert _amount(balance.pending) == 0
    assert _amount(balance.available) == 0


def test_direct_charge_does_not_touch_the_platform_balance(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    platform = client.v1.balance.retrieve()
    assert _amount(platform.pending) == 0
    assert _amount(platform.available) == 0


def test_balance_becomes_available_after_the_delay(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    bt = _bt(client, acct, auth.pi_id)
    sandbox.advance(bt.available_on - sandbox.now() + 1)
    assert _bt(client, acct, auth.pi_id).status == "available"
    balance = _balance(client, acct)
    assert _amount(balance.pending) == 0
    # The daily automatic payout may already have taken the available funds: they are in one or the other.
    paid_out = sum(p.amount for p in client.v1.payouts.list(options={"stripe_account": acct}).data)
    assert _amount(balance.available) + paid_out == 2437


def test_balance_is_still_pending_one_day_before_the_delay(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(5 * DAY)
    assert _bt(client, acct, auth.pi_id).status == "pending"
    assert _amount(_balance(client, acct).pending) == 2437


def test_automatic_payout_of_the_available_balance_after_the_clock_moves(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payouts = client.v1.payouts.list(options={"stripe_account": acct}).data
    assert len(payouts) == 1
    payout = payouts[0]
    assert payout.object == "payout"
    assert payout.id.startswith("po_")
    assert payout.amount == 2437
    assert payout.currency == "eur"
    assert payout.automatic is True
    assert payout.arrival_date == payout.created + 2 * DAY
    assert _amount(_balance(client, acct).available) == 0


def test_payout_is_paid_once_its_arrival_date_passes(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = client.v1.payouts.list(options={"stripe_account": acct}).data[0]
    assert payout.status in ("pending", "in_transit")
    sandbox.advance(payout.arrival_date - sandbox.now() + 1)
    again = client.v1.payouts.retrieve(payout.id, options={"stripe_account": acct})
    assert again.status == "paid"


def test_payout_has_a_negative_payout_balance_transaction(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = client.v1.payouts.list(options={"stripe_account": acct}).data[0]
    txns = client.v1.balance_transactions.list(params={"type": "payout"}, options={"stripe_account": acct}).data
    assert [(t.id, t.amount, t.type) for t in txns] == [(payout.balance_transaction, -2437, "payout")]


def test_no_payout_while_nothing_is_available(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(2 * DAY)
    assert client.v1.payouts.list(options={"stripe_account": acct}).data == []


def test_balance_transactions_list_holds_the_charge(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    bt = _bt(client, acct, auth.pi_id)
    listed = client.v1.balance_transactions.list(options={"stripe_account": acct})
    assert listed.object == "list"
    assert bt.id in [t.id for t in listed.data]


def _charging_created_account(sandbox, client, interval="manual"):
    account = client.v1.accounts.create(
        params={
            "country": "FR",
            "email": "cree@example.org",
            "controller": {
                "fees": {"payer": "account"},
                "losses": {"payments": "stripe"},
                "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "full"},
            },
        }
    )
    sandbox.complete_onboarding(account.id, "complete")
    client.v1.accounts.update(account.id, params={"settings": {"payouts": {"schedule": {"interval": interval}}}})
    return account.id


def test_manual_payout_schedule_keeps_the_balance_available(sandbox, client):
    acct_id = _charging_created_account(sandbox, client, "manual")
    auth = authorise(sandbox, client, acct_id, 2500)
    capture(client, acct_id, auth.pi_id)
    sandbox.advance(10 * DAY)
    assert client.v1.payouts.list(options={"stripe_account": acct_id}).data == []
    balance = _balance(client, acct_id)
    assert _amount(balance.available) == 2437
    assert _amount(balance.pending) == 0


def test_platform_balance_receives_the_application_fee(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, application_fee_amount=100)
    platform = client.v1.balance.retrieve()
    assert _amount(platform.pending) + _amount(platform.available) == 100
    txns = client.v1.balance_transactions.list(params={"type": "application_fee"}).data
    assert [(t.amount, t.fee) for t in txns] == [(100, 0)]


def test_payouts_status_filter(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = client.v1.payouts.list(options={"stripe_account": acct}).data[0]
    sandbox.advance(payout.arrival_date - sandbox.now() + 1)
    paid = client.v1.payouts.list(params={"status": "paid"}, options={"stripe_account": acct}).data
    pending = client.v1.payouts.list(params={"status": "pending"}, options={"stripe_account": acct}).data
    assert [p.id for p in paid] == [payout.id]
    assert pending == []


def test_automatic_payout_cannot_be_canceled(sandbox, client, acct):
    import pytest
    import stripe

    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = client.v1.payouts.list(options={"stripe_account": acct}).data[0]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payouts.cancel(payout.id, options={"stripe_account": acct})
    assert info.value.http_status == 400


def test_balance_transactions_type_filter(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    charges = client.v1.balance_transactions.list(params={"type": "charge"}, options={"stripe_account": acct}).data
    assert [t.amount for t in charges] == [2500]


def test_balance_entries_carry_card_source_types(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    pending = [e for e in _balance(client, acct).pending if e.currency == "eur"][0]
    assert pending.source_types.card == 2437


def test_automatic_payout_fields(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    sandbox.advance(9 * DAY)
    payout = client.v1.payouts.list(options={"stripe_account": acct}).data[0]
    assert payout.method == "standard"
    assert payout.type == "bank_account"
    assert payout.source_type == "card"
    assert isinstance(payout.destination, str) and payout.destination.startswith("ba_")
    assert payout.failure_code is None


def test_platform_lists_its_application_fee(sandbox, client, acct):
    # stripe.md §3: "The platform gets an ApplicationFee fee_..." on its own account, naming the connected account.
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, application_fee_amount=100)
    fees = client.v1.application_fees.list().data
    assert len(fees) == 1
    assert fees[0].id.startswith("fee_")
    assert fees[0].amount == 100
    assert fees[0].account == acct
    # Not visible from the connected account: the fee is the platform's.
    assert client.v1.application_fees.list(options={"stripe_account": acct}).data == []
