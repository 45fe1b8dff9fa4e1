"""Secret keys, platforms and the Stripe-Account header (docs/sandbox.md "Keys and platforms").

Any well-formed test key names a platform, created with its own account on first use, so tests need
no set-up. Stripe-Account must be the platform's own account or one connected to it.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from .framework import Platform, StripeError, Store

_TEST_KEY = re.compile(r"^sk_test_[A-Za-z0-9_]{8,}$")
_PREFIX = re.compile(r"^((?:sk|pk|rk)_(?:test|live)_)")
DEFAULT_SCHEDULE = {"interval": "daily", "delay_days": 7}
RESTRICTED_KEYS = "restricted_keys"  # rk_test_… -> {"platform_key": sk_test_…, "permissions": "read_only"}


def mask(key: str) -> str:
    m = _PREFIX.match(key)
    return (m.group(1) if m else "") + "****" + key[-4:]


def key_from_header(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, cred = value.strip().partition(" ")
    if scheme.lower() == "bearer":
        return cred.strip()
    if scheme.lower() == "basic":  # curl -u sk_test_...: the key is the user name
        try:
            return base64.b64decode(cred.strip()).decode().split(":", 1)[0]
        except (ValueError, UnicodeDecodeError):
            return ""
    return ""


def authenticate(store: Store, header: str | None) -> Platform:
    key = key_from_header(header)
    if key is None:
        raise StripeError(
            401,
            "You did not provide an API key. You need to provide your API key in the Authorization header, "
            "using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#"
            "authentication for details, or we can help at https://support.stripe.com/.",
        )
    if key.startswith("sk_live_") or key.startswith("rk_live_"):
        raise StripeError(401, f"The sandbox never accepts live keys: {mask(key)}. Use a test key (sk_test_…).")
    if key.startswith("rk_test_"):
        restricted = store.table(RESTRICTED_KEYS).get(key)
        if restricted is None:
            raise StripeError(401, f"Invalid API Key provided: {mask(key)}")
        owner = store.platforms[restricted["platform_key"]]
        return Platform(key=owner["key"], account_id=owner["account_id"], client_id=owner.get("client_id"),
                        restricted_key=key)
    if not _TEST_KEY.match(key):
        raise StripeError(401, f"Invalid API Key provided: {mask(key)}")
    with store.lock:
        rec = store.platforms.get(key)
        if rec is None:
            acct = store.new_id("acct_", 16)
            rec = {"key": key, "account_id": acct, "client_id": None}
            store.platforms[key] = rec
            store.accounts[acct] = platform_account(store, acct)
    return Platform(key=rec["key"], account_id=rec["account_id"], client_id=rec.get("client_id"))


def platform_account(store: Store, acct: str) -> dict[str, Any]:
    return {
        "id": acct, "object": "account", "type": "standard", "country": "FR", "default_currency": "eur",
        "email": None, "created": store.now(), "charges_enabled": True, "payouts_enabled": True,
        "details_submitted": True, "business_type": "company", "metadata": {},
        "capabilities": {"card_payments": "active", "transfers": "active"},
        "controller": {"type": "account"},
        "requirements": {"currently_due": [], "eventually_due": [], "past_due": [], "pending_verification": [],
                         "disabled_reason": None, "current_deadline": None, "errors": []},
        "settings": {"payouts": {"schedule": dict(DEFAULT_SCHEDULE), "debit_negative_balances": True,
                                 "statement_descriptor": None}},
    }


def check_account(store: Store, platform: Platform, header: str | None) -> str | None:
    """The validated Stripe-Account, or None when absent. 403 account_invalid when not reachable."""
    if not header:
        return None
    acct = header.strip()
    if acct == platform.account_id or acct in store.connections.get(platform.account_id, {}):
        return acct
    raise StripeError(
        403,
        f"The provided key '{mask(platform.restricted_key or platform.key)}' does not have access to account '{acct}' (or that account "
        "does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def schedule(store: Store, acct: str) -> dict[str, Any]:
    """The payout schedule of an account, with Stripe's defaults for whatever is missing."""
    account = store.accounts.get(acct) or {}
    sched = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    return {**DEFAULT_SCHEDULE, **sched}


# --------------------------------------------------------------------------- restricted keys (read-only)


def mint_restricted_key(store: Store, secret_key: str) -> dict[str, Any]:
    """A read-only restricted key (`rk_test_…`) tied to the platform of `secret_key` (docs/sandbox.md)."""
    platform = authenticate(store, f"Bearer {secret_key}")
    if platform.restricted_key:
        raise StripeError(400, "A restricted key cannot mint another one: give the platform's secret key.",
                          param="secret_key")
    key = "rk_test_" + store.new_id("", 32)
    store.table(RESTRICTED_KEYS)[key] = {"platform_key": platform.key, "permissions": "read_only",
                                         "created": store.now()}
    return {"object": "restricted_key", "key": key, "permissions": "read_only",
            "platform_account": platform.account_id, "created": store.now()}


def permission_for(method: str, path: str) -> str:
    """The permission Stripe names in its refusal: `rak_<resource>_write` (`rak_payment_intent_write`...)."""
    parts = [p for p in path.split("/") if p and not p.startswith(("v1", "oauth"))]
    resource = "_".join(parts[:2]) if parts[:1] == ["checkout"] else (parts[0] if parts else "connect")
    if path.startswith("/oauth/"):
        resource = "connect"
    singular = resource[:-1] if resource.endswith("s") and resource not in ("balance",) else resource
    singular = {"checkout_session": "checkout_session", "webhook_endpoint": "webhook"}.get(singular, singular)
    return f"rak_{singular}_write"


def refuse_restricted(platform: Platform, method: str, path: str, account: str) -> None:
    """A read-only restricted key may only read: a write gets Stripe's permission refusal (403,
    invalid_request_error, the permission that would allow it named in the message)."""
    if platform.restricted_key and method != "GET":
        raise StripeError(
            403,
            f"The provided key '{mask(platform.restricted_key)}' does not have the required permissions for this "
            f"endpoint on account '{account}'. Having the '{permission_for(method, path)}' permission would allow "
            "this request to continue.",
        )
