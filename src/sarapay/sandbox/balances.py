"""Money on an account: fees, balance transactions, the balance and payouts (docs/stripe-behaviour.md).

A captured charge becomes a `pending` balance transaction, `available` after the account's
`delay_days`; automatic payouts (clockwork) sweep the available balance. The balance is never stored:
it is the sum of the balance transactions, so it cannot drift from them.
"""

from __future__ import annotations

from typing import Any

from . import auth
from .events import emit
from .framework import ROUTER, Request, Store, StripeError, int_param, missing, unknown_params
from .listing import equal_filter, paginate, range_filter
from .metadata import metadata_param

DAY = 86400
PAYOUT_TRANSIT_DAYS = 2  # `paid` at created + 2 days; `in_transit` the day after creation

REPORTING = {"charge": "charge", "refund": "refund", "payout": "payout", "application_fee": "platform_earning",
             "payout_cancel": "payout_reversal"}


def stripe_fee(amount: int) -> int:
    """Stripe's standard EEA card price, 1.5 % + €0.25, rounded half up to the cent (25,00 € → 63)."""
    return (amount * 15 + 500) // 1000 + 25


def add_txn(store: Store, acct: str, *, type: str, amount: int, currency: str, source: str | None,
            fee_details: list[dict[str, Any]] | None = None, available_on: int | None = None,
            description: str | None = None, reporting_category: str | None = None) -> dict[str, Any]:
    now = store.now()
    fee_details = fee_details or []
    fee = sum(f["amount"] for f in fee_details)
    available_on = now if available_on is None else available_on
    return store.add(acct, {
        "id": store.new_id("txn_"), "object": "balance_transaction", "amount": amount, "available_on": available_on,
        # Card payments, refunds, fees and payouts all move the payments balance (the only one modelled).
        "balance_type": "payments", "created": now, "currency": currency, "description": description, "exchange_rate": None, "fee": fee,
        "fee_details": fee_details, "net": amount - fee, "reporting_category": reporting_category or REPORTING.get(type, type),
        "source": source, "status": "available" if available_on <= now else "pending", "type": type,
    })


def charge_txn(store: Store, acct: str, charge: dict[str, Any], amount: int, app_fee: int | None,
               application: str | None) -> dict[str, Any]:
    cur = charge["currency"]
    details = [{"amount": stripe_fee(amount), "application": None, "currency": cur,
                "description": "Stripe processing fees", "type": "stripe_fee"}]
    if app_fee:
        details.append({"amount": app_fee, "application": application, "currency": cur,
                        "description": "Application fee", "type": "application_fee"})
    delay = int(auth.schedule(store, acct).get("delay_days") or 0)
    return add_txn(store, acct, type="charge", amount=amount, currency=cur, source=charge["id"],
                   fee_details=details, available_on=store.now() + delay * DAY, description=charge.get("description"))


def application_fee(store: Store, req: Request, charge: dict[str, Any], amount: int) -> dict[str, Any]:
    """The platform's side of a direct charge with an application fee: a fee_ object and its credit."""
    assert req.platform is not None
    platform_acct = req.platform.account_id
    fee_id = store.new_id("fee_")
    delay = int(auth.schedule(store, platform_acct).get("delay_days") or 0)
    txn = add_txn(store, platform_acct, type="application_fee", amount=amount, currency=charge["currency"],
                  source=fee_id, available_on=store.now() + delay * DAY)
    fee = store.add(platform_acct, {
        "id": fee_id, "object": "application_fee", "account": charge["_account"], "amount": amount,
        "amount_refunded": 0, "application": req.platform.client_id, "balance_transaction": txn["id"],
        "charge": charge["id"], "currency": charge["currency"], "livemode": False,
        "originating_transaction": None, "refunded": False,
        "refunds": {"object": "list", "data": [], "has_more": False, "url": f"/v1/application_fees/{fee_id}/refunds"},
    })
    emit(store, platform_acct, "application_fee.created", fee, request=req)
    return fee


