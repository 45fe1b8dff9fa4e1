"""Email addresses typed by people (a practitioner's, a patient's): one simple rule, checked before anything
is written or sent to Stripe.

The rule is deliberately simple (not RFC 5322): one `@`, something before it, a domain with a dot and no
blank anywhere, at most 254 characters. Stripe itself ignores an invalid prefill value silently, so a
typo would otherwise go unnoticed until the practitioner or patient never receives anything.
Masking for human output is ids.mask_email.
"""

from __future__ import annotations

import re

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

MAX_LENGTH = 254

i18n.register(
    {
        "email.invalid": {
            "fr": "« {value} » n'est pas une adresse e-mail valide : écrivez-la sous la forme nom@domaine.fr.",
            "en": "“{value}” is not a valid email address: write it as name@domain.com.",
        },
    }
)

_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def normalize_email(text: str) -> str:
    """The address without surrounding blanks, its domain in lower case; BadInput when it is not one."""
    raw = clean(text)
    if len(raw) > MAX_LENGTH or not _EMAIL.fullmatch(raw) or not raw.isprintable():
        raise BadInput("email.invalid", value=shown(raw))
    local, _, domain = raw.rpartition("@")
    return f"{local}@{domain.lower()}"
