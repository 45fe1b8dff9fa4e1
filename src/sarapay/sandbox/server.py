"""The HTTP side of the sandbox: one pipeline every request goes through.

parse → fault → route → key → Stripe-Account → idempotency → (latency) → clock → handler → expand →
JSON with a Request-Id. Handlers run with store.lock held; the idempotency key is marked in flight
before the lock is taken, so a concurrent request with the same key sees a 409.
"""

from __future__ import annotations

import json
import secrets
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from . import auth, clockwork, expand, faults, idempotency, persistence
from .forms import decode
from .framework import ROUTER, OAuthError, Request, Store, StripeError, public

# Importing the resource modules registers their routes on ROUTER.
from . import balances, checkout, checkout_pages, control, disputes, events, payments, webhooks  # noqa: F401,E402
from . import connect, oauth, onboarding  # noqa: F401,E402  (accounts, Account Links, OAuth, hosted onboarding)

LOG_LIMIT = 5000


def new_request_id() -> str:
    return "req_" + "".join(secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                            for _ in range(14))


def unrecognized(method: str, path: str) -> StripeError:
    return StripeError(404, f"Unrecognized request URL ({method}: {path}). Please see https://stripe.com/docs "
                       "or we can help at https://support.stripe.com/.")


def _normalize(result: Any) -> tuple[int, Any, dict[str, str]]:
    if isinstance(result, tuple):
        if len(result) == 3:
            return result[0], result[1], dict(result[2])
        return result[0], result[1], {}
    return 200, result, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the SDK's HTTP clients expect
    server: "_HTTPServer"

    def log_message(self, format: str, *args: Any) -> None:  # the request log replaces access logs
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` header is Stripe's time: the sandbox clock (advanced or not), not the machine's.

        Clients that compare deadlines with Stripe's own time read it there (RFC 7231, 1 s resolution).
        Read under the lock: a clockwork run moves the clock back to each due moment while it works."""
        if timestamp is None:
            store = self.server.sandbox.store
            with store.lock:
                timestamp = store.now()
        return super().date_time_string(timestamp)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # ------------------------------------------------------------------ pipeline

    def _params(self, query: str) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        params = decode(query)
        if raw:
            text = raw.decode("utf-8", "replace")
            if (self.headers.get("Content-Type") or "").startswith("application/json"):
                loaded = json.loads(text) if text.strip() else {}
                if isinstance(loaded, dict):
                    params.update({k: v if isinstance(v, (dict, list, str)) or v is None else
                                   (str(v).lower() if isinstance(v, bool) else str(v)) for k, v in loaded.items()})
            else:
                params.update(decode(text))
        return params

    def _handle(self, method: str) -> None:
        sandbox = self.server.sandbox
        store = sandbox.store
        split = urlsplit(self.path)
        path = split.path
        request_id = new_request_id()
        matched = ROUTER.match(method, path)
        # Control endpoints and hosted pages (auth "none") are not API calls: no faults, no request log.
        is_control = path.startswith("/_sandbox/") or (matched is not None and matched[0].auth == "none")
        headers = {k.lower(): v for k, v in self.headers.items()}
        idem_key = headers.get("idempotency-key")
        out_headers: dict[str, str] = {}
        fault: dict[str, Any] | None = None
        replayed = False
        params: dict[str, Any] = {}
        seq_before = (store.seq, len(store.platforms))
        try:
            try:
                params = self._params(split.query)
            except ValueError:
                raise StripeError(400, "Invalid request body.")
            if not is_control:
                fault = faults.take(store, method, path)
                if fault:
                    err = faults.error_for(fault)
                    if err:
                        raise err
            if matched is None:
                raise unrecognized(method, path)
            route, path_params = matched
            req = Request(method=method, path=path, params=params, headers=headers, store=store,
                          request_id=request_id, path_params=path_params, idempotency_key=idem_key,
                          base_url=sandbox.url, client_ip=self.client_address[0])
            if route.auth == "key":
                req.platform = auth.authenticate(store, headers.get("authorization"))
                if route.account_scoped:
                    req.stripe_account = auth.check_account(store, req.platform, headers.get("stripe-account"))
                auth.refuse_restricted(req.platform, method, path, req.account)
            # Latency is served inside the in-flight window, so a slow request holds its idempotency key.
            delay = 0 if is_control else sandbox.latency_ms
            if fault and fault["kind"] == "latency":
                delay += fault["latency_ms"]
            if method == "POST" and idem_key and req.platform is not None:
                fp = idempotency.fingerprint(method, path, params)
                scope = f"{req.platform.key}|{req.account}"  # keys are per account, like Stripe's
                replay = idempotency.begin(store, scope, idem_key, fp)
                if replay is not None:
                    status, body = replay
                    replayed = True
                    out_headers["Idempotent-Replayed"] = "true"
                else:
                    answer: tuple[int | None, Any] = (None, None)  # (None, None): the handler raised
                    try:
                        time.sleep(delay / 1000)
                        status, body, extra = self._run(route, req)
                        answer = status, body
                        out_headers.update(extra)
                    finally:
                        idempotency.finish(store, scope, idem_key, fp, *answer)
            else:
                time.sleep(delay / 1000)
                status, body, extra = self._run(route, req)
                out_headers.update(extra)
        except StripeError as e:
            status, body = e.status, public(e.body(request_id))
            out_headers.update(e.headers)
        except OAuthError as e:
            status, body = e.status, e.body(request_id)

        if not is_control:
            self._log(store, method, path, headers, params, status, replayed, fault, request_id, idem_key)
        if sandbox.state_file and (method != "GET" or (store.seq, len(store.platforms)) != seq_before):
            try:
                persistence.save(store, sandbox.state_file)
            except OSError as e:
                print(f"sandbox: cannot save state: {e}", file=sys.stderr)
        if fault and fault["kind"] == "drop":
            self.close_connection = True  # the change is applied and stored; the client never hears back
            return
        self._send(status, body, request_id, out_headers)

    def _run(self, route: Any, req: Request) -> tuple[int, Any, dict[str, str]]:
        store = req.store
        try:
            with store.lock:
                clockwork.run(store, changed=req.method != "GET")  # a GET changes nothing: it may reuse the last scan
                if req.expand:
                    expand.check(req)
                status, body, extra = _normalize(route.handler(req))
                if isinstance(body, (dict, list)):
                    body = public(body)
                    if status == 200 and isinstance(body, dict) and req.expand:
                        expand.apply(req, body)
                return status, body, extra
        except StripeError as e:
            # public(): the error may embed a live object (error.payment_intent); freeze a clean copy.
            return e.status, public(e.body(req.request_id)), dict(e.headers)
        except OAuthError as e:
            return e.status, e.body(req.request_id), {}
        except Exception:  # a bug in the sandbox: answer like Stripe's own 500
            traceback.print_exc(file=sys.stderr)
            err = StripeError(500, "An unknown error occurred while processing your request.", type="api_error")
            return 500, err.body(req.request_id), {}

    def _log(self, store: Store, method: str, path: str, headers: dict[str, str], params: dict[str, Any],
             status: int, replayed: bool, fault: dict[str, Any] | None, request_id: str, idem_key: str | None) -> None:
        with store.lock:
            seq = store.misc.get("request_log_seq", 0) + 1
            store.misc["request_log_seq"] = seq
            log = store.misc.setdefault("request_log", [])
            log.append({"seq": seq, "method": method, "path": path, "account": headers.get("stripe-account"),
                        "idempotency_key": idem_key, "status": status, "params": params, "replayed": replayed,
                        "fault": fault["kind"] if fault else None, "request_id": request_id,
                        "time": store.now(),
                        # What the client sent besides the key, so tests can see what it discloses (telemetry...).
                        "headers": {k: v for k, v in headers.items() if k != "authorization"}})
            del log[:-LOG_LIMIT]

    def _send(self, status: int, body: Any, request_id: str, headers: dict[str, str]) -> None:
        if isinstance(body, str):  # hosted pages
            data, ctype = body.encode("utf-8"), "text/html; charset=utf-8"
        else:
            data, ctype = json.dumps(body).encode("utf-8"), "application/json"
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", request_id)
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: "SandboxServer"


class SandboxServer:
    """The sandbox in a thread: `with SandboxServer(port=0) as sb: sb.url`."""

    def __init__(self, port: int = 0, latency_ms: int = 0, state_file: str | None = None,
                 host: str = "127.0.0.1", store: Store | None = None) -> None:
        self.store = store or Store()
        self.latency_ms = latency_ms
        self.state_file = str(state_file) if state_file else None
        if self.state_file:
            persistence.load(self.store, self.state_file)
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.sandbox = self
        self.host = host
        self.port = self.httpd.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> "SandboxServer":
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="sarapay-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever()

    def stop(self) -> None:
        webhooks.stop(self.store)
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
