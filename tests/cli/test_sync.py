"""`sarapay sync --rebuild`: a ledger deleted after a realistic day of activity comes back from Stripe alone.

The day goes through the real commands (plan, pay-link, capture, refund, cancel, reconcile) on the sandbox,
with the client's clock frozen and Stripe's moved by the sandbox. Then the ledger file is deleted, the
practitioners (local configuration) are attached again, `sync --rebuild` runs, and the consultations come
back with the same states, amounts, fees, deadlines and planned times; `status` shows the same table.
What cannot come from Stripe (services.sync.NOT_FROM_STRIPE: the patient reference and local bookkeeping
times; the history; consultations without online payment) is left out of the comparison, on purpose.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from sarapay import settings, statuses, timefmt
from sarapay.ledger import open_ledger
from sarapay.records import Consultation, Practitioner
from sarapay.rpps import make_test_rpps
from sarapay.services import sync as service

TEST_KEY = "sk_test_sarapayTests0000"
TEST_CLIENT_ID = "ca_sarapayTests0000"
DECLINED_CARD = "4000000000000002"
HOUR, DAY = 3600, 86400
# The status table compared before/after: every state paid online.
PAID_STATES = [code for code in statuses.CODES if code != statuses.NO_ONLINE_PAYMENT]


@pytest.fixture
def clocks(cli_env):
    sandbox = cli_env
    with freeze_time(datetime.fromtimestamp(sandbox.now(), timezone.utc)) as frozen:

        def advance(seconds: int) -> None:
            sandbox.advance(seconds)
            frozen.tick(timedelta(seconds=seconds))

        yield advance


def ledger():
    return open_ledger(settings.ledger_path())


def link(sandbox, n: int, name: str) -> dict:
    from sarapay.stripe_gateway import Gateway

    gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
    consent = sandbox.oauth_authorize(gateway.oauth_authorize_url(f"state-{n}"))
    account = gateway.oauth_token(consent["code"])["stripe_user_id"]
    rpps = make_test_rpps(n)
    with ledger() as book:
        book.upsert_practitioner(rpps, name=name, account_id=account, link_method="oauth", linked_at=datetime.now(timezone.utc))
    return {"rpps": rpps, "account": account}


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr)
    return result


def plan(run, rpps: str, *, hours: int = 2, paid: bool = True, extra: tuple = ()) -> str:
    at = timefmt.format_when(int(datetime.now(timezone.utc).timestamp()) + hours * HOUR, "fr")
    result = ok(run("plan", rpps, "--at", at, *(("--paid",) if paid else ()), "--patient-ref", "P-0042", *extra, "--json"))
    return json.loads(result.stdout)["id"]


def pay(sandbox, cid: str, card: str = "4242424242424242") -> None:
    with ledger() as book:
        session = book.get_consultation(cid).checkout_session_id
    sandbox.pay(session, card)


def rows() -> dict[str, Consultation]:
    with ledger() as book:
        return {r.id: r for r in book.list_consultations()}


def from_stripe(row: Consultation) -> dict:
    return {k: v for k, v in dataclasses.asdict(row).items() if k not in service.NOT_FROM_STRIPE}


def practitioners() -> list[Practitioner]:
    with ledger() as book:
        return book.list_practitioners()


def delete_ledger() -> None:
    path = settings.ledger_path()
    for suffix in ("", "-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def reattach(saved: list[Practitioner]) -> None:
    """What `link RPPS --account acct_…` does on a new machine: the practitioners are local configuration."""
    keep = ("name", "email", "account_id", "link_method", "linked_at", "default_max_cents", "livemode")
    with ledger() as book:
        for p in saved:
            book.upsert_practitioner(p.rpps, **{k: getattr(p, k) for k in keep})


@pytest.fixture
def day(run, clocks, cli_env):
    """A realistic day on three practitioners' accounts; returns {label: consultation id}."""
    sandbox = cli_env
    a, b, c = link(sandbox, 1, "Dre Martin"), link(sandbox, 2, "Dr Bernard"), link(sandbox, 3, "Dre Petit")
    ids: dict[str, str] = {}

    ids["hold_expired"] = plan(run, c["rpps"])
    pay(sandbox, ids["hold_expired"])
    ok(run("status", ids["hold_expired"], "--refresh"))
    ids["link_expired"] = plan(run, c["rpps"], hours=30)
    ids["relinked"] = plan(run, a["rpps"], hours=40)
    clocks(7 * DAY + HOUR)

    ok(run("pay-link", ids["relinked"]))  # its first link ran out: a new session for the same consultation
    pay(sandbox, ids["relinked"])
    ids["captured"] = plan(run, a["rpps"])
    ids["partial"] = plan(run, a["rpps"], extra=("--max", "22"))
    ids["refunded_part"] = plan(run, a["rpps"])
    ids["refunded_all"] = plan(run, b["rpps"])
    ids["held"] = plan(run, b["rpps"])
    ids["unpaid"] = plan(run, b["rpps"], extra=("--email", "patient@example.org"))
    ids["declined"] = plan(run, b["rpps"])
    ids["released"] = plan(run, c["rpps"])
    ids["closed_link"] = plan(run, c["rpps"])
    ids["offline"] = plan(run, c["rpps"], paid=False)
    for label in ("captured", "partial", "refunded_part", "refunded_all", "held", "released"):
        pay(sandbox, ids[label])
    pay(sandbox, ids["declined"], DECLINED_CARD)
    clocks(HOUR)
    run("reconcile")  # brings the holds in (exit 8: expired ones to report)
    ok(run("capture", ids["captured"], "--yes"))
    ok(run("capture", ids["partial"], "18,40", "--yes"))
    ok(run("capture", ids["refunded_part"], "--yes"))
    ok(run("refund", ids["refunded_part"], "5", "--yes"))
    ok(run("capture", ids["refunded_all"], "20", "--yes"))
    ok(run("refund", ids["refunded_all"], "--yes"))
    ok(run("cancel", ids["released"], "--yes"))
    ok(run("cancel", ids["closed_link"], "--yes"))
    run("reconcile")
    return ids


