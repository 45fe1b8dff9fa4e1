"""`sarapay reconcile` against the sandbox: the client's clock frozen (freezegun), Stripe's moved with the
sandbox's own clock, both moved together by `clocks.advance`.

What is checked: the warning window's edges, a hold that expires, a decline, links that ran out (before
the consultation, and after it), exit codes 0/8/6/1, the lock, the idempotent second run (no consultation
written, no history line), --json, and what it costs on Stripe (from the sandbox's request log: one list
per account with open items and per hundred sessions, never a retrieve per consultation).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest
from freezegun import freeze_time

from sarapay import settings, timefmt
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps
from sarapay.services import reconcile as service

TEST_KEY = "sk_test_sarapayTests0000"
TEST_CLIENT_ID = "ca_sarapayTests0000"
DECLINED_CARD = "4000000000000002"
HOUR, DAY = 3600, 86400
HOLD = 7 * DAY


class Clocks:
    """Both clocks at once: the sandbox's (Stripe) and freezegun's (the client)."""

    def __init__(self, sandbox, frozen) -> None:
        self.sandbox = sandbox
        self.frozen = frozen

    def now(self) -> int:
        return int(datetime.now(timezone.utc).timestamp())

    def advance(self, seconds: int) -> None:
        self.sandbox.advance(seconds)
        self.frozen.tick(timedelta(seconds=seconds))

    def paris(self, seconds_from_now: int) -> str:
        return timefmt.format_when(self.now() + seconds_from_now, "fr")


@pytest.fixture
def clocks(cli_env):
    sandbox = cli_env
    with freeze_time(datetime.fromtimestamp(sandbox.now(), timezone.utc)) as frozen:
        yield Clocks(sandbox, frozen)


def ledger():
    return open_ledger(settings.ledger_path())


def link(sandbox, n: int, name: str = "Dre Martin") -> dict:
    from sarapay.stripe_gateway import Gateway

    gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
    consent = sandbox.oauth_authorize(gateway.oauth_authorize_url(f"state-{n}"))
    account = gateway.oauth_token(consent["code"])["stripe_user_id"]
    rpps = make_test_rpps(n)
    with ledger() as book:
        book.upsert_practitioner(rpps, name=name, account_id=account, link_method="oauth", linked_at=datetime.now(timezone.utc))
    return {"rpps": rpps, "account": account}


def plan(run, clocks, rpps: str, *, in_seconds: int = 2 * DAY, extra: tuple = ()) -> str:
    result = run("plan", rpps, "--at", clocks.paris(in_seconds), "--paid", *extra, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)["id"]


def pay(sandbox, cid: str, card: str = "4242424242424242") -> dict:
    with ledger() as book:
        session = book.get_consultation(cid).checkout_session_id
    return sandbox.pay(session, card)


def row(cid: str) -> dict:
    with ledger() as book:
        return book.get_consultation(cid)


def snapshot() -> dict:
    with ledger() as book:
        rows = {r.id: r for r in book.list_consultations()}
        return {"rows": rows, "history": {cid: len(book.history(cid)) for cid in rows}, "audit": len(book.list_audit(1000))}


def timefmt_seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def reconcile(run, *args: str):
    return run("reconcile", *args)


def reconcile_json(run, *args: str) -> tuple[int, dict]:
    result = run("reconcile", "--json", *args)
    assert result.exit_code in (0, 8), (result.exit_code, result.stderr)
    return result.exit_code, json.loads(result.stdout)


def api_requests(sandbox, since: int = 0) -> list[dict]:
    return sandbox.requests(since)


def last_seq(sandbox) -> int:
    log = sandbox.requests()
    return log[-1]["seq"] if log else 0


# --------------------------------------------------------------------------- exit codes and the window


def test_nothing_open_exits_0_and_says_so(run, clocks):
    result = reconcile(run)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "Rien à traiter" in result.stderr


def test_warning_window_edges_48h01_is_quiet_47h59_needs_action(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1, "Dr Durand")
    cid = plan(run, clocks, doc["rpps"], in_seconds=HOUR)
    assert pay(sandbox, cid)["outcome"] == "authorized"

    clocks.advance(HOLD - 48 * HOUR - 60)  # the hold's deadline is 48 h 01 min away
    result = reconcile(run)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert row(cid).state == "uncaptured"
    deadline = row(cid).capture_before
    assert 48 * HOUR < deadline - clocks.now() <= 48 * HOUR + 90

    clocks.advance(120)  # now 47 h 59 min away
    result = reconcile(run)
    assert result.exit_code == 8, result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("Empreinte à capturer · " + cid)
    assert doc["rpps"] + " (Dr Durand)" in line
    assert "25,00\u00a0€" in line and "échéance " + timefmt.format_when(deadline, "fr") in line
    assert f"à faire : capturer après l'acte (sarapay capture {cid})" in line  # the next step, named
    assert "1 point à traiter" in result.stderr

    code, report = reconcile_json(run, "--warn-within", "47h")  # a narrower window: quiet again
    assert code == 0 and report["items"] == []


def test_hold_that_expires_is_reported_once_then_the_run_is_quiet(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=HOUR)
    pay(sandbox, cid)
    assert reconcile(run).exit_code == 0  # incomplete -> uncaptured, 7 days left

    clocks.advance(HOLD + HOUR)
    code, report = reconcile_json(run)
    assert code == 8
    (item,) = report["items"]
    assert item["kind"] == "hold_expired" and item["consultation_id"] == cid and item["amount_cents"] == 2500
    assert item["deadline"] == timefmt.iso_utc(row(cid).capture_before)
    assert report["changes"] == [{"consultation_id": cid, "rpps": doc["rpps"], "from": "uncaptured", "to": "expired"}]
    assert row(cid).state == "expired"

    clocks.advance(60)
    code, report = reconcile_json(run)
    assert code == 0 and report["items"] == [] and report["accounts"] == 0


def test_client_clock_days_ahead_expires_nothing_stripe_still_holds(run, clocks, cli_env):
    """The client's clock runs past the hold's deadline, Stripe's does not: Stripe's time decides, the hold
    is still to capture. (A hold past its deadline that Stripe has not closed yet is « Expiré »:
    tests/domain/test_statuses.py, on Stripe's time.)"""
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=HOUR)
    pay(sandbox, cid)
    clocks.frozen.tick(timedelta(seconds=HOLD + 60))  # only our clock moves
    code, report = reconcile_json(run)
    assert code == 0 and report["items"] == [] and report["changes"] == [
        {"consultation_id": cid, "rpps": doc["rpps"], "from": "incomplete", "to": "uncaptured"}
    ]
    assert row(cid).state == "uncaptured"
    assert abs(timefmt_seconds(report["now"]) - sandbox.now()) <= 2  # Stripe's time, not ours


