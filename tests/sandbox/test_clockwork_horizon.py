"""clockwork's horizon: a GET skips the scan for due transitions while nothing can be due, and never misses one.

The sandbox runs in process here so that time can pass without the clock endpoint (which always scans):
moving `store.clock.offset` is what real time passing looks like to the sandbox.
"""

from __future__ import annotations

import pytest

from sarapay.ids import idempotency_key
from sarapay.sandbox import SandboxServer, clockwork
from sarapay.sandbox_control import SandboxControl
from sarapay.credentials import SecretKey
from sarapay.stripe_gateway import Gateway

KEY = "sk_test_clockworkHorizon0"
CLIENT_ID = "ca_clockworkHorizon0"
DAY = 86400


@pytest.fixture
def sb():
    with SandboxServer(port=0) as server:
        yield server


@pytest.fixture
def gw(sb) -> Gateway:
    return Gateway(SecretKey(KEY, "input"), client_id=CLIENT_ID, api_base=sb.url, max_network_retries=0)


@pytest.fixture
def acct(sb, gw) -> str:
    consent = SandboxControl(sb.url).oauth_authorize(gw.oauth_authorize_url("horizon"))
    return gw.oauth_token(consent["code"])["stripe_user_id"]


@pytest.fixture
def scans(monkeypatch):
    calls = []
    real = clockwork._due

    def counting(store, now):
        calls.append(now)
        return real(store, now)

    monkeypatch.setattr(clockwork, "_due", counting)
    return calls


def session(gw, acct, n: int = 1, expires_at: int | None = None) -> dict:
    return gw.create_checkout_session(
        acct, amount_cents=2500, consultation_id=f"TC-AAAAA{n + 1}", rpps="10000000017", expires_at=expires_at,
        success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/ko",
        idempotency_key=idempotency_key("checkout", f"TC-AAAAA{n + 1}", "first"),
    )


def time_passes(sb, seconds: int) -> None:
    sb.store.clock.offset += seconds  # as real time would: no request, no scan


def test_gets_skip_the_scan_until_something_is_added_or_changed(sb, gw, acct, scans):
    created = session(gw, acct)
    scans.clear()
    for _ in range(5):
        gw.retrieve_checkout_session(acct, created["id"])
    assert len(scans) == 1  # the first GET scans and remembers; the next four know nothing can be due
    session(gw, acct, 2)  # a POST scans (and forgets, its handler may change what is due)
    gw.retrieve_checkout_session(acct, created["id"])
    gw.retrieve_checkout_session(acct, created["id"])
    assert len(scans) == 3
    assert sb.store._clockwork_horizon is not None
    SandboxControl(sb.url).pay(created["id"])  # a control POST forgets it as well
    assert sb.store._clockwork_horizon is None


def test_a_link_that_runs_out_while_only_gets_come_is_expired(sb, gw, acct):
    created = session(gw, acct, expires_at=sb.store.now() + 1800)
    assert gw.retrieve_checkout_session(acct, created["id"])["status"] == "open"
    time_passes(sb, 1799)
    assert gw.retrieve_checkout_session(acct, created["id"])["status"] == "open"
    time_passes(sb, 1)
    expired = gw.retrieve_checkout_session(acct, created["id"])
    assert (expired["status"], expired["url"]) == ("expired", None)


def test_a_hold_that_runs_out_while_only_gets_come_is_canceled(sb, gw, acct):
    created = session(gw, acct)
    pi = SandboxControl(sb.url).pay(created["id"])["payment_intent"]
    held = gw.retrieve_payment_intent(acct, pi["id"])
    deadline = held["latest_charge"]["payment_method_details"]["card"]["capture_before"]
    time_passes(sb, deadline - sb.store.now() - 1)
    assert gw.retrieve_payment_intent(acct, pi["id"])["status"] == "requires_capture"
    time_passes(sb, 1)
    lapsed = gw.retrieve_payment_intent(acct, pi["id"])
    assert (lapsed["status"], lapsed["cancellation_reason"]) == ("canceled", "automatic")


def test_funds_and_the_midnight_payout_still_happen_between_gets(sb, gw, acct):
    created = session(gw, acct)
    pi = SandboxControl(sb.url).pay(created["id"])["payment_intent"]
    gw.capture(acct, pi["id"], None, idempotency_key=idempotency_key("capture", pi["id"]))
    assert gw.balance(acct)["pending"][0]["amount"] > 0 and gw.list_payouts(acct) == []
    time_passes(sb, 8 * DAY)
    assert gw.list_payouts(acct) != []  # the funds became available, then a payout ran at 00:00 UTC
