"""Conformance: errors, auth, 404s, Request-Id, form decoding, pagination, expand (stripe.md §9, §11, §12.8-10)."""

from __future__ import annotations

import urllib.parse
from typing import Any

import pytest
import stripe

from .helpers import (  # noqa: F401
    DECLINED_CARD,
    acct,
    authorise,
    capture,
    client,
    create_session,
    raw,
    retrieve_pi,
    session_params,
)

KEY = "sk_test_sarapayTests0000"
V1_ERROR_TYPES = {"api_error", "card_error", "idempotency_error", "invalid_request_error"}


# --- keys ---------------------------------------------------------------------------------------


def test_missing_key_is_401_json(sandbox):
    resp = raw(sandbox.url, "GET", "/v1/balance")
    assert resp.status == 401
    assert resp.body["error"]["type"] == "invalid_request_error"
    assert resp.header("Request-Id").startswith("req_")


def test_bad_key_is_authentication_error_with_the_key_masked(sandbox, stripe_client):
    bad = stripe_client(key="sk_test_wrong!key#abcd")
    with pytest.raises(stripe.AuthenticationError) as info:
        bad.v1.balance.retrieve()
    assert info.value.http_status == 401
    message = info.value.error.message
    assert message.startswith("Invalid API Key provided: sk_test_")
    assert message.endswith("abcd")
    assert "wrong!key" not in message


def test_publishable_key_is_refused(sandbox, stripe_client):
    with pytest.raises(stripe.AuthenticationError):
        stripe_client(key="pk_test_sarapayTests0000").v1.balance.retrieve()


def test_live_key_is_refused(sandbox, stripe_client):
    with pytest.raises(stripe.AuthenticationError) as info:
        stripe_client(key="sk_" "live_sarapayTests0000").v1.balance.retrieve()
    assert info.value.http_status == 401
    assert "live" in info.value.error.message.lower()


def test_two_keys_are_two_independent_platforms(sandbox, client, acct, stripe_client):
    create_session(client, None)
    other = stripe_client(key="sk_test_anotherPlatform01")
    assert other.v1.checkout.sessions.list().data == []
    assert len(client.v1.checkout.sessions.list().data) == 1


# --- errors and 404s ----------------------------------------------------------------------------


def test_unknown_route_is_404_json_with_stripes_message(sandbox):
    resp = raw(sandbox.url, "GET", "/v1/nonexistent_things", key=KEY)
    assert resp.status == 404
    assert isinstance(resp.body, dict)
    assert resp.body["error"]["type"] == "invalid_request_error"
    assert resp.body["error"]["message"].startswith("Unrecognized request URL (GET: /v1/nonexistent_things)")
    assert resp.header("Request-Id").startswith("req_")


def test_unknown_route_without_key_is_still_json(sandbox):
    resp = raw(sandbox.url, "POST", "/v1/nope", data={"a": "b"})
    assert resp.status in (401, 404)
    assert isinstance(resp.body, dict) and "error" in resp.body


