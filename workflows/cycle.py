"""The commissioning cycle, read from a TOML file.

The built-in ``cycle.toml`` is Analyse -> Plan -> Do -> Review. A council
with another cycle (say strategic planning -> sourcing -> monitoring and
evaluation) sets ``CYCLE_FILE`` to its own file: stage names, order, default
durations and checklists are configuration, never code. A mistake in the file
is reported in words an operator can act on, naming the file and the stage.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import holidays

from workflows.settings import WorkflowSettings

DEFAULT_CYCLE_FILE = Path(__file__).resolve().parent / "cycle.toml"

UNITS = {"working days": "working days", "working day": "working days", "days": "days", "day": "days"}
BANK_HOLIDAY_REGIONS = {"england": "ENG", "wales": "WLS", "scotland": "SCT", "northern-ireland": "NIR", "none": None}

MAX_STAGES = 12
MAX_STAGE_NAME = 100
MAX_CHECKLIST_ITEM = 300
MAX_DURATION = 2000

_CYCLE_KEYS = {"name", "bank_holidays"}
_STAGE_KEYS = {"name", "description", "duration", "unit", "checklist"}


class CycleConfigError(ValueError):
    """The cycle file cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class StageDefinition:
    name: str
    duration: int
    unit: str  # "working days" or "days"
    checklist: tuple[str, ...]
    description: str = ""

    @property
    def duration_label(self) -> str:
        unit = self.unit if self.duration != 1 else self.unit.rstrip("s")
        return f"{self.duration} {unit}"


@dataclass(frozen=True)
class CycleConfig:
    name: str
    stages: tuple[StageDefinition, ...]
    bank_holidays: str = "england"
    source: str = "built-in"

    @property
    def stage_names(self) -> tuple[str, ...]:
        return tuple(stage.name for stage in self.stages)

    def stage(self, name: str) -> StageDefinition | None:
        wanted = " ".join(name.split()).casefold()
        return next((stage for stage in self.stages if stage.name.casefold() == wanted), None)

    def position_of(self, name: str) -> int | None:
        stage = self.stage(name)
        return self.stages.index(stage) if stage else None

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        region = BANK_HOLIDAY_REGIONS[self.bank_holidays]
        return holidays.country_holidays("GB", subdiv=region) if region else None

    def is_working_day(self, day: date) -> bool:
        if day.weekday() >= 5:
            return False
        return self._holidays is None or day not in self._holidays

    def add_duration(self, start: date, stage: StageDefinition) -> date:
        """The day a stage starting on ``start`` is due, by its usual duration."""
        if stage.unit == "days":
            return start + timedelta(days=stage.duration)
        day, remaining = start, stage.duration
        while remaining:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def default_due_dates(self, start: date) -> list[date]:
        """Suggested due dates for every stage, each stage starting when the one before is due."""
        dates, day = [], start
        for stage in self.stages:
            day = self.add_duration(day, stage)
            dates.append(day)
        return dates


def _fail(source: str, message: str) -> CycleConfigError:
    return CycleConfigError(f"The cycle file {source} {message}")


def _text(value: Any, source: str, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, f"needs {what} written as text in quotes.")
    text = " ".join(value.split())
    if len(text) > limit:
        raise _fail(source, f"has {what} longer than {limit} characters: {text[:40]}...")
    return text


def _cycle_table(data: dict[str, Any], source: str) -> tuple[str, str]:
    """The [cycle] table: the cycle's name and whose bank holidays count."""
    unknown = set(data) - {"cycle", "stages"}
    if unknown:
        raise _fail(
            source,
            f"has sections it does not understand: {', '.join(sorted(unknown))}. Only [cycle] and [[stages]] are used.",
        )
    cycle = data.get("cycle", {})
    if not isinstance(cycle, dict):
        raise _fail(source, 'needs [cycle] to be a table, e.g. [cycle] then name = "...".')
    unknown = set(cycle) - _CYCLE_KEYS
    if unknown:
        raise _fail(source, f"has settings under [cycle] it does not understand: {', '.join(sorted(unknown))}.")
    name = _text(cycle.get("name", "Commissioning cycle"), source, "a cycle name", 200)
    bank_holidays = str(cycle.get("bank_holidays", "england")).strip().lower()
    if bank_holidays not in BANK_HOLIDAY_REGIONS:
        raise _fail(source, f"has bank_holidays = {bank_holidays!r}; use one of {', '.join(BANK_HOLIDAY_REGIONS)}.")
    return name, bank_holidays


