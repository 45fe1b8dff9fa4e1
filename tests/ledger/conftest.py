"""Ledger fixtures: a fresh ledger file under tmp_path."""

from __future__ import annotations

import pytest

from sarapay.ledger import open_ledger


@pytest.fixture
def ledger_path(tmp_path):
    return tmp_path / "ledger" / "sarapay.db"


@pytest.fixture
def ledger(ledger_path):
    with open_ledger(ledger_path) as opened:
        yield opened
