"""Answering a feedback request: the form a stakeholder opens, and storing (or changing) their answer.

- One answer per person per round. Answering again before the closing date *changes* the answer,
  provided the person shows it is theirs: a named answer is theirs by who they are; an anonymous
  answer only by the secret put in the form they answered with and in the "Change my answer"
  button of the thank-you message (only its hash is stored, so nobody can work out which anonymous
  answer is whose). Without it a second answer is refused politely, never stored twice.
- After the closing date answers are refused politely.
- Anyone may also give feedback nobody asked for, from a review's status card or the App Home.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

import structlog

from storage.feedback_records import AlreadyAnswered, NotInvited, ResponseRecord, RoundRecord
from storage.models import FeedbackStatus
from storage.review_snapshots import ReviewSnapshot
from workflows.actions import FeedbackActions
from workflows.dates import format_date
from workflows.feedback.questions import Question
from workflows.feedback.rules import ANONYMOUS_FIELD, MAX_TEXT_CHARS, FeedbackError, FeedbackRules
from workflows.people import PersonRef
from workflows.replies import Button, Reply, ReplyKind
from workflows.reviews import ReviewNotFoundError

__all__ = ["FeedbackAnswers", "ResponseForm", "SubmitOutcome", "hash_token", "parse_change_value"]

log = structlog.get_logger(__name__)

NOT_IN_PEOPLE_LIST = (
    "I don't know who you are in the council's people list, so I can't take your feedback. "
    "Ask an administrator to add you."
)
_ANONYMOUS_WORDS = {"yes", "true", "on", "1", "anonymous"}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def parse_change_value(value: str) -> tuple[str, str]:
    """A "Change my answer" button's value: (round id, the secret)."""
    round_id, _, token = value.partition(":")
    return round_id, token


@dataclass(frozen=True)
class ResponseForm:
    """The answer form for one person, or (``refusal``) the polite reason they cannot answer."""

    round_id: int
    review_id: int
    review_title: str
    questions: tuple[Question, ...]
    closes_on: date | None
    token: str  # the secret that lets an anonymous answer be changed later; travels only in the form
    values: dict[str, str] = field(default_factory=dict)
    notice: str | None = None
    refusal: str | None = None

    @classmethod
    def for_round(cls, round_record: RoundRecord, review: ReviewSnapshot, token: str = "") -> ResponseForm:
        questions = tuple(Question.from_json(q) for q in round_record.questions)
        return cls(round_record.id, review.id, review.title, questions, round_record.closes_on, token)

    @classmethod
    def refused(cls, reason: str) -> ResponseForm:
        """No form: only the reason (a button from an older message, a request that no longer exists)."""
        return cls(0, 0, "", (), None, "", refusal=reason)

    @property
    def title(self) -> str:
        return "Give feedback"

    @property
    def intro(self) -> str:
        closes = f" Answers close at the end of {format_date(self.closes_on)}." if self.closes_on else ""
        return f"Feedback on #{self.review_id} “{self.review_title}”.{closes}"


@dataclass
class SubmitOutcome:
    errors: dict[str, str] = field(default_factory=dict)
    refusal: str | None = None  # shown instead of the form: closed, already answered
    done: Reply | None = None  # the thank-you, with a "Change my answer" button


