"""Secret keys, platforms and the Stripe-Account header (docs/sandbox.md "Keys and platforms").

Any well-formed test key names a platform, created with its own account on first use, so tests need
no set-up. Stripe-Account must be the platform's own account or one connected to it.
"""

from __future__ import annotations

import base64
import re

from .framework import Platform, StripeError, Store

_TEST_KEY = re.compile(r"^sk_test_[A-Za-z0-9_]{8,}$")
_PREFIX = re.compile(r"^((?:sk|pk|rk)_(?:test|live)_)")
DEFAULT_SCHEDULE = {"interval": "daily", "delay_days": 7}


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


def platform_account(store: Store, acct: str) -> dict:
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
        f"The provided key '{mask(platform.key)}' does not have access to account '{acct}' (or that account "
        "does not exist). Application access may have been revoked.",
        code="account_invalid",
    )


def schedule(store: Store, acct: str) -> dict:
    """The payout schedule of an account, with Stripe's defaults for whatever is missing."""
    account = store.accounts.get(acct) or {}
    sched = ((account.get("settings") or {}).get("payouts") or {}).get("schedule") or {}
    return {**DEFAULT_SCHEDULE, **sched}
