"""Practitioners: linking their Stripe account (Connect OAuth, created account, attached account),
checking the pairing, unlinking, and their default maximum.

Public API (other services import these; `ctx` is a services.context.Context, `rpps` may be typed input:
it is normalised here, 12-digit IDNPS accepted):

    require_practitioner(ctx, rpps) -> dict      # the ledger row; BadInput "practitioner.unknown" otherwise
    require_linked(ctx, rpps) -> dict            # the ledger row with an account_id; BadInput otherwise
                                                 #   ("practitioner.unknown" / "practitioner.not_linked")

Both raise before any Stripe call, and write nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.rpps import normalize_rpps

if TYPE_CHECKING:
    from sarapay.services.context import Context

i18n.register(
    {
        "practitioner.unknown": {
            "fr": "Aucun praticien enregistré avec le RPPS {rpps} : enregistrez-le d'abord avec « sarapay link {rpps} --email EMAIL ».",
            "en": "No practitioner registered with RPPS {rpps}: register them first with 'sarapay link {rpps} --email EMAIL'.",
        },
        "practitioner.not_linked": {
            "fr": "Le praticien {rpps} n'est pas lié à Stripe : liez son compte avec « sarapay link {rpps} --email EMAIL » "
            "(ou --new, ou --account acct_…).",
            "en": "The practitioner {rpps} is not linked to Stripe: link their account with 'sarapay link {rpps} --email EMAIL' "
            "(or --new, or --account acct_…).",
        },
    }
)


def require_practitioner(ctx: Context, rpps: str) -> dict[str, Any]:
    """The practitioner's ledger row (linked or not); BadInput when the RPPS is invalid or unknown."""
    number = normalize_rpps(rpps)
    row = ctx.ledger.get_practitioner(number)
    if row is None:
        raise BadInput("practitioner.unknown", rpps=number)
    return row


def require_linked(ctx: Context, rpps: str) -> dict[str, Any]:
    """The practitioner's ledger row, guaranteed to carry an `account_id`; BadInput otherwise.

    Plan, capture, payouts... call this before talking to Stripe on the practitioner's account."""
    row = require_practitioner(ctx, rpps)
    if not row.get("account_id"):
        raise BadInput("practitioner.not_linked", rpps=row["rpps"])
    return row
