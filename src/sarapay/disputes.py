"""Stripe disputes in the portal's words: reasons and statuses in French and English, and where the
practitioner answers. Pure: what a dispute means for the consultation's state is statuses.with_dispute.

Reasons are Stripe's (the Dispute object's `reason`, docs.stripe.com/disputes/categories); a reason Stripe
adds later is shown as its code. The practitioner owns the connected account (direct charges): the dispute
lives there, and they answer it in their own Stripe dashboard, on the dispute's page.
"""

from __future__ import annotations

from sarapay import i18n

# Stripe's reason codes -> (short label for an 80-column table, sentence).
_REASONS: dict[str, dict[str, tuple[str, str]]] = {
    "bank_cannot_process": {"fr": ("Refus banque", "la banque ne peut pas traiter le paiement"),
                            "en": ("Bank refusal", "the bank cannot process the payment")},
    "check_returned": {"fr": ("Chèque rejeté", "chèque rejeté"), "en": ("Check returned", "check returned")},
    "credit_not_processed": {"fr": ("Rembt. attendu", "le patient attendait un remboursement"),
                             "en": ("Credit missing", "the patient expected a refund")},
    "customer_initiated": {"fr": ("Patient", "contestation à l'initiative du patient"),
                           "en": ("Customer", "initiated by the patient")},
    "debit_not_authorized": {"fr": ("Non autorisé", "prélèvement non autorisé"),
                             "en": ("Not authorised", "debit not authorised")},
    "duplicate": {"fr": ("Doublon", "paiement en double"), "en": ("Duplicate", "charged twice")},
    "fraudulent": {"fr": ("Fraude", "le titulaire de la carte ne reconnaît pas le paiement (fraude)"),
                   "en": ("Fraud", "the cardholder does not recognise the payment (fraud)")},
    "general": {"fr": ("Général", "motif général"), "en": ("General", "general reason")},
    "incorrect_account_details": {"fr": ("Coordonnées", "coordonnées bancaires erronées"),
                                  "en": ("Account details", "incorrect account details")},
    "insufficient_funds": {"fr": ("Provision", "fonds insuffisants"), "en": ("Funds", "insufficient funds")},
    "noncompliant": {"fr": ("Règles réseau", "non conforme aux règles du réseau de cartes"),
                     "en": ("Network rules", "not compliant with the card network's rules")},
    "product_not_received": {"fr": ("Non reçue", "le patient dit ne pas avoir reçu la prestation"),
                             "en": ("Not received", "the patient says the service was not received")},
    "product_unacceptable": {"fr": ("Contestée", "le patient conteste la prestation reçue"),
                             "en": ("Unacceptable", "the patient disputes the service received")},
    "subscription_canceled": {"fr": ("Abonnement", "abonnement résilié"), "en": ("Subscription", "subscription canceled")},
    "unrecognized": {"fr": ("Inconnu", "paiement non reconnu"), "en": ("Unrecognised", "payment not recognised")},
}

_STATUSES: dict[str, dict[str, str]] = {
    "warning_needs_response": {"fr": "Demande à traiter", "en": "Inquiry to answer"},
    "warning_under_review": {"fr": "Demande en examen", "en": "Inquiry under review"},
    "warning_closed": {"fr": "Demande close", "en": "Inquiry closed"},
    "needs_response": {"fr": "À répondre", "en": "To answer"},
    "under_review": {"fr": "En examen", "en": "Under review"},
    "won": {"fr": "Gagnée", "en": "Won"},
    "lost": {"fr": "Perdue", "en": "Lost"},
    "prevented": {"fr": "Évitée", "en": "Prevented"},
}

DASHBOARD = "https://dashboard.stripe.com"

i18n.register({f"dispute.reason.{code}": {lang: texts[lang][1] for lang in texts} for code, texts in _REASONS.items()})
i18n.register({f"dispute.reason_short.{code}": {lang: texts[lang][0] for lang in texts} for code, texts in _REASONS.items()})
i18n.register({f"dispute.status.{code}": texts for code, texts in _STATUSES.items()})


def reason_label(code: str | None, *, short: bool = False, lang: str | None = None) -> str:
    """`fraudulent` → « Fraude » (short) or the sentence; an unknown code is shown as it is."""
    texts = _REASONS.get(code or "")
    if texts is None:
        return code or ""
    return texts[lang or i18n.get_lang()][0 if short else 1]  # the texts registered as dispute.reason(_short).*


def status_label(code: str | None, *, lang: str | None = None) -> str:
    """`needs_response` → « À répondre »; an unknown status is shown as it is."""
    texts = _STATUSES.get(code or "")
    return texts[lang or i18n.get_lang()] if texts else (code or "")


def dashboard_url(dispute_id: str, *, livemode: bool) -> str:
    """The dispute's page in the practitioner's Stripe dashboard (test-mode objects live under /test)."""
    return f"{DASHBOARD}{'' if livemode else '/test'}/disputes/{dispute_id}"
