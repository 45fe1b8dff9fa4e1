"""stripe_gateway.Gateway over real HTTP against the sandbox: retries, idempotency, error translation.

Every Stripe object here is created through the Gateway itself (OAuth link, Checkout Session), the
patient is played by the sandbox's control endpoint, and what went over the wire is read back from the
sandbox's request log. No monkeypatching of the SDK.
"""

from __future__ import annotations

import time

import pytest

from sarapay import stripe_gateway
from sarapay.errors import ConfigError, StripeRefused, StripeUnavailable
from sarapay.ids import idempotency_key
from sarapay.credentials import SecretKey
from sarapay.stripe_gateway import Gateway

# Any well-formed test key is a platform of its own on the sandbox, any ca_ id a client id.
TEST_KEY = "sk_test_gatewayTests0000"
TEST_CLIENT_ID = "ca_gatewayTests0000"

CONSULTATION = "TC-8F3K2Q"
RPPS = "10000000008"


@pytest.fixture
def make_gateway(sandbox):
    def make(key: str = TEST_KEY, **kwargs) -> Gateway:
        kwargs.setdefault("client_id", TEST_CLIENT_ID)
        kwargs.setdefault("api_base", sandbox.url)
        kwargs.setdefault("rate_limit_delay", 0.01)
        kwargs.setdefault("sleep", lambda seconds: time.sleep(min(seconds, 0.05)))
        secret = SecretKey(key, "input") if not isinstance(key, SecretKey) else key
        return Gateway(secret, **kwargs)

    return make


@pytest.fixture
def gw(make_gateway) -> Gateway:
    return make_gateway()


def link(sandbox, gw: Gateway, email: str = "praticien@example.org") -> str:
    url = gw.oauth_authorize_url("csrf-state-1", email)
    consent = sandbox.oauth_authorize(url)
    token = gw.oauth_token(consent["code"])
    assert "access_token" not in token and "refresh_token" not in token
    return token["stripe_user_id"]


def authorised(sandbox, gw: Gateway, acct: str, amount: int = 2500, consultation: str = CONSULTATION) -> dict:
    session = gw.create_checkout_session(
        acct,
        amount_cents=amount,
        consultation_id=consultation,
        rpps=RPPS,
        customer_email="patient@example.org",
        expires_at=sandbox.now() + 3600,
        success_url="https://portal.example.org/ok",
        cancel_url="https://portal.example.org/cancel",
        idempotency_key=idempotency_key("checkout", consultation, 1),
    )
    paid = sandbox.pay(session["id"])
    assert paid["outcome"] == "authorized", paid
    session = gw.retrieve_checkout_session(acct, session["id"])
    pi = session["payment_intent"]
    assert isinstance(pi, dict) and pi["status"] == "requires_capture"
    return pi


def captures(sandbox, pi_id: str) -> list[dict]:
    return [r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == f"/v1/payment_intents/{pi_id}/capture"]


@pytest.fixture
def acct(sandbox, gw) -> str:
    return link(sandbox, gw)


# --------------------------------------------------------------------------- the happy path


def test_link_checkout_capture_returns_plain_dicts(sandbox, gw, acct):
    assert acct.startswith("acct_")
    pi = authorised(sandbox, gw, acct)
    key = idempotency_key("capture", CONSULTATION, pi["id"], 1800)
    answer = gw.send(stripe_gateway.capture_request(acct, pi["id"], 1800, idempotency_key=key))
    captured = answer.data
    assert type(captured) is dict
    assert captured["status"] == "succeeded" and captured["amount_received"] == 1800
    charge = captured["latest_charge"]
    assert type(charge) is dict and type(charge["balance_transaction"]) is dict
    assert charge["balance_transaction"]["fee"] > 0
    assert answer.request_id.startswith("req_") and answer.replayed is False
    [sent] = captures(sandbox, pi["id"])
    assert sent["idempotency_key"] == key and sent["account"] == acct and sent["request_id"] == answer.request_id


