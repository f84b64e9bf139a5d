"""The answer log: every guidance answer given, and how officers rated it.

What is kept for each answer: the question as typed, what kind of answer it was
(answered / unsure / not covered), the passages it cited (document, section and
the start of the passage), who wrote the words (the extractive answerer or a
model), the platform and the time; later the rating and an optional comment.

No person's identity is stored here, and no conversation, channel or user id:
a rating is tied to its answer by ``ref``, a random value that only travels in
the answer's own message (a Slack button value), or by ``delivery_key``, a
one-way hash of where the platform delivered the answer (Teams sends the rated
message's id back, nothing of ours). Rows older than ``ANSWER_LOG_DAYS`` are
purged daily.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, json_column, utc_now
from storage.db import Database

__all__ = ["AnswerLog", "AnswerLogEntry", "AnswerRecord", "CitedPassage", "delivery_key"]

MAX_QUESTION = 2000
MAX_COMMENT = 2000
MAX_PASSAGE_START = 300
REF_BYTES = 12


class AnswerLogEntry(StorageModel, table=True):
    __tablename__ = "answer_log"

    id: int | None = Field(default=None, primary_key=True)
    ref: str = Field(max_length=32, unique=True)
    # Set once the platform has said where the answer went (Teams' message id, hashed with its conversation).
    delivery_key: str | None = Field(default=None, max_length=64, index=True)
    question: str = Field(max_length=MAX_QUESTION)
    kind: str = Field(max_length=20)
    written_by: str = Field(default="extractive", max_length=100)
    citations: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    platform: str = Field(max_length=20)
    asked_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False, index=True))
    rating: str | None = Field(default=None, max_length=20)
    comment: str | None = Field(default=None, max_length=MAX_COMMENT)
    rated_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


_table: sa.Table = AnswerLogEntry.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class CitedPassage:
    source: str
    section: str
    passage: str

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "section": self.section, "passage": self.passage[:MAX_PASSAGE_START]}


@dataclass(frozen=True)
class AnswerRecord:
    """One logged answer, as the insights read it."""

    ref: str
    question: str
    kind: str
    written_by: str
    citations: tuple[CitedPassage, ...]
    platform: str
    asked_at: datetime
    rating: str | None
    comment: str | None


def delivery_key(*parts: str) -> str:
    """Where an answer was delivered, one-way: enough to find the answer again when the platform names the
    message, not enough to say whose conversation it was."""
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


class AnswerLog:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._database = database
        self._clock = clock

    def record(
        self,
        *,
        question: str,
        kind: str,
        citations: Sequence[CitedPassage],
        platform: str,
        written_by: str = "extractive",
    ) -> str:
        """Log an answer; returns its ref, which the answer's rating buttons carry."""
        ref = secrets.token_hex(REF_BYTES)
        with self._database.engine.begin() as connection:
            connection.execute(
                _table.insert().values(
                    ref=ref,
                    question=question[:MAX_QUESTION],
                    kind=kind[:20],
                    written_by=written_by[:100],
                    citations=[c.as_json() for c in citations],
                    platform=platform[:20],
                    asked_at=self._clock(),
                )
            )
        return ref

    def mark_delivered(self, ref: str, key: str) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(_table.update().where(_table.c.ref == ref).values(delivery_key=key))

    def ref_delivered_at(self, key: str) -> str | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(
                sa.select(_table.c.ref).where(_table.c.delivery_key == key).order_by(_table.c.id.desc()).limit(1)
            ).first()
        return str(row[0]) if row is not None else None

    def rate(self, ref: str, helpful: bool, comment: str | None = None) -> bool:
        """Store the rating (a later one replaces an earlier one); False when no such answer is logged (an
        answer from before the log, or one already purged)."""
        text = " ".join((comment or "").split())[:MAX_COMMENT] or None
        values: dict[str, Any] = {"rating": "helpful" if helpful else "not_helpful", "rated_at": self._clock()}
        if text is not None:
            values["comment"] = text
        with self._database.engine.begin() as connection:
            result = connection.execute(_table.update().where(_table.c.ref == ref).values(**values))
        return bool(result.rowcount)

    def entries(self, since: datetime | None = None, *, latest: int | None = None) -> list[AnswerRecord]:
        """Logged answers in the order asked; ``latest``: only that many of the newest."""
        query = sa.select(_table).order_by(_table.c.asked_at.desc(), _table.c.id.desc())
        if since is not None:
            query = query.where(_table.c.asked_at >= since)
        if latest is not None:
            query = query.limit(latest)
        with self._database.engine.connect() as connection:
            rows = list(reversed(connection.execute(query).mappings().all()))
        return [
            AnswerRecord(
                ref=row["ref"],
                question=row["question"],
                kind=row["kind"],
                written_by=row["written_by"],
                citations=tuple(
                    CitedPassage(str(c.get("source", "")), str(c.get("section", "")), str(c.get("passage", "")))
                    for c in row["citations"] or []
                ),
                platform=row["platform"],
                asked_at=row["asked_at"],
                rating=row["rating"],
                comment=row["comment"],
            )
            for row in rows
        ]

    def purge(self, keep_days: int) -> int:
        """Forget answers asked more than ``keep_days`` ago; returns how many went."""
        cutoff = self._clock() - timedelta(days=keep_days)
        with self._database.engine.begin() as connection:
            result = connection.execute(_table.delete().where(_table.c.asked_at < cutoff))
        return int(result.rowcount or 0)
