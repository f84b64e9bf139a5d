"""Stakeholder feedback on a review, for every platform: asking, answering and summing up, and the command.

A review's lead commissioner or one of its stage owners asks stakeholders for feedback (a *round*: a
question set and a closing date; ``requests.py``). Each stakeholder gets a direct message with a
"Give feedback" button; the form holds a 1-5 rating per rating question, the free-text questions and
"answer anonymously" (``answers.py``). The people running the review see a summary (``summaries.py``).
The adapters render the forms and call in here; :class:`FeedbackService` is what they are given.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from storage.base import utc_now
from storage.db import Database
from workflows.actions import FeedbackActions
from workflows.dialogue import UserContext
from workflows.feedback.answers import FeedbackAnswers
from workflows.feedback.questions import QuestionSets, load_question_sets
from workflows.feedback.requests import FeedbackRequests
from workflows.feedback.rules import FeedbackError, FeedbackRules
from workflows.feedback.summaries import FeedbackSummaries
from workflows.messaging import Messenger
from workflows.replies import Button, Reply, ReplyKind
from workflows.reviews import ReviewService
from workflows.settings import WorkflowSettings
from workflows.working_days import WorkingCalendar, calendar_from_settings

__all__ = ["FeedbackService", "give_feedback_button"]


class FeedbackService:
    def __init__(
        self,
        database: Database,
        reviews: ReviewService,
        *,
        question_sets: QuestionSets | None = None,
        calendar: WorkingCalendar | None = None,
        timezone: str = "Europe/London",
        clock: Callable[[], datetime] = utc_now,
        messengers: Sequence[Messenger] = (),
        max_attempts: int = 5,
    ) -> None:
        """``messengers``: the platforms invitations and reminders go out through (none: nothing is sent)."""
        self.rules = FeedbackRules(
            database,
            reviews,
            question_sets or load_question_sets(),
            calendar=calendar or WorkingCalendar(),
            timezone=timezone,
            clock=clock,
        )
        self.requests = FeedbackRequests(self.rules, messengers, max_attempts=max_attempts)
        self.answers = FeedbackAnswers(self.rules)
        self.summaries = FeedbackSummaries(self.rules)

    @classmethod
    def from_settings(
        cls,
        settings: WorkflowSettings,
        database: Database,
        reviews: ReviewService,
        messengers: Sequence[Messenger] = (),
    ) -> FeedbackService:
        return cls(
            database,
            reviews,
            question_sets=load_question_sets(settings.feedback_question_sets),
            calendar=calendar_from_settings(settings),
            timezone=settings.timezone,
            messengers=messengers,
            max_attempts=settings.nudge_max_attempts,
        )

    def command(self, user: UserContext, argument: str) -> list[Reply]:
        """``feedback <review>`` and ``feedback summary <review>``: the summary, or a "Choose stakeholders" button
        that opens the request form (Slack opens its modal straight from the slash command instead)."""
        words = argument.strip()
        person_id = user.person.id if user.person else None
        try:
            if words.lower().startswith("summary"):
                review_id = self.rules.find_review(words[len("summary") :])
                refusal = self.rules.summary_refusal(person_id, review_id)
                if refusal:
                    return [Reply(refusal, ReplyKind.PROBLEM)]
                summary = self.summaries.summary(review_id)
                chart = (
                    [Button("Show as a chart", str(review_id), FeedbackActions.SHOW_CHART)]
                    if summary.enough and summary.ratings
                    else []
                )
                return [Reply(self.summaries.summary_text(summary), ReplyKind.INFO, buttons=chart)]
            review_id = self.rules.find_review(words)
            refusal = self.rules.request_refusal(person_id, review_id)
            if refusal:
                return [Reply(refusal, ReplyKind.PROBLEM)]
        except FeedbackError as error:
            return [Reply(str(error), ReplyKind.PROBLEM)]
        review = self.rules.reviews.get(review_id)
        choose = Button("Choose stakeholders", str(review_id), FeedbackActions.OPEN_REQUEST_FORM, style="primary")
        return [
            Reply(
                f"Who should give feedback on #{review.id} “{review.title}”? Choose the stakeholders, the "
                "questions and a closing date.",
                ReplyKind.QUESTION,
                buttons=[choose],
            )
        ]


def give_feedback_button(review_id: int) -> Button:
    """The button on a review's card (status reply, App Home) for feedback nobody asked for."""
    return Button("Give feedback", f"review:{review_id}", FeedbackActions.GIVE)
