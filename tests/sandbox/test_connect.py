"""Connect in the sandbox (connect.py, oauth.py), called through the router until the server lands."""

from __future__ import annotations

import urllib.parse

import pytest

from sarapay.sandbox import connect  # noqa: F401  (registers the routes)
from sarapay.sandbox.framework import ROUTER, OAuthError, Platform, Request, Store, StripeError

KEY = "sk_test_connectTests01"
OTHER = "sk_test_otherPlatform01"
CLIENT = "ca_connectTests01"
BASE = "http://127.0.0.1:9"


class Sandbox:
    def __init__(self) -> None:
        self.store = Store()

    def platform(self, key: str) -> Platform:
        rec = self.store.platforms.setdefault(
            key, {"key": key, "account_id": self.store.new_id("acct_", 16), "client_id": None}
        )
        return Platform(rec["key"], rec["account_id"], rec["client_id"])

    def call(self, method: str, path: str, params=None, key: str | None = KEY, account: str | None = None):
        route, path_params = ROUTER.match(method, path.split("?")[0])
        req = Request(method, path, params or {}, {}, self.store, "req_test", path_params,
                      platform=self.platform(key) if key else None, stripe_account=account, base_url=BASE)
        try:
            out = route.handler(req)
        except StripeError as e:
            return e.status, e.body("req_test")
        except OAuthError as e:
            return e.status, e.body("req_test")
        if not isinstance(out, tuple):
            out = (200, out)
        self.headers = out[2] if len(out) == 3 else {}
        return out[0], out[1]


@pytest.fixture
def sb():
    return Sandbox()


def consent(sb, **extra):
    params = {"client_id": CLIENT, "response_type": "code", "scope": "read_write", "state": "s", "decision": "approve"}
    params.update(extra)
    return sb.call("POST", "/_sandbox/oauth/authorize", params, key=None)


def oauth_account(sb, key=KEY, **extra):
    status, c = consent(sb, **extra)
    assert status == 200, c
    status, tok = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]}, key=key)
    assert status == 200, tok
    return tok["stripe_user_id"]


def created_account(sb, **params):
    status, acct = sb.call("POST", "/v1/accounts", {"type": "standard", "email": "a@b.fr", **params})
    assert status == 200, acct
    return acct


# --- accounts


def test_created_account_starts_unable_to_charge_and_is_connected(sb):
    acct = created_account(sb)
    assert acct["charges_enabled"] is acct["payouts_enabled"] is acct["details_submitted"] is False
    assert "external_account" in acct["requirements"]["currently_due"]
    assert acct["capabilities"] == {"card_payments": "inactive", "transfers": "inactive"}
    assert acct["controller"]["type"] == "application" and acct["controller"]["is_controller"] is True
    assert acct["settings"]["payouts"]["schedule"] == {"delay_days": 7, "interval": "daily"}
    assert (acct["country"], acct["default_currency"], acct["type"]) == ("FR", "eur", "standard")
    assert "_controller" not in acct
    assert sb.store.connections[sb.platform(KEY).account_id][acct["id"]] == "created"


def test_controller_params_give_the_matching_type(sb):
    _, acct = sb.call("POST", "/v1/accounts", {"controller": {"stripe_dashboard": {"type": "express"},
                                                              "fees": {"payer": "application"},
                                                              "losses": {"payments": "application"}}})
    assert acct["type"] == "express"
    assert acct["controller"]["stripe_dashboard"] == {"type": "express"}


@pytest.mark.parametrize(
    "params, param, message",
    [
        ({"type": "premium"}, "type", "Invalid type: must be one of custom, express, or standard"),
        ({"type": "standard", "controller": {"fees": {"payer": "account"}}}, "controller", None),
        ({"email": "nope"}, "email", "Invalid email address: nope"),
        ({"colour": "red"}, "colour", "Received unknown parameter: colour"),
    ],
)
def test_account_creation_errors(sb, params, param, message):
    status, body = sb.call("POST", "/v1/accounts", params)
    assert status == 400
    assert body["error"]["param"] == param
    if message:
        assert body["error"]["message"] == message


def test_unknown_or_foreign_account_is_403_account_invalid(sb):
    foreign = created_account(sb)["id"]
    for acct_id in ("acct_1Unknown000000", foreign):
        status, body = sb.call("GET", f"/v1/accounts/{acct_id}", key=OTHER)
        assert status == 403
        assert body["error"]["code"] == "account_invalid"
        assert body["error"]["message"] == (
            f"The provided key 'sk_test_****rm01' does not have access to account '{acct_id}' "
            "(or that account does not exist). Application access may have been revoked."
        )


def test_get_account_is_the_platform_or_the_stripe_account_one(sb):
    own = sb.platform(KEY).account_id
    _, me = sb.call("GET", "/v1/account")
    assert me["id"] == own and me["charges_enabled"] is True
    acct = oauth_account(sb)
    _, them = sb.call("GET", "/v1/account", account=acct)
    assert them["id"] == acct


