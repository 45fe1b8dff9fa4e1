"""rpps.py: RPPS / IDNPS normalisation and the Luhn key, checked against keys computed by hand."""

from __future__ import annotations

import pytest

from sarapay.errors import BadInput
from sarapay.rpps import is_valid_rpps, luhn_key, make_test_rpps, normalize_rpps

# Keys computed by hand: double every second digit from the right of the 10-digit body (the rightmost
# body digit is doubled), subtract 9 above 9, sum S, key = (10 - S mod 10) mod 10.
HAND_KEYS = [
    ("1000000000", "9"),  # S = 1
    ("1010000000", "8"),  # S = 1 + 1 = 2
    ("1000123456", "5"),  # from the right: 6→12→3, 5, 4→8, 3, 2→4, 1, 0, 0, 0, 1: S = 25 (domain.md's example)
    ("1000000005", "8"),  # 5 doubled = 10 → 1; S = 1 + 1 = 2
    ("1000000090", "0"),  # 9 not doubled; S = 1 + 9 = 10
    ("1999999999", "8"),  # five doubled 9s → 9 each (45), four plain 9s (36), the 1: S = 82
]


@pytest.mark.parametrize("body, key", HAND_KEYS)
def test_luhn_key(body, key):
    assert luhn_key(body) == key


@pytest.mark.parametrize("bad", ["", "12a", "١٢٣", None])
def test_luhn_key_wants_ascii_digits(bad):
    with pytest.raises(ValueError):
        luhn_key(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text, rpps",
    [
        ("10000000009", "10000000009"),
        ("10100000008", "10100000008"),
        ("10001234565", "10001234565"),
        ("10000000058", "10000000058"),
        ("10000000900", "10000000900"),
        ("19999999998", "19999999998"),
        (" 10001234565 ", "10001234565"),
        ("1 00 01 23 45 65", "10001234565"),
        ("1000\u00a01234\u202f565", "10001234565"),
        # IDNPS: 8 + RPPS, normalised; the key is checked on the 11 digits
        ("810001234565", "10001234565"),
        ("8 10000000009", "10000000009"),
    ],
)
def test_normalize_rpps(text, rpps):
    assert normalize_rpps(text) == rpps
    assert is_valid_rpps(text)


@pytest.mark.parametrize(
    "text, key",
    [
        ("10001234567", "rpps.key"),  # domain.md: a usual placeholder that fails Luhn
        ("12345678901", "rpps.key"),
        ("10000000001", "rpps.key"),
        ("10101201234", "rpps.key"),  # a fictitious number from an official FHIR guide
        ("810001234567", "rpps.key"),
        ("", "rpps.format"),
        ("abc", "rpps.format"),
        ("1000123456", "rpps.format"),  # 10 digits
        ("100012345650", "rpps.format"),  # 12 digits not starting with 8
        ("1000123456500", "rpps.format"),  # 13 digits
        ("10001-234565", "rpps.format"),
        ("10001234565x", "rpps.format"),
        ("١٠٠٠١٢٣٤٥٦٥", "rpps.format"),  # Arabic-Indic digits
        ("789310596", "rpps.adeli"),  # 9 digits: ADELI
        ("78 93 1059 6", "rpps.adeli"),
        ("0789310596", "rpps.adeli"),  # 0 + ADELI
    ],
)
def test_normalize_rpps_refuses(text, key):
    with pytest.raises(BadInput) as caught:
        normalize_rpps(text)
    assert caught.value.key == key
    assert not is_valid_rpps(text)


def test_a_valid_rpps_prefixed_by_8_is_not_checked_as_12_digits():
    # Luhn on "810001234565" as a whole would fail: the 8 shifts the parity.
    assert luhn_key("81000123456") != "5"
    assert normalize_rpps("810001234565") == "10001234565"


def test_bad_key_can_be_forced():
    assert normalize_rpps("10001234567", allow_bad_key=True) == "10001234567"
    with pytest.raises(BadInput):
        normalize_rpps("1000123456", allow_bad_key=True)


def test_messages_point_to_the_annuaire_sante(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        normalize_rpps("10001234567")
    assert caught.value.message == (
        "La clé du numéro RPPS « 10001234567 » est fausse (faute de frappe ?) : "
        "vérifiez-le dans l'Annuaire Santé (annuaire.sante.fr)."
    )
    with pytest.raises(BadInput) as caught:
        normalize_rpps("12")
    assert "11 chiffres" in caught.value.message and "Annuaire" not in caught.value.message


@pytest.mark.parametrize("n, rpps", [(0, "10000000009"), (123456, "10001234565"), (5, "10000000058"), (90, "10000000900")])
def test_make_test_rpps(n, rpps):
    assert make_test_rpps(n) == rpps


def test_make_test_rpps_are_distinct_and_valid():
    numbers = [make_test_rpps(n) for n in range(500)]
    assert len(set(numbers)) == 500
    assert all(len(x) == 11 and x.startswith("1000") and is_valid_rpps(x) for x in numbers)


@pytest.mark.parametrize("bad", [-1, 1_000_000, "1", True, 1.0])
def test_make_test_rpps_range(bad):
    with pytest.raises(ValueError):
        make_test_rpps(bad)
