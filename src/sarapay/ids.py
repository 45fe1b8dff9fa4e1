"""Identifiers: consultation ids, idempotency keys, Stripe account ids, and masking for human output.

Consultation ids are `TC-` + 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L), read
aloud and typed by support staff: `TC-8F3K2Q`. Typed input is case-insensitive and the `TC-` prefix
is optional (`8f3k2q`, `tc8f3k2q` and `TC-8F3K2Q` are the same id).
"""

from __future__ import annotations

import re
import secrets

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
PREFIX = "TC-"
ID_LENGTH = 6
IDEMPOTENCY_MAX = 255  # Stripe's limit on Idempotency-Key

i18n.register(
    {
        "consultation.invalid_id": {
            "fr": "« {value} » n'est pas un identifiant de consultation : il s'écrit TC- suivi de 6 lettres ou chiffres, par exemple TC-8F3K2Q (jamais de 0, O, 1, I ni L).",
            "en": "“{value}” is not a consultation id: it is TC- followed by 6 letters or digits, for example TC-8F3K2Q (never 0, O, 1, I or L).",
        },
        "account.invalid_id": {
            "fr": "« {value} » n'est pas un identifiant de compte Stripe : il commence par acct_, par exemple acct_1Nv0FGQ9RKHgCVdK (voir le tableau de bord Stripe du praticien).",
            "en": "“{value}” is not a Stripe account id: it starts with acct_, for example acct_1Nv0FGQ9RKHgCVdK (see the practitioner's Stripe dashboard).",
        },
    }
)

_ID = re.compile(rf"(?:TC-?)?([{ALPHABET}]{{{ID_LENGTH}}})")
_ACCOUNT = re.compile(r"acct_[A-Za-z0-9]{6,64}")
_ACTION = re.compile(r"[a-z][a-z0-9_.-]*")
_PART = re.compile(r"[A-Za-z0-9_.@+-]+")
_KEY = re.compile(r"((?:sk|rk|pk)_(?:test|live)_|whsec_)(.*)", re.DOTALL)


def new_consultation_id() -> str:
    """A fresh random id, `TC-` + 6 characters (31⁶ ≈ 887 million); the caller checks for a clash."""
    return PREFIX + "".join(secrets.choice(ALPHABET) for _ in range(ID_LENGTH))


def normalize_consultation_id(text: str) -> str:
    """`TC-8F3K2Q` from `TC-8F3K2Q`, `tc-8f3k2q`, `TC8F3K2Q` or `8f3k2q`; BadInput otherwise."""
    raw = clean(text)
    # ASCII first: str.upper() turns "ß" into "SS" and would make up an id.
    match = _ID.fullmatch(raw.upper()) if raw.isascii() else None
    if not match:
        raise BadInput("consultation.invalid_id", value=shown(raw))
    return PREFIX + match[1]


def idempotency_key(action: str, *parts: str | int) -> str:
    """The one recipe for Stripe idempotency keys: `sarapay:capture:TC-8F3K2Q:pi_x:2000`.

    Deterministic, so a retry, a second terminal or a re-run cron job sends the same key and Stripe
    moves money once. Put in `parts` everything that tells two intended operations apart (the amount,
    the number of refunds already made...). Parts cannot contain `:`, so two lists never collide.
    """
    if not _ACTION.fullmatch(action or ""):
        raise ValueError(f"bad action {action!r}")
    texts = []
    for part in parts:
        if isinstance(part, bool) or not isinstance(part, (str, int)):
            raise TypeError(f"idempotency key parts are str or int, got {type(part).__name__}")
        text = str(part)
        if not _PART.fullmatch(text):
            raise ValueError(f"bad idempotency key part {text!r}")
        texts.append(text)
    key = ":".join(["sarapay", action, *texts])
    if len(key) > IDEMPOTENCY_MAX:
        raise ValueError(f"idempotency key longer than {IDEMPOTENCY_MAX} characters")
    return key


def validate_account_id(text: str) -> str:
    """A connected account id `acct_…` (blanks stripped); BadInput otherwise."""
    raw = clean(text)
    if not _ACCOUNT.fullmatch(raw):
        raise BadInput("account.invalid_id", value=shown(raw))
    return raw


def mask_email(email: str | None) -> str:
    """`j***@example.fr` from `jean.dupont@example.fr`: first letter and domain only."""
    if not email:
        return ""
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return "***"
    return (local[:1] or "") + "***@" + domain


def mask_key(key: str | None) -> str:
    """`sk_test_…4f2a`: the kind of key and its last 4 characters; anything else entirely hidden."""
    if not key:
        return ""
    match = _KEY.fullmatch(key.strip())
    if not match:
        return "…"
    prefix, secret = match.groups()
    # A short secret would be half revealed by its last 4 characters.
    return prefix + "…" + (secret[-4:] if len(secret) >= 16 else "")
