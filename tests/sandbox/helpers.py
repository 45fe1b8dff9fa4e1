"""Small helpers shared by the sandbox conformance tests.

Everything here goes through the real `stripe` SDK (or plain urllib where the SDK hides the wire) and the
sandbox's control endpoints; nothing imports the sandbox itself. Expected values in the tests come from
shared/docs/stripe.md (what real Stripe does) and docs/sandbox.md (the sandbox's own contract).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

DAY = 86400
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"  # Stripe test card: generic_decline
INSUFFICIENT_FUNDS_CARD = "4000000000009995"  # Stripe test card: insufficient_funds


def connect_account(sandbox, client, *, email: str | None = None, state: str = "csrf-state") -> str:
    """Connects a Standard account to the client's platform through OAuth and returns its acct_ id."""
    params: dict[str, Any] = {"scope": "read_write", "state": state}
    if email:
        params["stripe_user"] = {"email": email}
    url = client.oauth.authorize_url(params=params)
    consent = sandbox.oauth_authorize(url)
    token = client.oauth.token(params={"grant_type": "authorization_code", "code": consent["code"]})
    return token.stripe_user_id


def oauth_code(sandbox, client, *, state: str = "csrf-state", **extra: str) -> dict[str, Any]:
    """Plays the consent page and returns the sandbox's answer (code, state, stripe_user_id...)."""
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": state})
    return sandbox.oauth_authorize(url, **extra)


def session_params(amount: int = 2500, **extra: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "price_data": {
                    "currency": "eur",
                    "unit_amount": amount,
                    "product_data": {"name": "Téléconsultation"},
                },
                "quantity": 1,
            }
        ],
        "success_url": "https://example.org/ok?cs={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://example.org/cancel",
        "payment_intent_data": {"capture_method": "manual"},
    }
    for key, value in extra.items():
        if key == "payment_intent_data":
            params["payment_intent_data"] = {**params["payment_intent_data"], **value}
        else:
            params[key] = value
    return params


def create_session(client, acct: str | None, amount: int = 2500, *, idempotency_key: str | None = None, **extra: Any):
    options: dict[str, Any] = {}
    if acct:
        options["stripe_account"] = acct
    if idempotency_key:
        options["idempotency_key"] = idempotency_key
    return client.v1.checkout.sessions.create(params=session_params(amount, **extra), options=options)


@dataclass
class Authorised:
    session_id: str
    pi_id: str
    acct: str
    amount: int


def authorise(sandbox, client, acct: str, amount: int = 2500, **extra: Any) -> Authorised:
    """Creates a manual-capture Checkout Session on `acct` and pays it with a good card."""
    session = create_session(client, acct, amount, **extra)
    result = sandbox.pay(session.id, GOOD_CARD)
    assert result["outcome"] == "authorized", result
    pi = result["payment_intent"]
    pi_id = pi["id"] if isinstance(pi, dict) else pi
    return Authorised(session.id, pi_id, acct, amount)


def retrieve_pi(client, acct: str, pi_id: str, *expand: str):
    params = {"expand": list(expand)} if expand else None
    return client.v1.payment_intents.retrieve(pi_id, params=params, options={"stripe_account": acct})


def capture(client, acct: str, pi_id: str, amount: int | None = None, *, key: str | None = None, **extra: Any):
    params: dict[str, Any] = dict(extra)
    if amount is not None:
        params["amount_to_capture"] = amount
    options: dict[str, Any] = {"stripe_account": acct}
    if key:
        options["idempotency_key"] = key
    return client.v1.payment_intents.capture(pi_id, params=params, options=options)


def charge_of(client, acct: str, pi_id: str, *more_expand: str):
    pi = retrieve_pi(client, acct, pi_id, "latest_charge", *more_expand)
    return pi.latest_charge


def event_types(client, acct: str | None, **params: Any) -> list[str]:
    options = {"stripe_account": acct} if acct else {}
    params.setdefault("limit", 100)
    return [e.type for e in client.v1.events.list(params=params, options=options).data]


@dataclass
class Raw:
    status: int
    headers: Any
    body: Any

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def raw(
    base_url: str,
    method: str,
    path: str,
    *,
    key: str | None = None,
    account: str | None = None,
    data: dict[str, Any] | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> Raw:
    """A plain HTTP request to the sandbox (no SDK), returning status, headers and the decoded JSON body."""
    body = None
    if isinstance(data, dict):
        body = urllib.parse.urlencode(data).encode()
    elif isinstance(data, str):
        body = data.encode()
    req = urllib.request.Request(base_url.rstrip("/") + path, data=body, method=method)
    if key is not None:
        req.add_header("Authorization", f"Bearer {key}")
    if account is not None:
        req.add_header("Stripe-Account", account)
    if body is not None:
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
    for name, value in (headers or {}).items():
        req.add_header(name, value)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(req, timeout=timeout) as resp:
            status, hdrs, payload = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as exc:
        status, hdrs, payload = exc.code, exc.headers, exc.read()
    try:
        decoded = json.loads(payload) if payload else None
    except ValueError:
        decoded = payload.decode(errors="replace")
    return Raw(status, hdrs, decoded)


def param_value(params: dict[str, Any], *path: str) -> Any:
    """Reads a nested parameter from a request-log `params`, whether it is stored nested or flat."""
    node: Any = params
    for part in path:
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            node = None
            break
    if node is not None:
        return node
    flat = path[0] + "".join(f"[{p}]" for p in path[1:])
    return params.get(flat)


# Fixtures shared by the conformance modules (imported by name into each module).
import pytest  # noqa: E402


@pytest.fixture
def client(stripe_client):
    """A StripeClient of the default test platform, no retries."""
    return stripe_client()


@pytest.fixture
def acct(sandbox, client) -> str:
    """A Standard account connected to the default platform through OAuth."""
    return connect_account(sandbox, client, email="praticien@example.org")