def test_unknown_parameter_is_parameter_unknown(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.create(
            params={**session_params(), "foo": "bar"}, options={"stripe_account": acct}
        )
    err = info.value
    assert err.http_status == 400
    assert err.code == "parameter_unknown"
    assert err.param == "foo"
    assert err.error.message == "Received unknown parameter: foo"


def test_every_response_carries_a_request_id(sandbox, client, acct):
    ok = raw(sandbox.url, "GET", "/v1/balance", key=KEY, account=acct)
    assert ok.status == 200
    assert ok.header("Request-Id").startswith("req_")
    missing = raw(sandbox.url, "GET", "/v1/payment_intents/pi_nope", key=KEY, account=acct)
    assert missing.status == 404
    assert missing.header("Request-Id").startswith("req_")
    assert ok.header("Request-Id") != missing.header("Request-Id")


def test_sdk_errors_carry_the_request_id(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        retrieve_pi(client, acct, "pi_nope")
    assert info.value.request_id and info.value.request_id.startswith("req_")
    assert str(info.value).startswith(f"Request {info.value.request_id}: ")


def test_error_types_are_only_the_four_v1_types(sandbox, client, acct, stripe_client):
    bodies = []
    for err_call in (
        lambda: retrieve_pi(client, acct, "pi_nope"),
        lambda: client.v1.payment_intents.list(options={"stripe_account": "acct_1Nope0000000000"}),
        lambda: stripe_client(key="sk_test_x").v1.balance.retrieve(),
        lambda: client.v1.checkout.sessions.create(params={"mode": "payment"}, options={"stripe_account": acct}),
    ):
        with pytest.raises(stripe.StripeError) as info:
            err_call()
        bodies.append(info.value.json_body)
    assert all(b["error"]["type"] in V1_ERROR_TYPES for b in bodies), bodies


def test_response_is_json_with_content_type(sandbox, acct):
    resp = raw(sandbox.url, "GET", "/v1/balance", key=KEY, account=acct)
    assert "application/json" in resp.header("Content-Type")
    assert resp.body["object"] == "balance"


def _underscored(node: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for k, v in node.items():
            if k.startswith("_"):
                found.append(f"{path}.{k}")
            found.extend(_underscored(v, f"{path}.{k}"))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found.extend(_underscored(v, f"{path}[{i}]"))
    return found


def test_responses_never_expose_internal_fields(sandbox, client, acct):
    # Stripe objects have no underscore-prefixed fields; a declined attempt's last_payment_error.payment_method
    # carries the sandbox's internal `_seq` / `_account`.
    session = create_session(client, acct)
    pi_id = sandbox.pay(session.id, DECLINED_CARD)["payment_intent"]["id"]
    resp = raw(sandbox.url, "GET", f"/v1/payment_intents/{pi_id}", key=KEY, account=acct)
    assert _underscored(resp.body) == []
    err = raw(sandbox.url, "POST", f"/v1/payment_intents/{pi_id}/capture", key=KEY, account=acct, data={})
    assert err.status == 400
    assert _underscored(err.body) == []


# --- form decoding ------------------------------------------------------------------------------


def test_post_body_with_literal_brackets_is_decoded_into_nested_params(sandbox, acct):
    body = (
        "mode=payment&line_items[0][price_data][currency]=eur&line_items[0][price_data][unit_amount]=1800"
        "&line_items[0][price_data][product_data][name]=Consult&line_items[0][quantity]=1"
        "&payment_intent_data[capture_method]=manual&metadata[rdv]=7&success_url=https://example.org/ok"
    )
    resp = raw(sandbox.url, "POST", "/v1/checkout/sessions", key=KEY, account=acct, data=body)
    assert resp.status == 200, resp.body
    assert resp.body["amount_total"] == 1800
    assert resp.body["metadata"] == {"rdv": "7"}


def test_percent_encoded_brackets_in_query_are_decoded(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    query = "expand%5B0%5D=latest_charge.balance_transaction"
    resp = raw(sandbox.url, "GET", f"/v1/payment_intents/{auth.pi_id}?{query}", key=KEY, account=acct)
    assert resp.status == 200, resp.body
    assert resp.body["latest_charge"]["balance_transaction"]["object"] == "balance_transaction"


def test_percent_encoded_created_filter_in_query(sandbox, client, acct):
    first = create_session(client, acct)
    sandbox.advance(100)
    second = create_session(client, acct)
    query = urllib.parse.urlencode({"created[gte]": second.created})
    assert "%5B" in query
    resp = raw(sandbox.url, "GET", f"/v1/checkout/sessions?{query}", key=KEY, account=acct)
    assert resp.status == 200, resp.body
    assert [s["id"] for s in resp.body["data"]] == [second.id]
    assert first.id not in [s["id"] for s in resp.body["data"]]


def test_empty_metadata_value_is_not_stored(sandbox, client, acct):
    # stripe.md §2: an empty value unsets the key.
    session = create_session(client, acct, metadata={"keep": "1", "drop": ""})
    assert session.metadata.to_dict() == {"keep": "1"}


# --- pagination ---------------------------------------------------------------------------------


@pytest.fixture
def twelve_sessions(sandbox, client, acct):
    """Twelve sessions one second apart, oldest first."""
    ids = []
    for _ in range(12):
        ids.append(create_session(client, acct).id)
        sandbox.advance(1)
    return ids


def _list(client, acct, **params):
    return client.v1.checkout.sessions.list(params=params or None, options={"stripe_account": acct})


def test_list_default_limit_is_10_newest_first_with_has_more(sandbox, client, acct, twelve_sessions):
    page = _list(client, acct)
    assert page.object == "list"
    assert page.has_more is True
    assert [s.id for s in page.data] == list(reversed(twelve_sessions))[:10]


def test_list_url_is_a_relative_path(sandbox, client, acct, twelve_sessions):
    resp = raw(sandbox.url, "GET", "/v1/checkout/sessions?limit=2", key=KEY, account=acct)
    assert resp.body["url"] == "/v1/checkout/sessions"


@pytest.mark.parametrize("limit", [0, 101])
def test_list_limit_outside_1_to_100_is_refused(sandbox, client, acct, limit):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _list(client, acct, limit=limit)
    assert info.value.http_status == 400
    assert info.value.param == "limit"


def test_list_limit_100_is_accepted(sandbox, client, acct, twelve_sessions):
    page = _list(client, acct, limit=100)
    assert len(page.data) == 12
    assert page.has_more is False


def test_starting_after_returns_the_next_older_page(sandbox, client, acct, twelve_sessions):
    newest_first = list(reversed(twelve_sessions))
    page = _list(client, acct, limit=5, starting_after=newest_first[4])
    assert [s.id for s in page.data] == newest_first[5:10]
    assert page.has_more is True
    last = _list(client, acct, limit=5, starting_after=newest_first[9])
    assert [s.id for s in last.data] == newest_first[10:]
    assert last.has_more is False


def test_ending_before_returns_the_objects_just_newer_newest_first(sandbox, client, acct, twelve_sessions):
    newest_first = list(reversed(twelve_sessions))
    page = _list(client, acct, limit=3, ending_before=newest_first[6])
    assert [s.id for s in page.data] == newest_first[3:6]
    assert page.has_more is True
    top = _list(client, acct, limit=5, ending_before=newest_first[2])
    assert [s.id for s in top.data] == newest_first[0:2]
    assert top.has_more is False


def test_starting_after_and_ending_before_together_are_refused(sandbox, client, acct, twelve_sessions):
    with pytest.raises(stripe.InvalidRequestError) as info:
        _list(client, acct, starting_after=twelve_sessions[5], ending_before=twelve_sessions[2])
    assert info.value.http_status == 400


def test_created_gte_filter(sandbox, client, acct, twelve_sessions):
    pivot = client.v1.checkout.sessions.retrieve(twelve_sessions[8], options={"stripe_account": acct})
    page = _list(client, acct, created={"gte": pivot.created})
    assert [s.id for s in page.data] == list(reversed(twelve_sessions[8:]))


def test_created_lt_filter(sandbox, client, acct, twelve_sessions):
    pivot = client.v1.checkout.sessions.retrieve(twelve_sessions[3], options={"stripe_account": acct})
    page = _list(client, acct, created={"lt": pivot.created})
    assert [s.id for s in page.data] == list(reversed(twelve_sessions[:3]))


def test_auto_paging_iter_walks_everything_and_keeps_the_stripe_account_header(
    sandbox, client, acct, twelve_sessions
):
    since = max([r["seq"] for r in sandbox.requests()] or [0])
    seen = [s.id for s in _list(client, acct, limit=5).auto_paging_iter()]
    assert seen == list(reversed(twelve_sessions))
    listing = [r for r in sandbox.requests(since=since) if r["path"].startswith("/v1/checkout/sessions")]
    assert len(listing) == 3
    assert all(r["account"] == acct for r in listing)


def test_auto_paging_iter_backwards_from_ending_before(sandbox, client, acct, twelve_sessions):
    newest_first = list(reversed(twelve_sessions))
    seen = [s.id for s in _list(client, acct, limit=4, ending_before=newest_first[9]).auto_paging_iter()]
    assert seen == list(reversed(newest_first[:9]))


# --- expand -------------------------------------------------------------------------------------


def test_latest_charge_is_an_id_unless_expanded(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    pi = retrieve_pi(client, acct, auth.pi_id)
    assert isinstance(pi.latest_charge, str)
    expanded = retrieve_pi(client, acct, auth.pi_id, "latest_charge")
    assert expanded.latest_charge.object == "charge"
    assert expanded.latest_charge.id == pi.latest_charge


def test_expand_latest_charge_balance_transaction(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    assert retrieve_pi(client, acct, auth.pi_id, "latest_charge.balance_transaction").latest_charge.balance_transaction is None
    capture(client, acct, auth.pi_id)
    pi = retrieve_pi(client, acct, auth.pi_id, "latest_charge.balance_transaction")
    bt = pi.latest_charge.balance_transaction
    assert bt.object == "balance_transaction"
    assert bt.fee == 63


def test_expand_on_capture_response(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    pi = capture(client, acct, auth.pi_id, expand=["latest_charge"])
    assert pi.latest_charge.object == "charge"
    assert pi.latest_charge.captured is True


def test_expand_checkout_session_payment_intent(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    session = client.v1.checkout.sessions.retrieve(
        auth.session_id, params={"expand": ["payment_intent"]}, options={"stripe_account": acct}
    )
    assert session.payment_intent.object == "payment_intent"
    assert session.payment_intent.id == auth.pi_id


def test_expansion_deeper_than_four_levels_is_refused(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    with pytest.raises(stripe.InvalidRequestError) as info:
        retrieve_pi(client, acct, auth.pi_id, "latest_charge.balance_transaction.source.payment_intent.latest_charge")
    assert info.value.http_status == 400


def test_malformed_test_key_is_refused(sandbox, stripe_client):
    with pytest.raises(stripe.AuthenticationError):
        stripe_client(key="sk_test_abc").v1.balance.retrieve()


def test_boolean_form_values_are_decoded(sandbox, client):
    # stripe.md §11: booleans go on the wire as true/false.
    account = client.v1.accounts.create(params={"country": "FR", "email": "b@example.org"})
    client.v1.accounts.update(account.id, params={"settings": {"payouts": {"debit_negative_balances": False}}})
    assert client.v1.accounts.retrieve(account.id).settings.payouts.debit_negative_balances is False
    client.v1.accounts.update(account.id, params={"settings": {"payouts": {"debit_negative_balances": True}}})
    assert client.v1.accounts.retrieve(account.id).settings.payouts.debit_negative_balances is True


def test_state_error_carries_stripes_doc_url(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    capture(client, acct, auth.pi_id)
    with pytest.raises(stripe.InvalidRequestError) as info:
        capture(client, acct, auth.pi_id)
    assert info.value.error.doc_url == "https://stripe.com/docs/error-codes/payment-intent-unexpected-state"


@pytest.mark.parametrize(
    "path",
    ["/v1/checkout/sessions?limit=abc", "/v1/payment_intents?limit=1.5"],
)
def test_non_integer_limit_is_parameter_invalid_integer(sandbox, acct, path):
    resp = raw(sandbox.url, "GET", path, key=KEY, account=acct)
    assert resp.status == 400
    assert resp.body["error"]["code"] == "parameter_invalid_integer"
    assert resp.body["error"]["param"] == "limit"


def test_non_integer_amount_to_capture_is_parameter_invalid_integer(sandbox, client, acct):
    auth = authorise(sandbox, client, acct)
    resp = raw(
        sandbox.url, "POST", f"/v1/payment_intents/{auth.pi_id}/capture", key=KEY, account=acct,
        data={"amount_to_capture": "12.5"},
    )
    assert resp.status == 400
    assert resp.body["error"]["code"] == "parameter_invalid_integer"
    assert retrieve_pi(client, acct, auth.pi_id).status == "requires_capture"


def test_unknown_post_route_names_the_method(sandbox):
    resp = raw(sandbox.url, "POST", "/v1/widgets", key=KEY, data={"a": "1"})
    assert resp.status == 404
    assert resp.body["error"]["message"].startswith("Unrecognized request URL (POST: /v1/widgets)")


def test_unknown_checkout_session_is_404_with_its_id(sandbox, client, acct):
    with pytest.raises(stripe.InvalidRequestError) as info:
        client.v1.checkout.sessions.retrieve("cs_test_nope", options={"stripe_account": acct})
    assert info.value.http_status == 404
    assert info.value.code == "resource_missing"
    assert info.value.error.message == "No such checkout.session: 'cs_test_nope'"
