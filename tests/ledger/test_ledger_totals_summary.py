"""Totals come from summary tables kept by triggers (schema step 0012): they must stay exact, whatever writes
the consultations (inserts, updates of state, amounts, practitioner or date, deletes, bulk inserts, a copy),
for every period, on both backends. Each case compares Ledger.totals with the same sums over the rows."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sarapay import statuses
from sarapay.ledger import open_ledger
from sarapay.records import Totals
from sarapay.rpps import make_test_rpps

PRACTITIONERS = [make_test_rpps(n) for n in (1, 2, 3)]
SUMS = ("authorised_cents", "captured_cents", "refunded_cents", "fee_cents", "net_cents")
START = datetime(2026, 10, 30, 20, tzinfo=timezone.utc)  # across a month's end and the autumn clock change


def _by_hand(rows, *, rpps=None, state=None, since=None, until=None):
    """Ledger.totals' answer, computed from the rows themselves."""
    low = None if since is None else since.strftime("%Y-%m-%dT%H:%M:%SZ")
    high = None if until is None else until.strftime("%Y-%m-%dT%H:%M:%SZ")
    kept = [
        r for r in rows
        if (rpps is None or r["rpps"] == rpps) and (state is None or r["state"] in state)
        and (low is None or r["scheduled_at"] >= low) and (high is None or r["scheduled_at"] < high)
    ]
    by_state = {}
    for r in kept:
        into = by_state.setdefault(r["state"], dict.fromkeys(("count", *SUMS), 0))
        into["count"] += 1
        for key in SUMS:
            into[key] += r[key] or 0
    for code, sums in by_state.items():
        if code in (statuses.EXPIRED, statuses.CANCELED):
            sums["authorised_cents"] = 0
    overall = {key: sum(s[key] for s in by_state.values()) for key in ("count", *SUMS)}
    parts = {code: Totals.of(sums["count"], sums) for code, sums in sorted(by_state.items())}
    return Totals.of(overall["count"], overall, parts)


def _random_row(rng, i):
    captured = rng.choice((0, 2000, 2500))
    return {
        "id": f"TC-{i:06d}".translate(str.maketrans("0123456789", "ABCDEFGHJK")),
        "rpps": rng.choice(PRACTITIONERS),
        "scheduled_at": (START + timedelta(minutes=rng.randrange(0, 4 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "state": rng.choice(statuses.CODES),
        "authorised_cents": rng.choice((0, 2500)),
        "captured_cents": captured,
        "refunded_cents": rng.choice((0, 0, 500)),
        "fee_cents": rng.choice((None, 55)),
        "net_cents": rng.choice((None, captured - 55)),
    }


def _check_every_period(ledger, rows, rng):
    moments = [START + timedelta(hours=h) for h in (0, 3, 4, 27, 28, 30, 52, 75, 99)]
    moments += [START + timedelta(minutes=rng.randrange(0, 4 * 24 * 60)) for _ in range(4)]
    for _ in range(25):
        since = rng.choice([None, *moments])
        until = rng.choice([None, *(m for m in moments if since is None or m > since)])
        rpps = rng.choice([None, *PRACTITIONERS])
        state = rng.choice([None, [statuses.SUCCEEDED], [statuses.EXPIRED, statuses.UNCAPTURED], []])
        filters = {"rpps": rpps, "state": state, "since": since, "until": until}
        assert ledger.totals(**filters) == _by_hand(rows, **filters), filters


def test_totals_stay_exact_through_every_kind_of_write(ledger):
    rng = random.Random(12)
    for rpps in PRACTITIONERS:
        ledger.upsert_practitioner(rpps)
    rows = [_random_row(rng, i) for i in range(120)]
    ledger.insert_consultations_many(rows[:100])
    for row in rows[100:]:
        ledger.insert_consultation(row["id"], **{k: v for k, v in row.items() if k != "id"})
    _check_every_period(ledger, rows, rng)

    for row in rng.sample(rows, 40):  # new state, amounts, date, practitioner: the buckets move
        change = {k: v for k, v in _random_row(rng, 0).items() if k not in ("id", "rpps") and rng.random() < 0.5}
        ledger.update_consultation(row["id"], **change)
        row.update(change)
    for row in rows[:6]:  # an UPDATE written by hand (the sqlite3 or psql shell) keeps them exact too
        row["rpps"] = PRACTITIONERS[(PRACTITIONERS.index(row["rpps"]) + 1) % len(PRACTITIONERS)]
        ledger._conn.execute("UPDATE consultations SET rpps = ? WHERE id = ?", (row["rpps"], row["id"]))
    ledger.update_consultation(rows[0]["id"], stripe_synced_at=START)  # a column the totals do not watch
    for row in rows[-5:]:
        assert ledger.discard_unsent_consultation(row["id"])
    rows = rows[:-5]
    _check_every_period(ledger, rows, rng)


def test_a_copy_rebuilds_the_summaries_in_the_target(ledger, tmp_path):
    rng = random.Random(3)
    for rpps in PRACTITIONERS:
        ledger.upsert_practitioner(rpps)
    rows = [_random_row(rng, i) for i in range(60)]
    ledger.insert_consultations_many(rows)
    with open_ledger(tmp_path / "copy.db") as target:
        ledger.copy_into(target)
        _check_every_period(target, rows, rng)
