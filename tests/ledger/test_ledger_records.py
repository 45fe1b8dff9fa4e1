"""Practitioners, OAuth states, the audit log, meta and backups."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import timedelta

import pytest
from freezegun import freeze_time

from sarapay.errors import BadInput, ConfigError
from sarapay.ledger import AUDIT_OUTCOMES, open_ledger
from sarapay.records import AuditEntry
from sarapay.rpps import make_test_rpps

A = make_test_rpps(0)  # 10000000009
B = make_test_rpps(123456)  # 10001234565


# --- practitioners -------------------------------------------------------------------------------------------


def test_upsert_inserts_with_the_default_maximum_then_updates_only_given_fields(ledger):
    with freeze_time("2026-01-05 08:00:00"):
        created = ledger.upsert_practitioner(A, name="Dr A", email="a@example.org")
    assert created.default_max_cents == 2500 and created.account_id is None and created.livemode is False
    assert created.created_at == "2026-01-05T08:00:00Z"
    with freeze_time("2026-01-06 08:00:00"):
        linked = ledger.upsert_practitioner(
            A, account_id="acct_AAAAAAAA", link_method="oauth", linked_at="2026-01-06T09:00:00+01:00"
        )
    assert (linked.name, linked.email, linked.account_id) == ("Dr A", "a@example.org", "acct_AAAAAAAA")
    assert linked.linked_at == "2026-01-06T08:00:00Z"
    assert (linked.created_at, linked.updated_at) == ("2026-01-05T08:00:00Z", "2026-01-06T08:00:00Z")
    assert ledger.find_practitioner_by_account("acct_AAAAAAAA").rpps == A


def test_an_account_belongs_to_one_practitioner(ledger):
    ledger.upsert_practitioner(A, account_id="acct_AAAAAAAA", link_method="attached")
    with pytest.raises(BadInput) as excinfo:
        ledger.upsert_practitioner(B, account_id="acct_AAAAAAAA", link_method="attached")
    assert excinfo.value.key == "ledger.account_taken"
    assert A in excinfo.value.message
    assert ledger.get_practitioner(B) is None  # nothing half-written


def test_link_method_and_rpps_are_checked(ledger):
    with pytest.raises(ValueError):
        ledger.upsert_practitioner(A, link_method="magic")
    with pytest.raises(sqlite3.IntegrityError):
        ledger.upsert_practitioner("1234", name="not an RPPS")  # the schema's CHECK, a caller's bug


def test_default_max_unlink_remove_and_list(ledger):
    ledger.upsert_practitioner(B, account_id="acct_BBBBBBBB", link_method="created")
    ledger.upsert_practitioner(A, account_id="acct_AAAAAAAA", link_method="oauth")
    assert ledger.set_default_max(A, 3000).default_max_cents == 3000
    with pytest.raises(ValueError):
        ledger.set_default_max(A, 0)
    with pytest.raises(BadInput) as excinfo:
        ledger.set_default_max(make_test_rpps(7), 3000)
    assert excinfo.value.key == "ledger.unknown_practitioner"

    unlinked = ledger.unlink_account(A)
    assert (unlinked.account_id, unlinked.link_method, unlinked.linked_at) == (None, None, None)
    assert unlinked.default_max_cents == 3000  # preferences survive an unlink
    assert [p.rpps for p in ledger.list_practitioners()] == [A, B]

    ledger.insert_consultation("TC-000001", rpps=B, scheduled_at="2026-01-05T09:00:00Z", state="no_online_payment")
    with pytest.raises(BadInput) as excinfo:
        ledger.remove_practitioner(B)
    assert excinfo.value.key == "ledger.practitioner_has_consultations"
    ledger.remove_practitioner(A)
    assert ledger.get_practitioner(A) is None


# --- OAuth states --------------------------------------------------------------------------------------------


def test_oauth_state_is_single_use(ledger):
    state = ledger.create_oauth_state(A)
    assert len(state) >= 32 and state != ledger.create_oauth_state(A)
    assert ledger.consume_oauth_state(state) == A
    with pytest.raises(BadInput) as excinfo:
        ledger.consume_oauth_state(state)
    assert excinfo.value.key == "ledger.oauth_state_used"
    assert excinfo.value.exit_code == 2


def test_oauth_state_expires(ledger):
    with freeze_time("2026-01-05 10:00:00") as clock:
        early = ledger.create_oauth_state(A, ttl=timedelta(minutes=30))
        late = ledger.create_oauth_state(A, ttl=timedelta(minutes=30))
        clock.tick(timedelta(minutes=29, seconds=59))
        assert ledger.consume_oauth_state(early) == A
        clock.tick(timedelta(seconds=1))  # exactly at expires_at: expired
        with pytest.raises(BadInput) as excinfo:
            ledger.consume_oauth_state(late)
    assert excinfo.value.key == "ledger.oauth_state_expired"
    assert "2026-01-05T10:30:00Z" in excinfo.value.message


def test_oauth_state_unknown_or_for_someone_else(ledger):
    with pytest.raises(BadInput) as excinfo:
        ledger.consume_oauth_state("forged")
    assert excinfo.value.key == "ledger.oauth_state_unknown"
    state = ledger.create_oauth_state(A)
    with pytest.raises(BadInput) as excinfo:
        ledger.consume_oauth_state(state, rpps=B)
    assert excinfo.value.key == "ledger.oauth_state_mismatch"
    assert ledger.consume_oauth_state(state, rpps=A) == A  # a mismatch does not spend it


def test_old_oauth_states_are_purged(ledger):
    with freeze_time("2026-01-01 10:00:00"):
        old = ledger.create_oauth_state(A)
    with freeze_time("2026-01-09 10:00:00"):
        ledger.create_oauth_state(B)
        with pytest.raises(BadInput) as excinfo:
            ledger.consume_oauth_state(old)
    assert excinfo.value.key == "ledger.oauth_state_unknown"


# --- audit log -----------------------------------------------------------------------------------------------


def test_audit_append_and_list_newest_first(ledger):
    with freeze_time("2026-01-05 10:00:00") as clock:
        first = ledger.append_audit("link", outcome="ok", target=A, actor="support1")
        clock.tick(60)
        ledger.append_audit(
            "capture", outcome="refused", target="TC-8F3K2Q", detail="card_declined", stripe_request_id="req_123"
        )
        clock.tick(60)
        last = ledger.append_audit("capture", outcome="ok", target="TC-8F3K2Q", stripe_request_id="req_124")
    assert last > first
    entries = ledger.list_audit()
    assert [e.id for e in entries] == [last, last - 1, first]
    assert entries[0] == AuditEntry(
        id=last, at="2026-01-05T10:02:00Z", actor=entries[0].actor, command="capture",
        target="TC-8F3K2Q", outcome="ok", detail=None, stripe_request_id="req_124",
    )
    assert entries[0].actor  # the OS user by default
    assert entries[2].actor == "support1"
    assert [e.id for e in ledger.list_audit(2)] == [last, last - 1]
    assert [e.outcome for e in ledger.list_audit(target="TC-8F3K2Q")] == ["ok", "refused"]
    assert [e.command for e in ledger.list_audit(command="link")] == ["link"]


def test_audit_outcomes_and_secrets(ledger):
    for outcome in AUDIT_OUTCOMES:
        ledger.append_audit("refund", outcome=outcome, target="TC-8F3K2Q")
    with pytest.raises(ValueError):
        ledger.append_audit("refund", outcome="maybe")
    with pytest.raises(BadInput) as excinfo:
        ledger.append_audit("config set-key", outcome="ok", detail="key sk_" "live_51Habcdefghijklmnop")
    assert excinfo.value.key == "ledger.secret_refused"
    assert "sk_live" not in excinfo.value.message
    assert len(ledger.list_audit(100)) == len(AUDIT_OUTCOMES)


# --- meta and backup -----------------------------------------------------------------------------------------


def test_meta(ledger):
    assert ledger.get_meta("application") == "sarapay ledger"
    assert ledger.get_meta("last_sync") is None
    ledger.set_meta("last_sync", "2026-01-05T10:00:00Z")
    ledger.set_meta("last_sync", "2026-01-06T10:00:00Z")
    assert ledger.get_meta("last_sync") == "2026-01-06T10:00:00Z"


def test_vacuum_into_makes_a_private_consistent_copy(sqlite_ledger, tmp_path):
    ledger = sqlite_ledger
    ledger.upsert_practitioner(A, name="Dr A")
    ledger.append_audit("link", outcome="ok", target=A)
    old = os.umask(0o022)
    try:
        backup = ledger.vacuum_into(tmp_path / "backups" / "sarapay-2026-01-05.db")
    finally:
        os.umask(old)
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    with open_ledger(backup, read_only=True) as copy:
        assert copy.get_practitioner(A).name == "Dr A"
        assert len(copy.list_audit()) == 1
    with pytest.raises(BadInput) as excinfo:
        ledger.vacuum_into(backup)
    assert excinfo.value.key == "ledger.backup_exists"


def test_vacuum_into_an_impossible_place_is_a_config_error(sqlite_ledger, tmp_path):
    ledger = sqlite_ledger
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError):
        ledger.vacuum_into(blocker / "backup.db")


def test_webhook_events_recorded_once_on_both_backends(ledger):
    """Arrived from main (webhooks): ON CONFLICT DO NOTHING and rowcount, MAX(), ORDER BY rowid."""
    assert ledger.record_webhook_event("evt_1", account_id="acct_X", type="charge.refunded", event_created=10,
                                       outcome="ignored", fetched_at=100)
    assert not ledger.record_webhook_event("evt_1", account_id="acct_X", type="charge.refunded", event_created=10,
                                           outcome="ignored")
    assert ledger.record_webhook_event("evt_2", account_id=None, type="payout.paid", event_created=11, outcome="ignored")
    assert [e["event_id"] for e in ledger.webhook_events()] in (["evt_2", "evt_1"], ["evt_1", "evt_2"])
    assert "rowid" not in ledger.webhook_events()[0]
    assert ledger.webhook_event("evt_1")["fetched_at"] == 100
    assert ledger.webhook_synced_through("TC-NONE") is None
    assert not ledger.account_known("acct_X")