def test_decline_is_reported_with_its_code_while_the_link_is_open(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=DAY)
    assert pay(sandbox, cid, DECLINED_CARD)["outcome"] == "declined"
    code, report = reconcile_json(run)
    assert code == 8
    (item,) = report["items"]
    assert (item["kind"], item["consultation_id"], item["state"], item["detail"]) == ("declined", cid, "incomplete", "generic_decline")
    assert item["amount_cents"] == 2500 and item["deadline"] == timefmt.iso_utc(row(cid).link_expires_at)
    (line,) = reconcile(run).stdout.splitlines()  # the cron line says the decline in words, not its code
    assert line.startswith(f"Carte refusée (refusée par la banque) · {cid}") and "generic_decline" not in line
    assert "consultation " + timefmt.format_when(datetime.fromisoformat(row(cid).scheduled_at.replace("Z", "+00:00")), "fr") in line
    # The patient retries with a good card: nothing needs a person any more.
    pay(sandbox, cid)
    code, report = reconcile_json(run)
    assert code == 0 and row(cid).state == "uncaptured"


def test_links_that_ran_out_before_and_after_the_consultation(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    later = plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)  # the link dies before the visit
    soon = plan(run, clocks, doc["rpps"], in_seconds=2 * HOUR)  # the visit is over, nobody paid
    declined = plan(run, clocks, doc["rpps"], in_seconds=2 * HOUR)
    pay(sandbox, declined, DECLINED_CARD)
    clocks.advance(DAY + HOUR)
    code, report = reconcile_json(run)
    assert code == 8
    kinds = {item["consultation_id"]: item["kind"] for item in report["items"]}
    assert kinds == {later: "link_expired", soon: "abandoned", declined: "abandoned"}
    # Most urgent first: the link to re-issue before the visit comes before the abandoned payments.
    assert report["items"][0]["consultation_id"] == later
    assert all(row(cid).state == "expired" for cid in (later, soon, declined))


