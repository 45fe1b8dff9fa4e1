"""Stripe events reaching the ledger by themselves: `webhooks register` and `webhooks serve`.

    register(ctx, url, to_file=False) -> dict
        Creates a Connect webhook endpoint (`connect=true`) for the events below and keeps its signing
        secret like the API key (keyring, or a 0600 file; SARAPAY_WEBHOOK_SECRET for the environment).
        The secret is never returned, printed or logged.

    Receiver(secret, contexts, log).handle(body, signature) -> Answer
        One delivery: the signature verified by the stripe SDK (stripe_gateway.verify_event: HMAC, fresh
        timestamp within TOLERANCE), the account known to the ledger, then the event applied once:

        - the event id is recorded (`webhook_events`) in the same transaction as what it changed, so a
          replayed event, or the same event delivered twice at once, is applied once;
        - a payment event (checkout.session.*, payment_intent.*, charge.*, refund.*) is a signal: the
          consultation's current Checkout Session and PaymentIntent are read from Stripe (an event's object is
          never expanded: no fee, no hold deadline) and written through `refresh.apply_stripe_state`, the same
          mapping as refresh and reconcile. An event created before the receiver's latest read for that
          consultation (`fetched_at`, Stripe's time) is already reflected: it is recorded, not re-read. Order
          of arrival therefore never matters;
        - `account.application.deauthorized` marks the practitioner disconnected (reconcile then lists their
          open consultations);
        - anything else on a known account is recorded as ignored (2xx, so Stripe stops sending it).

        The answer is 2xx only once the ledger committed; a bad or stale signature, an oversized body or an
        unknown account is a 4xx that changes nothing, with one log line saying why; a failure to read Stripe
        or to write the ledger is a 5xx, so Stripe retries.

    serve(receiver, host, port, on_ready, should_stop) -> None
        The HTTP side (stdlib ThreadingHTTPServer): `POST /webhooks/stripe`, `GET /healthz`. On shutdown
        it stops accepting and waits for the events in hand (HTTP/1.0: one request per connection).

The log is one JSON object per line (`log(dict)`), with ids only: no patient, no email, no amount.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable, TypedDict
from urllib.parse import urlsplit

from sarapay import i18n
from sarapay.errors import SarapayError

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.records import Consultation
    from sarapay.services.context import Context
    from sarapay.credentials import SecretKey

i18n.register(
    {
        "webhooks.url_format": {
            "fr": "Adresse « {value} » refusée : donnez l'adresse https complète où Stripe enverra les événements "
            "(http seulement en local), par exemple https://paiements.example.fr/webhooks/stripe.",
            "en": "Address '{value}' refused: give the full https address Stripe will send events to (http only "
            "locally), for example https://payments.example.org/webhooks/stripe.",
        },
    }
)

EVENT_PATH = "/webhooks/stripe"
HEALTH_PATH = "/healthz"
TOLERANCE = 300  # seconds, Stripe's default for Stripe-Signature timestamps
WORKERS = 4  # threads applying events (each with its own ledger connection and gateway)
MAX_BODY = 512 * 1024  # an event is a few kilobytes; anything this large is not one
DEAUTHORIZED = "account.application.deauthorized"

# What sarapay needs to keep the ledger fresh (docs/architecture.md); an event sarapay does not handle is
# recorded as ignored.
DISPUTE_EVENTS = (
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
    "charge.dispute.funds_withdrawn",
    "charge.dispute.funds_reinstated",
)
EVENTS = (
    "checkout.session.completed",
    "checkout.session.expired",
    "payment_intent.amount_capturable_updated",
    "payment_intent.succeeded",
    "payment_intent.canceled",
    "payment_intent.payment_failed",
    "charge.captured",
    "charge.refunded",
    "charge.expired",
    "charge.failed",
    "refund.created",
    "refund.updated",
    *DISPUTE_EVENTS,
    DEAUTHORIZED,
)
PAYMENT_PREFIXES = ("checkout.session.", "payment_intent.", "charge.", "refund.")


def check_url(value: str) -> str:
    from sarapay.settings import check_web_url

    return check_web_url(value, "webhooks.url_format")


class Registration(TypedDict):
    """A registered endpoint: Stripe's WebhookEndpoint without its secret, and where the secret was kept."""

    endpoint: dict[str, Any]  # Stripe's JSON
    secret_file: str | None  # the file's path, or None for the keyring
    secret_masked: str


