"""Working days and working hours, per person: when someone may be nudged.

A council officer is never nudged at a weekend, on a bank holiday of the
council's UK region (England by default; Wales, Scotland and Northern Ireland
each have their own, through the ``holidays`` package's subdivisions), or
outside working hours *in their own timezone*. Local times come from
``zoneinfo``, so the change to and from British Summer Time is handled by the
timezone database rather than by arithmetic on UTC offsets.

:class:`WorkingCalendar` is pure: every method takes the time it is asked
about, so the scheduler, the preview command and the tests can all move time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from workflows.settings import WorkflowSettings

__all__ = [
    "REGIONS",
    "WorkingCalendar",
    "WorkingHours",
    "calendar_from_settings",
    "parse_region",
    "parse_working_hours",
    "zone",
]

# The UK's bank-holiday regions as the ``holidays`` package names its subdivisions.
REGIONS = {
    "ENG": "ENG",
    "ENGLAND": "ENG",
    "WLS": "WLS",
    "WALES": "WLS",
    "SCT": "SCT",
    "SCOTLAND": "SCT",
    "NIR": "NIR",
    "NORTHERN-IRELAND": "NIR",
    "NORTHERN IRELAND": "NIR",
    "NONE": "",
}
DEFAULT_ZONE = "Europe/London"


def parse_region(text: str | None) -> str:
    """'ENG', 'england', 'Scotland', 'none' -> the subdivision code ('' for no bank holidays)."""
    key = " ".join((text or "ENG").split()).upper()
    if key not in REGIONS:
        raise ValueError(f"BANK_HOLIDAY_REGION {text!r} is not a UK region; use ENG, WLS, SCT, NIR or NONE.")
    return REGIONS[key]


@dataclass(frozen=True)
class WorkingHours:
    start: time
    end: time

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def parse_working_hours(text: str) -> WorkingHours:
    """'09:00-17:30' -> WorkingHours(09:00, 17:30); refuses an empty or backwards range."""
    try:
        start_text, end_text = (part.strip() for part in text.split("-", 1))
        start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    except ValueError:
        raise ValueError(f"WORKING_HOURS {text!r} should look like 09:00-17:30.") from None
    if end <= start:
        raise ValueError(f"WORKING_HOURS {text!r} ends before it starts.")
    return WorkingHours(start, end)


@lru_cache(maxsize=256)
def zone(name: str | None) -> ZoneInfo:
    """The person's timezone; an unknown name falls back to UK time rather than stopping every nudge."""
    try:
        return ZoneInfo(name or DEFAULT_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_ZONE)


@dataclass
class WorkingCalendar:
    """Weekends, the region's bank holidays and working hours.

    Counting working days between two dates is done with a per-year running
    total, because a sweep over 10,000 reviews asks it tens of thousands of times.
    """

    region: str = "ENG"
    hours: WorkingHours = field(default_factory=lambda: WorkingHours(time(9, 0), time(17, 30)))
    _holidays: dict[int, frozenset[date]] = field(default_factory=dict, init=False, repr=False)
    _running: dict[int, list[int]] = field(default_factory=dict, init=False, repr=False)
    _before_year: dict[int, int] = field(default_factory=dict, init=False, repr=False)
    # Memos: a sweep asks about the same few hundred dates tens of thousands of times.
    _working: dict[date, bool] = field(default_factory=dict, init=False, repr=False)
    _ordinals: dict[date, int] = field(default_factory=dict, init=False, repr=False)
    _added: dict[tuple[date, int], date] = field(default_factory=dict, init=False, repr=False)

    # --- days ---------------------------------------------------------------------------

    def bank_holidays(self, year: int) -> frozenset[date]:
        found = self._holidays.get(year)
        if found is None:
            if self.region:
                found = frozenset(holidays.country_holidays("GB", subdiv=self.region, years=year))
            else:
                found = frozenset()
            self._holidays[year] = found
        return found

    def is_working_day(self, day: date) -> bool:
        found = self._working.get(day)
        if found is None:
            found = self._working[day] = day.weekday() < 5 and day not in self.bank_holidays(day.year)
        return found

    def next_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def previous_working_day(self, day: date) -> date:
        """``day`` itself when it is a working day, else the one before."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def add_working_days(self, day: date, count: int) -> date:
        """The date ``count`` working days after ``day`` (before it, when negative)."""
        found = self._added.get((day, count))
        if found is None:
            found = self._added[(day, count)] = self._add_working_days(day, count)
        return found

    def _add_working_days(self, day: date, count: int) -> date:
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        while remaining:
            day += timedelta(days=step)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end``; negative when ``end`` is earlier."""
        return self._ordinal(end) - self._ordinal(start)

    def _ordinal(self, day: date) -> int:
        """Working days from 1 Jan 2000 up to and including ``day`` (only differences between two are used)."""
        found = self._ordinals.get(day)
        if found is None:
            found = self._ordinals[day] = (
                self._working_days_before_year(day.year) + self._running_in_year(day.year)[day.timetuple().tm_yday - 1]
            )
        return found

    def _running_in_year(self, year: int) -> list[int]:
        running = self._running.get(year)
        if running is None:
            running, total, current = [], 0, date(year, 1, 1)
            while current.year == year:
                total += self.is_working_day(current)
                running.append(total)
                current += timedelta(days=1)
            self._running[year] = running
        return running

    def _working_days_before_year(self, year: int) -> int:
        cached = self._before_year.get(year)
        if cached is None:
            if year >= 2000:
                cached = sum(self._running_in_year(y)[-1] for y in range(2000, year))
            else:
                cached = -sum(self._running_in_year(y)[-1] for y in range(year, 2000))
            self._before_year[year] = cached
        return cached

    # --- hours, in a person's own timezone ----------------------------------------------

    @staticmethod
    def local(now: datetime, timezone_name: str | None) -> datetime:
        if now.tzinfo is None:
            raise ValueError("use an aware time (UTC) when asking about working hours")
        return now.astimezone(zone(timezone_name))

    def local_today(self, now: datetime, timezone_name: str | None) -> date:
        return self.local(now, timezone_name).date()

    def is_working_time(self, now: datetime, timezone_name: str | None) -> bool:
        """A working day and within working hours, where the person is."""
        local = self.local(now, timezone_name)
        return self.is_working_day(local.date()) and self.hours.contains(local.time().replace(tzinfo=None))

    def next_working_time(self, now: datetime, timezone_name: str | None) -> datetime:
        """The first moment from ``now`` (UTC) that is within the person's working hours."""
        local = self.local(now, timezone_name)
        if self.is_working_day(local.date()) and self.hours.contains(local.time().replace(tzinfo=None)):
            return now
        day = local.date()
        if not (self.is_working_day(day) and local.time().replace(tzinfo=None) < self.hours.start):
            day = self.next_working_day(day + timedelta(days=1))
        opening = datetime.combine(day, self.hours.start, tzinfo=zone(timezone_name))
        return opening.astimezone(UTC)

    def opening_of(self, day: date, timezone_name: str | None) -> datetime:
        """The start of working hours on ``day`` where the person is, in UTC."""
        return datetime.combine(day, self.hours.start, tzinfo=zone(timezone_name)).astimezone(UTC)


def calendar_from_settings(settings: WorkflowSettings) -> WorkingCalendar:
    return WorkingCalendar(
        region=parse_region(settings.bank_holiday_region), hours=parse_working_hours(settings.working_hours)
    )