def _stage_name(raw: Any, source: str, number: int, seen: set[str]) -> str:
    """A [[stages]] block's name, once its keys are known to be ones a stage takes and the name is new."""
    where = f"{source} (stage {number})"
    if not isinstance(raw, dict):
        raise _fail(source, f"stage {number} is not a [[stages]] block.")
    unknown = set(raw) - _STAGE_KEYS
    if unknown:
        raise CycleConfigError(
            f"The cycle file {where} has settings it does not understand: {', '.join(sorted(unknown))}. "
            f"A stage takes {', '.join(sorted(_STAGE_KEYS))}."
        )
    stage_name = _text(raw.get("name"), where, "a stage name", MAX_STAGE_NAME)
    if stage_name.casefold() in seen:
        raise CycleConfigError(
            f"The cycle file {source} names the stage {stage_name!r} twice; stage names must differ."
        )
    seen.add(stage_name.casefold())
    return stage_name


def _stage(raw: dict[str, Any], name: str, where: str) -> StageDefinition:
    """One [[stages]] block's duration, unit, checklist and description."""
    duration = raw.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= MAX_DURATION:
        raise CycleConfigError(
            f"The cycle file {where} needs a duration: a whole number of days from 1 to {MAX_DURATION}, "
            f"e.g. duration = 20 (got {duration!r})."
        )
    unit_text = str(raw.get("unit", "working days")).strip().lower()
    unit = UNITS.get(unit_text)
    if unit is None:
        raise CycleConfigError(f'The cycle file {where} has unit = {unit_text!r}; use "working days" or "days".')
    checklist_raw = raw.get("checklist", [])
    if not isinstance(checklist_raw, list):
        raise CycleConfigError(f'The cycle file {where} needs checklist to be a list, e.g. checklist = ["...", "..."].')
    checklist = tuple(
        _text(item, f"{where} checklist item {index}", "an item", MAX_CHECKLIST_ITEM)
        for index, item in enumerate(checklist_raw, start=1)
    )
    description = raw.get("description", "")
    if not isinstance(description, str):
        raise CycleConfigError(f"The cycle file {where} needs description to be text in quotes.")
    return StageDefinition(
        name=name, duration=duration, unit=unit, checklist=checklist, description=" ".join(description.split())
    )


def parse_cycle(data: dict[str, Any], source: str = "built-in") -> CycleConfig:
    """Check a parsed TOML document and turn it into a :class:`CycleConfig`."""
    name, bank_holidays = _cycle_table(data, source)
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, list) or not raw_stages:
        raise _fail(source, "names no stages. Add at least one [[stages]] block with a name, duration and checklist.")
    if len(raw_stages) > MAX_STAGES:
        raise _fail(source, f"names {len(raw_stages)} stages; at most {MAX_STAGES} are supported.")
    stages: list[StageDefinition] = []
    seen: set[str] = set()
    for number, raw in enumerate(raw_stages, start=1):
        stage_name = _stage_name(raw, source, number, seen)
        stages.append(_stage(raw, stage_name, f"{source} (stage {number}, {stage_name})"))
    return CycleConfig(name=name, stages=tuple(stages), bank_holidays=bank_holidays, source=source)


def load_cycle(path: Path | str | None = None) -> CycleConfig:
    """Read the council's cycle file, or the built-in one when ``path`` is None."""
    file = Path(path).expanduser() if path is not None else DEFAULT_CYCLE_FILE
    source = str(file) if path is not None else "built-in (workflows/cycle.toml)"
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CycleConfigError(f"The cycle file {file} does not exist. Check CYCLE_FILE.") from None
    except (OSError, UnicodeDecodeError) as error:
        raise CycleConfigError(f"The cycle file {file} could not be read: {error}") from error
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise CycleConfigError(f"The cycle file {source} is not valid TOML: {error}.") from error
    return parse_cycle(data, source=source)


def cycle_from_settings(settings: WorkflowSettings) -> CycleConfig:
    """The cycle named by ``CYCLE_FILE``, or the built-in one."""
    return load_cycle(settings.cycle_file)