def register(ctx: Context, url: str, *, to_file: bool = False) -> Registration:
    """Creates the Connect endpoint and stores its secret; returns the endpoint without the secret, and
    where the secret was kept (`secret_file`: the path, or None for the keyring). One audit row
    ("webhooks register", the URL as typed; the endpoint's id)."""
    from sarapay import credentials

    with ctx.audited("webhooks register", url) as entry:
        url = check_url(url)
        endpoint = ctx.gateway.create_webhook_endpoint(url, list(EVENTS), connect=True, description="sarapay")
        secret = credentials.check_webhook_secret(endpoint.pop("secret", "") or "", "input")
        path = credentials.store_webhook_secret(secret, to_file=to_file)
        entry.detail = endpoint.get("id")
    return {"endpoint": endpoint, "secret_file": str(path) if path else None, "secret_masked": secret.masked}


# --------------------------------------------------------------------------- applying one event


@dataclass
class Answer:
    status: int
    outcome: str  # applied, already_known, ignored, disconnected, duplicate, or the reason of a refusal
    event_id: str | None = None
    type: str | None = None
    account: str | None = None
    consultation_id: str | None = None
    state: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def log_fields(self) -> dict[str, Any]:
        fields = {"status": self.status, "outcome": self.outcome, "event": self.event_id, "type": self.type,
                  "account": self.account, "consultation": self.consultation_id, "state": self.state}
        return {k: v for k, v in {**fields, **self.extra}.items() if v is not None}


def _object_consultation(ledger: Ledger, obj: dict[str, Any]) -> Consultation | None:
    """The consultation a payment object belongs to: by the Stripe id the ledger keeps, else by the
    consultation id in its metadata (the session of a link issued from another machine)."""
    from sarapay.services.reconcile import consultation_of

    kind, obj_id = obj.get("object"), obj.get("id")
    row = None
    if kind == "checkout.session" and obj_id:
        row = ledger.find_by_checkout_session(obj_id)
    elif kind == "payment_intent" and obj_id:
        row = ledger.find_by_payment_intent(obj_id)
    elif kind in ("charge", "refund", "dispute") and obj.get("payment_intent"):
        pi = obj["payment_intent"]
        row = ledger.find_by_payment_intent(pi["id"] if isinstance(pi, dict) else pi)
    if row is None:
        cid = consultation_of(obj)
        row = ledger.get_consultation(cid) if cid else None
    return row


