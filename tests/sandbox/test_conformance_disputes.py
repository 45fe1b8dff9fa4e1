"""Conformance: disputes of direct charges (stripe.md §13, docs/sandbox.md "Disputes").

What Stripe documents, checked through the real SDK: the dispute test cards (4000 0000 0000 0259 fraudulent,
…2685 product not received, …1976 an inquiry) dispute a payment after it succeeded; the dispute lives on the
connected account (`Stripe-Account`), with `evidence_details.due_by`; the charge says `disputed: true`; a
chargeback withdraws the amount and the dispute fee in one balance transaction whose source is the dispute;
the texts `winning_evidence` / `losing_evidence` decide the outcome in test mode; closing a dispute accepts
it (lost); a won dispute is reinstated; the events `charge.dispute.created`, `.funds_withdrawn`, `.updated`,
`.closed`, `.funds_reinstated`. The sandbox's own choices (when the dispute appears, the fee constant, the
deadline running out) are those of docs/sandbox.md.
"""

from __future__ import annotations

import pytest
import stripe

from sarapay.sandbox_control import SandboxControlError

from .helpers import DAY, acct, authorise, capture, charge_of, client, connect_account, create_session, event_types  # noqa: F401

FRAUD_CARD = "4000000000000259"
NOT_RECEIVED_CARD = "4000000000002685"
INQUIRY_CARD = "4000000000001976"
DISPUTE_FEE = 1500


def disputed_payment(sandbox, client, acct, card=FRAUD_CARD, amount=2500, captured=None):
    session = create_session(client, acct, amount)
    assert sandbox.pay(session.id, card)["outcome"] == "authorized"
    pi_id = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).payment_intent
    answer = capture(client, acct, pi_id, captured, expand=["latest_charge"])
    return pi_id, answer


def dispute_of(client, acct, pi_id):
    (dispute,) = client.v1.disputes.list(params={"payment_intent": pi_id}, options={"stripe_account": acct}).data
    return dispute


def balance(client, acct):
    b = client.v1.balance.retrieve(options={"stripe_account": acct})
    return sum(e.amount for e in b.available), sum(e.amount for e in b.pending)


def test_a_fraudulent_dispute_arrives_after_the_capture(sandbox, client, acct):
    pi_id, answer = disputed_payment(sandbox, client, acct)
    assert answer.status == "succeeded" and answer.latest_charge.disputed is False  # the capture's own answer
    dispute = dispute_of(client, acct, pi_id)
    charge = charge_of(client, acct, pi_id)
    assert charge.disputed is True
    assert dispute.object == "dispute" and dispute.id.startswith("dp_")
    assert dispute.status == "needs_response" and dispute.reason == "fraudulent"
    assert dispute.amount == 2500 and dispute.currency == "eur"
    assert dispute.charge == charge.id and dispute.payment_intent == pi_id
    assert dispute.is_charge_refundable is False and dispute.livemode is False
    assert dispute.evidence_details.due_by == dispute.created + 7 * DAY
    assert dispute.evidence_details.has_evidence is False and dispute.evidence_details.submission_count == 0
    assert dispute.payment_method_details.type == "card"
    assert dispute.payment_method_details.card.case_type == "chargeback"


def test_the_other_test_cards(sandbox, client, acct):
    not_received, _ = disputed_payment(sandbox, client, acct, NOT_RECEIVED_CARD)
    assert dispute_of(client, acct, not_received).reason == "product_not_received"
    inquiry_pi, _ = disputed_payment(sandbox, client, acct, INQUIRY_CARD)
    inquiry = dispute_of(client, acct, inquiry_pi)
    assert inquiry.status == "warning_needs_response" and inquiry.is_charge_refundable is True
    assert inquiry.balance_transactions == [] and inquiry.payment_method_details.card.case_type == "inquiry"
    plain = authorise(sandbox, client, acct)
    capture(client, acct, plain.pi_id)
    assert client.v1.disputes.list(params={"payment_intent": plain.pi_id}, options={"stripe_account": acct}).data == []
    assert charge_of(client, acct, plain.pi_id).disputed is False


def test_the_withdrawal_takes_the_amount_and_the_dispute_fee(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct, captured=2000)  # a partial capture: 20 € disputed
    available, pending = balance(client, acct)
    dispute = dispute_of(client, acct, pi_id)
    assert dispute.amount == 2000
    (txn,) = dispute.balance_transactions
    assert txn.type == "adjustment" and txn.reporting_category == "dispute"
    assert txn.amount == -2000 and txn.fee == DISPUTE_FEE and txn.net == -3500
    assert [(f.type, f.amount, f.description) for f in txn.fee_details] == [("stripe_fee", DISPUTE_FEE, "Dispute fee")]
    assert txn.source == dispute.id and txn.status == "available"
    assert txn.description == f"Chargeback withdrawal for {dispute.charge}"
    assert available == -3500 and pending == 2000 - 55  # the charge's own net is still pending
    listed = client.v1.balance_transactions.list(params={"type": "adjustment", "expand": ["data.source"]},
                                                 options={"stripe_account": acct}).data
    assert [(t.id, t.source.id, t.source.object) for t in listed] == [(txn.id, dispute.id, "dispute")]