def test_the_day_covers_every_state(day):
    states = {label: rows()[cid].state for label, cid in day.items()}
    assert states == {
        "hold_expired": "expired", "link_expired": "expired", "relinked": "uncaptured", "captured": "succeeded",
        "partial": "succeeded", "refunded_part": "partially_refunded", "refunded_all": "refunded", "held": "uncaptured",
        "unpaid": "incomplete", "declined": "incomplete", "released": "canceled", "closed_link": "canceled",
        "offline": "no_online_payment",
    }


def test_deleted_ledger_comes_back_identical_from_stripe(run, day):
    before = rows()
    table_before = ok(run("status", *[arg for code in PAID_STATES for arg in ("--state", code)])).stdout
    saved = practitioners()
    delete_ledger()
    reattach(saved)

    result = ok(run("sync", "--rebuild"))

    after = rows()
    paid = {cid for cid, row in before.items() if row.paid_online}
    assert set(after) == paid  # the consultation without online payment never went to Stripe
    for cid in paid:
        was, now = from_stripe(before[cid]), from_stripe(after[cid])
        assert now == was, (cid, {k: (v, now[k]) for k, v in was.items() if v != now[k]})
        assert after[cid].patient_ref is None  # never sent to Stripe
    table_after = ok(run("status", *[arg for code in PAID_STATES for arg in ("--state", code)])).stdout
    assert table_after == table_before
    assert result.stdout.count("ajoutée · ") == len(paid)
    assert f"{len(paid)} consultations : {len(paid)} ajoutées, 0 corrigée" in result.stderr
    with ledger() as book:
        assert [line.note for line in book.history(day["captured"])] == [service.REBUILT_NOTE]


