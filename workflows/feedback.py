"""Stakeholder feedback on a review: requests, answers, reminders and summaries, for every platform.

A review's lead commissioner or one of its stage owners asks stakeholders for
feedback (a *round*: a question set and a closing date). Each stakeholder gets a
direct message with a "Give feedback" button; the form holds a 1-5 rating per
rating question, the free-text questions and "answer anonymously". Anyone may
also give feedback nobody asked for, from a review's status card or the App Home.

Rules (the adapters render the forms and call in here):

- Only the review's lead commissioner or a stage owner may ask.
- One answer per person per round. Answering again before the closing date
  *changes* the answer, provided the person shows it is theirs: named answers
  are theirs by who they are; an anonymous answer only by the secret put in the
  form they answered with and in the "Change my answer" button we send them
  afterwards (we keep only its hash, so nobody can work out which anonymous
  answer is whose). Without it a second answer is refused politely, never
  stored twice.
- After the closing date answers are refused politely.
- Reminders go only to people who have not answered, once, in the last
  ``REMINDER_WORKING_DAYS`` working days before the closing date, through the
  notification ledger (so a second scheduler never sends a second copy).
- Summaries and exports break answers down only from ``MIN_RESPONSES`` answers;
  below that they say how many more are needed, so a lone anonymous answer
  cannot be read off against the list of who has answered.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import statistics
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from storage.db import Database
from storage.feedback import AlreadyAnswered, FeedbackRepository, NotInvited, ResponseRecord, RoundRecord
from storage.models import FeedbackRoundKind, FeedbackStatus, Person, utc_now
from storage.notifications import NotificationLedger
from storage.people import PeopleRepository
from workflows.dates import format_date
from workflows.replies import Button, Reply, ReplyKind
from workflows.settings import WorkflowSettings
from workflows.working_days import WorkingCalendar, calendar_from_settings

if TYPE_CHECKING:
    from workflows.delivery import Messenger, SendResult
    from workflows.dialogue import UserContext
    from workflows.reviews import ReviewService

__all__ = [
    "ANONYMOUS_FIELD",
    "FeedbackActions",
    "FeedbackError",
    "FeedbackService",
    "FeedbackSummary",
    "MIN_RESPONSES",
    "Question",
    "QuestionSet",
    "QuestionSets",
    "RatingStats",
    "RequestFields",
    "ResponseForm",
    "SubmitOutcome",
    "load_question_sets",
]

log = structlog.get_logger(__name__)

MIN_RESPONSES = 3
REMINDER_WORKING_DAYS = 2
MAX_TEXT_CHARS = 3000
MAX_STAKEHOLDERS = 200
MAX_CLOSING_DAYS = 180
DEFAULT_CLOSING_WORKING_DAYS = 10
DEFAULT_QUESTION_SETS = Path(__file__).with_name("question_sets.toml")
RATING_LABELS = {1: "1 – very poor", 2: "2 – poor", 3: "3 – fair", 4: "4 – good", 5: "5 – very good"}
ANONYMOUS_FIELD = "anonymous"
LEDGER_INVITATION = "feedback_request"
LEDGER_REMINDER = "feedback_reminder"


class FeedbackActions:
    """Action ids of the feedback buttons; the values are described with each."""

    # Open the answer form. "round:<id>" for a request; "review:<id>" for feedback nobody asked for.
    GIVE = "feedback_give"
    # Open the form again to change an answer: "<round id>:<secret>" (the secret proves an anonymous answer is theirs).
    CHANGE = "feedback_change"
    # Open the form that asks stakeholders (Teams: a card; Slack opens a modal straight from the command).
    OPEN_REQUEST_FORM = "feedback_request_form"
    # Show the summary as a chart; the value is the review number.
    SHOW_CHART = "feedback_chart"


class RequestFields:
    """Field ids of the request form, shared by the Slack modal and the Teams card."""

    PEOPLE = "stakeholders"
    CHANNEL = "channel"
    USERGROUP = "usergroup"
    QUESTION_SET = "question_set"
    CLOSES_ON = "closes_on"


class FeedbackError(Exception):
    """Refused, with a message written for the officer."""


# --- question sets -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "rating" or "text"
    text: str
    required: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "required": self.required}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Question:
        kind = str(data.get("kind", "rating"))
        return cls(
            id=str(data["id"]), kind=kind, text=str(data["text"]), required=bool(data.get("required", kind == "rating"))
        )


@dataclass(frozen=True)
class QuestionSet:
    id: str
    version: int
    title: str
    questions: tuple[Question, ...]
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.id}:{self.version}"


class QuestionSets:
    def __init__(self, sets: Iterable[QuestionSet]) -> None:
        self._sets = {(s.id, s.version): s for s in sets}
        if not self._sets:
            raise ValueError("no question sets configured")

    def latest(self) -> list[QuestionSet]:
        """The newest version of each set: what a new request offers (the first is the default)."""
        newest: dict[str, QuestionSet] = {}
        for found in self._sets.values():
            if found.id not in newest or found.version > newest[found.id].version:
                newest[found.id] = found
        return list(newest.values())

    @property
    def default(self) -> QuestionSet:
        return self.latest()[0]

    def get(self, key: str) -> QuestionSet | None:
        """By "id" (newest version) or "id:version"."""
        set_id, _, version = key.partition(":")
        if version:
            return self._sets.get((set_id, int(version))) if version.isdigit() else None
        return next((s for s in self.latest() if s.id == set_id), None)


def load_question_sets(path: Path | None = None) -> QuestionSets:
    """Read the question sets; a mistake in the file is reported with the file's name."""
    path = path or DEFAULT_QUESTION_SETS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sets = []
        for raw in data.get("question_set", []):
            questions = tuple(Question.from_json(q) for q in raw.get("question", []))
            kinds = {q.kind for q in questions}
            if not questions or not kinds <= {"rating", "text"} or len({q.id for q in questions}) != len(questions):
                raise ValueError(
                    f"question set {raw.get('id')!r} needs questions with unique ids, each of kind 'rating' or 'text'"
                )
            sets.append(
                QuestionSet(
                    id=str(raw["id"]),
                    version=int(raw.get("version", 1)),
                    title=str(raw["title"]),
                    questions=questions,
                    description=str(raw.get("description", "")),
                )
            )
        return QuestionSets(sets)
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error


