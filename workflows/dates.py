"""Friendly date parsing for answers typed by council officers.

Officers write dates the way they speak ("next Friday", "in 3 weeks",
"31/03/2027"). Numeric dates are read day-first, as they are in the UK, and
are parsed here rather than by ``dateparser`` so that an impossible date
("31/02/2027") gets a precise message instead of a vague "not understood".
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

import dateparser
import holidays

__all__ = [
    "DateError",
    "parse_friendly_date",
    "format_date",
    "next_working_day",
    "is_working_day",
]

MAX_YEARS_AHEAD = 10

_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2}|\d{4})$")
_IN_N = re.compile(
    r"^(?:in\s+)?(a|an|one|two|three|four|five|six|\d{1,3})\s+(day|working day|week|fortnight|month)s?"
    r"(?:\s+time|\s+from\s+(?:now|today))?$"
)
_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_END_OF = re.compile(r"^(?:the\s+)?end\s+of\s+(?:(next)\s+month|(this)\s+month|([a-z]+)(?:\s+(\d{4}))?)$")


class DateError(ValueError):
    """A date the officer typed that cannot be used; ``str(error)`` is shown to them."""


def format_date(value: date) -> str:
    """How dates are shown back to officers: 'Fri 31 March 2027'."""
    return f"{value:%a} {value.day} {_MONTHS[value.month - 1]} {value.year}"


@lru_cache(maxsize=16)
def _bank_holidays(year: int) -> holidays.HolidayBase:
    # England and Wales bank holidays: what most councils using this tool observe.
    return holidays.country_holidays("GB", subdiv="ENG", years=year)


def is_working_day(value: date) -> bool:
    return value.weekday() < 5 and value not in _bank_holidays(value.year)


def next_working_day(value: date) -> date:
    """The day itself if it is a working day, otherwise the next one (suggested deadlines avoid weekends)."""
    while not is_working_day(value):
        value += timedelta(days=1)
    return value


def _checked(year: int, month: int, day: int, text: str) -> date:
    if not 1 <= month <= 12:
        raise DateError(f"“{text}” doesn't look like a date: there is no month {month}. Try 31/03/2027.")
    try:
        return date(year, month, day)
    except ValueError:
        raise DateError(
            f"There is no {day} {_MONTHS[month - 1]} {year}. "
            "Please check the day and month (dates are read day first, e.g. 31/03/2027)."
        ) from None


def _add_months(start: date, months: int) -> date:
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    for day in (start.day, 30, 29, 28):
        try:
            return date(year, month, day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def _end_of_month(year: int, month: int) -> date:
    return _add_months(date(year, month, 1), 1) - timedelta(days=1)


def _in_n(match: re.Match[str], today: date) -> date:
    """ "in 3 weeks", "two working days", "a fortnight from now"."""
    count = _WORDS.get(match[1]) or int(match[1])
    unit = match[2]
    if unit == "working day":
        result = today
        for _ in range(count):
            result = next_working_day(result + timedelta(days=1))
        return result
    if unit == "month":
        return _add_months(today, count)
    days = {"day": 1, "week": 7, "fortnight": 14}[unit]
    return today + timedelta(days=days * count)


def _end_of(match: re.Match[str], today: date) -> date | None:
    """ "end of next month", "end of this month", "end of March" (the next one), "end of March 2028"."""
    if match[1]:
        following = _add_months(today.replace(day=1), 1)
        return _end_of_month(following.year, following.month)
    if match[2]:
        return _end_of_month(today.year, today.month)
    word = match[3]
    month = next(
        (
            i + 1
            for i, name in enumerate(_MONTHS)
            if name.lower().startswith(word[:3]) and name.lower().startswith(word)
        ),
        None,
    )
    if month is None:
        return None
    year = int(match[4]) if match[4] else today.year
    result = _end_of_month(year, month)
    if not match[4] and result < today:
        result = _end_of_month(year + 1, month)
    return result


def _numeric(cleaned: str, text: str) -> date | None:
    """2027-03-31 or 31/03/2027 (31/03/27), checked so an impossible day gets a precise message."""
    if match := _ISO.match(cleaned):
        return _checked(int(match[1]), int(match[2]), int(match[3]), text)
    if match := _DAY_FIRST.match(cleaned):
        year = int(match[3])
        if year < 100:
            year += 2000
        return _checked(year, int(match[2]), int(match[1]), text)
    return None


def _words(cleaned: str, today: date) -> date | None:
    """Anything else in words ("next Friday", "March 2027"), read by dateparser, day first, in the future."""
    parsed = dateparser.parse(
        cleaned,
        languages=["en"],
        settings={
            "DATE_ORDER": "DMY",
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": datetime(today.year, today.month, today.day, 12, 0),
            "RETURN_AS_TIMEZONE_AWARE": False,
            # "March 2027" as a deadline means the end of March, not today's day-of-month.
            "PREFER_DAY_OF_MONTH": "last",
        },
    )
    return parsed.date() if parsed else None


def _parse(text: str, today: date) -> date | None:
    cleaned = re.sub(r"\s+", " ", text.strip().lower()).rstrip(".")
    if not cleaned:
        return None
    if _ISO.match(cleaned) or _DAY_FIRST.match(cleaned):
        return _numeric(cleaned, text)
    if match := _IN_N.match(cleaned):
        return _in_n(match, today)
    if match := _END_OF.match(cleaned):
        return _end_of(match, today)
    if re.fullmatch(r"[\d\s/.\-]+", cleaned):
        # Digits that matched no pattern above: dateparser would guess, and guess wrong.
        return None
    return _words(cleaned, today)


def parse_friendly_date(text: str, today: date, *, allow_past: bool = False, not_before: date | None = None) -> date:
    """Read a date an officer typed, or raise :class:`DateError` with a message written for them.

    ``today`` is passed in (never read from the clock here) so that callers
    decide the timezone and tests can move time.
    """
    result = _parse(text, today)
    if result is None:
        raise DateError(
            f"I couldn't read “{text.strip()[:60]}” as a date. Try a date like 31/03/2027, 2027-03-31, "
            "“next Friday” or “in 3 weeks”."
        )
    if not allow_past and result < today:
        raise DateError(
            f"{format_date(result)} is in the past. Please give a date from today ({format_date(today)}) onwards."
        )
    if result > _add_months(today, 12 * MAX_YEARS_AHEAD):
        raise DateError(f"{format_date(result)} is more than {MAX_YEARS_AHEAD} years away. Please check the year.")
    if not_before is not None and result < not_before:
        raise DateError(
            f"{format_date(result)} is before {format_date(not_before)}, the date the previous stage is due. "
            "Stage dates must not go backwards."
        )
    return result
