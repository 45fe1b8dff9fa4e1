"""fees.py: estimated Stripe fee, rounded half up, values computed by hand."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sarapay.errors import BadInput
from sarapay.fees import DEFAULT_FIXED, DEFAULT_RATE, LEGACY_RATE, estimate_fee, fee_breakdown, parse_rate


@pytest.mark.parametrize(
    "cents, rate, fee",
    [
        (2500, "1.5", 63),  # 37.5 → 38, + 25
        (2500, "1.4", 60),  # 35 + 25 (the older rule quoted to practitioners)
        (2000, "1.5", 55),  # 30 + 25
        (3000, "1.5", 70),  # 45 + 25
        (2550, "1.5", 63),  # 38.25 → 38, + 25
        (2700, "1.5", 66),  # 40.5 → 41 (half up, not half even), + 25
        (100, "1.5", 27),  # 1.5 → 2, + 25
        (50, "1.5", 26),  # 0.75 → 1, + 25
        (1000, "3.25", 58),  # 32.5 → 33, + 25
        (99999999, "1.5", 1500025),  # 1 499 999.985 → 1 500 000, + 25
        (0, "1.5", 0),  # nothing captured, nothing charged
    ],
)
def test_estimate_fee(cents, rate, fee):
    assert estimate_fee(cents, Decimal(rate)) == fee


def test_defaults():
    assert DEFAULT_RATE == Decimal("1.5") and LEGACY_RATE == Decimal("1.4") and DEFAULT_FIXED == 25
    assert estimate_fee(2500) == 63
    assert estimate_fee(2500, Decimal("0"), 0) == 0
    assert estimate_fee(2500, Decimal("1.5"), 30) == 68


def test_fee_breakdown():
    assert fee_breakdown(2500) == {"amount": 2500, "fee": 63, "net": 2437}
    assert fee_breakdown(2500, LEGACY_RATE) == {"amount": 2500, "fee": 60, "net": 2440}
    assert fee_breakdown(0) == {"amount": 0, "fee": 0, "net": 0}


@pytest.mark.parametrize("cents", [-1, 25.0, "2500", True])
def test_estimate_fee_wants_non_negative_int_cents(cents):
    with pytest.raises(ValueError):
        estimate_fee(cents)


def test_estimate_fee_wants_a_decimal_rate():
    with pytest.raises(TypeError):
        estimate_fee(2500, 1.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, rate",
    [("1.4", "1.4"), ("1,4", "1.4"), ("1,5 %", "1.5"), ("1.5%", "1.5"), (" 2 ", "2"), ("0", "0"), ("100", "100"), ("3,25", "3.25"), ("0,0001", "0.0001")],
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == Decimal(rate)


@pytest.mark.parametrize("text", ["", "abc", "-1", "-1,4", "100,01", "101", "1e2", "nan", "inf", "1,4,5", "1.23456", "١٫٤", "1,4 €", "%"])
def test_parse_rate_refuses(text):
    with pytest.raises(BadInput) as caught:
        parse_rate(text)
    assert caught.value.key == "fees.rate_invalid"


def test_rate_message(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        parse_rate("beaucoup")
    assert caught.value.message == "Taux « beaucoup » non reconnu : indiquez un pourcentage entre 0 et 100, par exemple 1,5 ou 1.4."