# --- forms ---------------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class RequestOutcome:
    errors: dict[str, str]
    round: RoundRecord | None = None
    reply: Reply | None = None


# --- summaries -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RatingStats:
    question_id: str
    text: str
    count: int
    mean: float
    spread: float  # standard deviation
    low: int
    high: int
    distribution: dict[int, int]


@dataclass(frozen=True)
class FeedbackSummary:
    review_id: int
    review_title: str
    round: RoundRecord | None
    question_set_title: str
    invited: int
    answered: int
    responses: int
    ratings: list[RatingStats]
    texts: dict[str, list[str]]  # question text -> answers
    unsolicited: int

    @property
    def enough(self) -> bool:
        return self.responses >= MIN_RESPONSES

    @property
    def needed(self) -> int:
        return max(0, MIN_RESPONSES - self.responses)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invited if self.invited else None


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(24)


def _plural(count: int, word: str) -> str:
    if word == "person":
        return f"{count} {'person' if count == 1 else 'people'}"
    return f"{count} {word}" + ("" if count == 1 else "s")


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
    ) -> None:
        self.database = database
        self.reviews = reviews
        self.repository = FeedbackRepository(database)
        self.people = PeopleRepository(database)
        self.question_sets = question_sets or load_question_sets()
        self.calendar = calendar or WorkingCalendar()
        self.timezone = timezone
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: WorkflowSettings, database: Database, reviews: ReviewService) -> FeedbackService:
        path = settings.feedback_question_sets
        return cls(
            database,
            reviews,
            question_sets=load_question_sets(Path(path) if path else None),
            calendar=calendar_from_settings(settings),
            timezone=settings.timezone,
        )

    def today(self) -> date:
        return self.calendar.local_today(self.clock(), self.timezone)

    # --- asking ----------------------------------------------------------------------------------------

    def find_review(self, argument: str) -> int:
        from workflows.commands import parse_review_reference

        review_id, _ = parse_review_reference(argument)
        if review_id is None:
            words = argument.strip().casefold()
            if not words:
                raise FeedbackError("Which review? Give its number, for example “feedback 12”.")
            matches = [
                r for r in self.reviews.list_all() if words in r.title.casefold() or words in r.service.casefold()
            ]
            if len(matches) != 1:
                raise FeedbackError(
                    f"I couldn't find one review matching “{argument[:80]}”. Use its number, "
                    "for example “feedback 12” (“list” shows yours)."
                )
            review_id = matches[0].id
        try:
            self.reviews.get(review_id)
        except Exception as error:  # ReviewNotFoundError: its message is written for the officer
            raise FeedbackError(str(error)) from error
        return review_id

    def request_refusal(self, person_id: int | None, review_id: int) -> str | None:
        """Why this person may not ask for feedback on the review, or None when they may."""
        review = self.reviews.get(review_id)
        if person_id is None:
            return (
                "I don't know who you are in the council's people list, so I can't check that you run this "
                "review. Ask an administrator to add you."
            )
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

    def default_closing_date(self) -> date:
        return self.calendar.add_working_days(self.today(), DEFAULT_CLOSING_WORKING_DAYS)

    def check_request(
        self, *, question_set: str, closes_on: str | date | None, stakeholder_count: int, unresolved: Sequence[str] = ()
    ) -> tuple[dict[str, str], QuestionSet | None, date | None]:
        """Per-field problems with a request form's values (field ids from :class:`RequestFields`)."""
        errors: dict[str, str] = {}
        chosen = self.question_sets.get(question_set) if question_set else self.question_sets.default
        if chosen is None:
            errors[RequestFields.QUESTION_SET] = "Please choose one of the question sets offered."
        day: date | None = None
        if isinstance(closes_on, date):
            day = closes_on
        elif closes_on:
            try:
                day = date.fromisoformat(str(closes_on).strip()[:10])
            except ValueError:
                errors[RequestFields.CLOSES_ON] = "Please give the closing date as a date, e.g. 2026-12-04."
        else:
            errors[RequestFields.CLOSES_ON] = "Please choose the last day answers are taken."
        today = self.today()
        if day is not None and RequestFields.CLOSES_ON not in errors:
            if day <= today:
                errors[RequestFields.CLOSES_ON] = "The closing date must be after today, so people have time to answer."
            elif day > today + timedelta(days=MAX_CLOSING_DAYS):
                errors[RequestFields.CLOSES_ON] = f"Please choose a date within {MAX_CLOSING_DAYS} days."
        if unresolved:
            errors[RequestFields.PEOPLE] = (
                "I couldn't find "
                + ", ".join(f"“{name[:60]}”" for name in unresolved[:5])
                + " in the council's people list."
            )
        elif stakeholder_count == 0:
            errors[RequestFields.PEOPLE] = "Please choose at least one person, a channel or a user group."
        elif stakeholder_count > MAX_STAKEHOLDERS:
            errors[RequestFields.PEOPLE] = (
                f"That is {stakeholder_count} people; please ask at most {MAX_STAKEHOLDERS} at once."
            )
        return errors, chosen, day

    def create_request(
        self,
        requester: Person | Any,
        review_id: int,
        person_ids: Iterable[int],
        question_set: QuestionSet,
        closes_on: date,
    ) -> RoundRecord:
        refusal = self.request_refusal(requester.id, review_id)
        if refusal:
            raise FeedbackError(refusal)
        review = self.reviews.get(review_id)
        # The person asking is not asked themselves: their view is in the review already.
        people = sorted(set(person_ids) - {requester.id})
        if not people:
            raise FeedbackError("Everyone chosen is you; please choose the stakeholders to ask.")
        current = review.current_stage
        created = self.repository.create_round(
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

    def request_confirmation(self, round_record: RoundRecord, sent: int, unreachable: int) -> Reply:
        review = self.reviews.get(round_record.review_id)
        invited = len(self.repository.invited(round_record.id))
        text = (
            f"Done: I've asked {_plural(invited, 'person')} for feedback on #{review.id} “{review.title}”. "
            f"Answers close at the end of {format_date(round_record.closes_on)}"  # type: ignore[arg-type]
            f"; people who haven't answered get a reminder shortly before then."
        )
        if unreachable:
            text += (
                f"\n{_plural(unreachable, 'person')} couldn't be messaged yet (they haven't used the assistant "
                "in Slack or Teams); I'll keep trying."
            )
        return Reply(text, ReplyKind.DONE)

    # --- the messages people get -------------------------------------------------------------------------

    def invitation(self, round_record: RoundRecord, *, reminder: bool = False) -> Reply:
        review = self.reviews.get(round_record.review_id)
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
        return Reply(
            text,
            ReplyKind.QUESTION,
            buttons=[Button("Give feedback", f"round:{round_record.id}", FeedbackActions.GIVE, style="primary")],
        )

    def deliver(
        self,
        round_record: RoundRecord,
        messengers: Sequence[Messenger],
        *,
        now: datetime | None = None,
        reminders: bool = False,
    ) -> dict[str, int]:
        """Send the round's invitations (and, when due, reminders) to people who have not answered, each once.

        The notification ledger is claimed before each send, so two schedulers (or a retry) never send twice;
        a failed send is claimed again on a later run.
        """
        from workflows.delivery import SendStatus

        now = now or self.clock()
        ledger = NotificationLedger(self.database, clock=lambda: now)
        counts = {"sent": 0, "failed": 0, "no_platform": 0, "already": 0, "reminders": 0}
        waiting = self.repository.not_answered([round_record.id]).get(round_record.id, [])
        people = self.people.get_many(waiting)
        remind = reminders and self.reminder_due(round_record, now)
        for person_id in waiting:
            person = people.get(person_id)
            messenger = next(
                (m for m in messengers if person is not None and person.reachable and m.can_reach(person)), None
            )
            if person is None or messenger is None:
                counts["no_platform"] += 1
                continue
            kinds = [(LEDGER_INVITATION, f"round-{round_record.id}", False)]
            if remind and round_record.closes_on is not None:
                kinds.append((LEDGER_REMINDER, f"round-{round_record.id}:{round_record.closes_on.isoformat()}", True))
            for kind, period, is_reminder in kinds:
                if is_reminder and not self.calendar.is_working_time(now, person.timezone):
                    continue
                entry = ledger.claim(
                    review_id=round_record.review_id, stage_id=None, person_id=person_id, kind=kind, period=period
                )
                if entry is None:
                    counts["already"] += 1
                    continue
                result = self._send(messenger, person, self.invitation(round_record, reminder=is_reminder))
                if result.status is SendStatus.SENT:
                    ledger.mark_sent(entry.id)
                    counts["reminders" if is_reminder else "sent"] += 1
                elif result.status in (SendStatus.UNREACHABLE, SendStatus.NO_ADDRESS, SendStatus.UNCERTAIN):
                    # Sending again could show it twice (uncertain) or cannot work: give up on this one.
                    ledger.mark_failed(entry.id, f"{result.status.value}: {result.detail}")
                    self._give_up(entry.id)
                    counts["failed"] += 1
                else:
                    ledger.mark_failed(entry.id, result.detail or "send failed")
                    counts["failed"] += 1
                # An invitation and a reminder in the same run would be two messages saying one thing.
                if not is_reminder:
                    break
        log.info("feedback_delivered", round_id=round_record.id, reminder_run=reminders, **counts)
        return counts

    def _give_up(self, entry_id: int) -> None:
        from storage.nudges import NudgeStore

        NudgeStore(self.database).give_up(entry_id, "not retried", 5)

    @staticmethod
    def _send(messenger: Messenger, person: Person, reply: Reply) -> SendResult:
        from workflows.delivery import SendResult, SendStatus

        try:
            return messenger.send(person, reply)
        except Exception as error:  # noqa: BLE001 - one failed send must not stop the others; it is retried
            log.warning("feedback_send_error", platform=messenger.platform, error=type(error).__name__)
            return SendResult(SendStatus.FAILED, type(error).__name__)

    def reminder_due(self, round_record: RoundRecord, now: datetime) -> bool:
        """In the last REMINDER_WORKING_DAYS working days up to and including the closing day."""
        if round_record.closes_on is None:
            return False
        today = self.calendar.local_today(now, self.timezone)
        if today > round_record.closes_on:
            return False
        start = round_record.closes_on
        for _ in range(REMINDER_WORKING_DAYS - 1):
            start = self.calendar.previous_working_day(start - timedelta(days=1))
        return today >= start

    def send_reminders(self, messengers: Sequence[Messenger], now: datetime | None = None) -> int:
        """The scheduler's hourly job: expire closed rounds, retry unsent invitations, send due reminders."""
        now = now or self.clock()
        today = self.calendar.local_today(now, self.timezone)
        self.repository.expire_closed(today)
        sent = 0
        for round_record in self.repository.open_requested_rounds(today):
            counts = self.deliver(round_record, messengers, now=now, reminders=True)
            sent += counts["sent"] + counts["reminders"]
        return sent

    # --- answering ---------------------------------------------------------------------------------------

    def _round_from_value(self, value: str) -> RoundRecord:
        kind, _, number = value.partition(":")
        if not number.isdigit():
            raise FeedbackError("That button is from an older message and no longer works.")
        if kind == "review":
            review_id = int(number)
            self.reviews.get(review_id)
            chosen = self.question_sets.default
            return self.repository.unsolicited_round(
                review_id,
                question_set=chosen.id,
                question_set_version=chosen.version,
                questions=[q.as_json() for q in chosen.questions],
            )
        found = self.repository.get_round(int(number))
        if found is None:
            raise FeedbackError("That feedback request no longer exists.")
        return found

    def is_closed(self, round_record: RoundRecord) -> bool:
        return round_record.closes_on is not None and self.today() > round_record.closes_on

    def response_form(self, person: Person | Any | None, value: str, token: str | None = None) -> ResponseForm:
        """The form to open for a "Give feedback" (``value`` "round:<id>" / "review:<id>") or "Change my answer"
        (``value`` "<round id>", ``token`` the secret) press."""
        if token is not None and value.isdigit():
            value = f"round:{value}"
        try:
            round_record = self._round_from_value(value)
        except FeedbackError as error:
            return ResponseForm(0, 0, "", (), None, "", refusal=str(error))
        except Exception:  # noqa: BLE001 - ReviewNotFoundError
            return ResponseForm(0, 0, "", (), None, "", refusal="That review no longer exists.")
        review = self.reviews.get(round_record.review_id)
        questions = tuple(Question.from_json(q) for q in round_record.questions)
        base = dict(
            round_id=round_record.id,
            review_id=review.id,
            review_title=review.title,
            questions=questions,
            closes_on=round_record.closes_on,
        )
        if self.is_closed(round_record):
            return ResponseForm(
                **base,
                token="",
                refusal=(
                    f"Thank you, but feedback on #{review.id} “{review.title}” closed at the end of "
                    f"{format_date(round_record.closes_on)}, so I can't take answers any more."
                ),
            )  # type: ignore[arg-type]
        if person is None:
            return ResponseForm(
                **base,
                token="",
                refusal=(
                    "I don't know who you are in the council's people list, so I can't take your feedback. "
                    "Ask an administrator to add you."
                ),
            )
        if round_record.is_requested and self.repository.request_status(round_record.id, person.id) is None:
            return ResponseForm(
                **base,
                token="",
                refusal=(
                    f"This request went to particular stakeholders. You can still give feedback on #{review.id} with the "
                    "“Give feedback” button on the review's status card."
                ),
            )
        earlier: ResponseRecord | None = None
        if token:
            earlier = self.repository.anonymous_response(round_record.id, hash_token(token))
        if earlier is None:
            earlier = self.repository.named_response(round_record.id, person.id)
        if (
            earlier is None
            and round_record.is_requested
            and self.repository.request_status(round_record.id, person.id) == FeedbackStatus.ANSWERED.value
        ):
            return ResponseForm(
                **base,
                token="",
                refusal=(
                    "You've already answered this request anonymously. To change that answer, use the “Change my "
                    "answer” button in the thank-you message I sent you; that button is the only link to your answer."
                ),
            )
        values: dict[str, str] = {}
        notice = None
        if earlier is not None:
            values = {qid: str(rating) for qid, rating in earlier.ratings.items()}
            values.update(earlier.answers)
            values[ANONYMOUS_FIELD] = "yes" if earlier.anonymous else ""
            notice = "You've answered already; sending this form changes your answer."
        return ResponseForm(**base, token=token or new_token(), values=values, notice=notice)

    def check_answers(
        self, questions: Sequence[Question], values: Mapping[str, Any]
    ) -> tuple[dict[str, str], dict[str, int], dict[str, str]]:
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
            else:
                if len(text) > MAX_TEXT_CHARS:
                    errors[question.id] = f"Please keep this under {MAX_TEXT_CHARS} characters (it is {len(text)})."
                elif not text and question.required:
                    errors[question.id] = "Please write a few words here."
                elif text:
                    answers[question.id] = text
        return errors, ratings, answers

    def submit(
        self, person: Person | Any | None, round_id: int, token: str, values: Mapping[str, Any]
    ) -> SubmitOutcome:
        """Check and store an answer form. ``values``: question id -> the value; ANONYMOUS_FIELD truthy for anonymous."""
        round_record = self.repository.get_round(round_id)
        if round_record is None:
            return SubmitOutcome(refusal="That feedback request no longer exists.")
        review = self.reviews.get(round_record.review_id)
        if self.is_closed(round_record):
            return SubmitOutcome(
                refusal=(
                    f"Thank you, but feedback on #{review.id} “{review.title}” closed at the end of "
                    f"{format_date(round_record.closes_on)}, so I couldn't take this answer."
                )
            )  # type: ignore[arg-type]
        if person is None:
            return SubmitOutcome(
                refusal="I don't know who you are in the council's people list, so I can't take "
                "your feedback. Ask an administrator to add you."
            )
        questions = [Question.from_json(q) for q in round_record.questions]
        errors, ratings, answers = self.check_answers(questions, values)
        if errors:
            return SubmitOutcome(errors=errors)
        anonymous = str(values.get(ANONYMOUS_FIELD) or "").strip().lower() in {"yes", "true", "on", "1", "anonymous"}
        if anonymous and not token:
            token = new_token()
        try:
            saved = self.repository.save_response(
                round_record,
                person_id=person.id,
                person_name=person.name,
                anonymous=anonymous,
                ratings=ratings,
                answers=answers,
                token_hash=hash_token(token) if token else None,
                today=self.today(),
            )
        except NotInvited:
            return SubmitOutcome(
                refusal=(
                    f"This request went to particular stakeholders. You can still give feedback on #{review.id} with "
                    "the “Give feedback” button on the review's status card."
                )
            )
        except AlreadyAnswered:
            return SubmitOutcome(
                refusal=(
                    "You've already answered this, so I haven't stored a second answer. To change your answer, use the "
                    "“Change my answer” button in the thank-you message I sent you."
                )
            )
        # Neither the person nor whether the answer was anonymous: a log line's time must not single anyone out.
        log.info("feedback_answered", round_id=round_record.id)
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
        verb = "changed" if saved.replaced else "recorded"
        text = f"Thank you. Your feedback on #{review.id} “{review.title}” is {verb} {how}.{closes}"
        change_value = f"{round_record.id}:{token}"
        return SubmitOutcome(
            done=Reply(text, ReplyKind.DONE, buttons=[Button("Change my answer", change_value, FeedbackActions.CHANGE)])
        )

    @staticmethod
    def parse_change_value(value: str) -> tuple[str, str]:
        round_id, _, token = value.partition(":")
        return round_id, token

    # --- summaries and exports -------------------------------------------------------------------------

    def summary(self, review_id: int) -> FeedbackSummary:
        review = self.reviews.get(review_id)
        requested = self.repository.rounds_for_review(review_id, FeedbackRoundKind.REQUESTED.value)
        unsolicited_rounds = self.repository.rounds_for_review(review_id, FeedbackRoundKind.UNSOLICITED.value)
        unsolicited = sum(len(self.repository.responses(r.id)) for r in unsolicited_rounds)
        chosen = requested[0] if requested else (unsolicited_rounds[0] if unsolicited_rounds else None)
        if chosen is None:
            return FeedbackSummary(review.id, review.title, None, "", 0, 0, 0, [], {}, 0)
        responses = self.repository.responses(chosen.id)
        invited = self.repository.invited(chosen.id) if chosen.is_requested else []
        answered = sum(1 for person in invited if person.status == FeedbackStatus.ANSWERED.value)
        questions = [Question.from_json(q) for q in chosen.questions]
        question_set = self.question_sets.get(f"{chosen.question_set}:{chosen.question_set_version}")
        title = question_set.title if question_set else chosen.question_set
        ratings: list[RatingStats] = []
        texts: dict[str, list[str]] = {}
        if len(responses) >= MIN_RESPONSES:
            for question in questions:
                if question.kind == "rating":
                    given = [r.ratings[question.id] for r in responses if question.id in r.ratings]
                    if given:
                        ratings.append(
                            RatingStats(
                                question.id,
                                question.text,
                                len(given),
                                statistics.fmean(given),
                                statistics.pstdev(given) if len(given) > 1 else 0.0,
                                min(given),
                                max(given),
                                {score: given.count(score) for score in range(1, 6)},
                            )
                        )
                else:
                    # Sorted, so the order says nothing about who wrote what when.
                    texts[question.text] = sorted(r.answers[question.id] for r in responses if question.id in r.answers)
        return FeedbackSummary(
            review.id,
            review.title,
            chosen,
            title,
            len(invited),
            answered,
            len(responses),
            ratings,
            texts,
            unsolicited if chosen.is_requested else 0,
        )

    def summary_text(self, summary: FeedbackSummary) -> str:
        if summary.round is None:
            return (
                f"Nobody has been asked for feedback on #{summary.review_id} “{summary.review_title}” yet, and none "
                "has been given. Use “feedback {0}” to ask stakeholders.".replace("{0}", str(summary.review_id))
            )
        chosen = summary.round
        if chosen.is_requested:
            closes = format_date(chosen.closes_on) if chosen.closes_on else ""
            state = "closed" if self.is_closed(chosen) else "closes"
            rate = summary.response_rate or 0.0
            lines = [
                f"Feedback on #{summary.review_id} “{summary.review_title}” ({summary.question_set_title}, "
                f"{state} {closes}): {summary.answered} of {summary.invited} people answered ({rate:.0%})."
            ]
        else:
            lines = [
                f"Feedback on #{summary.review_id} “{summary.review_title}” given without a request: "
                f"{_plural(summary.responses, 'answer')}."
            ]
        if not summary.enough:
            lines.append(
                f"The breakdown is shown once there are {MIN_RESPONSES} answers, so nobody's answer can be "
                f"picked out: {_plural(summary.needed, 'more answer')} needed."
            )
        else:
            for stats in summary.ratings:
                lines.append(
                    f"• {stats.text} average {stats.mean:.1f} out of 5 (spread ±{stats.spread:.1f}, "
                    f"from {stats.low} to {stats.high}; {_plural(stats.count, 'rating')})"
                )
            for question, given in summary.texts.items():
                if given:
                    lines.append(f"*{question}*")
                    lines.extend(f"> {' '.join(text.split())[:500]}" for text in given[:20])
                    if len(given) > 20:
                        lines.append(f"…and {len(given) - 20} more (use the CSV export for all of them).")
        if summary.unsolicited:
            lines.append(
                f"Also {_plural(summary.unsolicited, 'answer')} given without a request (an administrator "
                "can export them with the rest)."
            )
        return "\n".join(lines)

    def export_csv(self, review_id: int, out: io.TextIOBase | Any) -> int:
        """Every round's answers as CSV rows; rounds with fewer than MIN_RESPONSES answers are left out (and said
        so by the caller). Returns the number of rows written."""
        self.reviews.get(review_id)
        rounds = self.repository.rounds_for_review(review_id)
        all_questions: list[str] = []
        for found in rounds:
            for q in found.questions:
                if q["id"] not in all_questions:
                    all_questions.append(q["id"])
        writer = csv.writer(out)
        writer.writerow(["review", "request", "kind", "question_set", "respondent", "answered_on", *all_questions])
        written = 0
        for found in sorted(rounds, key=lambda r: r.id):
            responses = self.repository.responses(found.id)
            if len(responses) < MIN_RESPONSES:
                continue
            names = self.people.get_many([r.person_id for r in responses if r.person_id is not None])
            rows = []
            for response in responses:
                who = (
                    "anonymous"
                    if response.anonymous or response.person_id is None
                    else names[response.person_id].name
                    if response.person_id in names
                    else "unknown"
                )
                values = [response.ratings.get(q, response.answers.get(q, "")) for q in all_questions]
                rows.append(
                    [
                        review_id,
                        found.id,
                        found.kind,
                        f"{found.question_set} v{found.question_set_version}",
                        who,
                        response.answered_on.isoformat() if response.answered_on else "",
                        *values,
                    ]
                )
            # Named first, then anonymous, each sorted by their words: the order gives nobody away.
            rows.sort(key=lambda row: (row[4] == "anonymous", str(row[4]), [str(v) for v in row[6:]]))
            writer.writerows(rows)
            written += len(rows)
        return written

    def rounds_held_back(self, review_id: int) -> list[tuple[RoundRecord, int]]:
        """Rounds an export leaves out for having too few answers, with their counts."""
        held = []
        for found in self.repository.rounds_for_review(review_id):
            count = len(self.repository.responses(found.id))
            if 0 < count < MIN_RESPONSES:
                held.append((found, count))
        return held

    # --- the platform-neutral command ----------------------------------------------------------------

    def command(self, user: UserContext, argument: str) -> list[Reply]:
        """``feedback <review>`` and ``feedback summary <review>`` for platforms without their own handling:
        the request form is opened by the adapter from the button on this reply."""
        words = argument.strip()
        try:
            if words.lower().startswith("summary"):
                review_id = self.find_review(words[len("summary") :])
                refusal = self.summary_refusal(user.person.id if user.person else None, review_id)
                if refusal:
                    return [Reply(refusal, ReplyKind.PROBLEM)]
                summary = self.summary(review_id)
                chart = (
                    [Button("Show as a chart", str(review_id), FeedbackActions.SHOW_CHART)]
                    if summary.enough and summary.ratings
                    else []
                )
                return [Reply(self.summary_text(summary), ReplyKind.INFO, buttons=chart)]
            review_id = self.find_review(words)
            refusal = self.request_refusal(user.person.id if user.person else None, review_id)
            if refusal:
                return [Reply(refusal, ReplyKind.PROBLEM)]
        except FeedbackError as error:
            return [Reply(str(error), ReplyKind.PROBLEM)]
        review = self.reviews.get(review_id)
        return [
            Reply(
                f"Who should give feedback on #{review.id} “{review.title}”? Choose the stakeholders, the "
                "questions and a closing date.",
                ReplyKind.QUESTION,
                buttons=[
                    Button("Choose stakeholders", str(review_id), FeedbackActions.OPEN_REQUEST_FORM, style="primary")
                ],
            )
        ]


def give_feedback_button(review_id: int) -> Button:
    """The button on a review's card (status reply, App Home) for feedback nobody asked for."""
    return Button("Give feedback", f"review:{review_id}", FeedbackActions.GIVE)
