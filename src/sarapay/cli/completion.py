"""Shell completion of consultation ids and RPPS numbers from the local ledger.

The shell runs sarapay on every TAB, so these callbacks open the ledger read-only (no migration, no
write, no sqlite_utils), never import stripe, and answer nothing rather than an error: a missing or
locked ledger, or a typo, simply completes nothing.

Typed input is matched case-insensitively, and an id may be typed without `TC-` (as the commands accept
it): what the user typed is kept and the rest completed, since the shell only offers candidates that
start with the word being completed.

At scale (issue 10, point 8) each TAB costs the same on an empty ledger and on a million consultations:
Ledger.consultation_ids_starting reads at most ~1000 entries of the primary key's index (exact, most recent
first) or, for a prefix too short to narrow a large ledger, a sample of the latest consultations. On
PostgreSQL a TAB is one connection (2 s at most to connect, as libpq's minimum), one query for the schema
steps, one bounded query: there is no local cache of ids, which could offer an id another machine has
just deleted, or miss one it has just planned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from sarapay.ledger import Ledger

LIMIT = 100
Candidates = list[tuple[str, str]]


def _with_ledger(query: Callable[[Ledger], Candidates]) -> Candidates:
    try:
        from sarapay import settings
        from sarapay.ledger import open_ledger

        path = settings.ledger_location()
        if not isinstance(path, str) and not path.exists():
            return []
        with open_ledger(path, read_only=True, busy_timeout_ms=200, connect_timeout=2) as ledger:
            return query(ledger)
    except Exception:  # completion must never print a traceback into the user's prompt
        return []


def _when(value: str | None) -> str:
    from datetime import datetime

    from sarapay import timefmt

    if not value:
        return ""
    return timefmt.format_when(datetime.fromisoformat(value.replace("Z", "+00:00")))


def consultation_ids(incomplete: str) -> Candidates:
    """(candidate, "État · date") for each consultation whose id starts with what was typed."""
    from sarapay import ids

    typed = incomplete or ""
    upper = typed.upper()
    if ids.PREFIX.startswith(upper) or upper.startswith(ids.PREFIX):  # "", "tc", "TC-8F"
        prefix, skip = (upper if len(upper) > len(ids.PREFIX) else ids.PREFIX), len(typed)
    elif upper.startswith("TC"):  # "tc8f": the id without its dash
        prefix, skip = ids.PREFIX + upper[2:], len(typed) + 1
    else:  # "8f3": the six characters alone
        prefix, skip = ids.PREFIX + upper, len(typed) + len(ids.PREFIX)
    if any(c not in ids.ALPHABET for c in prefix[len(ids.PREFIX):]):
        return []

    def query(ledger: Ledger) -> Candidates:
        from sarapay import statuses

        return [
            (typed + row["id"][skip:], f"{statuses.label(row['state'])} · {_when(row['scheduled_at'])}")
            for row in ledger.consultation_ids_starting(prefix, LIMIT)
        ]

    return _with_ledger(query)


def rpps_numbers(incomplete: str) -> Candidates:
    """(RPPS, name) for each registered practitioner whose RPPS starts with what was typed."""
    typed = (incomplete or "").strip()
    if not typed.isdigit() and typed:
        return []

    def query(ledger: Ledger) -> Candidates:
        return [(row["rpps"], row.get("name") or "") for row in ledger.rpps_starting(typed, LIMIT)]

    return _with_ledger(query)
