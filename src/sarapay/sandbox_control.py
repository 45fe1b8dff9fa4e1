"""Client for the sandbox's control endpoints (/_sandbox/..., see docs/sandbox.md).

Used by `sarapay sandbox pay|advance`, `sarapay demo` and the tests. It speaks plain HTTP with the
standard library: the sandbox is a separate program, and this module must not import it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class SandboxControlError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.body = body
        message = body.get("error", {}).get("message") if isinstance(body, dict) else str(body)
        super().__init__(f"sandbox answered {status}: {message}")


class SandboxControl:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        # Never go through a proxy to reach our own loopback server.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def _call(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        """The endpoint's answer as parsed JSON (Any: the boundary; `_object` and `_rows` say what the endpoints answer)."""
        data = None
        url = self.url + path
        if params:
            encoded = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
            if method == "GET":
                url += "?" + encoded
            else:
                data = encoded.encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with self._opener.open(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = raw.decode(errors="replace")
            raise SandboxControlError(exc.code, body) from None

    def _object(self, method: str, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = self._call(method, path, params)
        return answer

    def _rows(self, path: str, field: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """The list in `field` of a GET endpoint's answer."""
        rows: list[dict[str, Any]] = self._object("GET", path, params)[field]
        return rows

    def health(self) -> dict[str, Any]:
        return self._object("GET", "/_sandbox/health")

    def now(self) -> int:
        return int(self._call("GET", "/_sandbox/clock")["now"])

    def advance(self, seconds: int) -> int:
        return int(self._call("POST", "/_sandbox/clock/advance", {"seconds": int(seconds)})["now"])

    def pay(self, checkout_session_id: str, card: str = "4242424242424242") -> dict[str, Any]:
        return self._object("POST", f"/_sandbox/checkout/sessions/{checkout_session_id}/pay", {"card": card})

    def oauth_authorize(self, authorize_url: str, decision: str = "approve", **extra: str) -> dict[str, Any]:
        """Plays the practitioner on the consent page of `authorize_url`."""
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize_url).query))
        query.update(decision=decision, **extra)
        return self._object("POST", "/_sandbox/oauth/authorize", query)

    def complete_onboarding(self, account_id: str, outcome: str = "complete") -> dict[str, Any]:
        return self._object("POST", f"/_sandbox/accounts/{account_id}/onboarding", {"outcome": outcome})

    def fault(
        self,
        kind: str,
        count: int = 1,
        *,
        latency_ms: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> dict[str, Any]:
        return self._object(
            "POST",
            "/_sandbox/faults",
            {"kind": kind, "count": count, "latency_ms": latency_ms, "method": method, "path": path},
        )

    def queued_faults(self) -> list[dict[str, Any]]:
        return self._rows("/_sandbox/faults", "queued")

    def clear_faults(self) -> None:
        self._call("DELETE", "/_sandbox/faults")

    def reset(self) -> None:
        self._call("POST", "/_sandbox/reset")

    def requests(self, since: int | None = None) -> list[dict[str, Any]]:
        return self._rows("/_sandbox/requests", "data", {"since": since})

    def clear_requests(self) -> None:
        self._call("DELETE", "/_sandbox/requests")

    def settle_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        """Plays the cardholder's bank: `won` or `lost` (docs/sandbox.md, "Disputes")."""
        return self._object("POST", f"/_sandbox/disputes/{dispute_id}/close", {"outcome": outcome})

    def settings(self, **values: str) -> dict[str, Any]:
        return self._object("POST", "/_sandbox/settings", values)

    # ------------------------------------------------------------------ webhooks, deauthorization, restricted keys

    def webhook_deliveries(self, **filters: str) -> list[dict[str, Any]]:
        """What the sandbox sent to webhook endpoints (filters: event, endpoint, status, type, account)."""
        return self._rows("/_sandbox/webhooks/deliveries", "data", filters or None)

    def webhook_settings(self, **values: Any) -> dict[str, Any]:
        """paused, shuffle, duplicate (true/false); retry_base_seconds, max_attempts, timeout_ms, concurrency."""
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in values.items()}
        if not params:
            return self._object("GET", "/_sandbox/webhooks/settings")
        return self._object("POST", "/_sandbox/webhooks/settings", params)

    def deauthorize(self, account_id: str, platform: str | None = None) -> dict[str, Any]:
        """Plays the practitioner disconnecting the platform from their dashboard."""
        return self._object("POST", f"/_sandbox/accounts/{account_id}/deauthorize", {"platform": platform})

    def restricted_key(self, secret_key: str) -> str:
        """A read-only restricted key (rk_test_…) of the platform whose secret key is given."""
        key: str = self._object("POST", "/_sandbox/restricted_keys", {"secret_key": secret_key})["key"]
        return key