def test_a_link_closed_on_purpose_is_canceled_not_a_link_to_send_again(run, clocks, cli_env):
    """Closed from the practitioner's dashboard (the API's expire, with Stripe-Account) before its time:
    « Annulé », decided from its expiry event, read once (one events list), never reported as run out."""
    import stripe

    sandbox = cli_env
    doc = link(sandbox, 1)
    closed = plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)
    still_open = plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)
    client = stripe.StripeClient(TEST_KEY, base_addresses={"api": sandbox.url}, http_client=stripe.UrllibClient())
    client.v1.checkout.sessions.expire(row(closed).checkout_session_id, options={"stripe_account": doc["account"]})

    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert (code, report["items"]) == (0, [])
    assert report["changes"] == [{"consultation_id": closed, "rpps": doc["rpps"], "from": "incomplete", "to": "canceled"}]
    assert (row(closed).state, row(closed).closed_on_purpose) == ("canceled", True)
    assert sorted((r["path"], r["account"]) for r in api_requests(sandbox, seq)) == [
        ("/v1/checkout/sessions", doc["account"]), ("/v1/events", doc["account"])]

    clocks.advance(DAY + HOUR)  # past both links' 24 h: only the one left open ran out
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 8
    assert [(i["kind"], i["consultation_id"]) for i in report["items"]] == [("link_expired", still_open)]
    assert row(closed).state == "canceled"
    # The canceled consultation is final: not read again; the events list is for the link that just ran out.
    assert sorted(r["path"] for r in api_requests(sandbox, seq)) == ["/v1/checkout/sessions", "/v1/events"]


def test_sorted_by_urgency_holds_first_by_deadline(run, clocks, cli_env):
    sandbox = cli_env
    a, b = link(sandbox, 1, "Dre A"), link(sandbox, 2, "Dr B")
    first = plan(run, clocks, b["rpps"], in_seconds=HOUR)
    pay(sandbox, first)
    clocks.advance(HOUR)
    second = plan(run, clocks, a["rpps"], in_seconds=HOUR)
    pay(sandbox, second)
    declined = plan(run, clocks, a["rpps"], in_seconds=DAY)
    pay(sandbox, declined, DECLINED_CARD)
    clocks.advance(HOLD - 30 * HOUR)
    code, report = reconcile_json(run)
    assert code == 8
    assert [(i["kind"], i["consultation_id"]) for i in report["items"]] == [
        ("hold_expiring", first), ("hold_expiring", second), ("abandoned", declined),
    ]


# --------------------------------------------------------------------------- safe to re-run


def test_second_run_in_a_row_writes_nothing(run, clocks, cli_env):
    sandbox = cli_env
    a, b = link(sandbox, 1), link(sandbox, 2)
    held = plan(run, clocks, a["rpps"], in_seconds=HOUR)
    pay(sandbox, held)
    declined = plan(run, clocks, a["rpps"], in_seconds=DAY)
    pay(sandbox, declined, DECLINED_CARD)
    plan(run, clocks, b["rpps"], in_seconds=DAY)  # open link, nobody paid yet
    clocks.advance(HOLD - DAY)
    first = reconcile(run)
    assert first.exit_code == 8
    before = snapshot()
    clocks.advance(60)
    second = reconcile(run)
    # The hold still needs a person: reported again. The links that ran out were reported once, by the first run.
    assert [line.split(" · ")[0] for line in first.stdout.splitlines()] == ["Empreinte à capturer"] + ["Paiement abandonné"] * 2
    assert second.exit_code == 8 and second.stdout == first.stdout.splitlines(keepends=True)[0]
    after = snapshot()
    assert after == before  # same rows (updated_at included), same history lengths, no audit line


def test_json_document_keys_cents_and_utc_times(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1, "Dre Martin")
    cid = plan(run, clocks, doc["rpps"], in_seconds=HOUR, extra=("--max", "20"))
    pay(sandbox, cid)
    clocks.advance(HOLD - DAY)
    result = run("--lang", "en", "reconcile", "--json")
    assert result.exit_code == 8
    report = json.loads(result.stdout)
    assert list(report) == ["now", "since", "warn_within_seconds", "practitioner", "accounts", "checked", "retrieves",
                            "complete", "needs_action", "items", "changes", "unavailable"]
    assert report["warn_within_seconds"] == 48 * HOUR and report["needs_action"] is True and report["complete"] is True
    # "now" is Stripe's time (the sandbox's Date header), 1 s resolution, in UTC.
    assert abs(timefmt_seconds(report["now"]) - sandbox.now()) <= 2 and report["now"].endswith("Z")
    (item,) = report["items"]
    assert list(item) == list(service.ITEM_FIELDS)
    assert item == {
        "kind": "hold_expiring", "consultation_id": cid, "rpps": doc["rpps"], "practitioner": "Dre Martin",
        "account_id": doc["account"], "state": "uncaptured", "amount_cents": 2000, "currency": "eur",
        "deadline": timefmt.iso_utc(row(cid).capture_before), "scheduled_at": row(cid).scheduled_at, "detail": None,
        "dispute_id": None,
    }
    assert result.stderr == ""  # --json: nothing but the document (no summary, no progress)