def test_rebuild_over_the_existing_ledger_corrects_and_keeps_what_stripe_cannot_know(run, day):
    before = rows()
    with ledger() as book:  # a damaged copy: wrong state, amounts, planned time, link, lost fee
        book.update_consultation(day["captured"], state="uncaptured", captured_cents=0, fee_cents=None)
        book.update_consultation(day["held"], scheduled_at="2001-01-01T00:00:00Z")
        book.update_consultation(day["closed_link"], closed_on_purpose=False)
        removed = before[day["refunded_all"]]
        book._conn.execute("DELETE FROM consultation_history WHERE consultation_id = ?", (removed.id,))
        book._conn.execute("DELETE FROM consultations WHERE id = ?", (removed.id,))

    result = run("sync", "--rebuild", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == [{"consultation_id": day["refunded_all"], "state": "refunded"}]
    corrected = {c["consultation_id"]: set(c["fields"]) for c in report["corrected"]}
    assert corrected == {
        day["captured"]: {"state", "captured_cents", "fee_cents"},
        day["held"]: {"scheduled_at"},
        day["closed_link"]: {"closed_on_purpose"},
    }
    assert report["kept_offline"] == 1 and report["not_found"] == [] and report["unread"] == []
    after = rows()
    for cid, row in before.items():
        assert from_stripe(after[cid]) == from_stripe(row), cid
        if cid != day["refunded_all"]:
            assert after[cid].patient_ref == "P-0042"  # kept: it never came from Stripe
    assert after[day["offline"]] == before[day["offline"]]

    again = json.loads(run("sync", "--rebuild", "--json").stdout)  # nothing left to correct
    assert again["added"] == [] and again["corrected"] == [] and again["unchanged"] == len(before) - 1


def test_sync_needs_rebuild_and_linked_practitioners(run, cli_env):
    result = run("sync")
    assert result.exit_code == 2 and "--rebuild" in result.stderr
    result = run("sync", "--rebuild")
    assert result.exit_code == 2 and "link RPPS --account" in result.stderr


def test_only_linked_accounts_are_read_and_unknown_practitioners_are_named(run, clocks, cli_env):
    from sarapay.ids import idempotency_key
    from sarapay.stripe_gateway import Gateway

    sandbox = cli_env
    a, b = link(sandbox, 1, "Dre Martin"), link(sandbox, 2, "Dr Bernard")
    mine = plan(run, a["rpps"])
    plan(run, b["rpps"])
    stranger = make_test_rpps(9)  # a session on a's account naming a practitioner this machine does not know
    Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url).create_checkout_session(
        a["account"], amount_cents=2500, consultation_id="TC-AAAAA2", rpps=stranger, expires_at=None,
        success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/ko",
        idempotency_key=idempotency_key("checkout", "TC-AAAAA2", "first"),
    )
    saved = [p for p in practitioners() if p.rpps == a["rpps"]]
    delete_ledger()
    reattach(saved)
    result = run("sync", "--rebuild", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["accounts"] == 1 and report["added"] == [{"consultation_id": mine, "state": "incomplete"}]
    assert report["unknown_practitioner"] == [{"consultation_id": "TC-AAAAA2", "rpps": stranger}]
    human = run("sync", "--rebuild")
    assert human.exit_code == 0 and f"RPPS {stranger}" in human.stderr


def test_one_list_per_account_and_events_only_where_a_link_expired(run, clocks, cli_env):
    sandbox = cli_env
    a, b = link(sandbox, 1, "Dre Martin"), link(sandbox, 2, "Dr Bernard")
    plan(run, a["rpps"])
    closed = plan(run, b["rpps"])
    ok(run("cancel", closed, "--yes"))
    seq = sandbox.requests()[-1]["seq"]
    ok(run("sync", "--rebuild"))
    calls = sorted((r["path"], r["account"]) for r in sandbox.requests(seq))
    assert calls == sorted([("/v1/checkout/sessions", a["account"]), ("/v1/checkout/sessions", b["account"]),
                            ("/v1/events", b["account"])])



def test_a_link_closed_through_the_api_is_canceled_for_refresh_reconcile_and_sync(run, clocks, cli_env):
    """The practitioner closes a payment link from their dashboard before it runs out (the API's expire,
    with Stripe-Account): « Annulé » for `status --refresh`, for `reconcile` and for `sync --rebuild` alike,
    even once its 24 h are past; a link that ran out stays « Expiré »."""
    import stripe

    sandbox = cli_env
    doc = link(sandbox, 1, "Dre Martin")
    seen_by_status, seen_by_reconcile, ran_out = (plan(run, doc["rpps"], hours=40) for _ in range(3))
    client = stripe.StripeClient(TEST_KEY, base_addresses={"api": sandbox.url}, http_client=stripe.UrllibClient())
    for cid in (seen_by_status, seen_by_reconcile):
        client.v1.checkout.sessions.expire(rows()[cid].checkout_session_id, options={"stripe_account": doc["account"]})
    clocks(DAY + HOUR)  # every link is now past its expires_at; the third one ran out by itself

    shown = ok(run("status", seen_by_status, "--refresh"))
    assert "Annulé" in shown.stdout and "Expiré" not in shown.stdout
    assert json.loads(ok(run("status", seen_by_status, "--json")).stdout)["state"] == "canceled"

    human = run("reconcile")  # what a person reads: only the link that ran out is to send again
    assert human.exit_code == 8, human.stderr
    [line] = human.stdout.splitlines()
    assert ran_out in line and seen_by_reconcile not in human.stdout + human.stderr
    states = {cid: row.state for cid, row in rows().items()}
    assert states == {seen_by_status: "canceled", seen_by_reconcile: "canceled", ran_out: "expired"}
    assert all(rows()[cid].closed_on_purpose for cid in (seen_by_status, seen_by_reconcile))

    saved = practitioners()
    delete_ledger()
    reattach(saved)
    report = json.loads(ok(run("sync", "--rebuild", "--json")).stdout)
    assert sorted((a["consultation_id"], a["state"]) for a in report["added"]) == sorted(states.items())
    table = ok(run("status", "--state", "canceled")).stdout
    assert seen_by_status in table and seen_by_reconcile in table and "Annulé" in table


def test_rebuild_reads_deadlines_on_stripes_clock(run, clocks, cli_env):
    """Our clock past a hold's deadline, Stripe's a week before it: the rebuilt consultation is what Stripe
    says, « Non capturé », not « Expiré » by the machine's clock."""
    sandbox = cli_env
    a = link(sandbox, 1, "Dre Martin")
    held = plan(run, a["rpps"])
    pay(sandbox, held)
    saved = practitioners()
    delete_ledger()
    reattach(saved)
    with freeze_time(datetime.now(timezone.utc) + timedelta(days=8)):  # only our clock moves
        result = run("sync", "--rebuild", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["added"] == [{"consultation_id": held, "state": "uncaptured"}]
    assert rows()[held].state == "uncaptured"


def test_the_summary_counts_consultations_apart_from_sessions_and_adds_up_without_plural_marks(run, sandbox):
    """A consultation with two payment links is two sessions and one consultation: the outcomes add up to the
    consultations, and no « (s) » is left."""
    from tests.cli.payments_helpers import link_practitioner, plan_paid

    rpps = link_practitioner(sandbox)["rpps"]
    cid = plan_paid(run, rpps)["id"]
    assert run("pay-link", cid).exit_code == 0
    plan_paid(run, rpps)
    result = run("sync", "--rebuild")
    assert result.exit_code == 0, result.stderr
    assert "3 sessions de paiement lues sur 1 compte ; 2 consultations : 0 ajoutée, 0 corrigée, 2 déjà à jour." in result.stderr
    assert "(s)" not in result.stderr
    assert "anciens liens" in result.stderr