def balance(store: Store, acct: str) -> dict[str, Any]:
    default = (store.accounts.get(acct) or {}).get("default_currency") or "eur"
    sums: dict[str, dict[str, int]] = {default: {"available": 0, "pending": 0}}
    for txn in store.all(acct, "balance_transaction"):
        bucket = sums.setdefault(txn["currency"], {"available": 0, "pending": 0})
        bucket[txn["status"]] += txn["net"]
    return {
        "object": "balance", "livemode": False,
        "available": [{"amount": s["available"], "currency": c, "source_types": {"card": s["available"]}}
                      for c, s in sums.items()],
        "pending": [{"amount": s["pending"], "currency": c, "source_types": {"card": s["pending"]}}
                    for c, s in sums.items()],
    }


# --------------------------------------------------------------------------- payouts


def _destination(store: Store, acct: str) -> str:
    banks = store.table("bank_accounts")
    if acct not in banks:
        banks[acct] = store.new_id("ba_")
    return str(banks[acct])


def create_payout(store: Store, acct: str, amount: int, currency: str, *, automatic: bool,
                  included: list[dict[str, Any]], request: Any = None, description: str | None = None,
                  metadata: dict[str, str] | None = None, statement_descriptor: str | None = None) -> dict[str, Any]:
    now = store.now()
    po_id = store.new_id("po_")
    txn = add_txn(store, acct, type="payout", amount=-amount, currency=currency, source=po_id,
                  description=description or "STRIPE PAYOUT")
    txn["_payout"] = po_id
    for t in included:
        t["_payout"] = po_id
    payout = store.add(acct, {
        "id": po_id, "object": "payout", "amount": amount, "application_fee": None, "application_fee_amount": None,
        "arrival_date": now + PAYOUT_TRANSIT_DAYS * DAY, "automatic": automatic, "balance_transaction": txn["id"],
        "created": now, "currency": currency, "description": description or "STRIPE PAYOUT",
        "destination": _destination(store, acct), "failure_balance_transaction": None, "failure_code": None,
        "failure_message": None, "livemode": False, "metadata": metadata or {}, "method": "standard",
        "original_payout": None, "reconciliation_status": "in_progress" if automatic else "not_applicable",
        "reversed_by": None, "source_type": "card", "statement_descriptor": statement_descriptor,
        "status": "pending", "type": "bank_account",
    })
    emit(store, acct, "payout.created", payout, request=request)
    return payout


def automatic_payout(store: Store, acct: str) -> list[dict[str, Any]]:
    """Sweep each currency's available balance not yet paid out (called by clockwork at 00:00 UTC)."""
    if (store.accounts.get(acct) or {}).get("payouts_enabled") is False:
        return []
    by_currency: dict[str, list[dict[str, Any]]] = {}
    for txn in store.all(acct, "balance_transaction"):
        if txn["status"] == "available" and not txn.get("_payout"):
            by_currency.setdefault(txn["currency"], []).append(txn)
    made = []
    for currency, txns in by_currency.items():
        total = sum(t["net"] for t in txns)
        if total > 0:
            made.append(create_payout(store, acct, total, currency, automatic=True, included=txns))
    return made


def advance_payout(store: Store, payout: dict[str, Any], status: str) -> None:
    previous = {"status": payout["status"]}
    payout["status"] = status
    if status == "paid" and payout["automatic"]:
        previous["reconciliation_status"] = payout["reconciliation_status"]
        payout["reconciliation_status"] = "completed"
    emit(store, payout["_account"], "payout.updated", payout, previous_attributes=previous)
    if status == "paid":
        emit(store, payout["_account"], "payout.paid", payout)


# --------------------------------------------------------------------------- API


@ROUTER.route("GET", "/v1/balance")
def get_balance(req: Request) -> dict[str, Any]:
    unknown_params(req.params, set())
    return balance(req.store, req.account)


@ROUTER.route("GET", "/v1/balance_transactions")
def list_balance_transactions(req: Request) -> dict[str, Any]:
    """`payout=po_…` lists what an automatic payout paid out, its own `payout` transaction included.

    Stripe documents the filter "for automatic Stripe payouts only" (API reference, list balance
    transactions) and says it cannot tell which transactions a manual payout holds (docs, payout
    reconciliation): a manual payout is refused here with a 400 rather than answered with a list that
    would look meaningful. The message is the sandbox's own wording (unverified against Stripe)."""
    p = req.params
    items = req.store.all(req.account, "balance_transaction")
    items = equal_filter(items, p, ("type", "source", "currency"))
    if p.get("payout"):
        payout = req.store.find(req.account, p["payout"])
        if payout is None or payout.get("object") != "payout":
            raise missing("payout", p["payout"], "payout")
        if not payout["automatic"]:
            raise StripeError(400, "Balance transaction history can only be filtered on automatic payouts, not manual "
                              "ones: Stripe cannot tell which transactions a manual payout includes.", param="payout")
        items = [t for t in items if t.get("_payout") == p["payout"]]
    items = range_filter(items, p, "available_on")
    return paginate(req, items, "/v1/balance_transactions", "balance_transaction",
                    allowed={"created", "type", "source", "currency", "payout", "available_on"})


