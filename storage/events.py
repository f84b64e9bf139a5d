"""Platform events already handled, so a retried or redelivered event is answered once.

Slack retries an event it thinks we missed (``X-Slack-Retry-Num``) and Teams
redelivers an activity after about 15 seconds without an answer. Both
adapters call :meth:`ProcessedEvents.first_time` with the event's id before
doing any work; only the first caller, across restarts and across several
server processes sharing the database, gets True.
"""

from __future__ import annotations

import hashlib
import threading
from contextlib import nullcontext
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, utc_now
from storage.db import Database

__all__ = ["ProcessedEvent", "ProcessedEvents", "KEEP_EVENTS_FOR"]

# Slack retries for about an hour and Teams for minutes; a day leaves a wide margin at little cost.
KEEP_EVENTS_FOR = timedelta(days=1)
MAX_EVENT_ID = 255


class ProcessedEvent(StorageModel, table=True):
    __tablename__ = "processed_event"
    __table_args__ = (sa.UniqueConstraint("platform", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(max_length=20)
    event_id: str = Field(max_length=MAX_EVENT_ID)
    received_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False, index=True))


_table: sa.Table = ProcessedEvent.__table__  # type: ignore[attr-defined]

_sqlite_locks: dict[str, threading.Lock] = {}
_sqlite_locks_guard = threading.Lock()


def _sqlite_write_lock(database: Database) -> threading.Lock:
    """One lock per SQLite database URL, shared by every ProcessedEvents on it in this process."""
    url = database.engine.url.render_as_string(hide_password=True)
    with _sqlite_locks_guard:
        return _sqlite_locks.setdefault(url, threading.Lock())


class ProcessedEvents:
    """The de-duplication ledger shared by the Slack and Teams adapters."""

    def __init__(self, database: Database, clock=utc_now) -> None:  # type: ignore[no-untyped-def]
        self._database = database
        self._clock = clock
        # SQLite lets one writer in at a time and makes the others sleep with a growing back-off, so a
        # burst of events would wait far longer than the writes take. Queueing on a lock in this process
        # hands the turn over at once; other processes still fall back on SQLite's busy timeout.
        self._write_lock = _sqlite_write_lock(database) if database.dialect == "sqlite" else nullcontext()

    def first_time(self, platform: str, event_id: str) -> bool:
        """Record the event; True only for the first call with this (platform, event id).

        One INSERT ... ON CONFLICT DO NOTHING, so two processes racing on the same
        event cannot both win, on SQLite and PostgreSQL alike.
        """
        if not event_id:
            raise ValueError("an event needs an id to be de-duplicated")
        event_id = self._fit(event_id)
        values = {"platform": platform, "event_id": event_id, "received_at": self._clock()}
        dialect = self._database.dialect
        with self._write_lock, self._database.engine.begin() as connection:
            if dialect in ("sqlite", "postgresql"):
                insert = self._database.insert(_table).values(**values)
                # RETURNING rather than rowcount: drivers disagree on rowcount for a skipped conflict.
                statement = insert.on_conflict_do_nothing(index_elements=["platform", "event_id"]).returning(
                    _table.c.id
                )
                return connection.execute(statement).first() is not None
            try:
                connection.execute(_table.insert().values(**values))
            except IntegrityError:
                return False
            return True

    def remember(self, platform: str, key: str) -> None:
        """Record (or refresh) a key without asking whether it is new, e.g. a Slack thread the app is taking part in;
        it is kept for KEEP_EVENTS_FOR after the last refresh."""
        key = self._fit(key)
        values = {"platform": platform, "event_id": key, "received_at": self._clock()}
        dialect = self._database.dialect
        with self._write_lock, self._database.engine.begin() as connection:
            if dialect in ("sqlite", "postgresql"):
                insert = self._database.insert(_table).values(**values)
                connection.execute(
                    insert.on_conflict_do_update(
                        index_elements=["platform", "event_id"], set_={"received_at": values["received_at"]}
                    )
                )
                return
            updated = connection.execute(
                _table.update()
                .where((_table.c.platform == platform) & (_table.c.event_id == key))
                .values(received_at=values["received_at"])
            )
            if not updated.rowcount:
                connection.execute(_table.insert().values(**values))

    def seen(self, platform: str, key: str) -> bool:
        """Whether the key has been recorded (and not yet purged)."""
        key = self._fit(key)
        with self._database.engine.connect() as connection:
            found = connection.execute(
                sa.select(_table.c.id).where((_table.c.platform == platform) & (_table.c.event_id == key)).limit(1)
            ).first()
        return found is not None

    @staticmethod
    def _fit(key: str) -> str:
        # Ids longer than the column are hashed rather than cut, so two long ids never collide by their prefix.
        if len(key) > MAX_EVENT_ID:
            return "sha256:" + hashlib.sha256(key.encode()).hexdigest()
        return key

    def purge(self, older_than: timedelta = KEEP_EVENTS_FOR) -> int:
        """Forget events received before ``older_than`` ago; returns how many rows went."""
        cutoff = self._clock() - older_than
        with self._write_lock, self._database.engine.begin() as connection:
            result = connection.execute(_table.delete().where(_table.c.received_at < cutoff))
            return int(result.rowcount or 0)
