"""Durations and dates typed by people, and times shown to them: Europe/Paris, DST-correct.

Stripe speaks Unix seconds (UTC); people speak Paris wall-clock time. Input forms (decided here):
- a moment (`plan --at`): `2026-12-01 10:30`, `2026-12-01T10:30`, `01/12/2026 10:30`, `01/12/2026 10h30`,
  `01/12/2026 à 10h30`, seconds optional; a time without an offset is Paris time; an ISO 8601 offset
  (`Z`, `+01:00`) is honoured. A Paris time skipped by the spring change (02:30 on the last Sunday of
  March) is refused; one repeated by the autumn change is refused unless an offset says which.
- a day (`status --since/--until`): `2026-12-01` or `01/12/2026`, or any moment above. A bare day in
  --until includes that whole day: bounds are half-open, since ≤ t < until.
- a duration (`--warn-within`, `sandbox advance`): `48h`, `2d` (or `2j`), `30m`, `1h30m`, `90s`,
  units in decreasing order, each at most once, at most 366 days.
Output: `05/01/2026 14:07` (fr) or `2026-01-05 14:07` (en), both in Paris time; machine output uses
`iso_utc` (`2026-01-05T13:07:00Z`).

The parsers return datetimes whose tzinfo is Europe/Paris. Compare and subtract them through
`.timestamp()`: Python does wall-clock arithmetic between two datetimes of the same zone.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sarapay import i18n
from sarapay.errors import BadInput
from sarapay.inputs import clean, shown

PARIS = ZoneInfo("Europe/Paris")
MAX_DURATION = 366 * 86400
_YEARS = range(1970, 2100)

i18n.register(
    {
        "duration.invalid": {
            "fr": "Durée « {value} » non reconnue : écrivez par exemple 48h, 2j, 30m, 1h30m ou 90s (au plus 366 jours).",
            "en": "Duration “{value}” not recognised: write for example 48h, 2d, 30m, 1h30m or 90s (at most 366 days).",
        },
        "when.invalid": {
            "fr": "Date et heure « {value} » non reconnues : écrivez par exemple 01/12/2026 10:30 ou 2026-12-01 10:30 (heure de Paris).",
            "en": "Date and time “{value}” not recognised: write for example 2026-12-01 10:30 or 01/12/2026 10:30 (Paris time).",
        },
        "when.no_time": {
            "fr": "« {value} » n'indique pas d'heure : ajoutez-la, par exemple {value} 10:30 (heure de Paris).",
            "en": "“{value}” has no time: add one, for example {value} 10:30 (Paris time).",
        },
        "day.invalid": {
            "fr": "Date « {value} » non reconnue : écrivez par exemple 01/12/2026 ou 2026-12-01, avec une heure si besoin (01/12/2026 10:30).",
            "en": "Date “{value}” not recognised: write for example 2026-12-01 or 01/12/2026, with a time if needed (2026-12-01 10:30).",
        },
        "when.impossible": {
            "fr": "La date « {value} » n'existe pas : vérifiez le jour, le mois, l'année et l'heure (par exemple 28/02/2026 10:30).",
            "en": "The date “{value}” does not exist: check the day, month, year and time (for example 2026-02-28 10:30).",
        },
        "when.skipped": {
            "fr": "L'heure « {value} » n'existe pas à Paris (passage à l'heure d'été, de 2 h à 3 h) : choisissez une autre heure.",
            "en": "The time “{value}” does not exist in Paris (clocks go forward from 2:00 to 3:00): choose another time.",
        },
        "month.invalid": {
            "fr": "Mois « {value} » non reconnu : écrivez-le AAAA-MM, par exemple 2026-11 (ou 11/2026).",
            "en": "Month “{value}” not recognised: write it YYYY-MM, for example 2026-11 (or 11/2026).",
        },
        "when.ambiguous": {
            "fr": "L'heure « {value} » existe deux fois à Paris (passage à l'heure d'hiver) : précisez le décalage, par exemple {example}.",
            "en": "The time “{value}” happens twice in Paris (clocks go back): give the offset, for example {example}.",
        },
    }
)

_DURATION = re.compile(
    r"(?:(?P<d>[0-9]{1,4})\s*[dj])?\s*(?:(?P<h>[0-9]{1,5})\s*h)?\s*(?:(?P<m>[0-9]{1,6})\s*m(?:in)?)?\s*(?:(?P<s>[0-9]{1,8})\s*s)?",
    re.IGNORECASE | re.ASCII,  # ASCII: under IGNORECASE alone, "ſ" (long s) would match "s"
)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}

_ISO_DAY = r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
_FR_DAY = r"(?P<d>[0-9]{1,2})/(?P<mo>[0-9]{1,2})/(?P<y>[0-9]{4})"
_TIME = (
    r"(?:T|\s+(?:à\s+)?)"
    r"(?P<H>[0-9]{1,2})(?:[:h](?P<M>[0-9]{2})(?::(?P<S>[0-9]{2})(?:\.[0-9]{1,6})?)?|h)"
    r"(?P<off>Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"
)
_DAY_FORMS = [re.compile(_ISO_DAY), re.compile(_FR_DAY)]
_MONTH_FORMS = [re.compile(r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})"), re.compile(r"(?P<mo>[0-9]{1,2})/(?P<y>[0-9]{4})")]
MONTH_NAMES = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre",
           "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November",
           "December"),
}
_MOMENT_FORMS = [re.compile(_ISO_DAY + _TIME, re.IGNORECASE), re.compile(_FR_DAY + _TIME, re.IGNORECASE)]


def parse_duration(text: str) -> int:
    """Seconds in `48h`, `2d`/`2j`, `30m`, `1h30m`, `90s`; BadInput otherwise (a bare number too)."""
    raw = clean(text)
    match = _DURATION.fullmatch(raw)
    if not raw or not match or not any(match.groupdict().values()):
        raise BadInput("duration.invalid", value=shown(raw))
    seconds = sum(int(v) * _UNIT_SECONDS[unit] for unit, v in match.groupdict().items() if v)
    if seconds > MAX_DURATION:
        raise BadInput("duration.invalid", value=shown(raw))
    return seconds


def _day(match: re.Match[str], raw: str) -> date:
    try:
        year = int(match["y"])
        if year not in _YEARS:
            raise ValueError(year)
        return date(year, int(match["mo"]), int(match["d"]))
    except ValueError:
        raise BadInput("when.impossible", value=shown(raw)) from None


def _match_day(raw: str) -> re.Match[str] | None:
    return next((m for form in _DAY_FORMS if (m := form.fullmatch(raw))), None)


def _match_moment(raw: str) -> re.Match[str] | None:
    return next((m for form in _MOMENT_FORMS if (m := form.fullmatch(raw))), None)


def _offset(text: str) -> timezone:
    if text.upper() == "Z":
        return timezone.utc
    digits = text[1:].replace(":", "")
    delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:] or 0))
    return timezone(-delta if text[0] == "-" else delta)


def _moment(match: re.Match[str], raw: str) -> datetime:
    day = _day(match, raw)
    try:
        naive = datetime(day.year, day.month, day.day, int(match["H"]), int(match["M"] or 0), int(match["S"] or 0))
        offset = _offset(match["off"]) if match["off"] else None
    except ValueError:
        raise BadInput("when.impossible", value=shown(raw)) from None
    if offset is not None:
        return naive.replace(tzinfo=offset).astimezone(PARIS)
    first, second = naive.replace(tzinfo=PARIS, fold=0), naive.replace(tzinfo=PARIS, fold=1)
    if first.astimezone(timezone.utc).astimezone(PARIS).replace(tzinfo=None) != naive:
        raise BadInput("when.skipped", value=shown(raw))
    if first.utcoffset() != second.utcoffset():
        example = naive.strftime("%Y-%m-%dT%H:%M") + "+02:00"
        raise BadInput("when.ambiguous", value=shown(raw), example=example)
    return first


def parse_when(text: str) -> datetime:
    """An aware datetime in Europe/Paris from `2026-12-01 10:30`, `01/12/2026 10:30` or ISO 8601."""
    raw = clean(text)
    match = _match_moment(raw)
    if match:
        return _moment(match, raw)
    if _match_day(raw):
        raise BadInput("when.no_time", value=shown(raw))
    raise BadInput("when.invalid", value=shown(raw))


def parse_day(text: str) -> date:
    """A calendar day from `2026-12-01` or `01/12/2026`; BadInput on junk or on 31/02."""
    raw = clean(text)
    match = _match_day(raw)
    if not match:
        raise BadInput("day.invalid", value=shown(raw))
    return _day(match, raw)


def _bound(text: str, days_after: int) -> datetime:
    raw = clean(text)
    match = _match_moment(raw)
    if match:
        return _moment(match, raw)
    day = parse_day(raw) + timedelta(days=days_after)
    # Midnight always exists in Paris (the clocks change at 2:00 and 3:00).
    return datetime(day.year, day.month, day.day, tzinfo=PARIS)


def parse_since(text: str) -> datetime:
    """Inclusive lower bound: a moment, or the start (00:00 Paris) of a bare day."""
    return _bound(text, 0)


def parse_until(text: str) -> datetime:
    """Exclusive upper bound: a moment, or the end of a bare day (00:00 Paris the day after)."""
    return _bound(text, 1)


def _aware(value: int | float | datetime) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime: give a Unix timestamp or an aware datetime")
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a Unix timestamp or an aware datetime, got {type(value).__name__}")
    return datetime.fromtimestamp(value, timezone.utc)


def format_when(value: int | float | datetime, lang: str | None = None) -> str:
    """`05/01/2026 14:07` (fr) or `2026-01-05 14:07` (en), Paris time, from a Unix timestamp or aware datetime."""
    lang = lang or i18n.get_lang()
    local = _aware(value).astimezone(PARIS)
    if lang == "fr":
        return local.strftime("%d/%m/%Y %H:%M")
    if lang == "en":
        return local.strftime("%Y-%m-%d %H:%M")
    raise ValueError(f"unknown language {lang!r}")


def format_day(value: int | float | datetime | date, lang: str | None = None) -> str:
    """`05/01/2026` (fr) or `2026-01-05` (en); timestamps and datetimes are read in Paris time."""
    lang = lang or i18n.get_lang()
    day = value if isinstance(value, date) and not isinstance(value, datetime) else _aware(value).astimezone(PARIS).date()
    if lang == "fr":
        return day.strftime("%d/%m/%Y")
    if lang == "en":
        return day.isoformat()
    raise ValueError(f"unknown language {lang!r}")


def iso_utc(value: int | float | datetime) -> str:
    """`2026-01-05T13:07:00Z`: ISO 8601 UTC to the second, for machine output."""
    return _aware(value).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) from `2026-11` or `11/2026`; BadInput otherwise (`2026-13`, `2026`, `nov`)."""
    raw = clean(text)
    match = next((m for form in _MONTH_FORMS if (m := form.fullmatch(raw))), None)
    if not match or int(match["y"]) not in _YEARS or not 1 <= int(match["mo"]) <= 12:
        raise BadInput("month.invalid", value=shown(raw))
    return int(match["y"]), int(match["mo"])


def month_bounds(year: int, month: int) -> tuple[datetime, datetime]:
    """The month in Paris time, half-open: 00:00 Paris on its first day, 00:00 Paris on the next month's first
    day (midnight always exists in Paris: the clocks change at 2:00 and 3:00)."""
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    return datetime(year, month, 1, tzinfo=PARIS), datetime(*following, 1, tzinfo=PARIS)


def format_month(year: int, month: int, lang: str | None = None) -> str:
    """`novembre 2026` (fr) or `November 2026` (en)."""
    lang = lang or i18n.get_lang()
    if lang not in MONTH_NAMES:
        raise ValueError(f"unknown language {lang!r}")
    return f"{MONTH_NAMES[lang][month - 1]} {year}"
