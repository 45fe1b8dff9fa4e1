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
    assert any("idx_consultations_rpps_state_at_id" in line for line in plans["listing"])
    assert not any(line.startswith("SCAN consultations") for lines in plans.values() for line in lines)
    assert not any("TEMP B-TREE" in line for line in plans["listing"])  # a page is read in index order


def test_several_states_are_merged_in_index_order(sqlite_ledger):
    plans = sqlite_ledger.query_plans(state=["refunded", "partially_refunded"])
    assert any("MERGE" in line for line in plans["listing"])
    assert not any("TEMP B-TREE" in line for line in plans["listing"])


def test_totals_over_everything_read_the_summary_not_the_consultations(sqlite_ledger):
    plans = sqlite_ledger.query_plans()
    assert list(plans) == ["listing", "totals"]
    assert all("consultations" not in line for line in plans["totals"])
    assert any("consultation_day_sums" in line for line in plans["totals"])


def test_prefix_lookups_for_completion(ledger):
    ledger.upsert_practitioner(RPPS, name="Dre Martin")
    ledger.upsert_practitioner(make_test_rpps(2))
    ledger.insert_consultations_many(rows(3))
    assert sorted(row["id"] for row in ledger.consultation_ids_starting("TC-AAAAA")) == ["TC-AAAAA2", "TC-AAAAAA", "TC-AAAAAB"]
    assert [row["id"] for row in ledger.consultation_ids_starting("TC-AAAAAB")] == ["TC-AAAAAB"]
    assert ledger.consultation_ids_starting("TC-Z") == []
    assert [r["rpps"] for r in ledger.rpps_starting(RPPS[:10])] == [RPPS]
    assert len(ledger.rpps_starting("1000")) == 2


def test_completion_reads_a_bounded_number_of_ids_on_a_large_ledger(ledger, monkeypatch):
    from sarapay.ledger import store

    ledger.upsert_practitioner(RPPS)
    ledger.insert_consultations_many(rows(40))
    newest = [row.id for row in ledger.list_consultations(newest_first=True)]
    # A small ledger: every match is read, the most recent first (the listing's order).
    assert [row["id"] for row in ledger.consultation_ids_starting("TC-", 7)] == newest[:7]
    # Past COMPLETION_EXACT matches: the most recent among the latest COMPLETION_WINDOW, then others.
    monkeypatch.setattr(store, "COMPLETION_EXACT", 12)
    monkeypatch.setattr(store, "COMPLETION_WINDOW", 4)
    found = [row["id"] for row in ledger.consultation_ids_starting("TC-", 7)]
    assert found[:4] == newest[:4]  # the latest window, in order
    assert len(found) == len(set(found)) == 7 and set(found) <= set(newest)  # topped up from the id range
    # A prefix that narrows to a few ids stays exact.
    few = [i for i in newest if i.startswith("TC-AAAAA")]
    assert [row["id"] for row in ledger.consultation_ids_starting("TC-AAAAA", 7)] == few[:7]


@pytest.mark.parametrize("newest_first", [True, False])
def test_pages_of_several_states_are_the_slices_of_the_whole_listing(ledger, newest_first):
    ledger.upsert_practitioner(RPPS)
    states = ["succeeded", "refunded", "canceled"]
    ledger.insert_consultations_many([{**row, "state": states[i % 3]} for i, row in enumerate(rows(30))])
    wanted = ["refunded", "canceled"]
    whole = [row.id for row in ledger.list_consultations(state=wanted, newest_first=newest_first)]
    assert len(whole) == 20
    assert whole == [row.id for row in ledger.iter_consultations(state=wanted, newest_first=newest_first)]
    for offset, limit in ((0, 5), (3, 7), (15, 10)):
        page = ledger.list_consultations(state=wanted, limit=limit, offset=offset, newest_first=newest_first)
        assert [row.id for row in page] == whole[offset:offset + limit]
