"""Control endpoints under /_sandbox/ (docs/sandbox.md): no key, never in the request log.

They drive what Stripe would do on its own (the clock, the patient's card) and what tests need to
observe or break (the request log, faults, reset, documented ambiguities).
"""

from __future__ import annotations

from typing import Any

from . import auth, checkout, clockwork, disputes, faults, persistence, webhooks
from .framework import CONTROL, ROUTER, Request, StripeError, int_param

SETTINGS = {"checkout_paid_on_authorize": False, "dispute_fee_refunded_when_won": True}


def _bool(value: Any, name: str) -> bool:
    if value in ("true", "1", True):
        return True
    if value in ("false", "0", False):
        return False
    raise StripeError(400, f"Invalid boolean for {name}: {value!r}", code="parameter_invalid", param=name)


@ROUTER.route("GET", "/_sandbox/health", **CONTROL)
def health(req: Request) -> dict[str, Any]:
    return {"ok": True, "now": req.now}


@ROUTER.route("GET", "/_sandbox/clock", **CONTROL)
def clock(req: Request) -> dict[str, Any]:
    return {"now": req.now}


@ROUTER.route("POST", "/_sandbox/clock/advance", **CONTROL)
def advance(req: Request) -> dict[str, Any]:
    seconds = int_param(req.params, "seconds", required=True)
    assert seconds is not None
    if seconds < 0:
        raise StripeError(400, "The sandbox clock only moves forward: seconds must be ≥ 0.",
                          code="parameter_invalid_integer", param="seconds")
    req.store.clock.advance(seconds)
    clockwork.run(req.store)
    webhooks.wake(req.store)  # retries that fell due
    return {"now": req.now}


@ROUTER.route("POST", "/_sandbox/checkout/sessions/{id}/pay", **CONTROL)
def pay(req: Request) -> dict[str, Any]:
    card = str(req.params.get("card") or "4242424242424242")
    return checkout.pay(req.store, req.path_params["id"], card, req.params.get("email") or None)


@ROUTER.route("POST", "/_sandbox/disputes/{id}/close", **CONTROL)
def settle_dispute(req: Request) -> dict[str, Any]:
    """Plays the cardholder's bank: `outcome=won|lost` decides an open dispute (an inquiry is closed)."""
    outcome = str(req.params.get("outcome") or "")
    if outcome not in ("won", "lost"):
        raise StripeError(400, "Invalid outcome: must be one of won, lost", code="parameter_invalid", param="outcome")
    dispute = req.store.locate(req.path_params["id"])
    if dispute is None or dispute.get("object") != "dispute":
        raise StripeError(404, f"No such dispute: '{req.path_params['id']}'", code="resource_missing", param="id")
    if dispute["status"] not in disputes.OPEN:
        raise StripeError(400, f"This dispute is already {dispute['status']}.", param="outcome")
    disputes.close(req.store, dispute, outcome)
    return dispute


@ROUTER.route("POST", "/_sandbox/restricted_keys", **CONTROL)
def restricted_key(req: Request) -> dict[str, Any]:
    secret_key = str(req.params.get("secret_key") or "")
    if not secret_key:
        raise StripeError(400, "Missing required param: secret_key.", code="parameter_missing", param="secret_key")
    return auth.mint_restricted_key(req.store, secret_key)


@ROUTER.route("POST", "/_sandbox/faults", **CONTROL)
def add_fault(req: Request) -> dict[str, Any]:
    p = req.params
    kind = str(p.get("kind") or "")
    if kind not in faults.KINDS:
        raise StripeError(400, f"Invalid kind: must be one of {', '.join(faults.KINDS)}", param="kind")
    count = int_param(p, "count", default=1)
    latency = int_param(p, "latency_ms", default=0)
    assert count is not None and latency is not None
    if count < 1 or latency < 0:
        raise StripeError(400, "count must be ≥ 1 and latency_ms ≥ 0.", param="count")
    faults.add(req.store, kind, count, latency, p.get("method") or None, p.get("path") or None)
    return {"queued": req.store.misc["faults"]}


@ROUTER.route("GET", "/_sandbox/faults", **CONTROL)
def list_faults(req: Request) -> dict[str, Any]:
    # What is still queued: a test learns that a request has started once its fault was consumed.
    return {"queued": req.store.misc.get("faults", [])}


@ROUTER.route("DELETE", "/_sandbox/faults", **CONTROL)
def clear_faults(req: Request) -> dict[str, Any]:
    faults.clear(req.store)
    return {"queued": []}


@ROUTER.route("POST", "/_sandbox/reset", **CONTROL)
def reset(req: Request) -> dict[str, Any]:
    persistence.reset(req.store)
    return {"ok": True, "now": req.now}


@ROUTER.route("GET", "/_sandbox/requests", **CONTROL)
def requests(req: Request) -> dict[str, Any]:
    since = int_param(req.params, "since", default=0) or 0
    return {"data": [r for r in req.store.misc.get("request_log", []) if r["seq"] > since]}


@ROUTER.route("DELETE", "/_sandbox/requests", **CONTROL)
def clear_requests(req: Request) -> dict[str, Any]:
    req.store.misc["request_log"] = []
    return {"data": []}


@ROUTER.route("POST", "/_sandbox/settings", **CONTROL)
def settings(req: Request) -> dict[str, Any]:
    table = req.store.table("settings")
    for name, value in req.params.items():
        if name not in SETTINGS:
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
        table[name] = _bool(value, name)
    return {**SETTINGS, **table}


@ROUTER.route("GET", "/_sandbox/settings", **CONTROL)
def get_settings(req: Request) -> dict[str, Any]:
    return {**SETTINGS, **req.store.table("settings")}