def test_payout_schedule_on_created_account_and_event(sb):
    acct = created_account(sb)["id"]
    sched = {"settings": {"payouts": {"schedule": {"interval": "monthly", "monthly_anchor": "15"}}}}
    status, body = sb.call("POST", f"/v1/accounts/{acct}", sched)
    assert status == 200, body
    assert body["settings"]["payouts"]["schedule"] == {"delay_days": 7, "interval": "monthly", "monthly_anchor": 15}
    events = sb.store.all(acct, "event")
    assert [e["type"] for e in events] == ["account.updated"]
    assert events[0]["data"]["previous_attributes"] == {"settings": {"payouts": {"schedule": {"interval": "daily"}}}}


@pytest.mark.parametrize(
    "schedule, param, message",
    [
        ({"interval": "hourly"}, "interval", "Invalid interval: must be one of daily, manual, monthly, or weekly"),
        ({"interval": "daily", "weekly_anchor": "friday"}, "weekly_anchor", None),
        ({"interval": "weekly", "weekly_anchor": "someday"}, "weekly_anchor", None),
        ({"interval": "weekly", "monthly_anchor": "3"}, "monthly_anchor", None),
        ({"interval": "monthly", "monthly_anchor": "32"}, "monthly_anchor", None),
        ({"delay_days": "10"}, "delay_days", None),  # a Standard-like account: Stripe owns the losses
    ],
)
def test_payout_schedule_validation(sb, schedule, param, message):
    acct = created_account(sb)["id"]
    status, body = sb.call("POST", f"/v1/accounts/{acct}", {"settings": {"payouts": {"schedule": schedule}}})
    assert status == 400
    assert body["error"]["param"] == f"settings[payouts][schedule][{param}]"
    if message:
        assert body["error"]["message"] == message


def test_oauth_standard_account_refuses_payout_schedule_but_takes_metadata(sb):
    acct = oauth_account(sb)
    status, body = sb.call("POST", f"/v1/accounts/{acct}", {"settings": {"payouts": {"schedule": {"interval": "weekly"}}}})
    assert status == 403
    assert body["error"]["message"].startswith(
        f"This application does not have the required permissions for this endpoint on account '{acct}'."
    )
    status, body = sb.call("POST", f"/v1/accounts/{acct}", {"metadata": {"rpps": "10000000007"}})
    assert status == 200 and body["metadata"] == {"rpps": "10000000007"}
    assert body["controller"] == {"type": "account", "is_controller": None}


def test_read_only_oauth_account_refuses_writes(sb):
    acct = oauth_account(sb, scope="read_only")
    status, body = sb.call("POST", f"/v1/accounts/{acct}", {"metadata": {"k": "v"}})
    assert status == 403
    assert "'read_write' scope" in body["error"]["message"]


# --- account links and onboarding


def link(sb, acct, **extra):
    params = {"account": acct, "refresh_url": "https://e.fr/refresh", "return_url": "https://e.fr/return",
              "type": "account_onboarding", **extra}
    return sb.call("POST", "/v1/account_links", params)


def test_account_link_is_single_use_and_expires(sb):
    acct = created_account(sb)["id"]
    status, body = link(sb, acct)
    assert status == 200
    assert body["object"] == "account_link" and body["expires_at"] == body["created"] + 300
    path = body["url"][len(BASE):]
    assert path.startswith(f"/setup/{acct}/")
    status, page = sb.call("GET", path, key=None)
    assert status == 200 and "/_sandbox/accounts/" in page
    assert sb.call("GET", path, key=None)[0] == 302
    assert sb.headers["Location"] == "https://e.fr/refresh"
    _, fresh = link(sb, acct)
    sb.store.clock.advance(301)
    assert sb.call("GET", fresh["url"][len(BASE):], key=None)[0] == 302


def test_account_link_errors(sb):
    acct = created_account(sb)["id"]
    status, body = link(sb, acct, type="account_update")
    assert (status, body["error"]["param"]) == (400, "type")
    status, body = link(sb, "acct_1Unknown000000")
    assert (status, body["error"]["code"]) == (404, "resource_missing")
    assert body["error"]["message"] == "No such account: 'acct_1Unknown000000'"
    status, body = link(sb, oauth_account(sb))
    assert (status, body["error"]["param"]) == (400, "account")
    status, body = sb.call("POST", "/v1/account_links", {"account": acct, "type": "account_onboarding",
                                                         "return_url": "https://e.fr/r"})
    assert (status, body["error"]["code"]) == (400, "parameter_missing")


