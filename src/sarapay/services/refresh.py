"""Bringing one consultation up to date from Stripe (the system of record).

    refresh_consultation(ctx, consultation) -> consultation
        Reads the consultation's Checkout Session and PaymentIntent (latest_charge.balance_transaction
        expanded) on the practitioner's account and writes what changed. Used by `status --refresh`, after
        every money move, by `sandbox pay` and by reconcile. Idempotent: a second call changes nothing.

    apply_stripe_state(ledger, consultation, session, payment_intent, now, expired_event=None) -> consultation
        The pure part (no Stripe call): derives state, amounts, fee/net, capture_before from objects
        already fetched and writes the ledger only when something changed. A bulk reconcile that fetched
        sessions and PaymentIntents with list calls can feed them here. For amounts after a capture
        (refunds) and the fee, the PaymentIntent must carry `latest_charge` expanded (and its
        `balance_transaction` for the fee); a field that cannot be known from what is given keeps its
        ledger value rather than being wiped.

    needs_expiry_event(consultation, session) / fetch_expiry_event / fetch_expiry_events
        A link that closed: was it closed on purpose (« Annulé ») or did it run out (« Expiré »)? Only its
        `checkout.session.expired` event says (statuses.closed_on_purpose). It is read once, the first time
        a consultation not yet final is seen with an expired session (one extra list request), and the
        answer is kept in the ledger (`closed_on_purpose`), so later reads need no event.

    record_disputes(ledger, consultation, disputes) / apply_disputes(ledger, consultation, disputes)
        Disputes of the consultation's charge (Stripe's Dispute objects, as `GET /v1/disputes` lists them)
        are kept in the ledger's `disputes` table; the consultation's state then takes its latest dispute
        into account through statuses.with_dispute (« Contesté », « Contestation perdue », or back to its
        former state when the dispute is won, with a line in its history saying so). `apply_stripe_state`
        reads the latest dispute the ledger knows, so whoever fetched disputes records them first;
        `apply_disputes` is the path without a PaymentIntent at hand (reconcile reading an account's
        disputes), the state without the dispute then coming from the ledger's amounts. Disputes are asked
        for only when the charge says `disputed: true` (one more request for that consultation) or by
        reconcile, one list per account (services/reconcile.py).

Ledger fields written: state, payment_intent_id, charge_id, authorised_cents, captured_cents,
refunded_cents, fee_cents, net_cents, capture_before, link_expires_at, closed_on_purpose (for an expired
session), stripe_synced_at.
`net_cents` is what the practitioner keeps: the charge's net (captured − Stripe's fee) minus what was
refunded since (Stripe keeps its fee on a refund), so it goes negative after a full refund.

The write is a compare-and-set on the state read at the start: if another terminal or a cron job
wrote the consultation in between, its row wins and is returned (both read the same Stripe).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Iterable

from sarapay import statuses

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.records import Consultation
    from sarapay.services.context import Context
    from sarapay.stripe_gateway import Gateway


def now() -> int:
    """The client's clock, in Unix seconds (one place, so tests can freeze it)."""
    return int(time.time())


def stripe_now(ctx: Context) -> int:
    """The time to compare Stripe's deadlines with: Stripe's own, once Stripe has answered in this run.

    Stripe's time comes from its answers' `Date` headers (stripe_gateway.StripeClock); it is Stripe that
    expires a hold at `capture_before`, whatever the machine's clock says (and `sarapay sandbox advance`
    moves only Stripe's). Before any answer, when nothing was asked of Stripe, the machine's clock."""
    if ctx.has_gateway:
        stripe_time = ctx.gateway.clock.now()
        if stripe_time is not None:
            return stripe_time
    return now()


def account_of(consultation: Consultation) -> str:
    """The Stripe account of a consultation paid online: plan stores its practitioner's, and plans a payment
    only for a linked practitioner (the ledger's column is optional for consultations without one)."""
    assert consultation.account_id is not None, "a consultation paid online has its Stripe account"
    return consultation.account_id


