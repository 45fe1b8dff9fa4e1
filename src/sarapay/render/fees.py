"""`sarapay fees`: amount, estimated fee and net."""

from __future__ import annotations

from typing import Any

from sarapay import i18n
from sarapay.render import cells, console


i18n.register(
    {
        "view.fees.amount": {"fr": "Montant capturé", "en": "Captured amount"},
        "view.fees.fee": {"fr": "Frais Stripe estimés ({rule})", "en": "Estimated Stripe fee ({rule})"},
        "view.fees.net": {"fr": "Net pour le praticien", "en": "Net to the practitioner"},
    }
)


def fees_view(estimate: dict[str, Any]) -> None:
    """Amount, estimated fee (with its rule) and net, French money format."""
    from rich.table import Table

    from sarapay import money

    rate = estimate["rate_percent"]
    fixed = cells.amount(estimate["fixed_cents"], estimate["currency"])
    rule = f"{rate.replace('.', ',')}\u00a0% + {fixed}" if i18n.get_lang() == "fr" else f"{rate}% + {fixed}"
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(justify="right", no_wrap=True)
    table.add_row(i18n.t("view.fees.amount"), money.format_amount(estimate["amount_cents"], currency=estimate["currency"]))
    table.add_row(i18n.t("view.fees.fee", rule=rule), money.format_amount(estimate["fee_cents"], currency=estimate["currency"]))
    table.add_row(i18n.t("view.fees.net"), money.format_amount(estimate["net_cents"], currency=estimate["currency"]), style="bold")
    console.print_data(table)
