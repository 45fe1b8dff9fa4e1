"""Opening the ledger: file mode, migrations, WAL, and every way the file can be wrong (exit 4, file named)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading

import pytest

from sarapay.errors import ConfigError
from sarapay.ledger import open_ledger
from sarapay.ledger.schema import STEPS, TABLES
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(0)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def assert_config_error(excinfo, key, path) -> None:
    error = excinfo.value
    assert isinstance(error, ConfigError)
    assert error.exit_code == 4
    assert error.key == key
    assert str(path) in error.message


# --- file mode -----------------------------------------------------------------------------------------------


def test_new_ledger_is_created_0600_even_with_a_lax_umask(ledger_path):
    old = os.umask(0o000)
    try:
        with open_ledger(ledger_path) as ledger:
            ledger.upsert_practitioner(RPPS, name="Dr Test")  # forces the -wal and -shm files
            companions = [ledger_path.with_name(ledger_path.name + s) for s in ("-wal", "-shm")]
            assert mode(ledger_path) == 0o600
            for companion in companions:
                if companion.exists():
                    assert mode(companion) == 0o600
    finally:
        os.umask(old)
    assert mode(ledger_path.parent) == 0o700


def test_existing_ledger_loses_group_and_other_bits(ledger_path):
    open_ledger(ledger_path).close()
    os.chmod(ledger_path, 0o644)
    with open_ledger(ledger_path):
        assert mode(ledger_path) == 0o600


def test_owner_bits_are_kept_so_a_read_only_ledger_stays_read_only(ledger_path):
    open_ledger(ledger_path).close()
    os.chmod(ledger_path, 0o444)
    try:
        with open_ledger(ledger_path, read_only=True):
            assert mode(ledger_path) == 0o444  # read_only never touches the file, not even its mode
        with open_ledger(ledger_path):
            assert mode(ledger_path) == 0o400
    finally:
        os.chmod(ledger_path, 0o600)


# --- migrations ----------------------------------------------------------------------------------------------


def test_migrations_are_recorded_and_idempotent_on_reopen(ledger_path):
    with open_ledger(ledger_path) as ledger:
        assert ledger.applied_steps() == STEPS
    first = sqlite3.connect(ledger_path).execute(
        "SELECT migration_set, name, applied_at FROM _sqlite_migrations ORDER BY id"
    ).fetchall()
    for _ in range(2):
        with open_ledger(ledger_path) as ledger:
            assert ledger.applied_steps() == STEPS
    again = sqlite3.connect(ledger_path).execute(
        "SELECT migration_set, name, applied_at FROM _sqlite_migrations ORDER BY id"
    ).fetchall()
    assert again == first  # nothing re-applied, nothing re-recorded
    assert [name for (_, name, _) in first] == STEPS
    assert {migration_set for (migration_set, _, _) in first} == {"sarapay"}


def test_wal_foreign_keys_and_busy_timeout_are_set(sqlite_ledger):
    conn = sqlite_ledger._conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000


def test_schema_has_no_place_for_card_data(ledger):
    columns = {column for table in TABLES for column in ledger._columns(table)}
    assert not {c for c in columns if any(word in c for word in ("card", "pan", "cvc", "cvv", "last4", "iban"))}


def test_two_processes_opening_a_fresh_ledger_at_once_both_succeed(ledger_path):
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            barrier.wait()
            with open_ledger(ledger_path) as ledger:
                assert ledger.applied_steps() == STEPS
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_importing_the_ledger_does_not_import_sqlite_utils():
    code = "import sys, sarapay.ledger; print('sqlite_utils' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


# --- damaged, foreign, newer, unreadable ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(os.urandom(8192), id="random-bytes"),
        pytest.param(b"SQLite format 3\x00" + b"\x00" * 20, id="shorter-than-a-header"),
        pytest.param(b"rpps;montant\n10000000009;25,00\n" * 10, id="a-csv-file"),
    ],
)
def test_a_file_that_is_not_a_database_is_refused(ledger_path, content):
    ledger_path.parent.mkdir(parents=True)
    ledger_path.write_bytes(content)
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.damaged", ledger_path)
    assert "sarapay sync --rebuild" in excinfo.value.message
    assert ledger_path.read_bytes() == content  # refused without writing to it


def test_a_truncated_ledger_is_refused_at_open_time(ledger_path):
    with open_ledger(ledger_path) as ledger:
        ledger.upsert_practitioner(RPPS)
        for n in range(300):
            ledger.insert_consultation(
                f"TC-{n:06d}", rpps=RPPS, scheduled_at="2026-01-05T09:00:00Z", state="incomplete",
                patient_ref=f"dossier-{n}",
            )
    assert not ledger_path.with_name(ledger_path.name + "-wal").exists()  # checkpointed on close
    data = ledger_path.read_bytes()
    ledger_path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.damaged", ledger_path)


def test_corruption_found_later_is_a_config_error_too(ledger_path):
    with open_ledger(ledger_path) as ledger:
        ledger.upsert_practitioner(RPPS)
        for n in range(300):
            ledger.insert_consultation(
                f"TC-{n:06d}", rpps=RPPS, scheduled_at="2026-01-05T09:00:00Z", state="incomplete"
            )
    size = ledger_path.stat().st_size
    with open(ledger_path, "r+b") as f:  # scribble over the data pages, keep the header and schema page
        f.seek(size // 2)
        f.write(os.urandom(size // 2))
    with pytest.raises(ConfigError) as excinfo:
        with open_ledger(ledger_path) as ledger:
            ledger.list_consultations()
    assert_config_error(excinfo, "ledger.damaged", ledger_path)


def test_a_foreign_sqlite_file_is_refused_and_left_untouched(ledger_path):
    ledger_path.parent.mkdir(parents=True)
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO users (name) VALUES ('alice')")
    conn.close()
    os.chmod(ledger_path, 0o644)
    before = ledger_path.read_bytes()
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.foreign", ledger_path)
    assert "users" in excinfo.value.message
    assert ledger_path.read_bytes() == before
    assert mode(ledger_path) == 0o644  # not ours: not even its mode is changed


def test_another_apps_migration_set_is_foreign_too(ledger_path):
    from sqlite_utils import Database, Migrations

    other = Migrations("someone-else")

    @other()
    def create_things(db):
        db["things"].create({"id": int}, pk="id")

    ledger_path.parent.mkdir(parents=True)
    db = Database(ledger_path)
    other.apply(db)
    db.close()
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.foreign", ledger_path)


def test_a_ledger_from_a_newer_sarapay_is_refused(ledger_path, monkeypatch):
    open_ledger(ledger_path).close()
    with sqlite3.connect(ledger_path) as conn:
        conn.execute(
            "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('sarapay', '0099_future', 'x')"
        )
    conn.close()
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.newer_schema", ledger_path)
    assert "0099_future" in excinfo.value.message
    monkeypatch.setenv("SARAPAY_LANG", "en")
    assert "newer version of sarapay" in excinfo.value.message


def test_a_ledger_missing_one_of_its_tables_is_damaged(ledger_path):
    open_ledger(ledger_path).close()
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("DROP TABLE audit_log")
    conn.close()
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path)
    assert_config_error(excinfo, "ledger.damaged", ledger_path)


def test_a_directory_is_not_a_ledger(tmp_path):
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(tmp_path)
    assert_config_error(excinfo, "ledger.unreadable", tmp_path)


def test_a_path_under_a_regular_file_is_unreadable(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    path = blocker / "sarapay.db"
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(path)
    assert_config_error(excinfo, "ledger.unreadable", path)


# --- read-only -----------------------------------------------------------------------------------------------


def test_read_only_ledger_reads_but_refuses_writes(ledger_path):
    with open_ledger(ledger_path) as ledger:
        ledger.upsert_practitioner(RPPS, name="Dr Test")
    with open_ledger(ledger_path, read_only=True) as ledger:
        assert ledger.get_practitioner(RPPS).name == "Dr Test"
        with pytest.raises(ConfigError) as excinfo:
            ledger.set_default_max(RPPS, 3000)
        assert_config_error(excinfo, "ledger.read_only", ledger_path)
        with pytest.raises(ConfigError) as excinfo:
            ledger.append_audit("prefs set-max", outcome="ok", target=RPPS)
        assert_config_error(excinfo, "ledger.read_only", ledger_path)
    with open_ledger(ledger_path) as ledger:
        assert ledger.get_practitioner(RPPS).default_max_cents == 2500


def test_read_only_on_a_missing_file_says_so(ledger_path):
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path, read_only=True)
    assert_config_error(excinfo, "ledger.missing", ledger_path)
    assert not ledger_path.exists()


def test_read_only_refuses_a_ledger_that_needs_migrating(ledger_path):
    open_ledger(ledger_path).close()
    with sqlite3.connect(ledger_path) as conn:
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0006_status_indexes'")
    conn.close()
    with pytest.raises(ConfigError) as excinfo:
        open_ledger(ledger_path, read_only=True)
    assert_config_error(excinfo, "ledger.needs_upgrade", ledger_path)


# --- two terminals -------------------------------------------------------------------------------------------


def test_a_writer_waits_then_gives_a_clear_error_when_the_ledger_stays_busy(ledger_path):
    with open_ledger(ledger_path) as first, open_ledger(ledger_path, busy_timeout_ms=100) as second:
        first.upsert_practitioner(RPPS)
        with first.transaction():
            first.set_default_max(RPPS, 3000)
            assert second.get_practitioner(RPPS).default_max_cents == 2500  # readers are not blocked (WAL)
            with pytest.raises(ConfigError) as excinfo:
                second.set_default_max(RPPS, 2000)
            assert_config_error(excinfo, "ledger.busy", ledger_path)
        assert second.set_default_max(RPPS, 2000).default_max_cents == 2000


def test_a_ledger_the_user_may_not_write_is_opened_read_only(ledger_path, monkeypatch):
    """The same path as the permission test above, runnable as root: os.access says 'not writable'."""
    with open_ledger(ledger_path) as ledger:
        ledger.upsert_practitioner(RPPS)
    monkeypatch.setattr(os, "access", lambda path, how: how != os.W_OK)
    with open_ledger(ledger_path) as ledger:
        assert ledger.read_only
        assert ledger.get_practitioner(RPPS).rpps == RPPS
        with pytest.raises(ConfigError) as excinfo:
            ledger.create_oauth_state(RPPS)
        assert_config_error(excinfo, "ledger.read_only", ledger_path)
