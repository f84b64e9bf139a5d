"""Asking stakeholders for feedback: one use case, the same on every platform.

An adapter turns its form (a Slack modal with people, a channel and a user group; a Teams card with names
or emails) into a :class:`RequestForm` and calls :meth:`FeedbackRequests.ask`, which

1. refuses anyone but the review's lead commissioner or a stage owner;
2. checks the form, field by field (:class:`~workflows.feedback.rules.RequestFields`);
3. stores the round and one request row per stakeholder (never the person asking);
4. counts who can be messaged, and returns a :class:`RequestOutcome` with the officer's confirmation.

The adapter shows that confirmation at once and then calls :meth:`FeedbackRequests.send_invitations`
after it has answered the platform: the invitations go out through the same path as nudges
(:class:`~workflows.messaging.Courier`: claimed in the ledger and queued in the durable work queue in one
transaction, then sent by the queue's workers), each once, and the hourly job (:meth:`send_reminders`)
retries any that failed and reminds people who haven't answered, once, in the last
``REMINDER_WORKING_DAYS`` working days before the closing date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import structlog

from storage.feedback_records import RoundRecord
from workflows.actions import FeedbackActions
from workflows.dates import format_date
from workflows.feedback.questions import QuestionSet
from workflows.feedback.rules import MAX_CLOSING_DAYS, MAX_STAKEHOLDERS, FeedbackRules, RequestFields, plural
from workflows.messaging import Courier, Delivery, DeliveryOutcome, Messenger, Parcel, Postmark
from workflows.people import PersonRef
from workflows.replies import Button, Reply, ReplyKind

__all__ = ["REMINDER_WORKING_DAYS", "FeedbackRequests", "RequestForm", "RequestOutcome"]

CLAIMED_ELSEWHERE = DeliveryOutcome.CLAIMED_ELSEWHERE

log = structlog.get_logger(__name__)

REMINDER_WORKING_DAYS = 2
DEFAULT_CLOSING_WORKING_DAYS = 10
# The notification ledger's kinds for feedback messages (a nudge's kinds are its NudgeKind values).
LEDGER_INVITATION = "feedback_request"
LEDGER_REMINDER = "feedback_reminder"


@dataclass(frozen=True)
class RequestForm:
    """A filled-in request form, whichever platform's: who to ask, with which questions, until when."""

    person_ids: Sequence[int] = ()
    question_set: str = ""  # a set's id; the default set when empty
    closes_on: str | date | None = None  # the last day answers are taken
    unresolved: Sequence[str] = ()  # names or emails nobody in the people list matched


@dataclass(frozen=True)
class RequestOutcome:
    """What asking led to: a refusal, the form's problems by field, or the round with its counts."""

    refusal: str | None = None  # the officer may not ask for feedback on this review
    errors: dict[str, str] = field(default_factory=dict)
    round: RoundRecord | None = None
    invited: int = 0  # stakeholders asked
    reachable: int = 0  # of them, those a configured platform can message now
    refused: int = 0  # of them, those a platform refuses (they left or blocked the assistant)
    confirmation: Reply | None = None


