"""The estimated Stripe fee of a capture: rate % of the captured amount + a fixed part, in cents.

Default: Stripe's standard EEA card pricing since April 2023, 1,5 % + 0,25 €; `LEGACY_RATE` 1,4 % is
the older rule quoted to practitioners (25 € → 0,60 €). The percentage part is rounded half up to the
cent (Stripe does not document its rounding; the sandbox uses the same rule). No capture, no fee. The
fee actually charged is Stripe's own, read from the charge's balance transaction: this is an estimate.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

DEFAULT_RATE = Decimal("1.5")
LEGACY_RATE = Decimal("1.4")
DEFAULT_FIXED = 25

i18n.register(
    {
        "fees.rate_invalid": {
            "fr": "Taux « {value} » non reconnu : indiquez un pourcentage entre 0 et 100, par exemple 1,5 ou 1.4.",
            "en": "Rate “{value}” not recognised: give a percentage between 0 and 100, for example 1.5 or 1,4.",
        },
    }
)

_RATE = re.compile(r"(?P<int>[0-9]{1,3})(?:[.,](?P<frac>[0-9]{1,4}))?\s*%?")


def parse_rate(text: str) -> Decimal:
    """A percentage from `1.4`, `1,4` or `1,4 %`: between 0 and 100, at most 4 decimals; BadInput otherwise."""
    raw = clean(text)
    match = _RATE.fullmatch(raw)
    if not match:
        raise BadInput("fees.rate_invalid", value=shown(raw))
    rate = Decimal(f"{match['int']}.{match['frac'] or '0'}")
    if rate > 100:
        raise BadInput("fees.rate_invalid", value=shown(raw))
    return rate


def estimate_fee(cents: int, rate_percent: Decimal = DEFAULT_RATE, fixed_cents: int = DEFAULT_FIXED) -> int:
    """Fee in cents for capturing `cents`: round_half_up(cents × rate / 100) + fixed; 0 for nothing captured."""
    if isinstance(cents, bool) or not isinstance(cents, int) or cents < 0:
        raise ValueError(f"cents must be a non-negative int, got {cents!r}")
    if not isinstance(rate_percent, Decimal):
        raise TypeError("rate_percent must be a Decimal (use parse_rate)")
    if cents == 0:
        return 0
    variable = (Decimal(cents) * rate_percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(variable) + fixed_cents


def fee_breakdown(cents: int, rate_percent: Decimal = DEFAULT_RATE, fixed_cents: int = DEFAULT_FIXED) -> dict[str, int]:
    """`{"amount", "fee", "net"}` in cents, net = amount − fee (what reaches the practitioner)."""
    fee = estimate_fee(cents, rate_percent, fixed_cents)
    return {"amount": cents, "fee": fee, "net": cents - fee}
