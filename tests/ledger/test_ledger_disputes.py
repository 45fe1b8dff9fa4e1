"""The disputes table (schema step 0010): one row per Stripe dispute, written only when something changed, and
the accounts reconcile watches for disputes."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from sarapay.rpps import make_test_rpps

RPPS, OTHER = make_test_rpps(1), make_test_rpps(2)
NOW = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)
OPEN = ("needs_response", "warning_needs_response", "under_review", "warning_under_review")


def dispute(**extra):
    return {"consultation_id": "TC-AAAAAA", "account_id": "acct_one", "charge_id": "ch_1", "payment_intent_id": "pi_1",
            "amount_cents": 2500, "fee_cents": 1500, "net_cents": -4000, "currency": "eur", "reason": "fraudulent",
            "status": "needs_response", "due_by": 1_796_722_200, "created": 1_796_117_400, **extra}


@pytest.fixture
def book(ledger):
    ledger.upsert_practitioner(RPPS, account_id="acct_one")
    ledger.upsert_practitioner(OTHER, account_id="acct_two")
    for cid, rpps, account, captured, when in (
        ("TC-AAAAAA", RPPS, "acct_one", 2500, NOW),
        ("TC-BBBBBB", OTHER, "acct_two", 2500, NOW - timedelta(days=400)),  # captured long ago
        ("TC-CCCCCC", OTHER, "acct_two", 0, NOW),  # nothing captured
    ):
        ledger.insert_consultation(cid, rpps=rpps, scheduled_at=when, state="succeeded" if captured else "uncaptured",
                                   paid_online=True, account_id=account, captured_cents=captured)
    return ledger


def test_upsert_inserts_then_writes_only_what_changed(book):
    row, new = book.upsert_dispute("dp_1", **dispute())
    assert new is True and row["amount_cents"] == 2500 and row["livemode"] is False and row["first_seen_at"]
    again, new = book.upsert_dispute("dp_1", **dispute())
    assert new is False and again == row  # nothing written, updated_at included
    won, _ = book.upsert_dispute("dp_1", **dispute(status="won", fee_cents=0, net_cents=0))
    assert won["status"] == "won" and won["net_cents"] == 0 and won["first_seen_at"] == row["first_seen_at"]


def test_money_is_integer_cents_and_the_id_a_dispute_id(book):
    with pytest.raises(TypeError):
        book.upsert_dispute("dp_1", **dispute(amount_cents=25.0))
    with pytest.raises(sqlite3.IntegrityError):  # a bug, not a user's mistake: it goes through
        book.upsert_dispute("ch_1", **dispute())


def test_latest_and_listing_join_the_consultation(book):
    book.upsert_dispute("dp_old", **dispute(created=1_000, status="lost"))
    book.upsert_dispute("dp_new", **dispute())
    assert book.latest_dispute("TC-AAAAAA")["id"] == "dp_new"
    listed = book.list_disputes(rpps=RPPS)
    assert [d["id"] for d in listed] == ["dp_new", "dp_old"]
    assert listed[0]["rpps"] == RPPS and listed[0]["state"] == "succeeded" and listed[0]["scheduled_at"]
    assert [d["id"] for d in book.list_disputes(statuses=OPEN)] == ["dp_new"]
    assert book.list_disputes(rpps=OTHER) == [] and book.list_disputes(statuses=[]) == []


def test_watched_accounts_have_recent_captures_or_open_disputes(book):
    since = NOW - timedelta(days=180)
    assert book.dispute_watch(captured_since=since, open_statuses=OPEN) == {"acct_one": None}
    book.upsert_dispute("dp_2", **dispute(consultation_id="TC-BBBBBB", account_id="acct_two", created=1_700_000_000))
    assert book.dispute_watch(captured_since=since, open_statuses=OPEN) == {"acct_one": None, "acct_two": 1_700_000_000}
    assert book.dispute_watch(captured_since=since, open_statuses=OPEN, rpps=OTHER) == {"acct_two": 1_700_000_000}
    book.unlink_account(OTHER)  # no longer linked: not read
    assert book.dispute_watch(captured_since=since, open_statuses=OPEN, rpps=OTHER) == {}
