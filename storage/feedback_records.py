"""What storage/feedback.py returns: feedback rounds, who was asked, answers, and its two refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa

from storage.models import FeedbackRoundKind

__all__ = [
    "AlreadyAnswered",
    "InvitedPerson",
    "NotInvited",
    "ResponseRecord",
    "RoundRecord",
    "SavedResponse",
    "response_from_row",
    "round_from_row",
]


class AlreadyAnswered(Exception):
    """The person answered this round already and did not show the means to change that answer."""


class NotInvited(Exception):
    """The round was sent to named stakeholders and this person is not one of them."""


@dataclass(frozen=True)
class RoundRecord:
    id: int
    review_id: int
    kind: str
    question_set: str
    question_set_version: int
    questions: tuple[dict[str, Any], ...]
    closes_on: date | None
    requested_by: str
    requested_by_person_id: int | None

    @property
    def is_requested(self) -> bool:
        return self.kind == FeedbackRoundKind.REQUESTED.value


@dataclass(frozen=True)
class InvitedPerson:
    person_id: int
    name: str
    status: str


@dataclass(frozen=True)
class ResponseRecord:
    id: str
    round_id: int
    anonymous: bool
    person_id: int | None
    ratings: dict[str, int]
    answers: dict[str, str]
    answered_on: date | None


@dataclass(frozen=True)
class SavedResponse:
    response: ResponseRecord
    replaced: bool  # True when this changed an earlier answer


def round_from_row(row: sa.Row[Any]) -> RoundRecord:
    return RoundRecord(
        id=row.id,
        review_id=row.review_id,
        kind=row.kind,
        question_set=row.question_set,
        question_set_version=row.question_set_version,
        questions=tuple(row.questions or ()),
        closes_on=row.closes_on,
        requested_by=row.requested_by,
        requested_by_person_id=row.requested_by_person_id,
    )


def response_from_row(row: sa.Row[Any]) -> ResponseRecord:
    return ResponseRecord(
        id=row.id,
        round_id=row.round_id,
        anonymous=bool(row.anonymous),
        person_id=row.person_id,
        ratings={k: int(v) for k, v in (row.ratings or {}).items()},
        answers={k: str(v) for k, v in (row.answers or {}).items()},
        answered_on=row.answered_on,
    )