def id_of(value: str | dict[str, Any] | None) -> str | None:
    """The id of a Stripe field that is either an id or the expanded object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def fetch_stripe_objects(ctx: Context, consultation: Consultation) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The consultation's Checkout Session and PaymentIntent as Stripe has them now (reads only)."""
    account = consultation.account_id
    if not consultation.paid_online or not account:
        return None, None
    gateway = ctx.gateway
    session = None
    if consultation.checkout_session_id:
        session = gateway.retrieve_checkout_session(account, consultation.checkout_session_id)
    pi_id = id_of((session or {}).get("payment_intent")) or consultation.payment_intent_id
    payment_intent = gateway.retrieve_payment_intent(account, pi_id) if pi_id else None
    return session, payment_intent


EXPIRED_EVENT = "checkout.session.expired"


def needs_expiry_event(consultation: Consultation, session: dict[str, Any] | None) -> bool:
    """Whether deciding the consultation's state needs its session's expiry event: the session expired, the
    ledger does not know it was closed on purpose, and the consultation is not final yet (a final one was
    decided when its session expired)."""
    return (
        (session or {}).get("status") == "expired"
        and not consultation.closed_on_purpose
        and consultation.state not in statuses.FINAL_STATES
    )


def _session_of(event: dict[str, Any]) -> str | None:
    return (((event.get("data") or {}).get("object")) or {}).get("id")


def fetch_expiry_events(gateway: Gateway, account: str, created_gte: int | None) -> dict[str, dict[str, Any]]:
    """The account's `checkout.session.expired` events since `created_gte`, by session id (Stripe keeps
    30 days of them). One paginated list."""
    events = gateway.list_events(account, created_gte=created_gte, types=[EXPIRED_EVENT])
    return {session_id: event for event in events if (session_id := _session_of(event))}


def fetch_expiry_event(gateway: Gateway, account: str, session: dict[str, Any]) -> dict[str, Any] | None:
    """The expiry event of one session: the account's expiry events since the session's creation, newest
    first, read until it is found."""
    created = session.get("created")
    for event in gateway.list_events(account, created_gte=int(created) if created else None, types=[EXPIRED_EVENT]):
        if _session_of(event) == session["id"]:
            return event
    return None


# --------------------------------------------------------------------------- disputes

DISPUTE_NOTES = {
    statuses.DISPUTED: "contestation {dispute_id} ouverte par la banque du patient ({reason}) : "
    "fonds retirés jusqu'à sa décision",
    statuses.DISPUTE_LOST: "contestation {dispute_id} perdue : la banque a donné raison au patient",
    "won": "contestation {dispute_id} gagnée : fonds restitués, retour à l'état d'avant",
    "other": "contestation {dispute_id} : {status}",
}


def charge_disputed(payment_intent: dict[str, Any] | None) -> bool:
    """Whether the PaymentIntent's charge (expanded) says it was disputed."""
    charge = (payment_intent or {}).get("latest_charge")
    return isinstance(charge, dict) and bool(charge.get("disputed"))


def dispute_fields(consultation: Consultation, dispute: dict[str, Any]) -> dict[str, Any]:
    """The ledger's row of a Stripe Dispute (pure): fee and net are those of its balance transactions
    (the withdrawal with the dispute fee; the reinstatement, which may give the fee back)."""
    txns = [t for t in dispute.get("balance_transactions") or [] if isinstance(t, dict)]
    due_by = (dispute.get("evidence_details") or {}).get("due_by")
    return {
        "consultation_id": consultation.id,
        "account_id": consultation.account_id or "",
        "charge_id": id_of(dispute.get("charge")),
        "payment_intent_id": id_of(dispute.get("payment_intent")),
        "amount_cents": int(dispute.get("amount") or 0),
        "fee_cents": max(0, sum(int(t.get("fee") or 0) for t in txns)),
        "net_cents": sum(int(t.get("net") or 0) for t in txns),
        "currency": dispute.get("currency") or consultation.currency or "eur",
        "reason": dispute.get("reason") or "general",
        "status": dispute.get("status") or "needs_response",
        "due_by": int(due_by) if due_by else None,  # 0: the bank allows no answer
        "created": int(dispute.get("created") or 0),
        "livemode": bool(dispute.get("livemode")),
    }


