"""Conformance: every object the sandbox returns has the shape of Stripe's published OpenAPI spec.

A story of the whole product (Connect, Checkout with a decline then a hold, partial capture with an
application fee, refunds, a cancel, an expiry, balances, automatic and manual payouts, errors)
runs through the real SDK over HTTP. Every answer is recorded on the wire and checked against
openapi_extract.json (required fields, types with nullable, enums, no field the spec does not know), and
so is every object inside it: nested, expanded, list items, the `data.object` of events.

The extract is built by scripts/extract_openapi_schemas.py from a spec of github.com/stripe/openapi; its
`source` says which. OAuth answers are left out: connect.stripe.com/oauth is not in the spec.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import stripe

from .helpers import (  # noqa: F401
    DAY,
    DECLINED_CARD,
    GOOD_CARD,
    acct,
    authorise,
    capture,
    client,
    connect_account,
    create_session,
)

EXTRACT = json.loads((Path(__file__).parent / "openapi_extract.json").read_text(encoding="utf-8"))
NOT_IN_SPEC = ("/oauth/",)  # Connect OAuth lives on connect.stripe.com, outside the API spec

TYPES = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
}


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


class Checker:
    """A small validator over the extract: what the test needs of JSON Schema, and no more."""

    def __init__(self, extract: dict[str, Any]) -> None:
        self.extract = extract
        self.schemas = extract["schemas"]
        self.objects = extract["objects"]
        self.problems: list[str] = []
        self.used: set[str] = set()

    def _trial(self, value: Any, spec: dict[str, Any], where: str) -> list[str]:
        """The problems `value` would have against `spec`, without recording them."""
        scratch = Checker(self.extract)
        scratch.node(value, spec, where)
        return scratch.problems

    def stripe_object(self, value: dict[str, Any], where: str) -> None:
        """An object checked against the schema of its own `object` (list items, event data, answers)."""
        kind = value.get("object")
        name = self.objects.get(kind)
        if name is None:
            self.problems.append(f"{where}: no schema in the extract for object {kind!r}")
            return
        self.schema(value, name, f"{where}<{kind}>")

    def schema(self, value: Any, name: str, where: str) -> None:
        if name not in self.schemas:
            self.problems.append(f"{where}: the sandbox fills in {name}, which the extract lacks "
                                 "(add it to NESTED in scripts/extract_openapi_schemas.py and rebuild)")
            return
        self.used.add(name)
        self.node(value, self.schemas[name], where)

    def node(self, value: Any, spec: dict[str, Any], where: str) -> None:
        if value is None:
            if not spec.get("nullable"):
                self.problems.append(f"{where}: null, but the spec does not allow null")
            return
        if "ref" in spec:
            self.schema(value, spec["ref"], where)
            return
        if "anyOf" in spec:
            self.any_of(value, spec["anyOf"], where)
            return
        expected = spec.get("type")
        if expected and not TYPES[expected](value):
            self.problems.append(f"{where}: {_short(value)} is not of type {expected}")
            return
        if "enum" in spec and value not in spec["enum"]:
            self.problems.append(f"{where}: {_short(value)} is not one of {spec['enum']}")
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.node(item, spec.get("items", {}), f"{where}[{i}]")
        elif isinstance(value, dict):
            properties = spec.get("properties")
            if properties is not None:
                for name in spec.get("required", []):
                    if name not in value:
                        self.problems.append(f"{where}.{name}: required by the spec, absent")
                for name, item in value.items():
                    if name not in properties:
                        self.problems.append(f"{where}.{name}: not a field of this object in the spec")
                    else:
                        self.node(item, properties[name], f"{where}.{name}")
            elif "values" in spec:
                for name, item in value.items():
                    self.node(item, spec["values"], f"{where}.{name}")
            elif isinstance(value.get("object"), str):
                self.stripe_object(value, where)  # an open object holding a Stripe object: event data

    def any_of(self, value: Any, members: list[dict[str, Any]], where: str) -> None:
        refs = [m["ref"] for m in members if "ref" in m]
        if isinstance(value, dict) and refs:
            # An expanded or polymorphic field: the member is the schema of the value's own `object`.
            name = self.objects.get(value.get("object"))
            if name in refs:
                self.schema(value, name, where)
            elif "object" not in value:  # a nested object: the member it fits
                trials = [(r, self._trial(value, {"ref": r}, where)) for r in refs]
                self.schema(value, min(trials, key=lambda t: len(t[1]))[0], where)
            else:
                self.problems.append(f"{where}: an object {value.get('object')!r}, where the spec allows {refs}")
            return
        trials = [(m, self._trial(value, m, where)) for m in members if "ref" not in m]
        passing = [m for m, problems in trials if not problems]
        if passing:
            self.node(value, passing[0], where)
        else:
            self.problems.append(f"{where}: {_short(value)} matches none of {members}")

    def answer(self, label: str, body: Any) -> None:
        """One API answer: an error body, or an object (a list included)."""
        if not isinstance(body, dict):
            self.problems.append(f"{label}: not a JSON object")
        elif "error" in body and "object" not in body:
            self.schema(body, "error", label)
        else:
            self.stripe_object(body, label)


class Recorder(stripe.UrllibClient):
    """The SDK's own HTTP client, keeping every answer as it came over the wire."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[tuple[str, int, Any]] = []

    def request(self, method, url, headers, post_data=None):
        content, status, response_headers = super().request(method, url, headers, post_data)
        label = f"{method.upper()} {urlsplit(url).path}"
        self.answers.append((label, status, json.loads(content) if content else None))
        return content, status, response_headers


