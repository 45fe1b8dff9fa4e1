"""Helpers for the plan / capture / cancel / refund tests: a practitioner linked over real OAuth on the
sandbox, a paid consultation, snapshots of the ledger and of the sandbox's mutating requests.

The practitioner is linked through the Gateway and the sandbox's consent page, then written with the
Ledger API: the tests of the money commands do not depend on the `link` command.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sarapay import settings
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

TEST_KEY = "sk_test_sarapayTests0000"
TEST_CLIENT_ID = "ca_sarapayTests0000"
GOOD_CARD = "4242424242424242"
DECLINED_CARD = "4000000000000002"
DAY = 86400


def ledger():
    return open_ledger(settings.ledger_location())


def link_practitioner(sandbox, n: int = 1, *, name: str | None = "Dre Martin", default_max: int | None = None) -> dict:
    """A practitioner whose Standard account is connected to the platform through OAuth on the sandbox."""
    from sarapay.stripe_gateway import Gateway

    gateway = Gateway(TEST_KEY, client_id=TEST_CLIENT_ID, api_base=sandbox.url)
    consent = sandbox.oauth_authorize(gateway.oauth_authorize_url(f"state-{n}"))
    account = gateway.oauth_token(consent["code"])["stripe_user_id"]
    rpps = make_test_rpps(n)
    with ledger() as book:
        book.upsert_practitioner(
            rpps, name=name, account_id=account, link_method="oauth", linked_at=datetime.now(timezone.utc),
            default_max_cents=default_max,
        )
    return {"rpps": rpps, "account": account}


def consultation(cid: str) -> dict | None:
    with ledger() as book:
        return book.get_consultation(cid)


def snapshot() -> dict:
    """Everything the money commands could change in the ledger, except the audit log."""
    with ledger() as book:
        rows = {row.id: row for row in book.list_consultations()}
        history = {cid: book.history(cid) for cid in rows}
    return {"consultations": rows, "history": history}


def audit(command: str | None = None) -> list[dict]:
    with ledger() as book:
        return book.list_audit(100, command=command)


def posts(sandbox, since: int | None = None) -> list[dict]:
    """The mutating requests the sandbox received (control endpoints are never logged)."""
    return [r for r in sandbox.requests(since) if r["method"] != "GET"]


def last_seq(sandbox) -> int:
    log = sandbox.requests()
    return log[-1]["seq"] if log else 0


def plan_paid(run, rpps: str, *extra: str, at: str = "01/12/2099 10:30") -> dict:
    result = run("plan", rpps, "--at", at, "--paid", *extra, "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def session_id_of(cid: str) -> str:
    row = consultation(cid)
    assert row is not None and row.checkout_session_id, row
    return row.checkout_session_id


def authorised(run, sandbox, rpps: str, *extra: str) -> str:
    """A consultation planned with --paid whose patient left a card hold; returns its id."""
    planned = plan_paid(run, rpps, *extra)
    paid = sandbox.pay(session_id_of(planned["id"]), GOOD_CARD)
    assert paid["outcome"] == "authorized", paid
    return planned["id"]


def half_up_fee(cents: int) -> int:
    """Stripe's standard EEA fee, 1,5 % + 0,25 €, the percentage rounded half up — in integers only."""
    return (cents * 15 + 500) // 1000 + 25
