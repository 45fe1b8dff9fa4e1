"""`sarapay reconcile`: what needs action, as a table on a terminal or plain lines for cron."""

from __future__ import annotations

from typing import Any, Iterable

from sarapay import i18n
from sarapay.render import cells, console


# --- reconcile --------------------------------------------------------------------------------------------

i18n.register(
    {
        "view.reconcile.hold_expiring": {"fr": "Empreinte à capturer", "en": "Hold to capture"},
        "view.reconcile.hold_expired": {"fr": "Empreinte expirée", "en": "Hold expired"},
        "view.reconcile.link_expired": {"fr": "Lien expiré avant la consultation", "en": "Link expired before the consultation"},
        "view.reconcile.declined": {"fr": "Carte refusée", "en": "Card declined"},
        "view.reconcile.abandoned": {"fr": "Paiement abandonné", "en": "Payment abandoned"},
        "view.reconcile.account_refused": {"fr": "Compte Stripe inaccessible", "en": "Stripe account unreachable"},
        "view.reconcile.dispute_new": {"fr": "Paiement contesté", "en": "Payment disputed"},
        "view.reconcile.dispute_deadline": {"fr": "Contestation à répondre", "en": "Dispute to answer"},
        "view.reconcile.move_in_doubt": {
            "fr": "Sans réponse de Stripe, à relancer",
            "en": "No answer from Stripe, to run again",
        },
        "view.reconcile.account_disconnected": {"fr": "Praticien déconnecté de la plateforme", "en": "Practitioner disconnected the platform"},
        "view.col.what": {"fr": "À traiter", "en": "Needs action"},
        "view.col.practitioner": {"fr": "Praticien", "en": "Practitioner"},
        "view.col.due": {"fr": "Échéance (Paris)", "en": "Deadline (Paris)"},
    }
)



i18n.register(
    {
        "view.move_in_doubt": {
            "fr": "Envoyé à Stripe le {when} sans réponse : {what}. Relancez « {command} » "
            "(sans risque : même clé d'idempotence, l'argent ne bouge qu'une fois).",
            "en": "Sent to Stripe on {when} without an answer: {what}. Run '{command}' again "
            "(safe: same idempotency key, money moves only once).",
        },
    }
)


def move_in_doubt_text(consultation_id: str, move: dict[str, Any]) -> str:
    """The sentence for a money move sent without an answer, naming the command to re-run."""
    from sarapay import moves

    return i18n.t(
        "view.move_in_doubt", when=cells.when(move["created_at"]), what=moves.describe(move["action"], move["amount_cents"]),
        command=moves.rerun_command(consultation_id, move),
    )


i18n.register(
    {
        # Card declines as the patient's bank gives them (Stripe's decline_code), said in words.
        "view.decline.generic_decline": {"fr": "refusée par la banque", "en": "declined by the bank"},
        "view.decline.do_not_honor": {"fr": "refusée par la banque", "en": "declined by the bank"},
        "view.decline.insufficient_funds": {"fr": "fonds insuffisants", "en": "insufficient funds"},
        "view.decline.lost_card": {"fr": "carte déclarée perdue", "en": "card reported lost"},
        "view.decline.stolen_card": {"fr": "carte déclarée volée", "en": "card reported stolen"},
        "view.decline.expired_card": {"fr": "carte expirée", "en": "expired card"},
        "view.decline.incorrect_cvc": {"fr": "cryptogramme incorrect", "en": "incorrect security code"},
        "view.decline.card_velocity_exceeded": {"fr": "plafond de la carte atteint", "en": "card limit reached"},
        "view.decline.fraudulent": {"fr": "refusée (suspicion de fraude)", "en": "declined (suspected fraud)"},
        # The plain lines of reconcile (cron mail): labelled dates and what to do next.
        "view.reconcile.due_at": {"fr": "échéance {when}", "en": "deadline {when}"},
        "view.reconcile.visit_at": {"fr": "consultation {when}", "en": "consultation {when}"},
        "view.reconcile.next": {"fr": "à faire : {step}", "en": "next: {step}"},
        "view.reconcile.next.hold_expiring": {
            "fr": "capturer après l'acte (sarapay capture {cid}) ou libérer (sarapay cancel {cid})",
            "en": "capture after the act (sarapay capture {cid}) or release (sarapay cancel {cid})",
        },
        "view.reconcile.next.move_in_doubt": {"fr": "relancer la commande ci-dessus (sans risque)", "en": "run the command above again (safe)"},
        "view.reconcile.next.dispute_deadline": {
            "fr": "le praticien répond dans son tableau de bord Stripe (sarapay disputes --open)",
            "en": "the practitioner answers in their Stripe dashboard (sarapay disputes --open)",
        },
        "view.reconcile.next.hold_expired": {
            "fr": "si l'acte est à payer, nouveau lien : sarapay pay-link {cid}",
            "en": "if the act is to be paid, a new link: sarapay pay-link {cid}",
        },
        "view.reconcile.next.dispute_new": {"fr": "voir sarapay disputes --open", "en": "see sarapay disputes --open"},
        "view.reconcile.next.account_disconnected": {
            "fr": "voir avec le praticien (sarapay link {rpps} --check)",
            "en": "see with the practitioner (sarapay link {rpps} --check)",
        },
        "view.reconcile.next.link_expired": {
            "fr": "envoyer un nouveau lien : sarapay pay-link {cid}",
            "en": "send a new link: sarapay pay-link {cid}",
        },
        "view.reconcile.next.declined": {
            "fr": "le patient peut réessayer avec une autre carte sur le même lien",
            "en": "the patient can try again with another card on the same link",
        },
        "view.reconcile.next.abandoned": {
            "fr": "relancer le patient (sarapay pay-link {cid}) ou fermer (sarapay cancel {cid})",
            "en": "remind the patient (sarapay pay-link {cid}) or close it (sarapay cancel {cid})",
        },
        "view.reconcile.next.account_refused": {
            "fr": "vérifier l'appariement : sarapay link {rpps} --check",
            "en": "check the pairing: sarapay link {rpps} --check",
        },
    }
)