def _story(sandbox, client) -> list[tuple[str, Any]]:
    """Drives the sandbox through the product's story; returns what control endpoints answered."""
    control: list[tuple[str, Any]] = []
    client.v1.accounts.retrieve_current()

    # Connect: a Standard account through OAuth, and an account the platform creates and onboards.
    acct = connect_account(sandbox, client, email="praticien@example.org")
    on = {"stripe_account": acct}
    created = client.v1.accounts.create(params={
        "country": "FR", "email": "cree@example.org", "metadata": {"rpps": "10000000000"},
        "controller": {"fees": {"payer": "account"}, "losses": {"payments": "stripe"},
                       "requirement_collection": "stripe", "stripe_dashboard": {"type": "full"}},
    })
    client.v1.account_links.create(params={
        "account": created.id, "type": "account_onboarding",
        "refresh_url": "https://example.org/refresh", "return_url": "https://example.org/return",
    })
    control.append(("onboarding", sandbox.complete_onboarding(created.id, "complete")))
    client.v1.accounts.update(created.id, params={"settings": {"payouts": {"schedule": {"interval": "manual"}}}})
    client.v1.accounts.retrieve(created.id)
    client.v1.accounts.retrieve(acct)
    client.v1.accounts.list()

    # Checkout: a declined card, then a hold; the session with its line items and payment expanded.
    session = create_session(client, acct, 2500, metadata={"consultation": "TC-ABCDEF"},
                             customer_email="patient@example.org")
    control.append(("declined", sandbox.pay(session.id, DECLINED_CARD)))
    control.append(("paid", sandbox.pay(session.id, GOOD_CARD)))
    session = client.v1.checkout.sessions.retrieve(
        session.id, params={"expand": ["line_items", "payment_intent.latest_charge", "payment_intent.payment_method"]},
        options=on)
    pi_id = session.payment_intent.id
    client.v1.checkout.sessions.list(options=on)
    client.v1.checkout.sessions.line_items.list(session.id, options=on)
    client.v1.payment_intents.update(pi_id, params={"metadata": {"act": "TLC"}}, options=on)

    # Partial capture with an application fee, then a refund; the charge with its refunds expanded.
    capture(client, acct, pi_id, 2000, application_fee_amount=100,
            expand=["latest_charge.balance_transaction"])
    client.v1.refunds.create(params={"payment_intent": pi_id, "amount": 300, "reason": "requested_by_customer"},
                             options=on)
    charge_id = client.v1.payment_intents.retrieve(pi_id, options=on).latest_charge
    client.v1.charges.retrieve(charge_id, params={"expand": ["refunds", "balance_transaction"]}, options=on)
    client.v1.charges.list(params={"expand": ["data.refunds"]}, options=on)
    client.v1.refunds.list(params={"expand": ["data.balance_transaction"]}, options=on)

    # A hold that is released, a session that expires, a card declined on confirm (402 with the intent).
    held = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "eur", "capture_method": "manual", "confirm": True,
        "payment_method": "pm_card_visa"}, options=on)
    client.v1.payment_intents.cancel(held.id, params={"cancellation_reason": "requested_by_customer"}, options=on)
    client.v1.checkout.sessions.expire(create_session(client, acct, 1500).id, options=on)
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(params={"amount": 2500, "currency": "eur", "confirm": True,
                                                 "payment_method": "pm_card_chargeDeclined"}, options=on)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(held.id, options=on)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.charges.retrieve("ch_doesnotexist", options=on)

    # Money over time: pending, then available; the daily payout of the OAuth account; a manual payout
    # of the created account, then canceled.
    auth = authorise(sandbox, client, created.id, 4000)
    capture(client, created.id, auth.pi_id)
    sandbox.advance(10 * DAY)
    for account in (acct, created.id, None):
        options = {"stripe_account": account} if account else {}
        client.v1.balance.retrieve(options=options)
        client.v1.balance_transactions.list(params={"expand": ["data.source"], "limit": 100}, options=options)
        client.v1.payouts.list(options=options)
    payout = client.v1.payouts.create(params={"amount": 1000, "currency": "eur"}, options={"stripe_account": created.id})
    client.v1.payouts.cancel(payout.id, options={"stripe_account": created.id})
    client.v1.payouts.retrieve(payout.id, params={"expand": ["balance_transaction"]},
                               options={"stripe_account": created.id})
    fees = client.v1.application_fees.list(params={"expand": ["data.balance_transaction"]})
    client.v1.application_fees.retrieve(fees.data[0].id)
    client.v1.balance_transactions.retrieve(fees.data[0].balance_transaction.id)

    # Disputes: a chargeback answered with evidence (staged, then submitted: won), an inquiry accepted,
    # a chargeback the bank decides; their balance transactions with the dispute as source.
    for method in ("pm_card_createDispute", "pm_card_createDisputeInquiry", "pm_card_createDisputeProductNotReceived"):
        client.v1.payment_intents.create(params={"amount": 2500, "currency": "eur", "confirm": True,
                                                 "payment_method": method}, options=on)
    disputes = client.v1.disputes.list(params={"expand": ["data.charge"]}, options=on).data
    by_reason = {(d.reason, d.status): d.id for d in disputes}
    won = by_reason[("fraudulent", "needs_response")]
    client.v1.disputes.update(won, params={"evidence": {"product_description": "Téléconsultation"}, "submit": False},
                              options=on)
    client.v1.disputes.update(won, params={"evidence": {"uncategorized_text": "winning_evidence"},
                                           "metadata": {"case": "1"}}, options=on)
    client.v1.disputes.retrieve(won, params={"expand": ["payment_intent"]}, options=on)
    client.v1.disputes.close(by_reason[("fraudulent", "warning_needs_response")], options=on)
    control.append(("dispute", sandbox.settle_dispute(by_reason[("product_not_received", "needs_response")], "lost")))
    client.v1.balance_transactions.list(params={"type": "adjustment", "expand": ["data.source"]}, options=on)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(won, options=on)

    # Every event of every account, and one retrieved alone.
    for account in (acct, created.id, None):
        options = {"stripe_account": account} if account else {}
        events = client.v1.events.list(params={"limit": 100}, options=options)
        assert events.data, account
    client.v1.events.retrieve(events.data[0].id)
    return control


