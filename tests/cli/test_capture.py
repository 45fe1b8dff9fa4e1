"""`sarapay capture` against the sandbox over HTTP: partial and full captures, fees, refusals by state and
amount, release with 0, confirmation, dry run, lost answers and two terminals at once.

Fees are computed here independently (1,5 % + 0,25 €, half up, in integers); what Stripe received is
read from the sandbox's request log.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from sarapay.timefmt import PARIS
from tests.cli.payments_helpers import (
    DAY,
    DECLINED_CARD,
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
    return link_practitioner(sandbox, 21)


@pytest.fixture
def held(run, sandbox, doctor):
    """A consultation whose patient left a 25 € hold."""
    return authorised(run, sandbox, doctor["rpps"])


def captures(sandbox, since=None):
    return [r for r in posts(sandbox, since) if r["path"].endswith("/capture")]


def test_fee_helper_matches_the_documented_examples():
    assert half_up_fee(2500) == 63  # 37,5 cents rounded up + 25 (docs/sandbox.md)
    assert half_up_fee(2000) == 55


def test_refresh_sees_the_hold(run, sandbox, doctor, held):
    from sarapay.services.context import Context
    from sarapay.services.refresh import refresh_consultation

    with Context() as ctx:
        row = refresh_consultation(ctx, ctx.ledger.get_consultation(held))
        again = refresh_consultation(ctx, row)
    assert row.state == "uncaptured" and row.authorised_cents == 2500 and row.captured_cents == 0
    assert row.payment_intent_id.startswith("pi_")
    assert 0 < row.capture_before - sandbox.now() <= 7 * DAY
    assert again == row  # idempotent: nothing changed, nothing written


def test_partial_capture_shows_fee_and_net(run, sandbox, doctor, held):
    before = last_seq(sandbox)
    result = run("capture", held, "20", "--yes")
    assert result.exit_code == 0, result.stderr
    fee = half_up_fee(2000)
    assert fee == 55
    row = consultation(held)
    assert (row.state, row.captured_cents, row.fee_cents, row.net_cents) == ("succeeded", 2000, fee, 2000 - fee)
    assert row.authorised_cents == 2500  # the hold as it was; the rest was released by Stripe
    [capture] = captures(sandbox, before)
    assert capture["account"] == doctor["account"]
    assert int(capture["params"]["amount_to_capture"]) == 2000
    assert capture["idempotency_key"] == f"sarapay:capture:{held}:{row.payment_intent_id}:2000"
    assert "Réussi" in result.stdout
    assert f"20,00{NBSP_EUR}" in result.stdout and f"0,55{NBSP_EUR}" in result.stdout and f"19,45{NBSP_EUR}" in result.stdout
    # The banner said what would happen, on stderr
    for text in ("Capture de 20,00", "25,00", doctor["account"], "Dre Martin", "TEST"):
        assert text in result.stderr
    [entry] = audit("capture")
    assert entry.outcome == "ok" and entry.target == held and entry.stripe_request_id.startswith("req_")


def test_full_capture_by_default_in_json(run, sandbox, held):
    result = run("capture", held, "--yes", "--json")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    fee = half_up_fee(2500)
    assert out["state"] == "succeeded" and out["captured_cents"] == 2500
    assert (out["fee_cents"], out["net_cents"]) == (fee, 2500 - fee) == (63, 2437)
    assert out["currency"] == "eur" and out["replayed"] is False
    [capture] = captures(sandbox)
    assert int(capture["params"]["amount_to_capture"]) == 2500


def test_second_capture_is_refused_without_a_request(run, sandbox, held):
    assert run("capture", held, "20", "--yes").exit_code == 0
    before, book = last_seq(sandbox), snapshot()
    result = run("capture", held, "5", "--yes")
    assert result.exit_code == 2
    assert "déjà capturée" in result.stderr and "20,00" in result.stderr and "refund" in result.stderr
    assert captures(sandbox, before) == [] and posts(sandbox, before) == []
    assert snapshot() == book


def test_capture_above_the_hold_is_refused(run, sandbox, held):
    run("capture", held, "--dry-run")  # the ledger has seen the hold
    before, book = last_seq(sandbox), snapshot()
    result = run("capture", held, "25,01", "--yes")
    assert result.exit_code == 2
    assert f"au-dessus de l'empreinte de 25,00{NBSP_EUR}" in result.stderr
    assert posts(sandbox, before) == []
    assert snapshot() == book


@pytest.mark.parametrize(
    "amount, needle",
    [("0,49", "0,50"), ("vingt", "vingt"), ("12,345", "12,345"), ("1.234,50", "1.234,50")],
)
def test_bad_amounts_are_refused_before_stripe(run, sandbox, held, amount, needle):
    before, book = last_seq(sandbox), snapshot()
    result = run("capture", held, amount, "--yes")
    assert result.exit_code == 2 and needle in result.stderr
    assert sandbox.requests(before) == []  # not even a read
    assert snapshot() == book


@pytest.mark.parametrize("cid, needle", [("TC-2222XY", "TC-2222XY"), ("TC-00000", "TC-00000")])
def test_unknown_or_malformed_consultation(run, sandbox, doctor, cid, needle):
    before, book = last_seq(sandbox), snapshot()
    result = run("capture", cid, "--yes")
    assert result.exit_code == 2 and needle in result.stderr
    assert posts(sandbox, before) == [] and snapshot() == book


def test_capture_zero_releases_the_whole_hold(run, sandbox, held, doctor):
    before = last_seq(sandbox)
    result = run("capture", held, "0", "--yes")
    assert result.exit_code == 0, result.stderr
    [cancel] = posts(sandbox, before)
    pi = consultation(held).payment_intent_id
    assert cancel["path"] == f"/v1/payment_intents/{pi}/cancel"
    assert cancel["params"]["cancellation_reason"] == "requested_by_customer"
    assert cancel["idempotency_key"] == f"sarapay:cancel:{held}:{pi}"  # the same operation as `cancel`
    row = consultation(held)
    assert row.state == "canceled" and row.captured_cents == 0 and row.fee_cents is None
    assert "Annulé" in result.stdout


def test_capture_refused_while_incomplete(run, sandbox, doctor):
    cid = plan_paid(run, doctor["rpps"], at=AT)["id"]
    sandbox.pay(session_id_of(cid), DECLINED_CARD)
    before = last_seq(sandbox)
    result = run("capture", cid, "--yes")
    assert result.exit_code == 2 and "pas encore laissé d'empreinte" in result.stderr
    assert posts(sandbox, before) == []
    assert consultation(cid).state == "incomplete"  # a declined card keeps it incomplete


def test_capture_refused_without_online_payment(run, sandbox, doctor):
    cid = run("plan", doctor["rpps"], "--at", AT).stdout.strip()
    before = last_seq(sandbox)
    result = run("capture", cid, "--yes")
    assert result.exit_code == 2 and "sans paiement en ligne" in result.stderr
    assert sandbox.requests(before) == []


def test_expired_hold_cannot_be_captured(run, sandbox, held):
    sandbox.advance(8 * DAY)
    before = last_seq(sandbox)
    result = run("capture", held, "--yes")
    assert result.exit_code == 2
    assert "expiré" in result.stderr and "pay-link" in result.stderr
    assert captures(sandbox, before) == [] and posts(sandbox, before) == []
    assert consultation(held).state == "expired"


# --- confirmation and dry run --------------------------------------------------------------------------------


def test_dry_run_sends_nothing_and_is_audited(run, sandbox, held):
    before = last_seq(sandbox)
    result = run("capture", held, "20", "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert posts(sandbox, before) == []
    pi = consultation(held).payment_intent_id
    assert f"POST /v1/payment_intents/{pi}/capture" in result.stdout
    assert f"Idempotency-Key: sarapay:capture:{held}:{pi}:2000" in result.stdout
    assert "amount_to_capture=2000" in result.stdout
    assert "sk_test_" not in result.stdout + result.stderr
    assert consultation(held).state == "uncaptured"
    [entry] = audit("capture")
    assert entry.outcome == "dry_run"


def test_dry_run_json(run, sandbox, held):
    result = run("capture", held, "--dry-run", "--json")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["dry_run"] is True and out["amount_cents"] == 2500
    assert out["request"]["params"]["amount_to_capture"] == 2500
    assert posts(sandbox) and not captures(sandbox)


def test_without_a_terminal_and_without_yes_nothing_moves(run, sandbox, held):
    before = last_seq(sandbox)
    result = run("capture", held, "20")
    assert result.exit_code == 3 and "--yes" in result.stderr
    assert posts(sandbox, before) == []
    assert [e.outcome for e in audit("capture")] == ["cancelled"]


def test_confirmation_refused_on_a_terminal(run, sandbox, held, monkeypatch):
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    before = last_seq(sandbox)
    result = run("capture", held, "20", input="n\n")
    assert result.exit_code == 3
    assert posts(sandbox, before) == []
    assert consultation(held).state == "uncaptured"


def test_confirmation_accepted_on_a_terminal(run, sandbox, held, monkeypatch):
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    result = run("capture", held, "20", input="o\n")
    assert result.exit_code == 0, result.stderr
    assert len(captures(sandbox)) == 1 and consultation(held).captured_cents == 2000


def test_english(run, sandbox, held):
    result = run("--lang", "en", "capture", held, "30", "--yes")
    assert result.exit_code == 2 and "above the hold of €25.00" in result.stderr


# --- lost answers, two terminals -------------------------------------------------------------------------------


def test_lost_answer_says_outcome_unknown_and_a_rerun_is_safe(run, sandbox, held):
    # Stripe applies the capture but every answer is lost (the SDK's retries included).
    sandbox.fault("drop", count=3, method="POST", path="/v1/payment_intents")
    result = run("capture", held, "20", "--yes")
    assert result.exit_code == 6
    assert "on ne sait pas" in result.stderr and f"sarapay status {held} --refresh" in result.stderr
    # Re-running: the ledger still shows the hold, so the capture is sent again with the same key and
    # Stripe replays its first answer: the ledger catches up, the user is told it was a replay.
    before = last_seq(sandbox)
    again = run("capture", held, "20", "--yes")
    assert again.exit_code == 0 and "rejoué" in again.stderr
    [resent] = posts(sandbox, before)
    assert resent["path"].endswith("/capture")
    keys = {r["idempotency_key"] for r in captures(sandbox)}
    assert len(keys) == 1  # every attempt carried the same key: Stripe captured once
    assert consultation(held).captured_cents == 2000


def test_two_terminals_capture_once(run, sandbox, held):
    """Both prepared (both saw the hold), then both confirmed: one capture, the other told why."""
    from sarapay.errors import BadInput, StripeRefused
    from sarapay.services import payments
    from sarapay.services.context import Context

    with Context() as first, Context() as second:
        plan_a = payments.prepare_capture(first, held, "20")
        plan_b = payments.prepare_capture(second, held, "15")
        payments.execute(first, plan_a)
        # Same ledger: the second terminal sees the capture before sending anything.
        with pytest.raises(BadInput) as refused:
            payments.execute(second, plan_b)
        assert "déjà capturée" in refused.value.message
        assert len(captures(sandbox)) == 1
        # Another machine (its ledger still says « Non capturé »): Stripe refuses, the refusal is explained.
        second.ledger.update_consultation(held, state="uncaptured")
        with pytest.raises(StripeRefused) as refused:
            payments.execute(second, plan_b)
        assert "déjà capturée" in refused.value.message and refused.value.exit_code == 5
    succeeded = [r for r in captures(sandbox) if r["status"] == 200]
    assert len(succeeded) == 1 and int(succeeded[0]["params"]["amount_to_capture"]) == 2000
    assert consultation(held).captured_cents == 2000 and consultation(held).state == "succeeded"


def test_same_capture_twice_at_once_is_replayed(run, sandbox, held):
    from sarapay.services import payments
    from sarapay.services.context import Context

    with Context() as first, Context() as second:
        plan_a = payments.prepare_capture(first, held, "20")
        plan_b = payments.prepare_capture(second, held, "20")
        payments.execute(first, plan_a)
        second.ledger.update_consultation(held, state="uncaptured")  # as if on another machine
        result = payments.execute(second, plan_b)
    assert result["replayed"] is True and result["consultation"].state == "succeeded"
    assert len({r["idempotency_key"] for r in captures(sandbox)}) == 1


def test_help_is_french_with_examples(run):
    for command in ("capture", "cancel", "refund"):
        result = run(command, "--help")
        assert result.exit_code == 0 and "Exemple" in result.stdout and "--dry-run" in result.stdout


def test_confirmation_at_end_of_input_moves_nothing(run, sandbox, held, monkeypatch):
    monkeypatch.setattr("sarapay.cli.confirm.is_interactive", lambda: True)
    before = last_seq(sandbox)
    result = run("capture", held, "20", input="")
    assert result.exit_code == 3, (result.exit_code, result.stderr)
    assert posts(sandbox, before) == []