class FeedbackAnswers:
    def __init__(self, rules: FeedbackRules) -> None:
        self.rules = rules

    def _round_from_value(self, value: str) -> RoundRecord:
        kind, _, number = value.partition(":")
        if not number.isdigit():
            raise FeedbackError("That button is from an older message and no longer works.")
        repository = self.rules.repository
        if kind == "review":
            review_id = int(number)
            self.rules.reviews.get(review_id)
            chosen = self.rules.question_sets.default
            return repository.unsolicited_round(
                review_id,
                question_set=chosen.id,
                question_set_version=chosen.version,
                questions=[q.as_json() for q in chosen.questions],
            )
        found = repository.get_round(int(number))
        if found is None:
            raise FeedbackError("That feedback request no longer exists.")
        return found

    def form(self, person: PersonRef | None, value: str, token: str | None = None) -> ResponseForm:
        """The form to open for a "Give feedback" (``value`` "round:<id>" / "review:<id>") or "Change my answer"
        (``value`` "<round id>", ``token`` the secret) press."""
        if token is not None and value.isdigit():
            value = f"round:{value}"
        try:
            round_record = self._round_from_value(value)
        except FeedbackError as error:
            return ResponseForm.refused(str(error))
        except ReviewNotFoundError:
            return ResponseForm.refused("That review no longer exists.")
        review = self.rules.reviews.get(round_record.review_id)
        refusal = self._refusal(person, round_record, review)
        if refusal is not None or person is None:
            return replace(ResponseForm.for_round(round_record, review), refusal=refusal or NOT_IN_PEOPLE_LIST)
        repository = self.rules.repository
        earlier: ResponseRecord | None = None
        if token:
            earlier = repository.anonymous_response(round_record.id, hash_token(token))
        if earlier is None:
            earlier = repository.named_response(round_record.id, person.id)
        if (
            earlier is None
            and round_record.is_requested
            and repository.request_status(round_record.id, person.id) == FeedbackStatus.ANSWERED.value
        ):
            return replace(
                ResponseForm.for_round(round_record, review),
                refusal="You've already answered this request anonymously. To change that answer, use the “Change "
                "my answer” button in the thank-you message I sent you; that button is the only link to your answer.",
            )
        values: dict[str, str] = {}
        notice = None
        if earlier is not None:
            values = {qid: str(rating) for qid, rating in earlier.ratings.items()}
            values.update(earlier.answers)
            values[ANONYMOUS_FIELD] = "yes" if earlier.anonymous else ""
            notice = "You've answered already; sending this form changes your answer."
        return replace(ResponseForm.for_round(round_record, review, token or new_token()), values=values, notice=notice)

    def _refusal(self, person: PersonRef | None, round_record: RoundRecord, review: ReviewSnapshot) -> str | None:
        if self.rules.is_closed(round_record):
            return (
                f"Thank you, but feedback on #{review.id} “{review.title}” closed at the end of "
                f"{format_date(round_record.closes_on)}, so I can't take answers any more."  # type: ignore[arg-type]
            )
        if person is None:
            return NOT_IN_PEOPLE_LIST
        if round_record.is_requested and self.rules.repository.request_status(round_record.id, person.id) is None:
            return _only_stakeholders(review)
        return None

    @staticmethod
    def check_answers(
        questions: Sequence[Question], values: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
        """Per-question problems, then the ratings and the written answers given."""
        errors: dict[str, str] = {}
        ratings: dict[str, int] = {}
        answers: dict[str, str] = {}
        for question in questions:
            raw = values.get(question.id)
            text = "" if raw is None else str(raw).strip()
            if question.kind == "rating":
                if not text:
                    if question.required:
                        errors[question.id] = "Please choose a rating from 1 (very poor) to 5 (very good)."
                    continue
                if not text.isdigit() or not 1 <= int(text) <= 5:
                    errors[question.id] = "Ratings go from 1 (very poor) to 5 (very good)."
                    continue
                ratings[question.id] = int(text)
            elif len(text) > MAX_TEXT_CHARS:
                errors[question.id] = f"Please keep this under {MAX_TEXT_CHARS} characters (it is {len(text)})."
            elif not text and question.required:
                errors[question.id] = "Please write a few words here."
            elif text:
                answers[question.id] = text
        return errors, ratings, answers

    def submit(self, person: PersonRef | None, round_id: int, token: str, values: Mapping[str, Any]) -> SubmitOutcome:
        """Check and store an answer form.

        ``values``: question id -> the value; ANONYMOUS_FIELD truthy for anonymous.
        """
        round_record = self.rules.repository.get_round(round_id)
        if round_record is None:
            return SubmitOutcome(refusal="That feedback request no longer exists.")
        review = self.rules.reviews.get(round_record.review_id)
        if self.rules.is_closed(round_record):
            return SubmitOutcome(
                refusal=(
                    f"Thank you, but feedback on #{review.id} “{review.title}” closed at the end of "
                    f"{format_date(round_record.closes_on)}, so I couldn't take this answer."  # type: ignore[arg-type]
                )
            )
        if person is None:
            return SubmitOutcome(refusal=NOT_IN_PEOPLE_LIST)
        questions = [Question.from_json(q) for q in round_record.questions]
        errors, ratings, answers = self.check_answers(questions, values)
        if errors:
            return SubmitOutcome(errors=errors)
        anonymous = str(values.get(ANONYMOUS_FIELD) or "").strip().lower() in _ANONYMOUS_WORDS
        if anonymous and not token:
            token = new_token()
        try:
            saved = self.rules.repository.save_response(
                round_record,
                person_id=person.id,
                person_name=person.name,
                anonymous=anonymous,
                ratings=ratings,
                answers=answers,
                token_hash=hash_token(token) if token else None,
                today=self.rules.today(),
            )
        except NotInvited:
            return SubmitOutcome(refusal=_only_stakeholders(review))
        except AlreadyAnswered:
            return SubmitOutcome(
                refusal=(
                    "You've already answered this, so I haven't stored a second answer. To change your answer, use the "
                    "“Change my answer” button in the thank-you message I sent you."
                )
            )
        # Neither the person nor whether the answer was anonymous: a log line's time must not single anyone out.
        log.info("feedback_answered", round_id=round_record.id)
        return SubmitOutcome(done=_thanks(review, round_record, token, anonymous=anonymous, replaced=saved.replaced))


def _only_stakeholders(review: ReviewSnapshot) -> str:
    return (
        f"This request went to particular stakeholders. You can still give feedback on #{review.id} with the "
        "“Give feedback” button on the review's status card."
    )


def _thanks(review: ReviewSnapshot, round_record: RoundRecord, token: str, *, anonymous: bool, replaced: bool) -> Reply:
    closes = (
        f" You can change it until the end of {format_date(round_record.closes_on)}."
        if round_record.closes_on
        else " You can change it with the button below."
    )
    how = (
        "anonymously: your name isn't stored with it, and only this message's button can open it again"
        if anonymous
        else "with your name"
    )
    verb = "changed" if replaced else "recorded"
    text = f"Thank you. Your feedback on #{review.id} “{review.title}” is {verb} {how}.{closes}"
    # The secret rides in the button, in the person's own direct messages: the one place it should live.
    change = Button("Change my answer", f"{round_record.id}:{token}", FeedbackActions.CHANGE)
    return Reply(text, ReplyKind.DONE, buttons=[change])