class FeedbackRequests:
    def __init__(self, rules: FeedbackRules, messengers: Sequence[Messenger] = (), *, max_attempts: int = 5) -> None:
        self.rules = rules
        self.courier = Courier(
            rules.database, messengers, max_attempts=max_attempts, clock=rules.clock, sender="feedback"
        )

    def default_closing_date(self) -> date:
        return self.rules.calendar.add_working_days(self.rules.today(), DEFAULT_CLOSING_WORKING_DAYS)

    # --- asking -----------------------------------------------------------------------------------

    def check(
        self, *, question_set: str, closes_on: str | date | None, stakeholder_count: int, unresolved: Sequence[str] = ()
    ) -> tuple[dict[str, str], QuestionSet | None, date | None]:
        """Per-field problems with a request form's values, with the question set and closing date they name."""
        errors: dict[str, str] = {}
        sets = self.rules.question_sets
        chosen = sets.get(question_set) if question_set else sets.default
        if chosen is None:
            errors[RequestFields.QUESTION_SET] = "Please choose one of the question sets offered."
        day, problem = self._closing_day(closes_on)
        if problem:
            errors[RequestFields.CLOSES_ON] = problem
        if unresolved:
            names = ", ".join(f"“{name[:60]}”" for name in unresolved[:5])
            errors[RequestFields.PEOPLE] = f"I couldn't find {names} in the council's people list."
        elif stakeholder_count == 0:
            errors[RequestFields.PEOPLE] = "Please choose at least one person, a channel or a user group."
        elif stakeholder_count > MAX_STAKEHOLDERS:
            errors[RequestFields.PEOPLE] = (
                f"That is {stakeholder_count} people; please ask at most {MAX_STAKEHOLDERS} at once."
            )
        return errors, chosen, day

    def _closing_day(self, closes_on: str | date | None) -> tuple[date | None, str | None]:
        if not closes_on:
            return None, "Please choose the last day answers are taken."
        if isinstance(closes_on, date):
            day = closes_on
        else:
            try:
                day = date.fromisoformat(str(closes_on).strip()[:10])
            except ValueError:
                return None, "Please give the closing date as a date, e.g. 2026-12-04."
        today = self.rules.today()
        if day <= today:
            return day, "The closing date must be after today, so people have time to answer."
        if day > today + timedelta(days=MAX_CLOSING_DAYS):
            return day, f"Please choose a date within {MAX_CLOSING_DAYS} days."
        return day, None

    def ask(self, requester: PersonRef | None, review_id: int, form: RequestForm) -> RequestOutcome:
        """Check the form and store the request; nothing is sent yet (see :meth:`send_invitations`)."""
        refusal = self.rules.request_refusal(requester.id if requester else None, review_id)
        if refusal or requester is None:
            return RequestOutcome(refusal=refusal)
        errors, question_set, closes_on = self.check(
            question_set=form.question_set,
            closes_on=form.closes_on,
            stakeholder_count=len(set(form.person_ids)),
            unresolved=form.unresolved,
        )
        if errors or question_set is None or closes_on is None:
            return RequestOutcome(errors=errors)
        # The person asking is not asked themselves: their view is in the review already.
        people = sorted(set(form.person_ids) - {requester.id})
        if not people:
            return RequestOutcome(
                errors={RequestFields.PEOPLE: "Everyone chosen is you; please choose the stakeholders to ask."}
            )
        created = self._create_round(requester, review_id, people, question_set, closes_on)
        invited = self.rules.people.get_many(people).values()
        refused = sum(1 for person in invited if not person.reachable)
        reachable = sum(1 for person in invited if self.courier.messenger_for(person) is not None)
        confirmation = self._confirmation(created, len(people), reachable, refused)
        return RequestOutcome(
            round=created, invited=len(people), reachable=reachable, refused=refused, confirmation=confirmation
        )

    def _create_round(
        self, requester: PersonRef, review_id: int, people: list[int], question_set: QuestionSet, closes_on: date
    ) -> RoundRecord:
        current = self.rules.reviews.get(review_id).current_stage
        created = self.rules.repository.create_round(
            review_id=review_id,
            question_set=question_set.id,
            question_set_version=question_set.version,
            questions=[q.as_json() for q in question_set.questions],
            closes_on=closes_on,
            requested_by=requester.name,
            requested_by_person_id=requester.id,
            person_ids=people,
            summary=f"{question_set.title} (closes {closes_on.isoformat()})"
            + (f", {current.name} stage" if current is not None else ""),
        )
        log.info(
            "feedback_requested",
            review_id=review_id,
            round_id=created.id,
            stakeholders=len(people),
            question_set=question_set.key,
        )
        return created

    def _confirmation(self, round_record: RoundRecord, invited: int, reachable: int, refused: int) -> Reply:
        review = self.rules.reviews.get(round_record.review_id)
        closes = format_date(round_record.closes_on) if round_record.closes_on else "soon"
        lines = [
            f"Done: I've asked {plural(invited, 'person')} for feedback on #{review.id} “{review.title}”. "
            f"Answers close at the end of {closes}; people who haven't answered get a reminder shortly before then."
        ]
        waiting = invited - reachable - refused
        if waiting:
            lines.append(
                f"{plural(waiting, 'person')} couldn't be messaged yet (they haven't used the assistant "
                "in Slack or Teams); I'll keep trying."
            )
        if refused:
            lines.append(
                f"{plural(refused, 'person')} can't be messaged: Slack or Teams refused messages to them "
                "(they have left, or removed or blocked the assistant)."
            )
        return Reply("\n".join(lines), ReplyKind.DONE)

    # --- the messages people get ------------------------------------------------------------------

    def invitation(self, round_record: RoundRecord, *, reminder: bool = False) -> Reply:
        review = self.rules.reviews.get(round_record.review_id)
        closes = format_date(round_record.closes_on) if round_record.closes_on else "soon"
        if reminder:
            text = (
                f"A reminder: {round_record.requested_by} would like your feedback on #{review.id} “{review.title}” "
                f"({review.service}). Answers close at the end of {closes}; it takes a couple of minutes."
            )
        else:
            text = (
                f"{round_record.requested_by} would like your feedback on #{review.id} “{review.title}” "
                f"({review.service}): a few 1–5 ratings and two short questions. You can answer anonymously, "
                f"and change your answer until the end of {closes}."
            )
        give = Button("Give feedback", f"round:{round_record.id}", FeedbackActions.GIVE, style="primary")
        return Reply(text, ReplyKind.QUESTION, buttons=[give])

    def send_invitations(
        self, round_record: RoundRecord, *, now: datetime | None = None, reminders: bool = False
    ) -> dict[str, int]:
        """Send the round's invitations (and, when due and ``reminders``, its reminders) to everyone who has not
        answered, each once, through the notification ledger. Returns counts by what happened ("sent" and
        "reminders": handed to the work queue to send)."""
        now = now or self.rules.clock()
        counts = {"sent": 0, "failed": 0, "no_platform": 0, "already": 0, "reminders": 0}
        waiting = self.rules.repository.not_answered([round_record.id]).get(round_record.id, [])
        people = self.rules.people.get_many(waiting)
        remind = reminders and self.reminder_due(round_record, now)
        reachable = []
        for person_id in waiting:
            person = people.get(person_id)
            if person is None or self.courier.messenger_for(person) is None:
                counts["no_platform"] += 1
            else:
                reachable.append(person)
        # The ledger is worked in chunks (Courier.deliver_many): invitations first; a reminder only goes to someone
        # whose invitation was sent before, as an invitation and a reminder in one run would say one thing twice.
        [(invitation, _), *reminder] = self._postmarks(round_record, remind)
        invited = self.courier.deliver_many(
            [Parcel(person, invitation, lambda: self.invitation(round_record, reminder=False)) for person in reachable],
            now=now,
        )
        already = [person for person, d in zip(reachable, invited, strict=True) if d.outcome is CLAIMED_ELSEWHERE]
        self._count(invited, counts, "sent")
        if reminder:
            due = [person for person in already if self.rules.calendar.is_working_time(now, person.timezone)]
            counts["already"] += len(already) - len(due)
            reminded = self.courier.deliver_many(
                [
                    Parcel(person, reminder[0][0], lambda: self.invitation(round_record, reminder=True))
                    for person in due
                ],
                now=now,
            )
            self._count(reminded, counts, "reminders")
        else:
            counts["already"] += len(already)
        log.info("feedback_delivered", round_id=round_record.id, reminder_run=reminders, **counts)
        return counts

    @staticmethod
    def _count(deliveries: list[Delivery], counts: dict[str, int], sent: str) -> None:
        for delivery in deliveries:
            if delivery.outcome is DeliveryOutcome.QUEUED:
                counts[sent] += 1
            elif delivery.outcome is CLAIMED_ELSEWHERE:
                counts["already"] += 1
            else:
                counts["failed"] += 1

    @staticmethod
    def _postmarks(round_record: RoundRecord, remind: bool) -> list[tuple[Postmark, bool]]:
        postmarks = [(Postmark(round_record.review_id, None, LEDGER_INVITATION, f"round-{round_record.id}"), False)]
        if remind and round_record.closes_on is not None:
            period = f"round-{round_record.id}:{round_record.closes_on.isoformat()}"
            postmarks.append((Postmark(round_record.review_id, None, LEDGER_REMINDER, period), True))
        return postmarks

    def reminder_due(self, round_record: RoundRecord, now: datetime) -> bool:
        """In the last REMINDER_WORKING_DAYS working days up to and including the closing day."""
        if round_record.closes_on is None:
            return False
        calendar = self.rules.calendar
        today = calendar.local_today(now, self.rules.timezone)
        if today > round_record.closes_on:
            return False
        start = round_record.closes_on
        for _ in range(REMINDER_WORKING_DAYS - 1):
            start = calendar.previous_working_day(start - timedelta(days=1))
        return today >= start

    def send_reminders(self, now: datetime | None = None) -> int:
        """The scheduler's hourly job: expire closed rounds, retry unsent invitations, send due reminders."""
        now = now or self.rules.clock()
        today = self.rules.calendar.local_today(now, self.rules.timezone)
        self.rules.repository.expire_closed(today)
        sent = 0
        for round_record in self.rules.repository.open_requested_rounds(today):
            counts = self.send_invitations(round_record, now=now, reminders=True)
            sent += counts["sent"] + counts["reminders"]
        return sent