class Receiver:
    """Verifies and applies deliveries. Thread-safe: events are applied by a small pool of worker threads,
    each with its own Context (a ledger connection belongs to the thread that opened it, a Gateway is not
    shared), and events about one consultation are applied one at a time."""

    def __init__(self, secret: SecretKey, contexts: Callable[[], Context], *, tolerance: int = TOLERANCE,
                 workers: int = WORKERS) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self._secret = secret
        self._make_context = contexts
        self._local = threading.local()
        self._all: list[Context] = []
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sarapay-webhook")
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.tolerance = tolerance
        self.counts: dict[str, int] = {}
        self.started = time.monotonic()

    def _context(self) -> Context:
        ctx = getattr(self._local, "ctx", None)
        if ctx is None:
            ctx = self._local.ctx = self._make_context()
            with self._locks_guard:
                self._all.append(ctx)
        return ctx

    def close(self) -> None:
        """Waits for the events in hand, then closes every worker's ledger (from that worker's thread)."""
        self._pool.shutdown(wait=True)
        for ctx in self._all:
            try:
                ctx.close()
            except Exception:  # a connection of another (finished) thread: the process exits anyway
                pass

    def _lock(self, key: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(key, threading.Lock())

    def handle(self, body: bytes, signature: str | None) -> Answer:
        from sarapay.stripe_gateway import BadSignature, verify_event

        try:
            event = verify_event(body, signature, self._secret.reveal(), tolerance=self.tolerance)
        except BadSignature as exc:
            return self._count(Answer(400, exc.reason))
        base = Answer(200, "", event.get("id"), event.get("type"), event.get("account"))
        if not isinstance(event.get("id"), str) or not event["id"].startswith("evt_"):
            return self._count(Answer(400, "payload"))
        return self._count(self._pool.submit(self._apply_here, event, base).result())

    def _apply_here(self, event: dict[str, Any], base: Answer) -> Answer:
        try:
            return self._apply(self._context(), event, base)
        except SarapayError as exc:
            # Stripe unreachable, ledger busy or unwritable: nothing committed, Stripe will retry.
            base.status, base.outcome, base.extra = 503, "retry_later", {"reason": exc.key}
        except Exception as exc:  # a bug: nothing committed (the transaction rolled back), Stripe retries
            base.status, base.outcome, base.extra = 500, "error", {"reason": type(exc).__name__}
        return base

    def _count(self, answer: Answer) -> Answer:
        self.counts[answer.outcome] = self.counts.get(answer.outcome, 0) + 1
        return answer

    def _apply(self, ctx: Context, event: dict[str, Any], answer: Answer) -> Answer:
        ledger = ctx.ledger
        account = event.get("account")
        if not account or not ledger.account_known(account):
            answer.status, answer.outcome = 400, "unknown_account"
            return answer
        if ledger.webhook_event(event["id"]) is not None:
            answer.outcome = "duplicate"
            return answer
        etype = str(event.get("type") or "")
        created = int(event.get("created") or 0)
        if etype == DEAUTHORIZED:
            return self._deauthorized(ctx, event, account, created, answer)
        obj = ((event.get("data") or {}).get("object")) or {}
        row = _object_consultation(ledger, obj) if etype.startswith(PAYMENT_PREFIXES) else None
        if row is None or row.account_id != account:
            answer.outcome = "ignored"
            with ledger.transaction():
                if not ledger.record_webhook_event(event["id"], account_id=account, type=etype, event_created=created,
                                                   outcome="ignored"):
                    answer.outcome = "duplicate"
            return answer
        answer.consultation_id = row.id
        with self._lock(row.id):
            if etype in DISPUTE_EVENTS:
                return self._apply_dispute(ctx, event, row, created, answer)
            return self._apply_payment(ctx, event, row, created, answer)

    def _apply_dispute(self, ctx: Context, event: dict[str, Any], row: Consultation, created: int,
                       answer: Answer) -> Answer:
        """A dispute opened, answered, won or lost: the payment's disputes as Stripe has them now (one list
        request: events can come late or out of order), through the same mapping as reconcile
        (refresh.apply_disputes); reconcile then reports the new dispute and its answer deadline."""
        from sarapay.services import refresh

        ledger = ctx.ledger
        obj = ((event.get("data") or {}).get("object")) or {}
        pi = obj.get("payment_intent")
        pi_id = pi.get("id") if isinstance(pi, dict) else pi
        found = refresh.fetch_disputes(ctx.gateway, refresh.account_of(row), pi_id or row.payment_intent_id or "")
        fetched_at = refresh.stripe_now(ctx)
        with ledger.transaction():
            if not ledger.record_webhook_event(event["id"], account_id=answer.account, type=answer.type or "",
                                               event_created=created, consultation_id=row.id, outcome="applied",
                                               fetched_at=fetched_at):
                answer.outcome = "duplicate"
                return answer
            after, new = refresh.apply_disputes(ledger, ledger.get_consultation(row.id) or row, found)
        answer.outcome, answer.state = "applied", after.state
        if new:
            answer.extra = {"new_disputes": len(new)}
        return answer

    def _apply_payment(self, ctx: Context, event: dict[str, Any], row: Consultation, created: int,
                       answer: Answer) -> Answer:
        from sarapay.services import refresh

        ledger = ctx.ledger
        row = ledger.get_consultation(row.id) or row  # read before Stripe: the compare-and-set's reference
        synced = ledger.webhook_synced_through(row.id)
        if synced is not None and created < synced:
            # A read made after this event happened already brought its effect (Stripe's clock on both sides).
            with ledger.transaction():
                inserted = ledger.record_webhook_event(event["id"], account_id=answer.account, type=answer.type or "",
                                                       event_created=created, consultation_id=row.id,
                                                       outcome="already_known")
            answer.outcome = "already_known" if inserted else "duplicate"
            answer.state = row.state
            return answer
        session, payment_intent = refresh.fetch_stripe_objects(ctx, row)
        fetched_at = refresh.stripe_now(ctx)
        expired_event = None
        if refresh.needs_expiry_event(row, session):
            assert session is not None
            obj = ((event.get("data") or {}).get("object")) or {}
            if answer.type == refresh.EXPIRED_EVENT and obj.get("id") == session["id"]:
                expired_event = event  # the very event that says how the link closed
            else:
                expired_event = refresh.fetch_expiry_event(ctx.gateway, refresh.account_of(row), session)
        with ledger.transaction():
            if not ledger.record_webhook_event(event["id"], account_id=answer.account, type=answer.type or "",
                                               event_created=created, consultation_id=row.id, outcome="applied",
                                               fetched_at=fetched_at):
                answer.outcome = "duplicate"
                return answer
            if session is not None and session["id"] != row.checkout_session_id and session.get("status") == "complete":
                row = ledger.update_consultation(row.id, checkout_session_id=session["id"], closed_on_purpose=False)
            after = refresh.apply_stripe_state(ledger, row, session, payment_intent, fetched_at, expired_event)
        answer.outcome, answer.state = "applied", after.state
        return answer

    def _deauthorized(self, ctx: Context, event: dict[str, Any], account: str, created: int, answer: Answer) -> Answer:
        from sarapay.ledger.store import iso_utc, now_utc

        ledger = ctx.ledger
        practitioner = ledger.find_practitioner_by_account(account)
        with ledger.transaction():
            if not ledger.record_webhook_event(event["id"], account_id=account, type=DEAUTHORIZED,
                                               event_created=created, outcome="disconnected"):
                answer.outcome = "duplicate"
                return answer
            if practitioner is not None and not practitioner.disconnected_at:
                ledger.upsert_practitioner(practitioner.rpps, disconnected_at=iso_utc(now_utc()))
        answer.outcome = "disconnected"
        return answer


# --------------------------------------------------------------------------- the HTTP side


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    timeout = 30  # a client that never finishes its request does not hold a shutdown forever

    def log_message(self, format: str, *args: Any) -> None:  # one structured line per event instead
        pass

    def _reply(self, status: int, doc: dict[str, Any]) -> None:
        data = json.dumps(doc).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def do_GET(self) -> None:
        if urlsplit(self.path).path != HEALTH_PATH:
            self._reply(404, {"error": "not_found"})
            return
        receiver = self.server.receiver
        self._reply(200, {"status": "ok", "uptime_s": int(time.monotonic() - receiver.started),
                          "events": dict(receiver.counts)})

    def do_POST(self) -> None:
        started = time.monotonic()
        if urlsplit(self.path).path != EVENT_PATH:
            self._reply(404, {"error": "not_found"})
            return
        try:
            length = int(self.headers.get("Content-Length") or -1)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            answer = Answer(413 if length > MAX_BODY else 411, "too_large" if length > MAX_BODY else "no_length")
            self.close_connection = True  # the body is not read
        else:
            body = self.rfile.read(length)
            answer = self.server.receiver.handle(body, self.headers.get("Stripe-Signature"))
        self.server.log({**answer.log_fields(), "ms": round((time.monotonic() - started) * 1000, 1)})
        self._reply(answer.status, {"received": 200 <= answer.status < 300, "outcome": answer.outcome})


class _Server(ThreadingHTTPServer):
    daemon_threads = False  # server_close() waits for the events in hand
    block_on_close = True
    allow_reuse_address = True
    receiver: Receiver
    log: Callable[[dict[str, Any]], None]


def make_server(receiver: Receiver, host: str, port: int, log: Callable[[dict[str, Any]], None]) -> _Server:
    server = _Server((host, port), _Handler)
    server.receiver = receiver
    server.log = log
    return server


def serve(server: _Server) -> None:
    """Serves until `server.shutdown()` (from another thread: the SIGTERM handler), then waits for the
    requests in hand before returning."""
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()  # joins the handler threads: the event in hand is finished and answered
        server.receiver.close()
