"""ids.py: consultation ids, idempotency keys, account ids, masking."""

from __future__ import annotations

import re

import pytest

from sarapay.errors import BadInput
from sarapay.ids import (
    ALPHABET,
    idempotency_key,
    mask_email,
    mask_key,
    new_consultation_id,
    normalize_consultation_id,
    validate_account_id,
)


def test_alphabet_has_no_look_alikes():
    assert ALPHABET == "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
    assert not set("01OIL") & set(ALPHABET)


def test_new_consultation_id():
    ids = {new_consultation_id() for _ in range(300)}
    assert len(ids) == 300
    assert all(re.fullmatch(r"TC-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{6}", i) for i in ids)
    assert all(normalize_consultation_id(i) == i for i in ids)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("TC-8F3K2Q", "TC-8F3K2Q"),
        ("tc-8f3k2q", "TC-8F3K2Q"),
        ("Tc-8F3k2Q", "TC-8F3K2Q"),
        ("TC8F3K2Q", "TC-8F3K2Q"),
        ("8F3K2Q", "TC-8F3K2Q"),
        ("8f3k2q", "TC-8F3K2Q"),
        ("  TC-8F3K2Q\u00a0", "TC-8F3K2Q"),
        ("TCABCD", "TC-TCABCD"),  # six characters: an id that happens to start with TC
    ],
)
def test_normalize_consultation_id(text, expected):
    assert normalize_consultation_id(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "TC-", "TC-8F3K2", "TC-8F3K2QQ", "TC-8F3K0Q", "TC-8F3KOQ", "TC-8F3K1Q", "TC-8F3KIQ", "TC-8F3KLQ", "TC 8F3K2Q", "XX-8F3K2Q", "TC--8F3K2Q", "TC-8F3K2Ç", "TC-８F3K2Q", "12345", "8F3Kß", "TC-8F3Kß"],
)
def test_normalize_consultation_id_refuses(text):
    with pytest.raises(BadInput) as caught:
        normalize_consultation_id(text)
    assert caught.value.key == "consultation.invalid_id"


def test_consultation_id_message(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        normalize_consultation_id("TC-0000")
    assert caught.value.message == (
        "« TC-0000 » n'est pas un identifiant de consultation : il s'écrit TC- suivi de 6 lettres ou chiffres, "
        "par exemple TC-8F3K2Q (jamais de 0, O, 1, I ni L)."
    )


def test_idempotency_key():
    assert idempotency_key("capture", "TC-8F3K2Q", "pi_x", 2000) == "sarapay:capture:TC-8F3K2Q:pi_x:2000"
    assert idempotency_key("cancel", "TC-8F3K2Q", "pi_x") == "sarapay:cancel:TC-8F3K2Q:pi_x"
    assert idempotency_key("checkout", "TC-8F3K2Q", 1) == "sarapay:checkout:TC-8F3K2Q:1"
    assert idempotency_key("refund", "TC-8F3K2Q", "pi_x", 500, 0) != idempotency_key("refund", "TC-8F3K2Q", "pi_x", 500, 1)
    assert idempotency_key("link") == "sarapay:link"


@pytest.mark.parametrize(
    "action, parts, error",
    [
        ("", (), ValueError),
        ("Capture", (), ValueError),
        ("capture", ("a:b",), ValueError),  # would collide with ("a", "b")
        ("capture", ("",), ValueError),
        ("capture", ("two words",), ValueError),
        ("capture", (None,), TypeError),
        ("capture", (20.0,), TypeError),
        ("capture", (True,), TypeError),
        ("capture", ("x" * 250,), ValueError),  # Stripe's limit is 255 characters
    ],
)
def test_idempotency_key_refuses(action, parts, error):
    with pytest.raises(error):
        idempotency_key(action, *parts)


def test_idempotency_key_at_the_length_limit():
    key = idempotency_key("c", "x" * (255 - len("sarapay:c:")))
    assert len(key) == 255


@pytest.mark.parametrize("text, expected", [("acct_1Nv0FGQ9RKHgCVdK", "acct_1Nv0FGQ9RKHgCVdK"), (" acct_123456 ", "acct_123456")])
def test_validate_account_id(text, expected):
    assert validate_account_id(text) == expected


@pytest.mark.parametrize("text", ["", "acct_", "acct_12345", "ACCT_1Nv0FGQ9RKHgCVdK", "acct-1Nv0FGQ9RKHgCVdK", "cus_1Nv0FGQ9RKHgCVdK", "acct_1Nv0 FGQ9", "acct_1Nv0FGQ9RKHgCVdK/x"])
def test_validate_account_id_refuses(text):
    with pytest.raises(BadInput) as caught:
        validate_account_id(text)
    assert caught.value.key == "account.invalid_id"


@pytest.mark.parametrize(
    "email, masked",
    [
        ("jean.dupont@example.fr", "j***@example.fr"),
        ("a@b.fr", "a***@b.fr"),
        ("@example.fr", "***@example.fr"),
        ("pas-un-email", "***"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    "key, masked",
    [
        ("sk_test_51Habcdefghijklmnop4f2a", "sk_test_…4f2a"),
        ("sk_" "live_51Habcdefghijklmnop9z9z", "sk_" "live_…9z9z"),
        ("rk_test_51Habcdefghijklmnop4f2a", "rk_test_…4f2a"),
        ("whsec_abcdefghijklmnop1234", "whsec_…1234"),
        ("sk_test_short", "sk_test_…"),  # too short to show anything
        ("not a key at all 123456789", "…"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_key(key, masked):
    assert mask_key(key) == masked
