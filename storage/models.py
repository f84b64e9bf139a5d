"""The database tables, as SQLModel classes.

Schema changes go through Alembic (``storage/migrations``): edit a model here,
then add a revision that makes the same change. The tests compare the two.
Tables that belong to one feature live beside its queries (``storage/events.py``,
``storage/nudges.py``); ``storage/tables.py`` gathers every table for Alembic.
"""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, json_column, timestamp_column, utc_now


class ReviewLevel(StrEnum):
    REGIONAL = "regional"
    STRATEGIC = "strategic"
    OPERATIONAL = "operational"
    INDIVIDUAL = "individual"


class ReviewStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    DECOMMISSIONED = "decommissioned"


class NotificationStatus(StrEnum):
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"


class FeedbackStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    EXPIRED = "expired"


# --- people ---------------------------------------------------------------


class Person(StorageModel, table=True):
    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    # Emails are stored lower-cased so that look-ups are case-insensitive on both databases.
    email: str | None = Field(default=None, max_length=320, unique=True)
    slack_user_id: str | None = Field(default=None, max_length=64, unique=True)
    # The Azure AD object id Teams gives us for the user.
    teams_user_id: str | None = Field(default=None, max_length=64, unique=True)
    # Service URL, conversation id and tenant: what a proactive Teams message needs.
    teams_conversation_ref: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    timezone: str = Field(default="Europe/London", max_length=64)
    # False once a platform tells us the person cannot be messaged (left, blocked the app).
    reachable: bool = Field(default=True)
    # Set when they leave (`people deactivate`, or `people erase`): kept for history, never offered or messaged.
    deactivated_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


