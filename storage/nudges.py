"""What the nudges keep in the database besides the notification ledger.

- :class:`StageSnooze`: "Snooze 2 working days" on a reminder, one row per
  (stage, person). A table of its own rather than a column on the stage,
  because a snooze belongs to one person (the owner snoozing their reminder
  must not silence the lead commissioner's escalation) and the policy needs
  every live snooze in one cheap query per sweep. Each snooze is also written
  to the audit log by the action that made it.
- :data:`scheduler_jobs_table`: APScheduler's job store table, declared here
  so the Alembic migrations create it and the schema tests see it; the
  scheduler's ``SQLAlchemyJobStore`` reads and writes the same columns.
- :class:`NudgeStore`: the few queries a sweep needs: live snoozes, the
  ledger's state for the keys a sweep is about to send, and the feedback
  still waiting per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, utc_now
from storage.db import Database
from storage.models import (
    FeedbackRequest,
    FeedbackStatus,
    NotificationLedger,
    Person,
    Review,
)

__all__ = ["StageSnooze", "NudgeStore", "SCHEDULER_JOBS_TABLE", "scheduler_jobs_table", "LedgerState"]

SCHEDULER_JOBS_TABLE = "apscheduler_jobs"
_CHUNK = 900


class StageSnooze(StorageModel, table=True):
    __tablename__ = "stage_snooze"

    stage_id: int = Field(foreign_key="review_stage.id", ondelete="CASCADE", primary_key=True)
    person_id: int = Field(foreign_key="person.id", ondelete="CASCADE", primary_key=True)
    review_id: int = Field(foreign_key="review.id", ondelete="CASCADE", index=True)
    # Reminders to this person about this stage wait until this day (their own local date).
    until: date
    snoozed_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False))


# The same columns APScheduler 3's SQLAlchemyJobStore declares (id, next_run_time, job_state).
scheduler_jobs_table = sa.Table(
    SCHEDULER_JOBS_TABLE,
    StorageModel.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Double(), index=True),
    sa.Column("job_state", sa.LargeBinary(), nullable=False),
)

_snooze: sa.Table = StageSnooze.__table__  # type: ignore[attr-defined]
_ledger: sa.Table = NotificationLedger.__table__  # type: ignore[attr-defined]
_feedback: sa.Table = FeedbackRequest.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class LedgerState:
    status: str
    attempts: int
    claimed_at: datetime
    last_error: str | None


class NudgeStore:
    def __init__(self, database: Database) -> None:
        self._database = database

    # --- snoozes ------------------------------------------------------------------------

    def snoozes(self) -> dict[tuple[int, int], date]:
        """Every snooze: (stage id, person id) -> the day reminders resume. Rows go with their stage."""
        with self._database.engine.connect() as connection:
            rows = connection.execute(sa.select(_snooze.c.stage_id, _snooze.c.person_id, _snooze.c.until)).all()
        return {(row.stage_id, row.person_id): row.until for row in rows}

    @staticmethod
    def save_snooze(
        connection: sa.Connection, *, review_id: int, stage_id: int, person_id: int, until: date, at: datetime
    ) -> date | None:
        """Record (or move) a snooze inside the caller's transaction; returns the previous end, if any."""
        previous = connection.execute(
            sa.select(_snooze.c.until).where(_snooze.c.stage_id == stage_id, _snooze.c.person_id == person_id)
        ).scalar()
        if previous is None:
            connection.execute(
                sa.insert(_snooze).values(
                    stage_id=stage_id, person_id=person_id, review_id=review_id, until=until, snoozed_at=at
                )
            )
        else:
            connection.execute(
                sa.update(_snooze)
                .where(_snooze.c.stage_id == stage_id, _snooze.c.person_id == person_id)
                .values(until=until, snoozed_at=at)
            )
        return previous

    def snooze_of(self, stage_id: int, person_id: int) -> date | None:
        with self._database.engine.connect() as connection:
            return connection.execute(
                sa.select(_snooze.c.until).where(_snooze.c.stage_id == stage_id, _snooze.c.person_id == person_id)
            ).scalar()

    # --- the ledger, in bulk ------------------------------------------------------------

    def ledger_states(self, keys: Sequence[str]) -> dict[str, LedgerState]:
        """The ledger rows for these keys, in a query per 900, so planning never asks row by row."""
        found: dict[str, LedgerState] = {}
        wanted = list(dict.fromkeys(keys))
        with self._database.engine.connect() as connection:
            for start in range(0, len(wanted), _CHUNK):
                chunk = wanted[start : start + _CHUNK]
                rows = connection.execute(
                    sa.select(
                        _ledger.c.dedupe_key,
                        _ledger.c.status,
                        _ledger.c.attempts,
                        _ledger.c.claimed_at,
                        _ledger.c.last_error,
                    ).where(_ledger.c.dedupe_key.in_(chunk))
                ).all()
                for row in rows:
                    found[row.dedupe_key] = LedgerState(row.status, row.attempts, row.claimed_at, row.last_error)
        return found

    # --- people and feedback ------------------------------------------------------------

    def people(self, person_ids: Iterable[int]) -> dict[int, Person]:
        ids = sorted(set(person_ids))
        found: dict[int, Person] = {}
        with self._database.session() as session:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                for person in session.exec(sa.select(Person).where(Person.id.in_(chunk))).scalars():  # type: ignore[call-overload,union-attr]
                    found[person.id] = person
        return found

    def feedback_waiting(self, person_ids: Iterable[int]) -> dict[int, int]:
        """Open feedback requests addressed to each person (what a digest calls "feedback waiting")."""
        ids = sorted(set(person_ids))
        counts: dict[int, int] = {}
        with self._database.engine.connect() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = connection.execute(
                    sa.select(_feedback.c.person_id, sa.func.count())
                    .where(_feedback.c.person_id.in_(chunk), _feedback.c.status == FeedbackStatus.OPEN.value)
                    .group_by(_feedback.c.person_id)
                ).all()
                counts.update({row[0]: int(row[1]) for row in rows})
        return counts

    def anchor_reviews(self, person_ids: Iterable[int]) -> dict[int, int]:
        """Each portfolio holder's first review (any status), which a weekly digest's ledger row hangs on.

        The ledger needs a review for every row; the lowest id of any status never changes
        within a week, so the digest's key stays the same however reviews open and close.
        """
        review = Review.__table__  # type: ignore[attr-defined]
        ids = sorted(set(person_ids))
        found: dict[int, int] = {}
        with self._database.engine.connect() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = connection.execute(
                    sa.select(review.c.portfolio_holder_id, sa.func.min(review.c.id))
                    .where(review.c.portfolio_holder_id.in_(chunk))
                    .group_by(review.c.portfolio_holder_id)
                ).all()
                found.update({row[0]: int(row[1]) for row in rows})
        return found
