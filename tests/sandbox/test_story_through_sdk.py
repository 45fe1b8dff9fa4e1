"""The whole story of product.md through the real stripe SDK, with nothing of sarapay's client code:
OAuth link, Checkout with a hold, the patient pays, partial capture, Stripe's fee, balance, payout."""

from __future__ import annotations

import urllib.parse

DAY = 86400


def test_oauth_link_hold_partial_capture_fee_balance_and_payout(sandbox, stripe_client):
    client = stripe_client(retries=2)

    # 1. The practitioner consents on the OAuth page; the platform exchanges the single-use code.
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "csrf-1", "stripe_user": {"email": "dr@example.fr"}})
    assert urllib.parse.urlsplit(url).path == "/oauth/authorize"
    consent = sandbox.oauth_authorize(url, decision="approve")
    assert consent["state"] == "csrf-1"
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    account = token.stripe_user_id
    on_account = {"stripe_account": account}

    # 2. A Checkout Session in payment mode with a manual-capture hold of 25 €, on the practitioner's account.
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": {"currency": "eur", "unit_amount": 2500, "product_data": {"name": "Téléconsultation"}}, "quantity": 1}],
            "payment_intent_data": {"capture_method": "manual", "metadata": {"consultation_id": "TC-ABCDEF"}},
            "success_url": "https://portail.example.fr/merci",
        },
        options=on_account,
    )
    assert session.payment_intent is None and session.status == "open"

    # 3. The patient pays: the card is authorised, not charged.
    sandbox.pay(session.id, "4242 4242 4242 4242")
    session = client.v1.checkout.sessions.retrieve(session.id, options=on_account)
    intent = client.v1.payment_intents.retrieve(session.payment_intent, params={"expand": ["latest_charge"]}, options=on_account)
    assert (intent.status, intent.amount_capturable, intent.amount_received) == ("requires_capture", 2500, 0)
    assert intent.metadata["consultation_id"] == "TC-ABCDEF"
    assert intent.latest_charge.captured is False

    # 4. After the act, 20 € of the 25 € are captured; the other 5 € are released.
    intent = client.v1.payment_intents.capture(
        intent.id,
        params={"amount_to_capture": 2000, "expand": ["latest_charge.balance_transaction"]},
        options={**on_account, "idempotency_key": "capture-TC-ABCDEF-2000"},
    )
    charge = intent.latest_charge
    assert (intent.status, intent.amount_received, intent.amount_capturable) == ("succeeded", 2000, 0)
    assert (charge.amount_captured, charge.amount_refunded) == (2000, 500)

    # 5. Stripe's fee on the captured amount: 1,5 % × 20,00 € + 0,25 € = 0,55 €; net 19,45 €, pending first.
    txn = charge.balance_transaction
    assert (txn.amount, txn.fee, txn.net, txn.status) == (2000, 55, 1945, "pending")
    balance = client.v1.balance.retrieve(options=on_account)
    assert [(b.amount, b.currency) for b in balance.pending] == [(1945, "eur")]
    assert sum(b.amount for b in balance.available) == 0

    # 6. Days go by on Stripe's clock: the funds become available, a daily automatic payout takes them
    #    and arrives at the bank.
    sandbox.advance(10 * DAY)
    payouts = client.v1.payouts.list(options=on_account).data
    assert [(p.amount, p.status, p.automatic) for p in payouts] == [(1945, "paid", True)]
    balance = client.v1.balance.retrieve(options=on_account)
    assert sum(b.amount for b in balance.available) == 0 and sum(b.amount for b in balance.pending) == 0
