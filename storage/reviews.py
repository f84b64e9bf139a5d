"""Reading and writing reviews, their stages and stakeholders.

Reads return frozen snapshots (:class:`ReviewSnapshot`), built with a fixed
number of queries however many reviews are asked for: one for the reviews,
one for their stages, one for their stakeholders and one for every person
they mention. No lazy loading, so nothing can run a query per row.

Writes happen inside a transaction opened by the review service
(``workflows/reviews.py``), which owns the rules; this module only knows the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, union
from sqlalchemy.engine import Connection
from sqlmodel import Session

from storage.db import Database
from storage.models import Person, Review, ReviewStage, ReviewStatus, Stakeholder

review_table: sa.Table = Review.__table__  # type: ignore[attr-defined]
stage_table: sa.Table = ReviewStage.__table__  # type: ignore[attr-defined]
stakeholder_table: sa.Table = Stakeholder.__table__  # type: ignore[attr-defined]
person_table: sa.Table = Person.__table__  # type: ignore[attr-defined]

# Keeps every IN (...) list well under SQLite's limit on bound parameters.
_CHUNK = 900

OPEN_ONLY = (ReviewStatus.OPEN.value,)


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


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
class StageSnapshot:
    id: int
    name: str
    position: int
    owner: PersonSummary
    due_date: date
    started_at: datetime | None
    completed_at: datetime | None
    checklist: tuple[ChecklistItem, ...]
    completion_note: str | None
    completed_by: str | None

    @property
    def is_complete(self) -> bool:
        return self.completed_at is not None

    @property
    def open_items(self) -> tuple[ChecklistItem, ...]:
        return tuple(item for item in self.checklist if not item.done)

    def is_overdue(self, today: date) -> bool:
        return not self.is_complete and self.due_date < today


@dataclass(frozen=True)
class StakeholderSummary:
    person: PersonSummary
    role: str | None


@dataclass(frozen=True)
class ReviewSnapshot:
    id: int
    title: str
    service: str
    outcomes: tuple[str, ...]
    level: str
    status: str
    status_reason: str | None
    lead_commissioner: PersonSummary
    portfolio_holder: PersonSummary
    stages: tuple[StageSnapshot, ...]
    stakeholders: tuple[StakeholderSummary, ...]
    created_by: str
    created_at: datetime
    updated_at: datetime
    version: int

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN.value

    @property
    def current_stage(self) -> StageSnapshot | None:
        """The first stage not yet done; None once every stage is done."""
        return next((stage for stage in self.stages if not stage.is_complete), None)

    def stage(self, name: str) -> StageSnapshot | None:
        wanted = name.strip().casefold()
        return next((stage for stage in self.stages if stage.name.casefold() == wanted), None)

    def overdue_stages(self, today: date) -> tuple[StageSnapshot, ...]:
        if not self.is_open:
            return ()
        return tuple(stage for stage in self.stages if stage.is_overdue(today))


@dataclass(frozen=True)
class OverdueStage:
    review_id: int
    review_title: str
    service: str
    lead_commissioner: PersonSummary
    stage: StageSnapshot
    days_overdue: int


def _checklist(value: Any) -> tuple[ChecklistItem, ...]:
    return tuple(ChecklistItem(text=str(item["item"]), done=bool(item.get("done"))) for item in (value or []))


def _stage_snapshot(row: Any, people: dict[int, PersonSummary]) -> StageSnapshot:
    return StageSnapshot(
        id=row.id,
        name=row.name,
        position=row.position,
        owner=people[row.owner_id],
        due_date=row.due_date,
        started_at=row.started_at,
        completed_at=row.completed_at,
        checklist=_checklist(row.checklist),
        completion_note=row.completion_note,
        completed_by=row.completed_by,
    )


def _people(connection: Connection, person_ids: Iterable[int]) -> dict[int, PersonSummary]:
    ids = sorted(set(person_ids))
    people: dict[int, PersonSummary] = {}
    for chunk in _chunks(ids):
        rows = connection.execute(
            select(person_table.c.id, person_table.c.name, person_table.c.email).where(person_table.c.id.in_(chunk))
        )
        for row in rows:
            people[row.id] = PersonSummary(id=row.id, name=row.name, email=row.email)
    return people


def load_snapshots(connection: Connection, review_ids: Sequence[int]) -> list[ReviewSnapshot]:
    """Snapshots of the given reviews, in the order given, in four queries per 900 reviews."""
    wanted = list(dict.fromkeys(review_ids))
    review_rows: dict[int, Any] = {}
    stage_rows: dict[int, list[Any]] = {review_id: [] for review_id in wanted}
    stakeholder_rows: dict[int, list[Any]] = {review_id: [] for review_id in wanted}
    for chunk in _chunks(wanted):
        for row in connection.execute(select(review_table).where(review_table.c.id.in_(chunk))):
            review_rows[row.id] = row
        for row in connection.execute(
            select(stage_table).where(stage_table.c.review_id.in_(chunk)).order_by(stage_table.c.position)
        ):
            stage_rows[row.review_id].append(row)
        for row in connection.execute(
            select(stakeholder_table).where(stakeholder_table.c.review_id.in_(chunk)).order_by(stakeholder_table.c.id)
        ):
            stakeholder_rows[row.review_id].append(row)

    person_ids: set[int] = set()
    for row in review_rows.values():
        person_ids.update((row.lead_commissioner_id, row.portfolio_holder_id))
    for rows in stage_rows.values():
        person_ids.update(row.owner_id for row in rows)
    for rows in stakeholder_rows.values():
        person_ids.update(row.person_id for row in rows)
    people = _people(connection, person_ids)

    snapshots = []
    for review_id in wanted:
        row = review_rows.get(review_id)
        if row is None:
            continue
        snapshots.append(
            ReviewSnapshot(
                id=row.id,
                title=row.title,
                service=row.service,
                outcomes=tuple(row.outcomes or ()),
                level=row.level,
                status=row.status,
                status_reason=row.status_reason,
                lead_commissioner=people[row.lead_commissioner_id],
                portfolio_holder=people[row.portfolio_holder_id],
                stages=tuple(_stage_snapshot(stage, people) for stage in stage_rows[review_id]),
                stakeholders=tuple(
                    StakeholderSummary(person=people[s.person_id], role=s.role) for s in stakeholder_rows[review_id]
                ),
                created_by=row.created_by,
                created_at=row.created_at,
                updated_at=row.updated_at,
                version=row.version,
            )
        )
    return snapshots


def _next_due(snapshot: ReviewSnapshot) -> tuple[int, date, int]:
    current = snapshot.current_stage
    if current is None:
        return (1, date.max, snapshot.id)
    return (0, current.due_date, snapshot.id)


class ReviewRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    # --- reading ---------------------------------------------------------------

    def get(self, review_id: int) -> ReviewSnapshot | None:
        with self._database.engine.connect() as connection:
            found = load_snapshots(connection, [review_id])
        return found[0] if found else None

    def get_many(self, review_ids: Sequence[int]) -> list[ReviewSnapshot]:
        with self._database.engine.connect() as connection:
            return load_snapshots(connection, review_ids)

    def find_by_title(self, title: str, service: str) -> list[ReviewSnapshot]:
        """Reviews with this title for this service, ignoring case and extra spaces."""
        statement = (
            select(review_table.c.id)
            .where(
                func.lower(review_table.c.service) == " ".join(service.split()).lower(),
                func.lower(review_table.c.title) == " ".join(title.split()).lower(),
            )
            .order_by(review_table.c.id)
        )
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(statement).scalars())
            return load_snapshots(connection, ids)

    def list_for_person(self, person_id: int, statuses: Sequence[str] | None = OPEN_ONLY) -> list[ReviewSnapshot]:
        """Reviews a person leads, holds the portfolio for, or owns a stage of; most urgent first."""
        def with_status(statement: sa.Select) -> sa.Select:
            return statement.where(review_table.c.status.in_(statuses)) if statuses else statement

        ids_statement = union(
            with_status(select(review_table.c.id).where(review_table.c.lead_commissioner_id == person_id)),
            with_status(select(review_table.c.id).where(review_table.c.portfolio_holder_id == person_id)),
            with_status(
                select(review_table.c.id)
                .join(stage_table, stage_table.c.review_id == review_table.c.id)
                .where(stage_table.c.owner_id == person_id)
            ),
        )
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(ids_statement).scalars())
            snapshots = load_snapshots(connection, ids)
        return sorted(snapshots, key=_next_due)

    def list_for_portfolio_holder(
        self, person_id: int, statuses: Sequence[str] | None = OPEN_ONLY
    ) -> list[ReviewSnapshot]:
        statement = select(review_table.c.id).where(review_table.c.portfolio_holder_id == person_id)
        if statuses:
            statement = statement.where(review_table.c.status.in_(statuses))
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(statement).scalars())
            snapshots = load_snapshots(connection, ids)
        return sorted(snapshots, key=_next_due)

    def list_all(self, statuses: Sequence[str] | None = None, limit: int | None = None) -> list[ReviewSnapshot]:
        statement = select(review_table.c.id).order_by(review_table.c.id)
        if statuses:
            statement = statement.where(review_table.c.status.in_(statuses))
        if limit is not None:
            statement = statement.limit(limit)
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(statement).scalars())
            return load_snapshots(connection, ids)

    def list_overdue(self, today: date, limit: int | None = None) -> list[OverdueStage]:
        """Unfinished stages of open reviews that were due before ``today``, longest overdue first."""
        statement = (
            select(
                stage_table,
                review_table.c.title.label("review_title"),
                review_table.c.service.label("review_service"),
                review_table.c.lead_commissioner_id.label("review_lead_id"),
            )
            .join(review_table, review_table.c.id == stage_table.c.review_id)
            .where(
                stage_table.c.completed_at.is_(None),
                stage_table.c.due_date < today,
                review_table.c.status == ReviewStatus.OPEN.value,
            )
            .order_by(stage_table.c.due_date, stage_table.c.review_id, stage_table.c.position)
        )
        if limit is not None:
            statement = statement.limit(limit)
        with self._database.engine.connect() as connection:
            rows = list(connection.execute(statement))
            people = _people(connection, [r.owner_id for r in rows] + [r.review_lead_id for r in rows])
        return [
            OverdueStage(
                review_id=row.review_id,
                review_title=row.review_title,
                service=row.review_service,
                lead_commissioner=people[row.review_lead_id],
                stage=_stage_snapshot(row, people),
                days_overdue=(today - row.due_date).days,
            )
            for row in rows
        ]

    def count(self, statuses: Sequence[str] | None = None) -> int:
        statement = select(func.count()).select_from(review_table)
        if statuses:
            statement = statement.where(review_table.c.status.in_(statuses))
        with self._database.engine.connect() as connection:
            return int(connection.execute(statement).scalar_one())

    # --- writing (inside the caller's transaction) ---------------------------------

    @staticmethod
    def lock_for_change(session: Session, review_id: int) -> tuple[Review, list[ReviewStage]] | None:
        """Load a review and its stages to change them.

        On PostgreSQL the review row is locked (SELECT ... FOR UPDATE) so a second
        change to the same review waits for this one; SQLite takes its write lock
        at the first UPDATE, and the version column catches anything in between.
        """
        from sqlmodel import select as orm_select

        review = session.exec(orm_select(Review).where(Review.id == review_id).with_for_update()).first()
        if review is None:
            return None
        stages = list(
            session.exec(
                orm_select(ReviewStage).where(ReviewStage.review_id == review_id).order_by(ReviewStage.position)  # type: ignore[arg-type]
            ).all()
        )
        return review, stages

    @staticmethod
    def insert_many(
        session: Session, reviews: Sequence[dict[str, Any]], stages: Sequence[Sequence[dict[str, Any]]],
        stakeholders: Sequence[Sequence[dict[str, Any]]] | None = None,
    ) -> list[int]:
        """Insert many reviews with their stages in a few statements; returns the new review ids in order.

        ``stages[i]`` (and ``stakeholders[i]``) belong to ``reviews[i]`` and must not name ``review_id``.
        """
        if not reviews:
            return []
        connection = session.connection()
        result = connection.execute(
            sa.insert(review_table).returning(review_table.c.id, sort_by_parameter_order=True),
            [dict(values, version=values.get("version", 1)) for values in reviews],
        )
        review_ids = [row.id for row in result]
        stage_values = [dict(stage, review_id=review_id) for review_id, group in zip(review_ids, stages) for stage in group]
        if stage_values:
            connection.execute(sa.insert(stage_table), stage_values)
        if stakeholders:
            stakeholder_values = [
                dict(item, review_id=review_id) for review_id, group in zip(review_ids, stakeholders) for item in group
            ]
            if stakeholder_values:
                connection.execute(sa.insert(stakeholder_table), stakeholder_values)
        return review_ids