def decline_text(code: str | None) -> str | None:
    """A decline code in words when it is a known one, else the code itself."""
    key = f"view.decline.{code}"
    return i18n.t(key) if code and key in i18n.catalog() else code


def _reconcile_cells(item: dict[str, Any]) -> list[str]:
    none = i18n.t("view.none")
    who = item["rpps"] + (f" ({item['practitioner']})" if item.get("practitioner") else "")
    detail = item.get("detail")
    if item["kind"] == "declined":
        detail = decline_text(detail)
    if item.get("dispute_id"):
        from sarapay import disputes

        detail = disputes.reason_label(detail, short=True)
    elif item["kind"] == "move_in_doubt" and detail:  # the command to re-run (same key: the money moves once)
        from sarapay import moves

        detail = moves.rerun_command(item.get("consultation_id") or "", {"action": detail, "amount_cents": item.get("amount_cents")})
    return [
        i18n.t(f"view.reconcile.{item['kind']}") + (f" ({detail})" if detail else ""),
        item.get("consultation_id") or none,
        who,
        cells.amount(item.get("amount_cents"), item.get("currency") or "eur"),
        cells.when(item.get("deadline")),
        cells.when(item.get("scheduled_at")),
    ]


def reconcile_items(items: Iterable[dict[str, Any]]) -> int:
    """What reconcile found (machine items of services.reconcile.report_document): a table on a terminal
    (fitting 80 columns: the practitioner's name under the RPPS, the consultation's date left to the plain
    lines and --json), one plain line per item otherwise (cron mail, logs: no box drawing, nothing wrapped)."""
    items = list(items)
    if console.out().is_terminal:
        table = cells.new_table("view.col.what", "view.col.consultation", "view.col.practitioner", "view.col.amount", "view.col.due",
                       right=("view.col.amount",))
        table.columns[0].no_wrap = False
        table.columns[0].min_width = 14
        for item in items:
            row = _reconcile_cells(item)
            who = item["rpps"] + (f"\n{item['practitioner']}" if item.get("practitioner") else "")
            table.add_row(row[0], row[1], who, row[3], row[4])
        console.print_data(table)
    else:
        for item in items:
            console.data_line(_reconcile_line(item))
    return len(items)


def _reconcile_line(item: dict[str, Any]) -> str:
    """One plain line (cron mail, logs): what, which consultation, who, how much, the dates named, what to do."""
    what, consultation, who, amount = _reconcile_cells(item)[:4]
    parts = [what, consultation, who, amount]
    if item.get("deadline"):
        parts.append(i18n.t("view.reconcile.due_at", when=cells.when(item["deadline"])))
    if item.get("scheduled_at"):
        parts.append(i18n.t("view.reconcile.visit_at", when=cells.when(item["scheduled_at"])))
    step_key = f"view.reconcile.next.{item['kind']}"
    if step_key in i18n.catalog():
        step = i18n.t(step_key, cid=item.get("consultation_id") or "", rpps=item.get("rpps") or "")
        parts.append(i18n.t("view.reconcile.next", step=step))
    return " · ".join(parts)
