"""RPPS numbers: the practitioner's national identifier (11 digits, the last one a Luhn key).

Accepted: the 11-digit RPPS, or the 12-digit national form IDNPS (`8` + RPPS, as on CPS cards and Pro
Santé Connect), with blanks anywhere. The Luhn key is computed on the 11-digit RPPS, never on the
IDNPS (the `8` shifts the parity). A 9-digit ADELI number (or `0` + ADELI) is recognised only to say
that sarapay needs the RPPS.
"""

from __future__ import annotations

import re

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

RPPS_LENGTH = 11
IDNPS_PREFIX = "8"
TEST_PREFIX = "1000"

i18n.register(
    {
        "rpps.format": {
            "fr": "« {value} » n'est pas un numéro RPPS : il faut 11 chiffres (ou 12 commençant par 8, forme IDNPS de la carte CPS).",
            "en": "“{value}” is not an RPPS number: it needs 11 digits (or 12 starting with 8, the IDNPS form on the CPS card).",
        },
        "rpps.adeli": {
            "fr": "« {value} » ressemble à un numéro ADELI, qui n'est plus utilisé : indiquez le numéro RPPS du praticien (11 chiffres), à retrouver dans l'Annuaire Santé.",
            "en": "“{value}” looks like an ADELI number, which is no longer used: give the practitioner's RPPS number (11 digits), found in the Annuaire Santé.",
        },
        "rpps.key": {
            "fr": "La clé du numéro RPPS « {value} » est fausse (faute de frappe ?) : vérifiez-le dans l'Annuaire Santé (annuaire.sante.fr).",
            "en": "The check digit of RPPS number “{value}” is wrong (a typo?): check it in the Annuaire Santé (annuaire.sante.fr).",
        },
    }
)

_BLANKS = re.compile(r"\s+")
_DIGITS = re.compile(r"[0-9]+")


def luhn_key(digits: str) -> str:
    """The Luhn check digit to append to `digits` (the first 10 digits of an RPPS)."""
    if not _DIGITS.fullmatch(digits or ""):
        raise ValueError(f"expected ASCII digits, got {digits!r}")
    total = 0
    # Once the key is appended, the rightmost digit of `digits` sits second from the right: it is doubled.
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return str((10 - total % 10) % 10)


def _luhn_ok(number: str) -> bool:
    return luhn_key(number[:-1]) == number[-1]


def normalize_rpps(text: str, *, allow_bad_key: bool = False) -> str:
    """The 11-digit RPPS from an RPPS or an IDNPS, blanks ignored; BadInput on a bad form or key.

    `allow_bad_key` accepts a failed Luhn key (for a `--force` when the Annuaire Santé confirms the number).
    """
    raw = clean(text)
    digits = _BLANKS.sub("", raw)
    if not _DIGITS.fullmatch(digits):
        raise BadInput("rpps.format", value=shown(raw))
    if len(digits) == 12 and digits.startswith(IDNPS_PREFIX):
        digits = digits[1:]
    elif len(digits) == 9 or (len(digits) == 10 and digits.startswith("0")):
        raise BadInput("rpps.adeli", value=shown(raw))
    if len(digits) != RPPS_LENGTH:
        raise BadInput("rpps.format", value=shown(raw))
    if not allow_bad_key and not _luhn_ok(digits):
        raise BadInput("rpps.key", value=shown(raw))
    return digits


def is_valid_rpps(text: str) -> bool:
    """True when `normalize_rpps(text)` would succeed."""
    try:
        normalize_rpps(text)
    except BadInput:
        return False
    return True


def make_test_rpps(n: int) -> str:
    """A synthetic, Luhn-valid RPPS for tests and the demo: `1000` + n on 6 digits + key.

    Never copy a real or "example" number into tests: real ones are personal data, examples fail Luhn.
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n < 1_000_000:
        raise ValueError(f"n must be an int in [0, 999999], got {n!r}")
    body = f"{TEST_PREFIX}{n:06d}"
    return body + luhn_key(body)
