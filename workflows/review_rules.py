"""What a commissioning review is made of before it is saved, and the rules any review must meet.

The limits of each field, the levels, who is acting (:class:`Actor`), the drafts a conversation, a form or an
import builds (:class:`ReviewDraft`), every problem with a draft in words for the officer
(:func:`draft_problems`), and the errors the review service raises (:class:`ReviewError`: ``str(error)``
is written for a council officer).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from storage.models import ReviewLevel, ReviewStatus
from storage.review_snapshots import ReviewSnapshot, StageSnapshot
from workflows.cycle import CycleConfig

__all__ = [
    "LEVELS",
    "MAX_OUTCOME",
    "MAX_OUTCOMES",
    "MAX_REASON",
    "MAX_SERVICE",
    "MAX_STAKEHOLDERS",
    "MAX_TITLE",
    "Actor",
    "ConcurrentChangeError",
    "DuplicateReviewError",
    "NotAllowedError",
    "ReviewDraft",
    "ReviewError",
    "ReviewNotFoundError",
    "StageDraft",
    "draft_problems",
    "draft_rows",
    "format_day",
    "status_text",
    "tidy",
]

MAX_TITLE = 300
MAX_SERVICE = 200
MAX_OUTCOME = 500
MAX_OUTCOMES = 20
MAX_REASON = 2000
MAX_STAKEHOLDERS = 50
LEVELS = tuple(level.value for level in ReviewLevel)


class ReviewError(Exception):
    """Something a user asked for cannot be done; ``str(error)`` is written for them."""


class ReviewNotFoundError(ReviewError):
    pass


class NotAllowedError(ReviewError):
    pass


class DuplicateReviewError(ReviewError):
    """A review with the same title already exists for the service; ask before creating another."""

    def __init__(self, message: str, existing: Sequence[ReviewSnapshot]) -> None:
        super().__init__(message)
        self.existing = list(existing)


class ConcurrentChangeError(ReviewError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a known person, or an operator/system task with no person behind it."""

    label: str
    person_id: int | None = None

    def __post_init__(self) -> None:
        # The label is stored in 200-character columns (audit log, created_by, completed_by).
        label = " ".join(str(self.label).split()) or "unknown"
        object.__setattr__(self, "label", label if len(label) <= 200 else label[:197] + "...")

    @classmethod
    def person(cls, person_id: int, name: str | None = None) -> Actor:
        return cls(label=f"{name} (person {person_id})" if name else f"person {person_id}", person_id=person_id)

    @classmethod
    def system(cls, task: str) -> Actor:
        return cls(label=task, person_id=None)

    @property
    def is_system(self) -> bool:
        return self.person_id is None


@dataclass
class StageDraft:
    name: str
    owner_id: int
    due: date


@dataclass
class ReviewDraft:
    title: str
    service: str
    outcomes: list[str]
    level: str
    lead_commissioner_id: int
    portfolio_holder_id: int
    stages: list[StageDraft]
    stakeholder_ids: list[int] = field(default_factory=list)


# Control characters (C0, DEL, C1): PostgreSQL refuses NUL in text, and a terminal obeys escape codes.
_CONTROL_CHARACTERS = re.compile("[\x00-\x1f\x7f-\x9f]")


def tidy(text: str) -> str:
    """Text as a review stores it: control characters removed, whitespace collapsed (tabs and line breaks
    become single spaces)."""
    return " ".join(_CONTROL_CHARACTERS.sub(lambda m: " " if m.group().isspace() else "", str(text)).split())