def test_practitioner_filter_reads_only_that_account(run, clocks, cli_env):
    sandbox = cli_env
    a, b = link(sandbox, 1), link(sandbox, 2)
    plan(run, clocks, a["rpps"])
    plan(run, clocks, b["rpps"])
    seq = last_seq(sandbox)
    code, report = reconcile_json(run, "--practitioner", b["rpps"])
    assert code == 0 and report["practitioner"] == b["rpps"] and report["accounts"] == 1 and report["checked"] == 1
    assert {r["account"] for r in api_requests(sandbox, seq)} == {b["account"]}


def test_bad_window_is_bad_input(run, clocks):
    result = reconcile(run, "--warn-within", "deux jours")
    assert result.exit_code == 2 and "Durée" in result.stderr


# --------------------------------------------------------------------------- what it costs on Stripe


def test_one_list_per_account_with_open_items_never_a_retrieve(run, clocks, cli_env):
    sandbox = cli_env
    a, b, idle = link(sandbox, 1), link(sandbox, 2), link(sandbox, 3)
    for doc in (a, a, a, b, b):
        cid = plan(run, clocks, doc["rpps"], in_seconds=DAY)
    pay(sandbox, cid)
    done = plan(run, clocks, idle["rpps"], in_seconds=DAY)
    pay(sandbox, done)
    assert run("capture", done, "--yes").exit_code == 0  # final: only its disputes are left to watch
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 0 and report["accounts"] == 3 and report["checked"] == 5 and report["retrieves"] == 0
    requests = api_requests(sandbox, seq)
    assert sorted((r["method"], r["path"], r["account"]) for r in requests) == sorted(
        [("GET", "/v1/checkout/sessions", a["account"]), ("GET", "/v1/checkout/sessions", b["account"]),
         ("GET", "/v1/disputes", idle["account"])]  # the account with a capture: its disputes, one list
    )
    for r in requests:
        assert int(r["params"]["limit"]) == 100 and int(r["params"]["created"]["gte"]) > 0
    assert row(cid).state == "uncaptured" and row(cid).capture_before


def test_created_filter_starts_at_the_oldest_open_items_link(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    old = plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)
    clocks.advance(2 * HOUR)
    plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)
    seq = last_seq(sandbox)
    reconcile_json(run)
    (request,) = api_requests(sandbox, seq)
    expected = row(old).link_expires_at - service.LINK_LIFETIME_MAX - service.WINDOW_MARGIN
    assert int(request["params"]["created"]["gte"]) == expected


def test_pages_of_a_hundred(run, clocks, cli_env):
    """101 open consultations on one account: two pages, still no retrieve."""
    from sarapay.ids import idempotency_key, new_consultation_id
    from sarapay.stripe_gateway import Gateway

    sandbox = cli_env
    doc = link(sandbox, 1)
    gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
    with ledger() as book:  # what plan leaves, minus 101 CLI runs
        for _ in range(101):
            cid = new_consultation_id()
            created = gateway.create_checkout_session(
                doc["account"], amount_cents=2500, consultation_id=cid, rpps=doc["rpps"], expires_at=None,
                success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/ko",
                idempotency_key=idempotency_key("checkout", cid, "first"),
            )
            book.insert_consultation(
                cid, rpps=doc["rpps"], scheduled_at=datetime.now(timezone.utc) + timedelta(days=1), state="incomplete",
                paid_online=True, max_cents=2500, account_id=doc["account"], checkout_session_id=created["id"],
                link_expires_at=created["expires_at"],
            )
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 0 and report["checked"] == 101 and report["retrieves"] == 0
    requests = api_requests(sandbox, seq)
    assert [r["path"] for r in requests] == ["/v1/checkout/sessions"] * 2
    assert "starting_after" in requests[1]["params"]


