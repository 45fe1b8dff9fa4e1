"""Planning a teleconsultation, and the patient's payment link.

    plan(ctx, rpps, at, *, paid=False, max_text=None, patient_ref=None, email=None) -> dict
    pay_link(ctx, consultation_id) -> dict
    require_consultation(ctx, consultation_id) -> Consultation  # typed id → ledger record, BadInput otherwise

Both return {"consultation": <records.Consultation>, "url": str | None, "warnings": [message keys]}, and leave
one audit row ("plan", "pay-link"), whatever their outcome.

Crash safety of a paid plan: the consultation row is written first (state incomplete, no session id),
then the Checkout Session is created with a deterministic idempotency key, then its id is stored. A crash
in between is healed by `pay-link` (or a second `pay-link`): the same key gets Stripe to replay the same
session instead of creating a second one. Keys: the first link of a consultation is
`sarapay:checkout:TC-…:first`; the link that replaces session cs_X is `sarapay:checkout:TC-…:cs_X`,
so a retry replays and a genuinely new link differs. The link's lifetime is Stripe's default (24 h by
Stripe's own clock, the maximum): sarapay sends no `expires_at`, so the parameters of a retry are
exactly those of the first attempt.

Only opaque ids reach Stripe (consultation id, RPPS); the patient reference stays in the ledger and the
email only prefills Checkout.

Stripe creates no Checkout Session on an account that cannot take cards yet (onboarding unfinished, or
restricted since): a paid plan and `pay-link` first read the account (one request, nothing cached) and
stop with what is missing (practitioners.require_card_payments), before any row is written or link
closed; if Stripe still refuses the session (the account changed in between), its refusal is explained
the same way (practitioners.explain_payment_refusal) and the plan leaves no consultation behind.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from sarapay import i18n, ids, money, statuses, timefmt
from sarapay.errors import BadInput, Interrupted, SarapayError, StripeRefused, StripeUnavailable
from sarapay.inputs import clean, shown
from sarapay.moves import REPLACE_LINK
from sarapay.services import refresh

if TYPE_CHECKING:
    from sarapay.services.context import Context
    from sarapay.records import Consultation, Practitioner

# Where Checkout sends the patient back. Stripe requires URLs; the portal's pages are not sarapay's.
HOLD_DAYS = 7  # a card authorisation lasts 7 days (docs/stripe-behaviour.md)
PAST_GRACE = 3600  # a consultation planned up to an hour late (the act is running late) is still accepted
PATIENT_REF_MAX = 64
_PATIENT_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:/#-]*")
_LONG_DIGITS = re.compile(r"[0-9]{13,}")  # a card or a social-security number (NIR, 13 + 2 digits)
_MAX_LINK_ATTEMPTS = 3

i18n.register(
    {
        "plan.max_needs_paid": {
            "fr": "--max ne s'applique qu'au paiement en ligne : ajoutez --paid, ou retirez --max.",
            "en": "--max only applies to online payment: add --paid, or drop --max.",
        },
        "plan.email_needs_paid": {
            "fr": "--email ne sert qu'à préremplir la page de paiement : ajoutez --paid, ou retirez --email.",
            "en": "--email only prefills the payment page: add --paid, or drop --email.",
        },
        "plan.max_above_default": {
            "fr": "Le montant {amount} dépasse le maximum du praticien {rpps} ({maximum}) : indiquez {maximum} ou moins "
            "(le maximum se change avec « sarapay prefs set-max {rpps} MONTANT »).",
            "en": "The amount {amount} is above the maximum of practitioner {rpps} ({maximum}): give {maximum} or less "
            "(change the maximum with 'sarapay prefs set-max {rpps} AMOUNT').",
        },
        "plan.max_too_small": {
            "fr": "Le montant {amount} est sous le minimum de Stripe ({minimum}) : indiquez au moins {minimum}.",
            "en": "The amount {amount} is below Stripe's minimum ({minimum}): give at least {minimum}.",
        },
        "plan.in_past": {
            "fr": "La date {when} est passée : indiquez la date et l'heure à venir de la téléconsultation (heure de Paris).",
            "en": "The date {when} is in the past: give the upcoming date and time of the teleconsultation (Paris time).",
        },
        "plan.patient_ref_invalid": {
            "fr": "La référence patient « {value} » n'est pas un identifiant opaque : utilisez la référence du portail "
            "(lettres, chiffres, - _ . : / #, sans espace, {max} caractères au plus), jamais un nom ni un motif médical.",
            "en": "The patient reference “{value}” is not an opaque id: use the portal's reference "
            "(letters, digits, - _ . : / #, no space, at most {max} characters), never a name or a medical reason.",
        },
        "plan.patient_ref_number": {
            "fr": "La référence patient contient une longue suite de chiffres (numéro de carte ou de sécurité sociale ?) : "
            "sarapay n'enregistre ni l'un ni l'autre. Utilisez la référence du portail.",
            "en": "The patient reference holds a long run of digits (a card or social-security number?): sarapay stores "
            "neither. Use the portal's reference.",
        },
        "plan.hold_before_visit": {
            "fr": "Attention : la consultation a lieu dans plus de {days} jours ; une empreinte laissée dès maintenant "
            "expirera avant. Envoyez le lien au patient peu avant la consultation, ou réémettez-le alors avec « sarapay pay-link {consultation_id} ».",
            "en": "Warning: the consultation is more than {days} days away; a hold left now will expire before it. "
            "Send the link to the patient shortly before, or re-issue it then with 'sarapay pay-link {consultation_id}'.",
        },
        "plan.link_unknown": {
            "fr": "La consultation {consultation_id} est enregistrée, mais Stripe n'a pas répondu pour sa page de paiement "
            "(peut-être créée quand même). Ne la replanifiez pas : obtenez le lien avec « sarapay pay-link {consultation_id} ».",
            "en": "Consultation {consultation_id} is recorded, but Stripe did not answer about its payment page (it may exist "
            "anyway). Do not plan it again: get the link with 'sarapay pay-link {consultation_id}'.",
        },
        "plan.same_minute": {
            "fr": "Le praticien {rpps} a déjà une consultation le {when} ({others}) : vérifiez qu'il ne s'agit pas d'un "
            "doublon (« sarapay cancel » annule l'une d'elles).",
            "en": "Practitioner {rpps} already has a consultation on {when} ({others}): check it is not a duplicate "
            "('sarapay cancel' cancels one of them).",
        },
        "plan.resumed_unsent": {
            "fr": "Ce créneau était déjà planifié ({consultation_id}) sans que Stripe ait répondu pour sa page de paiement : "
            "c'est cette consultation qui reçoit le lien, sans doublon.",
            "en": "This slot was already planned ({consultation_id}) without Stripe answering about its payment page: "
            "that consultation gets the link, no duplicate.",
        },
        "plan.link_unknown_interrupted": {
            "fr": "Interrompu pendant la création de la page de paiement de {consultation_id}, qui est enregistrée (la page "
            "a pu être créée quand même). Ne la replanifiez pas : obtenez le lien avec « sarapay pay-link {consultation_id} ».",
            "en": "Interrupted while the payment page of {consultation_id} was being created; the consultation is recorded "
            "(the page may exist anyway). Do not plan it again: get the link with 'sarapay pay-link {consultation_id}'.",
        },
        "consultations.unknown": {
            "fr": "Aucune consultation {consultation_id} dans le registre : vérifiez l'identifiant (liste : « sarapay status »).",
            "en": "No consultation {consultation_id} in the ledger: check the id (list: 'sarapay status').",
        },
        "paylink.not_paid_online": {
            "fr": "La consultation {consultation_id} a été planifiée sans paiement en ligne : il n'y a pas de lien de paiement à émettre.",
            "en": "Consultation {consultation_id} was planned without online payment: there is no payment link to issue.",
        },
        "paylink.already_authorised": {
            "fr": "Le patient a déjà laissé son empreinte pour {consultation_id} ({amount}) : pas de nouveau lien. "
            "Capturez avec « sarapay capture {consultation_id} » ou libérez avec « sarapay cancel {consultation_id} ».",
            "en": "The patient already left a card hold for {consultation_id} ({amount}): no new link. "
            "Capture with 'sarapay capture {consultation_id}' or release with 'sarapay cancel {consultation_id}'.",
        },
        "paylink.final": {
            "fr": "La consultation {consultation_id} est dans l'état « {label} » : un nouveau lien de paiement n'a plus de sens. "
            "Planifiez une nouvelle consultation si besoin (« sarapay plan »).",
            "en": "Consultation {consultation_id} is “{label}”: a new payment link no longer makes sense. "
            "Plan a new consultation if needed ('sarapay plan').",
        },
        "paylink.paid_meanwhile": {
            "fr": "Le patient vient de payer pour {consultation_id} pendant l'émission du lien : l'ancien lien n'a pas été fermé "
            "et aucun nouveau n'a été créé. Voyez l'état avec « sarapay status {consultation_id} ».",
            "en": "The patient just paid for {consultation_id} while the link was being issued: the old link was not closed "
            "and no new one was created. See the state with 'sarapay status {consultation_id}'.",
        },
    }
)


# Timeline notes are data kept in the ledger (shown by `status`), in its working language: French.
NOTE_LINK_CREATED = "lien de paiement {session_id}"
NOTE_LINK_REPLACED = "lien de paiement {old} remplacé par {new}"


def require_consultation(ctx: Context, consultation_id: str) -> Consultation:
    """The ledger row of a typed consultation id (`tc-8f3k2q` works); BadInput when unknown."""
    cid = ids.normalize_consultation_id(consultation_id)
    row = ctx.ledger.get_consultation(cid)
    if row is None:
        raise BadInput("consultations.unknown", consultation_id=cid)
    return row


def check_patient_ref(text: str | None) -> str | None:
    """The portal's opaque patient reference, or None; BadInput for free text, names, long numbers."""
    if text is None:
        return None
    raw = clean(text)
    if not raw:
        return None
    if _LONG_DIGITS.search(raw.replace(" ", "").replace("-", "")):
        raise BadInput("plan.patient_ref_number")
    if len(raw) > PATIENT_REF_MAX or not _PATIENT_REF.fullmatch(raw):
        raise BadInput("plan.patient_ref_invalid", value=shown(raw), max=PATIENT_REF_MAX)
    return raw


