"""Conformance: Connect OAuth, account scoping, Accounts and Account Links (stripe.md §3, §4, §5, §12.1, §12.6)."""

from __future__ import annotations

import urllib.parse

import pytest
import stripe
from stripe import oauth_error

from .helpers import (  # noqa: F401
    acct,
    authorise,
    client,
    connect_account,
    create_session,
    oauth_code,
    raw,
    retrieve_pi,
)

OTHER_KEY = "sk_test_otherPlatform0001"


# --- OAuth ---------------------------------------------------------------------------------------


def test_authorize_url_is_on_the_connect_base_and_serves_a_consent_page(sandbox, client):
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "abc"})
    assert url.startswith(sandbox.url + "/oauth/authorize?")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert query["client_id"] == "ca_sarapayTests0000"
    assert query["response_type"] == "code"
    page = raw(sandbox.url, "GET", url[len(sandbox.url):])
    assert page.status == 200


def test_consent_redirect_carries_code_scope_and_state(sandbox, client):
    consent = oauth_code(sandbox, client, state="st-123")
    assert consent["code"].startswith("ac_")
    assert consent["state"] == "st-123"
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(consent["redirect_url"]).query))
    assert query == {"code": consent["code"], "scope": "read_write", "state": "st-123"}


def test_denied_consent_redirects_with_access_denied(sandbox, client):
    consent = oauth_code(sandbox, client, state="st-9", decision="deny")
    assert consent["error"] == "access_denied"
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(consent["redirect_url"]).query))
    assert query["error"] == "access_denied"
    assert query["state"] == "st-9"
    assert query.get("error_description")
    assert "code" not in query


def test_token_exchange_returns_stripes_token_shape(sandbox, client):
    consent = oauth_code(sandbox, client)
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert token.stripe_user_id == consent["stripe_user_id"]
    assert token.stripe_user_id.startswith("acct_")
    assert token.token_type == "bearer"
    assert token.scope == "read_write"
    assert token.livemode is False
    assert token.access_token.startswith("sk_test_")
    assert token.refresh_token.startswith("rt_")
    assert token.stripe_publishable_key.startswith("pk_test_")


def test_authorization_code_is_single_use(sandbox, client):
    consent = oauth_code(sandbox, client)
    client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert info.value.http_status == 400
    assert info.value.code == "invalid_grant"
    assert info.value.user_message == (
        "This authorization code has already been used. All tokens issued with this code have been revoked."
    )


def test_unknown_authorization_code_is_invalid_grant(sandbox, client):
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        client.oauth.token(params={"grant_type": "authorization_code", "code": "ac_doesnotexist"})
    assert info.value.http_status == 400
    assert info.value.user_message == "Authorization code does not exist: ac_doesnotexist"


def test_authorization_code_expires_after_five_minutes(sandbox, client):
    consent = oauth_code(sandbox, client)
    sandbox.advance(6 * 60)
    with pytest.raises(oauth_error.InvalidGrantError) as info:
        client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert info.value.user_message == "Authorization code expired"


def test_oauth_error_body_is_the_string_shape(sandbox):
    resp = raw(
        sandbox.url,
        "POST",
        "/oauth/token",
        key="sk_test_sarapayTests0000",
        data={"grant_type": "authorization_code", "code": "ac_nope"},
    )
    assert resp.status == 400
    assert resp.body == {"error": "invalid_grant", "error_description": "Authorization code does not exist: ac_nope"}


def test_token_without_grant_type_is_oauth_invalid_request(sandbox, client):
    with pytest.raises(oauth_error.InvalidRequestError) as info:
        client.oauth.token(params={"code": "ac_whatever"})
    assert info.value.http_status == 400
    assert info.value.code == "invalid_request"


def test_client_id_of_another_platform_is_invalid_client(sandbox, client, stripe_client):
    connect_account(sandbox, client)  # the default platform now owns ca_sarapayTests0000
    other = stripe_client(key=OTHER_KEY)
    consent = oauth_code(sandbox, other)
    with pytest.raises(oauth_error.InvalidClientError) as info:
        other.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert info.value.http_status == 401


