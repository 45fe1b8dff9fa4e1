"""The only module that imports `stripe`: client construction, retries, idempotency, Stripe-Account,
and the translation of Stripe's errors into sarapay's own (one place).

`stripe` is imported inside the constructor, never at module import, so `sarapay --help` stays fast.
Every method returns plain JSON dicts (or an iterator of them): services and the ledger never see a
StripeObject. `clock.now()` is Stripe's time, from its answers' `Date` headers (None before the first
answer), for comparing Stripe's deadlines.

Each request that changes something on Stripe is described once, as a `StripeRequest` (method, path,
params, Stripe-Account, Idempotency-Key) built by a pure function here (`capture_request`,
`refund_request`…): `Gateway.send` sends it, `--dry-run` shows it, and `StripeRequest.form()` is the one
form encoding of both (as stripe-python's `_encode._api_encode`). `send` returns an `Answer`: the data with
what Stripe said of the request (its `request_id`, and whether it `replayed` an earlier idempotent result);
the gateway keeps no such state. A `listener` given to the gateway hears each request id (the audit row of
a command names its last request when the command says no other).

Retries, in two layers:
- the SDK retries 409, 5xx and (through our HTTP client below) lost connections and timeouts, up to
  `max_network_retries` times, reusing the same Idempotency-Key;
- the SDK never retries 429, so `_call` does, a bounded number of times with backoff, with the same key.
Every POST carries a key: the caller's deterministic one for money-moving calls (required), otherwise
one generated once per logical call, so our own 429 retries stay idempotent too.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Mapping, NoReturn, Protocol, TypeVar

from sarapay import i18n
from sarapay.errors import ConfigError, Interrupted, SarapayError, StripeRefused, StripeUnavailable
from sarapay.credentials import SecretKey, check_key_format, redact
from sarapay.settings import is_loopback

if TYPE_CHECKING:
    from stripe import UrllibClient

DEFAULT_TIMEOUT = 30.0
DEFAULT_RATE_LIMIT_RETRIES = 3
DEFAULT_RATE_LIMIT_DELAY = 1.0
RATE_LIMIT_MAX_DELAY = 8.0
PAGE_SIZE = 100
STRIPE_API = "https://api.stripe.com"  # what the SDK talks to when no API base is configured
CONNECT_BASE = "https://connect.stripe.com"  # Connect OAuth's own host, likewise

# What Stripe sees of a consultation: opaque ids only (docs/architecture.md, "Rules every change keeps").
PRODUCT_NAME = "Téléconsultation"
METADATA_CONSULTATION = "consultation_id"
METADATA_PRACTITIONER = "rpps"
METADATA_SOURCE = "sarapay"
METADATA_MOVE = "sarapay_move"  # on a refund: the idempotency key it was sent with (opaque ids only)
# The planned time, as ISO 8601 UTC (an opaque time, nothing medical): lets `sync --rebuild` restore it.
METADATA_SCHEDULED = "scheduled_at"

# Call kinds, for what an unavailability message says about side effects.
READ, WRITE, MONEY = "read", "write", "money"

_DETAIL_MAX = 240

i18n.register(
    {
        "stripe.auth": {
            "fr": "Stripe refuse la clé {masked} (authentification). Vérifiez la clé avec « sarapay config show », "
            "ou enregistrez la bonne avec « sarapay config set-key ».",
            "en": "Stripe rejects the key {masked} (authentication). Check it with 'sarapay config show', "
            "or store the right one with 'sarapay config set-key'.",
        },
        "stripe.no_client_id": {
            "fr": "Aucun identifiant client Connect (ca_…) configuré : « sarapay config set-client-id CA » "
            "(Tableau de bord Stripe › Connect › Paramètres).",
            "en": "No Connect client id (ca_…) configured: 'sarapay config set-client-id CA' "
            "(Stripe Dashboard › Connect › Settings).",
        },
        "stripe.account_invalid_sandbox": {
            "fr": "Le bac à sable ne connaît pas (ou plus) le compte du praticien ({account}). S'il a été redémarré sans "
            "--state, il a perdu ses comptes et ses paiements : relancez-le avec « sarapay sandbox serve --state FICHIER » "
            "pour les garder, puis reliez à nouveau le praticien. Sinon l'accès a été révoqué : « sarapay link RPPS --check ».",
            "en": "The sandbox does not know (or no longer knows) the practitioner's account ({account}). If it was "
            "restarted without --state, it lost its accounts and payments: start it with 'sarapay sandbox serve --state "
            "FILE' to keep them, then link the practitioner again. Otherwise access was revoked: 'sarapay link RPPS --check'.",
        },
        "stripe.account_invalid": {
            "fr": "Le compte Stripe du praticien ({account}) n'est plus connecté à la plateforme (accès révoqué ou compte inexistant). "
            "Vérifiez l'appariement avec « sarapay link RPPS --check ».",
            "en": "The practitioner's Stripe account ({account}) is no longer connected to the platform (access revoked or no such account). "
            "Check the pairing with 'sarapay link RPPS --check'.",
        },
        "stripe.permission_missing": {
            "fr": "La clé {masked} est une clé restreinte qui ne permet pas cette opération : il lui manque la permission "
            "« {permission} ». Les commandes de lecture (reconcile, status, payouts) suffisent d'une clé en lecture seule ; "
            "pour celle-ci, utilisez une clé qui a cette permission (ou la clé secrète).",
            "en": "The key {masked} is a restricted key that does not allow this: it lacks the '{permission}' permission. "
            "Read-only commands (reconcile, status, payouts) work with a read-only key; for this one, use a key that "
            "has this permission (or the secret key).",
        },
        "stripe.permission": {
            "fr": "Stripe n'autorise pas la plateforme à faire cela sur le compte {account} : {detail}",
            "en": "Stripe does not allow the platform to do this on account {account}: {detail}",
        },
        "stripe.payment_intent_unexpected_state": {
            "fr": "Le paiement n'est pas dans un état qui permet cette opération (déjà capturé, annulé ou expiré) : {detail} "
            "Mettez-le à jour avec « sarapay status CONSULTATION --refresh ».",
            "en": "The payment is not in a state that allows this (already captured, canceled or expired): {detail} "
            "Refresh it with 'sarapay status CONSULTATION --refresh'.",
        },
        "stripe.amount_too_large": {
            "fr": "Montant trop élevé : il dépasse ce qui est autorisé (empreinte bancaire, ou montant encaissé pour un remboursement). "
            "Rien n'a été débité ; réessayez avec un montant plus petit.",
            "en": "Amount too large: it exceeds what is authorised (the card hold, or the captured amount for a refund). "
            "Nothing was charged; retry with a smaller amount.",
        },
        "stripe.amount_too_small": {
            "fr": "Montant trop faible : Stripe exige au moins 0,50 €.",
            "en": "Amount too small: Stripe requires at least €0.50.",
        },
        "stripe.resource_missing": {
            "fr": "Stripe ne trouve pas cet objet sur ce compte : {detail}",
            "en": "Stripe cannot find this object on this account: {detail}",
        },
        "stripe.authorization_expired": {
            "fr": "L'autorisation de la carte a expiré : ce paiement ne peut plus être capturé. Émettez un nouveau lien avec « sarapay pay-link CONSULTATION ».",
            "en": "The card authorisation has expired: this payment can no longer be captured. Issue a new link with 'sarapay pay-link CONSULTATION'.",
        },
        "stripe.charge_already_captured": {
            "fr": "Ce paiement a déjà été capturé.",
            "en": "This payment has already been captured.",
        },
        "stripe.charge_already_refunded": {
            "fr": "Ce paiement a déjà été entièrement remboursé.",
            "en": "This payment has already been fully refunded.",
        },
        "stripe.balance_insufficient": {
            "fr": "Le solde du compte Stripe du praticien est insuffisant pour ce remboursement.",
            "en": "The practitioner's Stripe balance is too low for this refund.",
        },
        "stripe.card_declined": {
            "fr": "Carte refusée ({decline_code}).",
            "en": "Card declined ({decline_code}).",
        },
        "stripe.idempotency_error": {
            "fr": "Cette opération a déjà été envoyée à Stripe avec d'autres paramètres (même clé d'idempotence) : "
            "elle n'est pas rejouée. Mettez le paiement à jour avec « sarapay status CONSULTATION --refresh ».",
            "en": "This operation was already sent to Stripe with different parameters (same idempotency key): "
            "it is not replayed. Refresh the payment with 'sarapay status CONSULTATION --refresh'.",
        },
        "stripe.invalid_grant": {
            "fr": "Code d'autorisation Connect invalide, expiré ou déjà utilisé : recommencez avec « sarapay link RPPS --email EMAIL ».",
            "en": "Connect authorisation code invalid, expired or already used: start again with 'sarapay link RPPS --email EMAIL'.",
        },
        "stripe.invalid_client": {
            "fr": "Stripe refuse l'identifiant client Connect, ou ce compte n'est pas connecté à la plateforme : {detail}",
            "en": "Stripe rejects the Connect client id, or this account is not connected to the platform: {detail}",
        },
        "stripe.oauth_error": {
            "fr": "Stripe Connect a refusé la demande ({code}) : {detail}",
            "en": "Stripe Connect refused the request ({code}): {detail}",
        },
        "stripe.refused": {
            "fr": "Stripe a refusé la requête ({code}) : {detail}",
            "en": "Stripe refused the request ({code}): {detail}",
        },
        "stripe.rate_limited.read": {
            "fr": "Stripe limite le nombre de requêtes (429), encore après {attempts} tentatives. Rien n'a été modifié ; réessayez dans un moment.",
            "en": "Stripe is rate limiting (429), still after {attempts} attempts. Nothing was changed; try again in a moment.",
        },
        "stripe.rate_limited.write": {
            "fr": "Stripe limite le nombre de requêtes (429), encore après {attempts} tentatives. La demande n'a pas été appliquée ; "
            "réessayez dans un moment (la même clé d'idempotence est réutilisée).",
            "en": "Stripe is rate limiting (429), still after {attempts} attempts. The request was not applied; "
            "try again in a moment (the same idempotency key is reused).",
        },
        "stripe.rate_limited.money": {
            "fr": "Stripe limite le nombre de requêtes (429), encore après {attempts} tentatives : la demande n'a pas été appliquée, "
            "l'argent n'a pas bougé. Réessayez dans un moment (la même clé d'idempotence est réutilisée).",
            "en": "Stripe is rate limiting (429), still after {attempts} attempts: the request was not applied, no money moved. "
            "Try again in a moment (the same idempotency key is reused).",
        },
        "stripe.unavailable.read": {
            "fr": "Stripe est injoignable ou indisponible, même après plusieurs tentatives. Rien n'a été modifié ; réessayez plus tard.",
            "en": "Stripe is unreachable or unavailable, even after several attempts. Nothing was changed; try again later.",
        },
        "stripe.unavailable.write": {
            "fr": "Stripe est injoignable ou indisponible, même après plusieurs tentatives : on ne sait pas si la demande a été appliquée. "
            "Relancer la même commande est sans risque (même clé d'idempotence).",
            "en": "Stripe is unreachable or unavailable, even after several attempts: whether the request was applied is unknown. "
            "Re-running the same command is safe (same idempotency key).",
        },
        "stripe.unavailable.money": {
            "fr": "Stripe est injoignable ou indisponible, même après plusieurs tentatives : on ne sait pas si l'argent a bougé. "
            "Vérifiez avec « sarapay status CONSULTATION --refresh » ; relancer est sans risque (même clé d'idempotence, jamais de double débit).",
            "en": "Stripe is unreachable or unavailable, even after several attempts: whether money moved is unknown. "
            "Check with 'sarapay status CONSULTATION --refresh'; re-running is safe (same idempotency key, never charged twice).",
        },
        # The connection was refused (or the name did not resolve) at every attempt: no byte reached Stripe.
        "stripe.unreachable": {
            "fr": "Impossible de joindre Stripe à l'adresse {address} (connexion refusée) : rien n'a été envoyé, rien n'a changé. "
            "Vérifiez que cette adresse est la bonne (« sarapay config show ») et que le service répond, puis relancez.",
            "en": "Cannot reach Stripe at {address} (connection refused): nothing was sent, nothing changed. "
            "Check that this address is right ('sarapay config show') and that the service answers, then run it again.",
        },
        "stripe.interrupted.read": {
            "fr": "Interrompu pendant une lecture chez Stripe : rien n'a été modifié.",
            "en": "Interrupted while reading from Stripe: nothing was changed.",
        },
        "stripe.interrupted.write": {
            "fr": "Interrompu pendant une demande à Stripe : elle a pu être appliquée. Relancer la même commande est sans risque "
            "(même clé d'idempotence).",
            "en": "Interrupted during a request to Stripe: it may have been applied. Re-running the same command is safe "
            "(same idempotency key).",
        },
        "stripe.interrupted.money": {
            "fr": "Interrompu pendant une demande à Stripe : l'argent a pu bouger. Vérifiez avec « sarapay status CONSULTATION --refresh » ; "
            "relancer la même commande est sans risque (même clé d'idempotence, jamais de double débit).",
            "en": "Interrupted during a request to Stripe: money may have moved. Check with 'sarapay status CONSULTATION --refresh'; "
            "re-running the same command is safe (same idempotency key, never charged twice).",
        },
    }
)

# Stripe codes with a sentence of their own; the others get "stripe.refused" with Stripe's message.
_KNOWN_CODES = {
    "payment_intent_unexpected_state": "stripe.payment_intent_unexpected_state",
    "amount_too_large": "stripe.amount_too_large",
    "amount_too_small": "stripe.amount_too_small",
    "resource_missing": "stripe.resource_missing",
    "charge_expired_for_capture": "stripe.authorization_expired",
    "capture_charge_authorization_expired": "stripe.authorization_expired",
    "charge_already_captured": "stripe.charge_already_captured",
    "charge_already_refunded": "stripe.charge_already_refunded",
    "balance_insufficient": "stripe.balance_insufficient",
    "card_declined": "stripe.card_declined",
    "invalid_grant": "stripe.invalid_grant",
    "invalid_client": "stripe.invalid_client",
    "account_invalid": "stripe.account_invalid",
}

_REQUEST_PREFIX_RE = re.compile(r"^Request req_[A-Za-z0-9]+: ")
# A restricted key's refusal names what would allow the request: "Having the 'rak_charge_write' permission…"
_MISSING_PERMISSION_RE = re.compile(r"Having the '?(rak_[a-z_]+)'? permission")


def _detail(exc: Any) -> str:
    """Stripe's own message, short, without the request prefix, secret keys masked."""
    text = getattr(exc, "user_message", None) or str(exc) or type(exc).__name__
    text = _REQUEST_PREFIX_RE.sub("", str(text)).replace("\n", " ").strip().rstrip(".")
    text = redact(text)
    return text if len(text) <= _DETAIL_MAX else text[: _DETAIL_MAX - 1] + "…"