def test_checkout_session_sends_only_opaque_ids(sandbox, gw, acct):
    sandbox.clear_requests()
    authorised(sandbox, gw, acct)
    [create] = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == "/v1/checkout/sessions"]
    params = create["params"]
    flat = repr(params)
    assert create["account"] == acct
    assert create["idempotency_key"] == idempotency_key("checkout", CONSULTATION, 1)
    assert "Téléconsultation" in flat and CONSULTATION in flat and RPPS in flat
    assert "manual" in flat  # capture_method
    for word in ("motif", "diagnos", "médecin", "specialt", "spécialit"):
        assert word not in flat.lower()


def test_reads_lists_and_money_calls(sandbox, gw, acct, monkeypatch):
    first = authorised(sandbox, gw, acct, 2500, "TC-AAAAA2")
    second = authorised(sandbox, gw, acct, 3000, "TC-AAAAA3")
    third = authorised(sandbox, gw, acct, 2000, "TC-AAAAA4")
    monkeypatch.setattr(stripe_gateway, "PAGE_SIZE", 2)  # three objects over two pages
    ids = [pi["id"] for pi in gw.list_payment_intents(acct)]
    assert ids == [third["id"], second["id"], first["id"]]
    assert len(list(gw.list_checkout_sessions(acct, created_gte=0))) == 3
    assert gw.retrieve_payment_intent(acct, first["id"])["amount_capturable"] == 2500

    canceled = gw.cancel(acct, second["id"], idempotency_key=idempotency_key("cancel", "TC-AAAAA3", second["id"]))
    assert canceled["status"] == "canceled"
    gw.capture(acct, first["id"], None, idempotency_key=idempotency_key("capture", "TC-AAAAA2", first["id"], "all"))
    refund = gw.refund(acct, first["id"], 500, idempotency_key=idempotency_key("refund", "TC-AAAAA2", first["id"], 1, 500))
    assert refund["amount"] == 500 and refund["object"] == "refund"

    balance = gw.balance(acct)
    assert balance["object"] == "balance"
    assert isinstance(gw.list_payouts(acct, limit=5), list)
    assert any(t["type"] in ("charge", "payment") for t in gw.list_balance_transactions(acct))
    assert any(e["type"].startswith("payment_intent.") for e in gw.list_events(acct))
    account = gw.retrieve_account(acct)
    assert account["id"] == acct


def test_expire_checkout_session(sandbox, gw, acct):
    session = gw.create_checkout_session(
        acct,
        amount_cents=2500,
        consultation_id=CONSULTATION,
        rpps=RPPS,
        expires_at=sandbox.now() + 3600,
        success_url="https://portal.example.org/ok",
        cancel_url="https://portal.example.org/cancel",
        idempotency_key=idempotency_key("checkout", CONSULTATION, 2),
    )
    expired = gw.expire_checkout_session(acct, session["id"], idempotency_key=idempotency_key("expire", session["id"]))
    assert expired["status"] == "expired"


def test_created_account_and_account_link(sandbox, gw):
    account = gw.create_account("nouveau@example.org", {"rpps": RPPS})
    assert account["id"].startswith("acct_")
    link_ = gw.create_account_link(account["id"], "https://portal.example.org/refresh", "https://portal.example.org/return")
    assert link_["object"] == "account_link" and link_["url"]


def test_oauth_deauthorize(sandbox, gw, acct):
    assert gw.oauth_deauthorize(acct)["stripe_user_id"] == acct
    with pytest.raises(StripeRefused) as info:
        gw.balance(acct)
    assert info.value.stripe_code == "account_invalid"


# --------------------------------------------------------------------------- retries and idempotency


