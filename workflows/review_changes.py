"""Changing a saved review safely, whoever else is changing it: the rules every change shares.

:meth:`ReviewChanges.run` loads the review and its stages afresh inside a transaction (locking the
review row on PostgreSQL), applies the change, writes its audit entry in the same transaction, and
bumps the review's version; if someone else's change got in first it is run again on top of theirs, up
to ``MAX_ATTEMPTS`` times. The guards below are the permission and consistency checks the individual
changes (``workflows/reviews.py``) are made of.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from storage.audit import AuditRepository
from storage.db import Database
from storage.models import Person, Review, ReviewStage, ReviewStatus
from storage.people import PeopleRepository
from storage.reviews import ReviewRepository
from workflows.review_rules import (
    MAX_REASON,
    Actor,
    ConcurrentChangeError,
    NotAllowedError,
    ReviewError,
    ReviewNotFoundError,
    tidy,
)

__all__ = [
    "ChangePeople",
    "acting",
    "ReviewChanges",
    "check_reason",
    "current_stage",
    "checklist_index",
    "find_stage",
    "require_open",
    "require_owner_or_lead",
    "unknown_stage_message",
]

log = structlog.get_logger(__name__)

# How often a change is re-run after another change to the same review got in first.
MAX_ATTEMPTS = 8


class ChangePeople:
    """The people a change mentions, loaded once, for messages that use names rather than ids."""

    def __init__(self, session: Session, person_ids: set[int]) -> None:
        self._by_id: dict[int, Person] = {}
        if person_ids:
            for person in session.exec(select(Person).where(Person.id.in_(sorted(person_ids)))).all():  # type: ignore[union-attr]
                self._by_id[person.id] = person  # type: ignore[index]

    def get(self, person_id: int) -> Person | None:
        return self._by_id.get(person_id)

    def name(self, person_id: int) -> str:
        person = self._by_id.get(person_id)
        return person.name if person else f"person {person_id}"


Change = Callable[[Session, Review, list[ReviewStage], ChangePeople], None]


def _is_transient(error: OperationalError) -> bool:
    """A clash with another writer that is worth running again, rather than a broken database."""
    text = str(error.orig if error.orig is not None else error).lower()
    return any(sign in text for sign in ("database is locked", "deadlock detected", "could not serialize"))


class ReviewChanges:
    def __init__(self, database: Database, now: Callable[[], datetime]) -> None:
        self.database = database
        self.now = now

    def run(
        self, review_id: int, actor: Actor, event_name: str, apply: Change, extra_people: Sequence[int] = ()
    ) -> None:
        """Run ``apply`` on a locked, fresh copy of the review; re-run it if someone else got in first."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                self._attempt(review_id, actor, event_name, apply, extra_people, attempt)
                return
            except (StaleDataError, OperationalError) as error:
                if isinstance(error, OperationalError) and not _is_transient(error):
                    raise
                log.info("review_change_retried", review_id=review_id, attempt=attempt)
                time.sleep(0.005 * attempt)
        raise ConcurrentChangeError(
            "Several people changed this review at the same moment and your change could not be saved. "
            "Please try again."
        )

    def _attempt(
        self, review_id: int, actor: Actor, event_name: str, apply: Change, extra_people: Sequence[int], attempt: int
    ) -> None:
        with self.database.transaction() as session:
            loaded = ReviewRepository.lock_for_change(session, review_id)
            if loaded is None:
                raise ReviewNotFoundError(f"There is no review number {review_id}.")
            review, stages = loaded
            version_before = review.version
            person_ids = {review.lead_commissioner_id, review.portfolio_holder_id, *extra_people}
            person_ids.update(stage.owner_id for stage in stages)
            apply(session, review, stages, ChangePeople(session, person_ids))
            if session.dirty or session.new:
                # Touching the review row bumps its version even when only a stage
                # changed, so any two changes to one review are strictly ordered.
                review.updated_at = self.now()
                # Flagged as well as set: an unchanged value would otherwise skip the UPDATE.
                flag_modified(review, "updated_at")
                session.flush()
                log.info(
                    event_name, review_id=review_id, actor=actor.label, version=version_before + 1, attempt=attempt
                )

    def audit(
        self,
        session: Session,
        actor: Actor,
        action: str,
        entity: tuple[str, int | None],
        review_id: int | None,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
        """The change's audit entry, in the change's own transaction. ``entity``: (type, id)."""
        entity_type, entity_id = entity
        AuditRepository.record(
            session,
            actor=actor.label,
            actor_person_id=actor.person_id,
            action=action,
            entity_type=entity_type,
            entity_id=int(entity_id or 0),
            review_id=review_id,
            before=before,
            after=after,
            at=self.now(),
        )


def acting(people: PeopleRepository, actor: Actor | int) -> Actor:
    """The actor, given as one or as a person's id (which must be in the people list)."""
    if isinstance(actor, Actor):
        return actor
    person = people.get(actor)
    if person is None:
        raise ReviewError(f"Nobody with id {actor} is in the people list.")
    return Actor.person(actor, person.name)


# --- the guards ------------------------------------------------------------------------------------------


def check_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    reason = tidy(reason)
    if len(reason) > MAX_REASON:
        raise ReviewError(f"That reason is {len(reason)} characters long; please keep it under {MAX_REASON}.")
    return reason or None


def require_open(review: Review) -> None:
    if review.status != ReviewStatus.OPEN.value:
        raise ReviewError(f'"{review.title}" is {review.status}, so it cannot be changed.')


def require_owner_or_lead(actor: Actor, review: Review, stage: ReviewStage, people: ChangePeople, what: str) -> None:
    if actor.is_system or actor.person_id in (stage.owner_id, review.lead_commissioner_id):
        return
    raise NotAllowedError(
        f"Only the stage owner ({people.name(stage.owner_id)}) or the lead commissioner "
        f"({people.name(review.lead_commissioner_id)}) can {what}."
    )


def unknown_stage_message(stage_name: str, stages: Sequence[ReviewStage]) -> str:
    names = ", ".join(stage.name for stage in stages)
    return f'This review has no stage called "{tidy(stage_name)}"; its stages are {names}.'


def find_stage(stages: Sequence[ReviewStage], stage_name: str) -> ReviewStage:
    wanted = tidy(stage_name).casefold()
    stage = next((stage for stage in stages if stage.name.casefold() == wanted), None)
    if stage is None:
        raise ReviewError(unknown_stage_message(stage_name, stages))
    return stage


def checklist_index(stage: ReviewStage, item: int | str) -> int:
    """A checklist item named by its number (1 = first) or by words of its text."""
    entries = stage.checklist or []
    if isinstance(item, int) or item.strip().isdigit():
        number = int(item)
        if 1 <= number <= len(entries):
            return number - 1
        raise ReviewError(f"{stage.name} has {len(entries)} checklist items; there is no item {number}.")
    wanted = tidy(item).casefold()
    matches = [index for index, entry in enumerate(entries) if wanted and wanted in entry["item"].casefold()]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ReviewError(f'{stage.name} has no checklist item matching "{tidy(item)}".')
    raise ReviewError(f'More than one {stage.name} checklist item matches "{tidy(item)}"; give its number.')


def current_stage(review: Review, stages: Sequence[ReviewStage], stage_name: str | None) -> ReviewStage:
    """The stage to mark done: the first not done, which ``stage_name`` (from a button) must name, if given."""
    current = next((stage for stage in stages if stage.completed_at is None), None)
    if current is None:
        raise ReviewError(f'Every stage of "{review.title}" is already done; it can now be closed.')
    if stage_name is None or tidy(stage_name).casefold() == current.name.casefold():
        return current
    named = next((s for s in stages if s.name.casefold() == tidy(stage_name).casefold()), None)
    if named is None:
        raise ReviewError(unknown_stage_message(stage_name, stages))
    if named.completed_at is not None:
        raise ReviewError(f'{named.name} is already done for "{review.title}".')
    raise ReviewError(f"{named.name} cannot be marked done before {current.name}, which is the current stage.")
