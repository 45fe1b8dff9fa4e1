"""`sarapay cancel` and `sarapay refund` against the sandbox over HTTP."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from sarapay.sandbox_control import SandboxControlError
from sarapay.timefmt import PARIS
from tests.cli.payments_helpers import (
    DAY,
    GOOD_CARD,
    TEST_KEY,
    audit,
    authorised,
    consultation,
    half_up_fee,
    last_seq,
    link_practitioner,
    plan_paid,
    posts,
    session_id_of,
    snapshot,
)

AT = (datetime.now(PARIS) + timedelta(days=1)).strftime("%d/%m/%Y") + " 10:30"
NBSP_EUR = "\u00a0€"


@pytest.fixture
def doctor(sandbox, run):
    return link_practitioner(sandbox, 31)


@pytest.fixture
def held(run, sandbox, doctor):
    return authorised(run, sandbox, doctor["rpps"])


@pytest.fixture
def captured(run, sandbox, held):
    """A consultation captured for 20 € out of a 25 € hold."""
    assert run("capture", held, "20", "--yes").exit_code == 0
    return held


def refunds(sandbox, since=None):
    return [r for r in posts(sandbox, since) if r["path"] == "/v1/refunds"]


def stripe_pi(sandbox, doctor, pi_id):
    import stripe

    client = stripe.StripeClient(TEST_KEY, base_addresses={"api": sandbox.url}, http_client=stripe.UrllibClient())
    return client.v1.payment_intents.retrieve(pi_id, options={"stripe_account": doctor["account"]})


# --- cancel -------------------------------------------------------------------------------------------------


def test_cancel_releases_the_hold(run, sandbox, doctor, held):
    before = last_seq(sandbox)
    result = run("cancel", held, "--yes")
    assert result.exit_code == 0, result.stderr
    row = consultation(held)
    pi = row.payment_intent_id
    [cancel] = posts(sandbox, before)
    assert cancel["path"] == f"/v1/payment_intents/{pi}/cancel" and cancel["account"] == doctor["account"]
    assert cancel["idempotency_key"] == f"sarapay:cancel:{held}:{pi}"
    assert cancel["params"] == {
        "cancellation_reason": "requested_by_customer", "expand": ["latest_charge.balance_transaction"],
    }
    assert row.authorised_cents == 2500  # the released hold, read from the expanded charge
    assert row.state == "canceled" and row.captured_cents == 0
    assert stripe_pi(sandbox, doctor, pi).status == "canceled"
    assert "Annulé" in result.stdout and "Libération de l'empreinte de 25,00" in result.stderr
    [entry] = audit("cancel")
    assert entry.outcome == "ok"


def test_cancel_closes_an_open_link_as_cancelled_not_expired(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    session = session_id_of(cid)
    before = last_seq(sandbox)
    result = run("cancel", cid, "--yes")
    assert result.exit_code == 0, result.stderr
    [expire] = posts(sandbox, before)
    assert expire["path"] == f"/v1/checkout/sessions/{session}/expire"
    assert expire["idempotency_key"] == f"sarapay:expire:{cid}:{session}"
    row = consultation(cid)
    assert row.state == "canceled" and row.closed_on_purpose is True
    assert "Annulé" in result.stdout
    with pytest.raises(SandboxControlError):
        sandbox.pay(session, GOOD_CARD)  # the patient can no longer pay


def test_a_link_that_ran_out_is_expired_not_cancelled(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    sandbox.advance(DAY + 60)
    before = last_seq(sandbox)
    result = run("cancel", cid, "--yes")
    assert result.exit_code == 2 and "déjà expiré" in result.stderr
    assert posts(sandbox, before) == []
    assert consultation(cid).state == "expired"


def test_cancel_refused_once_captured(run, sandbox, captured):
    before, book = last_seq(sandbox), snapshot()
    result = run("cancel", captured, "--yes")
    assert result.exit_code == 2 and "sarapay refund" in result.stderr
    assert posts(sandbox, before) == [] and snapshot() == book


def test_cancel_twice(run, sandbox, held):
    assert run("cancel", held, "--yes").exit_code == 0
    before = last_seq(sandbox)
    result = run("cancel", held, "--yes")
    assert result.exit_code == 2 and "déjà annulée" in result.stderr
    assert posts(sandbox, before) == []


def test_cancel_dry_run_and_no_terminal(run, sandbox, held):
    before = last_seq(sandbox)
    dry = run("cancel", held, "--dry-run")
    assert dry.exit_code == 0 and "/cancel" in dry.stdout and "cancellation_reason=requested_by_customer" in dry.stdout
    no_tty = run("cancel", held)
    assert no_tty.exit_code == 3
    assert posts(sandbox, before) == []
    assert [e.outcome for e in audit("cancel")] == ["cancelled", "dry_run"]
    assert consultation(held).state == "uncaptured"


# --- refund -------------------------------------------------------------------------------------------------


def test_full_refund(run, sandbox, doctor, captured):
    before = last_seq(sandbox)
    result = run("refund", captured, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    row = consultation(captured)
    [refund] = refunds(sandbox, before)
    assert refund["account"] == doctor["account"]
    assert refund["params"]["payment_intent"] == row.payment_intent_id and int(refund["params"]["amount"]) == 2000
    assert refund["idempotency_key"] == f"sarapay:refund:{captured}:{row.payment_intent_id}:0:2000"
    out = json.loads(result.stdout)
    fee = half_up_fee(2000)
    # Stripe keeps its fee on a refund: the practitioner is out of the fee.
    assert (out["state"], out["refunded_cents"], out["fee_cents"], out["net_cents"]) == ("refunded", 2000, fee, -fee)
    assert row.state == "refunded" and row.refunded_cents == 2000
    # The refund is followed by reads (its new state); the answer and the audit row name the refund's own request.
    assert sandbox.requests(refund["seq"])  # reads came after it
    assert out["request_id"] == refund["request_id"] and out["replayed"] is False
    assert audit("refund")[0].stripe_request_id == refund["request_id"]


def test_two_identical_partial_refunds_are_two_refunds(run, sandbox, captured):
    first = run("refund", captured, "5", "--yes")
    assert first.exit_code == 0, first.stderr
    assert consultation(captured).state == "partially_refunded"
    second = run("refund", captured, "5", "--yes", "--again")  # a second refund is said to be meant
    assert second.exit_code == 0, second.stderr
    pi = consultation(captured).payment_intent_id
    keys = [r["idempotency_key"] for r in refunds(sandbox)]
    assert keys == [f"sarapay:refund:{captured}:{pi}:0:500", f"sarapay:refund:{captured}:{pi}:500:500"]
    row = consultation(captured)
    assert row.state == "partially_refunded" and row.refunded_cents == 1000
    assert row.net_cents == 2000 - half_up_fee(2000) - 1000
    assert f"10,00{NBSP_EUR}" in second.stdout  # refunded so far


def test_refund_more_than_captured_is_refused(run, sandbox, captured):
    run("refund", captured, "--dry-run")  # the ledger has seen the capture
    before, book = last_seq(sandbox), snapshot()
    result = run("refund", captured, "25", "--yes")
    assert result.exit_code == 2
    assert f"20,00{NBSP_EUR}" in result.stderr and "remboursable" in result.stderr
    assert posts(sandbox, before) == [] and snapshot() == book


def test_refund_more_than_what_remains_is_refused(run, sandbox, captured):
    assert run("refund", captured, "15", "--yes").exit_code == 0
    before = last_seq(sandbox)
    result = run("refund", captured, "5,01", "--yes")
    assert result.exit_code == 2 and f"5,00{NBSP_EUR}" in result.stderr
    assert posts(sandbox, before) == []
    assert run("refund", captured, "5", "--yes", "--again").exit_code == 0
    assert consultation(captured).state == "refunded"
    again = run("refund", captured, "--yes")
    assert again.exit_code == 2 and "déjà entièrement remboursée" in again.stderr


@pytest.mark.parametrize("amount, needle", [("0", "ne fait rien"), ("-5", "négatif"), ("cinq", "cinq")])
def test_bad_refund_amounts(run, sandbox, captured, amount, needle):
    before, book = last_seq(sandbox), snapshot()
    result = run("refund", captured, "--yes", "--", amount)
    assert result.exit_code == 2 and needle in result.stderr
    assert posts(sandbox, before) == [] and snapshot() == book


def test_refund_refused_on_an_uncaptured_hold(run, sandbox, held):
    before = last_seq(sandbox)
    result = run("refund", held, "--yes")
    assert result.exit_code == 2 and "sarapay cancel" in result.stderr
    assert posts(sandbox, before) == []


def test_refund_without_a_terminal_sends_nothing(run, sandbox, captured):
    before = last_seq(sandbox)
    result = run("refund", captured, "5")
    assert result.exit_code == 3
    assert posts(sandbox, before) == []
    assert consultation(captured).refunded_cents == 0


def test_refund_confirmation_refused(run, sandbox, captured, monkeypatch):
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    before = last_seq(sandbox)
    result = run("refund", captured, "5", input="n\n")
    assert result.exit_code == 3
    assert posts(sandbox, before) == []


def _as_sent(params: dict) -> dict:
    """The dry run's form fields as the sandbox logs a real request's (nested, values as strings)."""
    nested: dict = {}
    for name, value in params.items():
        parts = name.replace("]", "").split("[")
        target = nested
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = str(value)
    return nested


def _dry_run_then_sent(run, sandbox, cid: str, command: str, args: list[str]) -> tuple[dict, dict]:
    dry = json.loads(run(command, cid, *args, "--dry-run", "--json").stdout)["request"]
    before = last_seq(sandbox)
    assert run(command, cid, *args, "--yes").exit_code == 0
    [sent] = posts(sandbox, before)
    return dry, sent


@pytest.mark.parametrize("command, args", [("refund", ["7"]), ("capture", ["12,50"]), ("cancel", [])])
def test_dry_run_shows_exactly_the_request_then_sent(run, sandbox, held, command, args):
    if command == "refund":
        assert run("capture", held, "20", "--yes").exit_code == 0
    dry, sent = _dry_run_then_sent(run, sandbox, held, command, args)
    assert (sent["method"], sent["path"], sent["account"], sent["idempotency_key"]) == (
        dry["method"], dry["path"], dry["account"], dry["idempotency_key"],
    )
    expected = _as_sent(dry["params"])
    if "expand" in expected:  # lists are logged as lists
        expected["expand"] = list(expected["expand"].values())
    assert sent["params"] == expected


def test_closing_a_link_sends_exactly_the_request_its_dry_run_shows(run, sandbox, doctor):
    """`cancel` of a consultation whose patient has not paid yet closes its link: the dry run shows the very
    request then sent (stripe_gateway.expire_checkout_request), which has no form fields."""
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    dry, sent = _dry_run_then_sent(run, sandbox, cid, "cancel", [])
    assert dry["path"] == f"/v1/checkout/sessions/{session_id_of(cid)}/expire"
    assert (sent["method"], sent["path"], sent["account"], sent["idempotency_key"]) == (
        dry["method"], dry["path"], dry["account"], dry["idempotency_key"],
    )
    assert sent["params"] == dry["params"] == {}


def test_refund_with_a_lost_answer_says_to_check_before_rerunning(run, sandbox, captured):
    sandbox.fault("drop", count=3, method="POST", path="/v1/refunds")
    result = run("refund", captured, "5", "--yes")
    assert result.exit_code == 6
    assert f"sarapay status {captured} --refresh" in result.stderr and "deux fois" in result.stderr
    assert len({r["idempotency_key"] for r in refunds(sandbox)}) == 1  # the retries reused one key
    from sarapay.services.context import Context
    from sarapay.services.refresh import refresh_consultation

    with Context() as ctx:
        row = refresh_consultation(ctx, ctx.ledger.get_consultation(captured))
    assert row.refunded_cents == 500  # applied once, despite the lost answers


def test_cancel_of_a_consultation_without_online_payment_cancels_it_locally_and_sends_nothing(run, sandbox):
    """Nothing of it is on Stripe: the ledger marks it « Annulé » (history, audit), after the same banner and
    confirmation as the other cancels; a second cancel says it is already cancelled."""
    rpps = link_practitioner(sandbox)["rpps"]
    planned = run("plan", rpps, "--at", AT, "--json")
    assert planned.exit_code == 0, planned.stderr
    cid = json.loads(planned.stdout)["id"]
    seq = last_seq(sandbox)

    refused = run("cancel", cid, input="n\n")  # no TTY and no --yes: nothing changes
    assert refused.exit_code == 3
    assert consultation(cid).state == "no_online_payment"

    dry = run("cancel", cid, "--dry-run")
    assert dry.exit_code == 0 and "aucune requête à Stripe" in dry.stderr
    assert consultation(cid).state == "no_online_payment"

    done = run("cancel", cid, "--yes")
    assert done.exit_code == 0, done.stderr
    assert "sans paiement en ligne" in done.stderr and "rien n'a été envoyé à Stripe" in done.stderr
    assert consultation(cid).state == "canceled"
    assert posts(sandbox, seq) == []
    assert [row.outcome for row in audit("cancel")][:2] == ["ok", "dry_run"]

    again = run("cancel", cid, "--yes")
    assert again.exit_code == 2 and "déjà annulée" in again.stderr