def test_500_then_success_same_key_applied_once(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=2)
    pi = authorised(sandbox, gw, acct)
    sandbox.fault("500", 1, method="POST", path=f"/v1/payment_intents/{pi['id']}/capture")
    key = idempotency_key("capture", CONSULTATION, pi["id"], 2500)
    captured = gw.capture(acct, pi["id"], 2500, idempotency_key=key)
    assert captured["status"] == "succeeded" and captured["amount_received"] == 2500
    sent = captures(sandbox, pi["id"])
    assert [r["status"] for r in sent] == [500, 200]
    assert {r["idempotency_key"] for r in sent} == {key}
    assert [r["fault"] for r in sent] == ["500", None]
    again = gw.retrieve_payment_intent(acct, pi["id"])
    assert again["latest_charge"]["amount_captured"] == 2500


def test_500_every_time_is_unavailable_and_says_money_may_have_moved(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=2)
    pi = authorised(sandbox, gw, acct)
    sandbox.fault("500", 10, method="POST", path="/v1/payment_intents/")
    with pytest.raises(StripeUnavailable) as info:
        gw.capture(acct, pi["id"], 2500, idempotency_key=idempotency_key("capture", CONSULTATION, pi["id"], 2500))
    sandbox.clear_faults()
    err = info.value
    assert err.exit_code == 6 and err.outcome_unknown
    assert "--refresh" in err.message
    assert err.http_status == 500 and err.request_id.startswith("req_")
    assert len(captures(sandbox, pi["id"])) == 3  # the first try and the SDK's two retries


def test_read_unavailable_says_nothing_changed(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=1)
    sandbox.fault("500", 10, method="GET")
    with pytest.raises(StripeUnavailable) as info:
        gw.balance(acct)
    sandbox.clear_faults()
    assert not info.value.outcome_unknown
    assert "Rien n'a été modifié" in info.value.message


def test_429_bounded_backoff_then_exit_6(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=2, rate_limit_retries=2)
    pi = authorised(sandbox, gw, acct)
    sandbox.fault("429", 10, method="POST", path=f"/v1/payment_intents/{pi['id']}/capture")
    key = idempotency_key("capture", CONSULTATION, pi["id"], 2500)
    with pytest.raises(StripeUnavailable) as info:
        gw.capture(acct, pi["id"], 2500, idempotency_key=key)
    sandbox.clear_faults()
    err = info.value
    assert err.exit_code == 6 and err.stripe_code == "rate_limit" and err.http_status == 429
    # Every attempt was answered 429: Stripe applied none of them, and says so.
    assert "3" in err.message and "n'a pas été appliquée" in err.message and err.outcome_unknown is False
    sent = captures(sandbox, pi["id"])
    assert len(sent) == 3  # 1 + 2 of ours; the SDK itself never retries a 429
    assert {r["idempotency_key"] for r in sent} == {key}
    assert gw.retrieve_payment_intent(acct, pi["id"])["status"] == "requires_capture"


def test_a_request_is_sent_as_its_form_says(sandbox, gw, acct):
    """StripeRequest.form() is the one encoding: what the sandbox receives is that form, field for field
    (nested metadata, a list of dicts, integers and booleans as the SDK writes them)."""
    request = stripe_gateway.checkout_session_request(
        acct, amount_cents=2500, consultation_id=CONSULTATION, rpps=RPPS, expires_at=None,
        success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/cancel",
        idempotency_key=idempotency_key("checkout", CONSULTATION, "form"), scheduled_at="2099-12-01T09:30:00Z",
    )
    answer = gw.send(request)
    [sent] = [r for r in sandbox.requests() if r["request_id"] == answer.request_id]
    assert (sent["method"], sent["path"], sent["account"], sent["idempotency_key"]) == (
        request.method, request.path, request.stripe_account, request.idempotency_key,
    )
    form = request.form()
    assert form["line_items[0][price_data][unit_amount]"] == 2500
    assert form["payment_intent_data[metadata][consultation_id]"] == CONSULTATION
    assert stripe_gateway.encode_form(sent["params"]) == {name: str(value) for name, value in form.items()}
    assert stripe_gateway.encode_form({"on": True, "off": False, "gone": None}) == {"on": "true", "off": "false"}


