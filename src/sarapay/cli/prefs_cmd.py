"""`sarapay prefs`: a practitioner's default maximum per teleconsultation, the language of their emails, and the
practitioners' list.

Typer wiring only; the rules (bounds, the 70 € written-information threshold) are in
services/practitioners.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from sarapay import i18n
from sarapay.render import console, machine
from sarapay.render.practitioners import practitioners_table
from sarapay.cli.app import PANEL_SUPPORT, app, global_options
from sarapay.cli.completion import rpps_numbers

if TYPE_CHECKING:
    from sarapay.services.context import Context

i18n.register(
    {
        "prefs.set": {
            "fr": "Maximum par défaut du praticien {rpps} : {amount} (avant : {previous}).",
            "en": "Default maximum of practitioner {rpps}: {amount} (before: {previous}).",
        },
        "prefs.written_information": {
            "fr": "Attention : à partir de 70,00 € d'honoraires, le patient doit recevoir une information écrite préalable "
            "sur le tarif (CSP L.1111-3, R.4127-53) ; assurez-vous que le portail la fournit.",
            "en": "Warning: from €70.00 in fees, the patient must receive a written prior information about the fee "
            "(CSP L.1111-3, R.4127-53); make sure the portal provides it.",
        },
        "prefs.lang_set": {
            "fr": "Langue des e-mails du praticien {rpps} : {lang} (avant : {previous}).",
            "en": "Language of the emails of practitioner {rpps}: {lang} (before: {previous}).",
        },
        "prefs.none": {
            "fr": "Aucun praticien enregistré : commencez par « sarapay link RPPS --email EMAIL ».",
            "en": "No practitioner registered: start with 'sarapay link RPPS --email EMAIL'.",
        },
    }
)

prefs_app = typer.Typer(
    name="prefs",
    help="Préférences des praticiens : maximum par défaut d'une téléconsultation, langue des e-mails de rappel.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
app.add_typer(prefs_app, name="prefs", rich_help_panel=PANEL_SUPPORT)


def _context(ctx: typer.Context) -> Context:
    from sarapay.services.context import Context

    return Context(live=global_options(ctx).live)


@prefs_app.command(
    "set-max",
    # "-3" is a (negative) amount to refuse with its own sentence, not an unknown option.
    context_settings={"ignore_unknown_options": True},
    epilog="Exemple : [bold]sarapay prefs set-max 10000000017 30[/] (ou « 25,50 », « 25.50 € »)",
)
def set_max(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Numéro RPPS du praticien (déjà enregistré par sarapay link).", autocompletion=rpps_numbers),
    amount: str = typer.Argument(..., metavar="MONTANT", help="En euros : 25, 25,50, 25.50 ou 25,50 € (de 0,50 € à 500,00 €)."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON (montants en centimes)."),
) -> None:
    """Fixe le maximum par défaut d'une téléconsultation pour un praticien (le montant annoncé au patient).

    Une consultation peut être planifiée pour moins, jamais pour plus. À partir de 70 €, une information écrite préalable du patient est requise : sarapay le rappelle.
    """
    from sarapay.money import format_amount
    from sarapay.services import practitioners as svc

    with _context(ctx) as context:
        result = svc.set_default_max(context, rpps, amount)
    row = result["practitioner"]
    if json_out:
        machine.emit_json(
            {**svc.practitioner_view(row), "previous_cents": result["previous_cents"],
             "written_information_required": result["written_information_required"]}
        )
    else:
        console.data_line(format_amount(result["default_max_cents"]))
        console.message(
            i18n.t("prefs.set", rpps=row.rpps, amount=format_amount(result["default_max_cents"]),
                   previous=format_amount(result["previous_cents"]))
        )
    if result["written_information_required"]:
        console.warn(i18n.t("prefs.written_information"))


@prefs_app.command(
    "set-lang",
    epilog="Exemples : [bold]sarapay prefs set-lang 10000000017 en[/] · [bold]sarapay prefs set-lang 10000000017 fr[/] (défaut)",
)
def set_lang(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Numéro RPPS du praticien (déjà enregistré par sarapay link).", autocompletion=rpps_numbers),
    lang: str = typer.Argument(..., metavar="fr|en", help="fr (français, par défaut) ou en (anglais)."),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON."),
) -> None:
    """Fixe la langue des e-mails envoyés au praticien (rappels d'empreintes à capturer) : français par défaut, ou anglais."""
    from sarapay.services import practitioners as svc

    with _context(ctx) as context:
        result = svc.set_lang(context, rpps, lang)
    row = result["practitioner"]
    if json_out:
        machine.emit_json({**svc.practitioner_view(row), "previous_lang": result["previous"]})
    else:
        console.data_line(result["lang"])
        console.message(i18n.t("prefs.lang_set", rpps=row.rpps, lang=result["lang"], previous=result["previous"]))


@prefs_app.command("show", epilog="Exemples : [bold]sarapay prefs show[/] · [bold]sarapay prefs show 10000000017 --json[/]")
def show(
    ctx: typer.Context,
    rpps: Optional[str] = typer.Argument(None, metavar="[RPPS]", help="Un seul praticien (sinon tous).", autocompletion=rpps_numbers),
    json_out: bool = typer.Option(False, "--json", help="Sortie JSON : e-mails en clair, montants en centimes, heures ISO 8601 UTC."),
) -> None:
    """Affiche les praticiens enregistrés : RPPS, nom, e-mail (masqué), compte Stripe, mode de liaison, maximum par défaut,
    langue des e-mails."""
    from sarapay.services import practitioners as svc

    with _context(ctx) as context:
        rows = [svc.require_practitioner(context, rpps)] if rpps is not None else svc.list_practitioners(context)
    for row in rows:
        if row.disconnected_at:
            console.warn(i18n.t("practitioners.disconnected", rpps=row.rpps, at=row.disconnected_at))
    if json_out:
        views = [svc.practitioner_view(row) for row in rows]
        machine.emit_json(views[0] if rpps is not None else views)
        return
    if not rows:
        console.message(i18n.t("prefs.none"))
        return
    practitioners_table(rows)