def test_deauthorize_returns_the_account_and_revokes_access(sandbox, client, acct):
    result = client.oauth.deauthorize(params={"stripe_user_id": acct})
    assert result.stripe_user_id == acct
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.checkout.sessions.list(options={"stripe_account": acct})
    assert info.value.http_status == 403
    assert info.value.error.code == "account_invalid"


def test_deauthorize_unknown_account_is_invalid_client(sandbox, client):
    with pytest.raises(oauth_error.InvalidClientError) as info:
        client.oauth.deauthorize(params={"stripe_user_id": "acct_1Unknown000000"})
    assert info.value.http_status == 401
    assert info.value.user_message == (
        "This application is not connected to stripe account acct_1Unknown000000, or that account does not exist."
    )


def test_consent_with_an_existing_account_reconnects_it(sandbox, client, acct):
    consent = oauth_code(sandbox, client, account=acct)
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert token.stripe_user_id == acct


# --- Stripe-Account scoping ---------------------------------------------------------------------


def test_connected_object_is_404_with_the_platform_key_and_no_header(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.payment_intents.retrieve(auth.pi_id)
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.error.message == f"No such payment_intent: '{auth.pi_id}'"


def test_checkout_session_is_404_without_the_header(sandbox, client, acct):
    session = create_session(client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve(session.id)
    assert info.value.http_status == 404
    assert info.value.error.message == f"No such checkout.session: '{session.id}'"


def test_object_of_one_account_is_404_from_another_account(sandbox, client, acct):
    other_acct = connect_account(sandbox, client, email="autre@example.org")
    assert other_acct != acct
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        retrieve_pi(client, other_acct, auth.pi_id)
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"


def test_unconnected_account_is_403_account_invalid(sandbox, client):
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.payment_intents.list(options={"stripe_account": "acct_1NotConnected00"})
    err = info.value
    assert err.http_status == 403
    assert err.error.code == "account_invalid"
    assert err.error.type == "invalid_request_error"
    assert "does not have access to account 'acct_1NotConnected00'" in err.error.message


def test_account_of_another_platform_is_403(sandbox, client, acct, stripe_client):
    other = stripe_client(key=OTHER_KEY, client_id="ca_otherPlatform0001")
    with pytest.raises(stripe.PermissionError) as info:
        other.v1.checkout.sessions.list(options={"stripe_account": acct})
    assert info.value.error.code == "account_invalid"


def test_platform_list_without_header_does_not_show_connected_objects(sandbox, client, acct):
    authorise(sandbox, client, acct)
    assert client.v1.payment_intents.list().data == []
    assert client.v1.checkout.sessions.list().data == []


# --- Accounts and Account Links -----------------------------------------------------------------


def _create_account(client, **extra):
    params = {
        "country": "FR",
        "email": "cree@example.org",
        "controller": {
            "fees": {"payer": "account"},
            "losses": {"payments": "stripe"},
            "requirement_collection": "stripe",
            "stripe_dashboard": {"type": "full"},
        },
    }
    params.update(extra)
    return client.v1.accounts.create(params=params)


def test_created_account_cannot_charge_and_has_requirements_due(sandbox, client):
    account = _create_account(client)
    assert account.object == "account"
    assert account.id.startswith("acct_")
    assert account.country == "FR"
    assert account.default_currency == "eur"
    assert account.charges_enabled is False
    assert account.payouts_enabled is False
    assert account.details_submitted is False
    assert len(account.requirements.currently_due) > 0


def test_created_account_is_retrievable_by_the_platform(sandbox, client):
    account = _create_account(client)
    again = client.v1.accounts.retrieve(account.id)
    assert again.id == account.id
    assert again.email == "cree@example.org"


def test_account_link_expires_300_seconds_after_creation(sandbox, client):
    account = _create_account(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "https://example.org/refresh",
            "return_url": "https://example.org/return",
            "type": "account_onboarding",
        }
    )
    assert link.object == "account_link"
    assert link.expires_at == link.created + 300
    assert account.id in link.url
    assert link.url.startswith(sandbox.url)


def test_onboarding_completion_enables_charges_and_payouts(sandbox, client):
    account = _create_account(client)
    sandbox.complete_onboarding(account.id, "complete")
    again = client.v1.accounts.retrieve(account.id)
    assert again.charges_enabled is True
    assert again.payouts_enabled is True
    assert again.details_submitted is True
    assert list(again.requirements.currently_due) == []


def test_incomplete_onboarding_leaves_charges_disabled(sandbox, client):
    account = _create_account(client)
    sandbox.complete_onboarding(account.id, "incomplete")
    again = client.v1.accounts.retrieve(account.id)
    assert again.charges_enabled is False


def test_payout_schedule_update_is_allowed_on_a_created_account(sandbox, client):
    account = _create_account(client)
    updated = client.v1.accounts.update(
        account.id,
        params={"settings": {"payouts": {"schedule": {"interval": "weekly", "weekly_anchor": "friday"}}}},
    )
    schedule = updated.settings.payouts.schedule
    assert schedule.interval == "weekly"
    assert schedule.weekly_anchor == "friday"


def test_payout_schedule_update_on_an_oauth_standard_account_is_permission_error(sandbox, client, acct):
    with pytest.raises(stripe.PermissionError) as info:
        client.v1.accounts.update(
            acct, params={"settings": {"payouts": {"schedule": {"interval": "weekly", "weekly_anchor": "friday"}}}}
        )
    assert info.value.http_status == 403


def test_oauth_account_payout_schedule_is_readable_and_daily_by_default(sandbox, client, acct):
    account = client.v1.accounts.retrieve(acct)
    assert account.id == acct
    assert account.settings.payouts.schedule.interval == "daily"
    assert account.charges_enabled is True


def test_refresh_token_grant_returns_a_token_for_the_same_account(sandbox, client):
    consent = oauth_code(sandbox, client)
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    refreshed = client.oauth.token(params={"grant_type": "refresh_token", "refresh_token": token.refresh_token})
    assert refreshed.stripe_user_id == token.stripe_user_id
    assert refreshed.access_token.startswith("sk_test_")


def test_default_oauth_scope_is_read_only(sandbox, client):
    url = client.oauth.authorize_url(params={"state": "s"})
    consent = sandbox.oauth_authorize(url)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(consent["redirect_url"]).query))
    assert query["scope"] == "read_only"


