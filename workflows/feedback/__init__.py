"""Stakeholder feedback on a review, for every platform.

- ``questions.py``   the question sets (TOML), versioned
- ``rules.py``       who may ask and see, closing dates, which review is meant, the forms' limits
- ``requests.py``    asking stakeholders: the one use case both adapters call, invitations, reminders
- ``answers.py``     the answer form, anonymous answers and changing an answer
- ``summaries.py``   the summary in chat and the CSV export
- ``service.py``     :class:`FeedbackService`, what the adapters and the CLI are given, and the command
"""

from workflows.feedback.answers import FeedbackAnswers, ResponseForm, SubmitOutcome, hash_token, parse_change_value
from workflows.feedback.questions import Question, QuestionSet, QuestionSets, load_question_sets
from workflows.feedback.requests import FeedbackRequests, RequestForm, RequestOutcome
from workflows.feedback.rules import (
    ANONYMOUS_FIELD,
    MIN_RESPONSES,
    RATING_LABELS,
    FeedbackError,
    FeedbackRules,
    RequestFields,
)
from workflows.feedback.service import FeedbackService, give_feedback_button
from workflows.feedback.summaries import FeedbackSummaries, FeedbackSummary, RatingStats

__all__ = [
    "ANONYMOUS_FIELD",
    "MIN_RESPONSES",
    "RATING_LABELS",
    "FeedbackAnswers",
    "FeedbackError",
    "FeedbackRequests",
    "FeedbackRules",
    "FeedbackService",
    "FeedbackSummaries",
    "FeedbackSummary",
    "Question",
    "QuestionSet",
    "QuestionSets",
    "RatingStats",
    "RequestFields",
    "RequestForm",
    "RequestOutcome",
    "ResponseForm",
    "SubmitOutcome",
    "give_feedback_button",
    "hash_token",
    "load_question_sets",
    "parse_change_value",
]
