"""What a capture costs in Stripe requests on the happy path, read from the sandbox's request log.

Setting: the patient paid, `status --refresh` brought the ledger up to date, then `capture ID --yes`.
Today the capture makes three requests: prepare_capture refreshes the consultation (GET the Checkout
Session, GET the PaymentIntent) so the banner and the amount check use the hold as Stripe has it now, then
one POST capture whose expand[] returns the charge and its balance transaction, so nothing is read after.

Issue 6 asks for one request. Possible: POST capture straight from the ledger (Stripe itself refuses a
hold that expired or an amount above amount_capturable, and the refusal path already refreshes and
explains), or at least skip the session read once the PaymentIntent is known (2 requests). Both are a
design change of services/payments.py (the fresh read before a human confirms is deliberate), left to
that module's owner: the strict xfail below flips when it is done.
"""

from __future__ import annotations

import pytest

from tests.cli.payments_helpers import authorised, last_seq, link_practitioner


@pytest.fixture
def captured_log(run, sandbox):
    doctor = link_practitioner(sandbox, 41)
    cid = authorised(run, sandbox, doctor["rpps"])
    assert run("status", "--refresh").exit_code == 0
    before = last_seq(sandbox)
    result = run("capture", cid, "--yes")
    assert result.exit_code == 0, result.stderr
    return [(r["method"], r["path"].rsplit("/", 1)[-1] if r["path"].endswith("/capture") else r["path"].split("/")[2])
            for r in sandbox.requests(before)]


def test_capture_sends_one_post_and_reads_nothing_after_it(captured_log):
    posts = [i for i, (method, _) in enumerate(captured_log) if method != "GET"]
    assert len(posts) == 1 and captured_log[posts[0]] == ("POST", "capture")
    assert posts[0] == len(captured_log) - 1  # the capture's answer (expanded) is the last word


def test_capture_reads_before_it_are_the_refresh(captured_log):
    assert captured_log == [("GET", "checkout"), ("GET", "payment_intents"), ("POST", "capture")]


@pytest.mark.xfail(strict=True, reason="prepare_capture refreshes session and PaymentIntent first: 3 requests, see module docstring")
def test_capture_costs_one_request(captured_log):
    assert len(captured_log) == 1
