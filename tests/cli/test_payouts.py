"""`sarapay payouts RPPS`: balance, payouts and schedule from the sandbox over HTTP; --schedule changes it
where the platform may (an account it created) and points to the dashboard where it may not (OAuth)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

RPPS = make_test_rpps(201)
EUR = "\u00a0€"
DAY = 86400


def ledger():
    return open_ledger(settings.ledger_path())


def created_account(sandbox, client) -> str:
    """A Standard-like account the platform created and controls, onboarding completed."""
    account = client.v1.accounts.create(
        params={
            "country": "FR",
            "email": "dr.martin@example.org",
            "controller": {
                "fees": {"payer": "account"},
                "losses": {"payments": "stripe"},
                "requirement_collection": "stripe",
                "stripe_dashboard": {"type": "full"},
            },
        }
    )
    sandbox.complete_onboarding(account.id)
    return account.id


def oauth_account(sandbox, client) -> str:
    """A Standard account the practitioner already had, connected through OAuth."""
    url = client.oauth.authorize_url(params={"scope": "read_write", "state": "s"})
    code = sandbox.oauth_authorize(url)["code"]
    return client.oauth.token(params={"grant_type": "authorization_code", "code": code}).stripe_user_id


def link(account: str | None, method: str | None = "created", rpps: str = RPPS) -> None:
    with ledger() as book:
        fields = {"account_id": account, "link_method": method, "linked_at": datetime.now(timezone.utc)} if account else {}
        book.upsert_practitioner(rpps, **fields)


def captured_payment(sandbox, client, account: str, amount: int = 2500) -> None:
    session = client.v1.checkout.sessions.create(
        params={
            "mode": "payment",
            "line_items": [{"price_data": {"currency": "eur", "unit_amount": amount, "product_data": {"name": "Téléconsultation"}}, "quantity": 1}],
            "payment_intent_data": {"capture_method": "manual"},
            "success_url": "https://example.org/ok",
            "cancel_url": "https://example.org/cancel",
        },
        options={"stripe_account": account},
    )
    paid = sandbox.pay(session.id, "4242424242424242")
    assert paid["outcome"] == "authorized"
    pi = paid["payment_intent"]
    client.v1.payment_intents.capture(pi["id"] if isinstance(pi, dict) else pi, options={"stripe_account": account})


def schedule_of(client, account: str) -> dict:
    return client.v1.accounts.retrieve(account).to_dict(recursive=True)["settings"]["payouts"]["schedule"]


def audit_rows() -> list[tuple]:
    with ledger() as book:
        return [(row.command, row.target, row.outcome) for row in book.list_audit(10)]


@pytest.fixture
def client(stripe_client):
    return stripe_client()


@pytest.fixture
def created(run, sandbox, client) -> str:
    account = created_account(sandbox, client)
    link(account, "created")
    return account


# --- the view ---------------------------------------------------------------------------------------------


def test_after_a_capture_the_balance_is_pending(run, sandbox, client, created):
    captured_payment(sandbox, client, created)
    result = run("payouts", RPPS, "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    # 25,00 € captured, Stripe's fee 1,5 % × 2500 = 37,5 → 38 cents + 25 = 63 cents; 2500 − 63 = 2437 pending.
    assert view["balance"]["pending"] == [{"amount_cents": 2437, "currency": "eur"}]
    assert view["balance"]["available"] in ([], [{"amount_cents": 0, "currency": "eur"}])
    assert view["payouts"] == []
    assert (view["rpps"], view["account_id"], view["schedule_editable"]) == (RPPS, created, True)
    assert view["schedule"]["interval"] == "daily"
    human = run("payouts", RPPS)
    assert "24,37" + EUR in human.stdout and "Solde en attente" in human.stdout
    assert "Aucun versement pour l'instant." in human.stderr


def test_ten_days_after_a_capture_a_paid_payout_shows(run, sandbox, client, created):
    captured_payment(sandbox, client, created)
    sandbox.advance(10 * DAY)
    result = run("payouts", RPPS, "--json")
    assert result.exit_code == 0, result.stderr
    view = json.loads(result.stdout)
    paid = [p for p in view["payouts"] if p["status"] == "paid"]
    assert len(paid) == 1
    payout = paid[0]
    assert (payout["amount_cents"], payout["currency"]) == (2437, "eur")
    assert payout["id"].startswith("po_") and payout["arrival_date"].endswith("Z")
    assert view["balance"]["available"] in ([], [{"amount_cents": 0, "currency": "eur"}])
    assert list(payout) == ["id", "amount_cents", "currency", "status", "arrival_date", "created", "automatic", "method"]

    arrival = datetime.fromisoformat(payout["arrival_date"].replace("Z", "+00:00")).astimezone(ZoneInfo("Europe/Paris"))
    human = run("payouts", RPPS)
    assert human.exit_code == 0
    line = next(line for line in human.stdout.splitlines() if payout["id"] in line)
    assert "Payé" in line and "24,37" + EUR in line and arrival.strftime("%d/%m/%Y") in line
    assert "Quotidien" in human.stdout
    english = run("--lang", "en", "payouts", RPPS)
    line = next(line for line in english.stdout.splitlines() if payout["id"] in line)
    assert "Paid" in line and "€24.37" in line and arrival.strftime("%Y-%m-%d") in line


def test_the_rpps_is_normalised_and_unlinked_or_unknown_practitioners_exit_2(run, sandbox, client, created):
    assert run("payouts", "8" + RPPS, "--json").exit_code == 0  # IDNPS form of the same practitioner
    other = make_test_rpps(202)
    unknown = run("payouts", other)
    assert (unknown.exit_code, unknown.stdout) == (2, "")
    link(None, rpps=other)
    unlinked = run("payouts", other)
    assert (unlinked.exit_code, unlinked.stdout) == (2, "")
    assert "n'est pas lié à Stripe" in unlinked.stderr
    assert run("payouts", "123").exit_code == 2


# --- changing the schedule --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("weekly:friday", {"interval": "weekly", "weekly_anchor": "friday"}),
        ("hebdomadaire:lundi", {"interval": "weekly", "weekly_anchor": "monday"}),
        ("monthly:15", {"interval": "monthly", "monthly_anchor": 15}),
        ("manual", {"interval": "manual"}),
    ],
)
def test_schedule_change_on_an_account_the_platform_created(run, client, created, text, expected):
    result = run("payouts", RPPS, "--schedule", text)
    assert result.exit_code == 0, result.stderr
    assert "Calendrier des versements mis à jour" in result.stderr
    schedule = schedule_of(client, created)  # what Stripe now holds, read back with the SDK
    assert {key: schedule.get(key) for key in expected} == expected
    assert audit_rows() == [("payouts.schedule", RPPS, "ok")]


def test_schedule_change_json_returns_the_new_schedule(run, client, created):
    view = json.loads(run("payouts", RPPS, "--schedule", "monthly:31", "--json").stdout)
    assert (view["schedule"]["interval"], view["schedule"]["monthly_anchor"]) == ("monthly", 31)
    # Back to daily: a second change applies (no idempotent replay of the first one).
    run("payouts", RPPS, "--schedule", "daily")
    run("payouts", RPPS, "--schedule", "monthly:31")
    run("payouts", RPPS, "--schedule", "daily")
    assert schedule_of(client, created)["interval"] == "daily"


def test_schedule_change_refused_for_an_oauth_account_points_to_the_dashboard(run, sandbox, client):
    account = oauth_account(sandbox, client)
    link(account, "oauth")
    before = schedule_of(client, account)
    view = json.loads(run("payouts", RPPS, "--json").stdout)
    assert view["schedule_editable"] is False
    result = run("payouts", RPPS, "--schedule", "weekly:monday")
    assert (result.exit_code, result.stdout) == (5, "")
    assert "tableau de bord Stripe" in result.stderr and account in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert schedule_of(client, account) == before
    assert audit_rows() == [("payouts.schedule", RPPS, "refused")]
    # The human view already says who may change it.
    assert "modifiable seulement par le praticien" in run("payouts", RPPS).stdout


@pytest.mark.parametrize("text", ["weekly:funday", "monthly:32", "monthly:0", "daily:3", "manual:1", "hourly", "weekly:", ""])
def test_junk_schedule_exits_2_and_sends_nothing(run, sandbox, created, text):
    sandbox.clear_requests()
    result = run("payouts", RPPS, "--schedule", text)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "non reconnu" in result.stderr
    assert [r for r in sandbox.requests() if r["method"] == "POST"] == []
    assert audit_rows() == [("payouts.schedule", RPPS, "refused")]


@pytest.mark.parametrize(
    "text, form",
    [("weekly", "weekly:monday"), ("hebdomadaire", "weekly:monday"), ("monthly", "monthly:1"), ("Mensuel", "monthly:1")],
)
def test_weekly_or_monthly_without_its_day_asks_for_it_and_sends_nothing(run, sandbox, client, created, text, form):
    # Stripe requires weekly_anchor / monthly_anchor with those intervals: the support user gives the day.
    sandbox.clear_requests()
    result = run("payouts", RPPS, "--schedule", text)
    assert (result.exit_code, result.stdout) == (2, "")
    assert form in result.stderr and "Précisez le jour" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert sandbox.requests() == []  # not even a read
    assert audit_rows() == [("payouts.schedule", RPPS, "refused")]
    assert schedule_of(client, created)["interval"] == "daily"
    english = run("--lang", "en", "payouts", RPPS, "--schedule", text)
    assert english.exit_code == 2 and form in english.stderr and "Give the day" in english.stderr


def test_reading_payouts_writes_no_audit_row(run, created):
    run("payouts", RPPS)
    assert audit_rows() == []


def test_real_commands_capture_then_ten_days_later_a_paid_payout(run, sandbox):
    rpps = make_test_rpps(203)
    linked = run("link", rpps, "--new", "--email", "dr.payouts@example.org", "--json")
    account = json.loads(linked.stdout)["account_id"]
    # Before onboarding, Stripe pays nothing out, and the view says so.
    pending = run("payouts", rpps)
    assert "versements sont suspendus" in pending.stderr
    assert json.loads(run("payouts", rpps, "--json").stdout)["payouts_enabled"] is False
    sandbox.complete_onboarding(account)
    planned = run("plan", rpps, "--at", "2026-12-20 10:30", "--paid", "--json")
    consultation = json.loads(planned.stdout)["id"]
    assert run("sandbox", "pay", consultation).exit_code == 0
    assert run("capture", consultation, "--yes").exit_code == 0  # the whole 25 € hold
    assert run("sandbox", "advance", "10d").exit_code == 0
    view = json.loads(run("payouts", rpps, "--json").stdout)
    # 2500 − (round(37,5) = 38 + 25) = 2437 paid out.
    assert [(p["amount_cents"], p["status"]) for p in view["payouts"]] == [(2437, "paid")]
    human = run("payouts", rpps)
    assert "Payé" in human.stdout and "suspendus" not in human.stderr


def test_help_is_french_with_examples(run):
    result = run("payouts", "--help")
    assert "Solde (disponible, en attente)" in result.stdout and "Exemples" in result.stdout and "weekly:monday" in result.stdout
