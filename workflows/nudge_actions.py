"""The buttons on a nudge, for every platform: Mark stage done, Snooze 2 working days, Reassign, Open review.

For the Slack and Teams adapters: a nudge is a core :class:`~workflows.replies.Reply`
whose buttons carry the action ids in :class:`~workflows.actions.NudgeActions`.

- ``MARK_DONE`` and ``OPEN_REVIEW`` *are* the command buttons
  ``CommandActions.REVIEW_ADVANCE`` (value ``"<review>:<stage>"``) and
  ``CommandActions.REVIEW_STATUS`` (value ``"<review>"``), so the listeners that
  already handle those on both platforms handle them on a nudge too.
- ``SNOOZE`` (value ``"<review>:<stage>"``): call :meth:`NudgeButtons.press` and
  show the replies. Nothing else to ask.
- ``REASSIGN`` (value ``"<review>:<stage>"``): ask the officer who should take the
  stage on (Slack: a modal with a user picker; Teams: a card with a text input),
  then call :meth:`NudgeButtons.reassign` with what they picked or typed (a
  Slack ``<@U…>``/user id, a Teams mention, an email or a name: the user's
  ``PeopleResolver`` reads it). :meth:`NudgeButtons.press` with ``REASSIGN``
  answers with who may reassign and how, for adapters with no form to show.

Every change is audited: done and reassign through :class:`ReviewService` (which
also checks who may do them), snooze in the audit log alongside the snooze row.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import structlog

from storage.audit import AuditRepository
from storage.base import utc_now
from storage.nudges import NudgeStore
from workflows.actions import NudgeActions, parse_stage_value
from workflows.dialogue import UserContext
from workflows.people import Resolved
from workflows.replies import Button, Reply, ReplyKind
from workflows.reviews import Actor, ReviewError, ReviewService
from workflows.working_days import WorkingCalendar

__all__ = ["NudgeButtons", "SNOOZE_WORKING_DAYS"]

log = structlog.get_logger(__name__)

SNOOZE_WORKING_DAYS = 2


def _format(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B}"


class NudgeButtons:
    def __init__(
        self, reviews: ReviewService, calendar: WorkingCalendar, clock: Callable[[], datetime] = utc_now
    ) -> None:
        self.reviews = reviews
        self.calendar = calendar
        self._clock = clock
        self._store = NudgeStore(reviews.database)

    def press(self, user: UserContext, action_id: str, value: str) -> list[Reply]:
        """A nudge's Snooze or Reassign button was pressed; the replies are for the officer who pressed it."""
        if user.person is None:
            return [
                Reply(
                    "I don't know who you are in the council's people list, so I can't change this review. "
                    "Ask an administrator to add you.",
                    ReplyKind.PROBLEM,
                )
            ]
        try:
            review_id, stage_name = parse_stage_value(value)
        except ValueError:
            return [Reply("That button is from an older message and no longer does anything.", ReplyKind.PROBLEM)]
        if action_id == NudgeActions.SNOOZE:
            return [self.snooze(user, review_id, stage_name)]
        if action_id == NudgeActions.REASSIGN:
            return [self.how_to_reassign(user, review_id, stage_name)]
        raise ValueError(f"nudges have no button {action_id!r}")

    def snooze(self, user: UserContext, review_id: int, stage_name: str) -> Reply:
        """Hold this person's reminders about the stage for two working days (their own calendar)."""
        assert user.person is not None
        try:
            review = self.reviews.get(review_id)
        except ReviewError as error:
            return Reply(str(error), ReplyKind.PROBLEM)
        stage = review.stage(stage_name)
        if stage is None or stage.is_complete or not review.is_open:
            return Reply(
                f"{stage_name} of #{review_id} is already done or closed, so there is nothing to snooze.",
                ReplyKind.INFO,
            )
        person_id = user.person.id
        if person_id not in (stage.owner.id, review.lead_commissioner.id):
            return Reply(
                f"Only {stage.owner.name} (the stage owner) or {review.lead_commissioner.name} (the lead "
                "commissioner) can snooze reminders about this stage.",
                ReplyKind.PROBLEM,
            )
        person = self.reviews.people.get(person_id)
        now = self._clock()
        today = self.calendar.local_today(now, person.timezone if person else None)
        until = self.calendar.add_working_days(today, SNOOZE_WORKING_DAYS)
        actor = Actor.person(person_id, user.person.name)
        # The snooze and its audit entry are saved together or not at all.
        with self.reviews.database.transaction() as session:
            previous = NudgeStore.save_snooze(
                session.connection(), review_id=review_id, stage_id=stage.id, person_id=person_id, until=until, at=now
            )
            AuditRepository.record(
                session,
                actor=actor.label,
                actor_person_id=person_id,
                action="stage.reminders_snoozed",
                entity_type="review_stage",
                entity_id=stage.id,
                review_id=review_id,
                before={"stage": stage.name, "snoozed_until": previous},
                after={"stage": stage.name, "snoozed_until": until},
                at=now,
            )
        log.info("nudge_snoozed", review_id=review_id, stage_id=stage.id, person_id=person_id, until=until)
        return Reply(
            f"Snoozed: I'll remind you about {stage.name} of #{review.id} “{review.title}” again on "
            f"{_format(until)}. It is still due {stage.due_date.day} {stage.due_date:%B %Y}.",
            ReplyKind.DONE,
        )

    def how_to_reassign(self, user: UserContext, review_id: int, stage_name: str) -> Reply:
        try:
            review = self.reviews.get(review_id)
        except ReviewError as error:
            return Reply(str(error), ReplyKind.PROBLEM)
        lead = review.lead_commissioner
        if user.person is None or user.person.id != lead.id:
            return Reply(
                f"Only the lead commissioner, {lead.name}, can give {stage_name} of #{review.id} to someone "
                "else. Let them know who should take it on.",
                ReplyKind.INFO,
                buttons=[Button("Open review", str(review.id), NudgeActions.OPEN_REVIEW)],
            )
        return Reply(f"Who should take on {stage_name} of #{review.id} “{review.title}”?", ReplyKind.QUESTION)

    def reassign(self, user: UserContext, review_id: int, stage_name: str, new_owner: str) -> Reply:
        """Give the stage to the person named by ``new_owner`` (a mention, id, email or name), if allowed."""
        if user.person is None:
            return Reply(
                "I don't know who you are in the council's people list, so I can't change this review.",
                ReplyKind.PROBLEM,
            )
        resolution = user.people.resolve(new_owner)
        if not isinstance(resolution, Resolved):
            return Reply(
                f"I don't know who “{new_owner.strip()[:80]}” is. Try an @mention or their email.", ReplyKind.PROBLEM
            )
        try:
            review = self.reviews.reassign_stage(
                review_id, stage_name, resolution.person.id, Actor.person(user.person.id, user.person.name)
            )
        except ReviewError as error:
            return Reply(str(error), ReplyKind.PROBLEM)
        log.info("nudge_stage_reassigned", review_id=review_id, stage=stage_name)
        return Reply(
            f"Done: {stage_name} of #{review.id} “{review.title}” now belongs to {resolution.person.name}, "
            "who will get its reminders from now on.",
            ReplyKind.DONE,
            buttons=[Button("Open review", str(review.id), NudgeActions.OPEN_REVIEW)],
        )
