"""`sarapay plan` and `sarapay pay-link` against the sandbox over HTTP.

What Stripe received is read from the sandbox's request log; the ledger is read with the Ledger API.
Expected values (keys, amounts, the idempotency-key recipe) are written out here, not copied from output.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from sarapay.rpps import make_test_rpps
from sarapay.sandbox_control import SandboxControlError
from sarapay.timefmt import PARIS
from tests.cli.payments_helpers import (
    DAY,
    DECLINED_CARD,
    GOOD_CARD,
    TEST_KEY,
    audit,
    consultation,
    last_seq,
    ledger,
    link_practitioner,
    plan_paid,
    posts,
    session_id_of,
    snapshot,
)

ID = re.compile(r"TC-[2-9A-HJKMNP-Z]{6}")
TOMORROW = (datetime.now(PARIS) + timedelta(days=1)).strftime("%d/%m/%Y")
AT = f"{TOMORROW} 10:30"


@pytest.fixture
def doctor(sandbox, run):
    return link_practitioner(sandbox, 11)


def checkout_creates(sandbox, since=None):
    return [r for r in posts(sandbox, since) if r["path"] == "/v1/checkout/sessions"]


# --- without online payment ------------------------------------------------------------------------------


def test_plan_without_payment_calls_no_stripe(run, sandbox, doctor):
    before = last_seq(sandbox)
    result = run("plan", doctor["rpps"], "--at", AT, "--patient-ref", "P-0004")
    assert result.exit_code == 0, result.stderr
    cid = result.stdout.strip()
    assert ID.fullmatch(cid)
    assert sandbox.requests(before) == []  # not even a read
    row = consultation(cid)
    assert row.state == "no_online_payment" and row.paid_online is False
    assert row.patient_ref == "P-0004" and row.checkout_session_id is None
    # 10:30 in Paris, written as UTC
    expected = datetime.strptime(AT, "%d/%m/%Y %H:%M").replace(tzinfo=PARIS)
    assert datetime.fromisoformat(row.scheduled_at.replace("Z", "+00:00")) == expected
    assert "Sans paiement en ligne" in result.stderr or "sans paiement en ligne" in result.stderr
    [entry] = audit("plan")
    assert entry.outcome == "ok" and entry.detail == cid


# --- with online payment ---------------------------------------------------------------------------------


def test_plan_paid_creates_a_checkout_with_only_opaque_ids(run, sandbox, doctor):
    email = "jeanne.patiente@example.fr"
    result = run("plan", doctor["rpps"], "--at", AT, "--paid", "--patient-ref", "DOSSIER-77", "--email", email, "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    cid = out["id"]
    assert ID.fullmatch(cid) and out["state"] == "incomplete" and out["max_cents"] == 2500

    [create] = checkout_creates(sandbox)
    assert create["account"] == doctor["account"]  # direct charge on the practitioner's account
    assert create["idempotency_key"] == f"sarapay:checkout:{cid}:first"
    params = create["params"]
    # Opaque ids, a source marker and the planned time (for sync --rebuild): nothing about the patient or the act.
    planned_utc = datetime.strptime(AT, "%d/%m/%Y %H:%M").replace(tzinfo=PARIS).astimezone(timezone.utc)
    ids_only = {
        "consultation_id": cid, "rpps": doctor["rpps"], "sarapay": "1",
        "scheduled_at": planned_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert params["metadata"] == ids_only
    assert params["payment_intent_data"]["metadata"] == ids_only
    assert params["payment_intent_data"]["capture_method"] == "manual"
    assert params["mode"] == "payment"
    assert int(params["line_items"][0]["price_data"]["unit_amount"]) == 2500
    assert params["customer_email"] == email
    wire = json.dumps(params, ensure_ascii=False)
    assert "DOSSIER-77" not in wire  # the patient reference never leaves the ledger
    assert "description" not in params["payment_intent_data"]

    session = sandbox_session(sandbox, doctor, create)
    assert out["url"] == session["url"] and session["status"] == "open"
    expires = datetime.fromisoformat(out["expires_at"].replace("Z", "+00:00")).timestamp()
    assert expires == session["expires_at"] <= session["created"] + DAY

    row = consultation(cid)
    assert row.checkout_session_id == session["id"] and row.account_id == doctor["account"]
    assert row.patient_email == email and row.patient_ref == "DOSSIER-77"


def sandbox_session(sandbox, doctor, create):
    import stripe

    client = stripe.StripeClient(
        TEST_KEY, base_addresses={"api": sandbox.url, "connect": sandbox.url}, http_client=stripe.UrllibClient()
    )
    listed = client.v1.checkout.sessions.list(options={"stripe_account": doctor["account"]}).data
    assert len(listed) == 1
    return listed[0].to_dict(recursive=True)


def test_plan_paid_human_output_masks_the_email(run, sandbox, doctor):
    result = run("plan", doctor["rpps"], "--at", AT, "--paid", "--email", "jeanne.patiente@example.fr")
    assert result.exit_code == 0, result.stderr
    cid, url = result.stdout.splitlines()
    assert ID.fullmatch(cid) and url.startswith(sandbox.url)
    assert "j***@example.fr" in result.stderr
    assert "jeanne.patiente" not in result.stdout + result.stderr
    assert "25,00\u00a0€" in result.stderr


def test_plan_max_lowers_the_hold(run, sandbox, doctor):
    out = plan_paid(run, doctor["rpps"], "--max", "19,90", at=AT)
    [create] = checkout_creates(sandbox)
    assert int(create["params"]["line_items"][0]["price_data"]["unit_amount"]) == 1990
    assert consultation(out["id"]).max_cents == 1990


def test_plan_uses_the_practitioners_own_maximum(run, sandbox):
    doctor = link_practitioner(sandbox, 12, default_max=3000)
    out = plan_paid(run, doctor["rpps"], at=AT)
    assert out["max_cents"] == 3000


def test_plan_accepts_the_12_digit_idnps_form(run, sandbox, doctor):
    out = plan_paid(run, "8" + doctor["rpps"], at=AT)
    assert out["rpps"] == doctor["rpps"]


# --- bad input: one sentence, exit 2, nothing written, nothing sent -----------------------------------------


def assert_refused(result, sandbox, before_seq, before_ledger, *needles):
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert posts(sandbox, before_seq) == []
    assert snapshot() == before_ledger


def test_max_above_the_practitioners_maximum_is_refused(run, sandbox):
    doctor = link_practitioner(sandbox, 13, default_max=2000)
    before, book = last_seq(sandbox), snapshot()
    result = run("plan", doctor["rpps"], "--at", AT, "--paid", "--max", "25")
    assert_refused(result, sandbox, before, book, "20,00\u00a0€", "25,00\u00a0€", "maximum")


@pytest.mark.parametrize(
    "args, needle",
    [
        (["--max", "20"], "--paid"),  # --max without --paid
        (["--email", "a@example.fr"], "--paid"),  # --email without --paid
        (["--paid", "--max", "0,40"], "0,50"),  # below Stripe's minimum
        (["--paid", "--max", "vingt"], "vingt"),
        (["--paid", "--max", "20,505"], "20,505"),
        (["--paid", "--email", "pas-un-email"], "pas-un-email"),
        (["--paid", "--patient-ref", "douleur thoracique"], "motif médical"),
        (["--paid", "--patient-ref", "4242 4242 4242 4242"], "carte"),
        (["--paid", "--patient-ref", "185057800608436"], "sécurité sociale"),  # a NIR-shaped number
    ],
)
def test_bad_options_are_refused(run, sandbox, doctor, args, needle):
    before, book = last_seq(sandbox), snapshot()
    result = run("plan", doctor["rpps"], "--at", AT, *args)
    assert_refused(result, sandbox, before, book, needle)


@pytest.mark.parametrize(
    "at, needle",
    [
        ("2026-13-01 10:30", "n'existe pas"),
        ("31/02/2027 10:30", "n'existe pas"),
        ("demain 10h", "non reconnues"),
        ("01/12/2027", "pas d'heure"),
        ("01/01/2020 10:00", "passée"),
        ("2027-03-28 02:30", "heure d'été"),  # skipped by the spring change in Paris
    ],
)
def test_bad_dates_are_refused(run, sandbox, doctor, at, needle):
    before, book = last_seq(sandbox), snapshot()
    result = run("plan", doctor["rpps"], "--at", at, "--paid")
    assert_refused(result, sandbox, before, book, needle)


def test_unlinked_practitioner_is_refused(run, sandbox):
    rpps = make_test_rpps(14)
    with ledger() as book:
        book.upsert_practitioner(rpps)  # known, but no Stripe account
    before, book_before = last_seq(sandbox), snapshot()
    result = run("plan", rpps, "--at", AT, "--paid")
    assert_refused(result, sandbox, before, book_before, rpps, "sarapay link")


def test_unknown_practitioner_is_refused(run, sandbox, doctor):
    rpps = make_test_rpps(15)
    before, book = last_seq(sandbox), snapshot()
    result = run("plan", rpps, "--at", AT)
    assert_refused(result, sandbox, before, book, rpps)


def test_bad_rpps_is_refused(run, sandbox, doctor):
    before, book = last_seq(sandbox), snapshot()
    wrong_key = doctor["rpps"][:-1] + str((int(doctor["rpps"][-1]) + 1) % 10)
    result = run("plan", wrong_key, "--at", AT, "--paid")
    assert_refused(result, sandbox, before, book, "clé")


def test_json_error_is_one_object_on_stderr(run, sandbox, doctor):
    # The real program (argv as a shell or cron gives it), environment pointed at the sandbox.
    proc = subprocess.run(
        [sys.executable, "-m", "sarapay", "plan", doctor["rpps"], "--at", "01/01/2020 10:00", "--json"],
        capture_output=True, text=True, env=os.environ.copy(), timeout=60,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    error = json.loads(proc.stderr)["error"]
    assert error["exit_code"] == 2 and error["code"] == "plan.in_past"


def test_english_message(run, sandbox):
    doctor = link_practitioner(sandbox, 16, default_max=2000)
    result = run("--lang", "en", "plan", doctor["rpps"], "--at", AT, "--paid", "--max", "21")
    assert result.exit_code == 2
    assert "above the maximum" in result.stderr and "€20.00" in result.stderr


# --- pay-link ----------------------------------------------------------------------------------------------


def test_pay_link_after_the_link_expired(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    first = session_id_of(cid)
    sandbox.advance(DAY + 60)  # Stripe closes the 24 h link
    before = last_seq(sandbox)
    result = run("pay-link", cid, "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    second = session_id_of(cid)
    assert second != first and out["url"].endswith(second) and out["state"] == "incomplete"
    [create] = checkout_creates(sandbox, before)
    assert create["idempotency_key"] == f"sarapay:checkout:{cid}:{first}"
    assert not [r for r in posts(sandbox, before) if r["path"].endswith("/expire")]  # nothing left to close
    # the new link works
    assert sandbox.pay(second, GOOD_CARD)["outcome"] == "authorized"


def test_pay_link_closes_the_open_link_first(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    first = session_id_of(cid)
    before = last_seq(sandbox)
    result = run("pay-link", cid)
    assert result.exit_code == 0, result.stderr
    second = session_id_of(cid)
    assert result.stdout.strip().endswith(second)
    expire, create = posts(sandbox, before)
    assert expire["path"] == f"/v1/checkout/sessions/{first}/expire" and expire["account"] == doctor["account"]
    assert create["path"] == "/v1/checkout/sessions"
    with pytest.raises(SandboxControlError):
        sandbox.pay(first, GOOD_CARD)  # only one link can be paid
    assert consultation(cid).state == "incomplete"


def test_pay_link_after_a_declined_card(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    assert sandbox.pay(session_id_of(cid), DECLINED_CARD)["outcome"] == "declined"
    result = run("pay-link", cid)
    assert result.exit_code == 0, result.stderr
    assert sandbox.pay(session_id_of(cid), GOOD_CARD)["outcome"] == "authorized"


def test_pay_link_heals_a_plan_whose_answer_was_lost(run, sandbox, doctor):
    # Stripe creates the session but every answer is lost: plan stops with exit 6, the row has no session.
    sandbox.fault("drop", count=3, method="POST", path="/v1/checkout/sessions")
    result = run("plan", doctor["rpps"], "--at", AT, "--paid")
    assert result.exit_code == 6
    [row] = snapshot()["consultations"].values()
    cid = row.id
    assert row.checkout_session_id is None and "pay-link" in result.stderr and cid in result.stderr

    result = run("pay-link", cid)
    assert result.exit_code == 0, result.stderr
    creates = checkout_creates(sandbox)
    assert {r["idempotency_key"] for r in creates} == {f"sarapay:checkout:{cid}:first"}
    assert creates[-1]["replayed"]  # Stripe's first session, not a second one
    created = sandbox_session(sandbox, doctor, creates[0])
    assert session_id_of(cid) == created["id"] and result.stdout.strip() == created["url"]


def test_pay_link_refused_without_online_payment(run, sandbox, doctor):
    cid = run("plan", doctor["rpps"], "--at", AT).stdout.strip()
    before, book = last_seq(sandbox), snapshot()
    result = run("pay-link", cid)
    assert_refused(result, sandbox, before, book, "sans paiement en ligne")


def test_pay_link_refused_once_authorised(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    sandbox.pay(session_id_of(cid), GOOD_CARD)
    run("capture", cid, "--dry-run")  # refreshes the ledger: the hold is seen
    before, book = last_seq(sandbox), snapshot()
    result = run("pay-link", cid)
    assert_refused(result, sandbox, before, book, "empreinte", "sarapay capture")


def test_pay_link_refused_once_captured(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    sandbox.pay(session_id_of(cid), GOOD_CARD)
    assert run("capture", cid, "--yes").exit_code == 0
    before, book = last_seq(sandbox), snapshot()
    result = run("pay-link", cid)
    assert_refused(result, sandbox, before, book, "Réussi")


def test_pay_link_unknown_consultation(run, sandbox, doctor):
    before, book = last_seq(sandbox), snapshot()
    result = run("pay-link", "TC-2222XY")
    assert_refused(result, sandbox, before, book, "TC-2222XY")
    result = run("pay-link", "TC-0OIL11")
    assert_refused(result, sandbox, before, book, "TC-0OIL11")


def test_help_is_french_with_an_example(run):
    for command in ("plan", "pay-link"):
        result = run(command, "--help")
        assert result.exit_code == 0
        assert "Exemple" in result.stdout
    assert "téléconsultation" in run("plan", "--help").stdout


def test_a_checkout_stripe_refuses_leaves_no_consultation_behind(run, sandbox):
    """The practitioner revoked the platform's access: Stripe refuses the Checkout Session (403), and the
    plan leaves nothing in the ledger, so running it again once relinked creates one consultation."""
    from sarapay.stripe_gateway import Gateway
    from tests.cli.payments_helpers import TEST_CLIENT_ID, TEST_KEY, link_practitioner, snapshot

    doctor = link_practitioner(sandbox, 71)
    Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url).oauth_deauthorize(doctor["account"])
    before = snapshot()
    result = run("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid")
    assert result.exit_code == 5, result.stderr
    assert snapshot() == before


# --- an account that cannot take card payments yet ----------------------------------------------------------


def new_account(run, n: int) -> tuple[str, str]:
    """A practitioner linked with `link --new`: an account the platform created, onboarding not done."""
    rpps = make_test_rpps(n)
    assert run("link", rpps, "--new", "--email", f"dr.{n}@example.org").exit_code == 0
    with ledger() as book:
        return rpps, book.get_practitioner(rpps).account_id


def test_plan_paid_while_onboarding_is_unfinished_says_what_is_missing_and_writes_nothing(run, sandbox):
    rpps, account = new_account(run, 73)
    before, book = last_seq(sandbox), snapshot()
    result = run("plan", rpps, "--at", AT, "--paid")
    assert (result.exit_code, result.stdout) == (5, "")
    message = " ".join(result.stderr.split())
    assert len(result.stderr.strip().splitlines()) == 1
    assert f"Le compte Stripe {account} du praticien {rpps} ne peut pas encore accepter de paiement par carte" in message
    assert "inscription Stripe inachevée" in message
    assert re.search(r"inachevée : (1 information encore demandée|\d+ informations encore demandées)", message)
    assert f"sarapay link {rpps} --check" in message
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    # One account read, then nothing: no Checkout Session, no consultation (the refused command is audited).
    assert [(r["method"], r["path"]) for r in sandbox.requests(before)] == [("GET", f"/v1/accounts/{account}")]
    assert snapshot() == book
    assert [(e.outcome, e.target) for e in audit("plan")] == [("refused", rpps)]

    as_json = run("plan", rpps, "--at", AT, "--paid", "--json")
    error = json.loads(as_json.stderr)["error"]
    assert (as_json.exit_code, error["code"], error["exit_code"]) == (5, "practitioner.cannot_take_cards", 5)
    english = run("--lang", "en", "plan", rpps, "--at", AT, "--paid")
    assert english.exit_code == 5 and "cannot take card payments yet" in english.stderr

    # What the message points to: link --check re-issues the onboarding link; once done, plan works.
    check = run("link", rpps, "--check")
    assert check.stdout.splitlines()[-1].startswith(f"{sandbox.url}/setup/{account}/")
    sandbox.complete_onboarding(account)
    assert plan_paid(run, rpps, at=AT)["state"] == "incomplete"


def test_plan_without_payment_needs_no_onboarding(run, sandbox):
    rpps, _ = new_account(run, 74)
    before = last_seq(sandbox)
    assert run("plan", rpps, "--at", AT).exit_code == 0
    assert sandbox.requests(before) == []


def test_pay_link_for_an_account_stripe_restricted_keeps_the_open_link(run, sandbox):
    rpps, account = new_account(run, 75)
    sandbox.complete_onboarding(account)
    cid = plan_paid(run, rpps, at=AT)["id"]
    sandbox.complete_onboarding(account, "restricted")  # Stripe asks for a document again: charges stop
    before, book = last_seq(sandbox), snapshot()
    result = run("pay-link", cid)
    assert (result.exit_code, result.stdout) == (5, "")
    assert "ne peut pas encore accepter de paiement par carte" in result.stderr
    assert "Stripe redemande 1 information" in result.stderr and f"sarapay link {rpps} --check" in result.stderr
    assert posts(sandbox, before) == []  # the patient's open link is not closed, no new one
    assert snapshot() == book


def test_an_account_restricted_between_the_check_and_the_checkout_is_explained(run, sandbox):
    """The last guard: the account check passed, then Stripe restricted the account before the Checkout
    Session request was served; Stripe's refusal (English, no code) comes out as the same French sentence."""
    import time

    rpps, account = new_account(run, 76)
    sandbox.complete_onboarding(account)
    before, book = last_seq(sandbox), snapshot()
    sandbox.fault("latency", 1, latency_ms=1500, method="POST", path="/v1/checkout/sessions")
    proc = subprocess.Popen(
        [sys.executable, "-m", "sarapay", "plan", rpps, "--at", AT, "--paid"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(),
    )
    try:
        deadline = time.monotonic() + 60
        while not any(r["path"] == f"/v1/accounts/{account}" for r in sandbox.requests(before)):
            assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
            time.sleep(0.02)
        sandbox.complete_onboarding(account, "restricted")  # while the Checkout request is held
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        sandbox.clear_faults()
    assert (proc.returncode, out) == (5, ""), err
    assert f"Le compte Stripe {account} du praticien {rpps} ne peut pas encore accepter de paiement par carte" in " ".join(err.split())
    assert "card_payments" not in err  # Stripe's English text stays out of the message
    [create] = checkout_creates(sandbox, before)
    assert create["status"] == 400
    assert snapshot() == book  # the row written before the request is gone, with its history
    [entry] = audit("plan")
    assert entry.outcome == "refused" and entry.stripe_request_id


def test_a_second_consultation_at_the_same_minute_is_planned_with_a_warning(run, sandbox):
    doctor = link_practitioner(sandbox, 77)
    first = run("plan", doctor["rpps"], "--at", "01/12/2099 10:30")
    assert first.exit_code == 0 and "déjà une consultation" not in first.stderr
    second = run("plan", doctor["rpps"], "--at", "01/12/2099 10:30", "--paid")
    assert second.exit_code == 0, second.stderr
    message = " ".join(second.stderr.split())
    assert "déjà une consultation le 01/12/2099 10:30" in message and first.stdout.strip() in message
    other_minute = run("plan", doctor["rpps"], "--at", "01/12/2099 10:31")
    assert other_minute.exit_code == 0 and "déjà une consultation" not in other_minute.stderr
