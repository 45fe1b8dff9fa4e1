"""Money: amounts typed by people become integer cents, and cents become French or English text.

Integer cents everywhere; the parser works on the digits themselves (no float, no Decimal rounding).

Accepted input (decided once, here):
- `25`, `25,5`, `25,50`, `25.50`: one decimal mark, comma or dot, at most two decimals;
- the euro sign before or after, with or without a space: `25,50 €`, `25.50€`, `€25`; `EUR` after;
- thousands grouped by a space (also U+00A0 / U+202F, as our own French output prints them) only when
  well formed: `1 000`, `1 234,50 €`; a comma or dot is never a thousands separator (`1.234,50` and
  `1,234.50` are refused, because `1,234` could be either 1,23 € or 1 234 €);
- surrounding blanks.
Refused: signs, exponents, `inf`/`nan`, hex, non-ASCII digits, more than two decimals, and anything
above MAX_AMOUNT (Stripe's 8 digits: 999 999,99 €). Zero is accepted: capturing 0 releases a hold;
the callers check MIN_CHARGE where a charge is meant.
"""

from __future__ import annotations

import re

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

MIN_CHARGE = 50  # Stripe's minimum charge in EUR: 0,50 €
DEFAULT_MAX = 2500  # default maximum per teleconsultation: 25 € (the TCG fee)
MAX_AMOUNT = 99_999_999  # Stripe's amount field holds at most 8 digits: 999 999,99 €

NNBSP = "\u202f"  # narrow no-break space: French thousands separator (CLDR fr)
NBSP = "\u00a0"  # no-break space: between a French amount and its currency sign

_SYMBOLS = {"eur": "€"}

i18n.register(
    {
        "money.empty": {
            "fr": "Aucun montant indiqué : écrivez-le en euros, par exemple 25 ou 25,50.",
            "en": "No amount given: write it in euros, for example 25 or 25.50.",
        },
        "money.invalid": {
            "fr": "Montant « {value} » non reconnu : écrivez-le en euros, par exemple 25, 25,50, 25.50 ou 25,50 €.",
            "en": "Amount “{value}” not recognised: write it in euros, for example 25, 25,50, 25.50 or 25,50 €.",
        },
        "money.negative": {
            "fr": "Le montant « {value} » est négatif : indiquez un montant positif, par exemple 25 ou 25,50.",
            "en": "The amount “{value}” is negative: give a positive amount, for example 25 or 25.50.",
        },
        "money.too_precise": {
            "fr": "Le montant « {value} » a plus de deux décimales : arrondissez-le au centime, par exemple 25,55.",
            "en": "The amount “{value}” has more than two decimals: round it to the cent, for example 25.55.",
        },
        "money.too_large": {
            "fr": "Le montant « {value} » dépasse le plafond de Stripe (999 999,99 €) : indiquez un montant plus petit.",
            "en": "The amount “{value}” is above Stripe's limit (€999,999.99): give a smaller amount.",
        },
    }
)

_BLANK = "[ \u00a0\u202f\u2009]"
_AMOUNT = re.compile(
    rf"""
    (?P<pre>€{_BLANK}*)?
    (?P<int>[0-9]{{1,3}}(?:{_BLANK}[0-9]{{3}})+|[0-9]+)
    (?:[.,](?P<frac>[0-9]+))?
    (?P<post>{_BLANK}*(?:€|EUR))?
    """,
    re.VERBOSE | re.IGNORECASE,
)
# Longer input is refused before any work: no real amount needs it.
_MAX_INPUT = 40


def parse_amount(text: str) -> int:
    """Cents from what a person typed (`25`, `25,50`, `25.50 €`, `1 234,50 €`); BadInput otherwise."""
    raw = clean(text)
    if not raw:
        raise BadInput("money.empty")
    if len(raw) > _MAX_INPUT:
        raise BadInput("money.invalid", value=shown(raw))
    if raw.startswith("-") or raw.startswith("−"):
        rest = raw.lstrip("-−")
        if rest and _AMOUNT.fullmatch(clean(rest)):
            raise BadInput("money.negative", value=shown(raw))
    match = _AMOUNT.fullmatch(raw)
    if not match or (match["pre"] and match["post"]):
        raise BadInput("money.invalid", value=shown(raw))
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise BadInput("money.too_precise", value=shown(raw))
    units = int(re.sub(_BLANK, "", match["int"]))
    cents = units * 100 + int(frac.ljust(2, "0"))
    if cents > MAX_AMOUNT:
        raise BadInput("money.too_large", value=shown(raw))
    return cents


def _split(cents: int) -> tuple[str, str, str]:
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"cents must be an int, got {type(cents).__name__}")
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    return sign, f"{units:,}", f"{rest:02d}"


def format_amount(cents: int, lang: str | None = None, currency: str = "eur") -> str:
    """`1 234,50 €` (fr: U+202F thousands, U+00A0 before €) or `€1,234.50` (en).

    `lang` defaults to the current language. A currency other than EUR is shown by its ISO code
    (`12,00 USD` / `USD 12.00`); sarapay only charges in euros, two decimals.
    """
    lang = lang or i18n.get_lang()
    sign, units, rest = _split(cents)
    symbol = _SYMBOLS.get(currency.lower())
    if lang == "fr":
        number = f"{units.replace(',', NNBSP)},{rest}"
        return f"{sign}{number}{NBSP}{symbol or currency.upper()}"
    if lang == "en":
        number = f"{units}.{rest}"
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{currency.upper()}{NBSP}{number}"
    raise ValueError(f"unknown language {lang!r}")


def format_cents_plain(cents: int) -> str:
    """`25,00`: decimal comma, no grouping, no symbol — for French spreadsheets (CSV with `;`)."""
    sign, units, rest = _split(cents)
    return f"{sign}{units.replace(',', '')},{rest}"
