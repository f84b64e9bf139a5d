"""Reviews as the rest of the product reads them: frozen snapshots, never ORM rows.

:class:`ReviewSnapshot` is everything about one review; :class:`ReviewSummary` is a review as lists show it
(no checklists, outcomes or stakeholders, which lists never need and which cost most to load). Both are
built by ``storage/reviews.py`` in a fixed number of queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from storage.models import ReviewStatus

__all__ = [
    "ChecklistItem",
    "OverdueStage",
    "PersonSummary",
    "ReviewSnapshot",
    "ReviewSummary",
    "StageSnapshot",
    "StageSummary",
    "StakeholderSummary",
    "checklist_from_json",
    "stage_snapshot_from_row",
    "stage_summary_from_row",
]


@dataclass(frozen=True)
class PersonSummary:
    id: int
    name: str
    email: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.email else self.name


@dataclass(frozen=True)
class ChecklistItem:
    text: str
    done: bool = False


@dataclass(frozen=True)
class StageSummary:
    """A stage as lists show it: no checklist, which lists never need and which costs most to load."""

    id: int
    name: str
    position: int
    owner: PersonSummary
    due_date: date
    completed_at: datetime | None

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    def is_overdue(self, today: date) -> bool:
        return not self.is_complete and self.due_date < today


@dataclass(frozen=True)
class StageSnapshot(StageSummary):
    started_at: datetime | None
    checklist: tuple[ChecklistItem, ...]
    completion_note: str | None
    completed_by: str | None

    @property
    def open_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.checklist if not item.done)


@dataclass(frozen=True)
class StakeholderSummary:
    person: PersonSummary
    role: str | None


@dataclass(frozen=True)
class ReviewSummary:
    """A review as lists show it; :class:`ReviewSnapshot` adds outcomes, checklists and stakeholders."""

    id: int
    title: str
    service: str
    level: str
    status: str
    lead_commissioner: PersonSummary
    portfolio_holder: PersonSummary
    stages: tuple[StageSummary, ...]
    version: int

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN.value

    @property
    def current_stage(self) -> StageSummary | None:
        """The first stage not yet done; None once every stage is done."""
        return next((stage for stage in self.stages if not stage.is_complete), None)

    def stage(self, name: str) -> StageSummary | None:
        wanted = name.strip().casefold()
        return next((stage for stage in self.stages if stage.name.casefold() == wanted), None)

    def overdue_stages(self, today: date) -> tuple[StageSummary, ...]:
        if not self.is_open:
            return ()
        return tuple(stage for stage in self.stages if stage.is_overdue(today))


@dataclass(frozen=True)
class ReviewSnapshot(ReviewSummary):
    """Everything about one review. Its ``stages`` are :class:`StageSnapshot`, with checklists."""

    stages: tuple[StageSnapshot, ...]  # the same place among the fields as ReviewSummary's, with checklists
    outcomes: tuple[str, ...]
    status_reason: str | None
    stakeholders: tuple[StakeholderSummary, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime

    @property
    def current_stage(self) -> StageSnapshot | None:
        return next((stage for stage in self.stages if not stage.is_complete), None)

    def stage(self, name: str) -> StageSnapshot | None:
        wanted = name.strip().casefold()
        return next((stage for stage in self.stages if stage.name.casefold() == wanted), None)


@dataclass(frozen=True)
class OverdueStage:
    review_id: int
    review_title: str
    service: str
    lead_commissioner: PersonSummary
    stage: StageSummary
    days_overdue: int


def checklist_from_json(value: Any) -> tuple[ChecklistItem, ...]:
    return tuple(ChecklistItem(text=str(item["item"]), done=bool(item.get("done"))) for item in (value or []))


def stage_snapshot_from_row(row: Any, people: dict[int, PersonSummary]) -> StageSnapshot:
    return StageSnapshot(
        id=row.id,
        name=row.name,
        position=row.position,
        owner=people[row.owner_id],
        due_date=row.due_date,
        started_at=row.started_at,
        completed_at=row.completed_at,
        checklist=checklist_from_json(row.checklist),
        completion_note=row.completion_note,
        completed_by=row.completed_by,
    )


def stage_summary_from_row(row: Any, people: dict[int, PersonSummary]) -> StageSummary:
    # Positional unpacking: lists build thousands of these, and named access on a Row costs more.
    stage_id, _review_id, name, position, owner_id, due_date, completed_at = row[:7]
    return StageSummary(stage_id, name, position, people[owner_id], due_date, completed_at)
