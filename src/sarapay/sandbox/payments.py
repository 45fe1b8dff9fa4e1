"""PaymentIntents, Charges and Refunds with manual capture (docs/stripe-behaviour.md).

The authorised charge is `succeeded`/`paid` but not captured and has no balance transaction; money
only moves at capture. A partial capture releases the rest as a Refund without balance transaction.
"""

from __future__ import annotations

import time
from typing import Any, overload

from . import balances, disputes
from .connect import require_card_payments
from .events import changed, emit
from .expand import virtual
from .framework import ROUTER, Request, Store, StripeError, int_param, param_missing, unknown_params
from .listing import equal_filter, paginate
from .metadata import metadata_param
from .search import search

DAY = 86400
HOLD_DAYS = 7  # online customer-initiated card authorisations (docs/stripe-behaviour.md)
MAX_AMOUNT = 99999999
MINIMUMS = {"eur": 50, "usd": 50, "gbp": 30, "chf": 50}
SYMBOLS = {"eur": "€", "usd": "$", "gbp": "£"}
CANCEL_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")
CANCELABLE = ("requires_payment_method", "requires_capture", "requires_confirmation", "requires_action", "processing")
REFUND_REASONS = ("duplicate", "fraudulent", "requested_by_customer")

# Stripe's test cards: number -> (brand, decline code or None)
CARDS = {
    "4242424242424242": ("visa", None),
    "4000056655665556": ("visa", None),
    "4000002500000003": ("visa", None),
    "5555555555554444": ("mastercard", None),
    "378282246310005": ("amex", None),
    "4000000000000002": ("visa", "generic_decline"),
    "4000000000009995": ("visa", "insufficient_funds"),
    "4000000000009987": ("visa", "lost_card"),
    "4000000000009979": ("visa", "stolen_card"),
    "4000000000000069": ("visa", "expired_card"),
    "4000000000000127": ("visa", "incorrect_cvc"),
    "4000000000000119": ("visa", "processing_error"),
    # Disputed once captured (disputes.CARDS).
    "4000000000000259": ("visa", None),
    "4000000000002685": ("visa", None),
    "4000000000001976": ("visa", None),
}
TEST_PAYMENT_METHODS = {
    "pm_card_visa": "4242424242424242",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    **disputes.TEST_PAYMENT_METHODS,
}
DECLINE_MESSAGES = {
    "generic_decline": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "lost_card": "Your card was declined.",
    "stolen_card": "Your card was declined.",
    "expired_card": "Your card has expired.",
    "incorrect_cvc": "Your card's security code is incorrect.",
    "processing_error": "An error occurred while processing your card. Try again in a little bit.",
}
DECLINE_CODES = {"expired_card": "expired_card", "incorrect_cvc": "incorrect_cvc", "processing_error": "processing_error"}


# --------------------------------------------------------------------------- parameter helpers


def money(amount: int, currency: str) -> str:
    return f"{SYMBOLS.get(currency, '')}{amount / 100:,.2f}"


def check_amount(amount: int, currency: str, param: str = "amount") -> None:
    minimum = MINIMUMS.get(currency, 50)
    if amount < minimum:
        raise StripeError(400, f"Amount must be at least {money(minimum, currency)} {currency}",
                          code="amount_too_small", param=param)
    if amount > MAX_AMOUNT:
        raise StripeError(400, f"Amount must be no more than {money(MAX_AMOUNT, currency)} {currency}",
                          code="amount_too_large", param=param)