def record_disputes(ledger: Ledger, consultation: Consultation, disputes: Iterable[dict[str, Any]]) -> list[str]:
    """Writes what Stripe says of the consultation's disputes; returns the ids the ledger did not know."""
    new = []
    for dispute in disputes:
        _, inserted = ledger.upsert_dispute(dispute["id"], **dispute_fields(consultation, dispute))
        if inserted:
            new.append(dispute["id"])
    return new


def fetch_disputes(gateway: Gateway, account: str, payment_intent: str) -> list[dict[str, Any]]:
    """The disputes of one payment (one list request)."""
    return list(gateway.list_disputes(account, payment_intent=payment_intent))


def _dispute_note(before: str, after: str, dispute: dict[str, Any] | None) -> str | None:
    """The history line of a state change a dispute made (None for any other change)."""
    if dispute is None or not ({before, after} & {statuses.DISPUTED, statuses.DISPUTE_LOST}):
        return None
    if after in (statuses.DISPUTED, statuses.DISPUTE_LOST):
        template = DISPUTE_NOTES[after]
    elif dispute.get("status") == "won":
        template = DISPUTE_NOTES["won"]
    else:
        template = DISPUTE_NOTES["other"]
    from sarapay import disputes

    # Notes are kept as written, in French like the portal's other history notes.
    return template.format(
        dispute_id=dispute["id"], reason=disputes.reason_label(dispute.get("reason"), lang="fr"),
        status=disputes.status_label(dispute.get("status"), lang="fr"),
    )


def apply_disputes(
    ledger: Ledger, consultation: Consultation, disputes: Iterable[dict[str, Any]]
) -> tuple[Consultation, list[str]]:
    """Records the consultation's disputes and moves its state accordingly, from what the ledger knows of its
    amounts (no PaymentIntent needed). Returns the row and the ids of disputes the ledger did not know."""
    new = record_disputes(ledger, consultation, disputes)
    latest = ledger.latest_dispute(consultation.id)
    state = statuses.state_with_dispute(
        consultation.state, captured=int(consultation.captured_cents or 0),
        refunded=int(consultation.refunded_cents or 0), dispute_status=(latest or {}).get("status"),
    )
    if state == consultation.state:
        return consultation, new
    from datetime import datetime, timezone

    ledger.update_if_state(
        consultation.id, consultation.state, note=_dispute_note(consultation.state, state, latest),
        state=state, stripe_synced_at=datetime.now(timezone.utc),
    )
    return ledger.get_consultation(consultation.id) or consultation, new


def stripe_fields(
    consultation: Consultation | None, session: dict[str, Any] | None, payment_intent: dict[str, Any] | None, now: int,
    expired_event: dict[str, Any] | None = None, dispute_status: str | None = None,
) -> dict[str, Any]:
    """The ledger fields Stripe's objects say, for a consultation paid online (pure). `expired_event` is the
    session's `checkout.session.expired` event when it was fetched (see statuses.closed_on_purpose);
    `dispute_status` the status of the charge's latest dispute (statuses.with_dispute). `consultation` is
    None for one not in the ledger yet (sync --rebuild): nothing refunded, nothing known of its link but what
    Stripe says."""
    charge = (payment_intent or {}).get("latest_charge")
    charge_obj = charge if isinstance(charge, dict) else None
    known = consultation is not None and bool(consultation.closed_on_purpose)
    closed = statuses.closed_on_purpose(session, expired_event, known=known)
    fields: dict[str, Any] = {
        "state": statuses.derive_state(
            paid_online=True,
            session=session,
            payment_intent=payment_intent,
            charge=charge_obj,
            now=now,
            closed_on_purpose=closed,
            dispute_status=dispute_status,
        )
    }
    if (session or {}).get("status") == "expired":
        fields["closed_on_purpose"] = closed
    if session is not None:
        fields["link_expires_at"] = int(session["expires_at"]) if session.get("expires_at") is not None else None
    if payment_intent is None:
        return fields
    fields["payment_intent_id"] = payment_intent["id"]
    if id_of(charge):
        fields["charge_id"] = id_of(charge)
    amounts = statuses.amounts_from(payment_intent, charge_obj)
    fields["authorised_cents"] = amounts["authorised"]
    fields["captured_cents"] = amounts["captured"]
    if charge_obj is not None or payment_intent.get("status") != "succeeded":
        # Without the charge, refunds cannot be seen: keep what the ledger knows.
        fields["refunded_cents"] = amounts["refunded"]
    deadline = statuses.capture_deadline(payment_intent, charge_obj)
    if deadline is not None:
        fields["capture_before"] = deadline
    balance = (charge_obj or {}).get("balance_transaction")
    if isinstance(balance, dict):
        refunded = fields.get("refunded_cents", (consultation.refunded_cents if consultation is not None else 0) or 0)
        fields["fee_cents"] = int(balance.get("fee") or 0)
        fields["net_cents"] = int(balance.get("net") or 0) - refunded
    elif amounts["captured"] == 0:
        fields["fee_cents"] = None
        fields["net_cents"] = None
    return fields


