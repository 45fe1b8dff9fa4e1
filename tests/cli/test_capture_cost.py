"""What a capture costs in Stripe requests on the happy path, read from the sandbox's request log.

Setting: the patient paid, `status --refresh` brought the ledger up to date, then `capture ID --yes`.
The ledger knows the hold (amount, PaymentIntent, deadline), so nothing is read first: one POST capture,
whose expand[] returns the charge and its balance transaction, so nothing is read after either. When the
ledger does not know the hold (the patient paid since the last refresh), the capture reads first.
"""

from __future__ import annotations

from tests.cli.payments_helpers import GOOD_CARD, last_seq, link_practitioner, plan_paid, session_id_of


def _requests_of_capture(run, sandbox, cid: str) -> list[tuple[str, str]]:
    before = last_seq(sandbox)
    result = run("capture", cid, "--yes")
    assert result.exit_code == 0, result.stderr
    return [(r["method"], r["path"]) for r in sandbox.requests(before)]


def test_capture_of_a_hold_the_ledger_knows_costs_one_request(run, sandbox):
    doctor = link_practitioner(sandbox, 41)
    cid = plan_paid(run, doctor["rpps"])["id"]
    sandbox.pay(session_id_of(cid), GOOD_CARD)
    assert run("status", "--refresh").exit_code == 0
    requests = _requests_of_capture(run, sandbox, cid)
    assert len(requests) == 1
    method, path = requests[0]
    assert method == "POST" and path.startswith("/v1/payment_intents/") and path.endswith("/capture")


def test_capture_reads_first_when_the_ledger_has_not_seen_the_hold(run, sandbox):
    doctor = link_practitioner(sandbox, 42)
    cid = plan_paid(run, doctor["rpps"])["id"]
    sandbox.pay(session_id_of(cid), GOOD_CARD)  # the ledger still says « Incomplet »
    requests = _requests_of_capture(run, sandbox, cid)
    assert [m for m, _ in requests[:-1]] == ["GET"] * (len(requests) - 1) and len(requests) >= 2
    assert requests[-1][0] == "POST" and requests[-1][1].endswith("/capture")