@overload
def enum_param(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str) -> str: ...
@overload
def enum_param(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: None = None) -> str | None: ...
def enum_param(params: dict[str, Any], name: str, allowed: tuple[str, ...], default: str | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        choices = ", ".join(allowed[:-1]) + f", or {allowed[-1]}" if len(allowed) > 1 else allowed[0]
        raise StripeError(400, f"Invalid {name}: must be one of {choices}", code="parameter_invalid", param=name)
    return str(value)


def is_direct(req: Request) -> bool:
    """A direct charge: the request acts on a connected account through Stripe-Account."""
    return bool(req.stripe_account) and req.platform is not None and req.stripe_account != req.platform.account_id


def application_fee_param(req: Request, params: dict[str, Any], name: str, param: str) -> int | None:
    fee = int_param(params, name)
    if fee is None:
        return None
    if not is_direct(req):
        raise StripeError(400, "Can only apply an application_fee_amount when the PaymentIntent is attempting a "
                          "direct payment (using an OAuth key or Stripe-Account header) or destination payment "
                          "(using `transfer_data[destination]`).", param=param)
    if fee < 0:
        raise StripeError(400, "Invalid non-negative integer", code="parameter_invalid_integer", param=param)
    return fee


# --------------------------------------------------------------------------- objects


def new_payment_intent(store: Store, acct: str, *, amount: int, currency: str, capture_method: str = "automatic",
                       metadata: dict[str, str] | None = None, description: str | None = None,
                       statement_descriptor: str | None = None, statement_descriptor_suffix: str | None = None,
                       application_fee_amount: int | None = None, receipt_email: str | None = None,
                       request: Any = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    pi_id = store.new_id("pi_")
    pi = store.add(acct, {
        "id": pi_id, "object": "payment_intent", "amount": amount, "amount_capturable": 0,
        "amount_details": {"tip": {}}, "amount_received": 0, "application": None,
        "application_fee_amount": application_fee_amount, "automatic_payment_methods": None, "canceled_at": None,
        "cancellation_reason": None, "capture_method": capture_method,
        "client_secret": f"{pi_id}_secret_{store.new_id('', 25)}", "confirmation_method": "automatic",
        "currency": currency, "customer": None, "description": description, "last_payment_error": None,
        "latest_charge": None, "livemode": False, "metadata": metadata or {}, "next_action": None,
        "on_behalf_of": None, "payment_method": None, "payment_method_configuration_details": None,
        "payment_method_options": {"card": {"installments": None, "mandate_options": None, "network": None,
                                            "request_three_d_secure": "automatic"}},
        "payment_method_types": ["card"], "processing": None, "receipt_email": receipt_email, "review": None,
        "setup_future_usage": None, "shipping": None,
        "statement_descriptor": statement_descriptor, "statement_descriptor_suffix": statement_descriptor_suffix,
        "status": "requires_payment_method", "transfer_data": None, "transfer_group": None, **(extra or {}),
    })
    emit(store, acct, "payment_intent.created", pi, request=request)
    return pi


def card_for(number: str) -> tuple[str, str | None]:
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits in CARDS:
        return CARDS[digits]
    if not _luhn(digits) or not 13 <= len(digits) <= 19:
        raise StripeError(400, "Your card number is incorrect.", code="incorrect_number", param="card")
    brand = {"4": "visa", "5": "mastercard", "3": "amex"}.get(digits[0], "unknown")
    return brand, None


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return bool(digits) and total % 10 == 0


def _payment_method(store: Store, acct: str, number: str, brand: str, email: str | None) -> dict[str, Any]:
    digits = "".join(ch for ch in number if ch.isdigit())
    card = {"brand": brand, "country": "FR" if digits == "4000002500000003" else "US", "exp_month": 12,
            "exp_year": time.gmtime(store.now()).tm_year + 3, "funding": "credit", "last4": digits[-4:],
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "fingerprint": store.new_id("", 16), "networks": {"available": [brand], "preferred": None},
            "wallet": None}
    return store.add(acct, {
        "id": store.new_id("pm_"), "object": "payment_method", "type": "card", "card": card, "customer": None,
        "livemode": False, "metadata": {},
        "billing_details": {"address": None, "email": email, "name": None, "phone": None},
    })


def authorize(store: Store, pi: dict[str, Any], number: str, *, email: str | None = None,
              request: Any = None) -> str | None:
    """Play a card on a PaymentIntent. Returns the decline code, or None when authorised."""
    acct = pi["_account"]
    brand, decline = card_for(number)
    pm = _payment_method(store, acct, number, brand, email)
    now = store.now()
    card_details = {k: pm["card"][k] for k in ("brand", "country", "exp_month", "exp_year", "funding", "last4",
                                               "checks", "fingerprint", "wallet")}
    card_details.update({"network": brand, "three_d_secure": None, "installments": None, "mandate": None})
    if not decline:
        # An integer in the spec, never null: a declined charge has no hold, so no deadline at all.
        card_details["capture_before"] = now + HOLD_DAYS * DAY
    outcome = ({"network_status": "approved_by_network", "reason": None, "risk_level": "normal", "risk_score": 20,
                "seller_message": "Payment complete.", "type": "authorized"} if not decline else
               {"network_status": "declined_by_network", "reason": decline, "risk_level": "normal",
                "risk_score": 20, "type": "issuer_declined",
                "seller_message": "The bank did not return any further details with this decline."})
    charge = store.add(acct, {
        "id": store.new_id("ch_"), "object": "charge", "amount": pi["amount"], "amount_captured": 0,
        "amount_refunded": 0, "application": None, "application_fee": None, "application_fee_amount": None,
        "balance_transaction": None, "billing_details": pm["billing_details"],
        "calculated_statement_descriptor": (pi.get("statement_descriptor") or "SARAPAY")[:22], "captured": False,
        "created": now, "currency": pi["currency"], "customer": None, "description": pi.get("description"),
        "disputed": False, "failure_balance_transaction": None,
        "failure_code": DECLINE_CODES.get(decline, "card_declined") if decline else None,
        "failure_message": DECLINE_MESSAGES.get(decline) if decline else None, "fraud_details": {},
        "livemode": False, "metadata": dict(pi.get("metadata") or {}), "on_behalf_of": None, "outcome": outcome,
        "paid": not decline, "payment_intent": pi["id"], "payment_method": pm["id"],
        "payment_method_details": {"card": card_details, "type": "card"}, "receipt_email": pi.get("receipt_email"),
        "receipt_number": None, "receipt_url": None, "refunded": False, "review": None, "shipping": None,
        "source_transfer": None, "statement_descriptor": pi.get("statement_descriptor"),
        "statement_descriptor_suffix": pi.get("statement_descriptor_suffix"),
        "status": "failed" if decline else "succeeded", "transfer_data": None, "transfer_group": None,
        "_released": 0,
    })
    disputes.schedule(store, charge, number)
    if decline:
        error = {"charge": charge["id"], "code": DECLINE_CODES.get(decline, "card_declined"),
                 "decline_code": decline, "doc_url": "https://stripe.com/docs/error-codes/card-declined",
                 "message": DECLINE_MESSAGES.get(decline, "Your card was declined."),
                 "payment_method": pm, "type": "card_error"}
        changed(pi, last_payment_error=error, latest_charge=charge["id"], payment_method=None,
                status="requires_payment_method")
        emit(store, acct, "charge.failed", charge, request=request)
        emit(store, acct, "payment_intent.payment_failed", pi, request=request)
        return decline
    changed(pi, last_payment_error=None, latest_charge=charge["id"], payment_method=pm["id"],
            status="requires_capture", amount_capturable=pi["amount"])
    emit(store, acct, "charge.succeeded", charge, request=request)
    emit(store, acct, "payment_intent.amount_capturable_updated", pi, request=request)
    return None


def _release(store: Store, charge: dict[str, Any], amount: int, request: Any) -> dict[str, Any]:
    """Give back an uncaptured part of a hold: a Refund with no balance transaction (docs/stripe-behaviour.md)."""
    refund = _new_refund(store, charge, amount, None, {}, None)
    charge["_released"] = charge.get("_released", 0) + amount
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    return refund


def _new_refund(store: Store, charge: dict[str, Any], amount: int, reason: str | None, metadata: dict[str, str],
                txn_id: str | None) -> dict[str, Any]:
    return store.add(charge["_account"], {
        "id": store.new_id("re_"), "object": "refund", "amount": amount, "balance_transaction": txn_id,
        "charge": charge["id"], "currency": charge["currency"],
        "destination_details": {"card": {"reference_status": "pending", "reference_type": "acquirer_reference_number",
                                         "type": "refund"}, "type": "card"},
        "metadata": metadata, "payment_intent": charge["payment_intent"], "reason": reason, "receipt_number": None,
        "source_transfer_reversal": None, "status": "succeeded", "transfer_reversal": None,
    })


def unexpected_state(pi: dict[str, Any], action: str) -> StripeError:
    if action == "capture":
        message = (f"This PaymentIntent could not be captured because it has a status of {pi['status']}. "
                   "Only a PaymentIntent with one of the following statuses may be captured: requires_capture.")
    else:
        message = (f"You cannot cancel this PaymentIntent because it has a status of {pi['status']}. Only a "
                   "PaymentIntent with one of the following statuses may be canceled: " + ", ".join(CANCELABLE) + ".")
    return StripeError(400, message, code="payment_intent_unexpected_state", extra={"payment_intent": pi})


def capture(store: Store, req: Request | None, pi: dict[str, Any], amount: int | None,
            app_fee: int | None = None) -> dict[str, Any]:
    if pi["status"] != "requires_capture":
        raise unexpected_state(pi, "capture")
    amount = pi["amount_capturable"] if amount is None else amount
    if amount > pi["amount_capturable"]:
        raise StripeError(400, "The payment could not be captured because the requested capture amount is greater "
                          "than the authorized amount. If you are trying to collect a tip or over-capture, your "
                          "account might not be configured for those features. Contact us via "
                          "https://support.stripe.com/contact/", code="amount_too_large", param="amount_to_capture",
                          extra={"payment_intent": pi})
    check_amount(amount, pi["currency"], "amount_to_capture")
    fee = pi.get("application_fee_amount") if app_fee is None else app_fee
    if fee is not None and fee > amount:
        raise StripeError(400, f"The application_fee_amount ({fee}) must be less than or equal to the amount "
                          f"captured ({amount}).", param="application_fee_amount", extra={"payment_intent": pi})
    acct = pi["_account"]
    charge = store.get(acct, pi["latest_charge"], "charge")
    application = req.platform.client_id if req is not None and req.platform else None
    fee_obj = balances.application_fee(store, req, charge, fee) if fee and req is not None else None
    txn = balances.charge_txn(store, acct, charge, amount, fee, application)
    charge.update(captured=True, amount_captured=amount, balance_transaction=txn["id"],
                  application_fee=fee_obj["id"] if fee_obj else None, application_fee_amount=fee)
    if amount < charge["amount"]:
        _release(store, charge, charge["amount"] - amount, req)
    pi.update(status="succeeded", amount_capturable=0, amount_received=amount, application_fee_amount=fee)
    session = store.find(acct, pi["_checkout_session"]) if pi.get("_checkout_session") else None
    if session is not None:
        session["payment_status"] = "paid"  # the funds are now in the account (docs/stripe-behaviour.md)
    disputes.captured(store, charge)
    emit(store, acct, "charge.captured", charge, request=req)
    emit(store, acct, "payment_intent.succeeded", pi, request=req)
    return pi


def cancel(store: Store, pi: dict[str, Any], reason: str | None, request: Any, *, when: int | None = None) -> None:
    """Cancel, releasing an authorised hold (the charge is then fully refunded, without money moving)."""
    acct = pi["_account"]
    pi.update(status="canceled", canceled_at=when or store.now(), cancellation_reason=reason, amount_capturable=0)
    if pi.get("latest_charge"):
        charge = store.find(acct, pi["latest_charge"])
        if charge and charge["status"] == "succeeded" and not charge["captured"]:
            _release(store, charge, charge["amount"] - charge["amount_refunded"], request)
            event = "charge.expired" if reason == "automatic" else "charge.refunded"
            emit(store, acct, event, charge, request=request)
    emit(store, acct, "payment_intent.canceled", pi, request=request)


def refund(store: Store, req: Request, charge: dict[str, Any], amount: int | None, reason: str | None,
           metadata: dict[str, str]) -> dict[str, Any]:
    if charge["status"] != "succeeded" or not charge["captured"]:
        if charge["status"] == "succeeded":
            raise StripeError(400, f"Charge {charge['id']} has not been captured: cancel the PaymentIntent to "
                              "release the authorization instead.", code="charge_not_refundable", param="charge")
        raise StripeError(400, "This PaymentIntent does not have a successful charge to refund.",
                          param="payment_intent")
    if disputes.blocks_refund(store, charge):
        raise StripeError(400, f"Charge {charge['id']} has been charged back; cannot issue a refund.",
                          code="charge_disputed", param="charge")
    refundable = charge["amount_captured"] - (charge["amount_refunded"] - charge.get("_released", 0))
    if refundable <= 0:
        raise StripeError(400, f"Charge {charge['id']} has already been refunded.", code="charge_already_refunded",
                          param="charge")
    amount = refundable if amount is None else amount
    if amount <= 0:
        raise StripeError(400, "Invalid positive integer", code="parameter_invalid_integer", param="amount")
    if amount > refundable:
        raise StripeError(400, f"Refund amount ({money(amount, charge['currency'])}) is greater than unrefunded "
                          f"amount on charge ({money(refundable, charge['currency'])})", code="amount_too_large",
                          param="amount")
    acct = charge["_account"]
    charge_txn = store.find(acct, charge["balance_transaction"]) or {}
    # A refund draws on the charge's funds: while they are pending, so is the refund.
    txn = balances.add_txn(store, acct, type="refund", amount=-amount, currency=charge["currency"], source=None,
                           available_on=max(store.now(), charge_txn.get("available_on", 0)),
                           description="REFUND FOR CHARGE")
    re = _new_refund(store, charge, amount, reason, metadata, txn["id"])
    txn["source"] = re["id"]
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    emit(store, acct, "refund.created", re, request=req)
    emit(store, acct, "charge.refunded", charge, request=req)
    return re


# --------------------------------------------------------------------------- API: PaymentIntents

PI_CREATE = {"amount", "currency", "capture_method", "metadata", "description", "statement_descriptor",
             "statement_descriptor_suffix", "application_fee_amount", "receipt_email", "payment_method_types",
             "confirm", "payment_method", "automatic_payment_methods", "customer", "return_url"}


@ROUTER.route("POST", "/v1/payment_intents")
def create_payment_intent(req: Request) -> Any:
    p = req.params
    unknown_params(p, PI_CREATE)
    amount = int_param(p, "amount", required=True)
    currency = (p.get("currency") or "").lower()
    if not currency:
        raise param_missing("currency")
    assert amount is not None
    check_amount(amount, currency)
    require_card_payments(req)
    pi = new_payment_intent(
        req.store, req.account, amount=amount, currency=currency,
        capture_method=enum_param(p, "capture_method", ("automatic", "automatic_async", "manual"), "automatic_async"),
        metadata=metadata_param(p.get("metadata")), description=p.get("description") or None,
        statement_descriptor=p.get("statement_descriptor") or None,
        statement_descriptor_suffix=p.get("statement_descriptor_suffix") or None,
        application_fee_amount=application_fee_param(req, p, "application_fee_amount", "application_fee_amount"),
        receipt_email=p.get("receipt_email") or None, request=req)
    if p.get("confirm") == "true":
        pm = p.get("payment_method") or ""
        if pm not in TEST_PAYMENT_METHODS:
            raise StripeError(400, f"No such PaymentMethod: '{pm}'", code="resource_missing", param="payment_method")
        decline = authorize(req.store, pi, TEST_PAYMENT_METHODS[pm], request=req)
        if decline:
            err = dict(pi["last_payment_error"])
            err.pop("type")
            raise StripeError(402, err.pop("message"), type="card_error", code=err.pop("code"),
                              extra={**err, "payment_intent": pi})
        if pi["capture_method"] != "manual":
            capture(req.store, req, pi, None)
    return pi


@ROUTER.route("GET", "/v1/payment_intents")
def list_payment_intents(req: Request) -> dict[str, Any]:
    items = equal_filter(req.store.all(req.account, "payment_intent"), req.params, ("customer",))
    return paginate(req, items, "/v1/payment_intents", "payment_intent", allowed={"created", "customer"})


@ROUTER.route("GET", "/v1/payment_intents/search")
def search_payment_intents(req: Request) -> dict[str, Any]:
    return search(req, req.store.all(req.account, "payment_intent"), "/v1/payment_intents/search")


@ROUTER.route("GET", "/v1/payment_intents/{id}")
def retrieve_payment_intent(req: Request) -> dict[str, Any]:
    unknown_params(req.params, {"client_secret"})
    return req.store.get(req.account, req.path_params["id"], "payment_intent")


@ROUTER.route("POST", "/v1/payment_intents/{id}")
def update_payment_intent(req: Request) -> dict[str, Any]:
    p = req.params
    unknown_params(p, {"metadata", "description", "statement_descriptor", "statement_descriptor_suffix",
                       "receipt_email"})
    pi = req.store.get(req.account, req.path_params["id"], "payment_intent")
    updates: dict[str, Any] = {}
    if "metadata" in p:
        updates["metadata"] = metadata_param(p["metadata"], current=pi["metadata"])
    for name in ("description", "statement_descriptor", "statement_descriptor_suffix", "receipt_email"):
        if name in p:
            updates[name] = p[name] or None
    previous = changed(pi, **updates)
    if previous:
        emit(req.store, req.account, "payment_intent.updated", pi, previous_attributes=previous, request=req)
    return pi


@ROUTER.route("POST", "/v1/payment_intents/{id}/capture")
def capture_payment_intent(req: Request) -> dict[str, Any]:
    p = req.params
    unknown_params(p, {"amount_to_capture", "application_fee_amount", "final_capture", "metadata",
                       "statement_descriptor", "statement_descriptor_suffix", "transfer_data"})
    pi = req.store.get(req.account, req.path_params["id"], "payment_intent")
    amount = int_param(p, "amount_to_capture")
    fee = application_fee_param(req, p, "application_fee_amount", "application_fee_amount")
    metadata = metadata_param(p.get("metadata"), current=pi["metadata"]) if "metadata" in p else None
    if p.get("final_capture") == "false":
        raise StripeError(400, "Multicapture is not available for this PaymentIntent.", param="final_capture")
    capture(req.store, req, pi, amount, fee)
    if metadata is not None:
        pi["metadata"] = metadata
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        if p.get(name):
            pi[name] = p[name]
    return pi


@ROUTER.route("POST", "/v1/payment_intents/{id}/cancel")
def cancel_payment_intent(req: Request) -> dict[str, Any]:
    p = req.params
    unknown_params(p, {"cancellation_reason"})
    pi = req.store.get(req.account, req.path_params["id"], "payment_intent")
    reason = enum_param(p, "cancellation_reason", CANCEL_REASONS)
    if pi["status"] not in CANCELABLE:
        raise unexpected_state(pi, "cancel")
    session_id = pi.get("_checkout_session")
    session = req.store.find(req.account, session_id) if session_id else None
    if session is not None and session["status"] == "open":
        raise StripeError(400, "You can't cancel the PaymentIntent for a Checkout Session. Expire the Checkout "
                          "Session instead.", code="payment_intent_unexpected_state", extra={"payment_intent": pi})
    cancel(req.store, pi, reason, req)
    return pi


# --------------------------------------------------------------------------- API: Charges and Refunds


@ROUTER.route("GET", "/v1/charges")
def list_charges(req: Request) -> dict[str, Any]:
    items = equal_filter(req.store.all(req.account, "charge"), req.params, ("payment_intent", "customer"))
    return paginate(req, items, "/v1/charges", "charge", allowed={"created", "payment_intent", "customer"})


@ROUTER.route("GET", "/v1/charges/{id}")
def retrieve_charge(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "charge")


def _charge_refunds(req: Request, charge: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in req.store.all(req.account, "refund") if r["charge"] == charge["id"]]


@virtual("charge", "refunds")
def _expand_refunds(req: Request, charge: dict[str, Any]) -> dict[str, Any]:
    """Since API 2022-11-15 a charge leaves `refunds` out unless asked for with `expand[]=refunds`."""
    items = _charge_refunds(req, charge)
    return {"object": "list", "data": items[:10], "has_more": len(items) > 10,
            "url": f"/v1/charges/{charge['id']}/refunds"}


@ROUTER.route("GET", "/v1/charges/{id}/refunds")
def list_charge_refunds(req: Request) -> dict[str, Any]:
    charge = req.store.get(req.account, req.path_params["id"], "charge", "charge")
    return paginate(req, _charge_refunds(req, charge), f"/v1/charges/{charge['id']}/refunds", "refund")


@ROUTER.route("POST", "/v1/refunds")
def create_refund(req: Request) -> dict[str, Any]:
    p = req.params
    unknown_params(p, {"payment_intent", "charge", "amount", "reason", "metadata", "refund_application_fee",
                       "reverse_transfer", "instructions_email"})
    store = req.store
    if not p.get("payment_intent") and not p.get("charge"):
        raise StripeError(400, "One of the following params should be provided for this request: payment_intent "
                          "or charge.", code="parameter_missing", param="payment_intent")
    amount = int_param(p, "amount")
    reason = enum_param(p, "reason", REFUND_REASONS)
    metadata = metadata_param(p.get("metadata"))
    if p.get("payment_intent"):
        pi = store.get(req.account, p["payment_intent"], "payment_intent", "payment_intent")
        if not pi.get("latest_charge"):
            raise StripeError(400, "This PaymentIntent does not have a successful charge to refund.",
                              param="payment_intent")
        charge = store.get(req.account, pi["latest_charge"], "charge")
        if p.get("charge") and p["charge"] != charge["id"]:
            raise StripeError(400, "The charge does not belong to this PaymentIntent.", param="charge")
    else:
        charge = store.get(req.account, p["charge"], "charge", "charge")
    return refund(store, req, charge, amount, reason, metadata)


@ROUTER.route("GET", "/v1/refunds")
def list_refunds(req: Request) -> dict[str, Any]:
    items = equal_filter(req.store.all(req.account, "refund"), req.params, ("charge", "payment_intent"))
    return paginate(req, items, "/v1/refunds", "refund", allowed={"created", "charge", "payment_intent"})


@ROUTER.route("GET", "/v1/refunds/{id}")
def retrieve_refund(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "refund")

