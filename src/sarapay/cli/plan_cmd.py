"""`sarapay plan` and `sarapay pay-link`: planning a teleconsultation and the patient's payment link."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import consultation_ids, rpps_numbers

if TYPE_CHECKING:
    from sarapay.records import Consultation
    from datetime import datetime

i18n.register(
    {
        "plan.done_unpaid": {
            "fr": "Consultation {consultation_id} planifiée le {when} avec le praticien {rpps}, sans paiement en ligne.",
            "en": "Consultation {consultation_id} planned on {when} with practitioner {rpps}, without online payment.",
        },
        "plan.done_paid": {
            "fr": "Consultation {consultation_id} planifiée le {when} avec le praticien {rpps} : empreinte bancaire de {amount} "
            "au plus. Envoyez au patient le lien ci-dessous (valable jusqu'au {expires}).",
            "en": "Consultation {consultation_id} planned on {when} with practitioner {rpps}: card hold of at most {amount}. "
            "Send the patient the link below (valid until {expires}).",
        },
        "plan.prefilled": {
            "fr": "La page de paiement est préremplie pour {email}.",
            "en": "The payment page is prefilled for {email}.",
        },
        "paylink.done": {
            "fr": "Nouveau lien de paiement pour {consultation_id} ({amount} au plus), valable jusqu'au {expires} : "
            "l'ancien lien ne fonctionne plus.",
            "en": "New payment link for {consultation_id} ({amount} at most), valid until {expires}: the old link no longer works.",
        },
        "paylink.issued_meanwhile": {
            "fr": "Une autre commande vient d'émettre un nouveau lien pour {consultation_id} ({amount} au plus), valable "
            "jusqu'au {expires} : c'est celui-ci, un seul lien est ouvert.",
            "en": "Another command just issued a new link for {consultation_id} ({amount} at most), valid until {expires}: "
            "this is it, only one link is open.",
        },
        "paylink.paid_on_replay": {
            "fr": "La consultation {consultation_id} est maintenant « {label} » : pas de nouveau lien.",
            "en": "Consultation {consultation_id} is now “{label}”: no new link.",
        },
    }
)


def _machine(row: Consultation, url: Optional[str]) -> dict[str, Any]:
    from sarapay.timefmt import iso_utc

    expires = row.link_expires_at
    return {
        "id": row.id,
        "state": row.state,
        "rpps": row.rpps,
        "scheduled_at": row.scheduled_at,
        "paid_online": bool(row.paid_online),
        "max_cents": row.max_cents,
        "currency": row.currency or "eur",
        "patient_ref": row.patient_ref,
        "url": url,
        "expires_at": iso_utc(expires) if url and expires else None,
    }


def _warn(warnings: list[tuple[str, dict[str, Any]]]) -> None:
    from sarapay.render import console

    for key, params in warnings:
        console.warn(i18n.t(key, **params))


@app.command(
    "plan",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemple : sarapay plan 10000012343 --at \"01/12/2026 10:30\" --paid --max 20 --patient-ref P-0042 "
    "--email patient@example.fr",
)
def plan(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., help="RPPS du praticien (11 chiffres, ou 12 commençant par 8).", autocompletion=rpps_numbers),
    at: str = typer.Option(..., "--at", help="Date et heure de la téléconsultation, heure de Paris : « 01/12/2026 10:30 »."),
    paid: bool = typer.Option(False, "--paid", help="Paiement en ligne : crée la page de paiement (empreinte bancaire)."),
    max_amount: Optional[str] = typer.Option(
        None, "--max", help="Montant maximal de l'empreinte (avec --paid) : « 20 », « 20,50 ». Au plus le maximum du praticien."
    ),
    patient_ref: Optional[str] = typer.Option(
        None, "--patient-ref", help="Référence opaque du patient dans le portail (jamais envoyée à Stripe)."
    ),
    email: Optional[str] = typer.Option(None, "--email", help="E-mail du patient, pour préremplir la page de paiement (avec --paid)."),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (centimes, heures ISO 8601 UTC)."),
) -> None:
    """Planifie une téléconsultation, avec ou sans paiement en ligne.

    Avec --paid, crée sur le compte Stripe du praticien une page de paiement (empreinte bancaire du montant
    maximal, capturée après l'acte) et affiche son lien, à envoyer au patient ; il vit 24 h. Le compte doit
    pouvoir accepter les cartes (inscription Stripe terminée) : sinon rien n'est créé, et
    « sarapay link RPPS --check » dit ce qui manque. Sans --paid, la consultation est notée « Sans paiement
    en ligne » et rien n'est envoyé à Stripe.
    """
    from sarapay.render import console, machine
    from sarapay.ids import mask_email
    from sarapay.money import format_amount
    from sarapay.services import consultations
    from sarapay.services.context import Context
    from sarapay.timefmt import format_when

    with Context(live=global_options(ctx).live) as context:
        result = consultations.plan(context, rpps, at, paid=paid, max_text=max_amount, patient_ref=patient_ref, email=email)
    row = result["consultation"]
    url = result["url"]
    when = format_when(_iso_to_datetime(row.scheduled_at))
    if as_json:
        machine.emit_json(_machine(row, url))
    else:
        console.data_line(row.id)
        if url:
            console.data_line(url)
    if row.paid_online:
        expires = format_when(row.link_expires_at) if row.link_expires_at else "-"
        console.message(
            i18n.t("plan.done_paid", consultation_id=row.id, when=when, rpps=row.rpps,
                   amount=format_amount(row.max_cents), expires=expires)
        )
        if row.patient_email:
            console.message(i18n.t("plan.prefilled", email=mask_email(row.patient_email)))
    else:
        console.message(i18n.t("plan.done_unpaid", consultation_id=row.id, when=when, rpps=row.rpps))
    _warn(result["warnings"])


def _iso_to_datetime(text: str) -> datetime:
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@app.command(
    "pay-link",
    rich_help_panel=PANEL_SUPPORT,
    epilog="Exemple : sarapay pay-link TC-8F3K2Q",
)
def pay_link(
    ctx: typer.Context,
    consultation: str = typer.Argument(..., help="Identifiant de la consultation (TC-…).", autocompletion=consultation_ids),
    as_json: bool = typer.Option(False, "--json", help="Sortie JSON (heures ISO 8601 UTC)."),
) -> None:
    """Émet un nouveau lien de paiement quand le précédent a expiré (ou l'empreinte).

    Le lien encore ouvert, s'il y en a un, est fermé d'abord : un seul lien peut être payé. Refusé si la
    consultation est sans paiement en ligne, si le patient a déjà laissé son empreinte, ou si elle est
    capturée, annulée ou remboursée.
    """
    from sarapay.render import console, machine
    from sarapay.money import format_amount
    from sarapay.services import consultations
    from sarapay.services.context import Context
    from sarapay.statuses import label
    from sarapay.timefmt import format_when

    with Context(live=global_options(ctx).live) as context:
        result = consultations.pay_link(context, consultation)
    row = result["consultation"]
    url = result["url"]
    if as_json:
        machine.emit_json(_machine(row, url))
    elif url:
        console.data_line(url)
    if url:
        expires = format_when(row.link_expires_at) if row.link_expires_at else "-"
        done = "paylink.issued_meanwhile" if result.get("issued_meanwhile") else "paylink.done"
        console.message(i18n.t(done, consultation_id=row.id, amount=format_amount(row.max_cents), expires=expires))
    else:
        console.message(i18n.t("paylink.paid_on_replay", consultation_id=row.id, label=label(row.state)))
