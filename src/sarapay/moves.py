"""Money moves (capture, release, link closing, refund, pay-link's replacement of a link): the rules the
`money_moves` table, payments, pay-link, reconcile and the views share, defined once.

A move is recorded with its idempotency key before it is sent (docs/architecture.md, "Money moves once").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sarapay import i18n, money, statuses

if TYPE_CHECKING:
    from sarapay.ledger import Ledger
    from sarapay.records import Consultation

CAPTURE, CANCEL, CLOSE_LINK, REFUND, REPLACE_LINK = "capture", "cancel", "close_link", "refund", "replace_link"

# The state a consultation is in while a move of that kind can still be waiting for its answer. Once Stripe's
# state shows the consultation left it (whichever way it went), the move is settled. A refund cannot be told
# from the state: it stays pending until it is re-run.
OPEN_STATE = {CAPTURE: statuses.UNCAPTURED, CANCEL: statuses.UNCAPTURED, CLOSE_LINK: statuses.INCOMPLETE}

# The command that finishes a move left without an answer (commands are not translated).
COMMANDS = {
    CAPTURE: "sarapay capture {consultation_id}",
    CANCEL: "sarapay cancel {consultation_id}",
    CLOSE_LINK: "sarapay cancel {consultation_id}",
    REFUND: "sarapay refund {consultation_id} {amount}",
    REPLACE_LINK: "sarapay pay-link {consultation_id}",
}

i18n.register(
    {
        # What a money move is, inside a sentence.
        "moves.what.capture": {"fr": "capture de {amount}", "en": "capture of {amount}"},
        "moves.what.cancel": {"fr": "libération de l'empreinte de {amount}", "en": "release of the {amount} hold"},
        "moves.what.close_link": {"fr": "fermeture du lien de paiement", "en": "closing of the payment link"},
        "moves.what.refund": {"fr": "remboursement de {amount}", "en": "refund of {amount}"},
        "moves.what.replace_link": {"fr": "remplacement du lien de paiement", "en": "replacement of the payment link"},
        "moves.what.cancel_local": {"fr": "annulation de la consultation", "en": "cancellation of the consultation"},
    }
)


def describe(action: str, amount_cents: int) -> str:
    """"capture de 20,00 €": a money move inside a sentence."""
    return i18n.t(f"moves.what.{action}", amount=money.format_amount(int(amount_cents or 0)))


def rerun_command(consultation_id: str, move: dict[str, Any]) -> str:
    """The command line that finishes `move` (re-running it sends the same key: the money moves once)."""
    return COMMANDS[move["action"]].format(
        consultation_id=consultation_id, amount=money.format_cents_plain(int(move.get("amount_cents") or 0))
    )


def settle_pending(ledger: Ledger, row: Consultation) -> None:
    """Marks `settled` the consultation's pending captures, releases and link closings whose open state it has
    left, as Stripe's state (just read into `row`) shows."""
    for action, open_state in OPEN_STATE.items():
        if row.state == open_state:
            continue
        move = ledger.pending_money_move(row.id, [action])
        if move is not None:
            ledger.finish_money_move(move["idempotency_key"], "settled")
