"""`sarapay status`: the payments table and its totals, machine output, filters, detail view, --refresh.

Listing tests build the ledger through the Ledger API (the data set below, totals computed by hand);
the --refresh test builds a real payment on the sandbox through the SDK and plays the patient.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

A = make_test_rpps(101)
B = make_test_rpps(102)
NOBODY = make_test_rpps(103)
EUR = "\u00a0€"  # French amounts: no-break space before the euro sign

# capture_before of the uncaptured hold: 2026-12-08 08:00 UTC = 09:00 in Paris (winter time).
DEADLINE = int(datetime(2026, 12, 8, 8, 0, tzinfo=timezone.utc).timestamp())

# id, rpps, scheduled_at (with an offset), state, fields
DATA = [
    ("TC-SUCCE2", A, "2026-12-01T09:00:00+01:00", "succeeded",
     dict(paid_online=True, max_cents=2500, authorised_cents=2500, captured_cents=2000, fee_cents=55, net_cents=1945,
          checkout_session_id="cs_succ", payment_intent_id="pi_succ", patient_ref="P-1", patient_email="jean.dupont@example.fr",
          account_id="acct_aaaaaaaa")),
    # 00:30 in Paris on 2 December is still 1 December in UTC: the day filters must use Paris days.
    ("TC-HKDX23", A, "2026-12-02T00:30:00+01:00", "uncaptured",
     dict(paid_online=True, max_cents=2500, authorised_cents=2500, capture_before=DEADLINE,
          checkout_session_id="cs_hold", payment_intent_id="pi_hold", patient_ref="P-2", account_id="acct_aaaaaaaa")),
    ("TC-NPAY23", B, "2026-12-03T10:00:00+01:00", "no_online_payment", dict(paid_online=False, patient_ref="P-3")),
    ("TC-REFD23", B, "2026-11-30T14:00:00+01:00", "partially_refunded",
     dict(paid_online=True, max_cents=2500, authorised_cents=2500, captured_cents=2500, refunded_cents=1000, fee_cents=63,
          net_cents=1437, checkout_session_id="cs_refd", payment_intent_id="pi_refd", account_id="acct_bbbbbbbb")),
    ("TC-EXPR23", A, "2026-12-02T10:00:00+01:00", "expired",
     dict(paid_online=True, max_cents=2000, checkout_session_id="cs_expr", account_id="acct_aaaaaaaa")),
]
NEWEST_FIRST = ["TC-NPAY23", "TC-EXPR23", "TC-HKDX23", "TC-SUCCE2", "TC-REFD23"]
# On screen on 2 December at noon (Paris): the hold to capture, then today and the past newest first, then
# the days to come.
TODAY = "2026-12-02 11:00:00"  # UTC
ON_SCREEN = ["TC-HKDX23", "TC-EXPR23", "TC-SUCCE2", "TC-REFD23", "TC-NPAY23"]

MACHINE_KEYS = [
    "id", "rpps", "scheduled_at", "state", "paid_online", "currency", "max_cents", "authorised_cents", "captured_cents",
    "refunded_cents", "fee_cents", "net_cents", "capture_before", "checkout_session_id", "payment_intent_id", "patient_ref",
    "updated_at",
]


def ledger():
    return open_ledger(settings.ledger_path())


@pytest.fixture
def dataset(run):
    with ledger() as book:
        for rpps in (A, B, NOBODY):
            book.upsert_practitioner(rpps)
        for cid, rpps, when, state, fields in DATA:
            book.insert_consultation(cid, rpps=rpps, scheduled_at=when, state=state, **fields)
    return DATA


def ids_of(result) -> list[str]:
    return [row["id"] for row in json.loads(result.stdout)]


def line_with(text: str, needle: str) -> str:
    return next(line for line in text.splitlines() if needle in line)


# --- human table ------------------------------------------------------------------------------------------


def test_table_shows_french_labels_paris_times_and_hand_computed_totals(run, dataset):
    from freezegun import freeze_time

    with freeze_time(TODAY, tick=True):
        result = run("status")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for label in ("Réussi", "Non capturé", "Sans paiement en ligne", "Remboursé partiellement", "Expiré"):
        assert label in out
    # 00:30 Paris on 2 December, not the UTC day.
    assert "02/12/2026 00:30" in line_with(out, "TC-HKDX23")
    # The deadline column is filled for the uncaptured hold only (09:00 Paris).
    assert "08/12/2026 09:00" in line_with(out, "TC-HKDX23")
    assert "08/12/2026" not in line_with(out, "TC-SUCCE2")
    succeeded = line_with(out, "TC-SUCCE2")
    for amount in ("25,00", "20,00", "0,55", "19,45"):
        assert amount + EUR in succeeded
    # Totals over the 5 consultations: authorised 25+25+25 = 75 €, captured 20+25 = 45 €, refunded 10 €,
    # fees 0,55+0,63 = 1,18 €, net 19,45+14,37 = 33,82 €.
    total = line_with(out, "Total")
    for amount in ("75,00", "45,00", "10,00", "1,18", "33,82"):
        assert amount + EUR in total
    assert " 5 " in total
    # The per-state line of the partial refund: one consultation, 25 € captured, 10 € refunded.
    per_state = [line for line in out.splitlines() if line.strip().startswith("Remboursé partiellement")][-1]
    assert " 1 " in per_state and "10,00" + EUR in per_state
    # What needs action first, then today and the past, then the days to come.
    assert [out.index(cid) for cid in ON_SCREEN] == sorted(out.index(cid) for cid in ON_SCREEN)
    assert result.stderr == ""


def test_table_in_english(run, dataset):
    result = run("--lang", "en", "status")
    assert result.exit_code == 0
    for label in ("Succeeded", "Uncaptured", "No online payment", "Partially refunded", "Expired", "Totals per state"):
        assert label in result.stdout
    for label in ("Réussi", "Non capturé", "Sans paiement en ligne"):
        assert label not in result.stdout
    assert "2026-12-02 00:30" in line_with(result.stdout, "TC-HKDX23")
    assert "€20.00" in line_with(result.stdout, "TC-SUCCE2")


def test_limit_keeps_what_needs_action_and_says_totals_cover_all(run, dataset):
    from freezegun import freeze_time

    with freeze_time(TODAY, tick=True):
        result = run("status", "--limit", "2")
    assert result.exit_code == 0
    assert "TC-HKDX23" in result.stdout and "TC-EXPR23" in result.stdout
    assert "TC-NPAY23" not in result.stdout
    assert "2 consultations affichées sur 5" in result.stderr
    assert "75,00" + EUR in line_with(result.stdout, "Total")


def test_default_view_leads_with_holds_to_capture_then_today(run, dataset):
    """Many consultations planned ahead must not push today's work off the screen (issue 13.5)."""
    from freezegun import freeze_time

    soon = int(datetime(2026, 12, 3, 8, 0, tzinfo=timezone.utc).timestamp())
    with ledger() as book:
        book.insert_consultation(
            "TC-SOON23", rpps=B, scheduled_at="2026-11-28T10:00:00+01:00", state="uncaptured", paid_online=True,
            max_cents=2500, authorised_cents=2500, capture_before=soon,
        )
        book.insert_consultation(
            "TC-INCO23", rpps=B, scheduled_at="2026-12-02T16:00:00+01:00", state="incomplete", paid_online=True, max_cents=2500,
        )
        book.insert_consultations_many(
            {"id": f"TC-F{i:05d}".replace("0", "A").replace("1", "B"), "rpps": A, "state": "no_online_payment",
             "scheduled_at": f"2027-01-{1 + i % 28:02d}T08:{i % 60:02d}:00Z"}
            for i in range(80)
        )
    with freeze_time(TODAY, tick=True):
        result = run("status")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    order = ["TC-SOON23", "TC-HKDX23", "TC-INCO23", "TC-EXPR23", "TC-SUCCE2", "TC-REFD23", "TC-NPAY23"]
    assert [out.index(cid) for cid in order] == sorted(out.index(cid) for cid in order)
    assert "50 consultations affichées sur 87" in result.stderr
    # Machine output keeps its documented order: newest first.
    with freeze_time(TODAY, tick=True):
        assert ids_of(run("status", "--json", "--state", "uncaptured")) == ["TC-HKDX23", "TC-SOON23"]


