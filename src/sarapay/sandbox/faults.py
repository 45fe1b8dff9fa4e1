"""Injected faults for the reliability tests (docs/sandbox.md, `/_sandbox/faults`).

A fault matches the next `count` API requests (optionally by method and path prefix). 500 and 429
answer before the request reaches any handler, so nothing is stored under its idempotency key and a
retry can succeed; `latency` only delays; `drop` lets the request run, then closes the socket.
"""

from __future__ import annotations

from typing import Any

from .framework import StripeError, Store

KINDS = ("500", "429", "latency", "drop")


def _queue(store: Store) -> list[dict[str, Any]]:
    queue: list[dict[str, Any]] = store.misc.setdefault("faults", [])
    return queue


def add(store: Store, kind: str, count: int, latency_ms: int, method: str | None, path: str | None) -> dict[str, Any]:
    fault = {"kind": kind, "count": count, "latency_ms": latency_ms,
             "method": method.upper() if method else None, "path": path or None}
    _queue(store).append(fault)
    return fault


def clear(store: Store) -> None:
    store.misc["faults"] = []


def take(store: Store, method: str, path: str) -> dict[str, Any] | None:
    """Consume one matching fault (first queued wins), or None."""
    with store.lock:
        queue = _queue(store)
        for fault in queue:
            if fault["method"] and fault["method"] != method:
                continue
            wanted = fault["path"]
            # A path ending in "$" matches that path only (the create, not /v1/checkout/sessions/cs_…/expire).
            if wanted and not (path == wanted[:-1] if wanted.endswith("$") else path.startswith(wanted)):
                continue
            fault["count"] -= 1
            if fault["count"] <= 0:
                queue.remove(fault)
            return dict(fault)
    return None


def error_for(fault: dict[str, Any]) -> StripeError | None:
    if fault["kind"] == "500":
        return StripeError(500, "An unknown error occurred while processing your request. "
                           "Please try again later (sandbox injected fault).", type="api_error")
    if fault["kind"] == "429":
        return StripeError(429, "Too many requests hit the API too quickly. We recommend an exponential "
                           "backoff of your requests.", code="rate_limit")
    return None
