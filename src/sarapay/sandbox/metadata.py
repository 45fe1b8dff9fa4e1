"""Stripe's metadata rules, shared by the resources that take `metadata` (PaymentIntents, Refunds,
Checkout Sessions, Payouts, Disputes): a module of its own so that balances.py and disputes.py need not
import payments.py, which imports them.
"""

from __future__ import annotations

from typing import Any

from .framework import StripeError


def metadata_param(raw: Any, param: str = "metadata", current: dict[str, str] | None = None) -> dict[str, str]:
    """Stripe's metadata rules: ≤50 keys, keys ≤40 chars, values ≤500 chars, "" unsets a key."""
    result = dict(current or {})
    if raw is None or raw == "":
        return {} if raw == "" else result
    if not isinstance(raw, dict):
        raise StripeError(400, f"Invalid {param}: must be a hash", param=param)
    for key, value in raw.items():
        if not isinstance(value, str):
            raise StripeError(400, f"Invalid val: {value} must be a string under 500 characters", param=param)
        if len(key) > 40:
            raise StripeError(400, f"Invalid key: {key} must be a string under 40 characters", param=param)
        if len(value) > 500:
            raise StripeError(400, f"Invalid val: {value} must be a string under 500 characters", param=param)
        if value == "":
            result.pop(key, None)
        else:
            result[key] = value
    if len(result) > 50:
        raise StripeError(400, f"Metadata can have up to 50 keys, but you've set {len(result)}. "
                          "Email us at support+metadata@stripe.com for more information.", param=param)
    return result
