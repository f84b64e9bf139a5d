"""The notification ledger: each reminder is claimed before it is sent, so it is sent once.

A sender calls :meth:`NotificationLedger.claim` with what it is about to send
(review, stage, person, kind, period such as ``"2026-11-23"``). Only one caller
ever gets the claim, whichever worker or retry asks; it then sends and calls
:meth:`mark_sent` or :meth:`mark_failed`. A failed send, or a claim left behind
by a worker that died mid-send, can be claimed again later, up to a limit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from storage.base import utc_now
from storage.db import Database
from storage.models import NotificationLedger as LedgerRow
from storage.models import NotificationStatus
from storage.work_queue import pending_work

ledger_table: sa.Table = LedgerRow.__table__  # type: ignore[attr-defined]

MAX_ATTEMPTS = 5
# A claim older than this with no outcome belongs to a worker that stopped mid-send.
ABANDONED_AFTER = timedelta(minutes=10)
MAX_ERROR = 2000


@dataclass(frozen=True)
class LedgerEntry:
    id: int
    dedupe_key: str
    review_id: int
    stage_id: int | None
    person_id: int
    kind: str
    period: str
    status: str
    attempts: int
    claimed_at: datetime
    sent_at: datetime | None
    last_error: str | None


def dedupe_key(review_id: int, stage_id: int | None, person_id: int, kind: str, period: str) -> str:
    return f"{review_id}:{stage_id if stage_id is not None else '-'}:{person_id}:{kind}:{period}"


def _entry(row: sa.Row[Any]) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        dedupe_key=row.dedupe_key,
        review_id=row.review_id,
        stage_id=row.stage_id,
        person_id=row.person_id,
        kind=row.kind,
        period=row.period,
        status=row.status,
        attempts=row.attempts,
        claimed_at=row.claimed_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
    )


# The columns a new claim fills, with their PostgreSQL types (for unnest).
_INSERTED = {
    "dedupe_key": "varchar",
    "review_id": "integer",
    "stage_id": "integer",
    "person_id": "integer",
    "kind": "varchar",
    "period": "varchar",
    "status": "varchar",
    "attempts": "integer",
    "claimed_at": "timestamp",
}


@dataclass(frozen=True)
class ClaimRequest:
    review_id: int
    stage_id: int | None
    person_id: int
    kind: str
    period: str


def message_work_key(ledger_key: str) -> str:
    """The dedup key of the work queue's row that sends the message with this ledger key."""
    return MESSAGE_WORK_PREFIX + ledger_key


MESSAGE_WORK_PREFIX = "message:"


def _retryable(now: datetime) -> sa.ColumnElement[bool]:
    """A row that may be claimed again: its last try failed, or its sender died (claimed long ago, no outcome),
    and no work to send it is still waiting in the work queue (a message waiting out ``Retry-After`` is not lost)."""
    waiting = pending_work(sa.literal(MESSAGE_WORK_PREFIX, sa.String) + ledger_table.c.dedupe_key)
    return sa.and_(
        sa.or_(
            ledger_table.c.status == NotificationStatus.FAILED.value,
            sa.and_(
                ledger_table.c.status == NotificationStatus.CLAIMED.value,
                ledger_table.c.claimed_at < now - ABANDONED_AFTER,
            ),
        ),
        ~waiting,
    )


