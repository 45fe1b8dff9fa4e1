"""What a capture costs in Stripe requests on the happy path, read from the sandbox's request log.

Setting: the patient paid, `status --refresh` brought the ledger up to date, then `capture ID --yes`.
The capture is one POST whose expand[] returns the charge and its balance transaction, so nothing is read
after it. Before it, prepare_capture used to refresh the consultation (GET the Checkout Session, GET the
PaymentIntent: 3 requests in all); services/payments.py is moving to capturing straight from the ledger
when it knows the hold (`_known_hold`: 1 request; Stripe itself refuses a hold that moved, and the refusal
path refreshes and explains). Both shapes are accepted here until that lands; then keep only ONE_REQUEST.
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


ONE_REQUEST = [("POST", "capture")]
WITH_REFRESH = [("GET", "checkout"), ("GET", "payment_intents"), ("POST", "capture")]


def test_capture_costs_one_request_or_the_refresh_and_one(captured_log):
    assert captured_log in (ONE_REQUEST, WITH_REFRESH), captured_log