def test_onboarding_control_completes_or_leaves_due(sb):
    acct = created_account(sb)["id"]
    _, body = sb.call("POST", f"/_sandbox/accounts/{acct}/onboarding", {"outcome": "incomplete"}, key=None)
    assert body["charges_enabled"] is False and body["requirements"]["currently_due"]
    _, body = sb.call("POST", f"/_sandbox/accounts/{acct}/onboarding", {"outcome": "complete"}, key=None)
    assert body["charges_enabled"] is body["payouts_enabled"] is body["details_submitted"] is True
    assert body["requirements"]["currently_due"] == [] and body["capabilities"]["card_payments"] == "active"
    status, _ = sb.call("POST", "/_sandbox/accounts/acct_nope/onboarding", {}, key=None)
    assert status == 404


# --- OAuth


def test_consent_creates_a_ready_standard_account_and_a_code(sb):
    status, c = consent(sb, stripe_user={"email": "doc@e.fr"})
    assert status == 200
    q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(c["redirect_url"]).query))
    assert q == {"code": c["code"], "scope": "read_write", "state": "s"}
    assert c["redirect_url"].startswith(BASE + "/_sandbox/oauth/return?")
    acct = sb.store.accounts[c["stripe_user_id"]]
    assert acct["email"] == "doc@e.fr" and acct["charges_enabled"] is True and acct["type"] == "standard"


def test_consent_denied_and_bad_requests(sb):
    _, c = consent(sb, decision="deny", redirect_uri="https://e.fr/cb?x=1")
    assert c["redirect_url"] == (
        "https://e.fr/cb?x=1&error=access_denied&error_description=The+user+denied+your+request&state=s"
    )
    assert consent(sb, client_id="")[0] == 400
    assert consent(sb, response_type="token")[0] == 400


def test_token_exchange_records_connection_and_owns_client_id(sb):
    acct = oauth_account(sb)
    plat = sb.platform(KEY)
    assert sb.store.connections[plat.account_id][acct] == "oauth"
    assert sb.store.platforms[KEY]["client_id"] == CLIENT
    _, c = consent(sb)
    status, body = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]}, key=OTHER)
    assert (status, body["error"]) == (401, "invalid_client")


def test_token_shape_never_leaks_the_platform_key(sb):
    _, c = consent(sb)
    _, tok = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]})
    assert tok["access_token"].startswith("sk_test_") and tok["access_token"] != KEY
    assert tok["refresh_token"].startswith("rt_") and tok["stripe_publishable_key"].startswith("pk_test_")
    assert (tok["token_type"], tok["livemode"], tok["scope"]) == ("bearer", False, "read_write")


def test_reused_code_revokes_the_connection(sb):
    _, c = consent(sb)
    sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]})
    status, body = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]})
    assert status == 400 and body == {
        "error": "invalid_grant",
        "error_description": "This authorization code has already been used. All tokens issued with this code have been revoked.",
    }
    assert c["stripe_user_id"] not in sb.store.connections[sb.platform(KEY).account_id]


@pytest.mark.parametrize(
    "params, status, error, description",
    [
        ({"code": "ac_x"}, 400, "invalid_request", "No grant type specified"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type", None),
        ({"grant_type": "authorization_code", "code": "ac_x"}, 400, "invalid_grant", "Authorization code does not exist: ac_x"),
    ],
)
def test_token_errors(sb, params, status, error, description):
    got, body = sb.call("POST", "/oauth/token", params)
    assert (got, body["error"]) == (status, error)
    if description:
        assert body["error_description"] == description


def test_expired_code(sb):
    _, c = consent(sb)
    sb.store.clock.advance(301)
    _, body = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]})
    assert body == {"error": "invalid_grant", "error_description": "Authorization code expired"}


def test_deauthorize_keeps_the_account_and_emits_the_event(sb):
    acct = oauth_account(sb)
    status, body = sb.call("POST", "/oauth/deauthorize", {"client_id": CLIENT, "stripe_user_id": acct})
    assert (status, body) == (200, {"stripe_user_id": acct})
    assert acct in sb.store.accounts
    assert acct not in sb.store.connections[sb.platform(KEY).account_id]
    assert sb.store.all(acct, "event")[0]["type"] == "account.application.deauthorized"
    status, body = sb.call("POST", "/oauth/deauthorize", {"client_id": CLIENT, "stripe_user_id": acct})
    assert status == 401 and body["error_description"] == (
        f"This application is not connected to stripe account {acct}, or that account does not exist."
    )


def test_refresh_token_grant(sb):
    _, c = consent(sb)
    _, tok = sb.call("POST", "/oauth/token", {"grant_type": "authorization_code", "code": c["code"]})
    status, again = sb.call("POST", "/oauth/token", {"grant_type": "refresh_token", "refresh_token": tok["refresh_token"],
                                                     "scope": "read_only"})
    assert status == 200 and again["scope"] == "read_only" and again["access_token"] != tok["access_token"]
