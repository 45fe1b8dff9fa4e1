"""The sandbox's internal contract: errors, routing, request context and the object store.

Resource modules (connect.py, payments.py, ...) register handlers on ROUTER and work on plain
JSON-able dicts held by the Store, so persistence (`--state FILE`) is a json.dump of the store.
Keys starting with "_" are private bookkeeping and are stripped before an object leaves the server.

The sandbox imports nothing from the rest of sarapay: it must not share a mistake with the client.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypedDict, TypeVar

_real_time = time.time

DOC_ERRORS = "https://stripe.com/docs/error-codes/"


# --------------------------------------------------------------------------- errors


class StripeError(Exception):
    """A v1 API error. `type` is one of api_error, card_error, idempotency_error, invalid_request_error."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param
        self.extra = extra or {}
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        err: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code:
            err["code"] = self.code
            err["doc_url"] = DOC_ERRORS + self.code.replace("_", "-")
        if self.param:
            err["param"] = self.param
        err["request_log_url"] = f"https://dashboard.stripe.com/test/logs/{request_id}"
        err.update(self.extra)
        return {"error": err}


class OAuthError(Exception):
    """OAuth's own error shape: {"error": "<string>", "error_description": "..."}.

    Only the six strings the SDK knows may be used, or the SDK crashes with an AttributeError.
    """

    KNOWN = {
        "invalid_grant",
        "invalid_client",
        "invalid_request",
        "invalid_scope",
        "unsupported_grant_type",
        "unsupported_response_type",
    }

    def __init__(self, status: int, error: str, description: str) -> None:
        assert error in self.KNOWN, error
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def body(self, request_id: str) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.description}


def missing(kind: str, obj_id: str, param: str = "id") -> StripeError:
    return StripeError(404, f"No such {kind}: '{obj_id}'", code="resource_missing", param=param)


def param_missing(param: str) -> StripeError:
    return StripeError(400, f"Missing required param: {param}.", code="parameter_missing", param=param)


def param_invalid(param: str, message: str, code: str = "parameter_invalid") -> StripeError:
    return StripeError(400, message, code=code, param=param)


def unknown_params(params: dict[str, Any], allowed: set[str]) -> None:
    """Stripe refuses any top-level parameter it does not know."""
    for name in params:
        if name not in allowed and name != "expand":
            raise StripeError(400, f"Received unknown parameter: {name}", code="parameter_unknown", param=name)