def check_max(max_text: str, practitioner: Practitioner) -> int:
    """The consultation's maximum in cents: at least 0,50 €, at most the practitioner's default maximum."""
    cents = money.parse_amount(max_text)
    ceiling = int(practitioner.default_max_cents)
    if cents > ceiling:
        raise BadInput(
            "plan.max_above_default",
            amount=money.format_amount(cents),
            maximum=money.format_amount(ceiling),
            rpps=practitioner.rpps,
        )
    if cents < money.MIN_CHARGE:
        raise BadInput(
            "plan.max_too_small", amount=money.format_amount(cents), minimum=money.format_amount(money.MIN_CHARGE)
        )
    return cents


def _new_id(ctx: Context) -> str:
    for _ in range(20):
        cid = ids.new_consultation_id()
        if ctx.ledger.get_consultation(cid) is None:
            return cid
    raise RuntimeError("no free consultation id after 20 draws")


def audit_target(consultation_id: str) -> str | None:
    """The consultation id an audit row names: normalised, or None when the text is not one (the row then
    records the refusal without it)."""
    try:
        return ids.normalize_consultation_id(consultation_id)
    except BadInput:
        return None


def plan(
    ctx: Context,
    rpps: str,
    at: str,
    *,
    paid: bool = False,
    max_text: str | None = None,
    patient_ref: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Plans a teleconsultation; with `paid`, creates the patient's Checkout page (card hold for the max).

    Everything typed is checked before anything is written or sent. The audit row ("plan") names the practitioner and the consultation."""
    from sarapay.rpps import is_valid_rpps, normalize_rpps

    with ctx.audited("plan", normalize_rpps(rpps) if is_valid_rpps(rpps) else None) as entry:
        result = _plan(ctx, rpps, at, paid=paid, max_text=max_text, patient_ref=patient_ref, email=email)
        entry.detail = result["consultation"].id
    return result


def _plan(
    ctx: Context,
    rpps: str,
    at: str,
    *,
    paid: bool,
    max_text: str | None,
    patient_ref: str | None,
    email: str | None,
) -> dict[str, Any]:
    from sarapay.emails import normalize_email
    from sarapay.rpps import normalize_rpps
    from sarapay.services.exclusive import one_at_a_time
    from sarapay.services.practitioners import require_card_payments, require_linked

    number = normalize_rpps(rpps)
    when = timefmt.parse_when(at)
    if max_text is not None and not paid:
        raise BadInput("plan.max_needs_paid")
    if email is not None and not paid:
        raise BadInput("plan.email_needs_paid")
    ref = check_patient_ref(patient_ref)
    address = normalize_email(email) if email is not None else None
    current = refresh.now()
    if when.timestamp() < current - PAST_GRACE:
        raise BadInput("plan.in_past", when=timefmt.format_when(when))
    practitioner = require_linked(ctx, number)
    maximum = check_max(max_text, practitioner) if max_text is not None else int(practitioner.default_max_cents)

    cid = _new_id(ctx)
    scheduled = when.astimezone(timezone.utc)
    if not paid:
        same_minute = _same_minute(ctx, number, scheduled)
        row = ctx.ledger.insert_consultation(
            cid, rpps=number, scheduled_at=scheduled, state=statuses.NO_ONLINE_PAYMENT, paid_online=False,
            patient_ref=ref,
        )
        return {"consultation": row, "url": None, "warnings": same_minute}

    ctx.resolve_key()  # before the row exists: a bad key leaves no trace
    # One account read: Stripe refuses a Checkout Session on an account that cannot take cards yet
    # (onboarding unfinished); say what is missing before anything is written.
    account = practitioner.account_id
    assert account is not None  # require_linked refuses a practitioner without one
    require_card_payments(ctx, number, account)
    # One paid plan at a time for a practitioner's minute, from the look for an unsent one to its link: a second
    # terminal planning the same slot meanwhile would take the first one's row, still without its session, for
    # one whose answer was lost, send the same Checkout key while the first request is in flight (409), and
    # discard the row the first is still creating. It waits, then plans its own consultation.
    with one_at_a_time(ctx, f"plan-{number}-{scheduled:%Y%m%dT%H%M}"):
        row, url, warnings = _paid_row_and_link(
            ctx, number, scheduled, maximum, address, account, ref, cid,
        )
        cid = row.id
    if when.timestamp() - current > (HOLD_DAYS - 1) * 86400:
        warnings.append(("plan.hold_before_visit", {"days": HOLD_DAYS - 1, "consultation_id": cid}))
    return {"consultation": row, "url": url, "warnings": warnings}


def _paid_row_and_link(
    ctx: Context, number: str, scheduled: datetime, maximum: int, address: str | None, account_id: str,
    ref: str | None, cid: str,
) -> tuple[Consultation, str | None, list[tuple[str, dict[str, Any]]]]:
    """The paid consultation's row (a new one, or the same plan left unsent earlier) and its
    Checkout link."""
    warnings: list[tuple[str, dict[str, Any]]] = []
    earlier = ctx.ledger.find_unsent_paid_plan(number, scheduled, maximum, address, account_id, ref)
    if earlier is not None:
        # The same plan re-run after its payment page's answer was lost: that consultation gets its link (the
        # same Checkout key, so Stripe replays the page it may have created), rather than a second one.
        row, cid = earlier, earlier.id
        warnings.append(("plan.resumed_unsent", {"consultation_id": cid}))
    else:
        warnings.extend(_same_minute(ctx, number, scheduled))
        row = ctx.ledger.insert_consultation(
            cid, rpps=number, scheduled_at=scheduled, state=statuses.INCOMPLETE, paid_online=True,
            max_cents=maximum, currency="eur", patient_ref=ref, patient_email=address,
            account_id=account_id,
        )
    try:
        row, url = _issue_link(ctx, row)
    except (StripeUnavailable, Interrupted) as exc:
        if not exc.outcome_unknown:  # nothing reached Stripe (connection refused, rate limited): nothing to keep
            ctx.ledger.discard_unsent_consultation(cid)
            raise
        # "Re-run the same command" would plan a second consultation: the way back is pay-link.
        key = "plan.link_unknown_interrupted" if isinstance(exc, Interrupted) else "plan.link_unknown"
        raise type(exc)(key, consultation_id=cid).with_stripe(exc) from None
    except StripeRefused:
        # Stripe said no (account revoked, not able to take cards...): no session exists, so no
        # consultation either — the plan changes nothing, and can be run again once the cause is fixed.
        ctx.ledger.discard_unsent_consultation(cid)
        raise
    return row, url, warnings


def _same_minute(ctx: Context, rpps: str, scheduled: datetime) -> list[tuple[str, dict[str, Any]]]:
    """A warning when the practitioner already has a consultation (not cancelled) at that minute: a double
    booking, or the same visit planned twice. Planned all the same: the portal may mean it."""
    from datetime import timedelta

    start = scheduled.replace(second=0, microsecond=0)
    others = [
        row.id
        for row in ctx.ledger.list_consultations(rpps=rpps, since=start, until=start + timedelta(minutes=1))
        if row.state != statuses.CANCELED
    ]
    if not others:
        return []
    return [("plan.same_minute", {"rpps": rpps, "when": timefmt.format_when(scheduled), "others": ", ".join(others)})]


def _issue_link(ctx: Context, row: Consultation) -> tuple[Consultation, str | None]:
    """Creates the Checkout Session that follows the row's current one (or its first) and stores it."""
    from sarapay import settings
    from sarapay.services.practitioners import explain_payment_refusal
    from sarapay.stripe_gateway import checkout_session_request

    config = settings.load_config()
    for _ in range(_MAX_LINK_ATTEMPTS):
        previous = row.checkout_session_id
        key = ids.idempotency_key("checkout", row.id, previous or "first")
        try:
            assert row.max_cents is not None  # a consultation paid online is planned with its maximum
            answer = ctx.gateway.send(checkout_session_request(
                refresh.account_of(row),
                amount_cents=int(row.max_cents),
                consultation_id=row.id,
                rpps=row.rpps,
                expires_at=None,
                success_url=config.success_url,
                cancel_url=config.cancel_url,
                idempotency_key=key,
                customer_email=row.patient_email,
                scheduled_at=row.scheduled_at,  # opaque ISO UTC time: sync --rebuild restores it from Stripe
            ))
        except StripeRefused as exc:
            raise explain_payment_refusal(ctx, row.rpps, refresh.account_of(row), exc) from None
        session, replayed = answer.data, answer.replayed
        note = (
            NOTE_LINK_REPLACED.format(old=previous, new=session["id"])
            if previous
            else NOTE_LINK_CREATED.format(session_id=session["id"])
        )
        if previous != session["id"]:
            row = ctx.ledger.update_consultation(
                row.id, note=note, checkout_session_id=session["id"], payment_intent_id=None, charge_id=None,
                state=statuses.INCOMPLETE, authorised_cents=0, captured_cents=0, refunded_cents=0, fee_cents=None,
                net_cents=None, capture_before=None, closed_on_purpose=False,
                link_expires_at=int(session["expires_at"]) if session.get("expires_at") is not None else None,
                stripe_synced_at=datetime.now(timezone.utc),
            )
        if not replayed:
            return row, session.get("url")
        # A replayed answer is the session as it was then (healing a crash): ask Stripe how it is now.
        row = refresh.refresh_consultation(ctx, row)
        if row.state == statuses.INCOMPLETE and row.checkout_session_id:  # the session just stored
            current = ctx.gateway.retrieve_checkout_session(refresh.account_of(row), row.checkout_session_id)
            if current.get("status") == "open":
                return row, current.get("url")
        if row.state not in (statuses.INCOMPLETE, statuses.EXPIRED):
            return row, None
    raise RuntimeError("could not issue a fresh payment link")


def pay_link(ctx: Context, consultation_id: str) -> dict[str, Any]:
    """A fresh patient link for a consultation whose link (or hold) ran out, or was never stored.

    Closes the still-open link first (so only one can be paid). Refused when the consultation is not paid
    online, already authorised, captured, or final. The closing is recorded (money_moves, `replace_link`)
    before it is sent: Stripe then counts that link as closed on purpose, and a re-run after the new link's
    answer was lost must finish the replacement (same key) rather than take the consultation for cancelled.
    The audit row ("pay-link") names the consultation and the session of the new link."""
    with ctx.audited("pay-link", audit_target(consultation_id)) as entry:
        result = _locked_pay_link(ctx, consultation_id)
        entry.detail = result["consultation"].checkout_session_id
    return result


def _locked_pay_link(ctx: Context, consultation_id: str) -> dict[str, Any]:
    row = require_consultation(ctx, consultation_id)
    if not row.paid_online:
        raise BadInput("paylink.not_paid_online", consultation_id=row.id)
    from sarapay.services.exclusive import one_at_a_time

    seen = row.checkout_session_id
    with one_at_a_time(ctx, row.id):  # a second terminal waits for the first
        current = ctx.ledger.get_consultation(row.id) or row
        if current.checkout_session_id and current.checkout_session_id != seen and current.state == statuses.INCOMPLETE:
            # Another command issued a new link while this one waited: both give the patient that link.
            session = ctx.gateway.retrieve_checkout_session(refresh.account_of(current), current.checkout_session_id)
            if session.get("status") == "open":
                return {"consultation": current, "url": session.get("url"), "warnings": [], "issued_meanwhile": True}
        return _pay_link(ctx, current)


def _pay_link(ctx: Context, row: Consultation) -> dict[str, Any]:
    from sarapay.services.practitioners import require_card_payments
    from sarapay.stripe_gateway import expire_checkout_request

    cid = row.id
    replacing = ctx.ledger.pending_money_move(cid, [REPLACE_LINK])
    row = refresh.refresh_consultation(ctx, row)
    state = row.state
    if state == statuses.UNCAPTURED:
        raise BadInput("paylink.already_authorised", consultation_id=cid, amount=money.format_amount(row.authorised_cents))
    closed_by_us = replacing is not None and state == statuses.CANCELED
    if state not in (statuses.INCOMPLETE, statuses.EXPIRED) and not closed_by_us:
        raise BadInput("paylink.final", consultation_id=cid, label=statuses.label(state))
    # Before the open link is closed: an account that can no longer take cards keeps it, and gets no new one.
    require_card_payments(ctx, row.rpps, refresh.account_of(row))
    if row.checkout_session_id and not closed_by_us:
        session = ctx.gateway.retrieve_checkout_session(refresh.account_of(row), row.checkout_session_id)
        if session.get("status") == "open":
            key = ids.idempotency_key("replace", cid, session["id"])
            ctx.ledger.begin_money_move(key, cid, REPLACE_LINK, 0)
            replacing = ctx.ledger.get_money_move(key)
            try:
                ctx.gateway.send(expire_checkout_request(refresh.account_of(row), session["id"], idempotency_key=key))
            except SarapayError as exc:
                if not exc.outcome_unknown:
                    ctx.ledger.forget_money_move(key)  # the link stayed open: nothing to finish later
                row = refresh.refresh_consultation(ctx, row)
                if row.state == statuses.UNCAPTURED:
                    raise BadInput("paylink.paid_meanwhile", consultation_id=cid) from None
                raise
    row, url = _issue_link(ctx, row)
    if replacing is not None:
        ctx.ledger.finish_money_move(replacing["idempotency_key"], "done")
    return {"consultation": row, "url": url, "warnings": [], "issued_meanwhile": False}