def test_empty_ledger_and_empty_selection_exit_0_with_a_message(run):
    result = run("status")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.strip() == "Aucune consultation."
    english = run("--lang", "en", "status")
    assert english.stderr.strip() == "No consultation."
    as_json = run("status", "--json")
    assert (as_json.exit_code, json.loads(as_json.stdout)) == (0, [])


def test_no_match_says_so_in_french(run, dataset):
    result = run("status", "--practitioner", NOBODY)
    assert (result.exit_code, result.stdout) == (0, "")
    assert "Aucune consultation ne correspond à ces critères" in result.stderr


# --- machine output ---------------------------------------------------------------------------------------


def test_json_is_an_array_with_stable_keys_cents_and_iso_utc(run, dataset):
    result = run("--lang", "en", "status", "--json")
    assert result.exit_code == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [row["id"] for row in rows] == NEWEST_FIRST
    for row in rows:
        assert list(row) == MACHINE_KEYS
    by_id = {row["id"]: row for row in rows}
    hold = by_id["TC-HKDX23"]
    assert hold["scheduled_at"] == "2026-12-01T23:30:00Z"
    assert hold["capture_before"] == "2026-12-08T08:00:00Z"
    assert hold["state"] == "uncaptured"  # a code, whatever the language
    assert (hold["fee_cents"], hold["net_cents"], hold["paid_online"], hold["currency"]) == (None, None, True, "eur")
    done = by_id["TC-SUCCE2"]
    assert (done["captured_cents"], done["fee_cents"], done["net_cents"]) == (2000, 55, 1945)
    assert by_id["TC-NPAY23"]["paid_online"] is False
    assert all(row["updated_at"].endswith("Z") for row in rows)
    # The same bytes in French: machine output does not depend on the language.
    assert run("status", "--json").stdout == result.stdout
    assert "jean.dupont" not in result.stdout and "@" not in result.stdout


