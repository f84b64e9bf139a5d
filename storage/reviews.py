"""Reading and writing reviews, their stages and stakeholders.

Reads return frozen snapshots (:class:`ReviewSnapshot` for one review,
:class:`ReviewSummary` for lists), built with a fixed
number of queries however many reviews are asked for: one for the reviews,
one for their stages, one for their stakeholders and one for every person
they mention. No lazy loading, so nothing can run a query per row.

Writes happen inside a transaction opened by the review service
(``workflows/reviews.py``), which owns the rules; this module only knows the SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, select, union
from sqlalchemy.engine import Connection
from sqlmodel import Session
from sqlmodel import select as orm_select

from storage.db import Database
from storage.models import Person, Review, ReviewStage, ReviewStatus, Stakeholder, review_title_key
from storage.review_snapshots import (
    ChecklistItem,
    OverdueStage,
    PersonSummary,
    ReviewSnapshot,
    ReviewSummary,
    StakeholderSummary,
    checklist_from_json,
    stage_snapshot_from_row,
    stage_summary_from_row,
)

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


def _people(connection: Connection, person_ids: Iterable[int]) -> dict[int, PersonSummary]:
    ids = sorted(set(person_ids))
    people: dict[int, PersonSummary] = {}
    for chunk in _chunks(ids):
        rows = connection.execute(
            select(person_table.c.id, person_table.c.name, person_table.c.email).where(person_table.c.id.in_(chunk))
        ).all()
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
        review = review_rows.get(review_id)
        if review is None:
            continue
        snapshots.append(
            ReviewSnapshot(
                id=review.id,
                title=review.title,
                service=review.service,
                outcomes=tuple(review.outcomes or ()),
                level=review.level,
                status=review.status,
                status_reason=review.status_reason,
                lead_commissioner=people[review.lead_commissioner_id],
                portfolio_holder=people[review.portfolio_holder_id],
                stages=tuple(stage_snapshot_from_row(stage, people) for stage in stage_rows[review_id]),
                stakeholders=tuple(
                    StakeholderSummary(person=people[s.person_id], role=s.role) for s in stakeholder_rows[review_id]
                ),
                created_by=review.created_by,
                created_at=review.created_at,
                updated_at=review.updated_at,
                version=review.version,
            )
        )
    return snapshots


_SUMMARY_REVIEW_COLUMNS = [
    review_table.c[name]
    for name in ("id", "title", "service", "level", "status", "lead_commissioner_id", "portfolio_holder_id", "version")
]
_SUMMARY_STAGE_COLUMNS = [
    stage_table.c[name] for name in ("id", "review_id", "name", "position", "owner_id", "due_date", "completed_at")
]


def load_summaries(connection: Connection, review_ids: Sequence[int] | sa.Select[Any]) -> list[ReviewSummary]:
    """Summaries of the given reviews in three queries (reviews, stages, people).

    ``review_ids`` is a list of ids (kept in that order) or a SELECT of ids, which
    lets the database pick the reviews and their stages without the ids coming
    back to Python first.
    """
    if isinstance(review_ids, sa.Select):
        id_query = review_ids.subquery()
        review_filter = review_table.c.id.in_(select(id_query.c[0]))
        stage_filter = stage_table.c.review_id.in_(select(id_query.c[0]))
        filters = [(review_filter, stage_filter)]
        wanted: list[int] | None = None
    else:
        wanted = list(dict.fromkeys(review_ids))
        filters = [(review_table.c.id.in_(chunk), stage_table.c.review_id.in_(chunk)) for chunk in _chunks(wanted)]
    review_rows: dict[int, Any] = {}
    stage_rows: dict[int, list[Any]] = {}
    for review_filter, stage_filter in filters:
        for row in connection.execute(select(*_SUMMARY_REVIEW_COLUMNS).where(review_filter)).all():
            review_rows[row.id] = row
            stage_rows[row.id] = []
        for row in connection.execute(
            select(*_SUMMARY_STAGE_COLUMNS)
            .where(stage_filter)
            .order_by(stage_table.c.review_id, stage_table.c.position)
        ).all():
            stage_rows[row[1]].append(row)
    person_ids: set[int] = set()
    for row in review_rows.values():
        person_ids.update((row.lead_commissioner_id, row.portfolio_holder_id))
    for rows in stage_rows.values():
        person_ids.update(row[4] for row in rows)
    people = _people(connection, person_ids)
    order = wanted if wanted is not None else sorted(review_rows)
    return [
        ReviewSummary(
            id=row.id,
            title=row.title,
            service=row.service,
            level=row.level,
            status=row.status,
            lead_commissioner=people[row.lead_commissioner_id],
            portfolio_holder=people[row.portfolio_holder_id],
            stages=tuple(stage_summary_from_row(stage, people) for stage in stage_rows[row.id]),
            version=row.version,
        )
        for row in (review_rows.get(review_id) for review_id in order)
        if row is not None
    ]


def _next_due(snapshot: ReviewSummary) -> tuple[int, date, int]:
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

    def checklists(self, stage_ids: Sequence[int]) -> dict[int, tuple[ChecklistItem, ...]]:
        """Each stage's checklist, by stage id, in one query per 900 stages (a reminder needs only this)."""
        found: dict[int, tuple[ChecklistItem, ...]] = {}
        with self._database.engine.connect() as connection:
            for chunk in _chunks(list(dict.fromkeys(stage_ids))):
                statement = select(stage_table.c.id, stage_table.c.checklist).where(stage_table.c.id.in_(chunk))
                found.update({row.id: checklist_from_json(row.checklist) for row in connection.execute(statement)})
        return found

    def find_by_title(self, title: str, service: str) -> list[ReviewSnapshot]:
        """Reviews with this title for this service, ignoring case and extra spaces."""
        statement = (
            select(review_table.c.id)
            .where(review_table.c.title_key == review_title_key(title, service))
            .order_by(review_table.c.id)
        )
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(statement).scalars())
            return load_snapshots(connection, ids)

    def list_for_person(self, person_id: int, statuses: Sequence[str] | None = OPEN_ONLY) -> list[ReviewSummary]:
        """Reviews a person leads, holds the portfolio for, or owns a stage of; most urgent first."""

        def with_status(statement: sa.Select[Any]) -> sa.Select[Any]:
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
            summaries = load_summaries(connection, select(ids_statement.subquery().c[0]))
        return sorted(summaries, key=_next_due)

    def list_for_portfolio_holder(
        self, person_id: int, statuses: Sequence[str] | None = OPEN_ONLY
    ) -> list[ReviewSummary]:
        statement = select(review_table.c.id).where(review_table.c.portfolio_holder_id == person_id)
        if statuses:
            statement = statement.where(review_table.c.status.in_(statuses))
        with self._database.engine.connect() as connection:
            summaries = load_summaries(connection, statement)
        return sorted(summaries, key=_next_due)

    def list_all(self, statuses: Sequence[str] | None = None, limit: int | None = None) -> list[ReviewSummary]:
        statement = select(review_table.c.id).order_by(review_table.c.id)
        if statuses:
            statement = statement.where(review_table.c.status.in_(statuses))
        if limit is not None:
            statement = statement.limit(limit)
        with self._database.engine.connect() as connection:
            ids = list(connection.execute(statement).scalars())
            return load_summaries(connection, ids)

    def list_overdue(self, today: date, limit: int | None = None) -> list[OverdueStage]:
        """Open reviews held up by a stage that was due before ``today``, longest overdue first.

        One row per review: its current stage (the first not yet done). Later stages
        whose dates have also passed are not listed, because their owners cannot act
        until the stage ahead of theirs is done.
        """
        earlier = stage_table.alias("earlier")
        owner = person_table.alias("owner")
        lead = person_table.alias("lead")
        earlier_unfinished = (
            select(earlier.c.id)
            .where(
                earlier.c.review_id == stage_table.c.review_id,
                earlier.c.position < stage_table.c.position,
                earlier.c.completed_at.is_(None),
            )
            .exists()
        )
        statement = (
            select(
                *_SUMMARY_STAGE_COLUMNS,
                review_table.c.title.label("review_title"),
                review_table.c.service.label("review_service"),
                lead.c.id.label("lead_id"),
                lead.c.name.label("lead_name"),
                lead.c.email.label("lead_email"),
                owner.c.name.label("owner_name"),
                owner.c.email.label("owner_email"),
            )
            .join(review_table, review_table.c.id == stage_table.c.review_id)
            .join(owner, owner.c.id == stage_table.c.owner_id)
            .join(lead, lead.c.id == review_table.c.lead_commissioner_id)
            .where(
                stage_table.c.completed_at.is_(None),
                stage_table.c.due_date < today,
                review_table.c.status == ReviewStatus.OPEN.value,
                ~earlier_unfinished,
            )
            .order_by(stage_table.c.due_date, stage_table.c.review_id)
        )
        if limit is not None:
            statement = statement.limit(limit)
        with self._database.engine.connect() as connection:
            rows = connection.execute(statement).all()
        people: dict[int, PersonSummary] = {}
        for row in rows:
            if row.owner_id not in people:
                people[row.owner_id] = PersonSummary(id=row.owner_id, name=row.owner_name, email=row.owner_email)
            if row.lead_id not in people:
                people[row.lead_id] = PersonSummary(id=row.lead_id, name=row.lead_name, email=row.lead_email)
        return [
            OverdueStage(
                review_id=row.review_id,
                review_title=row.review_title,
                service=row.review_service,
                lead_commissioner=people[row.lead_id],
                stage=stage_summary_from_row(row, people),
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
        session: Session,
        reviews: Sequence[dict[str, Any]],
        stages: Sequence[Sequence[dict[str, Any]]],
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
        stage_values = [
            dict(stage, review_id=review_id)
            for review_id, group in zip(review_ids, stages, strict=True)
            for stage in group
        ]
        if stage_values:
            connection.execute(sa.insert(stage_table), stage_values)
        if stakeholders:
            stakeholder_values = [
                dict(item, review_id=review_id)
                for review_id, group in zip(review_ids, stakeholders, strict=True)
                for item in group
            ]
            if stakeholder_values:
                connection.execute(sa.insert(stakeholder_table), stakeholder_values)
        return review_ids