def test_events_of_a_new_chargeback(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    assert event_types(client, acct, type="charge.dispute.*") == ["charge.dispute.funds_withdrawn", "charge.dispute.created"]
    events = client.v1.events.list(params={"type": "charge.dispute.created"}, options={"stripe_account": acct}).data
    assert events[0].account == acct and events[0].data.object.id == dispute.id
    assert events[0].request.id is None  # Stripe's doing, not a request's


def test_winning_evidence_wins_and_the_funds_come_back(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    on = {"stripe_account": acct}
    answer = client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "winning_evidence"}}, options=on)
    assert answer.status == "under_review" and answer.evidence_details.submission_count == 1
    assert answer.evidence.uncategorized_text == "winning_evidence" and answer.evidence_details.has_evidence is True
    won = client.v1.disputes.retrieve(dispute.id, options=on)
    assert won.status == "won"
    withdrawal, reinstatement = won.balance_transactions
    assert reinstatement.type == "adjustment" and reinstatement.reporting_category == "dispute_reversal"
    assert reinstatement.amount == 2500 and reinstatement.fee == -DISPUTE_FEE and reinstatement.net == 4000
    assert reinstatement.source == dispute.id
    assert balance(client, acct) == (0, 2437)  # as if nothing happened: the fee came back too
    assert event_types(client, acct, type="charge.dispute.*") == [
        "charge.dispute.funds_reinstated", "charge.dispute.closed", "charge.dispute.updated",
        "charge.dispute.funds_withdrawn", "charge.dispute.created"]
    assert charge_of(client, acct, pi_id).disputed is True  # a charge that was disputed stays so


def test_the_dispute_fee_can_be_kept_when_won(sandbox, client, acct):
    sandbox.settings(dispute_fee_refunded_when_won="false")
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    sandbox.settle_dispute(dispute.id, "won")
    _, reinstatement = client.v1.disputes.retrieve(dispute.id, options={"stripe_account": acct}).balance_transactions
    assert reinstatement.fee == 0 and reinstatement.fee_details == [] and reinstatement.net == 2500


def test_losing_evidence_loses(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    on = {"stripe_account": acct}
    client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "losing_evidence"}}, options=on)
    lost = client.v1.disputes.retrieve(dispute.id, options=on)
    assert lost.status == "lost" and len(lost.balance_transactions) == 1
    assert "charge.dispute.funds_reinstated" not in event_types(client, acct)


def test_other_evidence_waits_for_the_bank(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    on = {"stripe_account": acct}
    staged = client.v1.disputes.update(dispute.id, params={"evidence": {"service_date": "05/01/2026"}, "submit": False},
                                       options=on)
    assert staged.status == "needs_response" and staged.evidence_details.has_evidence is True
    assert staged.evidence_details.submission_count == 0
    submitted = client.v1.disputes.update(dispute.id, options=on)
    assert submitted.status == "under_review"
    sandbox.advance(30 * DAY)  # under review: the deadline no longer applies
    assert client.v1.disputes.retrieve(dispute.id, options=on).status == "under_review"
    assert sandbox.settle_dispute(dispute.id, "lost")["status"] == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.update(dispute.id, params={"evidence": {"uncategorized_text": "x"}}, options=on)


def test_closing_accepts_the_dispute(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    on = {"stripe_account": acct}
    closed = client.v1.disputes.close(dispute.id, options=on)
    assert closed.status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(dispute.id, options=on)
    inquiry_pi, _ = disputed_payment(sandbox, client, acct, INQUIRY_CARD)
    assert client.v1.disputes.close(dispute_of(client, acct, inquiry_pi).id, options=on).status == "warning_closed"


def test_no_answer_by_the_deadline_loses(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    sandbox.advance(7 * DAY - 60)
    assert client.v1.disputes.retrieve(dispute.id, options={"stripe_account": acct}).status == "needs_response"
    sandbox.advance(120)
    lost = client.v1.disputes.retrieve(dispute.id, options={"stripe_account": acct})
    assert lost.status == "lost"
    closed = client.v1.events.list(params={"type": "charge.dispute.closed"}, options={"stripe_account": acct}).data
    assert closed[0].created == dispute.evidence_details.due_by


def test_a_chargeback_cannot_be_refunded_as_well(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": pi_id}, options={"stripe_account": acct})
    assert refused.value.code == "charge_disputed" and refused.value.http_status == 400


def test_a_dispute_lives_on_its_connected_account(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    other = connect_account(sandbox, client, email="autre@example.org", state="other")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        client.v1.disputes.retrieve(dispute.id, options={"stripe_account": other})
    assert missing.value.http_status == 404 and missing.value.code == "resource_missing"
    assert client.v1.disputes.list(options={"stripe_account": other}).data == []
    assert client.v1.disputes.list().data == []  # nor on the platform's own account


def test_list_filters(sandbox, client, acct):
    first, _ = disputed_payment(sandbox, client, acct)
    sandbox.advance(3600)
    second, _ = disputed_payment(sandbox, client, acct, NOT_RECEIVED_CARD)
    on = {"stripe_account": acct}
    both = client.v1.disputes.list(options=on).data
    assert [d.payment_intent for d in both] == [second, first]  # newest first
    later = client.v1.disputes.list(params={"created": {"gt": both[1].created}}, options=on).data
    assert [d.payment_intent for d in later] == [second]
    by_charge = client.v1.disputes.list(params={"charge": both[1].charge}, options=on).data
    assert [d.id for d in by_charge] == [both[1].id]


def test_the_bank_decides_through_the_control_endpoint(sandbox, client, acct):
    pi_id, _ = disputed_payment(sandbox, client, acct)
    dispute = dispute_of(client, acct, pi_id)
    with pytest.raises(SandboxControlError) as bad:
        sandbox.settle_dispute(dispute.id, "maybe")
    assert bad.value.status == 400
    with pytest.raises(SandboxControlError) as unknown:
        sandbox.settle_dispute("dp_doesnotexist", "won")
    assert unknown.value.status == 404
    assert sandbox.settle_dispute(dispute.id, "won")["status"] == "won"
    with pytest.raises(SandboxControlError) as again:
        sandbox.settle_dispute(dispute.id, "lost")
    assert again.value.status == 400