def test_show_email_adds_the_email_to_machine_output(run, dataset):
    rows = json.loads(run("status", "--json", "--show-email").stdout)
    by_id = {row["id"]: row for row in rows}
    assert by_id["TC-SUCCE2"]["patient_email"] == "jean.dupont@example.fr"
    assert list(by_id["TC-SUCCE2"]).index("patient_email") == MACHINE_KEYS.index("patient_ref") + 1


def test_csv_has_a_header_cents_iso_times_and_empty_unknowns(run, dataset):
    result = run("status", "--csv")
    assert result.exit_code == 0
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == MACHINE_KEYS
    rows = {row["id"]: row for row in reader}
    assert list(rows) == NEWEST_FIRST
    refund = rows["TC-REFD23"]
    assert (refund["captured_cents"], refund["refunded_cents"], refund["net_cents"]) == ("2500", "1000", "1437")
    assert refund["scheduled_at"] == "2026-11-30T13:00:00Z"
    assert rows["TC-HKDX23"]["fee_cents"] == ""
    assert (rows["TC-NPAY23"]["paid_online"], rows["TC-SUCCE2"]["paid_online"]) == ("false", "true")


def test_nl_is_one_json_object_per_line(run, dataset):
    result = run("status", "--nl", "--limit", "3")
    lines = result.stdout.splitlines()
    assert [json.loads(line)["id"] for line in lines] == NEWEST_FIRST[:3]
    assert all(list(json.loads(line)) == MACHINE_KEYS for line in lines)


def sarapay(*args: str) -> subprocess.CompletedProcess:
    """The real program in a subprocess (what a cron job runs): argv as the shell gives it."""
    return subprocess.run([sys.executable, "-m", "sarapay", *args], capture_output=True, text=True, env=os.environ.copy(), timeout=60)


