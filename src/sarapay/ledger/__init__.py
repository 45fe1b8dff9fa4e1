"""The ledger: the local, rebuildable copy of Stripe's state, and the only place in sarapay with SQL.

    from sarapay.ledger import open_ledger
    with open_ledger(path) as ledger:
        ledger.get_consultation("TC-8F3K2Q")  # a records.Consultation, or None

Stripe is the system of record: every object sarapay creates there carries the consultation id in its
metadata, so `sarapay sync --rebuild` can recreate this file from nothing. It holds Stripe ids, amounts,
states, a patient reference and at most an email, never card data (there is no column for it).

Importing this package does not import sqlite_utils; opening a ledger does.
"""

from sarapay.ledger.store import (
    AUDIT_OUTCOMES,
    DEFAULT_BUSY_TIMEOUT_MS,
    DEFAULT_OAUTH_STATE_TTL,
    NON_FINAL_STATES,
    Ledger,
    open_ledger,
)

__all__ = [
    "AUDIT_OUTCOMES",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "DEFAULT_OAUTH_STATE_TTL",
    "NON_FINAL_STATES",
    "Ledger",
    "open_ledger",
]
