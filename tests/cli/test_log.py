"""`sarapay log`: the audit rows written by other commands (link, prefs, plan, capture, payouts), newest first."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(401)
KEYS = ["id", "at", "actor", "command", "target", "outcome", "detail", "stripe_request_id"]


@pytest.fixture
def story(run, sandbox):
    """Four mutating commands run for real against the sandbox; returns the consultation id."""
    linked = run("link", RPPS, "--new", "--email", "dr.log@example.org", "--json")
    assert linked.exit_code == 0
    sandbox.complete_onboarding(json.loads(linked.stdout)["account_id"])  # Stripe takes no card payment before
    assert run("prefs", "set-max", RPPS, "30").exit_code == 0
    planned = run("plan", RPPS, "--at", "2026-12-20 10:30", "--paid", "--json")
    assert planned.exit_code == 0, planned.stderr
    consultation = json.loads(planned.stdout)["id"]
    assert run("sandbox", "pay", consultation).exit_code == 0
    assert run("capture", consultation, "20", "--yes").exit_code == 0
    return consultation


def test_lists_the_rows_other_commands_wrote_newest_first(run, story):
    result = run("log", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["command"], r["target"], r["outcome"]) for r in rows] == [
        ("capture", story, "ok"),
        ("plan", RPPS, "ok"),
        ("prefs.set-max", RPPS, "ok"),
        ("link.new", RPPS, "ok"),
    ]
    for row in rows:
        assert list(row) == KEYS
        assert row["at"].endswith("Z")
    assert rows[0]["stripe_request_id"].startswith("req_")
    assert rows[0]["id"] > rows[1]["id"]


def test_human_table_in_paris_time_with_french_outcomes(run, story):
    rows = json.loads(run("log", "--json").stdout)
    result = run("log")
    assert result.exit_code == 0
    capture_line = next(line for line in result.stdout.splitlines() if " capture " in line)
    at = datetime.fromisoformat(rows[0]["at"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris"))
    assert at.strftime("%d/%m/%Y %H:%M") in capture_line
    assert story in capture_line and "OK" in capture_line and rows[0]["stripe_request_id"] in capture_line
    assert "Quand (Paris)" in result.stdout and "Résultat" in result.stdout
    assert "When (Paris)" in run("--lang", "en", "log").stdout


def test_a_refused_command_shows_as_refused(run, sandbox, stripe_client):
    client = stripe_client()
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "s"})
    code = sandbox.oauth_authorize(url)["code"]
    account = client.oauth.token(params={"grant_type": "authorization_code", "code": code}).stripe_user_id
    assert run("link", RPPS, "--account", account).exit_code == 0
    assert run("payouts", RPPS, "--schedule", "weekly:monday").exit_code == 5
    newest = json.loads(run("log", "-n", "1", "--json").stdout)
    assert [(r["command"], r["outcome"]) for r in newest] == [("payouts.schedule", "refused")]
    line = next(line for line in run("log").stdout.splitlines() if "payouts.schedule" in line)
    assert "Refusé" in line
    assert "Refused" in next(line for line in run("--lang", "en", "log").stdout.splitlines() if "payouts.schedule" in line)


def test_count_command_and_target_filters(run, story):
    assert [r["command"] for r in json.loads(run("log", "-n", "2", "--json").stdout)] == ["capture", "plan"]
    assert [r["command"] for r in json.loads(run("log", "--command", "plan", "--json").stdout)] == ["plan"]
    # A consultation id is found however it is typed.
    assert [r["command"] for r in json.loads(run("log", "--target", story.lower(), "--json").stdout)] == ["capture"]
    assert len(json.loads(run("log", "--target", RPPS, "--json").stdout)) == 3


def test_csv_and_nl(run, story):
    reader = csv.DictReader(io.StringIO(run("log", "--csv").stdout))
    assert reader.fieldnames == KEYS
    assert [row["command"] for row in reader] == ["capture", "plan", "prefs.set-max", "link.new"]
    lines = run("log", "--nl", "-n", "3").stdout.splitlines()
    assert [json.loads(line)["command"] for line in lines] == ["capture", "plan", "prefs.set-max"]


def test_empty_log(run):
    result = run("log")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.strip() == "Le journal d'audit est vide."
    assert json.loads(run("log", "--json").stdout) == []


def test_bad_count_exits_2(run):
    assert run("log", "-n", "0").exit_code == 2
    assert run("log", "-n", "abc").exit_code == 2


def test_reading_the_log_is_not_logged(run, story):
    run("log")
    run("log", "--json")
    with open_ledger(settings.ledger_path()) as book:
        assert len(book.list_audit(100)) == 4


def test_help_is_french_with_examples(run):
    result = run("log", "--help")
    assert "Journal d'audit" in result.stdout and "Exemples" in result.stdout


def test_details_are_said_in_words_and_kept_raw_in_json():
    from sarapay import i18n
    from sarapay.render.audit import audit_detail_text
    from sarapay.cli.log_cmd import _load_messages

    _load_messages()
    assert audit_detail_text("capture 2000 sarapay:capture:TC-8F3K2Q:2000:ab12") == "Capture de 20,00\u00a0€"
    assert audit_detail_text("paylink.already_authorised", "TC-8F3K2Q").startswith(
        "Le patient a déjà laissé son empreinte pour TC-8F3K2Q")
    unknown = audit_detail_text("capture 2500 sarapay:capture:x payments.outcome_unknown, outcome unknown", "TC-QQQQQQ")
    assert "outcome" not in unknown and "payments." not in unknown and unknown.count("inconnu") == 1
    assert audit_detail_text("refreshed=1 failed=0") == "1 mise à jour, 0 en échec"
    assert audit_detail_text("rows=1 tables=10 checksums_verified") == "1 ligne copiée, 10 tables, sommes de contrôle vérifiées"
    assert audit_detail_text("interval=weekly weekly_anchor=monday") == "Versements : hebdomadaire, le lundi"
    i18n.set_lang("en")
    try:
        assert audit_detail_text("capture 2000 sarapay:capture:k") == "Capture of €20.00"
    finally:
        i18n.set_lang(None)


def test_json_keeps_the_stored_detail(run, story):
    row = json.loads(run("log", "-n", "1", "--json").stdout)[0]
    assert row["detail"].startswith("capture 2000 sarapay:capture:")
