"""timefmt.py: durations, Paris dates typed by people, and times shown to them."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from sarapay.errors import BadInput
from sarapay.timefmt import (
    PARIS,
    format_day,
    format_when,
    iso_utc,
    parse_day,
    parse_duration,
    parse_since,
    parse_until,
    parse_when,
)

UTC = timezone.utc


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("48h", 48 * 3600),
        ("2d", 2 * 86400),
        ("2j", 2 * 86400),
        ("30m", 1800),
        ("30min", 1800),
        ("1h30m", 5400),
        ("1h 30m", 5400),
        ("90s", 90),
        ("1d12h", 36 * 3600),
        ("1H30M", 5400),
        (" 48 h ", 48 * 3600),
        ("0s", 0),
        ("366d", 366 * 86400),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text", ["", "48", "h", "abc", "1m30h", "30m1h", "1h1h", "-2h", "1.5h", "2 days", "367d", "٤٨h", "48h!", "1e3s"]
)
def test_parse_duration_refuses(text):
    with pytest.raises(BadInput) as caught:
        parse_duration(text)
    assert caught.value.key == "duration.invalid"


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


@pytest.mark.parametrize(
    "text, utc",
    [
        # December: Paris is UTC+1
        ("2026-12-01 10:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T10:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01 10:30:15", datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)),
        ("01/12/2026 10:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("1/12/2026 10h30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("01/12/2026 à 10h30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("01/12/2026 10h", datetime(2026, 12, 1, 9, 0, tzinfo=UTC)),
        # July: Paris is UTC+2
        ("2026-07-01 10:30", datetime(2026, 7, 1, 8, 30, tzinfo=UTC)),
        # ISO 8601 with an offset is honoured
        ("2026-12-01T09:30:00Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-12-01T09:30:00.250Z", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
        ("2026-07-01T10:30+02:00", datetime(2026, 7, 1, 8, 30, tzinfo=UTC)),
        ("2026-07-01T10:30-0500", datetime(2026, 7, 1, 15, 30, tzinfo=UTC)),
        # the day after the spring change, and the repeated hour made explicit
        ("2026-03-29 03:30", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("2026-10-25T02:30+02:00", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("2026-10-25T02:30+01:00", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
    ],
)
def test_parse_when(text, utc):
    when = parse_when(text)
    assert when.tzinfo is PARIS
    # timestamps, not ==: Python compares datetimes in an ambiguous hour as never equal across zones
    assert when.timestamp() == utc.timestamp()


@pytest.mark.parametrize(
    "text, key",
    [
        ("31/02/2026 10:00", "when.impossible"),
        ("2026-02-29 10:00", "when.impossible"),  # 2026 is not a leap year
        ("2026-13-01 10:00", "when.impossible"),
        ("2026-12-01 24:00", "when.impossible"),
        ("2026-12-01 10:60", "when.impossible"),
        ("1900-01-01 10:00", "when.impossible"),
        ("2026-03-29 02:30", "when.skipped"),  # clocks jump from 2:00 to 3:00
        ("2026-10-25 02:30", "when.ambiguous"),  # 2:30 happens twice
        ("2026-12-01", "when.no_time"),
        ("01/12/2026", "when.no_time"),
        ("", "when.invalid"),
        ("demain", "when.invalid"),
        ("01/12/26 10:30", "when.invalid"),
        ("2026-12-01 1030", "when.invalid"),
        ("12/01/2026 10:30 PM", "when.invalid"),
        ("٢٠٢٦-12-01 10:30", "when.invalid"),
        ("1767618420", "when.invalid"),
    ],
)
def test_parse_when_refuses(text, key):
    with pytest.raises(BadInput) as caught:
        parse_when(text)
    assert caught.value.key == key


def test_ambiguous_time_suggests_an_offset(lang):
    lang("fr")
    with pytest.raises(BadInput) as caught:
        parse_when("25/10/2026 02:30")
    assert caught.value.message == (
        "L'heure « 25/10/2026 02:30 » existe deux fois à Paris (passage à l'heure d'hiver) : "
        "précisez le décalage, par exemple 2026-10-25T02:30+02:00."
    )


@pytest.mark.parametrize(
    "text, day",
    [("2026-12-01", date(2026, 12, 1)), ("01/12/2026", date(2026, 12, 1)), ("1/2/2028", date(2028, 2, 1)), ("29/02/2028", date(2028, 2, 29))],
)
def test_parse_day(text, day):
    assert parse_day(text) == day


@pytest.mark.parametrize("text, key", [("31/02/2026", "when.impossible"), ("2026-12", "day.invalid"), ("hier", "day.invalid"), ("", "day.invalid")])
def test_parse_day_refuses(text, key):
    with pytest.raises(BadInput) as caught:
        parse_day(text)
    assert caught.value.key == key


def test_since_and_until_of_a_bare_day_cover_that_whole_day():
    assert parse_since("01/12/2026") == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert parse_until("01/12/2026") == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    # the autumn change day lasts 25 hours
    # (through timestamps: subtracting two Paris datetimes gives wall-clock time, 24 h)
    assert parse_until("2026-10-25").timestamp() - parse_since("2026-10-25").timestamp() == 25 * 3600


def test_since_and_until_accept_a_moment():
    assert parse_since("01/12/2026 10:30") == datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert parse_until("2026-12-01T10:30Z") == datetime(2026, 12, 1, 10, 30, tzinfo=UTC)


def test_until_refuses_junk():
    with pytest.raises(BadInput) as caught:
        parse_until("la semaine dernière")
    assert caught.value.key == "day.invalid"


# 1767618420 = 2026-01-05 13:07:00 UTC (winter, Paris UTC+1);
# 1782900000 = 2026-07-01 10:00:00 UTC (summer, Paris UTC+2).
@pytest.mark.parametrize(
    "value, fr, en",
    [
        (1767618420, "05/01/2026 14:07", "2026-01-05 14:07"),
        (1767618420.9, "05/01/2026 14:07", "2026-01-05 14:07"),
        (1782900000, "01/07/2026 12:00", "2026-07-01 12:00"),
        (datetime(2026, 1, 5, 13, 7, tzinfo=UTC), "05/01/2026 14:07", "2026-01-05 14:07"),
        (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "01/01/2027 00:30", "2027-01-01 00:30"),
        # 2026-10-25: 00:30 UTC is 02:30 CEST, 01:30 UTC is 02:30 CET
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "25/10/2026 02:30", "2026-10-25 02:30"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "25/10/2026 02:30", "2026-10-25 02:30"),
    ],
)
def test_format_when(value, fr, en):
    assert format_when(value, "fr") == fr
    assert format_when(value, "en") == en


def test_format_when_follows_the_current_language(lang):
    lang("en")
    assert format_when(1767618420) == "2026-01-05 14:07"


def test_format_when_refuses_naive_datetimes_and_strings():
    with pytest.raises(ValueError):
        format_when(datetime(2026, 1, 5, 14, 7), "fr")
    with pytest.raises(TypeError):
        format_when("1767618420", "fr")  # type: ignore[arg-type]


def test_format_when_round_trips_parse_when():
    assert parse_when(format_when(1767618420, "fr")).timestamp() == 1767618420
    assert parse_when(format_when(1782900000, "en")).timestamp() == 1782900000


def test_format_day():
    assert format_day(1767618420, "fr") == "05/01/2026"
    assert format_day(1767618420, "en") == "2026-01-05"
    assert format_day(date(2026, 7, 1), "fr") == "01/07/2026"
    # 23:30 UTC on 31 Dec is already 1 Jan in Paris
    assert format_day(datetime(2026, 12, 31, 23, 30, tzinfo=UTC), "fr") == "01/01/2027"


def test_iso_utc():
    assert iso_utc(1767618420) == "2026-01-05T13:07:00Z"
    assert iso_utc(paris(2026, 7, 1, 12, 0)) == "2026-07-01T10:00:00Z"
    assert iso_utc(1767618420.75) == "2026-01-05T13:07:00Z"
