"""`sarapay payouts RPPS`: balance, payout schedule and recent payouts of a practitioner; --schedule changes it."""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_PAYOUTS, app, global_options
from sarapay.cli.completion import rpps_numbers
from sarapay.cli.output import Output, emit_document, output_flags

i18n.register(
    {
        "payouts.disabled": {
            "fr": "Les versements sont suspendus sur ce compte Stripe (inscription incomplète ou vérification en attente) : "
            "vérifiez l'appariement avec « sarapay link {rpps} --check ».",
            "en": "Payouts are paused on this Stripe account (onboarding incomplete or verification pending): "
            "check the pairing with 'sarapay link {rpps} --check'.",
        },
        "payouts.schedule_changed": {
            "fr": "Calendrier des versements mis à jour : {schedule}.",
            "en": "Payout schedule updated: {schedule}.",
        },
    }
)


@app.command(
    "payouts",
    rich_help_panel=PANEL_PAYOUTS,
    epilog="Exemples : [bold]sarapay payouts 10000012343[/] · [bold]sarapay payouts 10000012343 --schedule weekly:monday[/] · "
    "[bold]sarapay payouts 10000012343 --schedule monthly:1 --json[/]",
)
@output_flags("json")
def payouts(
    ctx: typer.Context,
    rpps: str = typer.Argument(..., metavar="RPPS", help="Le praticien (RPPS, 11 chiffres, ou IDNPS de la carte CPS).", autocompletion=rpps_numbers),
    schedule: Optional[str] = typer.Option(
        None, "--schedule", metavar="CALENDRIER",
        help="Change le calendrier : daily, weekly:monday (ou hebdomadaire:lundi), monthly:1 (jour 1 à 31), manual ; "
        "le jour est obligatoire pour weekly et monthly. Possible seulement sur les comptes créés par la plateforme.",
    ),
    limit: int = typer.Option(10, "--limit", "-n", min=1, max=100, metavar="N", help="Nombre de versements récents montrés (1 à 100)."),
    output: Output = Output.HUMAN,
) -> None:
    """Solde (disponible, en attente), calendrier et versements récents du compte Stripe d'un praticien."""
    from sarapay import render
    from sarapay.services import payouts as service
    from sarapay.services.context import Context

    with Context(live=global_options(ctx).live) as services:
        if schedule is not None:
            view = service.change_schedule(services, rpps, schedule, limit=limit)
            if not output.machine:
                render.message(i18n.t("payouts.schedule_changed", schedule=render.schedule_text(view["schedule"])))
        else:
            view = service.overview(services, rpps, limit=limit)
    if output is Output.JSON:
        emit_document(view)
    else:
        render.payouts_view(view)
        if not view["payouts_enabled"]:
            render.warn(i18n.t("payouts.disabled", rpps=view["rpps"]))
