"""Gateway list calls with expansions (reconcile's one-page-per-hundred reads), scheduled_at metadata,
and clone() (one Gateway per reconcile worker thread)."""

from __future__ import annotations

import time

import pytest

from sarapay.ids import idempotency_key
from sarapay.credentials import SecretKey
from sarapay.stripe_gateway import METADATA_SCHEDULED, Gateway

TEST_KEY = "sk_test_gatewayLists0000"
TEST_CLIENT_ID = "ca_gatewayLists0000"
RPPS = "10000000008"


@pytest.fixture
def gw(sandbox) -> Gateway:
    return Gateway(
        SecretKey(TEST_KEY, "input"), client_id=TEST_CLIENT_ID, api_base=sandbox.url,
        rate_limit_delay=0.01, sleep=lambda s: time.sleep(min(s, 0.05)),
    )


@pytest.fixture
def acct(sandbox, gw) -> str:
    consent = sandbox.oauth_authorize(gw.oauth_authorize_url("csrf-lists", "p@example.org"))
    return gw.oauth_token(consent["code"])["stripe_user_id"]


def _session(gw, acct, consultation, **extra):
    return gw.create_checkout_session(
        acct, amount_cents=2500, consultation_id=consultation, rpps=RPPS, expires_at=None,
        success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/cancel",
        idempotency_key=idempotency_key("checkout", consultation, 1), **extra,
    )


def test_list_payment_intents_expands_charge_and_fee_in_the_page(sandbox, gw, acct):
    held = _session(gw, acct, "TC-AAAAA2")
    captured = _session(gw, acct, "TC-AAAAA3")
    sandbox.pay(held["id"])
    pi = sandbox.pay(captured["id"])["payment_intent"]
    gw.capture(acct, pi["id"], 2000, idempotency_key=idempotency_key("capture", "TC-AAAAA3", pi["id"], 2000))
    sandbox.clear_requests()

    pis = {p["metadata"]["consultation_id"]: p for p in gw.list_payment_intents(
        acct, created_gte=0, expand=["data.latest_charge.balance_transaction"])}

    assert pis["TC-AAAAA2"]["latest_charge"]["payment_method_details"]["card"]["capture_before"] > sandbox.now()
    assert pis["TC-AAAAA2"]["latest_charge"]["balance_transaction"] is None
    assert pis["TC-AAAAA3"]["latest_charge"]["balance_transaction"]["fee"] > 0
    (request,) = sandbox.requests()
    assert request["path"] == "/v1/payment_intents" and request["account"] == acct
    assert request["params"]["expand"] in (["data.latest_charge.balance_transaction"],
                                           {"0": "data.latest_charge.balance_transaction"})


def test_list_checkout_sessions_keeps_filters_across_pages(sandbox, gw, acct):
    for n in range(3):
        _session(gw, acct, f"TC-AAAAB{n + 2}")
    sandbox.clear_requests()
    assert len(list(gw.list_checkout_sessions(acct, created_gte=0, expand=["data.payment_intent"]))) == 3


def test_scheduled_at_travels_in_metadata_only_when_given(sandbox, gw, acct):
    with_time = _session(gw, acct, "TC-AAAAC2", scheduled_at="2026-12-01T09:30:00Z")
    without = _session(gw, acct, "TC-AAAAC3")
    assert with_time["metadata"][METADATA_SCHEDULED] == "2026-12-01T09:30:00Z"
    assert METADATA_SCHEDULED not in without["metadata"]


def test_clone_is_a_separate_gateway_with_the_same_settings(gw, acct):
    other = gw.clone()
    assert other is not gw and other._client is not gw._client
    assert (other.key.masked, other.api_base, other.client_id, other.max_network_retries, other.timeout) == (
        gw.key.masked, gw.api_base, gw.client_id, gw.max_network_retries, gw.timeout)
    assert other.balance(acct)["object"] == "balance"
