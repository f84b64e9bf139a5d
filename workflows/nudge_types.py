"""What the nudge policy works with and what it produces.

:class:`NudgePolicy` (when reminders fall due, from the settings), :class:`Recipient` (a person as the
policy sees them), :class:`Nudge` and :class:`NudgePlan` (what :func:`workflows.nudges.plan_nudges`
returns) and :func:`stage_status`, which the digest and the preview share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from storage.notifications import dedupe_key
from workflows.settings import WorkflowSettings
from workflows.working_days import WorkingCalendar, calendar_from_settings

__all__ = [
    "DIGEST_TIME",
    "DigestLine",
    "Held",
    "Nudge",
    "NudgeKind",
    "NudgePlan",
    "NudgePolicy",
    "Recipient",
    "StageStatus",
    "format_day",
    "plural",
    "stage_status",
]

# The weekly digest goes out from this time on the first working day of the week (Monday 09:00 usually).
DIGEST_TIME = time(9, 0)


class NudgeKind(StrEnum):
    DUE_SOON = "due_soon"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    ESCALATION = "escalation"
    DIGEST = "digest"

    @property
    def label(self) -> str:
        return {
            "due_soon": "due soon",
            "due_today": "due today",
            "overdue": "overdue",
            "escalation": "escalation",
            "digest": "weekly digest",
        }[self.value]


class StageStatus(StrEnum):
    DONE = "done"
    ON_TRACK = "on track"
    DUE_SOON = "due soon"
    OVERDUE = "overdue"
    NOT_STARTED = "not started"


@dataclass(frozen=True)
class NudgePolicy:
    days_before: tuple[int, ...] = (5, 1)
    overdue_every: int = 3
    escalate_after: int = 5
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    @classmethod
    def from_settings(cls, settings: WorkflowSettings) -> NudgePolicy:
        days = tuple(sorted({int(day) for day in settings.nudge_days_before if int(day) > 0}, reverse=True))
        return cls(
            days_before=days,
            overdue_every=max(1, int(settings.nudge_overdue_every_working_days)),
            escalate_after=max(1, int(settings.escalate_after_working_days)),
            calendar=calendar_from_settings(settings),
        )

    @property
    def due_soon_window(self) -> int:
        return max(self.days_before, default=0)


@dataclass(frozen=True)
class Recipient:
    """What the policy needs to know about a person."""

    id: int
    name: str
    timezone: str = "Europe/London"
    reachable: bool = True
    # Where they can be messaged: "slack" and/or "teams".
    platforms: tuple[str, ...] = ()

    @classmethod
    def from_person(cls, person: Any) -> Recipient:
        platforms = []
        if getattr(person, "slack_user_id", None):
            platforms.append("slack")
        if getattr(person, "teams_conversation_ref", None):
            platforms.append("teams")
        return cls(
            id=int(person.id),
            name=person.name,
            timezone=person.timezone or "Europe/London",
            # A leaver (deactivated) is never nudged, whatever a platform last said about them.
            reachable=bool(person.reachable) and getattr(person, "deactivated_at", None) is None,
            platforms=tuple(platforms),
        )


@dataclass(frozen=True)
class DigestLine:
    """One review in a portfolio holder's digest."""

    review_id: int
    title: str
    service: str
    stages: tuple[tuple[str, StageStatus, date, str], ...]  # (stage name, status, due date, owner name)


@dataclass(frozen=True)
class Nudge:
    kind: NudgeKind
    person_id: int
    person_name: str
    review_id: int
    review_title: str
    period: str
    why: str
    stage_id: int | None = None
    stage_name: str | None = None
    due_date: date | None = None
    # Working days left before the due date (due soon), or overdue by (overdue, escalation).
    working_days: int = 0
    owner_name: str | None = None
    digest: tuple[DigestLine, ...] = ()
    feedback_waiting: int = 0

    @property
    def key(self) -> str:
        return dedupe_key(self.review_id, self.stage_id, self.person_id, self.kind.value, self.period)


@dataclass(frozen=True)
class Held:
    """A nudge that is due but not sent now, and why (shown by the preview)."""

    nudge: Nudge
    reason: str


@dataclass
class NudgePlan:
    now: datetime
    nudges: list[Nudge] = field(default_factory=list)
    held: list[Held] = field(default_factory=list)


def stage_status(due: date, completed: bool, today: date, policy: NudgePolicy, *, current: bool = True) -> StageStatus:
    """How a stage stands on ``today``: done, overdue, due soon (within the first reminder's window) or on track."""
    if completed:
        return StageStatus.DONE
    if due < today:
        return StageStatus.OVERDUE
    # Far enough ahead that no run of weekends and bank holidays could bring it into the window (a cheap test
    # first: a digest asks this of every stage of every review).
    far = (due - today).days > 2 * policy.due_soon_window + 10
    if not far and policy.calendar.working_days_between(today, due) <= policy.due_soon_window:
        return StageStatus.DUE_SOON
    return StageStatus.ON_TRACK if current else StageStatus.NOT_STARTED


def format_day(day: date) -> str:
    return f"{day:%a} {day.day} {day:%B %Y}"


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"
