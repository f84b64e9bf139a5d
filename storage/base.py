"""What every table is built on: the shared metadata (with constraint names Alembic can find) and UTC times.

Times are stored as UTC. SQLite has no time zone type, so :class:`UtcDateTime`
stores naive UTC and hands back aware UTC on both databases, which keeps
comparisons in the workflows honest whichever database is behind them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator
from sqlmodel import Column, SQLModel

__all__ = ["NAMING_CONVENTION", "StorageModel", "UtcDateTime", "json_column", "timestamp_column", "utc_now"]

# Named constraints let Alembic's SQLite batch mode find and alter them later.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class StorageModel(SQLModel):
    """Base of every table here; its own metadata keeps our schema apart from anyone else's models."""

    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utc_now() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that always comes back time-zone aware, in UTC."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def json_column(nullable: bool = False) -> Any:
    return Column(sa.JSON, nullable=nullable)


def timestamp_column(nullable: bool = False) -> Any:
    return Column(UtcDateTime(), nullable=nullable)
