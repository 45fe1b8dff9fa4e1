"""Conformance: Checkout Sessions in payment mode with manual capture (stripe.md §2, §12.4, §12.5)."""

from __future__ import annotations

import pytest
import stripe

from .helpers import (  # noqa: F401
    DAY,
    DECLINED_CARD,
    GOOD_CARD,
    INSUFFICIENT_FUNDS_CARD,
    acct,
    authorise,
    client,
    create_session,
    retrieve_pi,
    session_params,
)
from sarapay.sandbox_control import SandboxControlError


def test_new_session_is_open_unpaid_with_url_and_no_payment_intent(sandbox, client, acct):
    session = create_session(client, acct, 2500)
    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.payment_intent is None
    assert session.url
    assert session.mode == "payment"
    assert session.livemode is False


def test_new_session_totals_currency_and_default_expiry(sandbox, client, acct):
    session = create_session(client, acct, 2500)
    assert session.amount_total == 2500
    assert session.amount_subtotal == 2500
    assert session.currency == "eur"
    assert session.expires_at == session.created + DAY
    assert session.customer_details is None


def test_session_echoes_customer_email_client_reference_and_metadata(sandbox, client, acct):
    session = create_session(
        client,
        acct,
        customer_email="patient@example.org",
        client_reference_id="rdv-42",
        metadata={"rdv": "42"},
    )
    again = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct})
    assert again.customer_email == "patient@example.org"
    assert again.client_reference_id == "rdv-42"
    assert again.metadata.to_dict() == {"rdv": "42"}


def test_payment_intent_appears_only_when_the_patient_pays(sandbox, client, acct):
    session = create_session(client, acct)
    assert client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct}).payment_intent is None
    sandbox.pay(session.id, GOOD_CARD)
    paid = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct})
    assert isinstance(paid.payment_intent, str) and paid.payment_intent.startswith("pi_")
    pi = retrieve_pi(client, acct, paid.payment_intent)
    assert pi.status == "requires_capture"
    assert pi.capture_method == "manual"
    assert pi.amount_capturable == 2500


def test_paid_session_is_complete_with_null_url(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    session = client.v1.checkout.sessions.retrieve(auth.session_id, options={"stripe_account": acct})
    assert session.status == "complete"
    assert session.url is None


def test_payment_status_stays_unpaid_after_a_manual_capture_authorisation_by_default(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    session = client.v1.checkout.sessions.retrieve(auth.session_id, options={"stripe_account": acct})
    assert session.payment_status == "unpaid"


def test_session_metadata_is_not_copied_to_the_payment_intent_but_pi_data_metadata_is(sandbox, client, acct):
    auth = authorise(
        sandbox,
        client,
        acct,
        metadata={"session_only": "s"},
        payment_intent_data={"metadata": {"rdv": "42"}},
    )
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert pi.metadata.to_dict() == {"rdv": "42"}


def test_declined_card_keeps_the_session_open_and_a_good_card_then_authorises(sandbox, client, acct):
    session = create_session(client, acct)
    declined = sandbox.pay(session.id, DECLINED_CARD)
    assert declined["outcome"] == "declined"
    assert declined["decline_code"] == "generic_decline"
    still = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct})
    assert still.status == "open"
    assert still.payment_status == "unpaid"
    assert still.url
    ok = sandbox.pay(session.id, GOOD_CARD)
    assert ok["outcome"] == "authorized"
    assert ok["checkout_session"]["status"] == "complete"
    assert ok["payment_intent"]["status"] == "requires_capture"


def test_insufficient_funds_card_is_declined_with_its_code(sandbox, client, acct):
    session = create_session(client, acct)
    declined = sandbox.pay(session.id, INSUFFICIENT_FUNDS_CARD)
    assert declined["outcome"] == "declined"
    assert declined["decline_code"] == "insufficient_funds"


def test_expire_an_open_session(sandbox, client, acct):
    session = create_session(client, acct)
    expired = client.v1.checkout.sessions.expire(session.id, options={"stripe_account": acct})
    assert expired.status == "expired"
    assert expired.url is None
    assert expired.expires_at == session.expires_at


def test_expire_a_complete_session_is_refused(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire(auth.session_id, options={"stripe_account": acct})
    assert info.value.http_status == 400
    assert info.value.error.type == "invalid_request_error"


def test_expire_an_expired_session_is_refused(sandbox, client, acct):
    session = create_session(client, acct)
    client.v1.checkout.sessions.expire(session.id, options={"stripe_account": acct})
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.expire(session.id, options={"stripe_account": acct})
    assert info.value.http_status == 400


def test_pay_on_an_expired_session_is_a_400_control_error(sandbox, client, acct):
    session = create_session(client, acct)
    client.v1.checkout.sessions.expire(session.id, options={"stripe_account": acct})
    with pytest.raises(SandboxControlError) as info:
        sandbox.pay(session.id, GOOD_CARD)
    assert info.value.status == 400
    assert isinstance(info.value.body, dict)


def test_expires_at_less_than_30_minutes_is_refused_with_stripes_message(sandbox, client, acct):
    now = sandbox.now()
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, expires_at=now + 20 * 60)
    assert info.value.http_status == 400
    assert info.value.param == "expires_at"
    assert info.value.error.message == (
        "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation."
    )


