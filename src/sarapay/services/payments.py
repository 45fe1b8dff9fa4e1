"""Moving money on a consultation: capture, cancel (release a hold or close a link), refund.

Each in two steps, so the CLI can show a banner and ask between them:

    prepare_capture(ctx, consultation_id, amount_text | None) -> Plan
    prepare_cancel(ctx, consultation_id) -> Plan
    prepare_refund(ctx, consultation_id, amount_text | None) -> Plan
    execute(ctx, plan) -> dict

`prepare_*` checks everything typed locally first (nothing sent on bad input), refreshes the consultation
from Stripe (reads only; a capture skips it when the ledger already knows the hold, see `_known_hold`),
checks the state and the amounts, and returns the Plan: what will happen
(action, amount, account, practitioner) and the exact request (method, path, params, idempotency key).
`execute` sends it, then brings the ledger up to date and returns the outcome.

Guards against moving money twice, in layers:
- the idempotency key (ids.idempotency_key, deterministic) makes a retry, a re-run or a second terminal
  sending the same operation get Stripe's first answer;
- `execute` re-reads the ledger just before sending: if another command on this machine moved the
  consultation meanwhile (while this one waited for its confirmation), nothing is sent;
- from that check to the ledger write, `execute` holds a per-consultation lock (flock), so a second
  terminal waits, then finds the first one's result in the ledger and is told, instead of hearing
  "captured" from Stripe's replay of the same key;
- Stripe itself refuses a second capture (payment_intent_unexpected_state): the consultation is then
  refreshed and the refusal explained by its new state.

Capture 0 releases the whole hold: it is the same operation, with the same key, as `cancel`.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterator

from sarapay import i18n, ids, money, statuses
from sarapay.errors import BadInput, ConfigError, SarapayError, StripeRefused, StripeUnavailable
from sarapay.services import refresh
from sarapay.services.consultations import require_consultation
from sarapay.stripe_gateway import METADATA_SOURCE  # the module imports stripe only when a Gateway is built

if TYPE_CHECKING:
    from sarapay.services.context import Context

CAPTURE, CANCEL, CLOSE_LINK, REFUND = "capture", "cancel", "close_link", "refund"
# Stripe accepts duplicate, fraudulent, requested_by_customer, abandoned: a hold is released because the
# consultation is not billed (cancelled, not held, free), which the portal decides for the patient.
CANCELLATION_REASON = "requested_by_customer"
_CAPTURE_EXPAND = ["latest_charge.balance_transaction"]

i18n.register(
    {
        # capture, refused by state
        "capture.state.no_online_payment": {
            "fr": "La consultation {consultation_id} a été planifiée sans paiement en ligne : il n'y a rien à capturer.",
            "en": "Consultation {consultation_id} was planned without online payment: there is nothing to capture.",
        },
        "capture.state.incomplete": {
            "fr": "Le patient n'a pas encore laissé d'empreinte bancaire pour {consultation_id} : rien à capturer. "
            "Renvoyez-lui le lien de paiement (« sarapay pay-link {consultation_id} ») si besoin.",
            "en": "The patient has not left a card hold for {consultation_id} yet: nothing to capture. "
            "Send them the payment link again ('sarapay pay-link {consultation_id}') if needed.",
        },
        "capture.state.succeeded": {
            "fr": "La consultation {consultation_id} est déjà capturée ({captured}) : une empreinte ne se capture qu'une fois. "
            "Pour rendre de l'argent, utilisez « sarapay refund {consultation_id} ».",
            "en": "Consultation {consultation_id} is already captured ({captured}): a hold can be captured only once. "
            "To give money back, use 'sarapay refund {consultation_id}'.",
        },
        "capture.state.canceled": {
            "fr": "L'empreinte de {consultation_id} a été libérée (annulée) : il n'y a plus rien à capturer.",
            "en": "The hold of {consultation_id} was released (canceled): there is nothing left to capture.",
        },
        "capture.state.expired": {
            "fr": "L'empreinte (ou le lien de paiement) de {consultation_id} a expiré : elle ne peut plus être capturée. "
            "Émettez un nouveau lien avec « sarapay pay-link {consultation_id} ».",
            "en": "The hold (or payment link) of {consultation_id} has expired: it can no longer be captured. "
            "Issue a new link with 'sarapay pay-link {consultation_id}'.",
        },
        "capture.state.refunded": {
            "fr": "La consultation {consultation_id} a déjà été capturée ({captured}) puis remboursée : il n'y a rien à capturer.",
            "en": "Consultation {consultation_id} was already captured ({captured}) then refunded: there is nothing to capture.",
        },
        "capture.state.partially_refunded": {
            "fr": "La consultation {consultation_id} a déjà été capturée ({captured}) puis remboursée en partie : il n'y a rien à capturer.",
            "en": "Consultation {consultation_id} was already captured ({captured}) then partly refunded: there is nothing to capture.",
        },
        "capture.above_hold": {
            "fr": "Le montant {amount} est au-dessus de l'empreinte de {hold} pour {consultation_id} : capturez {hold} ou moins.",
            "en": "The amount {amount} is above the hold of {hold} for {consultation_id}: capture {hold} or less.",
        },
        "capture.too_small": {
            "fr": "Le montant {amount} est sous le minimum de Stripe ({minimum}) : capturez au moins {minimum}, "
            "ou 0 pour libérer toute l'empreinte.",
            "en": "The amount {amount} is below Stripe's minimum ({minimum}): capture at least {minimum}, "
            "or 0 to release the whole hold.",
        },
        # cancel, refused by state
        "cancel.state.no_online_payment": {
            "fr": "La consultation {consultation_id} a été planifiée sans paiement en ligne : il n'y a ni empreinte ni lien à annuler.",
            "en": "Consultation {consultation_id} was planned without online payment: there is no hold or link to cancel.",
        },
        "cancel.state.incomplete": {
            "fr": "Aucun lien de paiement n'est enregistré pour {consultation_id} : il n'y a rien à annuler chez Stripe. "
            "Émettez-le d'abord avec « sarapay pay-link {consultation_id} » si un lien a pu être créé.",
            "en": "No payment link is recorded for {consultation_id}: there is nothing to cancel on Stripe. "
            "Issue it first with 'sarapay pay-link {consultation_id}' if a link may have been created.",
        },
        "cancel.state.succeeded": {
            "fr": "La consultation {consultation_id} est déjà capturée ({captured}) : elle ne s'annule plus. "
            "Pour rendre l'argent, utilisez « sarapay refund {consultation_id} ».",
            "en": "Consultation {consultation_id} is already captured ({captured}): it can no longer be canceled. "
            "To give the money back, use 'sarapay refund {consultation_id}'.",
        },
        "cancel.state.canceled": {
            "fr": "La consultation {consultation_id} est déjà annulée : rien à faire.",
            "en": "Consultation {consultation_id} is already canceled: nothing to do.",
        },
        "cancel.state.expired": {
            "fr": "L'empreinte (ou le lien de paiement) de {consultation_id} a déjà expiré : il n'y a plus rien à libérer.",
            "en": "The hold (or payment link) of {consultation_id} has already expired: there is nothing left to release.",
        },
        "cancel.state.refunded": {
            "fr": "La consultation {consultation_id} a été capturée puis remboursée : elle ne s'annule plus.",
            "en": "Consultation {consultation_id} was captured then refunded: it can no longer be canceled.",
        },
        "cancel.state.partially_refunded": {
            "fr": "La consultation {consultation_id} a été capturée puis remboursée en partie : elle ne s'annule plus. "
            "Pour rendre le reste, utilisez « sarapay refund {consultation_id} ».",
            "en": "Consultation {consultation_id} was captured then partly refunded: it can no longer be canceled. "
            "To give the rest back, use 'sarapay refund {consultation_id}'.",
        },
        # refund, refused by state
        "refund.state.no_online_payment": {
            "fr": "La consultation {consultation_id} a été planifiée sans paiement en ligne : il n'y a rien à rembourser.",
            "en": "Consultation {consultation_id} was planned without online payment: there is nothing to refund.",
        },
        "refund.state.incomplete": {
            "fr": "Le patient n'a rien payé pour {consultation_id} (paiement incomplet) : il n'y a rien à rembourser.",
            "en": "The patient has paid nothing for {consultation_id} (incomplete payment): there is nothing to refund.",
        },
        "refund.state.uncaptured": {
            "fr": "L'empreinte de {consultation_id} n'est pas capturée : rien n'a été débité. "
            "Pour la libérer, utilisez « sarapay cancel {consultation_id} ».",
            "en": "The hold of {consultation_id} is not captured: nothing was charged. "
            "To release it, use 'sarapay cancel {consultation_id}'.",
        },
        "refund.state.canceled": {
            "fr": "La consultation {consultation_id} a été annulée sans être débitée : il n'y a rien à rembourser.",
            "en": "Consultation {consultation_id} was canceled without being charged: there is nothing to refund.",
        },
        "refund.state.expired": {
            "fr": "L'empreinte de {consultation_id} a expiré sans être capturée : rien n'a été débité, rien à rembourser.",
            "en": "The hold of {consultation_id} expired without being captured: nothing was charged, nothing to refund.",
        },
        "refund.state.refunded": {
            "fr": "La consultation {consultation_id} est déjà entièrement remboursée ({refunded}) : il ne reste rien à rembourser.",
            "en": "Consultation {consultation_id} is already fully refunded ({refunded}): there is nothing left to refund.",
        },
        "refund.zero": {
            "fr": "Un remboursement de 0 ne fait rien : indiquez le montant à rembourser, ou rien pour tout ce qui reste ({remaining}).",
            "en": "A refund of 0 does nothing: give the amount to refund, or none for all that remains ({remaining}).",
        },
        "refund.above_remaining": {
            "fr": "Le montant {amount} dépasse ce qui reste remboursable pour {consultation_id} : {remaining} "
            "(encaissé {captured}, déjà remboursé {refunded}). Indiquez {remaining} ou moins.",
            "en": "The amount {amount} is more than what can still be refunded for {consultation_id}: {remaining} "
            "(captured {captured}, already refunded {refunded}). Give {remaining} or less.",
        },
        "payments.outcome_unknown.refund": {
            "fr": "Stripe n'a pas répondu à temps, même après plusieurs tentatives : on ne sait pas si le remboursement de "
            "{amount} sur {consultation_id} a eu lieu. Vérifiez d'abord avec « sarapay status {consultation_id} --refresh » "
            "et ne relancez que s'il n'y apparaît pas (sinon le patient serait remboursé deux fois).",
            "en": "Stripe did not answer in time, even after several attempts: whether the refund of {amount} on "
            "{consultation_id} happened is unknown. Check first with 'sarapay status {consultation_id} --refresh' and run it "
            "again only if it does not show there (otherwise the patient would be refunded twice).",
        },
        "payments.moved": {
            "fr": "La consultation {consultation_id} a changé entre-temps (maintenant « {label} ») : rien n'a été fait. "
            "Relancez la commande pour repartir de son nouvel état.",
            "en": "Consultation {consultation_id} changed meanwhile (now “{label}”): nothing was done. "
            "Run the command again to start from its new state.",
        },
        "payments.busy": {
            "fr": "Une autre commande sarapay agit sur {consultation_id} depuis plus de {seconds} s : rien n'a été envoyé. "
            "Vérifiez avec « sarapay status {consultation_id} --refresh » puis relancez si besoin.",
            "en": "Another sarapay command has been acting on {consultation_id} for more than {seconds} s: nothing was sent. "
            "Check with 'sarapay status {consultation_id} --refresh' then run it again if needed.",
        },
        "payments.ledger_behind": {
            "fr": "Stripe a bien effectué l'opération sur {consultation_id} ({action}, {amount}), mais le registre local "
            "n'a pas pu l'enregistrer : {reason} Une fois corrigé, lancez « sarapay status {consultation_id} --refresh » "
            "(ne relancez pas la commande : c'est fait).",
            "en": "Stripe did perform the operation on {consultation_id} ({action}, {amount}), but the local ledger could "
            "not record it: {reason} Once fixed, run 'sarapay status {consultation_id} --refresh' (do not run the command "
            "again: it is done).",
        },
        "payments.outcome_unknown": {
            "fr": "Stripe n'a pas répondu à temps, même après plusieurs tentatives : on ne sait pas si l'opération sur "
            "{consultation_id} a eu lieu. Vérifiez avec « sarapay status {consultation_id} --refresh » ; relancer la même "
            "commande est sans risque (même clé d'idempotence, l'argent ne bouge jamais deux fois).",
            "en": "Stripe did not answer in time, even after several attempts: whether the operation on {consultation_id} "
            "happened is unknown. Check with 'sarapay status {consultation_id} --refresh'; re-running the same command is "
            "safe (same idempotency key, money never moves twice).",
        },
    }
)


@dataclass(frozen=True)
class Plan:
    """What a money command will do, checked and ready to send."""

    action: str  # CAPTURE, CANCEL (release a hold), CLOSE_LINK (expire an open checkout), REFUND
    command: str  # the command asked for: capture (also for capture 0), cancel, refund
    consultation: dict[str, Any]  # the ledger row, just refreshed from Stripe
    practitioner: dict[str, Any] | None
    account_id: str
    amount_cents: int  # what moves: captured, released, refunded (0 when closing a link)
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)  # the form as sent, for --dry-run
    idempotency_key: str = ""

    @property
    def consultation_id(self) -> str:
        return self.consultation["id"]

    @property
    def state(self) -> str:
        return self.consultation["state"]


def _fmt(cents: int | None) -> str:
    return money.format_amount(int(cents or 0))


def _state_error(cls: type[SarapayError], command: str, row: dict[str, Any]) -> SarapayError:
    """Why `command` cannot act on the consultation in its state: a sentence per state, else a general one."""
    key = f"{command}.state.{row['state']}"
    if key not in i18n.catalog():
        key = "payments.moved"
    return cls(
        key,
        consultation_id=row["id"],
        captured=_fmt(row.get("captured_cents")),
        refunded=_fmt(row.get("refunded_cents")),
        label=statuses.label(row["state"]),
    )


def _load(ctx: Context, consultation_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    row = require_consultation(ctx, consultation_id)
    return row, ctx.ledger.get_practitioner(row["rpps"])


def _refreshed(ctx: Context, row: dict[str, Any], command: str) -> dict[str, Any]:
    if not row["paid_online"]:
        raise _state_error(BadInput, command, row)
    return refresh.refresh_consultation(ctx, row)


def _known_hold(row: dict[str, Any]) -> bool:
    """An uncaptured hold the ledger knows in full, still before its deadline: capture it without reading first.

    This keeps a capture to one Stripe request. It is safe: a hold cannot grow, so the amount check holds;
    and if the hold moved meanwhile (captured elsewhere, expired), Stripe refuses the capture and `execute`
    refreshes the consultation and explains the refusal by its new state.
    """
    return bool(
        row["paid_online"]
        and row["state"] == statuses.UNCAPTURED
        and row.get("payment_intent_id")
        and row.get("authorised_cents")
        and row.get("capture_before")
        and int(row["capture_before"]) > refresh.now()
    )


def _release_plan(command: str, row: dict[str, Any], practitioner: dict[str, Any] | None) -> Plan:
    pi = row["payment_intent_id"]
    return Plan(
        action=CANCEL, command=command, consultation=row, practitioner=practitioner, account_id=row["account_id"],
        amount_cents=int(row["authorised_cents"]), method="POST", path=f"/v1/payment_intents/{pi}/cancel",
        params={"cancellation_reason": CANCELLATION_REASON, "expand": list(_CAPTURE_EXPAND)},
        idempotency_key=ids.idempotency_key("cancel", row["id"], pi),
    )


def prepare_capture(ctx: Context, consultation_id: str, amount_text: str | None = None) -> Plan:
    """Capture `amount_text` (default: the whole hold; 0: release it all) on an uncaptured consultation."""
    ids.normalize_consultation_id(consultation_id)  # a bad id is refused before anything is opened
    amount = money.parse_amount(amount_text) if amount_text is not None else None
    if amount is not None and 0 < amount < money.MIN_CHARGE:
        raise BadInput("capture.too_small", amount=_fmt(amount), minimum=_fmt(money.MIN_CHARGE))
    row, practitioner = _load(ctx, consultation_id)
    if not _known_hold(row):
        row = _refreshed(ctx, row, CAPTURE)
    if row["state"] != statuses.UNCAPTURED:
        raise _state_error(BadInput, CAPTURE, row)
    hold = int(row["authorised_cents"])
    if amount == 0:
        return _release_plan(CAPTURE, row, practitioner)
    if amount is None:
        amount = hold
    if amount > hold:
        raise BadInput("capture.above_hold", amount=_fmt(amount), hold=_fmt(hold), consultation_id=row["id"])
    pi = row["payment_intent_id"]
    return Plan(
        action=CAPTURE, command=CAPTURE, consultation=row, practitioner=practitioner, account_id=row["account_id"],
        amount_cents=amount, method="POST", path=f"/v1/payment_intents/{pi}/capture",
        params={"amount_to_capture": amount, "expand": list(_CAPTURE_EXPAND)},
        idempotency_key=ids.idempotency_key("capture", row["id"], pi, amount),
    )


def prepare_cancel(ctx: Context, consultation_id: str) -> Plan:
    """Release the hold of an uncaptured consultation, or close the open payment link of an incomplete one."""
    ids.normalize_consultation_id(consultation_id)
    row, practitioner = _load(ctx, consultation_id)
    row = _refreshed(ctx, row, CANCEL)
    if row["state"] == statuses.UNCAPTURED:
        return _release_plan(CANCEL, row, practitioner)
    if row["state"] == statuses.INCOMPLETE and row.get("checkout_session_id"):
        session = row["checkout_session_id"]
        return Plan(
            action=CLOSE_LINK, command=CANCEL, consultation=row, practitioner=practitioner,
            account_id=row["account_id"], amount_cents=0, method="POST",
            path=f"/v1/checkout/sessions/{session}/expire", params={},
            idempotency_key=ids.idempotency_key("expire", row["id"], session),
        )
    raise _state_error(BadInput, CANCEL, row)


def prepare_refund(ctx: Context, consultation_id: str, amount_text: str | None = None) -> Plan:
    """Refund `amount_text` (default: all that remains) of a captured consultation."""
    ids.normalize_consultation_id(consultation_id)
    amount = money.parse_amount(amount_text) if amount_text is not None else None
    row, practitioner = _load(ctx, consultation_id)
    row = _refreshed(ctx, row, REFUND)
    if row["state"] not in (statuses.SUCCEEDED, statuses.PARTIALLY_REFUNDED):
        raise _state_error(BadInput, REFUND, row)
    captured, refunded = int(row["captured_cents"]), int(row["refunded_cents"])
    remaining = captured - refunded
    if amount == 0:
        raise BadInput("refund.zero", remaining=_fmt(remaining))
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise BadInput(
            "refund.above_remaining", amount=_fmt(amount), remaining=_fmt(remaining), captured=_fmt(captured),
            refunded=_fmt(refunded), consultation_id=row["id"],
        )
    pi = row["payment_intent_id"]
    return Plan(
        action=REFUND, command=REFUND, consultation=row, practitioner=practitioner, account_id=row["account_id"],
        amount_cents=amount, method="POST", path="/v1/refunds",
        params={"payment_intent": pi, "amount": amount, "metadata": {METADATA_SOURCE: "1"}},
        # What was refunded so far tells two identical partial refunds apart; a retry sends the same key.
        idempotency_key=ids.idempotency_key("refund", row["id"], pi, refunded, amount),
    )


# Test hook (tests/reliability): the process dies right here, after Stripe answered and before the ledger
# knows, as a `kill -9` or a power cut would do it. `status --refresh` and `reconcile` must then heal the row.
TEST_CRASH_ENV = "SARAPAY_TEST_CRASH_AFTER"


def _crash_point(name: str) -> None:
    if os.environ.get(TEST_CRASH_ENV) == name:
        os._exit(137)


LOCK_WAIT_SECONDS = 120  # longer than a Stripe call with its retries (30 s timeout, 2 retries)


@contextmanager
def _exclusive(ctx: Context, consultation_id: str) -> Iterator[None]:
    """One money command at a time per consultation on this machine, from the ledger check to the ledger write.

    Without it, two terminals capturing the same amount both pass the ledger check, send the same
    idempotency key, and both hear "captured" (the second one a replay). With it the second waits, then
    reads the first one's result in the ledger and is told it was already captured. An flock is released by
    the kernel when its process dies, so a killed command never leaves a stale lock behind."""
    try:
        import fcntl
    except ImportError:  # not POSIX: Stripe's idempotency alone guards the money
        yield
        return
    ledger = ctx.ledger
    if ledger.read_only:  # refused before anything moves: the ledger could not record what Stripe did
        raise ConfigError("ledger.read_only", path=str(ledger.path))
    folder = ledger.path.parent / "locks"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(folder / f"{consultation_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError("ledger.unreadable", path=str(folder), reason=exc.strerror or type(exc).__name__) from None
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BadInput("payments.busy", consultation_id=consultation_id, seconds=LOCK_WAIT_SECONDS) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock


def _send(ctx: Context, plan: Plan) -> dict[str, Any] | None:
    gateway, account = ctx.gateway, plan.account_id
    row = plan.consultation
    if plan.action == CAPTURE:
        return gateway.capture(account, row["payment_intent_id"], plan.amount_cents, idempotency_key=plan.idempotency_key)
    if plan.action == CANCEL:
        return gateway.cancel(
            account, row["payment_intent_id"], idempotency_key=plan.idempotency_key, reason=CANCELLATION_REASON
        )
    if plan.action == REFUND:
        gateway.refund(account, row["payment_intent_id"], plan.amount_cents, idempotency_key=plan.idempotency_key)
        return None
    if plan.action == CLOSE_LINK:
        gateway.expire_checkout_session(account, row["checkout_session_id"], idempotency_key=plan.idempotency_key)
        return None
    raise ValueError(plan.action)


def execute(ctx: Context, plan: Plan) -> dict[str, Any]:
    """Sends the planned request and brings the ledger up to date.

    Returns {"action", "consultation" (the row after), "amount_cents", "request_id", "replayed",
    "refresh_failed"}. Raises BadInput when the consultation moved since the plan (nothing sent),
    StripeRefused when Stripe refuses (the consultation refreshed, the refusal explained by its state),
    StripeUnavailable ("payments.outcome_unknown") when Stripe did not answer: money may have moved."""
    with _exclusive(ctx, plan.consultation_id):
        return _execute(ctx, plan)


def _execute(ctx: Context, plan: Plan) -> dict[str, Any]:
    cid = plan.consultation_id
    current = ctx.ledger.get_consultation(cid)
    if current is None or current["state"] != plan.state:
        raise _state_error(BadInput, plan.command, current or plan.consultation)
    if plan.action == CLOSE_LINK:
        # Said before asking Stripe: the session that expires now was closed on purpose (« Annulé »).
        if not ctx.ledger.update_if_state(cid, plan.state, closed_on_purpose=True):
            raise _state_error(BadInput, plan.command, ctx.ledger.get_consultation(cid) or plan.consultation)
    gateway = ctx.gateway
    try:
        payment_intent = _send(ctx, plan)
    except StripeUnavailable as exc:
        if not getattr(exc, "outcome_unknown", True):
            raise
        # A capture or a cancel re-run is refused once Stripe shows it done; a second identical partial refund
        # is a new refund (its key counts what was refunded so far), so a refund must be checked first.
        key = "payments.outcome_unknown.refund" if plan.action == REFUND else "payments.outcome_unknown"
        error = StripeUnavailable(key, consultation_id=cid, amount=_fmt(plan.amount_cents))
        for name in ("stripe_code", "http_status", "request_id", "outcome_unknown"):
            setattr(error, name, getattr(exc, name, None))
        raise error from None
    except StripeRefused as exc:
        if plan.action == CLOSE_LINK:
            ctx.ledger.update_consultation(cid, closed_on_purpose=False)
        try:
            after = refresh.refresh_consultation(ctx, ctx.ledger.get_consultation(cid) or plan.consultation)
        except SarapayError:
            raise exc from None
        if after["state"] != plan.state:
            moved = _state_error(StripeRefused, plan.command, after)
            moved.stripe_code = getattr(exc, "stripe_code", None)  # type: ignore[attr-defined]
            raise moved from None
        raise
    _crash_point("stripe")
    try:
        return _record(ctx, plan, payment_intent)
    except ConfigError as exc:  # disk full, file gone read-only...: the money moved, our copy is behind
        raise ConfigError(
            "payments.ledger_behind", consultation_id=cid, action=plan.action, amount=_fmt(plan.amount_cents),
            reason=exc.message,
        ) from exc


def _record(ctx: Context, plan: Plan, payment_intent: dict[str, Any] | None) -> dict[str, Any]:
    """Brings the ledger up to date after Stripe answered; returns execute's result."""
    cid, gateway = plan.consultation_id, ctx.gateway
    request_id, replayed = gateway.last_request_id, gateway.last_replayed
    row = ctx.ledger.get_consultation(cid) or plan.consultation
    refresh_failed = False
    if payment_intent is not None:
        # Capture and cancel answer with the PaymentIntent (capture: charge and fee expanded): no extra call.
        row = refresh.apply_stripe_state(ctx.ledger, row, None, payment_intent, refresh.now())
    else:
        try:
            row = refresh.refresh_consultation(ctx, row)
        except SarapayError:
            refresh_failed = True  # the money moved; only our copy is behind (status --refresh catches up)
        # The audit row names the request that moved money, not the reads after it.
        gateway.last_request_id, gateway.last_replayed = request_id, replayed
    return {
        "action": plan.action,
        "consultation": row,
        "amount_cents": plan.amount_cents,
        "request_id": request_id,
        "replayed": replayed,
        "refresh_failed": refresh_failed,
    }