def test_a_session_outside_the_listed_window_is_read_on_its_own_and_counted(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=DAY)
    pay(sandbox, cid)
    with ledger() as book:  # a ledger whose link time is wrong: the list window starts after the session
        book.update_consultation(cid, link_expires_at=row(cid).link_expires_at + 10 * DAY)
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 0 and report["retrieves"] == 1 and row(cid).state == "uncaptured"
    paths = [r["path"] for r in api_requests(sandbox, seq)]
    assert paths[0] == "/v1/checkout/sessions" and paths[1].startswith("/v1/checkout/sessions/cs_")


def test_a_link_issued_by_another_machine_is_followed(run, clocks, cli_env):
    """Another support machine re-issued the link (pay-link there): Stripe has a newer session for the
    consultation; reconcile follows it instead of reporting the old one as run out."""
    from sarapay.ids import idempotency_key
    from sarapay.stripe_gateway import Gateway

    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=3 * DAY)
    old = row(cid).checkout_session_id
    clocks.advance(DAY + HOUR)
    newer = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url).create_checkout_session(
        doc["account"], amount_cents=2500, consultation_id=cid, rpps=doc["rpps"], expires_at=None,
        success_url="https://portal.example.org/ok", cancel_url="https://portal.example.org/ko",
        idempotency_key=idempotency_key("checkout", cid, old),
    )
    sandbox.pay(newer["id"])
    code, report = reconcile_json(run)
    assert code == 0 and report["items"] == []
    assert (row(cid).checkout_session_id, row(cid).state) == (newer["id"], "uncaptured")


def test_rate_limited_list_backs_off_and_goes_on(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=DAY)
    pay(sandbox, cid)
    sandbox.fault("429", 1, path="/v1/checkout/sessions")
    seq = last_seq(sandbox)
    code, report = reconcile_json(run)
    assert code == 0 and row(cid).state == "uncaptured"
    assert [r["status"] for r in api_requests(sandbox, seq)] == [429, 200]


def test_unreachable_account_exits_6_and_keeps_the_last_run(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    cid = plan(run, clocks, doc["rpps"], in_seconds=DAY)
    pay(sandbox, cid)
    sandbox.fault("500", 3, path="/v1/checkout/sessions")  # the first try and the SDK's two retries
    result = run("reconcile")
    assert result.exit_code == 6
    assert doc["account"] in result.stderr and "prochain passage" in result.stderr
    with ledger() as book:
        assert book.get_meta(service.META_LAST_RUN) is None  # what ran out meanwhile is reported next time
    assert row(cid).state == "incomplete"
    code, report = reconcile_json(run)
    assert code == 0 and row(cid).state == "uncaptured"


def test_revoked_account_needs_a_person_and_the_others_are_read(run, clocks, cli_env):
    from sarapay.stripe_gateway import Gateway

    sandbox = cli_env
    gone, kept = link(sandbox, 1, "Dr Parti"), link(sandbox, 2)
    plan(run, clocks, gone["rpps"], in_seconds=DAY)
    cid = plan(run, clocks, kept["rpps"], in_seconds=DAY)
    pay(sandbox, cid)
    Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url).oauth_deauthorize(gone["account"])
    code, report = reconcile_json(run)
    assert code == 8 and report["complete"] is True
    (item,) = report["items"]
    assert (item["kind"], item["rpps"], item["account_id"], item["detail"]) == (
        "account_refused", gone["rpps"], gone["account"], "account_invalid")
    assert row(cid).state == "uncaptured"


# --------------------------------------------------------------------------- the lock


def test_second_run_while_one_is_going_exits_at_once(run, clocks, cli_env):
    sandbox = cli_env
    doc = link(sandbox, 1)
    plan(run, clocks, doc["rpps"])
    path = settings.data_dir() / service.LOCK_FILE_NAME
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.write(fd, b"4242 2026-01-05T13:07:00Z\n")
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds it
        seq = last_seq(sandbox)
        result = reconcile(run)
        assert result.exit_code == 1
        assert "déjà en cours (processus 4242 depuis 2026-01-05T13:07:00Z)" in result.stderr
        assert "code 1" in result.stderr and str(path) in result.stderr
        assert api_requests(sandbox, seq) == []
        proc = subprocess.run([sys.executable, "-m", "sarapay", "reconcile", "--json"], capture_output=True, text=True,
                              env=os.environ.copy(), timeout=60)  # what cron runs: another process
        assert (proc.returncode, proc.stdout) == (1, "")
        assert json.loads(proc.stderr)["error"]["code"] == "reconcile.busy"
    finally:
        os.close(fd)
    assert reconcile(run).exit_code == 0  # released: the next run goes through
    assert oct(path.stat().st_mode & 0o777) == "0o600"