def test_429_then_success(sandbox, make_gateway, acct):
    gw = make_gateway(rate_limit_retries=3)
    sandbox.fault("429", 2, method="GET", path="/v1/balance")
    assert gw.balance(acct)["object"] == "balance"
    balance_reads = [r for r in sandbox.requests() if r["method"] == "GET" and r["path"] == "/v1/balance"]
    assert [r["status"] for r in balance_reads][-3:] == [429, 429, 200]


def test_429_on_a_write_without_caller_key_keeps_one_key(sandbox, make_gateway):
    gw = make_gateway(rate_limit_retries=2)
    sandbox.fault("429", 1, method="POST", path="/v1/accounts")
    account = gw.create_account("x@example.org")
    sent = [r for r in sandbox.requests() if r["method"] == "POST" and r["path"] == "/v1/accounts"]
    assert [r["status"] for r in sent] == [429, 200]
    assert len({r["idempotency_key"] for r in sent}) == 1
    assert account["id"].startswith("acct_")


def test_replayed_idempotent_call_returns_the_same_object(sandbox, gw, acct):
    pi = authorised(sandbox, gw, acct)
    key = idempotency_key("capture", CONSULTATION, pi["id"], 2000)
    request = stripe_gateway.capture_request(acct, pi["id"], 2000, idempotency_key=key)
    first = gw.send(request)
    second = gw.send(request)
    assert second.data == first.data
    assert first.replayed is False and second.replayed is True and second.request_id != first.request_id
    sent = captures(sandbox, pi["id"])
    assert [r["replayed"] for r in sent] == [False, True]
    assert gw.retrieve_payment_intent(acct, pi["id"])["amount_received"] == 2000


def test_dropped_response_is_retried_and_gets_the_first_result(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=2)
    pi = authorised(sandbox, gw, acct)
    sandbox.fault("drop", 1, method="POST", path=f"/v1/payment_intents/{pi['id']}/capture")
    key = idempotency_key("capture", CONSULTATION, pi["id"], 1500)
    answer = gw.send(stripe_gateway.capture_request(acct, pi["id"], 1500, idempotency_key=key))
    assert answer.data["status"] == "succeeded" and answer.data["amount_received"] == 1500
    sent = captures(sandbox, pi["id"])
    assert [(r["fault"], r["replayed"]) for r in sent] == [("drop", False), (None, True)]
    assert {r["idempotency_key"] for r in sent} == {key}
    assert answer.replayed is True
    charge = gw.retrieve_payment_intent(acct, pi["id"])["latest_charge"]
    assert charge["amount_captured"] == 1500


def test_dropped_response_without_retries_is_unavailable_money_unknown(sandbox, make_gateway, acct):
    gw = make_gateway(max_network_retries=0)
    pi = authorised(sandbox, gw, acct)
    sandbox.fault("drop", 1, method="POST", path=f"/v1/payment_intents/{pi['id']}/capture")
    key = idempotency_key("capture", CONSULTATION, pi["id"], 2500)
    with pytest.raises(StripeUnavailable) as info:
        gw.capture(acct, pi["id"], 2500, idempotency_key=key)
    assert info.value.outcome_unknown and "--refresh" in info.value.message
    # The money did move; re-running with the same key reports it and moves nothing more.
    again = gw.send(stripe_gateway.capture_request(acct, pi["id"], 2500, idempotency_key=key))
    assert again.data["status"] == "succeeded" and again.replayed


def test_timeout_is_unavailable(sandbox, make_gateway, acct):
    gw = make_gateway(timeout=0.3, max_network_retries=0)
    sandbox.fault("latency", 1, latency_ms=1500, method="GET", path="/v1/balance")
    started = time.monotonic()
    with pytest.raises(StripeUnavailable) as info:
        gw.balance(acct)
    assert time.monotonic() - started < 1.4
    message = info.value.message
    assert "injoignable ou indisponible" in message and "Rien n'a été modifié" in message
    assert "Error" not in message  # no Python exception name (issue 9, point 3)


def test_money_calls_require_a_key(gw):
    with pytest.raises(TypeError):
        gw.capture("acct_x", "pi_x", 100)  # type: ignore[call-arg]
    with pytest.raises(ValueError):
        gw.capture("acct_x", "pi_x", 100, idempotency_key="")


