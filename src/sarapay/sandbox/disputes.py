"""Disputes (chargebacks) of card payments (docs/stripe-behaviour.md, docs/sandbox.md "Disputes").

A payment made with one of Stripe's dispute test cards is disputed once it is captured: the dispute is
created by the clockwork at the first request after the capture (the capture's own answer still shows
`disputed: false`, as Stripe's does: its dispute arrives after the charge succeeded). A chargeback
withdraws the disputed amount and the dispute fee at once (a balance transaction of type `adjustment`,
reporting category `dispute`); an inquiry (`warning_*`) withdraws nothing. The practitioner answers with
evidence (`POST /v1/disputes/{id}`, the texts `winning_evidence` / `losing_evidence` decide the outcome as
in Stripe's test mode) or accepts it (`POST /v1/disputes/{id}/close`); a dispute left without an answer
past `evidence_details.due_by` is lost. A won chargeback is reinstated (type `adjustment`, reporting
category `dispute_reversal`).

Objects are plain dicts on the connected account; `_txns` (the ids of the dispute's balance transactions)
is private, `balance_transactions` the public copies, refreshed whenever the dispute changes.
"""

from __future__ import annotations

from typing import Any

from .balances import add_txn
from .events import changed, emit
from .framework import ROUTER, Request, Store, StripeError, bool_param, public, unknown_params
from .listing import equal_filter, paginate
from .metadata import metadata_param

DAY = 86400
# Stripe's dispute fee, "15,00 USD (ou un montant équivalent dans la devise locale)" per disputed payment
# (support.stripe.com/questions/dispute-fees-faq, fr-FR): one constant, the same cents in every currency.
DISPUTE_FEE = 1500
RESPONSE_DAYS = 7  # due_by = created + 7 days ("usually 7 to 21 days, depending on the card network")

# Stripe's dispute test cards (docs.stripe.com/testing#disputes): number -> (reason, inquiry, network reason code).
CARDS = {
    "4000000000000259": ("fraudulent", False, "10.4"),
    "4000000000002685": ("product_not_received", False, "13.1"),
    "4000000000001976": ("fraudulent", True, "10.4"),
}
TEST_PAYMENT_METHODS = {
    "pm_card_createDispute": "4000000000000259",
    "pm_card_createDisputeProductNotReceived": "4000000000002685",
    "pm_card_createDisputeInquiry": "4000000000001976",
}
WINNING, LOSING = "winning_evidence", "losing_evidence"

NEEDS_RESPONSE = ("needs_response", "warning_needs_response")
OPEN = ("needs_response", "warning_needs_response", "under_review", "warning_under_review")
WITHDRAWN = ("needs_response", "under_review", "lost")  # a chargeback's funds are out of the balance

# The fields of `evidence` (the dispute_evidence schema); `enhanced_evidence` is left empty.
EVIDENCE_FIELDS = (
    "access_activity_log", "billing_address", "cancellation_policy", "cancellation_policy_disclosure",
    "cancellation_rebuttal", "customer_communication", "customer_email_address", "customer_name",
    "customer_purchase_ip", "customer_signature", "duplicate_charge_documentation", "duplicate_charge_explanation",
    "duplicate_charge_id", "product_description", "receipt", "refund_policy", "refund_policy_disclosure",
    "refund_refusal_explanation", "service_date", "service_documentation", "shipping_address", "shipping_carrier",
    "shipping_date", "shipping_documentation", "shipping_tracking_number", "uncategorized_file", "uncategorized_text",
)


def fee_refunded_when_won(store: Store) -> bool:
    """Stripe's dispute-fees FAQ: "if you win the dispute, Stripe will refund this dispute fee"; its June 2025
    pricing note keeps the fee and returns only a counter fee. A documented switch (POST /_sandbox/settings)."""
    return bool(store.table("settings").get("dispute_fee_refunded_when_won", True))


def _sync(store: Store, dispute: dict[str, Any]) -> None:
    """The public `balance_transactions`: copies of the dispute's own transactions as they are now."""
    dispute["balance_transactions"] = [public(store.find(dispute["_account"], t)) for t in dispute.get("_txns", [])]


def blocks_refund(store: Store, charge: dict[str, Any]) -> bool:
    """A chargeback not won takes the charge's money: it cannot be refunded as well ("charge_disputed")."""
    return any(
        d["charge"] == charge["id"] and d["status"] in WITHDRAWN
        for d in store.all(charge["_account"], "dispute")
    )