def test_oauth_errors_carry_a_request_id(sandbox, client):
    with pytest.raises(oauth_error.OAuthError) as info:
        client.oauth.token(params={"grant_type": "authorization_code", "code": "ac_nope"})
    assert info.value.request_id and info.value.request_id.startswith("req_")


def test_account_update_link_is_refused_for_a_full_dashboard_account(sandbox, client):
    account = _create_account(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.account_links.create(
            params={
                "account": account.id,
                "refresh_url": "https://example.org/refresh",
                "return_url": "https://example.org/return",
                "type": "account_update",
            }
        )
    assert info.value.http_status == 400


def test_account_link_without_return_url_is_parameter_missing(sandbox, client):
    account = _create_account(client)
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.account_links.create(
            params={"account": account.id, "refresh_url": "https://example.org/r", "type": "account_onboarding"}
        )
    assert info.value.code == "parameter_missing"


def test_created_account_payout_delay_is_seven_days_by_default(sandbox, client):
    account = _create_account(client)
    assert account.settings.payouts.schedule.delay_days == 7


def test_connected_accounts_are_listed_for_the_platform(sandbox, client, acct):
    created = _create_account(client)
    ids = [a.id for a in client.v1.accounts.list().data]
    assert set(ids) >= {acct, created.id}


def test_unsupported_grant_type_is_its_oauth_error(sandbox, client):
    with pytest.raises(oauth_error.UnsupportedGrantTypeError) as info:
        client.oauth.token(params={"grant_type": "password", "code": "ac_x"})
    assert info.value.code == "unsupported_grant_type"


def test_reconnecting_a_deauthorized_account_restores_access(sandbox, client, acct):
    client.oauth.deauthorize(params={"stripe_user_id": acct})
    consent = oauth_code(sandbox, client, account=acct)
    client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    assert client.v1.checkout.sessions.list(options={"stripe_account": acct}).object == "list"


def test_account_link_url_serves_the_onboarding_page(sandbox, client):
    account = _create_account(client)
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "https://example.org/refresh",
            "return_url": "https://example.org/return",
            "type": "account_onboarding",
        }
    )
    page = raw(sandbox.url, "GET", link.url[len(sandbox.url):])
    assert page.status == 200
