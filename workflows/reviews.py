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

from collections.abc import Callable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog
from sqlmodel import Session

from storage.audit import AuditRepository
from storage.base import utc_now
from storage.db import Database
from storage.models import AuditEntry, Review, ReviewStage, ReviewStatus
from storage.people import PeopleRepository
from storage.review_snapshots import OverdueStage, ReviewSnapshot, ReviewSummary
from storage.reviews import ReviewRepository
from workflows.cycle import CycleConfig, cycle_from_settings
from workflows.review_changes import (
    ChangePeople,
    ReviewChanges,
    acting,
    check_reason,
    checklist_index,
    current_stage,
    find_stage,
    require_open,
    require_owner_or_lead,
)
from workflows.review_rules import (
    LEVELS,
    Actor,
    ConcurrentChangeError,
    DuplicateReviewError,
    NotAllowedError,
    ReviewDraft,
    ReviewError,
    ReviewNotFoundError,
    StageDraft,
    draft_problems,
    draft_rows,
    format_day,
    status_text,
)
from workflows.settings import WorkflowSettings

__all__ = [
    "LEVELS",
    "Actor",
    "ConcurrentChangeError",
    "DuplicateReviewError",
    "NotAllowedError",
    "ReviewDraft",
    "ReviewError",
    "ReviewNotFoundError",
    "ReviewService",
    "ReviewSnapshot",
    "ReviewSummary",
    "StageDraft",
    "open_review_service",
]