# --------------------------------------------------------------------------- error translation


def test_authentication_error_is_config_error_without_the_key(sandbox, make_gateway):
    secret = "sk_" "live_thisIsALiveKey0000zz99"
    gw = make_gateway(secret)
    with pytest.raises(ConfigError) as info:
        gw.balance("acct_whatever123")
    err = info.value
    assert err.exit_code == 4 and err.http_status == 401
    for text in (err.message, str(err), repr(err), repr(gw), str(err.__dict__), str(err.to_json())):
        assert secret not in text
        assert "thisIsALiveKey" not in text
    assert "sk_live_…zz99" in err.message
    assert err.__suppress_context__


def test_account_invalid(sandbox, gw):
    with pytest.raises(StripeRefused) as info:
        gw.balance("acct_notconnected1234")
    err = info.value
    assert err.exit_code == 5 and err.stripe_code == "account_invalid" and err.http_status == 403
    assert "sarapay link RPPS --check" in err.message and "acct_notconnected1234" in err.message
    assert TEST_KEY not in err.message


def test_resource_missing(gw, acct):
    with pytest.raises(StripeRefused) as info:
        gw.retrieve_payment_intent(acct, "pi_doesnotexist")
    assert info.value.stripe_code == "resource_missing" and info.value.http_status == 404
    assert info.value.request_id.startswith("req_")


def test_capture_more_than_the_hold(sandbox, gw, acct):
    pi = authorised(sandbox, gw, acct)
    with pytest.raises(StripeRefused) as info:
        gw.capture(acct, pi["id"], 9000, idempotency_key=idempotency_key("capture", CONSULTATION, pi["id"], 9000))
    assert info.value.stripe_code == "amount_too_large"
    assert "montant" in info.value.message.lower()
    assert gw.retrieve_payment_intent(acct, pi["id"])["status"] == "requires_capture"


def test_capture_twice_with_different_keys(sandbox, gw, acct):
    pi = authorised(sandbox, gw, acct)
    gw.capture(acct, pi["id"], 2500, idempotency_key=idempotency_key("capture", CONSULTATION, pi["id"], 2500))
    with pytest.raises(StripeRefused) as info:
        gw.capture(acct, pi["id"], 2400, idempotency_key=idempotency_key("capture", CONSULTATION, pi["id"], 2400))
    assert info.value.stripe_code == "payment_intent_unexpected_state"
    assert "status CONSULTATION --refresh" in info.value.message


def test_same_key_different_parameters_is_an_idempotency_error(sandbox, gw, acct):
    pi = authorised(sandbox, gw, acct)
    key = idempotency_key("capture", CONSULTATION, pi["id"])
    gw.capture(acct, pi["id"], 2000, idempotency_key=key)
    with pytest.raises(StripeRefused) as info:
        gw.capture(acct, pi["id"], 1000, idempotency_key=key)
    assert info.value.stripe_code == "idempotency_error"


def test_amount_too_small(sandbox, gw, acct):
    with pytest.raises(StripeRefused) as info:
        gw.create_checkout_session(
            acct,
            amount_cents=20,
            consultation_id=CONSULTATION,
            rpps=RPPS,
            expires_at=sandbox.now() + 3600,
            success_url="https://portal.example.org/ok",
            cancel_url="https://portal.example.org/cancel",
            idempotency_key=idempotency_key("checkout", CONSULTATION, 9),
        )
    assert info.value.stripe_code == "amount_too_small" and "0,50" in info.value.message


def test_invalid_grant(gw):
    with pytest.raises(StripeRefused) as info:
        gw.oauth_token("ac_doesnotexist123")
    assert info.value.stripe_code == "invalid_grant" and info.value.exit_code == 5
    assert "sarapay link" in info.value.message


def test_oauth_without_client_id_is_config_error(make_gateway):
    gw = make_gateway(client_id=None)
    with pytest.raises(ConfigError):
        gw.oauth_authorize_url("state")


