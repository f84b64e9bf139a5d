"""The review lifecycle: creating reviews and moving them through the cycle.

:class:`ReviewService` holds the rules; ``storage/`` holds the SQL. Every
change is written to the audit log in the same transaction as the change
itself, and every change to a review bumps its version, so two people
changing one review at the same moment never lose each other's work (the
later one is re-run on top of the earlier, or told to try again).

Who may do what:

- advance a stage or tick its checklist: the stage owner or the lead commissioner;
- move a due date: the stage owner or the lead commissioner;
- reassign a stage: the lead commissioner;
- close or decommission a review: the lead commissioner or the portfolio holder.

Operators at the command line act as a system actor (``Actor.system``) and may
do all of these; the audit log records which operator task it was.

Everything a user can see when something is refused is a :class:`ReviewError`
with a message written for a council officer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session

from storage.audit import AuditRepository
from storage.db import Database
from storage.models import AuditEntry, Person, Review, ReviewLevel, ReviewStage, ReviewStatus, utc_now
from storage.people import PeopleRepository
from storage.reviews import (
    OverdueStage,
    PersonSummary,
    ReviewRepository,
    ReviewSnapshot,
    ReviewSummary,
    StageSnapshot,
    StageSummary,
)
from workflows.cycle import CycleConfig, cycle_from_settings
from workflows.settings import WorkflowSettings

__all__ = [
    "Actor",
    "ConcurrentChangeError",
    "DuplicateReviewError",
    "NotAllowedError",
    "ReviewDraft",
    "ReviewError",
    "ReviewNotFoundError",
    "ReviewService",
    "open_review_service",
    "StageDraft",
    "MAX_TITLE",
    "MAX_SERVICE",
    "MAX_OUTCOME",
    "MAX_OUTCOMES",
    "MAX_REASON",
    "LEVELS",
    # Read models, re-exported so callers need only this module for the lifecycle's types.
    "OverdueStage",
    "PersonSummary",
    "ReviewSnapshot",
    "ReviewSummary",
    "StageSnapshot",
    "StageSummary",
]

log = structlog.get_logger(__name__)

MAX_TITLE = 300
MAX_SERVICE = 200
MAX_OUTCOME = 500
MAX_OUTCOMES = 20
MAX_REASON = 2000
MAX_STAKEHOLDERS = 50
LEVELS = tuple(level.value for level in ReviewLevel)

# How often a change is re-run after another change to the same review got in first.
_MAX_ATTEMPTS = 8


class ReviewError(Exception):
    """Something a user asked for cannot be done; ``str(error)`` is written for them."""


class ReviewNotFoundError(ReviewError):
    pass


class NotAllowedError(ReviewError):
    pass


class DuplicateReviewError(ReviewError):
    """A review with the same title already exists for the service; ask before creating another."""

    def __init__(self, message: str, existing: Sequence[ReviewSnapshot]) -> None:
        super().__init__(message)
        self.existing = list(existing)


class ConcurrentChangeError(ReviewError):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is making a change: a known person, or an operator/system task with no person behind it."""

    label: str
    person_id: int | None = None

    def __post_init__(self) -> None:
        # The label is stored in 200-character columns (audit log, created_by, completed_by).
        label = " ".join(str(self.label).split()) or "unknown"
        object.__setattr__(self, "label", label if len(label) <= 200 else label[:197] + "...")

    @classmethod
    def person(cls, person_id: int, name: str | None = None) -> Actor:
        return cls(label=f"{name} (person {person_id})" if name else f"person {person_id}", person_id=person_id)

    @classmethod
    def system(cls, task: str) -> Actor:
        return cls(label=task, person_id=None)

    @property
    def is_system(self) -> bool:
        return self.person_id is None


@dataclass
class StageDraft:
    name: str
    owner_id: int
    due: date


