"""`sarapay fees AMOUNT`: the estimated Stripe fee and the net of a capture. Touches neither Stripe nor the ledger."""

from __future__ import annotations

from typing import Optional

import typer

from sarapay import i18n
from sarapay.cli.app import PANEL_PAYOUTS, app
from sarapay.cli.output import Output, emit_document, output_flags

i18n.register(
    {
        "estimate.below_minimum": {
            "fr": "Stripe n'encaisse pas moins de {minimum} : indiquez un montant d'au moins {minimum}.",
            "en": "Stripe does not charge less than {minimum}: give an amount of at least {minimum}.",
        },
    }
)


@app.command(
    "fees",
    rich_help_panel=PANEL_PAYOUTS,
    # "-5" reaches the amount parser, which says in French that it is negative, instead of "no such option".
    context_settings={"ignore_unknown_options": True},
    epilog="Exemples : [bold]sarapay fees 25[/] (1,5 % + 0,25 € : 0,63 €) · [bold]sarapay fees 25 --rate 1.4[/] "
    "(ancien tarif : 0,60 €) · [bold]sarapay fees 25,50 --json[/]",
)
@output_flags("json")
def fees(
    amount: str = typer.Argument(..., metavar="MONTANT", help="Montant capturé : 25, 25,50, 25.50 ou 25,50 €."),
    rate: Optional[str] = typer.Option(None, "--rate", metavar="TAUX", help="Part proportionnelle en % (défaut : 1,5 ; 1.4 pour l'ancien tarif)."),
    fixed: Optional[str] = typer.Option(None, "--fixed", metavar="MONTANT", help="Part fixe par paiement (défaut : 0,25 €)."),
    output: Output = Output.HUMAN,
) -> None:
    """Estime les frais Stripe d'une capture et ce qui reste au praticien (tarif Stripe standard EEE par défaut)."""
    from sarapay import fees as rules
    from sarapay import money
    from sarapay.render.fees import fees_view
    from sarapay.errors import BadInput

    cents = money.parse_amount(amount)
    rate_percent = rules.parse_rate(rate) if rate is not None else rules.DEFAULT_RATE
    fixed_cents = money.parse_amount(fixed) if fixed is not None else rules.DEFAULT_FIXED
    if cents < money.MIN_CHARGE:
        raise BadInput("estimate.below_minimum", minimum=money.format_amount(money.MIN_CHARGE))
    breakdown = rules.fee_breakdown(cents, rate_percent, fixed_cents)
    estimate = {
        "amount_cents": breakdown["amount"],
        "fee_cents": breakdown["fee"],
        "net_cents": breakdown["net"],
        "currency": "eur",
        "rate_percent": format(rate_percent.normalize(), "f"),  # a string: a percentage is never a float here
        "fixed_cents": fixed_cents,
    }
    if output is Output.JSON:
        emit_document(estimate)
    else:
        fees_view(estimate)