class RoleAssignment(StorageModel, table=True):
    """Who holds a role such as "portfolio holder" for "housing", or "section 151 officer" (no scope)."""

    __tablename__ = "role_assignment"
    __table_args__ = (sa.UniqueConstraint("person_id", "role", "scope", name="uq_role_assignment_person_role_scope"),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    role: str = Field(max_length=100, index=True)
    scope: str = Field(default="", max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


# --- reviews --------------------------------------------------------------


def review_title_key(title: str, service: str) -> str:
    """What makes two reviews "the same title for the same service": Unicode-normalised, case-folded text with
    spaces collapsed, hashed to a fixed length for the index."""

    def fold(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).casefold().split())

    return hashlib.sha256(f"{fold(service)}\x1f{fold(title)}".encode()).hexdigest()


def _title_key_default(context: Any) -> str:
    parameters = context.get_current_parameters()
    return review_title_key(parameters.get("title") or "", parameters.get("service") or "")


class Review(StorageModel, table=True):
    __tablename__ = "review"
    __table_args__ = (
        sa.Index("ix_review_lead_status", "lead_commissioner_id", "status"),
        sa.Index("ix_review_portfolio_status", "portfolio_holder_id", "status"),
        sa.Index("ix_review_status", "status"),
        sa.Index("ix_review_service_title", "service", "title"),
        sa.Index("ix_review_title_key", "title_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=300)
    service: str = Field(max_length=200)
    outcomes: list[str] = Field(default_factory=list, sa_column=json_column())
    level: str = Field(max_length=20)
    lead_commissioner_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    portfolio_holder_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    status: str = Field(default=ReviewStatus.OPEN.value, max_length=20)
    status_reason: str | None = Field(default=None, max_length=2000)
    created_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    version: int = Field(default=1)
    # The same-title check looks this up (indexed) instead of comparing lower(title) row by row, and folds
    # case in Python so that "Ŵ" and "ŵ" match on SQLite exactly as on PostgreSQL.
    title_key: str = Field(
        default="", max_length=64, sa_column_kwargs={"default": _title_key_default, "server_default": ""}
    )

    @declared_attr  # type: ignore[arg-type]
    def __mapper_args__(cls) -> dict[str, Any]:
        # SQLAlchemy checks the version on every UPDATE and refuses a stale one, so two
        # people changing one review at once can never silently overwrite each other.
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class ReviewStage(StorageModel, table=True):
    __tablename__ = "review_stage"
    __table_args__ = (
        sa.UniqueConstraint("review_id", "position", name="uq_review_stage_review_position"),
        # "My reviews" finds stages by owner; "overdue" scans unfinished stages by due date.
        sa.Index("ix_review_stage_owner_due", "owner_id", "due_date"),
        sa.Index("ix_review_stage_open_due", "completed_at", "due_date"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE")
    name: str = Field(max_length=100)
    position: int
    owner_id: int = Field(foreign_key="person.id", ondelete="RESTRICT")
    due_date: date
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    completed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    # [{"item": "Evidence of need gathered", "done": false}, ...]
    checklist: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    completion_note: str | None = Field(default=None, max_length=2000)
    completed_by: str | None = Field(default=None, max_length=200)


class Stakeholder(StorageModel, table=True):
    __tablename__ = "stakeholder"
    __table_args__ = (sa.UniqueConstraint("review_id", "person_id", name="uq_stakeholder_review_person"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", index=True)
    role: str | None = Field(default=None, max_length=200)


# --- conversations ----------------------------------------------------------


class ConversationState(StorageModel, table=True):
    __tablename__ = "conversation_state"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, unique=True)
    flow: str = Field(max_length=100)
    step: str | None = Field(default=None, max_length=100)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    trail: list[str] = Field(default_factory=list, sa_column=json_column())
    started_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    version: int = Field(default=1)


# --- notifications (used by the nudges) --------------------------------------


class NotificationLedger(StorageModel, table=True):
    """One row per message we meant to send, so a restart or a second worker never sends it twice.

    ``dedupe_key`` joins review, stage, person, kind and period in one unique
    string: a plain composite unique constraint would let rows with no stage
    repeat, because SQL treats NULLs as distinct.
    """

    __tablename__ = "notification_ledger"
    __table_args__ = (sa.Index("ix_notification_ledger_person_status", "person_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    dedupe_key: str = Field(max_length=300, unique=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    stage_id: int | None = Field(default=None, foreign_key="review_stage.id", ondelete="CASCADE")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    kind: str = Field(max_length=50)
    period: str = Field(max_length=50)
    status: str = Field(default=NotificationStatus.CLAIMED.value, max_length=20)
    attempts: int = Field(default=0)
    claimed_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_error: str | None = Field(default=None, max_length=2000)


# --- feedback (workflows/feedback.py, storage/feedback.py) ---------------------
#
# A *round* is one request for feedback as the lead sees it (a review, a question
# set, a closing date). Each stakeholder asked gets a ``feedback_request`` row:
# that row is the only place that says "this person was asked / has answered",
# and it is what stops reminders and second answers. Responses hang off the
# round, never off a person's request row, so an anonymous response cannot be
# joined back to whoever gave it.


class FeedbackRoundKind(StrEnum):
    REQUESTED = "requested"  # a lead or stage owner asked named stakeholders
    UNSOLICITED = "unsolicited"  # anyone's feedback on a review, given from its card or the App Home


class FeedbackRound(StorageModel, table=True):
    __tablename__ = "feedback_round"
    __table_args__ = (sa.Index("ix_feedback_round_review_kind", "review_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE")
    kind: str = Field(default=FeedbackRoundKind.REQUESTED.value, max_length=20)
    question_set: str = Field(max_length=100)
    question_set_version: int
    # The questions as asked: old responses keep their wording whatever the configuration says later.
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    # The last day answers are taken (inclusive, in the council's timezone); None for unsolicited feedback.
    closes_on: date | None = Field(default=None)
    requested_by: str = Field(max_length=200)
    requested_by_person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())


class FeedbackRequest(StorageModel, table=True):
    """One stakeholder asked in one round; ``status`` becomes "answered" once they answer (named or not)."""

    __tablename__ = "feedback_request"
    __table_args__ = (
        sa.Index("ix_feedback_request_person_status", "person_id", "status"),
        sa.UniqueConstraint("round_id", "person_id", name="uq_feedback_request_round_person"),
    )

    id: int | None = Field(default=None, primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    stage_id: int | None = Field(default=None, foreign_key="review_stage.id", ondelete="SET NULL")
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE")
    question: str = Field(max_length=2000)
    status: str = Field(default=FeedbackStatus.OPEN.value, max_length=20)
    requested_by: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    due_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    round_id: int | None = Field(default=None, foreign_key="feedback_round.id", ondelete="CASCADE")


class FeedbackResponse(StorageModel, table=True):
    """One answer to a round. An anonymous one has no person, no time and no link to a request row.

    The id is random rather than a sequence, so the order of rows says nothing about who answered when.
    ``edit_token_hash`` is the SHA-256 of a random secret handed only to the person who answered
    anonymously (inside their form's hidden data); showing it again is the only way to change the answer.
    """

    __tablename__ = "feedback_response"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "person_id", name="uq_feedback_response_round_person"),
        sa.Index("ix_feedback_response_round_id", "round_id"),
    )

    id: str = Field(primary_key=True, max_length=32)
    round_id: int = Field(foreign_key="feedback_round.id", ondelete="CASCADE")
    anonymous: bool = Field(default=False)
    # None when anonymous. Named answers keep the person so they can be shown and edited.
    person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="CASCADE")
    # {"outcomes": 4, ...}: 1 (very poor) to 5 (very good) per rating question.
    ratings: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # {"what_worked": "...", ...} per free-text question.
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    edit_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    # The day a named answer was last given; None for anonymous answers (a time could single someone out).
    answered_on: date | None = Field(default=None)


# --- audit ---------------------------------------------------------------------


class AuditEntry(StorageModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        sa.Index("ix_audit_log_entity", "entity_type", "entity_id"),
        sa.Index("ix_audit_log_review_at", "review_id", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now, sa_column=timestamp_column())
    actor: str = Field(max_length=200)
    # Set when the actor is a known person; None for operators and the system.
    actor_person_id: int | None = Field(default=None, foreign_key="person.id", ondelete="SET NULL")
    action: str = Field(max_length=100)
    entity_type: str = Field(max_length=50)
    entity_id: int
    # Lets a review's whole history (its stages included) be read with one indexed query.
    # Not a foreign key: the history must outlive a deleted review.
    review_id: int | None = Field(default=None)
    before: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
