"""`status --limit 0` and `log -n N` beyond one chunk are streamed (render/stream.py): into a pipe they list
exactly the rows and the order of the usual table, with fixed columns, then the totals. The chunk is made
small here so that a few rows exercise the streamed path; memory is measured in benchmarks/ledger_backends.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from sarapay import settings
from sarapay.render import stream as render_stream
from sarapay.ledger import open_ledger
from sarapay.rpps import make_test_rpps

A = make_test_rpps(201)
B = make_test_rpps(202)
NOW = datetime(2026, 12, 2, 11, tzinfo=timezone.utc)
STATES = ("succeeded", "uncaptured", "incomplete", "canceled", "no_online_payment", "partially_refunded")


@pytest.fixture(params=["sqlite", "postgresql"])
def many(request, run, monkeypatch):
    if request.param == "postgresql":
        monkeypatch.setenv(settings.ENV_DATABASE_URL, request.getfixturevalue("pg_url"))
    rows = []
    for i in range(37):
        at = NOW + timedelta(hours=11 * i - 300)
        state = STATES[i % len(STATES)]
        rows.append({
            "id": f"TC-{i:06d}".translate(str.maketrans("0123456789", "ABCDEFGHJK")), "rpps": (A, B)[i % 2],
            "scheduled_at": at, "state": state, "max_cents": 2500,
            "captured_cents": 2000 if state in ("succeeded", "partially_refunded") else 0,
            "capture_before": int((at + timedelta(days=7)).timestamp()) if state == "uncaptured" else None,
        })
    with open_ledger(settings.ledger_location()) as book:
        book.upsert_practitioner(A)
        book.upsert_practitioner(B)
        book.insert_consultations_many(rows)
        for i in range(23):
            book.append_audit("capture", outcome="ok", target=rows[i]["id"], detail=f"capture {2000 + i}")
    return rows


def _ids(text: str) -> list[str]:
    return [word for line in text.splitlines() for word in line.split()[:1] if word.startswith("TC-")]


def test_status_limit_0_streamed_lists_what_the_table_lists(run, many, monkeypatch):
    from freezegun import freeze_time

    with freeze_time(NOW, tick=True):
        whole = run("status", "--limit", "0")  # one chunk (500 rows): the usual table
        monkeypatch.setattr(render_stream, "CHUNK", 5)
        streamed = run("status", "--limit", "0")
        page = run("status", "--limit", "12")  # a page larger than the chunk: streamed too, then the notice
    assert whole.exit_code == streamed.exit_code == page.exit_code == 0, streamed.stderr
    assert "┃" in whole.stdout.splitlines()[0]  # the rich table
    header, rule, *lines = streamed.stdout.splitlines()
    assert header.split()[:2] == ["Consultation", "Date"] and set(rule) <= {"─", " "}
    listed = _ids(streamed.stdout)
    assert listed == _ids(whole.stdout) and sorted(listed) == sorted(row["id"] for row in many)
    # Fixed columns: the date starts at the same place on every line of the table.
    start = header.index("Date")
    assert all(line[start:start + 2].isdigit() for line in lines[: len(listed)])
    assert "Total" in streamed.stdout and " 37 " in next(l for l in streamed.stdout.splitlines() if l.startswith("Total"))
    assert _ids(page.stdout) == listed[:12]
    assert "12 consultations affichées sur 37" in page.stderr


def test_log_beyond_a_chunk_is_streamed_newest_first_with_every_entry(run, many, monkeypatch):
    monkeypatch.setattr(render_stream, "CHUNK", 4)
    result = run("log", "-n", "20")
    machine = run("log", "-n", "20", "--json")
    assert result.exit_code == machine.exit_code == 0, result.stderr
    targets = [entry["target"] for entry in json.loads(machine.stdout)]
    assert len(targets) == 20 and targets[0] == many[22]["id"]
    assert [line.split()[4] for line in result.stdout.splitlines()[2:]] == targets  # date, time, who, command, target
    assert result.stdout.splitlines()[2].endswith("Capture de 20,22\u00a0€")  # the detail in words, last


def test_a_disconnected_practitioner_is_named_even_when_listed_after_the_first_chunk(run, many, monkeypatch):
    """The warning comes before the rows; when they are streamed, the ledger says whether the practitioner is
    in the listing (here only with the oldest consultation, far beyond the first chunk)."""
    from freezegun import freeze_time

    gone = make_test_rpps(203)
    with open_ledger(settings.ledger_location()) as book:
        book.upsert_practitioner(gone, disconnected_at="2026-11-30T08:00:00Z")
        book.insert_consultations_many([{
            "id": "TC-ZZZZZZ", "rpps": gone, "scheduled_at": NOW - timedelta(days=400), "state": "succeeded",
            "max_cents": 2500, "captured_cents": 2500,
        }])
    monkeypatch.setattr(render_stream, "CHUNK", 5)
    with freeze_time(NOW, tick=True):
        streamed = run("status", "--limit", "0")
        other = run("status", "--limit", "0", "--practitioner", A)
    assert streamed.exit_code == 0 and "TC-ZZZZZZ" in streamed.stdout
    assert f"Le praticien {gone} a déconnecté la plateforme" in " ".join(streamed.stderr.split())
    assert other.exit_code == 0 and gone not in other.stderr  # not in that listing: not named
