"""Ledger fixtures: a fresh ledger under tmp_path, and the same contract on PostgreSQL.

`ledger` runs each test on both backends (a SQLite file, then a new PostgreSQL database of the session's
throwaway cluster, tests/pg.py); tests about the SQLite file itself use `ledger_path` directly.
"""

from __future__ import annotations

import pytest

from sarapay.ledger import open_ledger


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger" / "sarapay.db"


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_target(request, ledger_path):
    """Where a ledger is opened: the SQLite file's path, or a PostgreSQL URL."""
    return ledger_path if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def ledger(ledger_target):
    with open_ledger(ledger_target) as opened:
        yield opened


@pytest.fixture
def sqlite_ledger(ledger_path):
    """A SQLite ledger only, for what is SQLite's own (query plans, VACUUM INTO, the file)."""
    with open_ledger(ledger_path) as opened:
        yield opened
