"""Bulk insertion (benchmarks, imports) and the query plans of the status queries."""

from __future__ import annotations

import sqlite3

import pytest

from sarapay.errors import BadInput
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(1)


def rows(n: int, **extra):
    return [
        {"id": f"TC-{i:06d}".replace("0", "A").replace("1", "B"), "rpps": RPPS,
         "scheduled_at": f"2026-12-{1 + i % 28:02d}T10:{i % 60:02d}:00Z", "state": "succeeded",
         "paid_online": True, "max_cents": 2500, "captured_cents": 2000, **extra}
        for i in range(n)
    ]


def test_many_rows_in_one_call_with_their_history(ledger):
    ledger.upsert_practitioner(RPPS)
    assert ledger.insert_consultations_many(rows(30), note="import") == 30
    assert ledger.count_consultations(rpps=RPPS) == 30
    first = ledger.list_consultations(limit=1)[0]
    assert first.paid_online is True and first.captured_cents == 2000
    assert ledger.history(first.id)[0].note == "import"
    assert ledger.totals().captured_cents == 30 * 2000


def test_rows_are_checked_like_single_inserts(ledger):
    ledger.upsert_practitioner(RPPS)
    with pytest.raises(TypeError):
        ledger.insert_consultations_many(rows(2, captured_cents=20.0))  # money is never a float
    with pytest.raises(BadInput):
        ledger.insert_consultations_many(rows(1, patient_ref="carte 4242 4242 4242 4242"))
    assert ledger.count_consultations() == 0


def test_a_duplicate_writes_nothing(ledger):
    ledger.upsert_practitioner(RPPS)
    twice = rows(3) + rows(1)
    with pytest.raises(sqlite3.IntegrityError):
        ledger.insert_consultations_many(twice)
    assert ledger.count_consultations() == 0


def test_status_queries_use_the_indexes(sqlite_ledger):
    ledger = sqlite_ledger
    plans = ledger.query_plans(rpps=RPPS, state=["uncaptured"])
    assert any("idx_consultations_rpps_state_at" in line for line in plans["listing"])
    assert not any(line.startswith("SCAN consultations") for line in plans["listing"] + plans["totals"])
    assert not any("TEMP B-TREE FOR ORDER BY" in line for line in plans["listing"])


def test_totals_over_everything_read_the_covering_index(sqlite_ledger):
    ledger = sqlite_ledger
    plans = ledger.query_plans()
    assert any("COVERING INDEX idx_consultations_state_sums" in line for line in plans["totals"])


def test_prefix_lookups_for_completion(ledger):
    ledger.upsert_practitioner(RPPS, name="Dre Martin")
    ledger.upsert_practitioner(make_test_rpps(2))
    ledger.insert_consultations_many(rows(3))
    assert sorted(row["id"] for row in ledger.consultation_ids_starting("TC-AAAAA")) == ["TC-AAAAA2", "TC-AAAAAA", "TC-AAAAAB"]
    assert [row["id"] for row in ledger.consultation_ids_starting("TC-AAAAAB")] == ["TC-AAAAAB"]
    assert ledger.consultation_ids_starting("TC-Z") == []
    assert [r["rpps"] for r in ledger.rpps_starting(RPPS[:10])] == [RPPS]
    assert len(ledger.rpps_starting("1000")) == 2