def test_every_object_the_sandbox_returns_matches_the_openapi_spec(sandbox, stripe_client):
    recorder = Recorder()
    client = stripe_client(http_client=recorder)
    control = _story(sandbox, client)

    checker = Checker(EXTRACT)
    for label, status, body in recorder.answers:
        if not any(part in label for part in NOT_IN_SPEC):
            checker.answer(f"{label} ({status})", body)
    for label, answer in control:
        if isinstance(answer, dict) and "checkout_session" in answer:  # the patient's payment
            checker.stripe_object(answer["checkout_session"], f"pay {label}: checkout_session")
            checker.stripe_object(answer["payment_intent"], f"pay {label}: payment_intent")
        else:
            checker.stripe_object(answer, f"control {label}")

    assert not checker.problems, (
        f"{len(checker.problems)} differences from Stripe's OpenAPI spec "
        f"{EXTRACT['source']['version']}:\n" + "\n".join(sorted(set(checker.problems))[:80]))
    # The story meets every schema the extract keeps: nothing is kept for nothing, nothing goes unchecked.
    assert set(EXTRACT["schemas"]) - checker.used == set()


def test_the_checker_reports_each_kind_of_difference():
    extract = {"objects": {"thing": "thing"}, "schemas": {
        "thing": {"type": "object", "required": ["id", "object"], "properties": {
            "id": {"type": "string"}, "object": {"type": "string", "enum": ["thing"]},
            "count": {"type": "integer"}, "note": {"type": "string", "nullable": True},
            "status": {"type": "string", "enum": ["open", "closed"]},
            "part": {"nullable": True, "anyOf": [{"type": "string"}, {"ref": "part"}]}}},
        "part": {"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}}}
    checker = Checker(extract)
    checker.answer("ok", {"id": "t_1", "object": "thing", "note": None, "part": "p_1"})
    checker.answer("ok", {"id": "t_2", "object": "thing", "part": {"size": 3}})
    assert checker.problems == []
    checker.answer("bad", {"object": "thing", "count": True, "note": 1, "status": "ajar", "part": {"size": "3"},
                           "extra": 0})
    checker.answer("bad", {"id": None, "object": "thing"})
    checker.answer("bad", {"id": "t_3", "object": "other"})
    assert set(checker.problems) == {
        "bad<thing>.count: true is not of type integer",
        "bad<thing>.id: null, but the spec does not allow null",
        "bad<thing>.extra: not a field of this object in the spec",
        "bad<thing>.id: required by the spec, absent",
        "bad<thing>.note: 1 is not of type string",
        "bad<thing>.part.size: \"3\" is not of type integer",
        "bad<thing>.status: \"ajar\" is not one of ['open', 'closed']",
        "bad: no schema in the extract for object 'other'",
    }


def test_the_extract_says_which_spec_it_comes_from():
    source = EXTRACT["source"]
    assert source["repository"] == "https://github.com/stripe/openapi"
    assert len(source["commit"]) == 40 and source["version"]
    assert EXTRACT["generated_by"] == "scripts/extract_openapi_schemas.py"


# --------------------------------------------------------------------------- the gaps, one by one


@pytest.fixture
def captured(sandbox, client, acct):
    auth = authorise(sandbox, client, acct, 2500)
    capture(client, acct, auth.pi_id)
    client.v1.refunds.create(params={"payment_intent": auth.pi_id, "amount": 500}, options={"stripe_account": acct})
    charge_id = client.v1.payment_intents.retrieve(auth.pi_id, options={"stripe_account": acct}).latest_charge
    return acct, charge_id, auth


def test_charge_refunds_are_left_out_but_can_be_expanded(client, captured):
    acct, charge_id, _ = captured
    on = {"stripe_account": acct}
    assert "refunds" not in client.v1.charges.retrieve(charge_id, options=on)
    charge = client.v1.charges.retrieve(charge_id, params={"expand": ["refunds"]}, options=on)
    assert charge.refunds.object == "list"
    assert charge.refunds.url == f"/v1/charges/{charge_id}/refunds"
    assert [r.amount for r in charge.refunds.data] == [500]
    listed = client.v1.charges.list(params={"expand": ["data.refunds"]}, options=on).data
    assert [r.amount for r in listed[0].refunds.data] == [500]


def test_previous_attributes_only_on_updated_events(client, captured):
    acct, _, auth = captured
    client.v1.payment_intents.update(auth.pi_id, params={"metadata": {"act": "TLC"}}, options={"stripe_account": acct})
    events = client.v1.events.list(params={"limit": 100}, options={"stripe_account": acct}).data
    updated = [e for e in events if e.type.endswith(".updated")]
    assert [e.type for e in updated] == ["payment_intent.updated"]
    assert "metadata" in updated[0].data.previous_attributes
    others = [e for e in events if not e.type.endswith(".updated")]
    assert {"charge.captured", "charge.refunded", "payment_intent.succeeded"} <= {e.type for e in others}
    assert [e.type for e in others if "previous_attributes" in e.data] == []


def test_balance_transactions_say_which_balance_they_touch(client, captured):
    acct, _, _ = captured
    txns = client.v1.balance_transactions.list(options={"stripe_account": acct}).data
    assert {t.type for t in txns} == {"charge", "refund"}
    assert {t.balance_type for t in txns} == {"payments"}


def test_checkout_sessions_carry_custom_text_and_shipping_options(client, acct):
    session = create_session(client, acct)
    assert session.shipping_options == []
    assert session.custom_text.to_dict() == {"after_submit": None, "shipping_address": None, "submit": None,
                                             "terms_of_service_acceptance": None}
