"""money.py: amounts typed by people → cents, cents → French / English text."""

from __future__ import annotations

import pytest

from sarapay import money
from sarapay.errors import BadInput
from sarapay.money import format_amount, format_cents_plain, parse_amount

NBSP, NNBSP = "\u00a0", "\u202f"


@pytest.mark.parametrize(
    "text, cents",
    [
        ("25", 2500),
        ("25,5", 2550),
        ("25,50", 2550),
        ("25.50", 2550),
        ("25,50 €", 2550),
        ("25.50€", 2550),
        ("25,50" + NBSP + "€", 2550),
        ("€25", 2500),
        ("€ 25,5", 2550),
        ("25 EUR", 2500),
        ("25 eur", 2500),
        ("  25,50  ", 2550),
        (NBSP + "25" + NNBSP, 2500),
        ("0", 0),
        ("0,5", 50),
        ("0,05", 5),
        ("025", 2500),
        ("1 000", 100000),
        ("1 000,00", 100000),
        ("1" + NNBSP + "234,50" + NBSP + "€", 123450),  # our own French output
        ("12 345,67", 1234567),
        ("999 999,99", 99999999),
        ("999999.99 €", 99999999),
    ],
)
def test_parse_amount_accepts(text, cents):
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    "text, key",
    [
        ("abc", "money.invalid"),
        ("-3", "money.negative"),
        ("-25,50 €", "money.negative"),
        ("−3", "money.negative"),  # U+2212 minus sign
        ("+3", "money.invalid"),
        ("25,555", "money.too_precise"),
        ("0,001", "money.too_precise"),
        ("1e9", "money.invalid"),
        ("", "money.empty"),
        ("   ", "money.empty"),
        ("inf", "money.invalid"),
        ("nan", "money.invalid"),
        ("Infinity", "money.invalid"),
        ("0x10", "money.invalid"),
        ("25,50,1", "money.invalid"),
        ("25.50.1", "money.invalid"),
        ("1.234,50", "money.invalid"),  # a dot is never a thousands separator
        ("1,234.50", "money.invalid"),
        ("1 00", "money.invalid"),  # badly grouped
        ("1000 000", "money.invalid"),
        ("1  000", "money.invalid"),
        ("25,", "money.invalid"),
        (",50", "money.invalid"),
        (".5", "money.invalid"),
        ("€25€", "money.invalid"),
        ("25 $", "money.invalid"),
        ("٢٥", "money.invalid"),  # Arabic-Indic digits
        ("２５", "money.invalid"),  # full-width digits
        ("25_00", "money.invalid"),
        ("1000000", "money.too_large"),
        ("1 000 000,00", "money.too_large"),
        ("9" * 30, "money.too_large"),
        ("9" * 500, "money.invalid"),  # refused before any arithmetic
    ],
)
def test_parse_amount_refuses(text, key):
    with pytest.raises(BadInput) as caught:
        parse_amount(text)
    assert caught.value.key == key
    assert caught.value.exit_code == 2


def test_refusal_names_the_value_and_the_forms(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        parse_amount(" abc ")
    assert caught.value.message == (
        "Montant « abc » non reconnu : écrivez-le en euros, par exemple 25, 25,50, 25.50 ou 25,50 €."
    )
    lang("en")
    assert "“abc”" in caught.value.message and "25.50" in caught.value.message


def test_refusal_quotes_a_long_value_shortened():
    with pytest.raises(BadInput) as caught:
        parse_amount("1" * 200)
    assert len(caught.value.params["value"]) == 40
    assert caught.value.params["value"].endswith("…")


def test_parse_amount_wants_a_string():
    with pytest.raises(TypeError):
        parse_amount(25)  # type: ignore[arg-type]


def test_constants():
    assert money.MIN_CHARGE == 50
    assert money.DEFAULT_MAX == 2500
    assert money.MAX_AMOUNT == 99_999_999


@pytest.mark.parametrize(
    "cents, fr, en",
    [
        (0, "0,00" + NBSP + "€", "€0.00"),
        (5, "0,05" + NBSP + "€", "€0.05"),
        (50, "0,50" + NBSP + "€", "€0.50"),
        (2500, "25,00" + NBSP + "€", "€25.00"),
        (2550, "25,50" + NBSP + "€", "€25.50"),
        (99999, "999,99" + NBSP + "€", "€999.99"),
        (100000, "1" + NNBSP + "000,00" + NBSP + "€", "€1,000.00"),
        (123450, "1" + NNBSP + "234,50" + NBSP + "€", "€1,234.50"),
        (99999999, "999" + NNBSP + "999,99" + NBSP + "€", "€999,999.99"),
        (-2550, "-25,50" + NBSP + "€", "-€25.50"),
    ],
)
def test_format_amount(cents, fr, en):
    assert format_amount(cents, "fr") == fr
    assert format_amount(cents, "en") == en


def test_format_amount_follows_the_current_language(lang):
    lang("en")
    assert format_amount(2500) == "€25.00"
    lang("fr")
    assert format_amount(2500) == "25,00" + NBSP + "€"


def test_format_amount_other_currency():
    assert format_amount(1200, "fr", "usd") == "12,00" + NBSP + "USD"
    assert format_amount(1200, "en", "USD") == "USD" + NBSP + "12.00"


@pytest.mark.parametrize("bad", [25.0, "2500", True, None])
def test_format_amount_wants_integer_cents(bad):
    with pytest.raises(TypeError):
        format_amount(bad, "fr")


def test_format_amount_unknown_language():
    with pytest.raises(ValueError):
        format_amount(2500, "de")


@pytest.mark.parametrize("cents, text", [(0, "0,00"), (2500, "25,00"), (5, "0,05"), (123450, "1234,50"), (-2550, "-25,50")])
def test_format_cents_plain(cents, text):
    assert format_cents_plain(cents) == text


@pytest.mark.parametrize("cents", [0, 5, 50, 2550, 100000, 123450, 99999999])
def test_french_output_parses_back(cents):
    assert parse_amount(format_amount(cents, "fr")) == cents
    assert parse_amount(format_cents_plain(cents)) == cents
