"""The team ledger: the main flow on both backends, two machines (two SARAPAY_HOME) on one PostgreSQL
database, `ledger check` and `ledger copy`, and every way the database can be wrong (exit 4, one sentence
naming the masked URL, nothing written)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from sarapay import settings
from sarapay.errors import ConfigError
from sarapay.ledger import open_ledger
from tests.cli.payments_helpers import authorised, consultation, last_seq, link_practitioner, plan_paid, posts

# --------------------------------------------------------------------------- the main flow, on both backends


def test_plan_pay_capture_refund_status_reconcile_log(ledger_backend, run, sandbox):
    doctor = link_practitioner(sandbox, 7)
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    captured = run("capture", cid, "20", "--yes")
    assert captured.exit_code == 0, captured.stderr
    again = run("capture", cid, "20", "--yes")
    assert again.exit_code in (2, 5) and "déjà capturée" in " ".join(again.stderr.split())
    refunded = run("refund", cid, "5", "--yes")
    assert refunded.exit_code == 0, refunded.stderr
    status = json.loads(run("status", cid, "--json").stdout)
    row = status if isinstance(status, dict) and "state" in status else status[0] if isinstance(status, list) else status
    assert consultation(cid).state == "partially_refunded"
    assert (consultation(cid).captured_cents, consultation(cid).refunded_cents) == (2000, 500)
    assert row  # the JSON view reads the same ledger
    second = plan_paid(run, doctor["rpps"], at="02/12/2099 10:30")
    assert run("reconcile").exit_code in (0, 8)
    commands = [entry["command"] for entry in json.loads(run("log", "--json").stdout)]
    assert {"capture", "refund", "plan"} <= set(commands)
    assert consultation(second["id"]).state == "incomplete"
    check = json.loads(run("ledger", "check", "--json").stdout)
    assert (check["backend"], check["pending"]) == (ledger_backend, [])


# --------------------------------------------------------------------------- two machines, one database


def _proc(*args: str, home, url: str) -> subprocess.Popen:
    env = {**os.environ, "SARAPAY_HOME": str(home), "SARAPAY_DATABASE_URL": url}
    env.pop("SARAPAY_DEBUG", None)
    return subprocess.Popen([sys.executable, "-m", "sarapay", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)


def test_two_machines_capturing_at_once_capture_once(pg_url, monkeypatch, run, sandbox, tmp_path):
    monkeypatch.setenv("SARAPAY_DATABASE_URL", pg_url)
    doctor = link_practitioner(sandbox, 8)
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", cid, "--refresh").exit_code == 0
    since = last_seq(sandbox)
    sandbox.fault("latency", 2, latency_ms=1500, method="POST", path="/v1/payment_intents/")
    try:
        procs = [_proc("capture", cid, "--yes", home=tmp_path / name, url=pg_url) for name in ("poste-a", "poste-b")]
        results = [(p.wait(120), *p.communicate()) for p in procs]
    finally:
        sandbox.clear_faults()
    codes = sorted(code for code, _, _ in results)
    assert codes[0] == 0 and codes[1] in (2, 5), results
    loser = next(r for r in results if r[0] != 0)
    assert "déjà capturée" in " ".join(loser[2].split()), loser
    applied = [r for r in posts(sandbox, since) if r["path"].endswith("/capture") and r["status"] == 200 and not r["replayed"]]
    assert len(applied) == 1
    assert (consultation(cid).state, consultation(cid).captured_cents) == ("succeeded", 2500)
    assert not (tmp_path / "poste-a" / "ledger.db").exists()  # nothing local: the team's database only


def test_two_machines_reconciling_at_once_the_second_exits_1_at_once(pg_url, monkeypatch, run, sandbox, tmp_path):
    monkeypatch.setenv("SARAPAY_DATABASE_URL", pg_url)
    doctor = link_practitioner(sandbox, 9)
    plan_paid(run, doctor["rpps"])
    sandbox.fault("latency", 1, latency_ms=3000, method="GET", path="/v1/checkout/sessions")
    first = _proc("reconcile", home=tmp_path / "serveur", url=pg_url)
    try:
        deadline = time.monotonic() + 30
        while sandbox.queued_faults():  # the first run holds the lock once it is reading Stripe
            assert time.monotonic() < deadline, "the first reconcile never reached the sandbox"
            time.sleep(0.05)
        started = time.monotonic()
        second = _proc("reconcile", "--json", home=tmp_path / "poste", url=pg_url)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1, err
        assert time.monotonic() - started < 2.5  # at once, not after the first one
        assert json.loads(err)["error"]["code"] == "reconcile.busy"
        assert "sarapay" in json.loads(err)["error"]["message"]  # names the holder (its application name)
    finally:
        first.communicate(timeout=60)
        sandbox.clear_faults()
    assert first.returncode in (0, 8)
    assert run("reconcile").exit_code in (0, 8)  # released


# --------------------------------------------------------------------------- ledger copy and check


def test_copy_sqlite_to_postgres_and_back_loses_nothing(pg_url, run, sandbox, tmp_path, monkeypatch):
    doctor = link_practitioner(sandbox, 10)
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("capture", cid, "--yes").exit_code == 0
    with open_ledger(settings.ledger_path()) as source:
        before = {t: source.table_digest(t) for t in source.data_tables()}
        audit_before = source.list_audit(1000)

    copied = run("ledger", "copy", "--to", pg_url, "--json")
    assert copied.exit_code == 0, copied.stderr
    report = json.loads(copied.stdout)
    assert {t: (v["rows"], v["sha256"]) for t, v in report["tables"].items()} == before
    with open_ledger(settings.ledger_path()) as source:  # the source did not change
        assert {t: source.table_digest(t) for t in source.data_tables()} == before
    with open_ledger(pg_url) as team:
        audit = team.list_audit(1000)
        assert audit[1:] == audit_before and audit[0].command == "ledger copy"  # one row added, on the target
        rows = sum(count for count, _ in before.values())
        assert audit[0].detail == f"rows={rows} tables={len(before)} checksums_verified"
        assert team.get_consultation(cid).captured_cents == 2500
        assert team.append_audit("next", outcome="ok") == audit[0].id + 1  # ids go on after the copied ones

    refused = run("ledger", "copy", "--to", pg_url)
    assert refused.exit_code == 2 and "n'est pas vide" in refused.stderr

    monkeypatch.setenv("SARAPAY_DATABASE_URL", pg_url)
    assert run("status", cid).exit_code == 0
    backup = tmp_path / "sauvegarde.db"
    back = run("ledger", "copy", "--to", backup)
    assert back.exit_code == 0, back.stderr
    with open_ledger(backup) as copy, open_ledger(pg_url) as team:
        for table in team.data_tables():
            if table != "audit_log":
                assert copy.table_digest(table) == team.table_digest(table), table
        assert copy.list_audit(1000)[1:] == team.list_audit(1000)  # plus the copy's own row
    assert oct(backup.stat().st_mode & 0o777) == "0o600"


def test_check_reports_pending_steps_without_applying_them(pg_url, run, monkeypatch):
    monkeypatch.setenv("SARAPAY_DATABASE_URL", pg_url)
    fresh = json.loads(run("ledger", "check", "--json").stdout)
    assert fresh["backend"] == "postgresql" and fresh["schema_version"] is None and len(fresh["pending"]) >= 8
    assert run("log").exit_code == 0  # any command creates the schema
    done = json.loads(run("ledger", "check", "--json").stdout)
    assert done["pending"] == [] and done["schema_version"] == done["latest"]
    human = run("ledger", "check")
    assert "PostgreSQL" in human.stdout and "aucune" in human.stdout


def test_an_older_sarapay_refuses_a_newer_schema(ledger_backend, run, pg_cluster):
    assert run("log").exit_code == 0
    with open_ledger(settings.ledger_location()) as ledger:
        table = "_sarapay_migrations" if ledger.is_postgres else "_sqlite_migrations"
        with ledger.transaction():
            ledger._conn.execute(
                f"INSERT INTO {table} (migration_set, name, applied_at) VALUES ('sarapay', '9999_from_the_future', 'x')"
            )
    for args in (("log",), ("ledger", "check")):
        result = run(*args)
        assert result.exit_code == 4, result.stderr
        assert "9999_from_the_future" in result.stderr and "plus récente" in result.stderr


# --------------------------------------------------------------------------- bad input and faults


def _admin(pg_cluster, *statements, database="postgres"):
    pg_cluster.admin(*statements, database=database)


def _tables(pg_cluster, url) -> list[str]:
    import psycopg

    with psycopg.connect(url.replace("postgresql://bob@", "postgresql://postgres@"), autocommit=True) as conn:
        return [r[0] for r in conn.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")]


@pytest.mark.parametrize(
    "case",
    ["malformed", "unreachable", "wrong_password", "no_password", "no_database", "no_rights", "old_server"],
)
def test_a_wrong_database_is_exit_4_one_sentence_masked_nothing_written(case, pg_cluster, pg_url, run, monkeypatch):
    port = pg_url.rsplit(":", 1)[1].split("/")[0]
    database = pg_url.rsplit("/", 1)[1]
    _admin(pg_cluster, "DROP ROLE IF EXISTS bob", "CREATE ROLE bob LOGIN PASSWORD 'le-bon-mot'")
    url, expect = {
        "malformed": (f"postgresql://bob@127.0.0.1:{port}x/{database}", "n'est pas une adresse PostgreSQL valide"),
        "unreachable": ("postgresql://bob@127.0.0.1:1/sarapay", "injoignable"),
        "wrong_password": (f"postgresql://bob@127.0.0.1:{port}/{database}", "refuse la connexion"),
        "no_password": (f"postgresql://bob@127.0.0.1:{port}/{database}", "PGPASSWORD"),
        "no_database": (f"postgresql://bob@127.0.0.1:{port}/absente", "n'existe pas"),
        "no_rights": (f"postgresql://bob@127.0.0.1:{port}/{database}", "n'a pas les droits"),
        "old_server": (f"postgresql://bob@127.0.0.1:{port}/{database}", "sarapay demande PostgreSQL"),
    }[case]
    monkeypatch.setenv("SARAPAY_DATABASE_URL", url)
    if case == "wrong_password":
        monkeypatch.setenv("PGPASSWORD", "le-mauvais")
    elif case in ("no_rights", "old_server", "no_database"):
        monkeypatch.setenv("PGPASSWORD", "le-bon-mot")
    if case == "old_server":
        from sarapay.ledger import postgres

        monkeypatch.setattr(postgres, "MIN_SERVER_VERSION", 990000)
    result = run("status")
    assert result.exit_code == 4, (result.stdout, result.stderr)
    said = " ".join(result.stderr.split())
    assert expect in said, said
    assert url.replace("postgresql://", "")[:12] in said and "le-bon-mot" not in said and "le-mauvais" not in said
    assert "Traceback" not in result.stderr and "psycopg" not in said
    assert _tables(pg_cluster, pg_url) == []  # nothing written
    assert not settings.ledger_path().exists()


def test_a_password_in_the_url_is_never_shown(pg_url, run, monkeypatch):
    with_password = pg_url.replace("postgres@", "postgres:tres-secret@")
    refused = run("config", "set-database", with_password)
    assert refused.exit_code == 2
    assert "tres-secret" not in refused.stderr and "PGPASSWORD" in refused.stderr and "~/.pgpass" in refused.stderr
    assert "trousseau" in refused.stderr
    monkeypatch.setenv("SARAPAY_DATABASE_URL", with_password)
    shown = run("config", "show", "--json")
    assert "tres-secret" not in shown.stdout + shown.stderr
    assert json.loads(shown.stdout)["database_url"] == pg_url.replace("postgres@", "postgres:***@")
    checked = run("ledger", "check")
    assert checked.exit_code == 0 and "tres-secret" not in checked.stdout + checked.stderr


def test_ledger_copy_refuses_a_password_in_the_target_url_in_its_own_process(tmp_path):
    # A process of its own: commands load lazily, so the message must be known without `config` loaded.
    env = {**os.environ, "SARAPAY_HOME": str(tmp_path / "home")}
    env.pop("SARAPAY_DATABASE_URL", None)
    result = subprocess.run([sys.executable, "-m", "sarapay", "ledger", "copy", "--to", "postgresql://equipe:tres-secret@db.example:5432/sarapay"],
                            capture_output=True, text=True, env=env, timeout=60)
    said = " ".join(result.stderr.split())
    assert result.returncode == 2, result.stderr
    assert "postgresql://equipe:***@db.example:5432/sarapay" in said and "PGPASSWORD" in said
    assert "tres-secret" not in result.stdout + result.stderr and "Traceback" not in result.stderr


def test_set_database_then_every_command_uses_it(pg_url, run):
    result = run("config", "set-database", pg_url)
    assert result.exit_code == 0, result.stderr
    assert json.loads(run("config", "show", "--json").stdout)["ledger_backend"] == "postgresql"
    assert run("log").exit_code == 0
    assert not settings.ledger_path().exists()
    assert run("config", "set-database", "--reset").exit_code == 0
    assert json.loads(run("ledger", "check", "--json").stdout)["backend"] == "sqlite"


def test_a_connection_lost_in_the_middle_rolls_back(pg_url, pg_cluster):
    from sarapay.rpps import make_test_rpps

    rpps = make_test_rpps(3)
    with open_ledger(pg_url) as ledger:
        ledger.upsert_practitioner(rpps, name="Dr Avant")
        with pytest.raises(ConfigError) as excinfo:
            with ledger.transaction():
                ledger.upsert_practitioner(rpps, name="Dr Après")
                _admin(pg_cluster, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                       "WHERE application_name LIKE 'sarapay %' AND datname = current_database()",
                       database=pg_url.rsplit("/", 1)[1])
                ledger.get_practitioner(rpps)
        assert excinfo.value.key == "ledger.pg_lost" and excinfo.value.exit_code == 4
        assert pg_url in excinfo.value.message
    with open_ledger(pg_url) as again:
        assert again.get_practitioner(rpps).name == "Dr Avant"


def test_where_postgresql_cannot_start_the_reason_is_given(monkeypatch):
    """The skip's reason (or under SARAPAY_REQUIRE_COMPONENTS=1, the failure's) says what is missing."""
    from tests import pg

    monkeypatch.setenv("SARAPAY_PG_BIN", "/nonexistent/bin")
    cluster, reason = pg.start_or_reason()
    assert cluster is None and "apt-get install postgresql" in reason
