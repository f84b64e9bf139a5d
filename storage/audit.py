"""The audit log: who changed what, when, and what it was before and after.

Entries are written inside the same transaction as the change they describe,
so a change and its audit entry are saved together or not at all.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any

from sqlmodel import Session, col, select

from storage.base import utc_now
from storage.db import Database
from storage.models import AuditEntry


def _json_safe(value: Any) -> Any:
    """Dates and enums as text, so the JSON column accepts them on both databases."""
    if isinstance(value, dict):
        return {str(key): _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    return value


class AuditRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    @staticmethod
    def record(
        session: Session,
        *,
        actor: str,
        action: str,
        entity_type: str,
        entity_id: int,
        actor_person_id: int | None = None,
        review_id: int | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        at: datetime | None = None,
    ) -> AuditEntry:
        entry = AuditEntry(
            at=at or utc_now(),
            actor=actor,
            actor_person_id=actor_person_id,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            review_id=review_id,
            before=_json_safe(before) if before is not None else None,
            after=_json_safe(after) if after is not None else None,
        )
        session.add(entry)
        return entry

    def for_review(self, review_id: int) -> list[AuditEntry]:
        """A review's whole history, its stages included, oldest first."""
        with self._database.session() as session:
            statement = (
                select(AuditEntry)
                .where(AuditEntry.review_id == review_id)
                .order_by(col(AuditEntry.at), col(AuditEntry.id))
            )
            return list(session.exec(statement).all())

    def for_entity(self, entity_type: str, entity_id: int) -> list[AuditEntry]:
        with self._database.session() as session:
            statement = (
                select(AuditEntry)
                .where(AuditEntry.entity_type == entity_type, AuditEntry.entity_id == entity_id)
                .order_by(col(AuditEntry.at), col(AuditEntry.id))
            )
            return list(session.exec(statement).all())
