"""Disputes end to end on the sandbox: a payment made with Stripe's dispute test card is disputed once
captured; sarapay shows it « Contesté », lists it with `sarapay disputes` (amount, fee, reason, deadline in
Paris time, the dashboard page where the practitioner answers), reconcile reports new disputes and answer
deadlines (exit 8), a won dispute returns the payment to its former state with a history line, a lost one
is « Contestation perdue ». What it costs: one list of disputes per account with captures.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from sarapay import timefmt
from sarapay.rpps import make_test_rpps
from sarapay.services import disputes as service
from sarapay.services import reconcile as reconcile_service

from .payments_helpers import consultation, ledger, link_practitioner, plan_paid, session_id_of

FRAUD_CARD = "4000000000000259"
NOT_RECEIVED_CARD = "4000000000002685"
INQUIRY_CARD = "4000000000001976"
HOUR, DAY = 3600, 86400


def disputed(run, sandbox, rpps: str, card: str = FRAUD_CARD, *capture_args: str) -> str:
    """A consultation paid with a dispute test card and captured; returns its id."""
    planned = plan_paid(run, rpps)
    assert sandbox.pay(session_id_of(planned["id"]), card)["outcome"] == "authorized"
    captured = run("capture", planned["id"], *capture_args, "--yes")
    assert captured.exit_code == 0, captured.stderr
    return planned["id"]


def disputes_json(run, *args: str) -> list[dict]:
    result = run("disputes", "--json", *args)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def history_notes(cid: str) -> list[tuple[str | None, str | None]]:
    with ledger() as book:
        return [(line.state, line.note) for line in book.history(cid)]


def seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def api_since(sandbox, seq: int) -> list[dict]:
    return sandbox.requests(seq)


def last_seq(sandbox) -> int:
    log = sandbox.requests()
    return log[-1]["seq"] if log else 0


# --------------------------------------------------------------------------- the state of the payment


def test_status_refresh_sees_the_dispute_and_says_contesté(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    assert consultation(cid).state == "succeeded"  # the capture's answer: not disputed yet, as on Stripe
    shown = run("status", cid, "--refresh")
    assert shown.exit_code == 0, shown.stderr
    assert consultation(cid).state == "disputed"
    assert "Contesté" in shown.stdout
    state, note = history_notes(cid)[-1]
    assert state == "disputed" and note.startswith("contestation dp_") and "(le titulaire de la carte ne reconnaît pas le paiement (fraude))" in note
    # The fee and net of the consultation stay the charge's own; the dispute's money is the dispute's.
    assert consultation(cid).fee_cents == 63 and consultation(cid).net_cents == 2437


def test_a_disputed_payment_is_not_refunded_and_says_why(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    run("status", cid, "--refresh")
    refused = run("refund", cid, "--yes")
    assert refused.exit_code == 2
    assert "conteste le paiement" in refused.stderr and "sarapay disputes" in refused.stderr
    assert not [r for r in sandbox.requests() if r["path"] == "/v1/refunds" and r["method"] == "POST"]


# --------------------------------------------------------------------------- sarapay disputes


def test_disputes_json_keys_cents_and_utc_times(run, sandbox):
    doc = link_practitioner(sandbox, 1, name="Dre Martin")
    cid = disputed(run, sandbox, doc["rpps"], FRAUD_CARD, "20")
    assert disputes_json(run) == []  # not known yet: nothing asked of Stripe without --refresh
    result = run("--lang", "en", "disputes", "--refresh", "--json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr == ""
    (row,) = json.loads(result.stdout)
    assert list(row) == list(service.FIELDS)
    dispute_id = row["dispute_id"]
    assert dispute_id.startswith("dp_")
    assert row == {
        "dispute_id": dispute_id, "consultation_id": cid, "rpps": doc["rpps"], "practitioner": "Dre Martin",
        "account_id": doc["account"], "status": "needs_response", "open": True, "needs_response": True,
        "reason": "fraudulent", "amount_cents": 2000, "fee_cents": 1500, "net_cents": -3500, "currency": "eur",
        "due_by": row["due_by"], "created": row["created"], "scheduled_at": consultation(cid).scheduled_at,
        "state": "disputed", "dashboard_url": f"https://dashboard.stripe.com/test/disputes/{dispute_id}",
    }
    assert row["due_by"].endswith("Z") and seconds(row["due_by"]) == seconds(row["created"]) + 7 * DAY
    assert abs(seconds(row["created"]) - sandbox.now()) <= 5
    assert consultation(cid).state == "disputed"


def test_disputes_table_says_amount_fee_reason_deadline_and_where_to_answer(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    result = run("disputes", "--refresh")
    assert result.exit_code == 0, result.stderr
    (row,) = disputes_json(run)
    due = timefmt.format_when(seconds(row["due_by"]), "fr")
    line = next(line for line in result.stdout.splitlines() if cid in line)
    for text in (doc["rpps"], "25,00\u00a0€", "15,00\u00a0€", "Fraude", "À répondre", due):
        assert text in line, (text, line)
    assert f"le praticien (RPPS {doc['rpps']}) répond dans son tableau de bord Stripe avant le {due}" in result.stderr
    assert row["dashboard_url"] in result.stderr
    assert "Contestations relues chez Stripe sur 1 compte : 1 nouvelle, 1 paiement changé d'état." in result.stderr
    english = run("--lang", "en", "disputes")
    assert "Fraud" in english.stdout and "To answer" in english.stdout
    assert "answers in their Stripe dashboard before" in english.stderr


def test_filters_open_and_practitioner(run, sandbox):
    a, b = link_practitioner(sandbox, 1), link_practitioner(sandbox, 2)
    first = disputed(run, sandbox, a["rpps"])
    second = disputed(run, sandbox, b["rpps"], NOT_RECEIVED_CARD)
    rows = disputes_json(run, "--refresh")
    assert {r["consultation_id"] for r in rows} == {first, second}
    sandbox.settle_dispute(next(r["dispute_id"] for r in rows if r["consultation_id"] == second), "lost")
    run("disputes", "--refresh")
    assert [r["consultation_id"] for r in disputes_json(run, "--open")] == [first]
    assert [(r["consultation_id"], r["status"]) for r in disputes_json(run, "--practitioner", b["rpps"])] == [(second, "lost")]
    assert disputes_json(run, "--practitioner", b["rpps"], "--open") == []
    none = run("disputes", "--open", "--practitioner", b["rpps"])
    assert none.exit_code == 0 and none.stdout == "" and "Aucune contestation en cours" in none.stderr
    unknown = run("disputes", "--practitioner", make_test_rpps(9))
    assert unknown.exit_code == 2


def test_an_empty_list_says_how_disputes_are_found(run, sandbox):
    result = run("disputes")
    assert result.exit_code == 0 and result.stdout == ""
    assert "Aucune contestation enregistrée" in result.stderr and "--refresh" in result.stderr


def test_refresh_writes_one_audit_row(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    disputed(run, sandbox, doc["rpps"])
    run("disputes", "--refresh")
    with ledger() as book:
        (entry,) = book.list_audit(10, command="disputes.refresh")
    assert entry.outcome == "ok" and entry.target == "*" and "new=1" in entry.detail


# --------------------------------------------------------------------------- won and lost


def test_a_won_dispute_goes_back_to_its_former_state_with_a_history_line(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    (row,) = disputes_json(run, "--refresh")
    assert consultation(cid).state == "disputed" and row["amount_cents"] == 2500
    sandbox.settle_dispute(row["dispute_id"], "won")
    (row,) = disputes_json(run, "--refresh")
    assert row["status"] == "won" and row["open"] is False
    assert row["fee_cents"] == 0 and row["net_cents"] == 0  # reinstated, the fee given back
    assert consultation(cid).state == "succeeded"  # (partly refunded before: back to that, tests/domain)
    state, note = history_notes(cid)[-1]
    assert state == "succeeded" and "gagnée" in note
    assert [s for s, _ in history_notes(cid) if s][-3:] == ["succeeded", "disputed", "succeeded"]
    assert disputes_json(run, "--open") == []


def test_a_lost_dispute_is_contestation_perdue(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    (row,) = disputes_json(run, "--refresh")
    sandbox.settle_dispute(row["dispute_id"], "lost")
    shown = run("status", cid, "--refresh")
    assert "Contestation perdue" in shown.stdout
    assert consultation(cid).state == "dispute_lost"
    assert history_notes(cid)[-1] == ("dispute_lost", f"contestation {row['dispute_id']} perdue : la banque a donné raison au patient")
    again = run("refund", cid, "--yes")
    assert again.exit_code == 2 and "contestation perdue" in again.stderr


def test_an_inquiry_moves_no_money_and_leaves_the_state(run, sandbox):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"], INQUIRY_CARD)
    (row,) = disputes_json(run, "--refresh")
    assert row["status"] == "warning_needs_response" and row["needs_response"] is True
    assert row["fee_cents"] == 0 and row["net_cents"] == 0
    assert consultation(cid).state == "succeeded"
    assert "Demande à traiter" in run("disputes").stdout


# --------------------------------------------------------------------------- reconcile


class Clocks:
    """Both clocks at once: the sandbox's (Stripe) and freezegun's (the client)."""

    def __init__(self, sandbox, frozen) -> None:
        self.sandbox = sandbox
        self.frozen = frozen

    def advance(self, seconds: int) -> None:
        self.sandbox.advance(seconds)
        self.frozen.tick(timedelta(seconds=seconds))


@pytest.fixture
def clocks(cli_env):
    with freeze_time(datetime.fromtimestamp(cli_env.now(), timezone.utc)) as frozen:
        yield Clocks(cli_env, frozen)


def reconcile_json(run, *args: str) -> tuple[int, dict]:
    result = run("reconcile", "--json", *args)
    assert result.exit_code in (0, 8), (result.exit_code, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def test_reconcile_reports_a_new_dispute_then_its_deadline_then_the_loss(run, sandbox, clocks):
    doc = link_practitioner(sandbox, 1, name="Dre Martin")
    cid = disputed(run, sandbox, doc["rpps"])
    code, report = reconcile_json(run)
    assert code == 8
    (item,) = report["items"]
    assert list(item) == list(reconcile_service.ITEM_FIELDS)
    (row,) = disputes_json(run)
    assert item == {
        "kind": "dispute_new", "consultation_id": cid, "rpps": doc["rpps"], "practitioner": "Dre Martin",
        "account_id": doc["account"], "state": "disputed", "amount_cents": 2500, "currency": "eur",
        "deadline": row["due_by"], "scheduled_at": consultation(cid).scheduled_at, "detail": "fraudulent",
        "dispute_id": row["dispute_id"],
    }
    assert report["changes"] == [{"consultation_id": cid, "rpps": doc["rpps"], "from": "succeeded", "to": "disputed"}]

    clocks.advance(60)
    code, report = reconcile_json(run)  # reported once: the deadline is 7 days away
    assert code == 0 and report["items"] == [] and report["changes"] == []

    clocks.advance(5 * DAY)  # 2 days minus a minute before the deadline
    code, report = reconcile_json(run)
    assert code == 8 and [(i["kind"], i["dispute_id"]) for i in report["items"]] == [("dispute_deadline", row["dispute_id"])]
    human = run("reconcile")
    assert human.exit_code == 8
    (line,) = human.stdout.splitlines()
    assert line.startswith(f"Contestation à répondre (Fraude) · {cid} · {doc['rpps']} (Dre Martin) · 25,00\u00a0€")
    assert timefmt.format_when(seconds(row["due_by"]), "fr") in line
    code, report = reconcile_json(run, "--warn-within", "24h")
    assert code == 0

    clocks.advance(2 * DAY)  # no answer by the deadline: lost
    code, report = reconcile_json(run)
    assert code == 0 and report["items"] == []
    assert report["changes"] == [{"consultation_id": cid, "rpps": doc["rpps"], "from": "disputed", "to": "dispute_lost"}]
    assert consultation(cid).state == "dispute_lost"


def test_reconcile_follows_a_won_dispute_back(run, sandbox, clocks):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"])
    reconcile_json(run)
    (row,) = disputes_json(run)
    sandbox.settle_dispute(row["dispute_id"], "won")
    clocks.advance(60)
    code, report = reconcile_json(run)
    assert code == 0 and report["changes"] == [
        {"consultation_id": cid, "rpps": doc["rpps"], "from": "disputed", "to": "succeeded"}]
    assert history_notes(cid)[-1][0] == "succeeded" and "gagnée" in history_notes(cid)[-1][1]
    clocks.advance(60)
    before = disputes_json(run)
    code, report = reconcile_json(run)  # nothing new: nothing written
    assert code == 0 and report["changes"] == [] and disputes_json(run) == before


def test_reconcile_reports_an_inquiry_without_changing_the_state(run, sandbox, clocks):
    doc = link_practitioner(sandbox, 1)
    cid = disputed(run, sandbox, doc["rpps"], INQUIRY_CARD)
    code, report = reconcile_json(run)
    assert code == 8 and [(i["kind"], i["state"]) for i in report["items"]] == [("dispute_new", "succeeded")]
    assert report["changes"] == [] and consultation(cid).state == "succeeded"


def test_reconcile_sees_a_hold_captured_elsewhere_and_disputed(run, sandbox, clocks):
    """The practitioner captures from their dashboard: reconcile reads the session (its charge says disputed)
    and the account's disputes in the same run."""
    from sarapay.stripe_gateway import Gateway

    from .payments_helpers import TEST_CLIENT_ID, TEST_KEY

    doc = link_practitioner(sandbox, 1)
    planned = plan_paid(run, doc["rpps"])
    cid = planned["id"]
    sandbox.pay(session_id_of(cid), FRAUD_CARD)
    assert reconcile_json(run)[0] == 0 and consultation(cid).state == "uncaptured"
    gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
    pi = gateway.retrieve_payment_intent(doc["account"], consultation(cid).payment_intent_id)
    gateway.capture(doc["account"], pi["id"], None, idempotency_key="dashboard-capture")
    clocks.advance(60)
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 8 and [i["kind"] for i in report["items"]] == ["dispute_new"]
    assert report["changes"] == [{"consultation_id": cid, "rpps": doc["rpps"], "from": "uncaptured", "to": "disputed"}]
    assert sorted(r["path"] for r in api_since(sandbox, seq)) == ["/v1/checkout/sessions", "/v1/disputes"]


