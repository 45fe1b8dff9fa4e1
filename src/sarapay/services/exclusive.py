"""One command at a time per consultation (capture, cancel, refund, pay-link), and per practitioner's minute for
a paid plan: on this machine with a SQLite ledger, on every machine sharing a PostgreSQL ledger.

A second terminal acting on the same consultation waits for the first, then starts from the ledger the
first one left, instead of racing it to Stripe.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Iterator

from sarapay import i18n
from sarapay.errors import BadInput, ConfigError

if TYPE_CHECKING:
    from sarapay.services.context import Context

i18n.register(
    {
        "payments.busy": {
            "fr": "Une autre commande sarapay agit sur {consultation_id} depuis plus de {seconds} s : rien n'a été envoyé. "
            "Vérifiez avec « sarapay status {consultation_id} --refresh » puis relancez si besoin.",
            "en": "Another sarapay command has been acting on {consultation_id} for more than {seconds} s: nothing was sent. "
            "Check with 'sarapay status {consultation_id} --refresh' then run it again if needed.",
        },
    }
)

LOCK_WAIT_SECONDS = 120  # longer than a Stripe call with its retries (30 s timeout, 2 retries)


@contextmanager
def one_at_a_time(ctx: Context, consultation_id: str) -> Iterator[None]:
    """One command at a time per consultation on this machine, from its ledger check to its ledger write.

    Without it, two terminals capturing the same amount both pass the ledger check, send the same
    idempotency key, and both hear "captured" (the second one a replay). With it the second waits, then
    reads the first one's result in the ledger and is told it was already captured. An flock is released by
    the kernel when its process dies, so a killed command never leaves a stale lock behind. On PostgreSQL
    the lock is the server's (a session advisory lock, released when the dead process's connection ends)."""
    ledger = ctx.ledger
    if ledger.is_postgres or ledger.path is None:  # PostgreSQL (no file): the server's lock
        if ledger.read_only:
            raise ConfigError("ledger.read_only", path=ledger.location)
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while not ledger.try_lock("consultation", consultation_id):
            if time.monotonic() >= deadline:
                raise BadInput("payments.busy", consultation_id=consultation_id, seconds=LOCK_WAIT_SECONDS)
            time.sleep(0.05)
        try:
            yield
        finally:
            ledger.unlock("consultation", consultation_id)
        return
    try:
        import fcntl
    except ImportError:  # not POSIX: Stripe's idempotency alone guards the money
        yield
        return
    if ledger.read_only:  # refused before anything moves: the ledger could not record what Stripe did
        raise ConfigError("ledger.read_only", path=str(ledger.path))
    folder = ledger.path.parent / "locks"
    try:
        folder.mkdir(mode=0o700, exist_ok=True)
        fd = os.open(folder / f"{consultation_id}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise ConfigError("ledger.unreadable", path=str(folder), reason=exc.strerror or type(exc).__name__) from None
    try:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise BadInput("payments.busy", consultation_id=consultation_id, seconds=LOCK_WAIT_SECONDS) from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # releases the lock