log = structlog.get_logger(__name__)


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
        self._changes = ReviewChanges(database, self.now)

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
        return status_text(self.get(review_id), self.today())

    # --- creating -------------------------------------------------------------------------

    def check_draft(self, draft: ReviewDraft, *, require_outcomes: bool = True, check_people: bool = True) -> list[str]:
        """Everything wrong with a draft, as sentences for the officer; empty when it can be saved.

        Imports pass ``require_outcomes=False`` (the CSV format has no outcomes column
        of its own) and ``check_people=False`` (they have resolved everyone already).
        """
        problems = draft_problems(draft, self.cycle, require_outcomes=require_outcomes)
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
        rows = [draft_rows(draft, self.cycle, actor.label, self.now()) for draft in drafts]
        review_rows = [review for review, _, _ in rows]
        stage_rows = [stages for _, stages, _ in rows]
        stakeholder_rows = [stakeholders for _, _, stakeholders in rows]
        with self.database.transaction() as session:
            review_ids = ReviewRepository.insert_many(session, review_rows, stage_rows, stakeholder_rows)
            for review_id, (values, stages, stakeholders) in zip(review_ids, rows, strict=True):
                after = dict(values)
                after["stages"] = [
                    {"name": s["name"], "owner_id": s["owner_id"], "due_date": s["due_date"]} for s in stages
                ]
                after["stakeholder_ids"] = [s["person_id"] for s in stakeholders]
                self._changes.audit(session, actor, "review.created", ("review", review_id), review_id, None, after)
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
        reason = check_reason(reason)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: ChangePeople) -> None:
            require_open(review)
            current = current_stage(review, stages, stage_name)
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
            self._changes.audit(
                session, actor, "stage.completed", ("review_stage", current.id), review.id, before, after
            )

        self._changes.run(review_id, actor, "stage_completed", change)
        return self.get(review_id)

    def set_checklist_item(
        self, review_id: int, stage_name: str, item: int | str, actor: Actor | int, *, done: bool = True
    ) -> ReviewSnapshot:
        """Tick (or untick) one checklist item, named by its number (1 = first) or its text."""
        actor = self._actor(actor)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: ChangePeople) -> None:
            require_open(review)
            stage = find_stage(stages, stage_name)
            require_owner_or_lead(actor, review, stage, people, f"update the {stage.name} checklist")
            index = checklist_index(stage, item)
            checklist = [dict(entry) for entry in stage.checklist]
            if bool(checklist[index].get("done")) == done:
                return
            before = {"stage": stage.name, "item": checklist[index]["item"], "done": not done}
            checklist[index]["done"] = done
            # A new list, so the JSON column is seen as changed.
            stage.checklist = checklist
            after = {"stage": stage.name, "item": checklist[index]["item"], "done": done}
            action = "stage.checklist_ticked" if done else "stage.checklist_unticked"
            self._changes.audit(session, actor, action, ("review_stage", stage.id), review.id, before, after)

        self._changes.run(review_id, actor, "checklist_item_set", change)
        return self.get(review_id)

    def reassign_stage(self, review_id: int, stage_name: str, new_owner_id: int, actor: Actor | int) -> ReviewSnapshot:
        actor = self._actor(actor)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: ChangePeople) -> None:
            require_open(review)
            stage = find_stage(stages, stage_name)
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
            self._changes.audit(
                session, actor, "stage.owner_changed", ("review_stage", stage.id), review.id, before, after
            )

        self._changes.run(review_id, actor, "stage_reassigned", change, extra_people=[new_owner_id])
        return self.get(review_id)

    def move_due_date(
        self, review_id: int, stage_name: str, new_due: date, actor: Actor | int, *, reason: str | None = None
    ) -> ReviewSnapshot:
        actor = self._actor(actor)
        reason = check_reason(reason)

        def change(session: Session, review: Review, stages: list[ReviewStage], people: ChangePeople) -> None:
            require_open(review)
            stage = find_stage(stages, stage_name)
            require_owner_or_lead(actor, review, stage, people, f"move the due date of {stage.name}")
            if stage.completed_at is not None:
                raise ReviewError(f"{stage.name} is already done, so its due date cannot move.")
            if new_due < self.today():
                raise ReviewError(f"{format_day(new_due)} is in the past; choose today or a later date.")
            if stage.due_date == new_due:
                return
            before = {"stage": stage.name, "due_date": stage.due_date}
            stage.due_date = new_due
            after = {"stage": stage.name, "due_date": new_due, "reason": reason}
            self._changes.audit(
                session, actor, "stage.due_date_moved", ("review_stage", stage.id), review.id, before, after
            )

        self._changes.run(review_id, actor, "stage_due_date_moved", change)
        return self.get(review_id)

    def close_review(self, review_id: int, actor: Actor | int, *, reason: str | None = None) -> ReviewSnapshot:
        return self._finish(review_id, actor, ReviewStatus.CLOSED, reason, reason_required=False)

    def decommission_review(self, review_id: int, actor: Actor | int, *, reason: str) -> ReviewSnapshot:
        """End a review because the service itself is being stopped; a reason is required."""
        return self._finish(review_id, actor, ReviewStatus.DECOMMISSIONED, reason, reason_required=True)

    def _finish(
        self, review_id: int, actor: Actor | int, status: ReviewStatus, reason: str | None, reason_required: bool
    ) -> ReviewSnapshot:
        actor = self._actor(actor)
        reason = check_reason(reason)
        verb = "close" if status is ReviewStatus.CLOSED else "decommission"
        if reason_required and not reason:
            raise ReviewError(f"Please give a reason to {verb} the review; it is kept in the audit log.")

        def change(session: Session, review: Review, stages: list[ReviewStage], people: ChangePeople) -> None:
            require_open(review)
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
            self._changes.audit(
                session, actor, f"review.{status.value}", ("review", review.id), review.id, before, after
            )

        self._changes.run(review_id, actor, f"review_{status.value}", change)
        return self.get(review_id)

    def _actor(self, actor: Actor | int) -> Actor:
        return acting(self.people, actor)


def open_review_service(settings: WorkflowSettings, database: Database) -> ReviewService:
    """The review service as configured: the council's cycle file and timezone, on ``database``."""
    return ReviewService(database, cycle_from_settings(settings), timezone=settings.timezone)
