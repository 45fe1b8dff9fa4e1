"""What Stripe sees: only opaque ids. The whole story runs (link, plan paid with --patient-ref and --email,
pay, capture, refund, cancel, pay-link, payouts, sync, unlink...), then EVERY request the sandbox received
is inspected, field by field:

- metadata keys ⊆ {consultation_id, rpps, sarapay, scheduled_at}, each value shaped like an id or an ISO time;
- description, statement descriptors and product names hold only neutral words and ids;
- the patient reference never leaves the ledger; the patient's email goes only to Checkout's customer_email;
- the practitioner's display name never leaves the ledger; their email only prefills their own account.
"""

from __future__ import annotations

import re

from tests.reliability.story import PATIENT_EMAIL, PATIENT_REF, PRACTITIONER_EMAIL, run_story

METADATA_VALUES = {
    "consultation_id": re.compile(r"TC-[2-9A-HJKMNP-Z]{6}"),
    "rpps": re.compile(r"\d{11}"),
    "sarapay": re.compile(r"1"),
    "scheduled_at": re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"),
    # A refund's idempotency key: opaque ids and amounts in cents only.
    "sarapay_move": re.compile(r"sarapay:refund:TC-[2-9A-HJKMNP-Z]{6}:pi_[A-Za-z0-9]+:\d+:\d+"),
}
NEUTRAL_TEXT = re.compile(r"(Téléconsultation|TC[ -][A-Z0-9 .-]*|[A-Z0-9 .-]*TC-[A-Z0-9]{6})")
TEXT_FIELDS = ("description", "statement_descriptor", "statement_descriptor_suffix", "name")


def leaves(value, path=()):
    """(path, value) for every leaf of a decoded form (nested dicts and lists)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, str(index)))
    else:
        yield path, value


def test_stripe_receives_only_opaque_ids(sandbox, cli_env):
    run_story(sandbox, {})
    requests = sandbox.requests()
    sent = [r for r in requests if r["method"] == "POST"]
    assert len(sent) >= 10
    paths = {r["path"] for r in sent}
    assert "/v1/checkout/sessions" in paths and "/v1/refunds" in paths and "/v1/accounts" in paths

    customer_emails, seen = 0, {"metadata": 0, "text": 0}
    for request in requests:  # GETs too: a query string is as visible as a form
        for path, value in leaves(request["params"] or {}):
            text = str(value)
            where = f"{request['method']} {request['path']} {'.'.join(path)}"
            assert PATIENT_REF not in text, where
            assert "Martin" not in text, where  # the practitioner's display name stays local
            if PATIENT_EMAIL in text:
                assert path == ("customer_email",) and request["path"] == "/v1/checkout/sessions", where
                customer_emails += 1
            if PRACTITIONER_EMAIL in text:
                assert path == ("email",) and request["path"] == "/v1/accounts", where
            if "metadata" in path:
                key = path[path.index("metadata") + 1]
                assert key in METADATA_VALUES, where
                assert METADATA_VALUES[key].fullmatch(text), (where, text)
                seen["metadata"] += 1
            if path and path[-1] in TEXT_FIELDS:
                assert NEUTRAL_TEXT.fullmatch(text), (where, text)
                seen["text"] += 1
    assert seen["metadata"] >= 20 and seen["text"] >= 4, seen  # the check looked at something
    assert customer_emails >= 2  # the email was given twice (plan --email): it went where it should, only