def test_reconcile_cost_one_list_of_disputes_per_account_with_captures(run, sandbox, clocks):
    a, b, idle = link_practitioner(sandbox, 1), link_practitioner(sandbox, 2), link_practitioner(sandbox, 3)
    disputed(run, sandbox, a["rpps"])
    disputed(run, sandbox, a["rpps"], NOT_RECEIVED_CARD)
    planned = plan_paid(run, b["rpps"])
    sandbox.pay(session_id_of(planned["id"]), "4242424242424242")
    assert run("capture", planned["id"], "--yes").exit_code == 0
    reconcile_json(run)
    clocks.advance(2 * DAY)
    previous = reconcile_json(run)[1]
    clocks.advance(HOUR)
    plan_paid(run, idle["rpps"], "--max", "10")  # nothing captured: its disputes are not read
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    requests = api_since(sandbox, seq)
    assert sorted((r["path"], r["account"]) for r in requests) == sorted([
        ("/v1/checkout/sessions", idle["account"]), ("/v1/disputes", a["account"]), ("/v1/disputes", b["account"])])
    for r in requests:
        if r["path"] == "/v1/disputes":
            # Since the last run, with a margin; back to the oldest dispute still open on that account.
            assert int(r["params"]["limit"]) == 100 and int(r["params"]["created"]["gte"]) > 0
    assert report["accounts"] == 3
    bound = {r["account"]: int(r["params"]["created"]["gte"]) for r in requests if r["path"] == "/v1/disputes"}
    oldest_open = min(seconds(r["created"]) for r in disputes_json(run, "--practitioner", a["rpps"]))
    assert bound[a["account"]] == oldest_open  # two days ago, before the last run
    assert bound[b["account"]] == seconds(previous["now"]) - reconcile_service.WINDOW_MARGIN


