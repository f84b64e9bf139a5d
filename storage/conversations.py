"""Where half-finished conversations wait between answers.

The conversation engine (``workflows/conversation``) keeps one
:class:`ConversationRecord` per conversation key, e.g.
``"slack:T1:U1:1712345678.0001"`` or ``"terminal:alice"``. Every ``put`` is
optimistic: it names the version it read, and a record that somebody else
changed in the meantime (a retried Slack event, a second worker) is refused
with :class:`StaleConversationError` instead of being overwritten.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from storage.base import utc_now
from storage.db import Database
from storage.models import ConversationState

log = structlog.get_logger(__name__)


class StaleConversationError(RuntimeError):
    """The conversation changed since it was read; read it again and re-apply the answer."""


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation's saved state.

    ``version`` is 0 for a record that has never been saved; ``put`` returns
    the saved copy with the new version, which is what the next ``put`` must carry.
    ``trail`` lists earlier step ids, most recent last, so ``back`` can retrace them.
    """

    key: str
    flow: str
    step: str | None = None
    answers: dict[str, Any] = field(default_factory=dict)
    trail: list[str] = field(default_factory=list)
    started_at: datetime | None = None
    updated_at: datetime | None = None
    version: int = 0


def _to_record(row: ConversationState) -> ConversationRecord:
    return ConversationRecord(
        key=row.key,
        flow=row.flow,
        step=row.step,
        answers=copy.deepcopy(row.answers or {}),
        trail=list(row.trail or []),
        started_at=row.started_at,
        updated_at=row.updated_at,
        version=row.version,
    )


class SqlConversationStore:
    """Conversation state in the project database (SQLite or PostgreSQL)."""

    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._database = database
        self._clock = clock

    def get(self, key: str) -> ConversationRecord | None:
        with self._database.session() as session:
            row = session.exec(select(ConversationState).where(ConversationState.key == key)).first()
            return _to_record(row) if row is not None else None

    def put(self, record: ConversationRecord) -> ConversationRecord:
        """Save ``record`` and return it with its new version and ``updated_at``.

        Raises :class:`StaleConversationError` when the stored version is not the one
        the record was read at (or when a new record's key is already taken).
        """
        now = self._clock()
        started_at = record.started_at or now
        values = {
            "flow": record.flow,
            "step": record.step,
            "answers": copy.deepcopy(record.answers),
            "trail": list(record.trail),
            "updated_at": now,
        }
        table = ConversationState.__table__  # type: ignore[attr-defined]
        with self._database.transaction() as session:
            if record.version == 0:
                try:
                    session.connection().execute(
                        insert(table).values(key=record.key, started_at=started_at, version=1, **values)
                    )
                except IntegrityError as error:
                    raise StaleConversationError(
                        f"A conversation with key {record.key!r} was started elsewhere in the meantime."
                    ) from error
            else:
                result = session.connection().execute(
                    update(table)
                    .where(table.c.key == record.key, table.c.version == record.version)
                    .values(version=record.version + 1, **values)
                )
                if result.rowcount != 1:
                    log.warning("conversation_stale_write", key=record.key, version=record.version)
                    raise StaleConversationError(
                        f"The conversation {record.key!r} changed since version {record.version} was read."
                    )
        return replace(
            record,
            answers=copy.deepcopy(record.answers),
            trail=list(record.trail),
            started_at=started_at,
            updated_at=now,
            version=record.version + 1,
        )

    def delete(self, key: str) -> bool:
        """Forget a conversation; True if there was one."""
        table = ConversationState.__table__  # type: ignore[attr-defined]
        with self._database.transaction() as session:
            result = session.connection().execute(delete(table).where(table.c.key == key))
            return bool(result.rowcount)

    def purge_idle(self, older_than: datetime | timedelta) -> int:
        """Delete conversations last touched before ``older_than`` (a time, or an age from now).

        Returns how many were deleted.
        """
        cutoff = self._clock() - older_than if isinstance(older_than, timedelta) else older_than
        table = ConversationState.__table__  # type: ignore[attr-defined]
        with self._database.transaction() as session:
            result = session.connection().execute(delete(table).where(table.c.updated_at < cutoff))
            purged = int(result.rowcount or 0)
        if purged:
            log.info("conversations_purged", count=purged, cutoff=cutoff.isoformat())
        return purged
