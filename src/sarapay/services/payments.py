"""Moving money on a consultation: capture, cancel (release a hold or close a link), refund.

Each in two steps, so the CLI can show a banner and ask between them:

    prepare_capture(ctx, consultation_id, amount_text | None) -> Plan
    prepare_cancel(ctx, consultation_id) -> Plan
    prepare_refund(ctx, consultation_id, amount_text | None) -> Plan
    execute(ctx, plan) -> dict
    run(ctx, command, consultation_id, prepare, *, dry_run, present) -> dict | None   # the two, audited

`prepare_*` checks everything typed locally first (nothing sent on bad input), refreshes the consultation
from Stripe (reads only; a capture skips it when the ledger already knows the hold, see `_known_hold`),
checks the state and the amounts, and returns the Plan: what will happen
(action, amount, account, practitioner) and the exact request (a stripe_gateway.StripeRequest: method,
path, params, account, idempotency key), which `--dry-run` shows and `execute` sends as it is. `execute`
then brings the ledger up to date and returns the outcome. `run` does both inside the command's audit row,
calling the CLI's `present(plan)` between them (banner, dry run, question).

Guards against moving money twice, in layers:
- the idempotency key (ids.idempotency_key, deterministic) makes a retry, a re-run or a second terminal
  sending the same operation get Stripe's first answer;
- the move is recorded in the ledger (`money_moves`, pending) with that key *before* it is sent, and marked
  done once Stripe's answer is recorded. While it is pending (answer lost, Ctrl-C, crash), a re-run of the
  command resumes it with the same key, even though the amounts a fresh key would be built from have
  changed (a refund's key counts what was refunded before it). Stripe forgets a key after 24 hours, so an
  older pending refund is first looked for among the payment's refunds (its metadata carries the key);
- a second, deliberate refund of a consultation already (partly) refunded must be said explicitly: the plan
  lists the refunds already made (`previous_refunds`) and the CLI asks for `--again` under `--yes`;
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
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable

from sarapay import i18n, ids, money, statuses, timefmt
from sarapay.errors import BadInput, Cancelled, ConfigError, Interrupted, SarapayError, StripeRefused, StripeUnavailable
from sarapay.moves import CANCEL, CAPTURE, CLOSE_LINK, OPEN_STATE, REFUND, describe, settle_pending
from sarapay.services import refresh
from sarapay.services.consultations import audit_target, require_consultation
from sarapay.services.exclusive import one_at_a_time
# stripe is imported only when a Gateway is built
from sarapay.stripe_gateway import (
    METADATA_MOVE,
    Answer,
    StripeRequest,
    cancel_request,
    capture_request,
    expire_checkout_request,
    refund_request,
)

if TYPE_CHECKING:
    from sarapay.records import Consultation, Practitioner
    from sarapay.services.context import Context

# Cancelling a consultation planned without online payment: Stripe has nothing of it, so nothing is sent; the
# ledger marks it « Annulé » (history line, audit row) so that it stops showing as a consultation to come.
CANCEL_LOCAL = "cancel_local"

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
        "capture.state.disputed": {
            "fr": "La consultation {consultation_id} a déjà été capturée ({captured}) et le patient conteste ce paiement "
            "auprès de sa banque : il n'y a rien à capturer. Voir « sarapay disputes ».",
            "en": "Consultation {consultation_id} was already captured ({captured}) and the patient disputes the payment "
            "with their bank: there is nothing to capture. See 'sarapay disputes'.",
        },
        "capture.state.dispute_lost": {
            "fr": "La consultation {consultation_id} a déjà été capturée ({captured}), puis la banque du patient lui a "
            "rendu l'argent (contestation perdue) : il n'y a rien à capturer.",
            "en": "Consultation {consultation_id} was already captured ({captured}), then the patient's bank gave the "
            "money back (dispute lost): there is nothing to capture.",
        },
        "cancel.state.disputed": {
            "fr": "La consultation {consultation_id} a été capturée et son paiement est contesté par le patient : "
            "elle ne s'annule plus. Voir « sarapay disputes ».",
            "en": "Consultation {consultation_id} was captured and its payment is disputed by the patient: it can no "
            "longer be canceled. See 'sarapay disputes'.",
        },
        "cancel.state.dispute_lost": {
            "fr": "La consultation {consultation_id} a été capturée, puis la banque du patient lui a rendu l'argent "
            "(contestation perdue) : il n'y a rien à annuler.",
            "en": "Consultation {consultation_id} was captured, then the patient's bank gave the money back (dispute "
            "lost): there is nothing to cancel.",
        },
        "refund.state.disputed": {
            "fr": "Le patient conteste le paiement de {consultation_id} auprès de sa banque : les fonds sont déjà retirés "
            "du solde du praticien jusqu'à la décision, un remboursement les rendrait deux fois (Stripe le refuse). "
            "Le praticien répond à la contestation dans son tableau de bord Stripe : « sarapay disputes » donne le lien.",
            "en": "The patient disputes the payment of {consultation_id} with their bank: the funds are already "
            "withdrawn from the practitioner's balance until the decision, and a refund would return them twice "
            "(Stripe refuses it). The practitioner answers the dispute in their Stripe dashboard: 'sarapay disputes' "
            "gives the link.",
        },
        "refund.state.dispute_lost": {
            "fr": "La banque du patient lui a déjà rendu le paiement de {consultation_id} (contestation perdue) : "
            "il n'y a rien à rembourser.",
            "en": "The patient's bank already gave back the payment of {consultation_id} (dispute lost): there is "
            "nothing to refund.",
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
        "refund.pending_other_amount": {
            "fr": "Un remboursement de {pending} sur {consultation_id} a été envoyé le {when} sans que la réponse de Stripe "
            "arrive : terminez-le d'abord avec « sarapay refund {consultation_id} {pending_plain} » (Stripe ne l'appliquera "
            "qu'une fois), puis remboursez autre chose si besoin.",
            "en": "A refund of {pending} on {consultation_id} was sent on {when} and Stripe's answer never arrived: finish it "
            "first with 'sarapay refund {consultation_id} {pending_plain}' (Stripe will apply it only once), then refund "
            "more if needed.",
        },
        "refund.again_needed": {
            "fr": "{consultation_id} a déjà été remboursée de {refunded} ({refunds}) : un nouveau remboursement de {amount} "
            "doit être voulu. Relancez avec --again pour le confirmer, ou vérifiez d'abord avec « sarapay status {consultation_id} ».",
            "en": "{consultation_id} was already refunded {refunded} ({refunds}): a new refund of {amount} must be meant. "
            "Run it again with --again to confirm, or check first with 'sarapay status {consultation_id}'.",
        },
        "payments.cancel_local_note": {
            "fr": "annulée (sans paiement en ligne : rien à envoyer à Stripe)",
            "en": "canceled (no online payment: nothing to send to Stripe)",
        },
        "payments.finished_elsewhere": {
            "fr": "L'opération en attente sur {consultation_id} vient d'être terminée par une autre commande : rien n'a été "
            "renvoyé. Voyez le résultat avec « sarapay status {consultation_id} ».",
            "en": "The pending operation on {consultation_id} was just finished by another command: nothing was sent again. "
            "See the result with 'sarapay status {consultation_id}'.",
        },
        "payments.pending_other": {
            "fr": "Une autre opération ({what}) sur {consultation_id} attend encore la réponse de Stripe : "
            "relancez d'abord la commande qui l'a envoyée (sans risque, même clé d'idempotence), ou vérifiez avec "
            "« sarapay status {consultation_id} --refresh ».",
            "en": "Another operation ({what}) on {consultation_id} is still waiting for Stripe's answer: "
            "first re-run the command that sent it (safe, same idempotency key), or check with "
            "'sarapay status {consultation_id} --refresh'.",
        },
        "payments.interrupted": {
            "fr": "Interrompu pendant l'envoi à Stripe : on ne sait pas si l'opération sur {consultation_id} ({what}) "
            "a eu lieu. Vérifiez avec « sarapay status {consultation_id} --refresh » ; relancer la même commande est sans "
            "risque (même clé d'idempotence, l'argent ne bouge jamais deux fois).",
            "en": "Interrupted while sending to Stripe: whether the operation on {consultation_id} ({what}) "
            "happened is unknown. Check with 'sarapay status {consultation_id} --refresh'; re-running the same command is "
            "safe (same idempotency key, money never moves twice).",
        },
        "payments.interrupted_after": {
            "fr": "Interrompu après que Stripe a effectué l'opération sur {consultation_id} ({what}) : c'est fait, "
            "ne la relancez pas. Mettez le registre à jour avec « sarapay status {consultation_id} --refresh ».",
            "en": "Interrupted after Stripe performed the operation on {consultation_id} ({what}): it is done, "
            "do not run it again. Bring the ledger up to date with 'sarapay status {consultation_id} --refresh'.",
        },
        "payments.moved": {
            "fr": "La consultation {consultation_id} a changé entre-temps (maintenant « {label} ») : rien n'a été fait. "
            "Relancez la commande pour repartir de son nouvel état.",
            "en": "Consultation {consultation_id} changed meanwhile (now “{label}”): nothing was done. "
            "Run the command again to start from its new state.",
        },
        "payments.ledger_behind": {
            "fr": "Stripe a bien effectué l'opération sur {consultation_id} ({what}), mais le registre local "
            "n'a pas pu l'enregistrer : {reason} Une fois corrigé, lancez « sarapay status {consultation_id} --refresh » "
            "(ne relancez pas la commande : c'est fait).",
            "en": "Stripe did perform the operation on {consultation_id} ({what}), but the local ledger could "
            "not record it: {reason} Once fixed, run 'sarapay status {consultation_id} --refresh' (do not run the command "
            "again: it is done).",
        },
        "payments.outcome_unknown": {
            "fr": "Stripe n'a pas répondu à temps, même après plusieurs tentatives : on ne sait pas si l'opération sur "
            "{consultation_id} ({what}) a eu lieu. Vérifiez avec « sarapay status {consultation_id} --refresh » ; relancer la même "
            "commande est sans risque (même clé d'idempotence, l'argent ne bouge jamais deux fois).",
            "en": "Stripe did not answer in time, even after several attempts: whether the operation on {consultation_id} "
            "({what}) happened is unknown. Check with 'sarapay status {consultation_id} --refresh'; re-running the same command is "
            "safe (same idempotency key, money never moves twice).",
        },
    }
)


@dataclass(frozen=True)
class PreviousRefund:
    """A refund already made on the payment, shown before another one is confirmed."""

    refund_id: str
    amount_cents: int
    created: int  # Stripe's unix time
    status: str


@dataclass(frozen=True)
class Plan:
    """What a money command will do, checked and ready to send."""

    action: str  # CAPTURE, CANCEL (release a hold), CLOSE_LINK (expire an open checkout), REFUND
    command: str  # the command asked for: capture (also for capture 0), cancel, refund
    consultation: Consultation  # the ledger record, just refreshed from Stripe
    practitioner: Practitioner | None
    account_id: str
    amount_cents: int  # what moves: captured, released, refunded (0 when closing a link)
    # The request `execute` sends and --dry-run shows; None when nothing goes to Stripe (CANCEL_LOCAL).
    request: StripeRequest | None = None
    # True when the plan re-sends a move recorded as pending (its answer never arrived): same key, same amount.
    resumes: bool = False
    # A refund of a consultation already (partly) refunded: the refunds made so far, newest first. The CLI
    # asks for this second refund to be meant (--again under --yes).
    previous_refunds: tuple[PreviousRefund, ...] = ()

    @property
    def consultation_id(self) -> str:
        return self.consultation.id

    @property
    def idempotency_key(self) -> str:
        """The key the move is sent and recorded with ("" when nothing is sent)."""
        return (self.request.idempotency_key or "") if self.request is not None else ""

    @property
    def state(self) -> str:
        return self.consultation.state

    @property
    def needs_again(self) -> bool:
        return self.action == REFUND and not self.resumes and int(self.consultation.refunded_cents or 0) > 0


def _fmt(cents: int | None) -> str:
    return money.format_amount(int(cents or 0))


def _state_error(cls: type[SarapayError], command: str, row: Consultation) -> SarapayError:
    """Why `command` cannot act on the consultation in its state: a sentence per state, else a general one."""
    key = f"{command}.state.{row.state}"
    if key not in i18n.catalog():
        key = "payments.moved"
    return cls(
        key,
        consultation_id=row.id,
        captured=_fmt(row.captured_cents),
        refunded=_fmt(row.refunded_cents),
        label=statuses.label(row.state),
    )


def _load(ctx: Context, consultation_id: str) -> tuple[Consultation, Practitioner | None]:
    row = require_consultation(ctx, consultation_id)
    return row, ctx.ledger.get_practitioner(row.rpps)


def _refreshed(ctx: Context, row: Consultation, command: str) -> Consultation:
    if not row.paid_online:
        raise _state_error(BadInput, command, row)
    row = refresh.refresh_consultation(ctx, row)
    settle_pending(ctx.ledger, row)
    return row


def _known_hold(row: Consultation) -> bool:
    """An uncaptured hold the ledger knows in full, still before its deadline: capture it without reading first.

    This keeps a capture to one Stripe request. It is safe: a hold cannot grow, so the amount check holds;
    and if the hold moved meanwhile (captured elsewhere, expired), Stripe refuses the capture and `execute`
    refreshes the consultation and explains the refusal by its new state.
    """
    return bool(
        row.paid_online
        and row.state == statuses.UNCAPTURED
        and row.payment_intent_id
        and row.authorised_cents
        and row.capture_before
        and int(row.capture_before) > refresh.now()
    )


def _stripe_ids(row: Consultation, command: str, object_id: str | None) -> tuple[str, str]:
    """(connected account, `object_id`) of a consultation whose state says Stripe holds its payment or its link.
    The state checks come first, so both are there; a row without them is refused as a moved consultation."""
    if not row.account_id or not object_id:
        raise _state_error(BadInput, command, row)
    return row.account_id, object_id


def _release_plan(command: str, row: Consultation, practitioner: Practitioner | None, *,
                  resumes: bool = False) -> Plan:
    account, pi = _stripe_ids(row, command, row.payment_intent_id)
    return Plan(
        action=CANCEL, command=command, consultation=row, practitioner=practitioner, account_id=account,
        amount_cents=int(row.authorised_cents),
        request=cancel_request(account, pi, idempotency_key=ids.idempotency_key("cancel", row.id, pi)),
        resumes=resumes,
    )


def _close_link_plan(row: Consultation, practitioner: Practitioner | None, *, resumes: bool = False) -> Plan:
    account, session = _stripe_ids(row, CANCEL, row.checkout_session_id)
    return Plan(
        action=CLOSE_LINK, command=CANCEL, consultation=row, practitioner=practitioner,
        account_id=account, amount_cents=0,
        request=expire_checkout_request(account, session, idempotency_key=ids.idempotency_key("expire", row.id, session)),
        resumes=resumes,
    )


def _pending_on_open(ctx: Context, row: Consultation, action: str) -> dict[str, Any] | None:
    """A move of `action` sent earlier without an answer, while the ledger still shows the consultation as
    it was before it (its result never recorded): the re-run re-sends it. None otherwise."""
    if row.state != OPEN_STATE[action] or not row.paid_online:
        return None
    move = ctx.ledger.pending_money_move(row.id, [action])
    needed = "checkout_session_id" if action == CLOSE_LINK else "payment_intent_id"
    return move if move is not None and row.value(needed) else None


def _capture_plan(row: Consultation, practitioner: Practitioner | None, amount: int, *, resumes: bool = False,
                  key: str | None = None) -> Plan:
    account, pi = _stripe_ids(row, CAPTURE, row.payment_intent_id)
    return Plan(
        action=CAPTURE, command=CAPTURE, consultation=row, practitioner=practitioner, account_id=account,
        amount_cents=amount,
        request=capture_request(account, pi, amount,
                                idempotency_key=key or ids.idempotency_key("capture", row.id, pi, amount)),
        resumes=resumes,
    )


def prepare_capture(ctx: Context, consultation_id: str, amount_text: str | None = None) -> Plan:
    """Capture `amount_text` (default: the whole hold; 0: release it all) on an uncaptured consultation.

    A capture whose answer never arrived is resumed by `capture` without an amount (same key, same amount)."""
    ids.normalize_consultation_id(consultation_id)  # a bad id is refused before anything is opened
    amount = money.parse_amount(amount_text) if amount_text is not None else None
    if amount is not None and 0 < amount < money.MIN_CHARGE:
        raise BadInput("capture.too_small", amount=_fmt(amount), minimum=_fmt(money.MIN_CHARGE))
    row, practitioner = _load(ctx, consultation_id)
    # Re-run after a lost answer (the ledger still shows the hold): the same request again, whatever Stripe's
    # state says by now; Stripe replays its first answer.
    pending = _pending_on_open(ctx, row, CAPTURE)
    if pending is not None and amount in (None, pending["amount_cents"]):
        return _capture_plan(row, practitioner, int(pending["amount_cents"]), resumes=True, key=pending["idempotency_key"])
    if amount == 0 and _pending_on_open(ctx, row, CANCEL) is not None:
        return _release_plan(CAPTURE, row, practitioner, resumes=True)
    if not _known_hold(row):
        row = _refreshed(ctx, row, CAPTURE)
    if row.state != statuses.UNCAPTURED:
        raise _state_error(BadInput, CAPTURE, row)
    hold = int(row.authorised_cents)
    if amount == 0:
        return _release_plan(CAPTURE, row, practitioner)
    if amount is None:
        amount = hold
    if amount > hold:
        raise BadInput("capture.above_hold", amount=_fmt(amount), hold=_fmt(hold), consultation_id=row.id)
    return _capture_plan(row, practitioner, amount)


def prepare_cancel(ctx: Context, consultation_id: str) -> Plan:
    """Release the hold of an uncaptured consultation, or close the open payment link of an incomplete one."""
    ids.normalize_consultation_id(consultation_id)
    row, practitioner = _load(ctx, consultation_id)
    if not row.paid_online and row.state == statuses.NO_ONLINE_PAYMENT:
        return Plan(
            action=CANCEL_LOCAL, command=CANCEL, consultation=row, practitioner=practitioner,
            account_id=(practitioner.account_id if practitioner else None) or "—", amount_cents=0,
        )
    # Re-run after a lost answer: the same release (or link closing) again; Stripe replays its first answer.
    if _pending_on_open(ctx, row, CANCEL) is not None:
        return _release_plan(CANCEL, row, practitioner, resumes=True)
    if _pending_on_open(ctx, row, CLOSE_LINK) is not None:
        return _close_link_plan(row, practitioner, resumes=True)
    row = _refreshed(ctx, row, CANCEL)
    if row.state == statuses.UNCAPTURED:
        return _release_plan(CANCEL, row, practitioner)
    if row.state == statuses.INCOMPLETE and row.checkout_session_id:
        return _close_link_plan(row, practitioner)
    raise _state_error(BadInput, CANCEL, row)


# Stripe keeps an idempotency key for at least 24 hours; past that, replaying a key may apply it anew.
IDEMPOTENCY_KEY_LIFETIME = 24 * 3600 - 600


def _refund_plan(row: Consultation, practitioner: Practitioner | None, amount: int, key: str, *,
                 resumes: bool = False, previous: tuple[PreviousRefund, ...] = ()) -> Plan:
    account, pi = _stripe_ids(row, REFUND, row.payment_intent_id)
    return Plan(
        action=REFUND, command=REFUND, consultation=row, practitioner=practitioner, account_id=account,
        amount_cents=amount, request=refund_request(account, pi, amount, idempotency_key=key),
        resumes=resumes, previous_refunds=previous,
    )


def _previous_refunds(ctx: Context, row: Consultation) -> tuple[PreviousRefund, ...]:
    refunds = ctx.gateway.list_refunds(*_stripe_ids(row, REFUND, row.payment_intent_id))
    return tuple(
        PreviousRefund(refund_id=r["id"], amount_cents=int(r.get("amount") or 0), created=int(r.get("created") or 0),
                       status=r.get("status") or "")
        for r in refunds
        # The release of an uncaptured remainder is a Refund with no balance transaction: no money went back.
        if r.get("status") not in ("failed", "canceled") and r.get("balance_transaction")
    )


def _pending_refund(ctx: Context, row: Consultation) -> dict[str, Any] | None:
    """The refund of this consultation sent earlier without an answer, still to be re-sent with its key; None
    when there is none, or when an old one turns out (from the payment's refunds) to have been applied."""
    move = ctx.ledger.pending_money_move(row.id, [REFUND])
    if move is None:
        return None
    age = refresh.now() - int(datetime.fromisoformat(move["created_at"]).timestamp())
    if age < IDEMPOTENCY_KEY_LIFETIME:
        return move  # Stripe still knows the key: re-sending it replays the first answer
    for refund in ctx.gateway.list_refunds(*_stripe_ids(row, REFUND, row.payment_intent_id)):
        if (refund.get("metadata") or {}).get(METADATA_MOVE) == move["idempotency_key"]:
            ctx.ledger.finish_money_move(move["idempotency_key"], "done", refund["id"])
            return None
    return move  # never applied, and Stripe has forgotten the key: re-sending it applies it once


def prepare_refund(ctx: Context, consultation_id: str, amount_text: str | None = None) -> Plan:
    """Refund `amount_text` (default: all that remains) of a captured consultation.

    A refund sent earlier whose answer never arrived is resumed (same key, same amount) instead of planned anew.
    """
    ids.normalize_consultation_id(consultation_id)
    amount = money.parse_amount(amount_text) if amount_text is not None else None
    row, practitioner = _load(ctx, consultation_id)
    row = _refreshed(ctx, row, REFUND)
    pending = _pending_refund(ctx, row) if row.payment_intent_id else None
    if pending is not None:
        pending_amount = int(pending["amount_cents"])
        if amount is not None and amount != pending_amount:
            raise BadInput(
                "refund.pending_other_amount", consultation_id=row.id, pending=_fmt(pending_amount),
                pending_plain=money.format_cents_plain(pending_amount),
                when=timefmt.format_when(datetime.fromisoformat(pending["created_at"])),
            )
        return _refund_plan(row, practitioner, pending_amount, pending["idempotency_key"], resumes=True)
    if row.state not in (statuses.SUCCEEDED, statuses.PARTIALLY_REFUNDED):
        raise _state_error(BadInput, REFUND, row)
    captured, refunded = int(row.captured_cents), int(row.refunded_cents)
    remaining = captured - refunded
    if amount == 0:
        raise BadInput("refund.zero", remaining=_fmt(remaining))
    if amount is None:
        amount = remaining
    if amount > remaining:
        raise BadInput(
            "refund.above_remaining", amount=_fmt(amount), remaining=_fmt(remaining), captured=_fmt(captured),
            refunded=_fmt(refunded), consultation_id=row.id,
        )
    _, pi = _stripe_ids(row, REFUND, row.payment_intent_id)
    # What was refunded so far tells two identical partial refunds apart. The key is recorded with the move
    # before it is sent, and a re-run re-sends that recorded key (the amount refunded will have changed).
    key = ids.idempotency_key("refund", row.id, pi, refunded, amount)
    previous = _previous_refunds(ctx, row) if refunded else ()
    return _refund_plan(row, practitioner, amount, key, previous=previous)


def run(
    ctx: Context,
    command: str,
    consultation_id: str,
    prepare: Callable[[Context], Plan],
    *,
    dry_run: bool,
    present: Callable[[Plan], None],
) -> dict[str, Any] | None:
    """One money command (capture, cancel, refund) inside its audit row, whatever its outcome.

    `prepare(ctx)` plans it (one of the prepare_* above), `present(plan)` shows it: the CLI's banner, then
    its dry run or its question (raising Cancelled stops here: recorded "cancelled", nothing sent). Then,
    unless `dry_run` (recorded "dry_run"), `execute` sends it. Returns execute's result, None for a dry run.
    The audit row names the request that moved money, with the plan's action, amount and idempotency key."""
    with ctx.audited(command, audit_target(consultation_id)) as entry:
        plan = prepare(ctx)
        entry.detail = f"{plan.action} {plan.amount_cents} {plan.idempotency_key}"
        present(plan)
        if dry_run:
            entry.outcome = "dry_run"
            return None
        result = execute(ctx, plan)
        entry.request_id = result["request_id"]
        return result


def again_needed(plan: Plan) -> SarapayError:
    """The refusal of a second refund that was not said to be meant (--again under --yes)."""
    refunds = ", ".join(
        f"{_fmt(r.amount_cents)} {timefmt.format_when(r.created)}"
        for r in plan.previous_refunds
    ) or _fmt(plan.consultation.refunded_cents)
    return Cancelled(
        "refund.again_needed", consultation_id=plan.consultation_id, refunded=_fmt(plan.consultation.refunded_cents),
        refunds=refunds, amount=_fmt(plan.amount_cents),
    )


# Test hook (tests/reliability): the process dies right here, after Stripe answered and before the ledger
# knows, as a `kill -9` or a power cut would do it. `status --refresh` and `reconcile` must then heal the row.
TEST_CRASH_ENV = "SARAPAY_TEST_CRASH_AFTER"


def _crash_point(name: str) -> None:
    if os.environ.get(TEST_CRASH_ENV) == name:
        os._exit(137)


def _send(ctx: Context, plan: Plan) -> tuple[Answer[dict[str, Any]], dict[str, Any] | None]:
    """Sends the plan's request as it was planned; returns (Stripe's answer, the PaymentIntent when Stripe
    answers with one: a capture or a release)."""
    if plan.request is None:
        raise ValueError(plan.action)
    answer = ctx.gateway.send(plan.request)
    return answer, (answer.data if plan.action in (CAPTURE, CANCEL) else None)


def execute(ctx: Context, plan: Plan) -> dict[str, Any]:
    """Sends the planned request and brings the ledger up to date.

    Returns {"action", "consultation" (the row after), "amount_cents", "request_id", "replayed",
    "refresh_failed", "resumed"}. Raises BadInput when the consultation moved since the plan (nothing sent),
    StripeRefused when Stripe refuses (the consultation refreshed, the refusal explained by its state),
    StripeUnavailable ("payments.outcome_unknown") when Stripe did not answer, and Interrupted
    ("payments.interrupted") on Ctrl-C during the request: money may have moved, and the move stays pending
    so that a re-run sends the same key."""
    with one_at_a_time(ctx, plan.consultation_id):
        return _execute(ctx, plan)


def _check_unchanged(ctx: Context, plan: Plan) -> None:
    """Nothing is sent if the consultation moved since the plan (another terminal, a cron job)."""
    cid = plan.consultation_id
    if plan.resumes:
        move = ctx.ledger.get_money_move(plan.idempotency_key)
        if move is None or move["state"] != "pending":
            # Another terminal (or machine) finished it while this one waited for the lock: say where that left
            # the consultation ("déjà capturée") when there is a sentence for it, as for any other moved state.
            current = ctx.ledger.get_consultation(cid)
            if current is not None and f"{plan.command}.state.{current.state}" in i18n.catalog():
                raise _state_error(BadInput, plan.command, current)
            raise BadInput("payments.finished_elsewhere", consultation_id=cid)
        return
    current = ctx.ledger.get_consultation(cid)
    if (
        current is None
        or current.state != plan.state
        or int(current.refunded_cents or 0) != int(plan.consultation.refunded_cents or 0)
    ):
        raise _state_error(BadInput, plan.command, current or plan.consultation)
    # Another refund whose answer was lost must be finished first (prepare_refund resumes it): two refunds in
    # doubt at once could not be told apart. Captures and releases need no such rule: Stripe moves a hold once.
    other = ctx.ledger.pending_money_move(cid, [REFUND]) if plan.action == REFUND else None
    if other is not None and other["idempotency_key"] != plan.idempotency_key:
        raise BadInput(
            "payments.pending_other", consultation_id=cid, what=describe(other["action"], int(other["amount_cents"]))
        )
    ctx.ledger.begin_money_move(plan.idempotency_key, cid, plan.action, plan.amount_cents)


def _cancel_locally(ctx: Context, plan: Plan) -> dict[str, Any]:
    """A consultation without online payment: only the ledger changes (compare-and-set, as for money)."""
    cid = plan.consultation_id
    note = i18n.t("payments.cancel_local_note")
    if not ctx.ledger.update_if_state(cid, statuses.NO_ONLINE_PAYMENT, state=statuses.CANCELED, note=note):
        raise _state_error(BadInput, plan.command, ctx.ledger.get_consultation(cid) or plan.consultation)
    return {"action": CANCEL_LOCAL, "consultation": ctx.ledger.get_consultation(cid), "amount_cents": 0,
            "request_id": None, "replayed": False, "refresh_failed": False, "resumed": False}


def _execute(ctx: Context, plan: Plan) -> dict[str, Any]:
    cid = plan.consultation_id
    if plan.action == CANCEL_LOCAL:
        return _cancel_locally(ctx, plan)
    what = describe(plan.action, plan.amount_cents)
    ctx.resolve_key()  # before anything is recorded
    _check_unchanged(ctx, plan)  # from here the move is recorded as pending, with its key
    if plan.action == CLOSE_LINK:
        # Said before asking Stripe: the session that expires now was closed on purpose (« Annulé »).
        ctx.ledger.update_consultation(cid, closed_on_purpose=True)
    try:
        answer, payment_intent = _send(ctx, plan)
    except Interrupted as exc:
        raise Interrupted("payments.interrupted", consultation_id=cid, what=what).with_stripe(exc) from None
    except ConfigError:  # Stripe refused the key itself: nothing was applied, nothing is pending
        _forget(ctx, plan)
        raise
    except StripeUnavailable as exc:
        if not exc.outcome_unknown:  # nothing reached Stripe (connection refused): nothing is pending either
            _forget(ctx, plan)
            raise
        raise StripeUnavailable("payments.outcome_unknown", consultation_id=cid, what=what).with_stripe(exc) from None
    except StripeRefused as exc:
        ctx.ledger.finish_money_move(plan.idempotency_key, "refused")
        if plan.action == CLOSE_LINK:
            ctx.ledger.update_consultation(cid, closed_on_purpose=False)
        try:
            after = refresh.refresh_consultation(ctx, ctx.ledger.get_consultation(cid) or plan.consultation)
        except SarapayError:
            raise exc from None
        if after.state != plan.state:
            settle_pending(ctx.ledger, after)
            raise _state_error(StripeRefused, plan.command, after).with_stripe(exc) from None
        raise
    # Stripe answered: the money moved (or the answer replays the time it did). Recorded before anything else.
    try:
        _crash_point("stripe")
        ctx.ledger.finish_money_move(plan.idempotency_key, "done", answer.data.get("id"))
        result = _record(ctx, plan, answer, payment_intent)
        settle_pending(ctx.ledger, result["consultation"])  # an earlier capture or release in doubt did not happen
        return result
    except (Interrupted, KeyboardInterrupt):
        raise Interrupted("payments.interrupted_after", consultation_id=cid, what=what) from None
    except ConfigError as exc:  # disk full, file gone read-only...: the money moved, our copy is behind
        raise ConfigError("payments.ledger_behind", consultation_id=cid, what=what, reason=exc.message) from exc


def _forget(ctx: Context, plan: Plan) -> None:
    ctx.ledger.forget_money_move(plan.idempotency_key)
    if plan.action == CLOSE_LINK:
        ctx.ledger.update_consultation(plan.consultation_id, closed_on_purpose=False)


def _record(ctx: Context, plan: Plan, answer: Answer[dict[str, Any]], payment_intent: dict[str, Any] | None) -> dict[str, Any]:
    """Brings the ledger up to date after Stripe answered; returns execute's result, which names the request
    that moved money (`answer`), not the reads after it."""
    cid = plan.consultation_id
    row = ctx.ledger.get_consultation(cid) or plan.consultation
    refresh_failed = False
    if payment_intent is not None:
        # Capture and cancel answer with the PaymentIntent (capture: charge and fee expanded): no extra call.
        row = refresh.apply_stripe_state(ctx.ledger, row, None, payment_intent, refresh.stripe_now(ctx))
    else:
        try:
            row = refresh.refresh_consultation(ctx, row)
        except SarapayError:
            refresh_failed = True  # the money moved; only our copy is behind (status --refresh catches up)
    return {
        "action": plan.action,
        "consultation": row,
        "amount_cents": plan.amount_cents,
        "request_id": answer.request_id,
        "replayed": answer.replayed,
        "refresh_failed": refresh_failed,
        "resumed": plan.resumes,
    }