# --------------------------------------------------------------------------- 80 columns


def test_the_disputes_table_is_readable_at_80_columns(hermetic_home):
    import shutil

    from tests.components import missing_component

    from .test_terminal import PROGRAM, _env, _in_tmux, _screen_lines

    if shutil.which("tmux") is None:
        missing_component("tmux", "not installed (apt-get install tmux; .ci/run installs it)")
    rpps = make_test_rpps(80)
    with ledger() as book:
        book.upsert_practitioner(rpps, name="Dre Quatre-Vingts", account_id="acct_80columns")
        for cid, state in (("TC-8F3K2Q", "disputed"), ("TC-QQQQQQ", "succeeded")):
            book.insert_consultation(cid, rpps=rpps, scheduled_at="2026-12-01T09:30:00Z", state=state, paid_online=True,
                                     max_cents=2500, authorised_cents=2500, captured_cents=2500, account_id="acct_80columns")
        book.upsert_dispute(
            "dp_1Abc", consultation_id="TC-8F3K2Q", account_id="acct_80columns", amount_cents=2500, fee_cents=1500,
            net_cents=-4000, currency="eur", reason="credit_not_processed", status="needs_response",
            due_by=1796722200, created=1796117400,  # answer before 08/12/2026 10:30 Paris
        )
        book.upsert_dispute(
            "dp_2Def", consultation_id="TC-QQQQQQ", account_id="acct_80columns", amount_cents=2500, fee_cents=0,
            net_cents=0, currency="eur", reason="fraudulent", status="warning_needs_response",
            due_by=1796722200, created=1796117400,
        )
    screen = _in_tmux(f"{PROGRAM} disputes", env=_env(PAGER="cat"), until="__DONE__")
    lines = _screen_lines(screen.split("__DONE__")[0])
    table = [line for line in lines if "TC-" in line or "Consultation" in line]
    assert all(len(line) <= 80 for line in table), table
    text = "\n".join(table)
    assert "…" not in text
    for shown in ("TC-8F3K2Q", "25,00\u00a0€", "15,00\u00a0€", "Rembt. attendu", "À répondre", "08/12 10:30",
                  "Demande à traiter"):
        assert shown in text, (shown, text)