@dataclass
class ReviewDraft:
    title: str
    service: str
    outcomes: list[str]
    level: str
    lead_commissioner_id: int
    portfolio_holder_id: int
    stages: list[StageDraft]
    stakeholder_ids: list[int] = field(default_factory=list)


def _tidy(text: str) -> str:
    return " ".join(str(text).split())


def _format_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


class ReviewService:
    def __init__(
        self,
        database: Database,
        cycle: CycleConfig,
        clock: Callable[[], datetime] = utc_now,
        timezone: str = "Europe/London",
    ) -> None:
        self.database = database
        self.cycle = cycle
        self._clock = clock
        self._zone = ZoneInfo(timezone)
        self.reviews = ReviewRepository(database)
        self.people = PeopleRepository(database)
        self.audit = AuditRepository(database)

    # --- time -----------------------------------------------------------------------

    def now(self) -> datetime:
        return self._clock()

    def today(self) -> date:
        """Today in the council's own time zone (a stage due today is not overdue until tomorrow)."""
        return self._clock().astimezone(self._zone).date()

    def suggested_due_dates(self, start: date | None = None) -> list[date]:
        """Due dates for each stage of the cycle by its usual duration, starting today."""
        return self.cycle.default_due_dates(start or self.today())

    # --- reading ----------------------------------------------------------------------

    def get(self, review_id: int) -> ReviewSnapshot:
        snapshot = self.reviews.get(review_id)
        if snapshot is None:
            raise ReviewNotFoundError(f"There is no review number {review_id}.")
        return snapshot

    def find_duplicates(self, title: str, service: str) -> list[ReviewSnapshot]:
        """Reviews already called ``title`` for ``service`` (any status), so the officer can be asked first."""
        return self.reviews.find_by_title(title, service)

    def list_mine(self, person_id: int, include_closed: bool = False) -> list[ReviewSummary]:
        """Reviews the person leads, holds the portfolio for, or owns a stage of; most urgent first."""
        return self.reviews.list_for_person(person_id, statuses=None if include_closed else (ReviewStatus.OPEN.value,))

    def list_for_portfolio_holder(self, person_id: int, include_closed: bool = False) -> list[ReviewSummary]:
        return self.reviews.list_for_portfolio_holder(
            person_id, statuses=None if include_closed else (ReviewStatus.OPEN.value,)
        )

    def list_all(self, include_closed: bool = False, limit: int | None = None) -> list[ReviewSummary]:
        return self.reviews.list_all(statuses=None if include_closed else (ReviewStatus.OPEN.value,), limit=limit)

    def list_overdue(self, limit: int | None = None) -> list[OverdueStage]:
        """Open reviews whose current stage is past its due date, across the council, longest overdue first."""
        return self.reviews.list_overdue(self.today(), limit=limit)

    def history(self, review_id: int) -> list[AuditEntry]:
        return self.audit.for_review(review_id)

    def status_summary(self, review_id: int) -> str:
        """A few lines on where a review stands, for a chat reply or the terminal."""
        review = self.get(review_id)
        today = self.today()
        lines = [f"#{review.id} {review.title} ({review.service}) - {review.status}"]
        lines.append(
            f"Lead commissioner: {review.lead_commissioner.name}. Portfolio holder: {review.portfolio_holder.name}."
        )
        current = review.current_stage
        for stage in review.stages:
            if stage.is_complete:
                state = "done"
            elif stage is current:
                state = "overdue" if stage.is_overdue(today) else "in progress"
            else:
                state = "not started"
            ticked = sum(1 for item in stage.checklist if item.done)
            lines.append(
                f"  {stage.position + 1}. {stage.name}: {state}, owner {stage.owner.name}, "
                f"due {_format_date(stage.due_date)}, checklist {ticked}/{len(stage.checklist)}"
            )
        if review.is_open and current is None:
            lines.append("Every stage is done; the review can be closed.")
        return "\n".join(lines)

    # --- creating -------------------------------------------------------------------------

    def check_draft(self, draft: ReviewDraft, *, require_outcomes: bool = True, check_people: bool = True) -> list[str]:
        """Everything wrong with a draft, as sentences for the officer; empty when it can be saved.

        Imports pass ``require_outcomes=False`` (the CSV format has no outcomes column
        of its own) and ``check_people=False`` (they have resolved everyone already).
        """
        problems: list[str] = []
        title, service = _tidy(draft.title), _tidy(draft.service)
        if not title:
            problems.append("The review needs a title.")
        elif len(title) > MAX_TITLE:
            problems.append(f"The title is {len(title)} characters long; please keep it under {MAX_TITLE}.")
        if not service:
            problems.append("Say which service is under review.")
        elif len(service) > MAX_SERVICE:
            problems.append(f"The service name is {len(service)} characters long; please keep it under {MAX_SERVICE}.")
        outcomes = [_tidy(outcome) for outcome in draft.outcomes if _tidy(outcome)]
        if not outcomes and require_outcomes:
            problems.append("Name at least one outcome wanted for residents.")
        if len(outcomes) > MAX_OUTCOMES:
            problems.append(f"That is {len(outcomes)} outcomes; please keep to the {MAX_OUTCOMES} that matter most.")
        for outcome in outcomes:
            if len(outcome) > MAX_OUTCOME:
                problems.append(f"An outcome is {len(outcome)} characters long; please keep each under {MAX_OUTCOME}.")
                break
        if _tidy(draft.level).lower() not in LEVELS:
            problems.append(f"The level must be one of: {', '.join(LEVELS)} (not {draft.level!r}).")

        expected = list(self.cycle.stage_names)
        given = [_tidy(stage.name) for stage in draft.stages]
        if [name.casefold() for name in given] != [name.casefold() for name in expected]:
            problems.append(
                f"The stages must be {', '.join(expected)}, in that order (got {', '.join(given) or 'none'})."
            )
        previous_due: date | None = None
        for stage in draft.stages:
            if previous_due is not None and stage.due < previous_due:
                problems.append(
                    f"{_tidy(stage.name)} is due on {_format_date(stage.due)}, before the stage ahead of it "
                    f"({_format_date(previous_due)})."
                )
            previous_due = stage.due
        if len(draft.stakeholder_ids) > MAX_STAKEHOLDERS:
            problems.append(
                f"That is {len(draft.stakeholder_ids)} stakeholders; at most {MAX_STAKEHOLDERS} can be added."
            )

        if check_people:
            person_ids = {draft.lead_commissioner_id, draft.portfolio_holder_id, *draft.stakeholder_ids}
            person_ids.update(stage.owner_id for stage in draft.stages)
            known = self.people.get_many(person_ids)
            missing = sorted(person_id for person_id in person_ids if person_id not in known)
            if missing:
                problems.append(f"Nobody with id {', '.join(map(str, missing))} is in the people list.")
        return problems

    def create_review(self, draft: ReviewDraft, actor: Actor | int, *, allow_duplicate: bool = False) -> ReviewSnapshot:
        """Save a new review with its stages and stakeholders; the first stage starts now.

        Raises :class:`DuplicateReviewError` when the service already has a review with this
        title, unless ``allow_duplicate`` (the officer was asked and said yes).
        """
        actor = self._actor(actor)
        problems = self.check_draft(draft)
        if problems:
            raise ReviewError(" ".join(problems))
        if not allow_duplicate:
            existing = self.find_duplicates(draft.title, draft.service)
            if existing:
                first = existing[0]
                raise DuplicateReviewError(
                    f'There is already a review called "{first.title}" for {first.service} '
                    f"(#{first.id}, {first.status}, led by {first.lead_commissioner.name}). Create another anyway?",
                    existing,
                )
        [review_id] = self.create_reviews([draft], actor)
        return self.get(review_id)

    def create_reviews(self, drafts: Sequence[ReviewDraft], actor: Actor | int) -> list[int]:
        """Save many checked drafts in one transaction (all or none); used by imports. Returns the new ids."""
        actor = self._actor(actor)
        now = self.now()
        review_rows, stage_rows, stakeholder_rows = [], [], []
        for draft in drafts:
            review_rows.append(
                {
                    "title": _tidy(draft.title),
                    "service": _tidy(draft.service),
                    "outcomes": [_tidy(outcome) for outcome in draft.outcomes if _tidy(outcome)],
                    "level": _tidy(draft.level).lower(),
                    "lead_commissioner_id": draft.lead_commissioner_id,
                    "portfolio_holder_id": draft.portfolio_holder_id,
                    "status": ReviewStatus.OPEN.value,
                    "status_reason": None,
                    "created_by": actor.label,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
            )
            stage_rows.append(
                [
                    {
                        "name": definition.name,
                        "position": position,
                        "owner_id": stage.owner_id,
                        "due_date": stage.due,
                        "started_at": now if position == 0 else None,
                        "completed_at": None,
                        "checklist": [{"item": item, "done": False} for item in definition.checklist],
                        "completion_note": None,
                        "completed_by": None,
                    }
                    for position, (stage, definition) in enumerate(zip(draft.stages, self.cycle.stages))
                ]
            )
            stakeholder_rows.append(
                [{"person_id": person_id, "role": None} for person_id in dict.fromkeys(draft.stakeholder_ids)]
            )
        with self.database.transaction() as session:
            review_ids = ReviewRepository.insert_many(session, review_rows, stage_rows, stakeholder_rows)
            for review_id, values, stages, stakeholders in zip(review_ids, review_rows, stage_rows, stakeholder_rows):
                after = dict(values)
                after["stages"] = [
                    {"name": s["name"], "owner_id": s["owner_id"], "due_date": s["due_date"]} for s in stages
                ]
                after["stakeholder_ids"] = [s["person_id"] for s in stakeholders]
                self._audit(session, actor, "review.created", "review", review_id, review_id, None, after)
        for review_id in review_ids:
            log.info("review_created", review_id=review_id, actor=actor.label)
        return review_ids

    # --- changing ----------------------------------------------------------------------------

    def advance_stage(
        self, review_id: int, actor: Actor | int, *, stage_name: str | None = None, reason: str | None = None
    ) -> ReviewSnapshot:
        """Mark the current stage done and start the next one.

        ``stage_name``, when given, must be the current stage (so a stale button
        cannot complete the wrong one). A stage with checklist items still open
        needs a ``reason``, which is recorded with the stage and in the audit log.
        """
        actor = self._actor(actor)
        reason = self._check_reason(reason)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: _People) -> None:
            self._require_open(review)
            current = next((stage for stage in stages if stage.completed_at is None), None)
            if current is None:
                raise ReviewError(f'Every stage of "{review.title}" is already done; it can now be closed.')
            if stage_name is not None and _tidy(stage_name).casefold() != current.name.casefold():
                named = next((s for s in stages if s.name.casefold() == _tidy(stage_name).casefold()), None)
                if named is None:
                    raise ReviewError(self._unknown_stage_message(stage_name, stages))
                if named.completed_at is not None:
                    raise ReviewError(f'{named.name} is already done for "{review.title}".')
                raise ReviewError(
                    f"{named.name} cannot be marked done before {current.name}, which is the current stage."
                )
            if not (actor.is_system or actor.person_id in (current.owner_id, review.lead_commissioner_id)):
                raise NotAllowedError(
                    f"Only the stage owner ({people.name(current.owner_id)}) or the lead commissioner "
                    f"({people.name(review.lead_commissioner_id)}) can mark {current.name} as done."
                )
            open_items = [item["item"] for item in current.checklist if not item.get("done")]
            if open_items and not reason:
                listed = "; ".join(open_items)
                raise ReviewError(
                    f"{current.name} still has {len(open_items)} checklist item"
                    f"{'s' if len(open_items) != 1 else ''} open ({listed}). "
                    "Tick them off, or give a reason for finishing the stage without them."
                )
            now = self.now()
            before = {"stage": current.name, "completed_at": None, "open_items": open_items}
            current.completed_at = now
            current.completed_by = actor.label
            current.completion_note = reason
            following = next((stage for stage in stages if stage.position > current.position), None)
            if following is not None and following.started_at is None:
                following.started_at = now
            after = {
                "stage": current.name,
                "completed_at": now,
                "open_items": open_items,
                "reason": reason,
                "next_stage": following.name if following else None,
            }
            self._audit(session, actor, "stage.completed", "review_stage", current.id, review.id, before, after)

        return self._change(review_id, actor, "stage_completed", change)

    def set_checklist_item(
        self, review_id: int, stage_name: str, item: int | str, actor: Actor | int, *, done: bool = True
    ) -> ReviewSnapshot:
        """Tick (or untick) one checklist item, named by its number (1 = first) or its text."""
        actor = self._actor(actor)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: _People) -> None:
            self._require_open(review)
            stage = self._stage(stages, stage_name)
            self._require_owner_or_lead(actor, review, stage, people, f"update the {stage.name} checklist")
            index = self._checklist_index(stage, item)
            checklist = [dict(entry) for entry in stage.checklist]
            if bool(checklist[index].get("done")) == done:
                return
            before = {"stage": stage.name, "item": checklist[index]["item"], "done": not done}
            checklist[index]["done"] = done
            # A new list, so the JSON column is seen as changed.
            stage.checklist = checklist
            after = {"stage": stage.name, "item": checklist[index]["item"], "done": done}
            self._audit(
                session,
                actor,
                "stage.checklist_ticked" if done else "stage.checklist_unticked",
                "review_stage",
                stage.id,
                review.id,
                before,
                after,
            )

        return self._change(review_id, actor, "checklist_item_set", change)

    def reassign_stage(self, review_id: int, stage_name: str, new_owner_id: int, actor: Actor | int) -> ReviewSnapshot:
        actor = self._actor(actor)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: _People) -> None:
            self._require_open(review)
            stage = self._stage(stages, stage_name)
            if not (actor.is_system or actor.person_id == review.lead_commissioner_id):
                raise NotAllowedError(
                    f"Only the lead commissioner ({people.name(review.lead_commissioner_id)}) can give "
                    f"{stage.name} to someone else."
                )
            if stage.completed_at is not None:
                raise ReviewError(f"{stage.name} is already done, so its owner cannot change.")
            if people.get(new_owner_id) is None:
                raise ReviewError(f"Nobody with id {new_owner_id} is in the people list.")
            if stage.owner_id == new_owner_id:
                return
            before = {"stage": stage.name, "owner_id": stage.owner_id, "owner": people.name(stage.owner_id)}
            stage.owner_id = new_owner_id
            after = {"stage": stage.name, "owner_id": new_owner_id, "owner": people.name(new_owner_id)}
            self._audit(session, actor, "stage.owner_changed", "review_stage", stage.id, review.id, before, after)

        return self._change(review_id, actor, "stage_reassigned", change, extra_people=[new_owner_id])

    def move_due_date(
        self, review_id: int, stage_name: str, new_due: date, actor: Actor | int, *, reason: str | None = None
    ) -> ReviewSnapshot:
        actor = self._actor(actor)
        reason = self._check_reason(reason)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: _People) -> None:
            self._require_open(review)
            stage = self._stage(stages, stage_name)
            self._require_owner_or_lead(actor, review, stage, people, f"move the due date of {stage.name}")
            if stage.completed_at is not None:
                raise ReviewError(f"{stage.name} is already done, so its due date cannot move.")
            if new_due < self.today():
                raise ReviewError(f"{_format_date(new_due)} is in the past; choose today or a later date.")
            if stage.due_date == new_due:
                return
            before = {"stage": stage.name, "due_date": stage.due_date}
            stage.due_date = new_due
            after = {"stage": stage.name, "due_date": new_due, "reason": reason}
            self._audit(session, actor, "stage.due_date_moved", "review_stage", stage.id, review.id, before, after)

        return self._change(review_id, actor, "stage_due_date_moved", change)

    def close_review(self, review_id: int, actor: Actor | int, *, reason: str | None = None) -> ReviewSnapshot:
        return self._finish(review_id, actor, ReviewStatus.CLOSED, reason, reason_required=False)

    def decommission_review(self, review_id: int, actor: Actor | int, *, reason: str) -> ReviewSnapshot:
        """End a review because the service itself is being stopped; a reason is required."""
        return self._finish(review_id, actor, ReviewStatus.DECOMMISSIONED, reason, reason_required=True)

    # --- internals ----------------------------------------------------------------------------

    def _finish(
        self, review_id: int, actor: Actor | int, status: ReviewStatus, reason: str | None, reason_required: bool
    ) -> ReviewSnapshot:
        actor = self._actor(actor)
        reason = self._check_reason(reason)
        verb = "close" if status is ReviewStatus.CLOSED else "decommission"
        if reason_required and not reason:
            raise ReviewError(f"Please give a reason to {verb} the review; it is kept in the audit log.")

        def change(session: Session, review: Review, stages: list[ReviewStage], people: _People) -> None:
            self._require_open(review)
            allowed = (review.lead_commissioner_id, review.portfolio_holder_id)
            if not (actor.is_system or actor.person_id in allowed):
                raise NotAllowedError(
                    f"Only the lead commissioner ({people.name(review.lead_commissioner_id)}) or the portfolio "
                    f'holder ({people.name(review.portfolio_holder_id)}) can {verb} "{review.title}".'
                )
            before = {"status": review.status, "status_reason": review.status_reason}
            review.status = status.value
            review.status_reason = reason
            unfinished = [stage.name for stage in stages if stage.completed_at is None]
            after = {"status": status.value, "status_reason": reason, "unfinished_stages": unfinished}
            self._audit(session, actor, f"review.{status.value}", "review", review.id, review.id, before, after)

        return self._change(review_id, actor, f"review_{status.value}", change)

    def _change(
        self,
        review_id: int,
        actor: Actor,
        event_name: str,
        apply: Callable[[Session, Review, list[ReviewStage], _People], None],
        extra_people: Sequence[int] = (),
    ) -> ReviewSnapshot:
        """Run ``apply`` on a locked, fresh copy of the review; re-run it if someone else got in first."""
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                with self.database.transaction() as session:
                    loaded = ReviewRepository.lock_for_change(session, review_id)
                    if loaded is None:
                        raise ReviewNotFoundError(f"There is no review number {review_id}.")
                    review, stages = loaded
                    version_before = review.version
                    person_ids = {review.lead_commissioner_id, review.portfolio_holder_id, *extra_people}
                    person_ids.update(stage.owner_id for stage in stages)
                    people = _People(session, person_ids)
                    apply(session, review, stages, people)
                    if session.dirty or session.new:
                        # Touching the review row bumps its version even when only a stage
                        # changed, so any two changes to one review are strictly ordered.
                        review.updated_at = self.now()
                        # Flagged as well as set: an unchanged value would otherwise skip the UPDATE.
                        flag_modified(review, "updated_at")
                        session.flush()
                        log.info(
                            event_name,
                            review_id=review_id,
                            actor=actor.label,
                            version=version_before + 1,
                            attempt=attempt,
                        )
                return self.get(review_id)
            except (StaleDataError, OperationalError) as error:
                if isinstance(error, OperationalError) and not _is_transient(error):
                    raise
                log.info("review_change_retried", review_id=review_id, attempt=attempt)
                time.sleep(0.005 * attempt)
        raise ConcurrentChangeError(
            "Several people changed this review at the same moment and your change could not be saved. "
            "Please try again."
        )

    def _audit(
        self,
        session: Session,
        actor: Actor,
        action: str,
        entity_type: str,
        entity_id: int | None,
        review_id: int,
        before: dict[str, Any] | None,
        after: dict[str, Any] | None,
    ) -> None:
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

    def _actor(self, actor: Actor | int) -> Actor:
        if isinstance(actor, Actor):
            return actor
        person = self.people.get(actor)
        if person is None:
            raise ReviewError(f"Nobody with id {actor} is in the people list.")
        return Actor.person(actor, person.name)

    @staticmethod
    def _check_reason(reason: str | None) -> str | None:
        if reason is None:
            return None
        reason = _tidy(reason)
        if len(reason) > MAX_REASON:
            raise ReviewError(f"That reason is {len(reason)} characters long; please keep it under {MAX_REASON}.")
        return reason or None

    @staticmethod
    def _require_open(review: Review) -> None:
        if review.status != ReviewStatus.OPEN.value:
            raise ReviewError(f'"{review.title}" is {review.status}, so it cannot be changed.')

    @staticmethod
    def _require_owner_or_lead(actor: Actor, review: Review, stage: ReviewStage, people: _People, what: str) -> None:
        if actor.is_system or actor.person_id in (stage.owner_id, review.lead_commissioner_id):
            return
        raise NotAllowedError(
            f"Only the stage owner ({people.name(stage.owner_id)}) or the lead commissioner "
            f"({people.name(review.lead_commissioner_id)}) can {what}."
        )

    @staticmethod
    def _unknown_stage_message(stage_name: str, stages: Sequence[ReviewStage]) -> str:
        names = ", ".join(stage.name for stage in stages)
        return f'This review has no stage called "{_tidy(stage_name)}"; its stages are {names}.'

    def _stage(self, stages: Sequence[ReviewStage], stage_name: str) -> ReviewStage:
        wanted = _tidy(stage_name).casefold()
        stage = next((stage for stage in stages if stage.name.casefold() == wanted), None)
        if stage is None:
            raise ReviewError(self._unknown_stage_message(stage_name, stages))
        return stage

    @staticmethod
    def _checklist_index(stage: ReviewStage, item: int | str) -> int:
        entries = stage.checklist or []
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            number = int(item)
            if 1 <= number <= len(entries):
                return number - 1
            raise ReviewError(f"{stage.name} has {len(entries)} checklist items; there is no item {number}.")
        wanted = _tidy(item).casefold()
        matches = [index for index, entry in enumerate(entries) if wanted and wanted in entry["item"].casefold()]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise ReviewError(f'{stage.name} has no checklist item matching "{_tidy(item)}".')
        raise ReviewError(f'More than one {stage.name} checklist item matches "{_tidy(item)}"; give its number.')


def _is_transient(error: OperationalError) -> bool:
    """A clash with another writer that is worth running again, rather than a broken database."""
    text = str(error.orig if error.orig is not None else error).lower()
    return any(sign in text for sign in ("database is locked", "deadlock detected", "could not serialize"))


class _People:
    """The people a change mentions, loaded once, for messages that use names rather than ids."""

    def __init__(self, session: Session, person_ids: set[int]) -> None:
        from sqlmodel import select

        self._by_id: dict[int, Person] = {}
        if person_ids:
            for person in session.exec(select(Person).where(Person.id.in_(sorted(person_ids)))).all():  # type: ignore[union-attr]
                self._by_id[person.id] = person  # type: ignore[index]

    def get(self, person_id: int) -> Person | None:
        return self._by_id.get(person_id)

    def name(self, person_id: int) -> str:
        person = self._by_id.get(person_id)
        return person.name if person else f"person {person_id}"


def open_review_service(settings: WorkflowSettings, database: Database) -> ReviewService:
    """The review service as configured: the council's cycle file and timezone, on ``database``."""
    return ReviewService(database, cycle_from_settings(settings), timezone=settings.timezone)