def format_day(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _naming_problems(draft: ReviewDraft) -> list[str]:
    problems = []
    title, service = tidy(draft.title), tidy(draft.service)
    if not title:
        problems.append("The review needs a title.")
    elif len(title) > MAX_TITLE:
        problems.append(f"The title is {len(title)} characters long; please keep it under {MAX_TITLE}.")
    if not service:
        problems.append("Say which service is under review.")
    elif len(service) > MAX_SERVICE:
        problems.append(f"The service name is {len(service)} characters long; please keep it under {MAX_SERVICE}.")
    return problems


def _outcome_problems(draft: ReviewDraft, *, required: bool) -> list[str]:
    problems = []
    outcomes = [tidy(outcome) for outcome in draft.outcomes if tidy(outcome)]
    if not outcomes and required:
        problems.append("Name at least one outcome wanted for residents.")
    if len(outcomes) > MAX_OUTCOMES:
        problems.append(f"That is {len(outcomes)} outcomes; please keep to the {MAX_OUTCOMES} that matter most.")
    too_long = next((outcome for outcome in outcomes if len(outcome) > MAX_OUTCOME), None)
    if too_long is not None:
        problems.append(f"An outcome is {len(too_long)} characters long; please keep each under {MAX_OUTCOME}.")
    return problems


def _stage_problems(draft: ReviewDraft, cycle: CycleConfig) -> list[str]:
    problems = []
    expected = list(cycle.stage_names)
    given = [tidy(stage.name) for stage in draft.stages]
    if [name.casefold() for name in given] != [name.casefold() for name in expected]:
        problems.append(f"The stages must be {', '.join(expected)}, in that order (got {', '.join(given) or 'none'}).")
    for ahead, stage in zip(draft.stages, draft.stages[1:], strict=False):
        if stage.due < ahead.due:
            problems.append(
                f"{tidy(stage.name)} is due on {format_day(stage.due)}, before the stage ahead of it "
                f"({format_day(ahead.due)})."
            )
    return problems


def draft_problems(draft: ReviewDraft, cycle: CycleConfig, *, require_outcomes: bool = True) -> list[str]:
    """Everything wrong with a draft on its own (its people are checked against the people list by the
    service), as sentences for the officer; empty when it can be saved."""
    problems = _naming_problems(draft) + _outcome_problems(draft, required=require_outcomes)
    if tidy(draft.level).lower() not in LEVELS:
        problems.append(f"The level must be one of: {', '.join(LEVELS)} (not {draft.level!r}).")
    problems += _stage_problems(draft, cycle)
    if len(draft.stakeholder_ids) > MAX_STAKEHOLDERS:
        problems.append(f"That is {len(draft.stakeholder_ids)} stakeholders; at most {MAX_STAKEHOLDERS} can be added.")
    return problems


def _stage_state(stage: StageSnapshot, current: StageSnapshot | None, today: date) -> str:
    if stage.is_complete:
        return "done"
    if stage is current:
        return "overdue" if stage.is_overdue(today) else "in progress"
    return "not started"


def status_text(review: ReviewSnapshot, today: date) -> str:
    """A few lines on where a review stands, for a chat reply or the terminal."""
    lines = [
        f"#{review.id} {review.title} ({review.service}) - {review.status}",
        f"Lead commissioner: {review.lead_commissioner.name}. Portfolio holder: {review.portfolio_holder.name}.",
    ]
    current = review.current_stage
    for stage in review.stages:
        ticked = sum(1 for item in stage.checklist if item.done)
        lines.append(
            f"  {stage.position + 1}. {stage.name}: {_stage_state(stage, current, today)}, owner {stage.owner.name}, "
            f"due {format_day(stage.due_date)}, checklist {ticked}/{len(stage.checklist)}"
        )
    if review.is_open and current is None:
        lines.append("Every stage is done; the review can be closed.")
    return "\n".join(lines)


Row = dict[str, Any]


def draft_rows(
    draft: ReviewDraft, cycle: CycleConfig, created_by: str, now: datetime
) -> tuple[Row, list[Row], list[Row]]:
    """A checked draft as the rows to insert: the review, its stages (the first started now, each with the
    cycle's checklist) and its stakeholders."""
    review = {
        "title": tidy(draft.title),
        "service": tidy(draft.service),
        "outcomes": [tidy(outcome) for outcome in draft.outcomes if tidy(outcome)],
        "level": tidy(draft.level).lower(),
        "lead_commissioner_id": draft.lead_commissioner_id,
        "portfolio_holder_id": draft.portfolio_holder_id,
        "status": ReviewStatus.OPEN.value,
        "status_reason": None,
        "created_by": created_by,
        "created_at": now,
        "updated_at": now,
        "version": 1,
    }
    stages = [
        {
            "name": definition.name,
            "position": position,
            "owner_id": stage.owner_id,
            "due_date": stage.due,
            "started_at": now if position == 0 else None,
            "completed_at": None,
            "checklist": [{"item": item, "done": False} for item in definition.checklist],
            "completion_note": None,
            "completed_by": None,
        }
        for position, (stage, definition) in enumerate(zip(draft.stages, cycle.stages, strict=False))
    ]
    stakeholders = [{"person_id": person_id, "role": None} for person_id in dict.fromkeys(draft.stakeholder_ids)]
    return review, stages, stakeholders