def int_param(params: dict[str, Any], name: str, *, required: bool = False, default: int | None = None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        if required:
            raise param_missing(name)
        return default
    if isinstance(raw, str) and re.fullmatch(r"-?\d+", raw):
        return int(raw)
    raise StripeError(400, f"Invalid integer: {raw}", code="parameter_invalid_integer", param=name)


def bool_param(params: dict[str, Any], name: str, default: bool | None = None) -> bool | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw in ("true", "false"):
        return bool(raw == "true")
    raise StripeError(400, f"Invalid boolean: {raw}", code="parameter_invalid", param=name)


# --------------------------------------------------------------------------- clock and store


class Clock:
    """Stripe's time: the real time plus an offset that only moves forward (`sandbox advance`)."""

    def __init__(self, offset: int = 0) -> None:
        self.offset = offset

    def now(self) -> int:
        return int(_real_time()) + self.offset

    def advance(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.offset += seconds
        return self.now()


@dataclass
class Platform:
    """A platform is whoever holds a test secret key; its own Stripe account is `account_id`."""

    key: str
    account_id: str
    client_id: str | None = None
    restricted_key: str | None = None  # set when the request came with a read-only restricted key (rk_test_…)


@dataclass
class Store:
    """All state of the sandbox. Every handler runs with `lock` held, so handlers need no locking."""

    clock: Clock = field(default_factory=Clock)
    lock: threading.RLock = field(default_factory=threading.RLock)
    platforms: dict[str, dict[str, Any]] = field(default_factory=dict)  # secret key -> Platform as dict
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # acct id -> account object
    # platform account id -> {connected account id: how ("oauth" | "created")}
    connections: dict[str, dict[str, str]] = field(default_factory=dict)
    objects: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # account -> id -> object
    misc: dict[str, Any] = field(default_factory=dict)  # module-owned tables (oauth codes, idempotency...)
    seq: int = 0

    def now(self) -> int:
        return self.clock.now()

    def new_id(self, prefix: str, length: int = 24) -> str:
        alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        return prefix + "".join(secrets.choice(alphabet) for _ in range(length))

    def next_seq(self) -> int:
        """A strictly increasing number that orders objects created in the same second."""
        self.seq += 1
        return self.seq

    def table(self, name: str) -> dict[str, Any]:
        table: dict[str, Any] = self.misc.setdefault(name, {})
        return table

    # -- objects living on an account (the platform's own or a connected one)

    def add(self, account_id: str, obj: dict[str, Any]) -> dict[str, Any]:
        obj.setdefault("created", self.now())
        obj["_seq"] = self.next_seq()
        obj["_account"] = account_id
        self.objects.setdefault(account_id, {})[obj["id"]] = obj
        return obj

    def find(self, account_id: str, obj_id: str) -> dict[str, Any] | None:
        return self.objects.get(account_id, {}).get(obj_id)

    def get(self, account_id: str, obj_id: str, kind: str, param: str = "id") -> dict[str, Any]:
        """The object, or Stripe's 404 `No such <kind>` when it is absent or lives on another account."""
        obj = self.find(account_id, obj_id)
        if obj is None or obj.get("object") != kind:
            raise missing(kind, obj_id, param)
        return obj

    def all(self, account_id: str, kind: str) -> list[dict[str, Any]]:
        """Objects of one kind on one account, newest first."""
        items = [o for o in self.objects.get(account_id, {}).values() if o.get("object") == kind]
        items.sort(key=lambda o: (o.get("created", 0), o["_seq"]), reverse=True)
        return items

    def locate(self, obj_id: str) -> dict[str, Any] | None:
        """Find an object on any account (control endpoints only: the API itself never does this)."""
        for objs in self.objects.values():
            if obj_id in objs:
                return objs[obj_id]
        return None


def public(obj: Any) -> Any:
    """A deep copy without private ("_"-prefixed) keys: what leaves the server."""
    if isinstance(obj, dict):
        return {k: public(v) for k, v in obj.items() if not k.startswith("_")}
    if isinstance(obj, list):
        return [public(v) for v in obj]
    return obj


# --------------------------------------------------------------------------- requests and routing


@dataclass
class Request:
    method: str
    path: str
    params: dict[str, Any]  # decoded form/query: nested dicts, lists for a[0]=..., strings everywhere
    headers: dict[str, str]  # lower-cased names
    store: Store
    request_id: str
    path_params: dict[str, str] = field(default_factory=dict)
    platform: Platform | None = None  # set when the key authenticated
    stripe_account: str | None = None  # validated Stripe-Account header
    idempotency_key: str | None = None
    base_url: str = ""  # http://127.0.0.1:PORT, to build hosted-page URLs
    client_ip: str | None = None  # who sent it (hosted pages record it, as Stripe records tos_acceptance.ip)

    @property
    def account(self) -> str:
        """The account whose objects this request reads and writes (direct charges: Stripe-Account)."""
        if self.stripe_account:
            return self.stripe_account
        assert self.platform is not None
        return self.platform.account_id

    @property
    def now(self) -> int:
        return self.store.now()

    @property
    def expand(self) -> list[str]:
        raw = self.params.get("expand") or []
        if isinstance(raw, dict):  # expand[0]=a&expand[1]=b decoded as a dict by index
            raw = [raw[k] for k in sorted(raw, key=lambda x: int(x) if str(x).isdigit() else 0)]
        if isinstance(raw, str):
            raw = [raw]
        return list(raw)


# A handler answers (status, body), (status, html, headers) or just the JSON body (status 200).
Handler = Callable[[Request], Any]
H = TypeVar("H", bound=Handler)


@dataclass
class Route:
    method: str
    pattern: str
    regex: re.Pattern[str]
    handler: Handler
    auth: str  # "key" (Bearer secret key), "none" (control endpoints, hosted pages)
    account_scoped: bool  # whether a Stripe-Account header is honoured


class RouteOptions(TypedDict):
    auth: str
    account_scoped: bool


# Control endpoints (/_sandbox/…) and hosted pages: no key, no Stripe-Account header.
CONTROL: RouteOptions = {"auth": "none", "account_scoped": False}


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def route(self, method: str, pattern: str, *, auth: str = "key",
              account_scoped: bool = True) -> Callable[[H], H]:
        regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$")

        def register(handler: H) -> H:
            self.routes.append(Route(method, pattern, regex, handler, auth, account_scoped))
            return handler

        return register

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for r in self.routes:
            if r.method == method:
                m = r.regex.match(path)
                if m:
                    return r, m.groupdict()
        return None


ROUTER = Router()
