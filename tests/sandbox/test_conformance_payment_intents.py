"""Conformance: manual-capture PaymentIntents (stripe.md §1, §12.2, §12.3)."""

from __future__ import annotations

import pytest
import stripe

from .helpers import DAY, acct, authorise, capture, charge_of, client, retrieve_pi  # noqa: F401

CAPTURE_TWICE_MESSAGE = (
    "This PaymentIntent could not be captured because it has a status of succeeded. Only a PaymentIntent "
    "with one of the following statuses may be captured: requires_capture."
)
CANCEL_SUCCEEDED_MESSAGE = (
    "You cannot cancel this PaymentIntent because it has a status of succeeded. Only a PaymentIntent with one "
    "of the following statuses may be canceled: requires_payment_method, requires_capture, "
    "requires_confirmation, requires_action, processing."
)
OVER_CAPTURE_MESSAGE = (
    "The payment could not be captured because the requested capture amount is greater than the authorized "
    "amount. If you are trying to collect a tip or over-capture, your account might not be configured for "
    "those features. Contact us via https://support.stripe.com/contact/"
)


def test_authorised_payment_intent_is_requires_capture_with_full_amount_capturable(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert pi.object == "payment_intent"
    assert pi.status == "requires_capture"
    assert pi.capture_method == "manual"
    assert pi.amount == 2500
    assert pi.amount_capturable == 2500
    assert pi.amount_received == 0
    assert pi.currency == "eur"
    assert isinstance(pi.latest_charge, str) and pi.latest_charge.startswith("ch_")


def test_authorised_charge_is_succeeded_paid_uncaptured_without_balance_transaction(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    charge = charge_of(client, acct, auth.pi_id)
    assert charge.object == "charge"
    assert charge.status == "succeeded"
    assert charge.paid is True
    assert charge.captured is False
    assert charge.amount == 2500
    assert charge.amount_captured == 0
    assert charge.balance_transaction is None


def test_authorised_charge_capture_before_is_seven_days_after_creation(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    charge = charge_of(client, acct, auth.pi_id)
    assert charge.payment_method_details.card.capture_before == charge.created + 7 * DAY


def test_full_capture_succeeds_and_creates_the_balance_transaction(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    pi = capture(client, acct, auth.pi_id)
    assert pi.status == "succeeded"
    assert pi.amount_capturable == 0
    assert pi.amount_received == 2500
    charge = charge_of(client, acct, auth.pi_id)
    assert charge.captured is True
    assert charge.amount_captured == 2500
    assert charge.amount_refunded == 0
    assert isinstance(charge.balance_transaction, str) and charge.balance_transaction.startswith("txn_")


def test_partial_capture_releases_the_remainder_on_the_payment_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    pi = capture(client, acct, auth.pi_id, 2000)
    assert pi.status == "succeeded"
    assert pi.amount == 2500
    assert pi.amount_capturable == 0
    assert pi.amount_received == 2000


def test_partial_capture_charge_keeps_full_amount_and_refunds_the_remainder(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id, 2000)
    charge = charge_of(client, acct, auth.pi_id)
    assert charge.amount == 2500
    assert charge.amount_captured == 2000
    assert charge.amount_refunded == 500
    assert charge.refunded is False
    assert charge.captured is True


def test_second_capture_is_refused_with_unexpected_state_and_embedded_payment_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id)
    err = info.value
    assert err.http_status == 400
    assert err.code == "payment_intent_unexpected_state"
    assert err.error.type == "invalid_request_error"
    assert err.error.message == CAPTURE_TWICE_MESSAGE
    assert err.json_body["error"]["payment_intent"]["id"] == auth.pi_id
    assert err.json_body["error"]["payment_intent"]["status"] == "succeeded"


def test_over_capture_is_amount_too_large_and_leaves_the_intent_capturable(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id, 2600)
    err = info.value
    assert err.http_status == 400
    assert err.code == "amount_too_large"
    # WooPayments keys on error.payment_intent.status == requires_capture (stripe.md §1).
    assert err.json_body["error"]["payment_intent"]["status"] == "requires_capture"
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert pi.status == "requires_capture"
    assert pi.amount_capturable == 2500


def test_over_capture_message_is_stripes(sandbox, client, acct):
    # stripe.md §1 quotes the message verbatim, ending with ".../contact/".
    auth = authorise(sandbox, client, acct, 2500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id, 2600)
    assert info.value.error.message == OVER_CAPTURE_MESSAGE


def test_capture_after_over_capture_with_smaller_amount_works(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    with pytest.raises(stripe.InvalidRequestError):
        capture(client, acct, auth.pi_id, 9000)
    pi = capture(client, acct, auth.pi_id, 1800)
    assert pi.status == "succeeded"
    assert pi.amount_received == 1800


def test_capture_below_the_eur_minimum_is_amount_too_small(sandbox, client, acct):
    # stripe.md §1: the minimum EUR charge is 0.50 (amount >= 50), code amount_too_small.
    auth = authorise(sandbox, client, acct, 2500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id, 49)
    assert info.value.http_status == 400
    assert info.value.code == "amount_too_small"
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


@pytest.mark.parametrize("reason", ["duplicate", "fraudulent", "requested_by_customer", "abandoned"])
def test_cancel_accepts_the_four_api_reasons(sandbox, client, acct, reason):
    auth = authorise(sandbox, client, acct)
    pi = client.v1.payment_intents.cancel(
        auth.pi_id, params={"cancellation_reason": reason}, options={"stripe_account": acct}
    )
    assert pi.status == "canceled"
    assert pi.cancellation_reason == reason


@pytest.mark.parametrize("reason", ["automatic", "expired", "failed_invoice", "because"])
def test_cancel_refuses_stripe_set_or_unknown_reasons(sandbox, client, acct, reason):
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(
            auth.pi_id, params={"cancellation_reason": reason}, options={"stripe_account": acct}
        )
    assert info.value.http_status == 400
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_cancel_without_reason_leaves_reason_null_and_releases_the_hold(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    pi = client.v1.payment_intents.cancel(auth.pi_id, options={"stripe_account": acct})
    assert pi.status == "canceled"
    assert pi.cancellation_reason is None
    assert pi.amount_capturable == 0
    assert isinstance(pi.canceled_at, int) and pi.canceled_at > 0


def test_cancel_of_requires_capture_refunds_the_whole_charge(sandbox, client, acct):
    # stripe.md §1 ("[unverified on the charge fields]"): refunded=true, amount_refunded=amount.
    auth = authorise(sandbox, client, acct, 2500)
    client.v1.payment_intents.cancel(auth.pi_id, options={"stripe_account": acct})
    charge = charge_of(client, acct, auth.pi_id)
    assert charge.refunded is True
    assert charge.amount_refunded == 2500


def test_cancel_of_a_succeeded_intent_is_refused_with_stripes_message(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(auth.pi_id, options={"stripe_account": acct})
    assert info.value.http_status == 400
    assert info.value.code == "payment_intent_unexpected_state"
    assert info.value.error.message == CANCEL_SUCCEEDED_MESSAGE


def test_capture_of_a_canceled_intent_is_unexpected_state(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    client.v1.payment_intents.cancel(auth.pi_id, options={"stripe_account": acct})
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id)
    assert info.value.code == "payment_intent_unexpected_state"
    assert "status of canceled" in info.value.error.message
    assert info.value.json_body["error"]["payment_intent"]["status"] == "canceled"


def test_retrieve_unknown_payment_intent_is_404_resource_missing(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        retrieve_pi(client, acct, "pi_doesnotexist")
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.error.message == "No such payment_intent: 'pi_doesnotexist'"


def test_payment_intents_list_on_the_account_holds_the_authorised_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    page = client.v1.payment_intents.list(options={"stripe_account": acct})
    assert page.object == "list"
    assert [pi.id for pi in page.data] == [auth.pi_id]


def test_declined_attempt_leaves_the_intent_requiring_a_payment_method_with_last_payment_error(sandbox, client, acct):
    from .helpers import DECLINED_CARD, create_session

    session = create_session(client, acct)
    declined = sandbox.pay(session.id, DECLINED_CARD)
    pi = retrieve_pi(client, acct, declined["payment_intent"]["id"])
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error is not None
    assert pi.last_payment_error.decline_code == "generic_decline"
    assert pi.amount_capturable == 0


def test_expired_hold_sets_canceled_at(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    sandbox.advance(7 * DAY + 60)
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert isinstance(pi.canceled_at, int) and pi.canceled_at > 0


def test_capture_with_application_fee_sets_it_on_the_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    pi = capture(client, acct, auth.pi_id, 2000, application_fee_amount=150)
    assert pi.application_fee_amount == 150


def test_search_returns_a_search_result_envelope(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500, payment_intent_data={"metadata": {"rdv": "77"}})
    authorise(sandbox, client, acct, 3000)
    result = client.v1.payment_intents.search(
        params={"query": "metadata['rdv']:'77'"}, options={"stripe_account": acct}
    )
    assert result.object == "search_result"
    assert result.url == "/v1/payment_intents/search"
    assert [pi.id for pi in result.data] == [auth.pi_id]
    assert result.has_more is False


def test_search_by_status_and_amount(sandbox, client, acct):
    a = authorise(sandbox, client, acct, 2500)
    b = authorise(sandbox, client, acct, 3000)
    capture(client, acct, b.pi_id)
    by_status = client.v1.payment_intents.search(
        params={"query": "status:'requires_capture'"}, options={"stripe_account": acct}
    )
    assert [pi.id for pi in by_status.data] == [a.pi_id]
    by_amount = client.v1.payment_intents.search(params={"query": "amount>2600"}, options={"stripe_account": acct})
    assert [pi.id for pi in by_amount.data] == [b.pi_id]


def test_charge_is_retrievable_directly(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    charge_id = retrieve_pi(client, acct, auth.pi_id).latest_charge
    charge = client.v1.charges.retrieve(charge_id, options={"stripe_account": acct})
    assert charge.id == charge_id
    assert charge.payment_intent == auth.pi_id


def test_payment_intent_of_an_open_session_cannot_be_canceled(sandbox, client, acct):
    # stripe.md §1: "You can't cancel the PaymentIntent for a Checkout Session. Expire the Checkout Session instead."
    from .helpers import DECLINED_CARD, create_session

    session = create_session(client, acct)
    pi_id = sandbox.pay(session.id, DECLINED_CARD)["payment_intent"]["id"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.cancel(pi_id, options={"stripe_account": acct})
    assert info.value.http_status == 400
    assert retrieve_pi(client, acct, pi_id).status == "requires_payment_method"


def test_final_capture_false_is_refused_without_multicapture(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id, 1000, final_capture=False)
    assert info.value.http_status == 400
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_capture_accepts_metadata_and_statement_descriptor_suffix(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500, payment_intent_data={"metadata": {"rdv": "1"}})
    pi = capture(client, acct, auth.pi_id, metadata={"acte": "fait"}, statement_descriptor_suffix="RDV1")
    assert pi.status == "succeeded"
    assert pi.metadata.to_dict() == {"rdv": "1", "acte": "fait"}
