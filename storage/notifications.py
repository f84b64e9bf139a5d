"""The notification ledger: each reminder is claimed before it is sent, so it is sent once.

A sender calls :meth:`NotificationLedger.claim` with what it is about to send
(review, stage, person, kind, period such as ``"2026-11-23"``). Only one caller
ever gets the claim, whichever worker or retry asks; it then sends and calls
:meth:`mark_sent` or :meth:`mark_failed`. A failed send, or a claim left behind
by a worker that died mid-send, can be claimed again later, up to a limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.base import utc_now
from storage.db import Database
from storage.models import NotificationLedger as LedgerRow
from storage.models import NotificationStatus

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
            retryable = sa.or_(
                ledger_table.c.status == NotificationStatus.FAILED.value,
                sa.and_(
                    ledger_table.c.status == NotificationStatus.CLAIMED.value,
                    ledger_table.c.claimed_at < now - ABANDONED_AFTER,
                ),
            )
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