def test_english_messages(sandbox, gw, monkeypatch):
    monkeypatch.setenv("SARAPAY_LANG", "en")
    with pytest.raises(StripeRefused) as info:
        gw.balance("acct_notconnected1234")
    # On the sandbox (a loopback API base) an unknown account may mean a restart without --state: said in English.
    assert "restarted without --state" in info.value.message and "access was revoked" in info.value.message


def test_from_settings(sandbox, monkeypatch):
    monkeypatch.setenv("STRIPE_API_KEY", TEST_KEY)
    monkeypatch.setenv("SARAPAY_API_BASE", sandbox.url)
    monkeypatch.setenv("SARAPAY_CLIENT_ID", TEST_CLIENT_ID)
    gw = Gateway.from_settings()
    assert gw.mode == "test" and gw.api_base == sandbox.url
    assert gw.balance is not None
    assert TEST_KEY not in repr(gw)
    with pytest.raises(ConfigError):
        Gateway.from_settings(live=True)


def test_sdk_debug_logs_never_show_response_bodies(sandbox, make_gateway, capfd, caplog, monkeypatch):
    import logging

    import stripe

    monkeypatch.setattr(stripe, "log", "debug")
    caplog.set_level(logging.DEBUG)
    gw = make_gateway()
    acct = link(sandbox, gw)
    captured = capfd.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert "access_token" not in everything and "refresh_token" not in everything
    assert TEST_KEY not in everything
    assert acct


def test_loopback_sandbox_bypasses_proxies(sandbox, make_gateway, monkeypatch):
    # A proxy that does not exist: reaching the sandbox through it would fail.
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    gw = make_gateway(max_network_retries=0)
    assert gw.create_account("proxy@example.org")["id"].startswith("acct_")


def test_clock_is_stripes_time_from_every_answer_errors_and_clones_included(sandbox, make_gateway):
    """`clock.now()` reads Stripe's time from the answers' Date header: None before the first answer; it follows
    the sandbox clock (not the machine's) after an answer, an error answer, or an answer to a clone."""
    gw = make_gateway()
    assert gw.clock.now() is None  # nothing asked yet: the services fall back on the machine's clock
    acct = link(sandbox, gw)
    assert abs(gw.clock.now() - sandbox.now()) <= 2

    sandbox.advance(8 * 86400)
    with pytest.raises(StripeRefused):
        gw.retrieve_payment_intent(acct, "pi_doesnotexist")  # a 404 carries Stripe's time too
    assert abs(gw.clock.now() - sandbox.now()) <= 2 and gw.clock.now() - time.time() > 8 * 86400 - 5

    sandbox.advance(86400)
    twin = gw.clone()  # a reading thread's Gateway: what it hears serves the caller
    twin.balance(acct)
    assert twin.clock is gw.clock and abs(gw.clock.now() - sandbox.now()) <= 2


def test_sdk_telemetry_is_off_nothing_under_home_nothing_sent(sandbox, make_gateway, monkeypatch):
    """stripe-python's telemetry is on by default: a lasting id written to ~/.config/stripe/telemetry_id and
    sent with the machine's platform string on every request, the previous request's id and duration in
    X-Stripe-Client-Telemetry. A tool next to health data sends nothing it does not need: the Gateway turns it off."""
    import os
    from pathlib import Path

    import stripe

    from tests.cli.hermetic import leftovers, telemetry_sent

    monkeypatch.setattr(stripe, "enable_telemetry", True)  # the SDK's default, whatever ran before in this process
    sandbox.clear_requests()
    gw = make_gateway()
    acct = link(sandbox, gw)
    gw.balance(acct)
    gw.balance(acct)  # the telemetry header rides on the requests after the first
    requests = sandbox.requests()
    assert len(requests) == 3 and all("x-stripe-client-user-agent" in r["headers"] for r in requests)
    assert telemetry_sent(requests) == []
    assert leftovers(Path(os.environ["HOME"])) == []

