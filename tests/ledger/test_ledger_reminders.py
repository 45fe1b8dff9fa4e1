"""Schema step 0009: reminders sent (once per consultation, kind and deadline) and the practitioner's language."""

from __future__ import annotations

import sqlite3

import pytest

from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(901)
DAY = 86400
NOW = 1_900_000_000


@pytest.fixture
def book(ledger):
    ledger.upsert_practitioner(RPPS, email="dr@example.fr")
    for n, (state, deadline, held) in enumerate(
        [("uncaptured", NOW + DAY, 2500), ("uncaptured", NOW + 3 * DAY, 2500), ("uncaptured", NOW - 1, 2500),
         ("succeeded", NOW + DAY, 2500), ("uncaptured", NOW + 2 * DAY, 1800), ("uncaptured", NOW + 2 * DAY, 0)]
    ):
        ledger.insert_consultation(
            f"TC-00000{n}", rpps=RPPS, scheduled_at="2026-01-05T13:00:00Z", state=state, paid_online=True,
            capture_before=deadline, authorised_cents=held,
        )
    return ledger


def test_holds_due_in_the_window_soonest_first(book):
    due = book.holds_due(after=NOW, until=NOW + 2 * DAY)
    assert [row.id for row in due] == ["TC-000000", "TC-000004"]  # past, captured, later or empty ones left out
    assert book.holds_due(after=NOW, until=NOW + 2 * DAY, rpps=make_test_rpps(902)) == []


def test_reminders_recorded_once_with_a_note(book):
    reminder = {"consultation_id": "TC-000000", "kind": "hold", "deadline": NOW + DAY, "rpps": RPPS, "note": "rappel envoyé"}
    assert book.record_reminders([reminder], message_id="<a@example.fr>") == 1
    assert book.record_reminders([reminder], message_id="<b@example.fr>") == 0  # the unique key
    assert book.sent_reminders(["TC-000000", "TC-000004"]) == {("TC-000000", "hold", NOW + DAY)}
    [row] = book.list_reminders_sent(rpps=RPPS)
    assert row["message_id"] == "<a@example.fr>"
    assert [line.note for line in book.history("TC-000000")][-1] == "rappel envoyé"
    assert len(book.history("TC-000000")) == 2  # one note, not two
    # a new deadline for the same consultation (a new authorisation) is a new reminder
    assert book.record_reminders([{**reminder, "deadline": NOW + 5 * DAY}]) == 1


def test_a_failed_batch_records_nothing(book):
    good = {"consultation_id": "TC-000000", "kind": "hold", "deadline": NOW + DAY, "rpps": RPPS}
    with pytest.raises(sqlite3.IntegrityError):  # an unknown consultation: the foreign key
        book.record_reminders([good, {**good, "consultation_id": "TC-UNKNOWN"}])
    assert book.list_reminders_sent() == []
    with pytest.raises(ValueError):
        book.record_reminders([{**good, "kind": "medical"}])


def test_practitioner_language(book):
    assert book.get_practitioner(RPPS).lang is None  # French by default
    assert book.set_practitioner_lang(RPPS, "en").lang == "en"
    with pytest.raises(ValueError):
        book.set_practitioner_lang(RPPS, "de")
