"""Stripe's deadlines are read against Stripe's time, as Stripe's answers give it (their `Date` header), not
against the machine's clock: the sandbox clock moved forward (`sarapay sandbox advance`, a training, the
demo), or a machine clock that is off, must not hide a hold about to expire nor expire one Stripe still holds.
The machine's clock serves only when nothing was asked of Stripe.

No freezegun in the first test: the machine's clock is the real one, days behind the advanced sandbox.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from freezegun import freeze_time

from sarapay import timefmt
from tests.cli.payments_helpers import authorised, consultation, link_practitioner

HOUR, DAY = 3600, 86400


def seconds(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp())


def detail(run, cid: str) -> dict:
    result = run("status", cid, "--refresh", "--json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_sandbox_moved_to_10h_before_the_deadline_reconcile_and_status_say_so(run, sandbox):
    doctor = link_practitioner(sandbox, 31, name="Dre Martin")
    cid = authorised(run, sandbox, doctor["rpps"])
    deadline = seconds(detail(run, cid)["capture_before"])
    assert deadline - sandbox.now() > 6 * DAY  # a fresh hold: a week to capture it

    sandbox.advance(deadline - sandbox.now() - 10 * HOUR)  # Stripe's clock only: ours stays days behind

    result = run("reconcile", "--warn-within", "48h")
    assert result.exit_code == 8, result.stdout + result.stderr
    (line,) = result.stdout.splitlines()
    assert line.startswith("Empreinte à capturer · " + cid)
    assert timefmt.format_when(deadline, "fr") in line
    code_json = run("reconcile", "--warn-within", "48h", "--json")
    report = json.loads(code_json.stdout)
    assert code_json.exit_code == 8 and [(i["kind"], i["consultation_id"]) for i in report["items"]] == [("hold_expiring", cid)]
    assert abs(seconds(report["now"]) - sandbox.now()) <= 2  # the report's "now" is Stripe's
    assert 10 * HOUR - 5 <= deadline - seconds(report["now"]) <= 10 * HOUR

    # status --refresh asks Stripe: still « Non capturé », 10 h left by Stripe's clock.
    document = detail(run, cid)
    assert document["state"] == "uncaptured" and seconds(document["capture_before"]) == deadline
    assert 10 * HOUR - 5 <= deadline - sandbox.now() <= 10 * HOUR
    shown = run("status", cid, "--refresh")
    assert shown.exit_code == 0, shown.stderr
    assert "Non capturé" in shown.stdout and timefmt.format_when(deadline, "fr") in shown.stdout

    # Once Stripe's deadline is past, the same command reports it lost.
    sandbox.advance(11 * HOUR)
    report = json.loads(run("reconcile", "--json").stdout)
    assert [(i["kind"], i["consultation_id"]) for i in report["items"]] == [("hold_expired", cid)]

    # Nothing open: Stripe is not asked, the machine's clock (days behind) does not move the last run back...
    quiet = json.loads(run("reconcile", "--json").stdout)
    assert quiet["items"] == [] and quiet["accounts"] == 0
    # ...so a later run that asks Stripe again does not report the lost hold a second time.
    authorised(run, sandbox, doctor["rpps"])
    report = json.loads(run("reconcile", "--json").stdout)
    assert report["items"] == [] and report["accounts"] == 1


def test_client_clock_days_ahead_status_and_capture_follow_stripe(run, sandbox):
    """Our clock past the hold's deadline, Stripe's a week before it: Stripe decides, the capture goes through."""
    doctor = link_practitioner(sandbox, 32)
    cid = authorised(run, sandbox, doctor["rpps"])
    with freeze_time(datetime.now(timezone.utc) + timedelta(days=8)):
        assert detail(run, cid)["state"] == "uncaptured"
        result = run("capture", cid, "20", "--yes")
        assert result.exit_code == 0, result.stderr
    row = consultation(cid)
    assert (row.state, row.captured_cents) == ("succeeded", 2000)


def test_nothing_asked_of_stripe_uses_the_machine_clock(run, sandbox):
    sandbox.advance(3 * DAY)
    moment = datetime(2031, 3, 4, 5, 6, 7, tzinfo=timezone.utc)
    with freeze_time(moment):
        result = run("reconcile", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["now"] == "2031-03-04T05:06:07Z"
    assert sandbox.requests() == []  # no open payment: Stripe was not asked
