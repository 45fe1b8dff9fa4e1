"""Checkout Sessions in payment mode (docs/stripe-behaviour.md).

The PaymentIntent only exists once the patient submits a card (`pay`, played by the control
endpoint); a declined card leaves the session open and a later card reuses the same PaymentIntent.
`url` is set only while the session is open.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from . import payments
from .connect import require_card_payments
from .events import changed, emit
from .expand import virtual
from .framework import (ROUTER, Platform, Request, Store, StripeError, int_param, param_missing, public,
                        unknown_params)
from .listing import equal_filter, paginate
from .metadata import metadata_param

MIN_EXPIRY, MAX_EXPIRY = 30 * 60, 24 * 3600
CREATE_PARAMS = {"mode", "line_items", "success_url", "cancel_url", "customer_email", "client_reference_id",
                 "metadata", "payment_intent_data", "expires_at", "payment_method_types", "locale", "ui_mode",
                 "customer", "submit_type", "billing_address_collection", "allow_promotion_codes",
                 "customer_creation", "phone_number_collection"}
PI_DATA_PARAMS = {"capture_method", "metadata", "description", "statement_descriptor",
                  "statement_descriptor_suffix", "application_fee_amount", "receipt_email", "setup_future_usage",
                  "on_behalf_of", "transfer_group"}


def _line_items(req: Request, raw: Any) -> tuple[list[dict[str, Any]], str]:
    if not raw:
        raise param_missing("line_items")
    if not isinstance(raw, list):
        raise StripeError(400, "Invalid array", code="parameter_invalid", param="line_items")
    if len(raw) > 100:
        raise StripeError(400, "You may only specify up to 100 line items.", param="line_items")
    items: list[dict[str, Any]] = []
    currency: str | None = None
    for i, item in enumerate(raw):
        where = f"line_items[{i}]"
        if not isinstance(item, dict):
            raise StripeError(400, "Invalid hash", code="parameter_invalid", param=where)
        unknown = set(item) - {"price", "price_data", "quantity", "adjustable_quantity", "tax_rates"}
        if unknown:
            name = sorted(unknown)[0]
            raise StripeError(400, f"Received unknown parameter: {where}[{name}]", code="parameter_unknown",
                              param=f"{where}[{name}]")
        if item.get("price"):
            raise StripeError(400, f"No such price: '{item['price']}'", code="resource_missing", param=f"{where}[price]")
        data = item.get("price_data")
        if not isinstance(data, dict):
            raise StripeError(400, f"You must specify either `price` or `price_data` in {where}.",
                              code="parameter_missing", param=f"{where}[price_data]")
        cur = (data.get("currency") or "").lower()
        if not cur:
            raise param_missing(f"{where}[price_data][currency]")
        if currency and cur != currency:
            raise StripeError(400, "All line items must use the same currency.", param=f"{where}[price_data][currency]")
        currency = cur
        unit = int_param(data, "unit_amount")
        if unit is None:
            raise param_missing(f"{where}[price_data][unit_amount]")
        if unit < 0:
            raise StripeError(400, "Invalid non-negative integer", code="parameter_invalid_integer",
                              param=f"{where}[price_data][unit_amount]")
        product = data.get("product_data")
        if not data.get("product") and not (isinstance(product, dict) and product.get("name")):
            raise param_missing(f"{where}[price_data][product_data][name]")
        quantity = int_param(item, "quantity")
        if quantity is None:
            raise param_missing(f"{where}[quantity]")
        if quantity < 1:
            raise StripeError(400, "This value must be greater than or equal to 1.", param=f"{where}[quantity]")
        name = product["name"] if isinstance(product, dict) and product.get("name") else data.get("product")
        items.append({"id": req.store.new_id("li_"), "object": "item", "amount_discount": 0, "amount_tax": 0,
                      "amount_subtotal": unit * quantity, "amount_total": unit * quantity, "currency": cur,
                      "description": name, "quantity": quantity,
                      # An inline price_data price: inactive, one-time, per unit, no tax behaviour chosen.
                      "price": {"id": req.store.new_id("price_"), "object": "price", "active": False,
                                "billing_scheme": "per_unit", "created": req.now, "currency": cur,
                                "custom_unit_amount": None, "livemode": False, "lookup_key": None,
                                "metadata": {}, "nickname": None,
                                "product": data.get("product") or req.store.new_id("prod_", 14),
                                "recurring": None, "tax_behavior": "unspecified", "tiers_mode": None,
                                "transform_quantity": None, "type": "one_time", "unit_amount": unit,
                                "unit_amount_decimal": str(unit)}})
    assert currency is not None
    return items, currency


def _pi_data(req: Request, raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, dict):
        raise StripeError(400, "Invalid hash", code="parameter_invalid", param="payment_intent_data")
    for name in raw:
        if name not in PI_DATA_PARAMS:
            raise StripeError(400, f"Received unknown parameter: payment_intent_data[{name}]",
                              code="parameter_unknown", param=f"payment_intent_data[{name}]")
    data: dict[str, Any] = {
        "capture_method": payments.enum_param(raw, "capture_method", ("automatic", "automatic_async", "manual"),
                                              "automatic_async"),
        "metadata": metadata_param(raw.get("metadata"), "payment_intent_data[metadata]"),
        "application_fee_amount": payments.application_fee_param(
            req, raw, "application_fee_amount", "payment_intent_data[application_fee_amount]"),
    }
    for name in ("description", "statement_descriptor", "statement_descriptor_suffix", "receipt_email"):
        data[name] = raw.get(name) or None
    for name in ("statement_descriptor", "statement_descriptor_suffix"):
        if data[name] and len(data[name]) > 22:
            raise StripeError(400, "The statement descriptor must be at most 22 characters.",
                              param=f"payment_intent_data[{name}]")
    return data


@ROUTER.route("POST", "/v1/checkout/sessions")
def create_session(req: Request) -> dict[str, Any]:
    p, store = req.params, req.store
    unknown_params(p, CREATE_PARAMS)
    mode = p.get("mode")
    if not mode:
        raise param_missing("mode")
    if mode not in ("payment", "setup", "subscription"):
        raise StripeError(400, "Invalid mode: must be one of payment, setup, or subscription",
                          code="parameter_invalid", param="mode")
    if mode != "payment":
        raise StripeError(400, "The sandbox only supports mode=payment.", param="mode")
    items, currency = _line_items(req, p.get("line_items"))
    total = sum(i["amount_total"] for i in items)
    minimum = payments.MINIMUMS.get(currency, 50)
    if total < minimum:
        raise StripeError(400, "The Checkout Session's total amount due must add up to at least "
                          f"{payments.money(minimum, currency)} {currency}", code="amount_too_small")
    if total > payments.MAX_AMOUNT:
        raise StripeError(400, "The Checkout Session's total amount due must be no more than "
                          f"{payments.money(payments.MAX_AMOUNT, currency)} {currency}", code="amount_too_large")
    metadata = metadata_param(p.get("metadata"))
    pi_data = _pi_data(req, p.get("payment_intent_data"))
    now = req.now
    expires_at = int_param(p, "expires_at", default=now + MAX_EXPIRY)
    assert expires_at is not None
    if expires_at < now + MIN_EXPIRY:
        raise StripeError(400, "The `expires_at` timestamp must be at least 30 minutes from Checkout Session "
                          "creation.", param="expires_at")
    if expires_at > now + MAX_EXPIRY:
        raise StripeError(400, "The `expires_at` timestamp must be less than 24 hours from Checkout Session "
                          "creation.", param="expires_at")
    email = p.get("customer_email") or None
    if email and ("@" not in email or " " in email):
        raise StripeError(400, f"Invalid email address: {email}", code="email_invalid", param="customer_email")
    require_card_payments(req)
    cs_id = store.new_id("cs_test_", 58)
    session = store.add(req.account, {
        "id": cs_id, "object": "checkout.session", "after_expiration": None, "allow_promotion_codes": None,
        "amount_subtotal": total, "amount_total": total,
        "automatic_tax": {"enabled": False, "liability": None, "status": None},
        "billing_address_collection": p.get("billing_address_collection") or None,
        "cancel_url": p.get("cancel_url") or None, "client_reference_id": p.get("client_reference_id") or None,
        "client_secret": None, "consent": None, "consent_collection": None, "created": now, "currency": currency,
        "custom_fields": [],
        "custom_text": {"after_submit": None, "shipping_address": None, "submit": None,
                        "terms_of_service_acceptance": None},
        "customer": None, "customer_creation": p.get("customer_creation") or "if_required",
        "customer_details": None, "customer_email": email, "expires_at": expires_at, "invoice": None,
        "livemode": False, "locale": p.get("locale") or None, "metadata": metadata, "mode": mode,
        "payment_intent": None, "payment_link": None, "payment_method_collection": "if_required",
        "payment_method_types": ["card"], "payment_status": "unpaid", "phone_number_collection": {"enabled": False},
        "recovered_from": None, "setup_intent": None, "shipping_address_collection": None, "shipping_cost": None,
        "shipping_options": [],
        "status": "open", "submit_type": p.get("submit_type") or None, "subscription": None,
        "success_url": p.get("success_url") or None,
        "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
        "ui_mode": p.get("ui_mode") or "hosted_page", "url": f"{req.base_url}/c/pay/{cs_id}",
        "_line_items": items, "_payment_intent_data": pi_data,
    })
    return session


@virtual("checkout.session", "line_items")
def _expand_line_items(req: Request, session: dict[str, Any]) -> dict[str, Any]:
    raw = req.store.find(req.account, session["id"]) or {}
    items = raw.get("_line_items", [])
    return {"object": "list", "data": items, "has_more": False,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items"}


@ROUTER.route("GET", "/v1/checkout/sessions")
def list_sessions(req: Request) -> dict[str, Any]:
    p = req.params
    items = equal_filter(req.store.all(req.account, "checkout.session"), p,
                         ("payment_intent", "status", "customer", "payment_link", "subscription"))
    details = p.get("customer_details")
    if isinstance(details, dict) and details.get("email"):
        items = [s for s in items if (s.get("customer_details") or {}).get("email") == details["email"]]
    return paginate(req, items, "/v1/checkout/sessions", "checkout.session",
                    allowed={"created", "payment_intent", "status", "customer", "customer_details",
                             "payment_link", "subscription"})


@ROUTER.route("GET", "/v1/checkout/sessions/{id}")
def retrieve_session(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "checkout.session")


@ROUTER.route("GET", "/v1/checkout/sessions/{id}/line_items")
def session_line_items(req: Request) -> dict[str, Any]:
    session = req.store.get(req.account, req.path_params["id"], "checkout.session")
    limit = int_param(req.params, "limit", default=10) or 10
    items = session.get("_line_items", [])
    return {"object": "list", "data": items[:limit], "has_more": len(items) > limit,
            "url": f"/v1/checkout/sessions/{session['id']}/line_items"}


@ROUTER.route("POST", "/v1/checkout/sessions/{id}/expire")
def expire_session_route(req: Request) -> dict[str, Any]:
    unknown_params(req.params, set())
    session = req.store.get(req.account, req.path_params["id"], "checkout.session")
    if session["status"] != "open":
        raise StripeError(400, 'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                          f"Session has a status of `{session['status']}`.", param="session")
    expire_session(req.store, session, req)
    return session


def expire_session(store: Store, session: dict[str, Any], request: Any = None) -> None:
    """Expire an open session (by request or by time). A PaymentIntent left after a decline is canceled."""
    session.update(status="expired", url=None)
    pi_id = session.get("payment_intent")
    pi = store.find(session["_account"], pi_id) if pi_id else None
    if pi is not None and pi["status"] in ("requires_payment_method", "requires_confirmation", "requires_action"):
        payments.cancel(store, pi, None, request)
    emit(store, session["_account"], "checkout.session.expired", session, request=request)


# --------------------------------------------------------------------------- the patient


def _acting_platform(store: Store, acct: str) -> Platform | None:
    """The platform a connected account belongs to (for application fees taken at automatic capture)."""
    for platform in store.platforms.values():
        if platform["account_id"] == acct or acct in store.connections.get(platform["account_id"], {}):
            return Platform(key=platform["key"], account_id=platform["account_id"],
                            client_id=platform.get("client_id"))
    return None


def pay(store: Store, session_id: str, card: str, email: str | None = None) -> dict[str, Any]:
    """Play the patient on the hosted page: submit `card` to an open session."""
    session = store.locate(session_id)
    if session is None or session.get("object") != "checkout.session":
        raise StripeError(404, f"No such checkout.session: '{session_id}'", code="resource_missing", param="id")
    if session["status"] != "open":
        raise StripeError(400, f"This Checkout Session is no longer open (status: {session['status']}).",
                          param="session")
    acct = session["_account"]
    data = session.get("_payment_intent_data") or {}
    email = email or session.get("customer_email")
    pi = store.find(acct, session["payment_intent"]) if session.get("payment_intent") else None
    payments.card_for(card)  # refuse a malformed number before anything is created
    if pi is None:
        pi = payments.new_payment_intent(
            store, acct, amount=session["amount_total"], currency=session["currency"],
            capture_method=data.get("capture_method") or "automatic_async", metadata=dict(data.get("metadata") or {}),
            description=data.get("description"), statement_descriptor=data.get("statement_descriptor"),
            statement_descriptor_suffix=data.get("statement_descriptor_suffix"),
            application_fee_amount=data.get("application_fee_amount"),
            receipt_email=data.get("receipt_email") or None, extra={"_checkout_session": session["id"]})
        session["payment_intent"] = pi["id"]
    decline = payments.authorize(store, pi, card, email=email)
    if decline is None:
        paid = store.table("settings").get("checkout_paid_on_authorize", False)
        if pi["capture_method"] != "manual":
            shim = SimpleNamespace(platform=_acting_platform(store, acct), request_id=None, idempotency_key=None)
            payments.capture(store, shim, pi, None)  # type: ignore[arg-type]
            paid = True
        changed(session, status="complete", payment_status="paid" if paid else "unpaid", url=None,
                customer_details={"address": None, "email": email, "name": None, "phone": None,
                                  "tax_exempt": "none", "tax_ids": []})
        emit(store, acct, "checkout.session.completed", session)
    return {"outcome": "declined" if decline else "authorized", "decline_code": decline,
            "checkout_session": public(session), "payment_intent": public(pi)}
