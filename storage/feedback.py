"""Feedback rounds, who was asked, and their answers: the only code that reads or writes those tables.

The anonymity rules live here, where the rows are written:

- An anonymous response row holds the round, the ratings and the words, and
  nothing else: no person, no time, and a random id (a sequence would give away
  the order people answered in).
- The stakeholder's ``feedback_request`` row (made when they were asked) is the
  only trace that they answered. Marking it answered also rewrites every other
  stakeholder's row of the round in the same transaction, so PostgreSQL's
  per-row transaction ids cannot pair one request row with one response row.
- Changing an anonymous answer needs the SHA-256 of the secret handed to the
  person in their own form; nothing we store can recompute it from who they are.
- No audit entry is written for an anonymous answer (an entry's time and position
  in the log would narrow down who gave it); named answers are audited as usual.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from storage.audit import AuditRepository
from storage.base import utc_now
from storage.db import Database
from storage.feedback_records import (
    AlreadyAnswered,
    InvitedPerson,
    NotInvited,
    ResponseRecord,
    RoundRecord,
    SavedResponse,
    response_from_row,
    round_from_row,
)
from storage.models import FeedbackRequest, FeedbackResponse, FeedbackRound, FeedbackRoundKind, FeedbackStatus, Person

__all__ = ["FeedbackRepository"]

_rounds: sa.Table = FeedbackRound.__table__  # type: ignore[attr-defined]
_requests: sa.Table = FeedbackRequest.__table__  # type: ignore[attr-defined]
_responses: sa.Table = FeedbackResponse.__table__  # type: ignore[attr-defined]
_people: sa.Table = Person.__table__  # type: ignore[attr-defined]

# SQLite allows 999 bound parameters in one statement.
_CHUNK = 900


class FeedbackRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    # --- rounds ------------------------------------------------------------------------------

    def create_round(
        self,
        *,
        review_id: int,
        question_set: str,
        question_set_version: int,
        questions: Sequence[dict[str, Any]],
        closes_on: date | None,
        requested_by: str,
        requested_by_person_id: int | None,
        person_ids: Iterable[int],
        kind: str = FeedbackRoundKind.REQUESTED.value,
        summary: str = "",
    ) -> RoundRecord:
        """The round and one request row per stakeholder, in one transaction, audited as the requester."""
        now = utc_now()
        people = sorted(set(person_ids))
        with self._database.session() as session:
            round_row = FeedbackRound(
                review_id=review_id,
                kind=kind,
                question_set=question_set,
                question_set_version=question_set_version,
                questions=list(questions),
                closes_on=closes_on,
                requested_by=requested_by[:200],
                requested_by_person_id=requested_by_person_id,
                created_at=now,
            )
            session.add(round_row)
            session.flush()
            assert round_row.id is not None
            for person_id in people:
                session.add(
                    FeedbackRequest(
                        review_id=review_id,
                        person_id=person_id,
                        question=summary[:2000] or question_set,
                        status=FeedbackStatus.OPEN.value,
                        requested_by=requested_by[:200],
                        created_at=now,
                        round_id=round_row.id,
                    )
                )
            if kind == FeedbackRoundKind.REQUESTED.value:
                AuditRepository.record(
                    session,
                    actor=requested_by[:200],
                    actor_person_id=requested_by_person_id,
                    action="feedback_requested",
                    entity_type="feedback_round",
                    entity_id=round_row.id,
                    review_id=review_id,
                    after={
                        "question_set": f"{question_set} v{question_set_version}",
                        "closes_on": closes_on.isoformat() if closes_on else None,
                        "stakeholders": len(people),
                    },
                )
            session.commit()
            round_id = round_row.id
        found = self.get_round(round_id)
        assert found is not None
        return found

    def get_round(self, round_id: int) -> RoundRecord | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(sa.select(_rounds).where(_rounds.c.id == round_id)).first()
        return round_from_row(row) if row is not None else None

    def rounds_for_review(self, review_id: int, kind: str | None = None) -> list[RoundRecord]:
        """Newest first."""
        query = sa.select(_rounds).where(_rounds.c.review_id == review_id)
        if kind is not None:
            query = query.where(_rounds.c.kind == kind)
        with self._database.engine.connect() as connection:
            rows = connection.execute(query.order_by(_rounds.c.id.desc())).all()
        return [round_from_row(row) for row in rows]

    def unsolicited_round(
        self, review_id: int, *, question_set: str, question_set_version: int, questions: Sequence[dict[str, Any]]
    ) -> RoundRecord:
        """The review's round for feedback nobody asked for, made on first use (one per question set version)."""
        for found in self.rounds_for_review(review_id, FeedbackRoundKind.UNSOLICITED.value):
            if (found.question_set, found.question_set_version) == (question_set, question_set_version):
                return found
        return self.create_round(
            review_id=review_id,
            question_set=question_set,
            question_set_version=question_set_version,
            questions=questions,
            closes_on=None,
            requested_by="anyone",
            requested_by_person_id=None,
            person_ids=(),
            kind=FeedbackRoundKind.UNSOLICITED.value,
        )

    def open_requested_rounds(self, today: date) -> list[RoundRecord]:
        with self._database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_rounds)
                .where(_rounds.c.kind == FeedbackRoundKind.REQUESTED.value, _rounds.c.closes_on >= today)
                .order_by(_rounds.c.id)
            ).all()
        return [round_from_row(row) for row in rows]

    def expire_closed(self, today: date) -> int:
        """Requests of rounds closed before ``today`` that were never answered become "expired" (so digests stop
        counting them as waiting)."""
        closed = sa.select(_rounds.c.id).where(_rounds.c.closes_on < today).scalar_subquery()
        with self._database.engine.begin() as connection:
            result = connection.execute(
                sa.update(_requests)
                .where(_requests.c.round_id.in_(closed), _requests.c.status == FeedbackStatus.OPEN.value)
                .values(status=FeedbackStatus.EXPIRED.value)
            )
        return int(result.rowcount or 0)

    # --- who was asked -------------------------------------------------------------------------

    def invited(self, round_id: int) -> list[InvitedPerson]:
        with self._database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_requests.c.person_id, _requests.c.status, _people.c.name)
                .join(_people, _people.c.id == _requests.c.person_id)
                .where(_requests.c.round_id == round_id)
                .order_by(_people.c.name, _requests.c.person_id)
            ).all()
        return [InvitedPerson(row.person_id, row.name, row.status) for row in rows]

    def request_status(self, round_id: int, person_id: int) -> str | None:
        """ "open", "answered", "expired", or None when the person was not asked."""
        with self._database.engine.connect() as connection:
            return connection.execute(
                sa.select(_requests.c.status).where(
                    _requests.c.round_id == round_id, _requests.c.person_id == person_id
                )
            ).scalar()

    def waiting_for(self, person_id: int, today: date) -> list[RoundRecord]:
        """Rounds still open that asked this person and they have not answered (for the App Home)."""
        with self._database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_rounds)
                .join(_requests, _requests.c.round_id == _rounds.c.id)
                .where(
                    _requests.c.person_id == person_id,
                    _requests.c.status == FeedbackStatus.OPEN.value,
                    _rounds.c.closes_on >= today,
                )
                .order_by(_rounds.c.closes_on, _rounds.c.id)
            ).all()
        return [round_from_row(row) for row in rows]

    # --- answers ---------------------------------------------------------------------------------

    def responses(self, round_id: int) -> list[ResponseRecord]:
        # Ordered by the random id: the order says nothing about who answered when.
        with self._database.engine.connect() as connection:
            rows = connection.execute(
                sa.select(_responses).where(_responses.c.round_id == round_id).order_by(_responses.c.id)
            ).all()
        return [response_from_row(row) for row in rows]

    def named_response(self, round_id: int, person_id: int) -> ResponseRecord | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(
                sa.select(_responses).where(_responses.c.round_id == round_id, _responses.c.person_id == person_id)
            ).first()
        return response_from_row(row) if row is not None else None

    def anonymous_response(self, round_id: int, token_hash: str) -> ResponseRecord | None:
        with self._database.engine.connect() as connection:
            row = connection.execute(
                sa.select(_responses).where(
                    _responses.c.round_id == round_id, _responses.c.edit_token_hash == token_hash
                )
            ).first()
        return response_from_row(row) if row is not None else None

    def save_response(
        self,
        round_record: RoundRecord,
        *,
        person_id: int,
        person_name: str,
        anonymous: bool,
        ratings: dict[str, int],
        answers: dict[str, str],
        token_hash: str | None,
        today: date,
    ) -> SavedResponse:
        """Store an answer, replacing the person's earlier one when they show it is theirs.

        Theirs means: their named answer, or an anonymous answer whose secret they hold. Anything else after
        they have answered raises :class:`AlreadyAnswered`; an unasked person on a requested round raises
        :class:`NotInvited`.
        """
        requested = round_record.is_requested
        try:
            with self._database.engine.begin() as connection:
                named = connection.execute(
                    sa.select(_responses.c.id).where(
                        _responses.c.round_id == round_record.id, _responses.c.person_id == person_id
                    )
                ).scalar()
                own_anonymous = None
                if token_hash:
                    own_anonymous = connection.execute(
                        sa.select(_responses.c.id).where(
                            _responses.c.round_id == round_record.id, _responses.c.edit_token_hash == token_hash
                        )
                    ).scalar()
                earlier = named or own_anonymous
                if requested:
                    status = connection.execute(
                        sa.select(_requests.c.status).where(
                            _requests.c.round_id == round_record.id, _requests.c.person_id == person_id
                        )
                    ).scalar()
                    if status is None:
                        raise NotInvited()
                    if earlier is None:
                        # The first answer: only one of two simultaneous first answers can turn "open" into
                        # "answered".
                        changed = connection.execute(
                            sa.update(_requests)
                            .where(
                                _requests.c.round_id == round_record.id,
                                _requests.c.person_id == person_id,
                                _requests.c.status == FeedbackStatus.OPEN.value,
                            )
                            .values(status=FeedbackStatus.ANSWERED.value)
                        ).rowcount
                        if changed != 1:
                            raise AlreadyAnswered()
                    # Every request row of the round is rewritten in this transaction, so none stands out as
                    # written together with the response (PostgreSQL stamps rows with their transaction).
                    connection.execute(
                        sa.update(_requests)
                        .where(_requests.c.round_id == round_record.id)
                        .values(status=_requests.c.status)
                    )
                if named is not None:
                    connection.execute(sa.delete(_responses).where(_responses.c.id == named))
                if own_anonymous is not None:
                    connection.execute(sa.delete(_responses).where(_responses.c.id == own_anonymous))
                record = ResponseRecord(
                    id=secrets.token_hex(16),
                    round_id=round_record.id,
                    anonymous=anonymous,
                    person_id=None if anonymous else person_id,
                    ratings=dict(ratings),
                    answers=dict(answers),
                    answered_on=None if anonymous else today,
                )
                connection.execute(
                    sa.insert(_responses).values(
                        id=record.id,
                        round_id=record.round_id,
                        anonymous=record.anonymous,
                        person_id=record.person_id,
                        ratings=record.ratings,
                        answers=record.answers,
                        edit_token_hash=token_hash if anonymous else None,
                        answered_on=record.answered_on,
                    )
                )
        except IntegrityError as error:
            # A named answer raced another of the same person's (a double click): the first one stands.
            raise AlreadyAnswered() from error
        if not anonymous:
            with self._database.session() as session:
                AuditRepository.record(
                    session,
                    actor=person_name[:200],
                    actor_person_id=person_id,
                    action="feedback_changed" if earlier else "feedback_given",
                    entity_type="feedback_round",
                    entity_id=round_record.id,
                    review_id=round_record.review_id,
                )
                session.commit()
        return SavedResponse(record, replaced=earlier is not None)

    # --- reminders -------------------------------------------------------------------------------------

    def not_answered(self, round_ids: Sequence[int]) -> dict[int, list[int]]:
        """Per round, the people asked who have not answered."""
        found: dict[int, list[int]] = {}
        ids = list(round_ids)
        with self._database.engine.connect() as connection:
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                rows = connection.execute(
                    sa.select(_requests.c.round_id, _requests.c.person_id)
                    .where(_requests.c.round_id.in_(chunk), _requests.c.status == FeedbackStatus.OPEN.value)
                    .order_by(_requests.c.round_id, _requests.c.person_id)
                ).all()
                for row in rows:
                    found.setdefault(row.round_id, []).append(row.person_id)
        return found