def test_two_output_formats_is_bad_input(run, dataset):
    result = run("status", "--json", "--csv")
    assert (result.exit_code, result.stdout) == (2, "")
    # --json was asked for, so the error itself is machine-readable (product.md: one JSON object on stderr).
    error = json.loads(result.stderr)["error"]
    assert error["message"] == "Choisissez un seul format de sortie parmi --json, --csv, --nl, --excel."
    assert error["exit_code"] == 2


def test_errors_under_json_are_one_json_object_on_stderr(dataset):
    proc = sarapay("status", "--state", "payé", "--json")
    assert (proc.returncode, proc.stdout) == (2, "")
    error = json.loads(proc.stderr)["error"]
    assert (error["code"], error["exit_code"]) == ("status.unknown", 2)


# --- filters ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--practitioner", A], ["TC-EXPR23", "TC-HKDX23", "TC-SUCCE2"]),
        (["--practitioner", "8" + B], ["TC-NPAY23", "TC-REFD23"]),  # the 12-digit IDNPS form
        (["--state", "Non capturé"], ["TC-HKDX23"]),
        (["--state", "non capture"], ["TC-HKDX23"]),
        (["--state", "uncaptured", "--state", "expired"], ["TC-EXPR23", "TC-HKDX23"]),
        (["--state", "Sans paiement en ligne", "--practitioner", A], []),
        # since: inclusive, from 00:00 Paris; 00:30 Paris on 2 December is in, although it is 1 December in UTC.
        (["--since", "02/12/2026"], ["TC-NPAY23", "TC-EXPR23", "TC-HKDX23"]),
        # until: a bare day includes that whole Paris day, and nothing after.
        (["--until", "01/12/2026"], ["TC-SUCCE2", "TC-REFD23"]),
        (["--since", "2026-12-01", "--until", "2026-12-01"], ["TC-SUCCE2"]),
        # a moment as --since is inclusive to the minute, as --until exclusive.
        (["--since", "2026-12-01 09:00"], ["TC-NPAY23", "TC-EXPR23", "TC-HKDX23", "TC-SUCCE2"]),
        (["--until", "2026-12-01 09:00"], ["TC-REFD23"]),
    ],
)
def test_filters(run, dataset, args, expected):
    result = run("status", *args, "--json")
    assert result.exit_code == 0, result.stderr
    assert ids_of(result) == expected


def test_filters_apply_to_the_totals(run, dataset):
    result = run("status", "--practitioner", B)
    # B: the partial refund (25 € captured, 10 € refunded, fee 0,63, net 14,37) and one without online payment.
    total = line_with(result.stdout, "Total")
    assert " 2 " in total
    for amount in ("25,00", "10,00", "0,63", "14,37"):
        assert amount + EUR in total


@pytest.mark.parametrize(
    "args, start",
    [
        (["--state", "payé"], "État « payé » inconnu"),
        (["--since", "32/12/2026"], "La date « 32/12/2026 » n'existe pas"),
        (["--until", "demain"], "Date « demain » non reconnue"),
        (["--since", "2026-12-02", "--until", "2026-12-01"], "La période est vide"),
        (["--practitioner", "12345678901"], "La clé du numéro RPPS"),
        (["--limit", "-1"], None),
    ],
)
def test_bad_input_exits_2_with_one_sentence_and_no_output(run, dataset, args, start):
    result = run("status", *args)
    assert (result.exit_code, result.stdout) == (2, "")
    if start:
        assert len(result.stderr.strip().splitlines()) == 1
        assert result.stderr.startswith(start)


def test_bad_state_message_is_french_and_lists_the_codes(run, dataset):
    result = run("status", "--state", "payé")
    assert "État « payé » inconnu" in result.stderr and "uncaptured" in result.stderr


# --- one consultation -------------------------------------------------------------------------------------


def test_detail_shows_every_field_masked_email_and_the_history(run, dataset):
    with ledger() as book:
        book.update_consultation("TC-SUCCE2", note="capturé 20,00 €")
    result = run("status", "tc-succe2")  # typed in lower case
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "j***@example.fr" in out and "jean.dupont" not in out
    for text in ("TC-SUCCE2", A, "acct_aaaaaaaa", "cs_succ", "pi_succ", "P-1", "Réussi", "01/12/2026 09:00",
                 "20,00" + EUR, "0,55" + EUR, "19,45" + EUR, "Historique", "capturé 20,00 €"):
        assert text in out
    shown = run("status", "TC-SUCCE2", "--show-email")
    assert "jean.dupont@example.fr" in shown.stdout


