"""Fixtures shared by the reliability and security tests: a linked practitioner, the ledger dumped table by
table, the real program in a subprocess (what a cron job runs), and the sandbox's mutating requests.

The practitioner and the paid consultation come from tests/cli/payments_helpers.py: the same helpers as
the command tests, so these tests break for the same reasons.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest

from sarapay import settings
from tests.cli.payments_helpers import link_practitioner, posts

# The audit log (which failed commands append to, on purpose) and its AUTOINCREMENT counter.
AUDIT_TABLES = ("audit_log", "sqlite_sequence")


@pytest.fixture
def doctor(run, sandbox):
    """A practitioner linked through OAuth on the sandbox (written in the ledger)."""
    return link_practitioner(sandbox, 41)


def dump_tables(*, with_audit: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table of the ledger, sorted, read without writing anything."""
    path = settings.ledger_path()
    if not path.exists():
        return {}
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {
            name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
            for name in names
            if with_audit or name not in AUDIT_TABLES
        }
    finally:
        conn.close()


def audit_rows() -> list[dict]:
    path = settings.ledger_path()
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM audit_log ORDER BY id")]
    finally:
        conn.close()


def mutating(sandbox, since: int) -> list[dict]:
    """Mutating API requests the sandbox received after request number `since`."""
    return posts(sandbox, since)


def sarapay_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "sarapay", *[str(a) for a in args]]


def sarapay_proc(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """The real program in a subprocess, with this test's environment (SARAPAY_HOME, key, sandbox URL)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("SARAPAY_DEBUG", None)
    return subprocess.run(sarapay_cmd(*args), capture_output=True, text=True, env=full_env, timeout=timeout)