class NotificationLedger:
    def __init__(self, database: Database, clock: Callable[[], datetime] = utc_now) -> None:
        self._database = database
        self._clock = clock

    def claim(
        self, *, review_id: int, stage_id: int | None, person_id: int, kind: str, period: str
    ) -> LedgerEntry | None:
        """Claim the right to send this notification; None when it was sent or is being sent."""
        key = dedupe_key(review_id, stage_id, person_id, kind, period)
        now = self._clock()
        try:
            with self._database.engine.begin() as connection:
                connection.execute(
                    sa.insert(ledger_table).values(
                        dedupe_key=key,
                        review_id=review_id,
                        stage_id=stage_id,
                        person_id=person_id,
                        kind=kind,
                        period=period,
                        status=NotificationStatus.CLAIMED.value,
                        attempts=1,
                        claimed_at=now,
                    )
                )
        except IntegrityError:
            # Someone claimed it before: take it over only if that attempt failed or was abandoned.
            retryable = _retryable(now)
            with self._database.engine.begin() as connection:
                result = connection.execute(
                    sa.update(ledger_table)
                    .where(ledger_table.c.dedupe_key == key, retryable, ledger_table.c.attempts < MAX_ATTEMPTS)
                    .values(
                        status=NotificationStatus.CLAIMED.value, attempts=ledger_table.c.attempts + 1, claimed_at=now
                    )
                )
                if result.rowcount != 1:
                    return None
        return self.get(key)

    def claim_many(
        self, wanted: Sequence[ClaimRequest], connection: sa.Connection | None = None
    ) -> dict[str, LedgerEntry]:
        """Claim many notifications at once; the entries this caller won, by dedupe key.

        One connection and two statements for the whole chunk: ``INSERT ... ON CONFLICT DO NOTHING RETURNING``
        for rows never claimed, then one ``UPDATE ... RETURNING`` taking over those that failed or were
        abandoned. Two sweeps claiming the same chunk at once each win a different share, never the same row.
        ``connection``: claim inside the caller's transaction (with the work that will send the messages).
        """
        if not wanted:
            return {}
        now = self._clock()
        rows = {
            dedupe_key(w.review_id, w.stage_id, w.person_id, w.kind, w.period): {
                "dedupe_key": dedupe_key(w.review_id, w.stage_id, w.person_id, w.kind, w.period),
                "review_id": w.review_id,
                "stage_id": w.stage_id,
                "person_id": w.person_id,
                "kind": w.kind,
                "period": w.period,
                "status": NotificationStatus.CLAIMED.value,
                "attempts": 1,
                "claimed_at": now,
            }
            for w in wanted
        }
        if connection is None:
            with self._database.engine.begin() as own:
                return self._claim_rows(own, rows, now)
        return self._claim_rows(connection, rows, now)

    def _claim_rows(
        self, connection: sa.Connection, rows: dict[str, dict[str, Any]], now: datetime
    ) -> dict[str, LedgerEntry]:
        won: dict[str, LedgerEntry] = {}
        for row in connection.execute(*self._insert_new(list(rows.values()))):
            won[row.dedupe_key] = _entry(row)
        rest = [key for key in rows if key not in won]
        if rest:
            taken_over = connection.execute(
                sa.update(ledger_table)
                .where(
                    self._one_of(ledger_table.c.dedupe_key, rest),
                    _retryable(now),
                    ledger_table.c.attempts < MAX_ATTEMPTS,
                )
                .values(status=NotificationStatus.CLAIMED.value, attempts=ledger_table.c.attempts + 1, claimed_at=now)
                .returning(*ledger_table.c)
            )
            won.update({row.dedupe_key: _entry(row) for row in taken_over})
        return won

    def _insert_new(self, rows: list[dict[str, Any]]) -> tuple[Any, ...]:
        """``INSERT ... ON CONFLICT DO NOTHING RETURNING`` for a chunk of rows: the statement and its parameters."""
        if self._database.is_postgres:
            # One array per column, unnested by the server: nine parameters rather than nine per row, which the
            # driver would otherwise find again in a long statement on every call.
            statement = sa.text(
                f"INSERT INTO notification_ledger ({', '.join(_INSERTED)}) "
                "SELECT * FROM unnest(" + ", ".join(f"CAST(:{c} AS {t}[])" for c, t in _INSERTED.items()) + ") "
                "ON CONFLICT (dedupe_key) DO NOTHING RETURNING *"
            ).columns(*ledger_table.c)
            naive = [row["claimed_at"].astimezone(UTC).replace(tzinfo=None) for row in rows]
            return statement, {c: naive if c == "claimed_at" else [row[c] for row in rows] for c in _INSERTED}
        # SQLite: many parameter sets, which SQLAlchemy batches into multi-row INSERTs from one cached statement.
        insert = sqlite.insert(ledger_table).on_conflict_do_nothing(index_elements=["dedupe_key"])
        return insert.returning(*ledger_table.c), rows

    def _one_of(self, column: sa.ColumnElement[Any], values: Sequence[Any]) -> sa.ColumnElement[bool]:
        """``column IN (...)``; on PostgreSQL ``column = ANY(array)``, one parameter instead of hundreds."""
        if self._database.is_postgres:
            return column == sa.any_(sa.bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
        return column.in_(list(values))

    def mark_sent_many(self, entry_ids: Sequence[int]) -> None:
        """Mark a chunk's sent messages in one statement."""
        if not entry_ids:
            return
        with self._database.engine.begin() as connection:
            connection.execute(
                sa.update(ledger_table)
                .where(self._one_of(ledger_table.c.id, entry_ids))
                .values(status=NotificationStatus.SENT.value, sent_at=self._clock(), last_error=None)
            )

    def mark_failed_many(self, failures: Sequence[tuple[int, str]]) -> None:
        """Mark failed sends (entry id, reason) in one round of statements."""
        if not failures:
            return
        statement = (
            sa.update(ledger_table)
            .where(ledger_table.c.id == sa.bindparam("entry_id"))
            .values(status=NotificationStatus.FAILED.value, last_error=sa.bindparam("error"))
        )
        with self._database.engine.begin() as connection:
            connection.execute(statement, [{"entry_id": i, "error": e[:MAX_ERROR]} for i, e in failures])

    def release_many(self, entries: Sequence[LedgerEntry]) -> None:
        """Hand back claims that were never tried (their platform started throttling): as if never claimed."""
        if not entries:
            return
        fresh = [entry.id for entry in entries if entry.attempts <= 1]
        retried = [entry.id for entry in entries if entry.attempts > 1]
        with self._database.engine.begin() as connection:
            if fresh:
                connection.execute(sa.delete(ledger_table).where(ledger_table.c.id.in_(fresh)))
            if retried:
                connection.execute(
                    sa.update(ledger_table)
                    .where(ledger_table.c.id.in_(retried))
                    .values(status=NotificationStatus.FAILED.value, attempts=ledger_table.c.attempts - 1)
                )

    def mark_sent(self, entry_id: int) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(
                sa.update(ledger_table)
                .where(ledger_table.c.id == entry_id)
                .values(status=NotificationStatus.SENT.value, sent_at=self._clock(), last_error=None)
            )

    def mark_failed(self, entry_id: int, error: str) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(
                sa.update(ledger_table)
                .where(ledger_table.c.id == entry_id)
                .values(status=NotificationStatus.FAILED.value, last_error=error[:MAX_ERROR])
            )

    def give_up(self, entry_id: int, error: str, attempts: int) -> None:
        """Stop retrying a row: it stays failed with its attempts at the limit, so no claim can take it again."""
        with self._database.engine.begin() as connection:
            connection.execute(
                sa.update(ledger_table)
                .where(ledger_table.c.id == entry_id)
                .values(status=NotificationStatus.FAILED.value, attempts=attempts, last_error=error[:MAX_ERROR])
            )

    def entries(self, keys: Sequence[str]) -> dict[str, LedgerEntry]:
        """The rows with these keys, by key (one query per 900 keys)."""
        found: dict[str, LedgerEntry] = {}
        wanted = list(dict.fromkeys(keys))
        with self._database.engine.connect() as connection:
            for start in range(0, len(wanted), 900):
                statement = sa.select(ledger_table).where(
                    self._one_of(ledger_table.c.dedupe_key, wanted[start : start + 900])
                )
                found.update({row.dedupe_key: _entry(row) for row in connection.execute(statement)})
        return found

    def get_by_id(self, entry_id: int) -> LedgerEntry | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(sa.select(ledger_table).where(ledger_table.c.id == entry_id)).first()
        return _entry(row) if row is not None else None

    def get(self, key: str) -> LedgerEntry | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(sa.select(ledger_table).where(ledger_table.c.dedupe_key == key)).first()
        return _entry(row) if row is not None else None

    def for_review(self, review_id: int) -> list[LedgerEntry]:
        with self._database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(ledger_table).where(ledger_table.c.review_id == review_id).order_by(ledger_table.c.id)
            ).all()
        return [_entry(row) for row in rows]
