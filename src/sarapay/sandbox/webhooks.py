"""Webhook endpoints and the delivery of events to them (docs/stripe-behaviour.md; docs/sandbox.md "Webhooks").

- `POST/GET/DELETE /v1/webhook_endpoints`: an endpoint belongs to the platform whose key created it;
  `connect=true` makes it receive the events of the accounts connected to that platform (each event then
  carries `account`), otherwise the platform's own events. The signing secret (`whsec_…`) is in the
  creation answer only.
- Every event `events.emit` records is offered to `on_event`, which queues one delivery per matching
  endpoint. Nothing is queued, and no thread runs, until an endpoint exists: other uses of the sandbox
  are unaffected.
- A delivery thread POSTs each due delivery (a small pool, as Stripe sends concurrently) with
  `Stripe-Signature: t=<sandbox clock>,v1=<HMAC-SHA256 of "t.body" keyed with the whole secret>`. A 2xx
  acknowledges; anything else, or no answer within `timeout_ms`, is retried after
  `retry_base_seconds * 2**(n-1)` seconds of the sandbox clock (Stripe: up to three days in live mode, a
  few tries over hours in test mode; compressed here, and `clock/advance` makes retries due at once), until
  `max_attempts`.
- Control switches (`/_sandbox/webhooks/settings`): `paused` holds deliveries, `shuffle` sends each batch
  of due deliveries newest first (out of order), `duplicate` sends every delivery twice; Stripe documents
  both as things receivers must survive.

The sandbox computes the signature itself (hmac, stdlib): it must not share a mistake with the client,
which verifies with the stripe SDK.
"""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import http.client
import json
import re
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from . import clockwork, events, oauth
from .framework import CONTROL, ROUTER, Request, StripeError, Store, int_param, missing, public
from .listing import paginate

ENDPOINTS = "webhook_endpoints"  # we_id -> endpoint (private: _platform, _secret, _connect)
DELIVERIES = "webhook_deliveries"  # transient (persistence.TRANSIENT): what was sent, and how it went
SETTINGS = "webhook_settings"
DEFAULTS: dict[str, Any] = {
    "paused": False, "shuffle": False, "duplicate": False,
    "retry_base_seconds": 1, "max_attempts": 8, "timeout_ms": 5000, "concurrency": 4,
}
DELIVERY_LIMIT = 20000
_EVENT_TYPE = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)*\.(\*|[a-z_]+))$")
DEAUTHORIZED = "account.application.deauthorized"


def settings(store: Store) -> dict[str, Any]:
    return {**DEFAULTS, **store.misc.get(SETTINGS, {})}


# --------------------------------------------------------------------------- API


def _list_param(raw: Any) -> list[str]:
    if raw is None or raw == "":
        return []
    if isinstance(raw, dict):
        return [raw[k] for k in sorted(raw, key=lambda x: int(x) if str(x).isdigit() else 0)]
    if isinstance(raw, str):
        return [raw]
    return list(raw)