def _plain(obj: Any) -> Any:
    """A StripeObject (or list of them) as plain JSON data."""
    if hasattr(obj, "to_dict"):
        return obj.to_dict(recursive=True, for_json=True)
    if isinstance(obj, list):
        return [_plain(item) for item in obj]
    return obj


def _said(result: Any) -> tuple[str | None, bool]:
    """What Stripe said of the request that `result` answers (a StripeObject or a raw StripeResponse): its
    request id, and whether it replayed an earlier answer (same idempotency key)."""
    response = getattr(result, "last_response", result)
    request_id = getattr(response, "request_id", None)
    headers = getattr(response, "headers", None) or {}
    return request_id, headers.get("idempotent-replayed") == "true"


def descriptor_suffix(consultation_id: str) -> str:
    """A neutral statement descriptor suffix: the consultation id, as Stripe allows it (≤22, a letter)."""
    cleaned = re.sub(r"[^A-Z0-9 .-]", "", consultation_id.upper())[:22].strip()
    return cleaned if re.search(r"[A-Z]", cleaned) else "TC " + cleaned[:19]

# --------------------------------------------------------------------------- requests, described once

T = TypeVar("T")


def encode_form(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """The params as Stripe's form encoding names them, in order: expand[0]=…, metadata[sarapay]=1,
    line_items[0][quantity]=1. None is left out and booleans are "true"/"false", as the SDK sends them."""
    flat: dict[str, Any] = {}
    for name, value in params.items():
        key = f"{prefix}[{name}]" if prefix else str(name)
        if value is None:
            continue
        if isinstance(value, Mapping):
            flat.update(encode_form(value, key))
        elif isinstance(value, (list, tuple)):
            flat.update(encode_form({str(index): item for index, item in enumerate(value)}, key))
        elif isinstance(value, bool):
            flat[key] = "true" if value else "false"
        else:
            flat[key] = value
    return flat


@dataclass(frozen=True)
class StripeRequest:
    """One request to Stripe, described once: what `Gateway.send` sends and what `--dry-run` shows."""

    method: str  # "POST"
    path: str  # "/v1/payment_intents/pi_…/capture"
    params: Mapping[str, Any] = field(default_factory=dict)  # nested, as Stripe's API reference names them
    stripe_account: str | None = None  # the Stripe-Account header: a direct charge on the practitioner's account
    # Required for a money move (deterministic: a re-run sends the same); None: one is made per logical call.
    idempotency_key: str | None = None
    kind: str = WRITE  # READ, WRITE or MONEY: what an unavailability message says of side effects
    base: str = "api"  # "connect" for Connect OAuth (connect.stripe.com)
    about: str | None = None  # the connected account messages name, when not the Stripe-Account header

    def form(self) -> dict[str, Any]:
        """The form fields as sent, in order."""
        return encode_form(self.params)


@dataclass(frozen=True)
class Answer(Generic[T]):
    """Stripe's answer to one request, with what Stripe said of the request itself."""

    data: T
    request_id: str | None  # for the audit log
    replayed: bool = False  # Stripe replayed the answer of an earlier request with the same idempotency key


CAPTURE_EXPAND = ["latest_charge.balance_transaction"]
# Stripe accepts duplicate, fraudulent, requested_by_customer, abandoned: a hold is released because the
# consultation is not billed (cancelled, not held, free), which the portal decides for the patient.
CANCELLATION_REASON = "requested_by_customer"


def capture_request(account: str, payment_intent: str, amount_cents: int | None, *, idempotency_key: str) -> StripeRequest:
    """Captures `amount_cents` (None: the whole hold); Stripe releases the rest of the hold. The answer
    carries the charge and its balance transaction (the fee): no read after it."""
    params: dict[str, Any] = {}
    if amount_cents is not None:
        params["amount_to_capture"] = int(amount_cents)
    params["expand"] = list(CAPTURE_EXPAND)
    return StripeRequest("POST", f"/v1/payment_intents/{payment_intent}/capture", params, account, idempotency_key, MONEY)


def cancel_request(account: str, payment_intent: str, *, idempotency_key: str,
                   reason: str | None = CANCELLATION_REASON) -> StripeRequest:
    """Releases the hold. The charge comes expanded, as after a capture: without it the answer says nothing
    of the hold that was released, and the ledger would record a hold of 0 that the next refresh puts back."""
    params: dict[str, Any] = {}
    if reason:
        params["cancellation_reason"] = reason
    params["expand"] = list(CAPTURE_EXPAND)
    return StripeRequest("POST", f"/v1/payment_intents/{payment_intent}/cancel", params, account, idempotency_key, MONEY)


def refund_request(account: str, payment_intent: str, amount_cents: int | None, *, idempotency_key: str) -> StripeRequest:
    """Refunds `amount_cents` of a captured payment (None: what remains).

    The refund carries its idempotency key in its metadata: Stripe forgets a key after 24 hours, and a
    refund whose answer was lost longer ago than that is then recognised among the payment's refunds."""
    params: dict[str, Any] = {"payment_intent": payment_intent}
    if amount_cents is not None:
        params["amount"] = int(amount_cents)
    params["metadata"] = {METADATA_SOURCE: "1", METADATA_MOVE: idempotency_key}
    return StripeRequest("POST", "/v1/refunds", params, account, idempotency_key, MONEY)


def expire_checkout_request(account: str, session_id: str, *, idempotency_key: str) -> StripeRequest:
    """Closes an open payment link: the patient can no longer pay through it."""
    return StripeRequest("POST", f"/v1/checkout/sessions/{session_id}/expire", {}, account, idempotency_key, MONEY)


def checkout_session_request(
    account: str,
    *,
    amount_cents: int,
    consultation_id: str,
    rpps: str,
    expires_at: int | None,
    success_url: str,
    cancel_url: str,
    idempotency_key: str,
    currency: str = "eur",
    customer_email: str | None = None,
    locale: str = "fr",
    scheduled_at: str | None = None,
) -> StripeRequest:
    """A hosted payment page for a card hold (manual capture) on the practitioner's account.

    Only opaque ids go to Stripe: the consultation id and the practitioner's RPPS, and (given) the
    planned time as ISO 8601 UTC, so a ledger rebuilt from Stripe alone knows when it was planned."""
    metadata = {METADATA_CONSULTATION: consultation_id, METADATA_PRACTITIONER: rpps, METADATA_SOURCE: "1"}
    if scheduled_at:
        metadata[METADATA_SCHEDULED] = scheduled_at
    params: dict[str, Any] = {
        "mode": "payment",
        "payment_method_types": ["card"],
        "line_items": [
            {
                "price_data": {
                    "currency": currency,
                    "unit_amount": int(amount_cents),
                    "product_data": {"name": PRODUCT_NAME},
                },
                "quantity": 1,
            }
        ],
        "payment_intent_data": {
            "capture_method": "manual",
            "metadata": metadata,
            "statement_descriptor_suffix": descriptor_suffix(consultation_id),
        },
        "metadata": metadata,
        "client_reference_id": consultation_id,
        "success_url": success_url,
        "cancel_url": cancel_url,
        "locale": locale,
    }
    if expires_at is not None:
        # None: Stripe's default, 24 h by Stripe's own clock (no skew with ours, and a retry sends
        # exactly the same parameters under the same idempotency key).
        params["expires_at"] = int(expires_at)
    if customer_email:
        params["customer_email"] = customer_email
    return StripeRequest("POST", "/v1/checkout/sessions", params, account, idempotency_key, WRITE)


def deauthorize_request(client_id: str, account: str) -> StripeRequest:
    """Removes the platform's access to an OAuth-connected account (the account lives on)."""
    return StripeRequest("POST", "/oauth/deauthorize", {"client_id": client_id, "stripe_user_id": account},
                         kind=WRITE, base="connect", about=account)


def payout_schedule_request(account: str, schedule: Mapping[str, Any], *, idempotency_key: str | None = None) -> StripeRequest:
    """The platform's update of a connected account's payout schedule (the id in the path, no Stripe-Account)."""
    params = {"settings": {"payouts": {"schedule": dict(schedule)}}}
    return StripeRequest("POST", f"/v1/accounts/{account}", params, None, idempotency_key, WRITE, about=account)


class _Listener(Protocol):
    def __call__(self, request_id: str | None) -> None: ...



class StripeClock:
    """Stripe's time, as Stripe's own answers give it (the HTTP `Date` header, 1 s resolution).

    Deadlines (a hold's `capture_before`, a link's `expires_at`) are Stripe's, so they are compared with
    Stripe's time, not the machine's: a machine clock that is off, or the sandbox clock moved forward by
    `sarapay sandbox advance`, would otherwise hide a hold about to expire, or expire one Stripe still holds.
    Kept as an offset from the machine's clock when the answer arrived, so it runs on between answers.
    A Gateway and its clones (one per reading thread) share one clock."""

    def __init__(self) -> None:
        self._offset: float | None = None

    def observe(self, headers: Any) -> None:
        """Reads the `Date` header of an answer (any status); an absent or unreadable one changes nothing."""
        from email.utils import parsedate_to_datetime

        value = next((v for k, v in (headers or {}).items() if k.lower() == "date"), None)
        if not value:
            return
        try:
            server = parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        self._offset = server - time.time()

    def now(self) -> int | None:
        """Stripe's time now (Unix seconds), or None when Stripe has not answered yet."""
        offset = self._offset
        return None if offset is None else int(time.time() + offset)


class _Attempts:
    """Whether an attempt of the current logical call may have been applied by Stripe.

    False until then: a refused connection or an unknown host sends nothing, and a 4xx answer (429 included)
    says it was not applied; a 2xx or 5xx answer, a reset or a timeout while waiting may mean it was. The
    Gateway resets it before each logical call (its SDK retries included), so one uncertain attempt among
    several keeps it True."""

    def __init__(self) -> None:
        self.possibly_applied = False


def _make_http_client(
    timeout: float, bypass_proxy: bool, attempts: _Attempts, clock: StripeClock | None = None
) -> UrllibClient:
    """UrllibClient with a timeout, no proxy for a loopback sandbox, and lost connections retried.

    The stock UrllibClient waits forever, and lets a connection closed before the answer escape as a raw
    http.client exception that the SDK neither retries nor wraps. Retrying such a request is safe: every
    POST carries an Idempotency-Key, so Stripe replays the first result instead of applying it twice.
    Every answer, error or retried ones included, gives `clock` Stripe's time; `attempts` hears whether one
    may have been applied.
    """
    import http.client
    import socket
    import ssl
    import urllib.error
    import urllib.request

    import stripe

    seconds = timeout

    def retryable(exc: BaseException) -> stripe.APIConnectionError:
        # The SDK's error constructors carry no annotations.
        return stripe.APIConnectionError(type(exc).__name__, should_retry=True)  # type: ignore[no-untyped-call]

    class SarapayUrllibClient(stripe.UrllibClient):
        def __init__(self) -> None:
            super().__init__()
            handlers = [urllib.request.ProxyHandler({})] if bypass_proxy else []
            opener = urllib.request.build_opener(*handlers)
            base_open = opener.open

            def open_with_timeout(fullurl: str | urllib.request.Request, data: Any = None, timeout: float | None = None) -> Any:
                return base_open(fullurl, data, seconds)

            # Every request gets our timeout: the SDK's client opens without one, and would wait forever.
            opener.open = open_with_timeout  # type: ignore[method-assign]  # the opener is ours, built just above
            self._opener = opener

        def request(
            self, method: str, url: str, headers: Mapping[str, str] | None, post_data: Any = None, *,
            _usage: list[str] | None = None,
        ) -> tuple[str, int, Mapping[str, str]]:
            try:
                answer = super().request(method, url, headers or {}, post_data)
            except stripe.APIConnectionError:
                raise
            except (http.client.HTTPException, OSError) as exc:  # reset, closed without answer, timeout
                attempts.possibly_applied = True
                raise retryable(exc) from None
            if not 400 <= answer[1] < 500:
                attempts.possibly_applied = True
            if clock is not None:
                clock.observe(answer[2])
            return answer

        def _handle_request_error(self, e: Exception) -> NoReturn:
            reason = getattr(e, "reason", None)
            if isinstance(e, urllib.error.URLError) and isinstance(reason, OSError) and not isinstance(reason, ssl.SSLError):
                if not isinstance(reason, (ConnectionRefusedError, socket.gaierror)):
                    attempts.possibly_applied = True
                raise retryable(reason) from None  # refused, reset, timeout while sending
            attempts.possibly_applied = True
            super()._handle_request_error(e)

    return SarapayUrllibClient()


def _cap_sdk_logging(stripe: Any) -> None:
    """Keeps the SDK's logs at "info" (method, URL, status) at most.

    At "debug" (STRIPE_LOG=debug, or a root logger at DEBUG) the SDK writes every response body to
    stderr or the log, and an OAuth token response carries the connected account's access token.
    """
    import logging
    import os

    wanted = stripe.log or os.environ.get("STRIPE_LOG")
    stripe.log = "info" if wanted in ("debug", "info") else None
    logger = logging.getLogger("stripe")
    if logger.getEffectiveLevel() < logging.INFO:
        logger.setLevel(logging.INFO)


def _no_telemetry(stripe: Any) -> None:
    """Turns the SDK's telemetry off: a tool next to health data sends nothing it does not need.

    With it on (stripe-python's default), the first request writes a lasting id to
    ~/.config/stripe/telemetry_id (outside sarapay's folders: `sarapay demo` promises to keep nothing),
    and every request tells Stripe that id and the machine's platform string (X-Stripe-Client-User-Agent)
    and the previous request's id and duration (X-Stripe-Client-Telemetry)."""
    stripe.enable_telemetry = False


class Gateway:
    """Stripe, as sarapay uses it. One instance per command run; not shared between threads."""

    def __init__(
        self,
        key: SecretKey | str,
        *,
        client_id: str | None = None,
        api_base: str | None = None,
        max_network_retries: int = 2,
        timeout: float = DEFAULT_TIMEOUT,
        rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES,
        rate_limit_delay: float = DEFAULT_RATE_LIMIT_DELAY,
        sleep: Callable[[float], None] = time.sleep,
        clock: StripeClock | None = None,
        listener: _Listener | None = None,
    ) -> None:
        import stripe

        _cap_sdk_logging(stripe)
        _no_telemetry(stripe)
        self._stripe = stripe
        self.key = key if isinstance(key, SecretKey) else check_key_format(key, "input")
        self.client_id = client_id
        self.api_base = api_base.rstrip("/") if api_base else None
        self.max_network_retries = max_network_retries
        self.timeout = timeout
        self.rate_limit_retries = rate_limit_retries
        self.rate_limit_delay = rate_limit_delay
        self._sleep = sleep
        self.clock = clock if clock is not None else StripeClock()
        # Hears the request id of each call (None when no answer came): the audit row of the command's run.
        self.listener = listener

        from urllib.parse import urlsplit

        bypass_proxy = bool(self.api_base) and is_loopback(urlsplit(self.api_base or "").hostname)
        options: dict[str, Any] = {}
        if self.api_base:
            options["base_addresses"] = {"api": self.api_base, "connect": self.api_base, "files": self.api_base}
        self._attempts = _Attempts()
        self._client = stripe.StripeClient(
            self.key.reveal(),
            client_id=client_id,
            max_network_retries=max_network_retries,
            http_client=_make_http_client(timeout, bypass_proxy, self._attempts, self.clock),
            **options,
        )

    @classmethod
    def from_settings(cls, *, live: bool = False, **kwargs: Any) -> "Gateway":
        """The gateway for this run: key resolved and mode-checked, client id and API base from the config."""
        from sarapay import credentials, settings

        config = settings.load_config()
        key = credentials.resolve_key(live=live)
        return cls(key, client_id=config.client_id, api_base=config.api_base, **kwargs)

    @property
    def mode(self) -> str:
        return self.key.mode

    def clone(self) -> "Gateway":
        """A new Gateway with the same key and settings, for another thread (a Gateway is not shared).

        It shares this one's Stripe clock and listener, so what its answers say of Stripe's time serves the
        caller too, and its request ids reach the same audit row."""
        return type(self)(
            self.key,
            client_id=self.client_id,
            api_base=self.api_base,
            max_network_retries=self.max_network_retries,
            timeout=self.timeout,
            rate_limit_retries=self.rate_limit_retries,
            rate_limit_delay=self.rate_limit_delay,
            sleep=self._sleep,
            clock=self.clock,
            listener=self.listener,
        )

    def __repr__(self) -> str:
        return f"Gateway({self.key.masked}, api_base={self.api_base or 'stripe'})"

    # ------------------------------------------------------------------ the one call path

    def send(self, request: StripeRequest) -> Answer[dict[str, Any]]:
        """Sends a described request (its form as `request.form()` gives it) and returns Stripe's answer."""
        form = request.form()
        base = request.base

        def call(options: dict[str, Any]) -> Any:
            return self._client.raw_request(request.method.lower(), request.path, base=base, **options, **form)

        response = self._call(
            call, kind=request.kind, account=request.stripe_account, idempotency_key=request.idempotency_key,
            about=request.about,
        )
        request_id, replayed = _said(response)
        return Answer(json.loads(response.body), request_id, replayed)  # plain dicts (the SDK's are ordered)

    def _call(
        self,
        call: Callable[[dict[str, Any]], Any],
        *,
        kind: str = READ,
        account: str | None = None,
        idempotency_key: str | None = None,
        about: str | None = None,
    ) -> Any:
        """Runs `call(options)` with Stripe-Account and the Idempotency-Key, retries 429, translates errors.

        `about` names the connected account in messages when it is not the Stripe-Account header. The
        listener hears the request id of the last attempt (None when none was answered)."""
        stripe = self._stripe
        options: dict[str, Any] = {}
        if account:
            options["stripe_account"] = account
        if kind in (WRITE, MONEY):
            if kind == MONEY and not idempotency_key:
                raise ValueError("a money-moving call needs a deterministic idempotency key")
            options["idempotency_key"] = idempotency_key or f"sarapay-{uuid.uuid4().hex}"
        self._attempts.possibly_applied = False
        attempt = 0
        while True:
            attempt += 1
            try:
                result = call(options)
            except KeyboardInterrupt:
                # Ctrl-C while the request was on its way: Stripe may have applied it. Say so, as for exit 6.
                self._heard(None)
                error = Interrupted(f"stripe.interrupted.{kind}")
                error.outcome_unknown = kind != READ  # the request may be on the wire: nothing says it was not
                raise error from None
            except stripe.RateLimitError as exc:
                if attempt <= self.rate_limit_retries:
                    self._sleep(self._rate_limit_wait(attempt, exc))
                    continue
                self._heard(exc.request_id)
                raise self._translate(exc, kind=kind, account=about or account, attempts=attempt) from None
            except stripe.StripeError as exc:
                self._heard(exc.request_id)
                raise self._translate(exc, kind=kind, account=about or account, attempts=attempt) from None
            self._heard(_said(result)[0])
            return result

    def _heard(self, request_id: str | None) -> None:
        if self.listener is not None:
            self.listener(request_id)

    def _rate_limit_wait(self, attempt: int, exc: Any) -> float:
        retry_after = (getattr(exc, "headers", None) or {}).get("retry-after")
        try:
            if retry_after is not None:
                return min(float(retry_after), RATE_LIMIT_MAX_DELAY)
        except ValueError:
            pass
        delay = min(self.rate_limit_delay * 2.0 ** (attempt - 1), RATE_LIMIT_MAX_DELAY)
        return delay * (0.5 + random.random() / 2)

    def _account_invalid_key(self) -> str:
        """A sandbox (a loopback API base) that does not know an account has most likely been restarted without
        --state: say so, rather than only « access revoked »."""
        from sarapay.settings import sandbox_base

        return "stripe.account_invalid_sandbox" if sandbox_base(self.api_base) else "stripe.account_invalid"

    def _translate(self, exc: Any, *, kind: str, account: str | None, attempts: int) -> SarapayError:
        """Stripe's exception as sarapay's, keeping `.stripe_code`, `.http_status`, `.request_id`."""
        stripe = self._stripe
        from stripe import oauth_error

        error_obj = getattr(exc, "error", None)
        code = getattr(exc, "code", None) or getattr(error_obj, "code", None)
        detail = _detail(exc)
        acct = account or "-"
        err: SarapayError
        if isinstance(exc, stripe.AuthenticationError):
            err = ConfigError("stripe.auth", masked=self.key.masked)
        elif isinstance(exc, stripe.PermissionError) and _MISSING_PERMISSION_RE.search(str(exc)):
            permission = _MISSING_PERMISSION_RE.search(str(exc)).group(1)  # type: ignore[union-attr]
            err = ConfigError("stripe.permission_missing", masked=self.key.masked, permission=permission)
        elif isinstance(exc, stripe.PermissionError):
            if code == "account_invalid":
                err = StripeRefused(self._account_invalid_key(), account=acct)
            else:
                err = StripeRefused("stripe.permission", account=acct, detail=detail)
        elif isinstance(exc, stripe.IdempotencyError):
            code = code or "idempotency_error"
            err = StripeRefused("stripe.idempotency_error")
        elif isinstance(exc, oauth_error.OAuthError):
            key = _KNOWN_CODES.get(code or "")
            err = StripeRefused(key, detail=detail) if key else StripeRefused("stripe.oauth_error", code=code or "-", detail=detail)
        elif isinstance(exc, stripe.RateLimitError):
            code = code or "rate_limit"
            err = StripeUnavailable(f"stripe.rate_limited.{kind}", attempts=attempts)
        elif isinstance(exc, stripe.APIConnectionError) and not self._attempts.possibly_applied:
            err = StripeUnavailable("stripe.unreachable", address=self.api_base or STRIPE_API)
        elif isinstance(exc, (stripe.APIConnectionError, stripe.APIError)):
            err = StripeUnavailable(f"stripe.unavailable.{kind}")
        elif isinstance(exc, (stripe.InvalidRequestError, stripe.CardError)):
            key = _KNOWN_CODES.get(code or "")
            if key == "stripe.card_declined" or isinstance(exc, stripe.CardError):
                decline = getattr(error_obj, "decline_code", None) or code or "-"
                err = StripeRefused("stripe.card_declined", decline_code=decline)
            elif key:
                err = StripeRefused(key, detail=detail, account=acct)
            else:
                err = StripeRefused("stripe.refused", code=code or "-", detail=detail)
        else:
            err = StripeRefused("stripe.refused", code=code or type(exc).__name__, detail=detail)
        err.stripe_code = code
        err.http_status = getattr(exc, "http_status", None)
        err.request_id = getattr(exc, "request_id", None)
        err.stripe_param = getattr(error_obj, "param", None)
        err.stripe_message = detail
        err.outcome_unknown = isinstance(err, StripeUnavailable) and kind != READ and self._attempts.possibly_applied
        return err

    def _get(self, path: str, params: Mapping[str, Any] | None = None, *, account: str | None = None,
             about: str | None = None) -> dict[str, Any]:
        """A read: GET `path` with `params` in the query, on the connected `account` when given."""
        return self.send(StripeRequest("GET", path, params or {}, account, kind=READ, about=about)).data

    def _pages(self, path: str, params: Mapping[str, Any], *, account: str | None) -> Iterator[dict[str, Any]]:
        """Every object of a list endpoint, newest first, one read per page."""
        query = {**params, "limit": params.get("limit") or PAGE_SIZE}
        while True:
            page = self._get(path, query, account=account)
            data: list[dict[str, Any]] = page.get("data") or []
            yield from data
            if not page.get("has_more") or not data:
                return
            query["starting_after"] = data[-1]["id"]

    @staticmethod
    def _created(created_gte: int | None) -> dict[str, Any]:
        return {"created": {"gte": int(created_gte)}} if created_gte is not None else {}

    # ------------------------------------------------------------------ Connect: OAuth, accounts

    def oauth_authorize_url(
        self, state: str, email: str | None = None, *, scope: str = "read_write", redirect_uri: str | None = None
    ) -> str:
        """The Connect OAuth page's address (no request: the practitioner's browser goes there)."""
        from urllib.parse import urlencode

        params: dict[str, Any] = {"scope": scope, "state": state}
        if redirect_uri:
            params["redirect_uri"] = redirect_uri
        if email:
            params["stripe_user"] = {"email": email}
        params.update(client_id=self.require_client_id(), response_type="code")
        return f"{self.api_base or CONNECT_BASE}/oauth/authorize?{urlencode(list(encode_form(params).items()))}"

    def oauth_token(self, code: str) -> dict[str, Any]:
        """Exchanges an authorisation code; the answer's `stripe_user_id` is the connected account.

        The token response's access_token and refresh_token are secrets sarapay never needs: dropped here."""
        self.require_client_id()
        params = {"grant_type": "authorization_code", "code": code}
        data = self.send(StripeRequest("POST", "/oauth/token", params, kind=WRITE, base="connect")).data
        for secret in ("access_token", "refresh_token"):
            data.pop(secret, None)
        return data

    def oauth_deauthorize(self, account: str) -> dict[str, Any]:
        return self.send(deauthorize_request(self.require_client_id(), account)).data

    def require_client_id(self) -> str:
        """The Connect client id (ca_…); ConfigError when none is configured."""
        if not self.client_id:
            raise ConfigError("stripe.no_client_id")
        return self.client_id

    def create_account(
        self, email: str | None, metadata: dict[str, str] | None = None, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        """A Standard-like connected account the platform controls (fees and losses on the account, full dashboard)."""
        params: dict[str, Any] = {
            "country": "FR",
            "controller": {
                "fees": {"payer": "account"},
                "losses": {"payments": "stripe"},
                "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "full"},
            },
            "metadata": metadata or {},
        }
        if email:
            params["email"] = email
        return self.send(StripeRequest("POST", "/v1/accounts", params, None, idempotency_key, WRITE)).data

    def retrieve_account(self, account: str) -> dict[str, Any]:
        # The platform's view of a connected account: no Stripe-Account header, the id in the path.
        return self._get(f"/v1/accounts/{account}", about=account)

    def update_payout_schedule(
        self, account: str, schedule: dict[str, Any], *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.send(payout_schedule_request(account, schedule, idempotency_key=idempotency_key)).data

    def create_account_link(self, account: str, refresh_url: str, return_url: str) -> dict[str, Any]:
        params = {"account": account, "refresh_url": refresh_url, "return_url": return_url, "type": "account_onboarding"}
        return self.send(StripeRequest("POST", "/v1/account_links", params, kind=WRITE, about=account)).data

    # ------------------------------------------------------------------ Checkout and PaymentIntents (direct charges)

    def create_checkout_session(self, account: str, **details: Any) -> dict[str, Any]:
        """`send(checkout_session_request(account, **details)).data`: the session alone (tests, benchmarks)."""
        return self.send(checkout_session_request(account, **details)).data

    def retrieve_checkout_session(self, account: str, session_id: str) -> dict[str, Any]:
        return self._get(f"/v1/checkout/sessions/{session_id}", {"expand": ["payment_intent"]}, account=account)

    def expire_checkout_session(self, account: str, session_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return self.send(expire_checkout_request(account, session_id, idempotency_key=idempotency_key)).data

    def list_checkout_sessions(
        self, account: str, created_gte: int | None = None, *, expand: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        params = {**self._created(created_gte), **({"expand": list(expand)} if expand else {})}
        return self._pages("/v1/checkout/sessions", params, account=account)

    def retrieve_payment_intent(self, account: str, payment_intent: str) -> dict[str, Any]:
        return self._get(f"/v1/payment_intents/{payment_intent}", {"expand": list(CAPTURE_EXPAND)}, account=account)

    def list_payment_intents(
        self, account: str, created_gte: int | None = None, *, expand: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """`expand=["data.latest_charge.balance_transaction"]` brings each hold's deadline and each
        capture's fee in the same pages: no retrieve per payment."""
        params = {**self._created(created_gte), **({"expand": list(expand)} if expand else {})}
        return self._pages("/v1/payment_intents", params, account=account)

    # The money moves, for callers that need only the data (tests, benchmarks): services send the request
    # they built (`send(capture_request(...))`), which also tells them Stripe's request id and replay.

    def capture(self, account: str, payment_intent: str, amount_cents: int | None, *, idempotency_key: str) -> dict[str, Any]:
        return self.send(capture_request(account, payment_intent, amount_cents, idempotency_key=idempotency_key)).data

    def cancel(self, account: str, payment_intent: str, *, idempotency_key: str, reason: str | None = CANCELLATION_REASON) -> dict[str, Any]:
        return self.send(cancel_request(account, payment_intent, idempotency_key=idempotency_key, reason=reason)).data

    def refund(self, account: str, payment_intent: str, amount_cents: int | None, *, idempotency_key: str) -> dict[str, Any]:
        return self.send(refund_request(account, payment_intent, amount_cents, idempotency_key=idempotency_key)).data

    def list_refunds(self, account: str, payment_intent: str) -> list[dict[str, Any]]:
        """Every refund of a payment, newest first (shown before a second refund is confirmed)."""
        return list(self._pages("/v1/refunds", {"payment_intent": payment_intent}, account=account))

    # ------------------------------------------------------------------ balance, payouts, events

    def balance(self, account: str) -> dict[str, Any]:
        return self._get("/v1/balance", account=account)

    def list_payouts(self, account: str, limit: int = 10) -> list[dict[str, Any]]:
        """The `limit` most recent payouts (one page, newest first)."""
        page = self._get("/v1/payouts", {"limit": max(1, min(int(limit), PAGE_SIZE))}, account=account)
        return list(page.get("data") or [])

    def retrieve_payout(self, account: str, payout: str) -> dict[str, Any]:
        return self._get(f"/v1/payouts/{payout}", account=account)

    def list_payouts_arriving(self, account: str, *, arrival_gte: int, arrival_lt: int) -> Iterator[dict[str, Any]]:
        """Every payout whose `arrival_date` is in [arrival_gte, arrival_lt), newest first, 100 a page."""
        params = {"arrival_date": {"gte": int(arrival_gte), "lt": int(arrival_lt)}}
        return self._pages("/v1/payouts", params, account=account)

    def list_balance_transactions(
        self,
        account: str,
        *,
        created_gte: int | None = None,
        created_lt: int | None = None,
        payout: str | None = None,
        type: str | None = None,
        expand: list[str] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Balance transactions, newest first, 100 a page. `payout` works for automatic payouts only (Stripe
        refuses the filter for manual ones); `expand=["data.source"]` brings each one's charge, refund,
        dispute or payout in the same page, so no request per transaction is needed."""
        params = self._created(created_gte)
        if created_lt is not None:
            params.setdefault("created", {})["lt"] = int(created_lt)
        if payout:
            params["payout"] = payout
        if type:
            params["type"] = type
        if expand:
            params["expand"] = list(expand)
        return self._pages("/v1/balance_transactions", params, account=account)

    def list_disputes(
        self, account: str, *, created_gte: int | None = None, payment_intent: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """The account's disputes (newest first), each with its balance transactions (withdrawal,
        reinstatement: the dispute fee is theirs). `payment_intent`: only that payment's."""
        params = self._created(created_gte)
        if payment_intent:
            params["payment_intent"] = payment_intent
        return self._pages("/v1/disputes", params, account=account)

    # ------------------------------------------------------------------ webhook endpoints

    def create_webhook_endpoint(self, url: str, events: list[str], *, connect: bool = True,
                                description: str | None = None) -> dict[str, Any]:
        """A webhook endpoint of the platform; `connect=True` for the events of its connected accounts. The
        answer carries the signing secret (`whsec_…`), which Stripe shows at creation only."""
        params: dict[str, Any] = {"url": url, "enabled_events": list(events), "connect": connect}
        if description:
            params["description"] = description
        return self.send(StripeRequest("POST", "/v1/webhook_endpoints", params, kind=WRITE)).data

    def list_events(
        self, account: str, *, created_gte: int | None = None, types: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        params = self._created(created_gte)
        if types:
            params["types"] = list(types)
        return self._pages("/v1/events", params, account=account)


# --------------------------------------------------------------------------- webhook signatures


class BadSignature(Exception):
    """The payload does not verify: `reason` is "stale" (timestamp outside the tolerance), "signature"
    (no valid signature, or no header) or "payload" (not an event)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_event(payload: bytes, sig_header: str | None, secret: str, *, tolerance: int = 300) -> dict[str, Any]:
    """The event, once its `Stripe-Signature` verified with the endpoint's secret, by the SDK itself
    (`Webhook.construct_event`: HMAC over "t.payload", constant-time comparison, `tolerance` seconds on the
    timestamp). Raises BadSignature saying why not."""
    import stripe

    if not sig_header:
        raise BadSignature("signature")
    try:
        event = stripe.Webhook.construct_event(payload.decode("utf-8"), sig_header, secret, tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature("stale" if "tolerance" in str(exc).lower() else "signature") from None
    except (ValueError, UnicodeDecodeError):
        raise BadSignature("payload") from None
    data: dict[str, Any] = _plain(event)
    return data
