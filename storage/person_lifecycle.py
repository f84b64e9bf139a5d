"""When someone leaves, or asks to be forgotten: deactivating and erasing a person.

- **Deactivate** (a leaver): the person stays, so their reviews, stages and history still read correctly, but they
  are no longer offered when an officer names someone, nudged, or sent feedback requests. Their open work (stages
  they own, reviews they lead or hold the portfolio for) is reported so it can be handed to someone else.
- **Erase** (a data-protection erasure request): everything that identifies them goes. Their person row keeps only
  its id, so the reviews that point at it stay whole, under the name "Erased person N"; their emails and platform
  ids are cleared, their roles, stakeholder places and conversations removed; their name, email and ids are
  replaced wherever the audit log or feedback holds them; their named feedback answers become anonymous.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import structlog
from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from storage.audit import AuditRepository
from storage.base import utc_now
from storage.db import Database
from storage.models import AuditEntry, ConversationState, FeedbackResponse, Person, RoleAssignment, Stakeholder
from storage.reviews import ReviewRepository

__all__ = ["OpenWork", "ErasureReport", "PersonLifecycle", "erased_name", "why_unreachable"]

log = structlog.get_logger(__name__)


def why_unreachable(person: Any) -> str | None:
    """Why the assistant cannot send ``person`` a direct message, in words for an officer; None when it can.

    Slack needs their Slack user id; Teams needs the conversation reference stored when they install the app or
    write to the bot (a Teams id alone is not enough), which is how the nudge policy decides too."""
    if getattr(person, "deactivated_at", None) is not None:
        return "deactivated: has left"
    if not getattr(person, "reachable", True):
        return "marked unreachable (left, or blocked the app)"
    if getattr(person, "slack_user_id", None) or getattr(person, "teams_conversation_ref", None):
        return None
    if getattr(person, "teams_user_id", None):
        return "has not opened the app in Teams yet"
    return "no Slack or Teams account known"


def erased_name(person_id: int) -> str:
    return f"Erased person {person_id}"


@dataclass
class OpenWork:
    """What a leaver still holds in open reviews: (review id, title, and the stage name and due date)."""

    stages: list[tuple[int, str, str, date]] = field(default_factory=list)
    leads: list[tuple[int, str]] = field(default_factory=list)
    portfolios: list[tuple[int, str]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.stages or self.leads or self.portfolios)


@dataclass
class ErasureReport:
    person_id: int
    open_work: OpenWork
    audit_entries: int = 0
    feedback_answers: int = 0
    conversations: int = 0


def _replace_identity(value: Any, identities: Iterable[str], replacement: str) -> Any:
    """``value`` (a JSON value) with every occurrence of each identity replaced, ignoring case."""
    if isinstance(value, str):
        lowered = value.casefold()
        for identity in identities:
            start = lowered.find(identity.casefold())
            while start != -1:
                value = value[:start] + replacement + value[start + len(identity) :]
                lowered = value.casefold()
                start = lowered.find(identity.casefold(), start + len(replacement))
        return value
    if isinstance(value, Mapping):
        return {key: _replace_identity(item, identities, replacement) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace_identity(item, identities, replacement) for item in value]
    return value


class PersonLifecycle:
    def __init__(self, database: Database) -> None:
        self._database = database
        self._reviews = ReviewRepository(database)

    def open_work(self, person_id: int) -> OpenWork:
        work = OpenWork()
        for review in self._reviews.list_for_person(person_id):
            if review.lead_commissioner.id == person_id:
                work.leads.append((review.id, review.title))
            if review.portfolio_holder.id == person_id:
                work.portfolios.append((review.id, review.title))
            work.stages += [
                (review.id, review.title, stage.name, stage.due_date)
                for stage in review.stages
                if stage.owner.id == person_id and not stage.is_complete
            ]
        return work

    def deactivate(self, person_id: int, *, actor: str) -> OpenWork:
        """Mark ``person_id`` as having left (again is harmless); returns their open work to hand over."""
        with self._database.transaction() as session:
            person = self._person(session, person_id)
            if person.deactivated_at is None:
                person.deactivated_at = utc_now()
                # Every sender (nudges, feedback requests and reminders) already skips unreachable people.
                person.reachable = False
                person.updated_at = utc_now()
                session.add(person)
                AuditRepository.record(
                    session, actor=actor, action="person.deactivated", entity_type="person", entity_id=person_id
                )
        log.info("person_deactivated", person_id=person_id)
        return self.open_work(person_id)

    def erase(self, person_id: int, *, actor: str) -> ErasureReport:
        """Remove everything that identifies ``person_id``, in one transaction; their open work is reported."""
        report = ErasureReport(person_id, self.open_work(person_id))
        replacement = erased_name(person_id)
        with self._database.transaction() as session:
            person = self._person(session, person_id)
            identities = [
                value
                for value in (person.name, person.email, person.slack_user_id, person.teams_user_id)
                if value and len(value) >= 3 and value != replacement
            ]
            # Longest first, so an email is replaced whole before a name inside it.
            identities.sort(key=len, reverse=True)
            report.conversations = self._forget_conversations(session, person, identities)
            person.name = replacement
            person.email = person.slack_user_id = person.teams_user_id = None
            person.teams_conversation_ref = None
            person.reachable = False
            person.deactivated_at = person.deactivated_at or utc_now()
            person.updated_at = utc_now()
            session.add(person)
            connection = session.connection()
            connection.execute(delete(RoleAssignment).where(col(RoleAssignment.person_id) == person_id))
            connection.execute(delete(Stakeholder).where(col(Stakeholder.person_id) == person_id))
            report.audit_entries = self._scrub_audit(session, person_id, identities, replacement)
            report.feedback_answers = self._anonymise_feedback(session, person_id, identities, replacement)
            # The erasure itself is recorded, by id only: that it happened is not personal data about them.
            AuditRepository.record(
                session, actor=actor, action="person.erased", entity_type="person", entity_id=person_id
            )
        log.info(
            "person_erased",
            person_id=person_id,
            audit_entries=report.audit_entries,
            feedback_answers=report.feedback_answers,
        )
        return report

    @staticmethod
    def _person(session: Session, person_id: int) -> Person:
        person = session.get(Person, person_id)
        if person is None:
            raise LookupError(f"There is nobody with id {person_id} in the people list.")
        return person

    @staticmethod
    def _forget_conversations(session: Session, person: Person, identities: list[str]) -> int:
        # Conversation keys carry the platform id or email the person chatted as ("terminal:sam@...").
        keys = [identity for identity in identities if identity != person.name]
        if not keys:
            return 0
        found = session.exec(
            select(ConversationState).where(or_(*(col(ConversationState.key).contains(key) for key in keys)))
        ).all()
        for state in found:
            session.delete(state)
        return len(found)

    @staticmethod
    def _scrub_audit(session: Session, person_id: int, identities: list[str], replacement: str) -> int:
        changed = 0
        for entry in session.exec(select(AuditEntry).order_by(col(AuditEntry.id))):
            actor = (
                replacement
                if entry.actor_person_id == person_id
                else _replace_identity(entry.actor, identities, replacement)
            )
            before = _replace_identity(entry.before, identities, replacement)
            after = _replace_identity(entry.after, identities, replacement)
            if (actor, before, after) != (entry.actor, entry.before, entry.after):
                entry.actor, entry.before, entry.after = actor, before, after
                session.add(entry)
                changed += 1
        return changed

    @staticmethod
    def _anonymise_feedback(session: Session, person_id: int, identities: list[str], replacement: str) -> int:
        answers = session.exec(select(FeedbackResponse).where(col(FeedbackResponse.person_id) == person_id)).all()
        for answer in answers:
            # Named answers become anonymous ones: the ratings still count, nothing links them to the person.
            answer.person_id = None
            answer.anonymous = True
            answer.answered_on = None
            answer.answers = _replace_identity(answer.answers, identities, replacement)
            session.add(answer)
        return len(answers)