def test_expires_at_more_than_24_hours_is_refused_with_stripes_message(sandbox, client, acct):
    now = sandbox.now()
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, expires_at=now + DAY + 3600)
    assert info.value.http_status == 400
    assert info.value.error.message == (
        "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation."
    )


def test_expires_at_within_bounds_is_kept(sandbox, client, acct):
    now = sandbox.now()
    early = create_session(client, acct, expires_at=now + 31 * 60)
    late = create_session(client, acct, expires_at=now + DAY - 60)
    assert early.expires_at == now + 31 * 60
    assert late.expires_at == now + DAY - 60


def test_session_below_the_eur_minimum_is_refused(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, 40)
    assert info.value.http_status == 400
    assert info.value.error.message == (
        "The Checkout Session's total amount due must add up to at least €0.50 eur"
    )


def test_session_without_line_items_is_parameter_missing(sandbox, client, acct):
    params = session_params()
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=params, options={"stripe_account": acct})
    assert info.value.http_status == 400
    assert info.value.code == "parameter_missing"


def test_application_fee_without_stripe_account_is_refused(sandbox, client):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, None, payment_intent_data={"application_fee_amount": 100})
    assert info.value.http_status == 400
    assert info.value.error.message == (
        "Can only apply an application_fee_amount when the PaymentIntent is attempting a direct payment "
        "(using an OAuth key or Stripe-Account header) or destination payment (using "
        "`transfer_data[destination]`)."
    )


def test_session_expires_by_itself_when_the_clock_passes_expires_at(sandbox, client, acct):
    now = sandbox.now()
    session = create_session(client, acct, expires_at=now + 3600)
    sandbox.advance(3601)
    again = client.v1.checkout.sessions.retrieve(session.id, options={"stripe_account": acct})
    assert again.status == "expired"
    assert again.url is None


def test_sessions_list_on_the_account(sandbox, client, acct):
    first = create_session(client, acct)
    second = create_session(client, acct)
    page = client.v1.checkout.sessions.list(options={"stripe_account": acct})
    assert page.object == "list"
    assert page.url == "/v1/checkout/sessions"
    assert [s.id for s in page.data] == [second.id, first.id]


def test_paid_on_authorize_setting_switches_payment_status_to_paid(sandbox, client, acct):
    sandbox.settings(checkout_paid_on_authorize="true")
    try:
        auth = authorise(sandbox, client, acct)
        session = client.v1.checkout.sessions.retrieve(auth.session_id, options={"stripe_account": acct})
        assert session.payment_status == "paid"
    finally:
        sandbox.settings(checkout_paid_on_authorize="false")


def test_payment_status_becomes_paid_after_capture(sandbox, client, acct):
    # stripe.md §2: the sandbox defaults to `unpaid` after authorisation and `paid` after capture.
    auth = authorise(sandbox, client, acct)
    client.v1.payment_intents.capture(auth.pi_id, options={"stripe_account": acct})
    session = client.v1.checkout.sessions.retrieve(auth.session_id, options={"stripe_account": acct})
    assert session.payment_status == "paid"


def test_quantity_multiplies_the_total(sandbox, client, acct):
    params = session_params(1200)
    params["line_items"][0]["quantity"] = 2
    session = client.v1.checkout.sessions.create(params=params, options={"stripe_account": acct})
    assert session.amount_total == 2400


def test_application_fee_with_stripe_account_is_set_on_the_payment_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500, payment_intent_data={"application_fee_amount": 120})
    assert retrieve_pi(client, acct, auth.pi_id).application_fee_amount == 120


def test_missing_line_items_message_is_stripes(sandbox, client, acct):
    params = session_params()
    del params["line_items"]
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(params=params, options={"stripe_account": acct})
    assert info.value.error.message == "Missing required param: line_items."
    assert info.value.param == "line_items"


def test_session_payment_method_types_is_card(sandbox, client, acct):
    assert list(create_session(client, acct).payment_method_types) == ["card"]


def test_metadata_with_more_than_50_keys_is_refused(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, metadata={f"k{i}": "v" for i in range(51)})
    assert info.value.http_status == 400


def test_metadata_key_longer_than_40_characters_is_refused(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, metadata={"k" * 41: "v"})
    assert info.value.http_status == 400


def test_metadata_value_longer_than_500_characters_is_refused(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        create_session(client, acct, metadata={"k": "v" * 501})
    assert info.value.http_status == 400


def test_metadata_at_the_limits_is_kept(sandbox, client, acct):
    metadata = {f"{i:02d}" + "k" * 38: "v" * 500 for i in range(50)}
    session = create_session(client, acct, metadata=metadata)
    assert session.metadata.to_dict() == metadata


def test_session_url_serves_the_hosted_payment_page(sandbox, client, acct):
    from .helpers import raw

    session = create_session(client, acct)
    assert session.url.startswith(sandbox.url)
    page = raw(sandbox.url, "GET", session.url[len(sandbox.url):])
    assert page.status == 200
