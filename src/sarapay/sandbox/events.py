"""Events: what happened on an account, listed by GET /v1/events (docs/stripe-behaviour.md).

Every module that changes an object calls `emit`; the event keeps a snapshot of the object as it was
at that moment, so later changes never rewrite history.
"""

from __future__ import annotations

import fnmatch
from typing import Any, Callable

from .framework import ROUTER, Request, StripeError, Store, public
from .listing import paginate

API_VERSION = "2026-10-28.endive"

# Called with (store, account_id, event) after each event is recorded, the store locked: webhooks.py
# subscribes its delivery queue when it is imported (the server imports it), so this module never imports
# the modules that emit through it.
Listener = Callable[[Store, str, dict[str, Any]], None]
_LISTENERS: list[Listener] = []


def subscribe(listener: Listener) -> None:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def _is_connected(store: Store, account_id: str) -> bool:
    """`account` is set on events of connected accounts, not on a platform's own account."""
    return not any(p.get("account_id") == account_id for p in store.platforms.values())


def _request_ref(request: Any) -> dict[str, Any]:
    # Time-driven events (expiry, payouts) have no request: Stripe sends nulls then.
    if request is None:
        return {"id": None, "idempotency_key": None}
    if isinstance(request, dict):
        return {"id": request.get("id"), "idempotency_key": request.get("idempotency_key")}
    return {"id": getattr(request, "request_id", None), "idempotency_key": getattr(request, "idempotency_key", None)}


def emit(
    store: Store,
    account_id: str,
    type: str,
    obj: dict[str, Any],
    previous_attributes: dict[str, Any] | None = None,
    request: Any = None,
) -> dict[str, Any]:
    """Record an event on `account_id`. `request` is a framework.Request, a dict {id, idempotency_key} or None.

    `previous_attributes` (the old values of what changed) belongs to `*.updated` events only: Stripe
    leaves `data.previous_attributes` out of every other event.
    """
    updated = type.endswith(".updated")
    assert previous_attributes is None or updated, f"previous_attributes on a {type} event"
    data: dict[str, Any] = {"object": public(obj)}
    if updated:
        data["previous_attributes"] = public(previous_attributes or {})
    event = {
        "id": store.new_id("evt_"),
        "object": "event",
        "api_version": API_VERSION,
        "created": store.now(),
        "type": type,
        "data": data,
        "livemode": False,
        "pending_webhooks": 0,
        "request": _request_ref(request),
    }
    if _is_connected(store, account_id):
        event["account"] = account_id
    store.add(account_id, event)
    for listener in _LISTENERS:  # webhooks: queued for the endpoints it reaches (none: nothing happens)
        listener(store, account_id, event)
    return event


def changed(obj: dict[str, Any], **updates: Any) -> dict[str, Any]:
    """Apply `updates` to obj and return the previous values of the fields that really changed."""
    previous = {k: obj.get(k) for k, v in updates.items() if obj.get(k) != v}
    obj.update(updates)
    return previous


# --------------------------------------------------------------------------- API


EVENT_RETENTION = 30 * 86400


@ROUTER.route("GET", "/v1/events")
def list_events(req: Request) -> dict[str, Any]:
    p = req.params
    # Stripe keeps 30 days of events for listing (docs/stripe-behaviour.md).
    oldest = req.now - EVENT_RETENTION
    items = [e for e in req.store.all(req.account, "event") if e["created"] >= oldest]
    if p.get("type") is not None and p.get("types") is not None:
        raise StripeError(400, "You may only specify one of these parameters: type, types.", param="types")
    if p.get("type"):
        items = [e for e in items if fnmatch.fnmatchcase(e["type"], p["type"])]
    types = p.get("types")
    if types is not None:
        if isinstance(types, dict):
            types = list(types.values())
        if isinstance(types, str):
            types = [types]
        if len(types) > 20:
            raise StripeError(400, "You may specify at most 20 types.", code="parameter_invalid", param="types")
        items = [e for e in items if any(fnmatch.fnmatchcase(e["type"], t) for t in types)]
    return paginate(req, items, "/v1/events", "event",
                    allowed={"type", "types", "created", "delivery_success"})


@ROUTER.route("GET", "/v1/events/{id}")
def retrieve_event(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "event")