def apply_stripe_state(
    ledger: Ledger, consultation: Consultation, session: dict[str, Any] | None, payment_intent: dict[str, Any] | None, now: int,
    expired_event: dict[str, Any] | None = None,
) -> Consultation:
    """Writes what Stripe's objects say about `consultation` (only what changed) and returns the row.

    `session` is the consultation's Checkout Session (or None), `payment_intent` its PaymentIntent with
    `latest_charge.balance_transaction` expanded (or None), `now` the Unix seconds Stripe's deadlines are
    compared with (`stripe_now`), `expired_event` the session's expiry event when one was fetched. The
    consultation's disputes are those the ledger knows (`record_disputes` first). No Stripe call here. A consultation without online payment is returned untouched. `stripe_synced_at`, like the
    ledger's other bookkeeping times, is the machine's clock.
    """
    if not consultation.paid_online:
        return consultation
    captured = (payment_intent or {}).get("status") == "succeeded" or consultation.state in statuses.CAPTURED_STATES
    dispute = ledger.latest_dispute(consultation.id) if captured else None  # only captured money is disputed
    fields = stripe_fields(consultation, session, payment_intent, now, expired_event, (dispute or {}).get("status"))
    changed = {name: value for name, value in fields.items() if consultation.value(name) != value}
    if not changed:
        return consultation
    from datetime import datetime, timezone

    synced = datetime.now(timezone.utc)
    note = _dispute_note(consultation.state, fields["state"], dispute)
    if ledger.update_if_state(consultation.id, consultation.state, note=note, stripe_synced_at=synced, **changed):
        return ledger.get_consultation(consultation.id) or consultation
    # Someone else wrote it in between, from the same Stripe: theirs stands.
    return ledger.get_consultation(consultation.id) or consultation


def refresh_consultation(ctx: Context, consultation: Consultation, *, at: int | None = None) -> Consultation:
    """Pulls the consultation's Stripe objects and writes what changed; returns the up-to-date row.

    Reads only on Stripe. A consultation without online payment, or without any Stripe object yet, is
    returned as it is. Errors are sarapay's own (StripeUnavailable: nothing was changed)."""
    if not consultation.paid_online or not consultation.account_id:
        return consultation
    if not consultation.checkout_session_id and not consultation.payment_intent_id:
        return consultation
    session, payment_intent = fetch_stripe_objects(ctx, consultation)
    if charge_disputed(payment_intent):
        assert payment_intent is not None
        record_disputes(ctx.ledger, consultation, fetch_disputes(ctx.gateway, consultation.account_id, payment_intent["id"]))
    event = None
    if needs_expiry_event(consultation, session):
        assert session is not None
        event = fetch_expiry_event(ctx.gateway, consultation.account_id, session)
    return apply_stripe_state(ctx.ledger, consultation, session, payment_intent, stripe_now(ctx) if at is None else at, event)