def schedule(store: Store, charge: dict[str, Any], number: str) -> None:
    """Marks a charge paid with a dispute test card; `due` opens the dispute once it is captured."""
    digits = "".join(ch for ch in number if ch.isdigit())
    if digits in CARDS:
        charge["_dispute_card"] = digits


def captured(store: Store, charge: dict[str, Any]) -> None:
    if charge.get("_dispute_card") and not charge.get("_dispute_opened"):
        charge["_dispute_due"] = store.now()


def open_dispute(store: Store, charge: dict[str, Any]) -> dict[str, Any]:
    """The cardholder disputes a captured charge (clockwork, at the first request after the capture)."""
    acct = charge["_account"]
    reason, inquiry, network_code = CARDS[charge.pop("_dispute_card")]
    charge.pop("_dispute_due", None)
    charge["_dispute_opened"] = True
    now = store.now()
    amount = charge["amount_captured"] - (charge["amount_refunded"] - charge.get("_released", 0))
    card = (charge.get("payment_method_details") or {}).get("card") or {}
    dispute = store.add(acct, {
        "id": store.new_id("dp_"), "object": "dispute", "amount": amount, "balance_transactions": [],
        "charge": charge["id"], "created": now, "currency": charge["currency"], "enhanced_eligibility_types": [],
        "evidence": {**{name: None for name in EVIDENCE_FIELDS}, "enhanced_evidence": {}},
        "evidence_details": {"due_by": now + RESPONSE_DAYS * DAY, "enhanced_eligibility": {}, "has_evidence": False,
                             "past_due": False, "submission_count": 0},
        "is_charge_refundable": inquiry, "livemode": False, "metadata": {}, "payment_intent": charge.get("payment_intent"),
        "payment_method_details": {"card": {"brand": card.get("brand") or "visa",
                                            "case_type": "inquiry" if inquiry else "chargeback",
                                            "network": card.get("network") or card.get("brand") or "visa",
                                            "network_reason_code": network_code},
                                   "type": "card"},
        "reason": reason, "status": "warning_needs_response" if inquiry else "needs_response", "_txns": [],
    })
    charge["disputed"] = True
    emit(store, acct, "charge.dispute.created", dispute)
    if not inquiry:
        fee = [{"amount": DISPUTE_FEE, "application": None, "currency": charge["currency"], "description": "Dispute fee",
                "type": "stripe_fee"}]
        txn = add_txn(store, acct, type="adjustment", amount=-amount, currency=charge["currency"], source=dispute["id"],
                      fee_details=fee, description=f"Chargeback withdrawal for {charge['id']}",
                      reporting_category="dispute")
        dispute["_txns"].append(txn["id"])
        _sync(store, dispute)
        emit(store, acct, "charge.dispute.funds_withdrawn", dispute)
    return dispute


def close(store: Store, dispute: dict[str, Any], outcome: str, request: Any = None) -> None:
    """The bank's decision (`won` / `lost`), or the end of an inquiry (`warning_closed`)."""
    acct = dispute["_account"]
    inquiry = dispute["status"].startswith("warning_")
    status = "warning_closed" if inquiry else outcome
    dispute.pop("_outcome", None)
    dispute.pop("_outcome_at", None)
    dispute["status"] = status
    reinstated = None
    if status == "won":
        refund_fee = fee_refunded_when_won(store)
        fee = [{"amount": -DISPUTE_FEE, "application": None, "currency": dispute["currency"],
                "description": "Dispute fee refund", "type": "stripe_fee"}] if refund_fee else []
        charge_id = dispute["charge"]
        reinstated = add_txn(store, acct, type="adjustment", amount=dispute["amount"], currency=dispute["currency"],
                             source=dispute["id"], fee_details=fee, description=f"Chargeback reversal for {charge_id}",
                             reporting_category="dispute_reversal")
        dispute["_txns"].append(reinstated["id"])
    _sync(store, dispute)
    emit(store, acct, "charge.dispute.closed", dispute, request=request)
    if reinstated is not None:
        emit(store, acct, "charge.dispute.funds_reinstated", dispute, request=request)


def run_out(store: Store, dispute: dict[str, Any]) -> None:
    """`due_by` passed without an answer: a chargeback is lost, an inquiry closed."""
    close(store, dispute, "lost")


