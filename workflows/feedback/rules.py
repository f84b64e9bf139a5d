"""What every part of stakeholder feedback agrees on: who may ask and who may see, when a request has closed,
which review an officer means, and the limits of the forms.

:class:`FeedbackRules` holds what asking (``requests.py``), answering (``answers.py``) and
summing up (``summaries.py``) share: the database's feedback tables, the reviews, the question
sets, the council's calendar and the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from storage.base import utc_now
from storage.db import Database
from storage.feedback import FeedbackRepository
from storage.feedback_records import RoundRecord
from storage.people import PeopleRepository
from workflows.feedback.questions import QuestionSets
from workflows.review_reference import matching_reviews, parse_review_reference
from workflows.reviews import ReviewNotFoundError, ReviewService
from workflows.working_days import WorkingCalendar

__all__ = [
    "ANONYMOUS_FIELD",
    "MAX_CLOSING_DAYS",
    "MAX_STAKEHOLDERS",
    "MAX_TEXT_CHARS",
    "MIN_RESPONSES",
    "RATING_LABELS",
    "FeedbackError",
    "FeedbackRules",
    "RequestFields",
    "plural",
]

# Summaries and exports break answers down only from this many, so a lone anonymous answer can't be picked out.
MIN_RESPONSES = 3
MAX_TEXT_CHARS = 3000
MAX_STAKEHOLDERS = 200
MAX_CLOSING_DAYS = 180
RATING_LABELS = {1: "1 – very poor", 2: "2 – poor", 3: "3 – fair", 4: "4 – good", 5: "5 – very good"}
# The answer form's "answer anonymously" field.
ANONYMOUS_FIELD = "anonymous"

UNKNOWN_PERSON = (
    "I don't know who you are in the council's people list, so I can't check that you run this review. "
    "Ask an administrator to add you."
)


class RequestFields:
    """Field ids of the request form, shared by the Slack modal and the Teams card."""

    PEOPLE = "stakeholders"
    CHANNEL = "channel"
    USERGROUP = "usergroup"
    QUESTION_SET = "question_set"
    CLOSES_ON = "closes_on"


class FeedbackError(Exception):
    """Refused, with a message written for the officer."""


def plural(count: int, word: str) -> str:
    if word == "person":
        return f"{count} {'person' if count == 1 else 'people'}"
    return f"{count} {word}" + ("" if count == 1 else "s")


class FeedbackRules:
    def __init__(
        self,
        database: Database,
        reviews: ReviewService,
        question_sets: QuestionSets,
        *,
        calendar: WorkingCalendar,
        timezone: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = database
        self.reviews = reviews
        self.repository = FeedbackRepository(database)
        self.people = PeopleRepository(database)
        self.question_sets = question_sets
        self.calendar = calendar
        self.timezone = timezone
        self.clock = clock

    def today(self) -> date:
        return self.calendar.local_today(self.clock(), self.timezone)

    def is_closed(self, round_record: RoundRecord) -> bool:
        return round_record.closes_on is not None and self.today() > round_record.closes_on

    def find_review(self, argument: str) -> int:
        """The review an officer named by its number or by words from its title; FeedbackError says why not."""
        review_id, _ = parse_review_reference(argument)
        if review_id is None:
            if not argument.strip():
                raise FeedbackError("Which review? Give its number, for example “feedback 12”.")
            matches = matching_reviews(self.reviews.list_all(), argument)
            if len(matches) != 1:
                raise FeedbackError(
                    f"I couldn't find one review matching “{argument[:80]}”. Use its number, "
                    "for example “feedback 12” (“list” shows yours)."
                )
            review_id = matches[0].id
        try:
            self.reviews.get(review_id)
        except ReviewNotFoundError as error:  # its message is written for the officer
            raise FeedbackError(str(error)) from error
        return review_id

    def request_refusal(self, person_id: int | None, review_id: int) -> str | None:
        """Why this person may not ask for feedback on the review, or None when they may."""
        review = self.reviews.get(review_id)
        if person_id is None:
            return UNKNOWN_PERSON
        if not review.is_open:
            return f"#{review.id} “{review.title}” is {review.status}, so feedback can't be requested for it any more."
        allowed = {review.lead_commissioner.id, *(stage.owner.id for stage in review.stages)}
        if person_id not in allowed:
            return (
                f"Only the lead commissioner ({review.lead_commissioner.name}) or a stage owner of "
                f"#{review.id} “{review.title}” can ask for feedback on it. You can still give your own "
                "feedback with the “Give feedback” button on the review's status card."
            )
        return None

    def summary_refusal(self, person_id: int | None, review_id: int) -> str | None:
        """Summaries are for the people running the review: the lead, stage owners and the portfolio holder."""
        review = self.reviews.get(review_id)
        allowed = {
            review.lead_commissioner.id,
            review.portfolio_holder.id,
            *(stage.owner.id for stage in review.stages),
        }
        if person_id is None or person_id not in allowed:
            return (
                f"The feedback summary for #{review.id} “{review.title}” is for its lead commissioner, stage owners "
                "and portfolio holder."
            )
        return None
