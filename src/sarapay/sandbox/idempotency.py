"""Idempotency keys (docs/stripe-behaviour.md).

The first result for (platform key, account, Idempotency-Key) is stored, errors and 500s included, and replayed
with `Idempotent-Replayed: true`. Not stored: parameter-validation failures and 409 conflicts (they
can be retried). The same key with other parameters or another path is an
idempotency_error. A key whose first request is still running gives 409 `idempotency_key_in_use`.
Stored results live in the persisted store; keys in flight are per process only.
"""

from __future__ import annotations

import threading
from typing import Any

from .framework import StripeError, Store

MAX_KEY_LENGTH = 255
RETENTION = 24 * 3600  # Stripe may prune keys once they are 24 h old
_UNSTORED_CODES = ("parameter_missing", "parameter_unknown", "parameter_invalid")

_in_flight: set[str] = set()
_in_flight_lock = threading.Lock()


def _slot(platform_key: str, key: str) -> str:
    return platform_key + "\x00" + key


def fingerprint(method: str, path: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"method": method, "path": path, "params": params}


def begin(store: Store, platform_key: str, key: str, fp: dict[str, Any]) -> tuple[int, Any] | None:
    """Return a stored (status, body) to replay, raise on misuse, or mark the key in flight (None)."""
    if len(key) > MAX_KEY_LENGTH:
        raise StripeError(400, f"Idempotency key is too long. The maximum length is {MAX_KEY_LENGTH} characters.",
                          param="Idempotency-Key")
    slot = _slot(platform_key, key)
    with store.lock:
        table = store.table("idempotency")
        saved = table.get(slot)
        if saved is not None and saved["created"] + RETENTION < store.now():
            del table[slot]
            saved = None
        if saved is not None:
            if saved["fingerprint"] != fp:
                raise StripeError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they were first "
                    f"used with. Try using a key other than '{key}' if you meant to execute a different request.",
                    type="idempotency_error",
                )
            return saved["status"], saved["body"]
        with _in_flight_lock:
            if slot in _in_flight:
                raise StripeError(
                    409,
                    "There is currently another in-progress request using this Idempotency-Key (that probably "
                    "means you submitted twice, and the other request is still going through): "
                    f"'{key}'. Please try again later.",
                    code="idempotency_key_in_use",
                )
            _in_flight.add(slot)
    return None


def should_store(status: int, body: Any) -> bool:
    if status == 409:
        return False
    err = body.get("error") if isinstance(body, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    return not (status == 400 and isinstance(code, str) and code.startswith(_UNSTORED_CODES))


def finish(store: Store, platform_key: str, key: str, fp: dict[str, Any], status: int | None, body: Any) -> None:
    """Store the result (when it should be) and release the key. status None: nothing to store."""
    slot = _slot(platform_key, key)
    with store.lock:
        if status is not None and should_store(status, body):
            store.table("idempotency")[slot] = {"fingerprint": fp, "status": status, "body": body,
                                                "created": store.now()}
        with _in_flight_lock:
            _in_flight.discard(slot)
