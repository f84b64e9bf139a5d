"""The durable work queue: everything the assistant must still do after it has told a platform "got it".

A platform's request is acknowledged only once its work is a row here (:meth:`WorkQueue.enqueue`: one
``INSERT ... ON CONFLICT DO NOTHING`` on the platform's own id, so a retried event adds nothing). Workers
in any process :meth:`~WorkQueue.claim` a row with a lease; a row whose lease ran out (its worker died)
is claimed again by whoever is alive. Rows are claimed oldest first, never two at once from one channel
(so a thread's answers keep their order and pacing holds), and never before ``not_before``: pacing and
``Retry-After`` are rows waiting in the database, not threads asleep.

Every change after the claim names the claim (owner and attempt number), so a worker whose lease was
taken over cannot overwrite the new claimer's work.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, json_column, utc_now
from storage.db import Database

__all__ = ["ClaimedWork", "WorkItem", "WorkQueue", "WorkState", "pending_work", "work_queue_depth"]

MAX_KEY = 255
MAX_ERROR = 300


class WorkState(StrEnum):
    READY = "ready"
    LEASED = "leased"
    DONE = "done"
    FAILED = "failed"


class WorkItem(StorageModel, table=True):
    __tablename__ = "work_item"
    __table_args__ = (sa.Index("ix_work_item_state_not_before", "state", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    channel_key: str = Field(max_length=MAX_KEY, index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    # What has been worked out and sent so far, so a retry neither works it out again nor sends it twice.
    progress: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    state: str = Field(default=WorkState.READY.value, max_length=12)
    owner: str | None = Field(default=None, max_length=120)
    lease_until: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    attempts: int = Field(default=0)
    not_before: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    dedup_key: str = Field(max_length=MAX_KEY, unique=True)
    created_at: datetime = Field(sa_column=Column(UtcDateTime(), nullable=False))
    done_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    last_error: str | None = Field(default=None, max_length=MAX_ERROR)


_table: sa.Table = WorkItem.__table__  # type: ignore[attr-defined]


class _JsonText(sa.types.TypeDecorator[str]):
    """JSON already written as text, cast to ``json`` by PostgreSQL (SQLite keeps JSON as text anyway)."""

    impl = sa.String
    cache_ok = True

    def bind_expression(self, bindvalue: Any) -> Any:
        return sa.cast(bindvalue, postgresql.JSON)


# The same table for bulk inserts: the payload goes in as JSON text already written, so thousands of rows do not
# each pass through the JSON type's processing.
_bulk = sa.table(
    "work_item",
    sa.column("kind", sa.String),
    sa.column("channel_key", sa.String),
    sa.column("payload", sa.String().with_variant(_JsonText(), "postgresql")),
    sa.column("progress", sa.String),
    sa.column("state", sa.String),
    sa.column("owner", sa.String),
    sa.column("lease_until", UtcDateTime()),
    sa.column("attempts", sa.Integer),
    sa.column("not_before", UtcDateTime()),
    sa.column("dedup_key", sa.String),
    sa.column("created_at", UtcDateTime()),
    sa.column("done_at", UtcDateTime()),
    sa.column("last_error", sa.String),
)

_sqlite_locks: dict[str, threading.Lock] = {}
_sqlite_locks_guard = threading.Lock()


def _write_lock(database: Database) -> AbstractContextManager[Any]:
    """SQLite lets one writer in at a time and makes the rest back off and sleep; taking turns on a lock in this
    process hands the turn over at once (other processes still rely on SQLite's busy timeout)."""
    if database.dialect != "sqlite":
        return nullcontext()
    url = database.engine.url.render_as_string(hide_password=True)
    with _sqlite_locks_guard:
        return _sqlite_locks.setdefault(url, threading.Lock())


def _new_row(kind: str, channel_key: str, payload: Any, dedup_key: str, now: datetime) -> dict[str, Any]:
    """A new piece of work, ready now (``payload`` as the statement takes it: a mapping or JSON text)."""
    return {
        "kind": kind,
        "channel_key": channel_key[:MAX_KEY],
        "payload": payload,
        "state": WorkState.READY.value,
        "attempts": 0,
        "not_before": now,
        "dedup_key": dedup_key[:MAX_KEY],
        "created_at": now,
    }


@dataclass(frozen=True)
class ClaimedWork:
    id: int
    kind: str
    channel_key: str
    payload: dict[str, Any]
    progress: dict[str, Any]
    attempts: int  # this claim's number, 1 for the first
    owner: str
    created_at: datetime


class WorkQueue:
    def __init__(self, database: Database, clock: Any = utc_now) -> None:
        self._database = database
        self._clock = clock
        self._lock = _write_lock(database)

    @property
    def database(self) -> Database:
        return self._database

    # --- adding --------------------------------------------------------------------------------

    def enqueue(self, kind: str, channel_key: str, payload: Mapping[str, Any], dedup_key: str) -> int | None:
        """Store one piece of work; its id, or None when work with this ``dedup_key`` is already stored.

        One statement, so it fits inside a platform's acknowledgement budget, and two processes racing with
        the same retried event cannot both add it.
        """
        values = _new_row(kind, channel_key, dict(payload), dedup_key, self._clock())
        insert = self._database.insert(_table).values(**values)
        # RETURNING rather than rowcount: drivers disagree on rowcount for a skipped conflict.
        statement = insert.on_conflict_do_nothing(index_elements=["dedup_key"]).returning(_table.c.id)
        with self._lock, self._database.engine.begin() as connection:
            row = connection.execute(statement).first()
        return int(row[0]) if row is not None else None

    def writing(self) -> AbstractContextManager[sa.Connection]:
        """One transaction that may also write other tables (e.g. a ledger claim with the work it creates), taking
        this process's turn to write on SQLite first. Pass its connection to :meth:`enqueue_many`."""
        return _Writing(self)

    def enqueue_many(
        self,
        items: Sequence[tuple[str, str, Mapping[str, Any], str]],
        connection: sa.Connection,
        *,
        revive_finished: bool = False,
    ) -> None:
        """Store many pieces of work (kind, channel key, payload, dedup key) in one multi-row
        ``INSERT ... ON CONFLICT DO NOTHING``, inside the caller's transaction (see :meth:`writing`).

        ``revive_finished``: a row with the same dedup key that is done or failed is made ready again with the new
        payload (the same message tried again); one still waiting or leased is left as it is.
        """
        if not items:
            return
        now = self._clock()
        rows = [
            # The payload written as JSON here, once: thousands of rows go through one statement.
            _new_row(kind, channel_key, json.dumps(payload, separators=(",", ":")), dedup_key, now)
            for kind, channel_key, payload, dedup_key in items
        ]
        insert = self._database.insert(_bulk)
        if revive_finished:
            statement = insert.on_conflict_do_update(
                index_elements=["dedup_key"],
                set_={
                    "kind": insert.excluded.kind,
                    "channel_key": insert.excluded.channel_key,
                    "payload": insert.excluded.payload,
                    "progress": sa.null(),
                    "state": insert.excluded.state,
                    "owner": sa.null(),
                    "lease_until": sa.null(),
                    "attempts": insert.excluded.attempts,
                    "not_before": insert.excluded.not_before,
                    "done_at": sa.null(),
                    "last_error": sa.null(),
                },
                where=(_bulk.c.state == sa.literal_column(f"'{WorkState.DONE.value}'"))
                | (_bulk.c.state == sa.literal_column(f"'{WorkState.FAILED.value}'")),
            )
        else:
            statement = insert.on_conflict_do_nothing(index_elements=["dedup_key"])
        connection.execute(statement, rows)

    # --- claiming -----------------------------------------------------------------------------

    def claim(self, owner: str, lease: timedelta, kinds: Sequence[str] | None = None) -> ClaimedWork | None:
        """Lease the oldest piece of work that may run now, or None.

        Work may run when it is ready (or its lease has run out) and its ``not_before`` has passed, and no
        other work in its channel is leased: one conversation's replies go out one at a time, in order.
        On PostgreSQL the candidate row is locked with SKIP LOCKED, so replicas claiming at the same moment
        take different rows instead of queueing on one; SQLite lets one writer in at a time anyway.
        """
        now = self._clock()
        t = _table
        busy = sa.select(t.c.channel_key).where((t.c.state == WorkState.LEASED.value) & (t.c.lease_until > now))
        runnable = (
            (t.c.state == WorkState.READY.value) | ((t.c.state == WorkState.LEASED.value) & (t.c.lease_until <= now))
        ) & (t.c.not_before <= now)
        candidate = sa.select(t.c.id).where(runnable & t.c.channel_key.not_in(busy))
        if kinds is not None:
            candidate = candidate.where(t.c.kind.in_(list(kinds)))
        candidate = candidate.order_by(t.c.id).limit(1)
        if self._database.is_postgres:
            candidate = candidate.with_for_update(skip_locked=True)
        statement = (
            t.update()
            .where(t.c.id == candidate.scalar_subquery())
            .values(state=WorkState.LEASED.value, owner=owner, lease_until=now + lease, attempts=t.c.attempts + 1)
            .returning(t.c.id, t.c.kind, t.c.channel_key, t.c.payload, t.c.progress, t.c.attempts, t.c.created_at)
        )
        with self._lock, self._database.engine.begin() as connection:
            row = connection.execute(statement).first()
        if row is None:
            return None
        return ClaimedWork(
            id=row.id,
            kind=row.kind,
            channel_key=row.channel_key,
            payload=dict(row.payload or {}),
            progress=dict(row.progress or {}),
            attempts=int(row.attempts),
            owner=owner,
            created_at=row.created_at,
        )

    def _mine(self, work: ClaimedWork) -> sa.ColumnElement[bool]:
        t = _table
        return (
            (t.c.id == work.id)
            & (t.c.owner == work.owner)
            & (t.c.attempts == work.attempts)
            & (t.c.state == WorkState.LEASED.value)
        )

    def _update(self, condition: sa.ColumnElement[bool], **values: Any) -> int:
        with self._lock, self._database.engine.begin() as connection:
            return int(connection.execute(_table.update().where(condition).values(**values)).rowcount or 0)

    # --- after the claim ----------------------------------------------------------------------

    def save_progress(self, work: ClaimedWork, progress: Mapping[str, Any]) -> bool:
        """Record how far this claim got; False when the claim was lost (the lease ran out and was taken)."""
        return self._update(self._mine(work), progress=dict(progress)) == 1

    def complete(
        self, work: ClaimedWork, progress: Mapping[str, Any] | None = None, payload: Mapping[str, Any] | None = None
    ) -> bool:
        """Mark the work done; ``payload``/``progress`` replace what is kept of it (e.g. less than was needed)."""
        values: dict[str, Any] = {"state": WorkState.DONE.value, "done_at": self._clock(), "lease_until": None}
        if progress is not None:
            values["progress"] = dict(progress)
        if payload is not None:
            values["payload"] = dict(payload)
        return self._update(self._mine(work), **values) == 1

    def release(
        self, work: ClaimedWork, not_before: datetime, error: str | None = None, *, was_attempt: bool = True
    ) -> bool:
        """Put the work back to be claimed again at ``not_before`` (a paced channel, ``Retry-After``, a retry).

        ``was_attempt=False`` (waiting its turn, or ``Retry-After``) does not count the claim as an attempt, so
        waiting never uses up the tries a failing piece of work is allowed."""
        values: dict[str, Any] = {"state": WorkState.READY.value, "lease_until": None, "not_before": not_before}
        if not was_attempt:
            values["attempts"] = _table.c.attempts - 1
        if error is not None:
            values["last_error"] = error[:MAX_ERROR]
        return self._update(self._mine(work), **values) == 1

    def forget(self, work: ClaimedWork) -> bool:
        """Delete finished work outright (it carried something that must not outlive its delivery)."""
        with self._lock, self._database.engine.begin() as connection:
            return int(connection.execute(_table.delete().where(self._mine(work))).rowcount or 0) == 1

    def fail(self, work: ClaimedWork, error: str, payload: Mapping[str, Any] | None = None) -> bool:
        """Give up on the work for good (kept, with the reason, for an operator to see; ``payload`` replaces
        what is kept of it)."""
        values: dict[str, Any] = {
            "state": WorkState.FAILED.value,
            "done_at": self._clock(),
            "lease_until": None,
            "last_error": error[:MAX_ERROR],
        }
        if payload is not None:
            values.update(payload=dict(payload), progress={})
        return self._update(self._mine(work), **values) == 1

    def hold_channel(self, channel_key: str, not_before: datetime) -> int:
        """Nothing else in this channel before ``not_before`` (the platform said to wait); other channels
        are not affected. Returns how many waiting rows were held."""
        t = _table
        condition = (
            (t.c.channel_key == channel_key) & (t.c.state == WorkState.READY.value) & (t.c.not_before < not_before)
        )
        return self._update(condition, not_before=not_before)

    def renew(self, owner: str, ids: Sequence[int], lease: timedelta) -> int:
        """Extend this owner's leases on work still being done (a slow answer must not be taken over)."""
        if not ids:
            return 0
        t = _table
        condition = (t.c.id.in_(list(ids))) & (t.c.owner == owner) & (t.c.state == WorkState.LEASED.value)
        return self._update(condition, lease_until=self._clock() + lease)

    def release_owner(self, owner: str) -> int:
        """Hand back every lease this owner still holds (a process stopping), to be claimed again at once."""
        t = _table
        condition = (t.c.owner == owner) & (t.c.state == WorkState.LEASED.value)
        return self._update(condition, state=WorkState.READY.value, lease_until=None)

    # --- looking --------------------------------------------------------------------------------

    def get(self, work_id: int) -> dict[str, Any] | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(sa.select(_table).where(_table.c.id == work_id)).mappings().first()
        return dict(row) if row is not None else None

    def stored(self, dedup_key: str) -> bool:
        """Whether work with this ``dedup_key`` is already stored (in any state)."""
        t = _table
        with self._database.engine.connect() as connection:
            found = connection.execute(sa.select(t.c.id).where(t.c.dedup_key == dedup_key[:MAX_KEY])).first()
        return found is not None

    def depth(self) -> dict[str, int]:
        """How many rows are in each state (every state listed, zero when empty)."""
        return work_queue_depth(self._database)

    def next_due(self) -> datetime | None:
        """When the earliest waiting row may run (a worker with nothing to do sleeps until then)."""
        t = _table
        with self._database.engine.connect() as connection:
            return connection.execute(
                sa.select(sa.func.min(t.c.not_before)).where(t.c.state == WorkState.READY.value)
            ).scalar_one_or_none()

    def purge(self, older_than: timedelta = timedelta(days=7)) -> int:
        """Forget work finished before ``older_than`` ago; failed rows stay for an operator to read."""
        t = _table
        cutoff = self._clock() - older_than
        with self._lock, self._database.engine.begin() as connection:
            result = connection.execute(t.delete().where((t.c.state == WorkState.DONE.value) & (t.c.done_at < cutoff)))
            return int(result.rowcount or 0)


def pending_work(dedup_key: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Whether work with this dedup key (a column or expression of another table) is waiting or being done."""
    t = _table
    return sa.exists().where(
        (t.c.dedup_key == dedup_key) & t.c.state.in_([WorkState.READY.value, WorkState.LEASED.value])
    )


class _Writing:
    def __init__(self, queue: WorkQueue) -> None:
        self._queue = queue
        self._transaction: Any = None

    def __enter__(self) -> sa.Connection:
        self._queue._lock.__enter__()
        try:
            self._transaction = self._queue.database.engine.begin()
            return self._transaction.__enter__()  # type: ignore[no-any-return]
        except BaseException:
            self._queue._lock.__exit__(None, None, None)
            raise

    def __exit__(self, *exc: Any) -> None:
        try:
            self._transaction.__exit__(*exc)
        finally:
            self._queue._lock.__exit__(None, None, None)


def work_queue_depth(database: Database) -> dict[str, int]:
    """Rows in the work queue by state, e.g. ``{"ready": 3, "leased": 1, "done": 250, "failed": 0}``.

    A plain function of the database so it can be exported as a gauge (``/metrics``) without a queue object.
    """
    t = _table
    with database.engine.connect() as connection:
        rows = connection.execute(sa.select(t.c.state, sa.func.count()).group_by(t.c.state)).all()
    counts = {state.value: 0 for state in WorkState}
    counts.update({str(state): int(count) for state, count in rows})
    return counts