def test_detail_json_carries_the_timeline(run, dataset):
    with ledger() as book:
        book.update_consultation("TC-HKDX23", state="succeeded", captured_cents=1500, note="capture")
    result = run("status", "TC-HKDX23", "--json")
    document = json.loads(result.stdout)
    assert document["id"] == "TC-HKDX23" and document["captured_cents"] == 1500
    assert [line["state"] for line in document["history"]] == ["uncaptured", "succeeded"]
    assert document["history"][1]["note"] == "capture"
    assert all(line["at"].endswith("Z") for line in document["history"])
    assert document["account_id"] == "acct_aaaaaaaa"


def test_unknown_or_malformed_consultation_exits_2(run, dataset):
    unknown = run("status", "TC-ZZZZZZ")
    assert (unknown.exit_code, unknown.stdout) == (2, "")
    assert "Aucune consultation TC-ZZZZZZ dans le registre" in unknown.stderr
    malformed = run("status", "TC-0000")
    assert malformed.exit_code == 2 and "n'est pas un identifiant de consultation" in malformed.stderr
    assert run("status", "TC-SUCCE2", "--state", "expired").exit_code == 2


def test_reading_writes_no_audit_row(run, dataset):
    run("status")
    run("status", "TC-SUCCE2")
    with ledger() as book:
        assert book.list_audit(10) == []