@ROUTER.route("POST", "/v1/webhook_endpoints", account_scoped=False)
def create_endpoint(req: Request) -> dict[str, Any]:
    assert req.platform is not None
    p = req.params
    allowed = {"url", "enabled_events", "connect", "description", "metadata", "api_version"}
    for name in p:
        if name not in allowed and name != "expand":
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
    url = str(p.get("url") or "")
    if not url:
        raise StripeError(400, "Missing required param: url.", code="parameter_missing", param="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise StripeError(400, f"Invalid URL: {url}", code="url_invalid", param="url")
    events = _list_param(p.get("enabled_events"))
    if not events:
        raise StripeError(400, "Missing required param: enabled_events.", code="parameter_missing",
                          param="enabled_events")
    for i, name in enumerate(events):
        if not isinstance(name, str) or not _EVENT_TYPE.match(name):
            raise StripeError(400, f"Invalid enabled_events[{i}]: {name!r} is not a known event type",
                              code="parameter_invalid", param=f"enabled_events[{i}]")
    connect = p.get("connect") in ("true", True)
    secret = "whsec_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                                for _ in range(32))
    endpoint: dict[str, Any] = {
        "id": req.store.new_id("we_"), "object": "webhook_endpoint", "api_version": p.get("api_version") or None,
        "application": None, "created": req.now, "description": p.get("description") or None,
        "enabled_events": events, "livemode": False, "metadata": p.get("metadata") or {}, "status": "enabled",
        "url": url, "_seq": req.store.next_seq(), "_platform": req.platform.account_id, "_secret": secret, "_connect": connect,
    }
    req.store.table(ENDPOINTS)[endpoint["id"]] = endpoint
    return {**public(endpoint), "secret": secret}  # the secret, at creation only (API reference)


def _own(req: Request, endpoint_id: str) -> dict[str, Any]:
    assert req.platform is not None
    endpoint: dict[str, Any] | None = req.store.table(ENDPOINTS).get(endpoint_id)
    if endpoint is None or endpoint["_platform"] != req.platform.account_id:
        raise missing("webhook_endpoint", endpoint_id)
    return endpoint


@ROUTER.route("GET", "/v1/webhook_endpoints", account_scoped=False)
def list_endpoints(req: Request) -> dict[str, Any]:
    assert req.platform is not None
    items = [e for e in req.store.table(ENDPOINTS).values() if e["_platform"] == req.platform.account_id]
    items.sort(key=lambda e: (e["created"], e["id"]), reverse=True)
    return paginate(req, items, "/v1/webhook_endpoints", "webhook_endpoint", allowed=set())


@ROUTER.route("GET", "/v1/webhook_endpoints/{id}", account_scoped=False)
def retrieve_endpoint(req: Request) -> dict[str, Any]:
    return _own(req, req.path_params["id"])


@ROUTER.route("DELETE", "/v1/webhook_endpoints/{id}", account_scoped=False)
def delete_endpoint(req: Request) -> dict[str, Any]:
    endpoint = _own(req, req.path_params["id"])
    del req.store.table(ENDPOINTS)[endpoint["id"]]
    # Stripe stops retrying for an endpoint that was deleted.
    for d in req.store.misc.get(DELIVERIES, []):
        if d["endpoint"] == endpoint["id"] and d["status"] in ("pending", "retrying"):
            d["status"] = "abandoned"
    return {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}


# --------------------------------------------------------------------------- routing events to endpoints


def _platform_record(store: Store, platform_account: str) -> dict[str, Any] | None:
    return next((p for p in store.platforms.values() if p.get("account_id") == platform_account), None)


def _reaches(store: Store, endpoint: dict[str, Any], account_id: str, event: dict[str, Any]) -> bool:
    if endpoint["status"] != "enabled":
        return False
    if not any(fnmatch.fnmatchcase(event["type"], pattern) for pattern in endpoint["enabled_events"]):
        return False
    platform: str = endpoint["_platform"]
    if not endpoint["_connect"]:
        return account_id == platform
    if "account" not in event:
        return False
    if account_id in store.connections.get(platform, {}):
        return True
    # The connection is gone once the account deauthorized the platform: that event still reaches the
    # platform whose application it names.
    if event["type"] == DEAUTHORIZED:
        app = ((event.get("data") or {}).get("object") or {}).get("id")
        rec = _platform_record(store, platform) or {}
        return bool(app) and app == rec.get("client_id") or app == _application_id(platform)
    return False


def _application_id(platform_account: str) -> str:
    """The application id named by events of a platform that has no OAuth client id (accounts it created)."""
    return "ca_" + hashlib.sha256(platform_account.encode()).hexdigest()[:24]


def on_event(store: Store, account_id: str, event: dict[str, Any]) -> None:
    """Queue the event for every endpoint it reaches (called by events.emit, with the store locked)."""
    endpoints = store.misc.get(ENDPOINTS)
    if not endpoints:
        return
    targets = [e for e in endpoints.values() if _reaches(store, e, account_id, event)]
    if not targets:
        return
    deliveries = store.misc.setdefault(DELIVERIES, [])
    for endpoint in targets:
        deliveries.append({
            "id": store.new_id("whd_", 16), "event": event["id"], "type": event["type"], "account": account_id,
            "endpoint": endpoint["id"], "url": endpoint["url"], "status": "pending", "created": store.now(),
            "next_attempt": store.now(), "attempts": [], "_event_account": account_id,
        })
        event["pending_webhooks"] = int(event.get("pending_webhooks") or 0) + 1
    del deliveries[:-DELIVERY_LIMIT]
    worker(store).wake()


events.subscribe(on_event)


# --------------------------------------------------------------------------- delivery


def sign(secret: str, timestamp: int, payload: bytes) -> str:
    """`Stripe-Signature`: HMAC-SHA256 of "t.payload", keyed with the whole `whsec_…` string, in hex."""
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def _post(url: str, payload: bytes, signature: str, timeout: float) -> tuple[int | None, str | None]:
    parts = urlsplit(url)
    cls = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    conn = cls(parts.hostname or "", parts.port, timeout=timeout)  # create_endpoint has checked there is a host
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        conn.request("POST", path, body=payload, headers={
            "Content-Type": "application/json; charset=utf-8", "Stripe-Signature": signature,
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        })
        response = conn.getresponse()
        response.read(65536)
        return response.status, None
    except TimeoutError:
        return None, "timeout"
    except ConnectionRefusedError:
        return None, "connection_refused"
    except (OSError, http.client.HTTPException) as exc:
        return None, type(exc).__name__
    finally:
        conn.close()


class Worker:
    """One per store: a dispatcher thread that hands due deliveries to a small pool of senders."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.cond = threading.Condition()
        self.stopped = False
        self.in_flight: set[str] = set()
        self.pool = ThreadPoolExecutor(max_workers=max(1, int(settings(store)["concurrency"])),
                                       thread_name_prefix="sandbox-webhook")
        self.thread = threading.Thread(target=self._run, name="sandbox-webhooks", daemon=True)
        self.thread.start()

    def wake(self) -> None:
        with self.cond:
            self.cond.notify_all()

    def stop(self) -> None:
        self.stopped = True
        self.wake()
        self.thread.join(timeout=5)
        self.pool.shutdown(wait=False, cancel_futures=True)

    def _due(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        store = self.store
        with store.lock:
            conf = settings(store)
            if conf["paused"]:
                return [], conf
            now = store.now()
            due = [d for d in store.misc.get(DELIVERIES, [])
                   if d["status"] in ("pending", "retrying") and d["next_attempt"] <= now and d["id"] not in self.in_flight]
            for d in due:
                self.in_flight.add(d["id"])
            return due, conf

    def _run(self) -> None:
        last_tick = 0.0
        while not self.stopped:
            if time.monotonic() - last_tick > 1:
                last_tick = time.monotonic()
                self._tick_clock()
            due, conf = self._due()
            if not due:
                with self.cond:
                    self.cond.wait(0.1)
                continue
            if conf["shuffle"]:
                # Out of order on purpose: the batch newest first, one after the other.
                self.pool.submit(self._send_all, list(reversed(due)), conf)
            else:
                for d in due:
                    self.pool.submit(self._send_all, [d], conf)

    def _tick_clock(self) -> None:
        """Time-driven transitions (a hold running out...) also emit events when no request comes in."""
        try:
            clockwork.run(self.store, changed=False)
        except Exception:  # never let the delivery thread die
            pass

    def _send_all(self, batch: list[dict[str, Any]], conf: dict[str, Any]) -> None:
        for d in batch:
            try:
                self._attempt(d, conf)
                if conf["duplicate"] and d["status"] == "succeeded":
                    self._attempt(d, conf, again=True)
            finally:
                self.in_flight.discard(d["id"])
                self.wake()

    def _attempt(self, d: dict[str, Any], conf: dict[str, Any], again: bool = False) -> None:
        store = self.store
        with store.lock:
            endpoint = store.misc.get(ENDPOINTS, {}).get(d["endpoint"])
            event = store.find(d["_event_account"], d["event"])
            if endpoint is None or event is None:
                d["status"] = "abandoned"
                return
            payload = json.dumps(public(event), indent=2).encode("utf-8")
            timestamp = store.now()  # Stripe's time: the sandbox clock
            secret = endpoint["_secret"]
        started = time.monotonic()
        status, error = _post(d["url"], payload, sign(secret, timestamp, payload), conf["timeout_ms"] / 1000)
        ok = status is not None and 200 <= status < 300
        with store.lock:
            d["attempts"].append({"at": timestamp, "status": status, "error": error, "duplicate": again,
                                  "duration_ms": int((time.monotonic() - started) * 1000)})
            if again:
                return
            if ok:
                d["status"] = "succeeded"
                event["pending_webhooks"] = max(0, int(event.get("pending_webhooks") or 0) - 1)
                return
            tries = len([a for a in d["attempts"] if not a["duplicate"]])
            if tries >= int(conf["max_attempts"]):
                d["status"] = "failed"
                return
            d["status"] = "retrying"
            d["next_attempt"] = store.now() + int(conf["retry_base_seconds"]) * 2 ** (tries - 1)


_WORKERS: dict[int, Worker] = {}
_WORKERS_LOCK = threading.Lock()


def worker(store: Store) -> Worker:
    with _WORKERS_LOCK:
        w = _WORKERS.get(id(store))
        if w is None or w.stopped:
            w = _WORKERS[id(store)] = Worker(store)
        return w


def stop(store: Store) -> None:
    with _WORKERS_LOCK:
        w = _WORKERS.pop(id(store), None)
    if w is not None:
        w.stop()


def wake(store: Store) -> None:
    with _WORKERS_LOCK:
        w = _WORKERS.get(id(store))
    if w is not None:
        w.wake()


# --------------------------------------------------------------------------- control endpoints



@ROUTER.route("GET", "/_sandbox/webhooks/deliveries", **CONTROL)
def list_deliveries(req: Request) -> dict[str, Any]:
    p = req.params
    items = list(req.store.misc.get(DELIVERIES, []))
    for name in ("event", "endpoint", "status", "type", "account"):
        if p.get(name):
            items = [d for d in items if d[name] == p[name]]
    return {"data": [public(d) for d in items]}


@ROUTER.route("DELETE", "/_sandbox/webhooks/deliveries", **CONTROL)
def clear_deliveries(req: Request) -> dict[str, Any]:
    req.store.misc[DELIVERIES] = []
    return {"data": []}


@ROUTER.route("GET", "/_sandbox/webhooks/settings", **CONTROL)
def get_settings(req: Request) -> dict[str, Any]:
    return settings(req.store)


@ROUTER.route("POST", "/_sandbox/webhooks/settings", **CONTROL)
def set_settings(req: Request) -> dict[str, Any]:
    table = req.store.table(SETTINGS)
    for name, value in req.params.items():
        if name not in DEFAULTS:
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)
        if isinstance(DEFAULTS[name], bool):
            if value not in ("true", "false", "1", "0", True, False):
                raise StripeError(400, f"Invalid boolean for {name}: {value!r}", code="parameter_invalid", param=name)
            table[name] = value in ("true", "1", True)
        else:
            number = int_param(req.params, name)
            if number is None or number < (0 if name == "retry_base_seconds" else 1):
                raise StripeError(400, f"Invalid {name}: {value!r}", code="parameter_invalid", param=name)
            table[name] = number
    wake(req.store)
    return settings(req.store)


@ROUTER.route("POST", "/_sandbox/accounts/{acct}/deauthorize", **CONTROL)
def practitioner_deauthorizes(req: Request) -> dict[str, Any]:
    """The account holder disconnects the platform from their own dashboard: the connection ends and
    `account.application.deauthorized` is emitted on the account (and delivered to the platform)."""
    store, acct = req.store, req.path_params["acct"]
    platforms = [pid for pid, links in store.connections.items() if acct in links]
    wanted = req.params.get("platform")
    if wanted:
        platforms = [pid for pid in platforms if pid == wanted]
    if len(platforms) != 1:
        raise StripeError(400, f"The account {acct} is connected to {len(platforms)} matching platform(s): "
                          "name one with platform=acct_….", param="platform")
    platform = platforms[0]
    rec = _platform_record(store, platform) or {}
    oauth._revoke(store, platform, acct)
    app = {"id": rec.get("client_id") or _application_id(platform), "object": "application", "name": None}
    event = events.emit(store, acct, DEAUTHORIZED, app)
    return {"account": acct, "platform": platform, "event": event["id"]}