def due(dispute: dict[str, Any]) -> tuple[int, str] | None:
    """When the clockwork must next act on a dispute, and how: ("outcome" | "run_out")."""
    if dispute.get("_outcome"):
        return int(dispute["_outcome_at"]), "outcome"
    if dispute["status"] in NEEDS_RESPONSE and dispute["evidence_details"].get("due_by"):
        return int(dispute["evidence_details"]["due_by"]), "run_out"
    return None


def apply_due(store: Store, dispute: dict[str, Any], what: str) -> None:
    if what == "outcome":
        close(store, dispute, dispute["_outcome"])
    else:
        run_out(store, dispute)


# --------------------------------------------------------------------------- API


def _get(req: Request) -> dict[str, Any]:
    return req.store.get(req.account, req.path_params["id"], "dispute")


@ROUTER.route("GET", "/v1/disputes")
def list_disputes(req: Request) -> dict[str, Any]:
    items = equal_filter(req.store.all(req.account, "dispute"), req.params, ("charge", "payment_intent"))
    return paginate(req, items, "/v1/disputes", "dispute", allowed={"created", "charge", "payment_intent"})


@ROUTER.route("GET", "/v1/disputes/{id}")
def retrieve_dispute(req: Request) -> dict[str, Any]:
    unknown_params(req.params, set())
    return _get(req)


@ROUTER.route("POST", "/v1/disputes/{id}")
def update_dispute(req: Request) -> dict[str, Any]:
    """Evidence (staged, or submitted: `submit` defaults to true) and metadata."""

    p = req.params
    unknown_params(p, {"evidence", "metadata", "submit", "intended_submission_method"})
    dispute = _get(req)
    evidence = p.get("evidence") or {}
    if evidence and not isinstance(evidence, dict):
        raise StripeError(400, "Invalid evidence: must be a hash", param="evidence")
    for name, value in evidence.items():
        if name not in EVIDENCE_FIELDS:
            raise StripeError(400, f"Received unknown parameter: evidence[{name}]", code="parameter_unknown",
                              param=f"evidence[{name}]")
        if not isinstance(value, str):
            raise StripeError(400, f"Invalid string: evidence[{name}]", param=f"evidence[{name}]")
    submit = bool_param(p, "submit", True)
    if (evidence or submit) and dispute["status"] not in NEEDS_RESPONSE:
        raise StripeError(400, f"This dispute is {dispute['status']}: evidence can only be added or submitted while "
                          "the dispute needs a response.", param="evidence")
    previous: dict[str, Any] = {}
    if "metadata" in p:
        previous.update(changed(dispute, metadata=metadata_param(p["metadata"], current=dispute["metadata"])))
    if evidence:
        old = dict(dispute["evidence"])
        dispute["evidence"] = {**dispute["evidence"], **{k: (v or None) for k, v in evidence.items()}}
        if dispute["evidence"] != old:
            previous["evidence"] = {k: old[k] for k in evidence if old.get(k) != dispute["evidence"].get(k)}
    details = dispute["evidence_details"]
    old_details = dict(details)
    details["has_evidence"] = any(v for k, v in dispute["evidence"].items() if k != "enhanced_evidence")
    if submit:
        details["submission_count"] += 1
        details["past_due"] = bool(details.get("due_by")) and req.now > int(details["due_by"])
        previous["status"] = dispute["status"]
        dispute["status"] = "warning_under_review" if dispute["status"].startswith("warning_") else "under_review"
        text = (dispute["evidence"].get("uncategorized_text") or "").strip()
        if text in (WINNING, LOSING):
            # Stripe's test mode decides at once; the decision lands at the next request, like a real one later.
            dispute["_outcome"] = "won" if text == WINNING else "lost"
            dispute["_outcome_at"] = req.now
    if details != old_details:
        previous["evidence_details"] = old_details
    _sync(req.store, dispute)
    if previous:
        emit(req.store, req.account, "charge.dispute.updated", dispute, previous_attributes=previous, request=req)
    return dispute


@ROUTER.route("POST", "/v1/disputes/{id}/close")
def close_dispute(req: Request) -> dict[str, Any]:
    """Accepting the dispute: "the status of the dispute will change from needs_response to lost"."""
    unknown_params(req.params, set())
    dispute = _get(req)
    if dispute["status"] not in NEEDS_RESPONSE:
        raise StripeError(400, f"This dispute is already {dispute['status']} and can no longer be closed.",
                          param="dispute")
    close(req.store, dispute, "lost", request=req)
    return dispute