@ROUTER.route("GET", "/v1/balance_transactions/{id}")
def retrieve_balance_transaction(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "balance_transaction")


@ROUTER.route("GET", "/v1/application_fees")
def list_application_fees(req: Request) -> dict[str, Any]:
    # Application fees live on the platform's account; `charge` filters them by the connected charge.
    items = equal_filter(req.store.all(req.account, "application_fee"), req.params, ("charge",))
    return paginate(req, items, "/v1/application_fees", "application_fee", allowed={"created", "charge"})


@ROUTER.route("GET", "/v1/application_fees/{id}")
def retrieve_application_fee(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "application_fee")


@ROUTER.route("GET", "/v1/payouts")
def list_payouts(req: Request) -> dict[str, Any]:
    p = req.params
    items = equal_filter(req.store.all(req.account, "payout"), p, ("status", "destination"))
    items = range_filter(items, p, "arrival_date")
    return paginate(req, items, "/v1/payouts", "payout", allowed={"created", "status", "destination", "arrival_date"})


@ROUTER.route("GET", "/v1/payouts/{id}")
def retrieve_payout(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "payout")


@ROUTER.route("POST", "/v1/payouts")
def create_manual_payout(req: Request) -> dict[str, Any]:
    """A manual payout from the available balance (accounts on the `manual` schedule use this)."""

    p = req.params
    unknown_params(p, {"amount", "currency", "description", "metadata", "statement_descriptor", "method",
                       "destination", "source_type"})
    amount = int_param(p, "amount", required=True)
    assert amount is not None
    if amount <= 0:
        raise StripeError(400, "Invalid positive integer", code="parameter_invalid_integer", param="amount")
    currency = (p.get("currency") or "").lower()
    if not currency:
        raise StripeError(400, "Missing required param: currency.", code="parameter_missing", param="currency")
    if p.get("method") not in (None, "", "standard"):
        raise StripeError(400, "Instant payouts are not available in the sandbox.", param="method")
    store = req.store
    free = [t for t in store.all(req.account, "balance_transaction")
            if t["currency"] == currency and t["status"] == "available" and not t.get("_payout")]
    available = sum(t["net"] for t in store.all(req.account, "balance_transaction")
                    if t["currency"] == currency and t["status"] == "available")
    if amount > available:
        raise StripeError(400, "You have insufficient funds in your Stripe account for this transfer. Your card "
                          "balance is too low. You can use the /v1/balance endpoint to view your Stripe balance "
                          "(for more details, see stripe.com/docs/api#balance).", code="balance_insufficient",
                          param="amount")
    included = free if amount >= sum(t["net"] for t in free) else []
    return create_payout(store, req.account, amount, currency, automatic=False, included=included, request=req,
                         description=p.get("description") or None, metadata=metadata_param(p.get("metadata")),
                         statement_descriptor=p.get("statement_descriptor") or None)


@ROUTER.route("POST", "/v1/payouts/{id}/cancel")
def cancel_payout(req: Request) -> dict[str, Any]:
    unknown_params(req.params, set())
    store = req.store
    payout = store.get(req.account, req.path_params["id"], "payout")
    if payout["automatic"] or payout["status"] != "pending":
        raise StripeError(400, "Payouts can only be canceled while they are pending and were created manually.",
                          param="payout")
    txn = add_txn(store, req.account, type="payout_cancel", amount=payout["amount"], currency=payout["currency"],
                  source=payout["id"])
    previous = {"status": "pending"}
    payout.update(status="canceled", reversed_by=None)
    payout["_cancel_txn"] = txn["id"]
    emit(store, req.account, "payout.canceled", payout, request=req)
    emit(store, req.account, "payout.updated", payout, previous_attributes=previous, request=req)
    return payout