def test_status_without_refresh_does_not_import_stripe(tmp_path, dataset):
    code = (
        "import sys\n"
        "from sarapay.cli import app\n"
        "try:\n"
        "    app(['status', '--json'])\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        "assert 'stripe' not in sys.modules, 'stripe imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == len(DATA)


# --- --refresh against the sandbox ------------------------------------------------------------------------


def _session(client, account: str, consultation_id: str, amount: int = 2500):
    params = {
        "mode": "payment",
        "line_items": [{"price_data": {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Téléconsultation"}}, "quantity": 1}],
        "payment_intent_data": {"capture_method": "manual", "metadata": {"consultation_id": consultation_id}},
        "metadata": {"consultation_id": consultation_id},
        "success_url": "https://example.org/ok",
        "cancel_url": "https://example.org/cancel",
    }
    return client.v1.checkout.sessions.create(params=params, options={"stripe_account": account})


@pytest.fixture
def paid_online(run, sandbox, stripe_client):
    """Two consultations with a real Checkout Session on a connected account, not paid yet."""
    client = stripe_client()
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "s"})
    account = client.oauth.token(params={"grant_type": "authorization_code", "code": sandbox.oauth_authorize(url)["code"]}).stripe_user_id
    sessions = {}
    with ledger() as book:
        book.upsert_practitioner(A, account_id=account, link_method="oauth", linked_at=datetime.now(timezone.utc))
        for cid, when in (("TC-PAYE23", "2026-12-04T10:00:00+01:00"), ("TC-WAIT23", "2026-12-05T10:00:00+01:00")):
            session = _session(client, account, cid)
            sessions[cid] = session.id
            book.insert_consultation(
                cid, rpps=A, scheduled_at=when, state="incomplete", paid_online=True, max_cents=2500,
                account_id=account, checkout_session_id=session.id,
            )
    return account, sessions


def test_refresh_one_consultation_after_the_patient_paid(run, sandbox, paid_online):
    _, sessions = paid_online
    sandbox.pay(sessions["TC-PAYE23"], "4242424242424242")
    stale = json.loads(run("status", "TC-PAYE23", "--json").stdout)
    assert stale["state"] == "incomplete"  # nothing asked Stripe yet
    result = run("status", "TC-PAYE23", "--refresh", "--json")
    assert result.exit_code == 0, result.stderr
    fresh = json.loads(result.stdout)
    assert (fresh["state"], fresh["authorised_cents"]) == ("uncaptured", 2500)
    assert fresh["payment_intent_id"].startswith("pi_") and fresh["capture_before"].endswith("Z")
    with ledger() as book:
        assert book.get_consultation("TC-PAYE23").state == "uncaptured"
        audit = book.list_audit(5)
    assert [(row.command, row.target, row.outcome) for row in audit] == [("status.refresh", "TC-PAYE23", "ok")]
    assert audit[0].stripe_request_id.startswith("req_")


def test_refresh_of_the_list_updates_non_final_ones_then_filters(run, sandbox, paid_online):
    _, sessions = paid_online
    sandbox.pay(sessions["TC-PAYE23"], "4242424242424242")
    # The state filter applies after the refresh: the consultation that just became « Non capturé » is listed.
    result = run("status", "--state", "uncaptured", "--refresh")
    assert result.exit_code == 0, result.stderr
    assert "TC-PAYE23" in result.stdout and "TC-WAIT23" not in result.stdout
    assert "Non capturé" in line_with(result.stdout, "TC-PAYE23")
    assert "2 consultations mises à jour depuis Stripe" in result.stderr
    rows = {row["id"]: row for row in json.loads(run("status", "--json").stdout)}
    assert (rows["TC-PAYE23"]["state"], rows["TC-WAIT23"]["state"]) == ("uncaptured", "incomplete")
    with ledger() as book:
        assert [(row.command, row.outcome) for row in book.list_audit(5)] == [("status.refresh", "ok")]


# --- end to end, through the real commands ----------------------------------------------------------------


@pytest.fixture
def practitioner(run, sandbox):
    rpps = make_test_rpps(104)
    linked = run("link", rpps, "--new", "--email", "dr.status@example.org", "--json")
    assert linked.exit_code == 0
    sandbox.complete_onboarding(json.loads(linked.stdout)["account_id"])  # Stripe takes no card payment before
    return rpps


def plan_paid(run, rpps: str, when: str) -> str:
    planned = run("plan", rpps, "--at", when, "--paid", "--email", "jean.dupont@example.fr", "--json")
    assert planned.exit_code == 0, planned.stderr
    return json.loads(planned.stdout)["id"]


def test_real_commands_plan_pay_capture_then_status(run, practitioner):
    paid = plan_paid(run, practitioner, "2026-12-20 10:30")
    waiting = plan_paid(run, practitioner, "2026-12-20 11:00")
    assert run("plan", practitioner, "--at", "2026-12-20 11:30").exit_code == 0
    assert run("sandbox", "pay", paid).exit_code == 0
    assert run("capture", paid, "20", "--yes").exit_code == 0
    rows = {row["id"]: row for row in json.loads(run("status", "--practitioner", practitioner, "--json").stdout)}
    assert len(rows) == 3
    # 20 € captured: 2000 × 1,5 % = 30 + 25 = 55 cents of fee, 1945 net.
    done = rows[paid]
    assert (done["state"], done["authorised_cents"], done["captured_cents"], done["fee_cents"], done["net_cents"]) == (
        "succeeded", 2500, 2000, 55, 1945,
    )
    assert (rows[waiting]["state"], rows[waiting]["captured_cents"]) == ("incomplete", 0)
    human = run("status", "--practitioner", practitioner).stdout
    assert "Réussi" in line_with(human, paid) and "Incomplet" in line_with(human, waiting)
    assert "Sans paiement en ligne" in human
    assert "j***@example.fr" in run("status", paid).stdout


def test_refresh_marks_a_hold_expired_after_the_sandbox_clock_moves(run, sandbox, practitioner):
    forgotten = plan_paid(run, practitioner, "2026-12-20 10:30")
    assert run("sandbox", "pay", forgotten).exit_code == 0
    assert json.loads(run("status", forgotten, "--json").stdout)["state"] == "uncaptured"
    assert run("sandbox", "advance", "8d").exit_code == 0
    assert json.loads(run("status", forgotten, "--json").stdout)["state"] == "uncaptured"  # the ledger has not asked yet
    result = run("status", forgotten, "--refresh")
    assert result.exit_code == 0, result.stderr
    assert "Expiré" in result.stdout
    assert json.loads(run("status", forgotten, "--json").stdout)["state"] == "expired"


def test_a_refusal_on_one_consultation_is_reported_and_the_others_refresh(run, sandbox, paid_online):
    _, sessions = paid_online
    sandbox.pay(sessions["TC-PAYE23"], "4242424242424242")
    with ledger() as book:
        # An account the platform cannot reach (access revoked, say): Stripe answers 403 account_invalid.
        book.insert_consultation(
            "TC-GNE223", rpps=A, scheduled_at="2026-12-06T10:00:00+01:00", state="incomplete", paid_online=True,
            max_cents=2500, account_id="acct_revokedRevoked1", checkout_session_id="cs_test_gone",
        )
    result = run("status", "--refresh", "--json")
    assert result.exit_code == 0, result.stderr
    assert "TC-GNE223 n'a pas pu être mise à jour" in result.stderr
    rows = {row["id"]: row for row in json.loads(result.stdout)}
    assert (rows["TC-PAYE23"]["state"], rows["TC-GNE223"]["state"]) == ("uncaptured", "incomplete")
    # The named consultation alone: Stripe's refusal is the command's outcome (exit 5), and it is audited.
    alone = run("status", "TC-GNE223", "--refresh")
    assert (alone.exit_code, alone.stdout) == (5, "")
    with ledger() as book:
        assert [(r.target, r.outcome) for r in book.list_audit(2)] == [("TC-GNE223", "refused"), ("*", "ok")]


def test_machine_rows_are_written_as_they_come():
    """emit_rows writes each row before asking for the next one (nothing is gathered in memory)."""
    from sarapay.cli.output import Output, emit_rows

    for output in (Output.JSON, Output.NL, Output.CSV):
        buffer = io.StringIO()
        seen: list[int] = []

        def rows():
            for n in range(3):
                seen.append(buffer.tell())
                yield {"n": n}

        stdout, sys.stdout = sys.stdout, buffer
        try:
            assert emit_rows(output, rows(), ["n"]) == 3
        finally:
            sys.stdout = stdout
        assert seen[0] < seen[1] < seen[2], output  # the output grew between two rows
        text = buffer.getvalue()
        if output is Output.JSON:
            assert json.loads(text) == [{"n": 0}, {"n": 1}, {"n": 2}]
        elif output is Output.NL:
            assert [json.loads(line) for line in text.splitlines()] == [{"n": 0}, {"n": 1}, {"n": 2}]
        else:
            assert text.splitlines() == ["n", "0", "1", "2"]


def test_help_is_french_with_an_example_in_the_support_panel(run):
    result = run("status", "--help")
    assert result.exit_code == 0
    assert "Tableau des paiements" in result.stdout and "Exemples" in result.stdout
    root = run("--help").stdout
    support = root[root.index("Support"):]
    assert "status" in support.split("╰")[0]


def test_a_sandbox_that_lost_the_account_says_it_may_have_been_restarted_without_state(run, sandbox):
    """The ledger knows an account the sandbox does not (a sandbox restarted without --state): the message
    says so and how to keep its state, not only « access revoked »."""
    from sarapay import settings
    from sarapay.ledger import open_ledger
    from sarapay.rpps import make_test_rpps

    rpps = make_test_rpps(71)
    with open_ledger(settings.ledger_path()) as book:
        book.upsert_practitioner(rpps, name="Dre Oubli", account_id="acct_lostInRestart01", link_method="attached")
        book.insert_consultation(
            "TC-KQST2R", rpps=rpps, scheduled_at="2099-12-01T09:30:00Z", state="incomplete", paid_online=True,
            max_cents=2500, account_id="acct_lostInRestart01", checkout_session_id="cs_test_lostInRestart01",
        )
    result = run("status", "TC-KQST2R", "--refresh")
    assert result.exit_code == 5, result.stderr
    message = " ".join(result.stderr.split())
    assert "redémarré sans --state" in message and "sarapay sandbox serve --state FICHIER" in message
