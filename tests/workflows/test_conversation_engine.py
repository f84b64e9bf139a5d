"""The conversation engine over the real conversation store (SQLite, and PostgreSQL when configured).

A small "book a meeting room" flow exercises every step type and every
command; the review flow has its own tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage.conversations import SqlConversationStore
from tests.storage.review_helpers import Clock
from workflows.conversation import (
    ChoiceStep,
    Completion,
    ConfirmStep,
    ConversationEngine,
    DateStep,
    Flow,
    FlowError,
    ListStep,
    NeedsConfirmation,
    Option,
    PersonStep,
    StepContext,
    TextStep,
    TurnStatus,
    YesNoStep,
)
from workflows.conversation.state import EngineState, PendingAnswer, with_state
from workflows.people import Ambiguous, PersonRef, Resolved, Unknown

KEY = "terminal:alice@council.gov.uk"
ALICE = PersonRef(1, "Alice Adams", "alice@council.gov.uk")
SAM_P = PersonRef(2, "Sam Patel", "sam.patel@council.gov.uk")
SAM_J = PersonRef(3, "Sam Jones", "sam.jones@council.gov.uk")


MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class ListResolver:
    """A platform's resolver as an adapter would supply it: exact emails, names by first word."""

    people = [ALICE, SAM_P, SAM_J]

    def resolve(self, text: str):
        text = text.strip().lower()
        by_email = [p for p in self.people if p.email == text]
        if by_email:
            return Resolved(by_email[0])
        found = [p for p in self.people if p.name.lower().startswith(text)]
        if len(found) == 1:
            return Resolved(found[0])
        return Ambiguous(text, found) if found else Unknown(text)


def room_flow(booked: list[Mapping[str, Any]]) -> Flow:
    def finish(answers: Mapping[str, Any], ctx: StepContext) -> Completion:
        if answers["topic"] == "Explode":
            raise FlowError("That room is closed for repairs; please change the topic.")
        booked.append(dict(answers))
        return Completion([f"Booked {answers['room']} for {answers['topic']}."], result=len(booked))

    def not_taken(value: str, ctx: StepContext):
        if value.lower() == "budget":
            return NeedsConfirmation(value, "There is already a meeting called “budget”. Keep this topic?")
        return None

    return Flow(
        name="room",
        title="room booking",
        intro="Let's book a room.",
        finish=finish,
        steps=[
            TextStep(
                "topic",
                "What is the meeting about?",
                help="A few words for the calendar.",
                max_chars=100,
                check=not_taken,
            ),
            ChoiceStep("room", "Which room?", choices=[Option("blue", "Blue room"), Option("green", "Green room")]),
            PersonStep("chair", "Who chairs it?", title="Chair", default=lambda ctx: ctx.actor),
            DateStep("day", "When?", title="Day"),
            ListStep("agenda", "Agenda items?", title="Agenda", required=False),
            YesNoStep("catering", "Catering?", title="Catering"),
            ConfirmStep("confirm", "Shall I book it?"),
        ],
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM)


@pytest.fixture
def booked() -> list:
    return []


@pytest.fixture
def engine(database, clock, booked) -> ConversationEngine:
    return ConversationEngine(
        SqlConversationStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock
    )


def say(engine: ConversationEngine, text: str):
    turn = engine.handle(KEY, text, people=ListResolver(), actor=ALICE)
    assert turn is not None, "no conversation was active"
    return turn


def test_a_whole_flow_is_asked_in_order_and_finishes_once(engine, booked) -> None:
    first = engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    assert "Let's book a room." in first.text and "(1/6) What is the meeting about?" in first.text
    assert "Blue room" in say(engine, "Quarterly plans").text
    chair = say(engine, "green")
    assert "Suggested: Alice Adams (alice@council.gov.uk) — reply ok to use it." in chair.text
    assert say(engine, "ok").prompt.step_id == "day"
    day = say(engine, "2027-01-15")
    assert "Got it: Fri 15 January 2027." in day.text
    say(engine, "- Budget\n- Staffing; Risks")
    summary = say(engine, "no")
    assert summary.prompt.kind == "confirm"
    assert "Agenda: Budget; Staffing; Risks" in summary.text and "Catering: No" in summary.text
    done = say(engine, "yes")
    assert done.status is TurnStatus.COMPLETED and done.text == "Booked green for Quarterly plans."
    assert booked == [
        {
            "topic": "Quarterly plans",
            "room": "green",
            "chair": ALICE,
            "day": datetime(2027, 1, 15).date(),
            "agenda": ["Budget", "Staffing", "Risks"],
            "catering": False,
        }
    ]
    assert engine.handle(KEY, "yes", people=ListResolver(), actor=ALICE) is None


def test_back_skip_help_restart_and_cancel(engine, booked) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    assert "nothing to go back to" in say(engine, "back").text
    say(engine, "Quarterly plans")
    back = say(engine, "back")
    assert back.prompt.step_id == "topic" and "Suggested: Quarterly plans" in back.text
    assert say(engine, "ok").prompt.step_id == "room"
    refused = say(engine, "skip")
    assert "can't be skipped" in refused.text and refused.prompt.step_id == "room"
    helped = say(engine, "help")
    assert helped.prompt.step_id == "room" and "cancel (stop without saving anything)" in helped.text
    assert "skip (" not in helped.text  # not offered where it doesn't apply
    say(engine, "blue"), say(engine, "alice"), say(engine, "tomorrow")
    skipped = say(engine, "skip")
    assert skipped.prompt.step_id == "catering"
    again = say(engine, "restart")
    assert "Starting again" in again.text and again.prompt.step_id == "topic" and again.prompt.suggestion is None
    cancelled = say(engine, "cancel")
    assert cancelled.status is TurnStatus.CANCELLED and "Nothing was saved" in cancelled.text
    assert not engine.is_active(KEY) and booked == []


def test_bad_answers_are_explained_and_the_question_asked_again(engine) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    huge = say(engine, "x" * 10_000)
    assert "10,000 characters" in huge.text and huge.prompt.step_id == "topic"
    assert "limit for this question is 100" in say(engine, "y" * 101).text
    say(engine, "Quarterly plans")
    assert "Please choose one of: Blue room, Green room." in say(engine, "purple").text
    say(engine, "2")
    assert "I don't know “zed” — try @name or an email." in say(engine, "zed").text
    ambiguous = say(engine, "sam")
    assert "More than one person matches “sam”" in ambiguous.text
    assert [o.label for o in ambiguous.prompt.options] == [SAM_P.label, SAM_J.label]
    assert "Got it: Sam Jones" in say(engine, "2").text
    assert "There is no 31 February 2027" in say(engine, "31/02/2027").text
    assert "is in the past" in say(engine, "01/01/2020").text
    assert say(engine, "31/03/2027").prompt.step_id == "agenda"


def test_an_answer_worth_a_second_look_is_confirmed_or_replaced(engine) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    warned = say(engine, "budget")
    assert "already a meeting called “budget”" in warned.text and warned.prompt.step_id == "topic"
    assert say(engine, "yes").prompt.step_id == "room"
    say(engine, "back")
    say(engine, "budget")
    renamed = say(engine, "Budget setting 2027")  # typing a new answer replaces the doubtful one
    assert renamed.prompt.step_id == "room"


def test_an_answer_can_be_changed_from_the_summary(engine, booked) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    for answer in ["Quarterly plans", "blue", "ok", "2027-01-15", "skip", "yes"]:
        say(engine, answer)
    assert "change (change one of the answers)" in say(engine, "help").text  # only at the summary
    change = say(engine, "change")
    assert "Which answer would you like to change?" in change.text and "2. Which room?: Blue room" in change.text
    assert say(engine, "2").prompt.step_id == "room"
    summary = say(engine, "green")
    assert summary.prompt.kind == "confirm" and "Which room?: Green room" in summary.text
    say(engine, "yes")
    assert booked[0]["room"] == "green" and booked[0]["agenda"] is None


def test_a_refused_finish_keeps_the_conversation(engine, booked) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    for answer in ["Explode", "blue", "ok", "2027-01-15", "skip", "yes"]:
        say(engine, answer)
    refused = say(engine, "yes")
    assert refused.status is TurnStatus.ASKING and "closed for repairs" in refused.text and booked == []
    assert engine.is_active(KEY)


def test_a_conversation_resumes_after_a_restart(database, clock, booked) -> None:
    first = ConversationEngine(
        SqlConversationStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock
    )
    first.start(KEY, "room", people=ListResolver(), actor=ALICE)
    say(first, "Quarterly plans")
    say(first, "green")
    # A new process: new store, new engine, same database.
    second = ConversationEngine(
        SqlConversationStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock
    )
    resumed = second.current(KEY, people=ListResolver(), actor=ALICE)
    assert resumed is not None and resumed.prompt.step_id == "chair"
    for answer in ["sam p", "2027-01-15", "skip", "yes", "yes"]:
        say(second, answer)
    assert booked[0]["topic"] == "Quarterly plans" and booked[0]["chair"] == SAM_P


def test_an_idle_conversation_is_set_aside_and_the_officer_told(engine, clock) -> None:
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    say(engine, "Quarterly plans")
    clock.now += timedelta(minutes=59)
    assert say(engine, "blue").prompt.step_id == "chair"  # still within the hour since the last answer
    clock.now += timedelta(minutes=61)
    expired = say(engine, "alice")
    assert expired.status is TurnStatus.EXPIRED
    assert "half-finished room booking (started 23 Nov 2026 at 09:00) was set aside after an hour" in expired.text
    assert not engine.is_active(KEY)


def test_purging_removes_only_long_idle_conversations(engine, clock) -> None:
    engine.start(KEY, "room")
    clock.now += timedelta(hours=3)
    engine.start("terminal:bob", "room")
    assert engine.purge_idle() == 1
    assert engine.is_active("terminal:bob") and not engine.is_active(KEY)


def test_the_flow_checks_as_one_form_with_errors_per_field(engine, booked) -> None:
    fields = engine.form_fields("room", people=ListResolver(), actor=ALICE)
    assert [f.id for f in fields] == ["topic", "room", "chair", "day", "agenda", "catering"]
    assert fields[2].initial == ALICE.email and fields[4].multiline and not fields[4].required
    values = {"topic": "budget", "room": "red", "chair": "nobody", "day": "30/02/2027", "catering": "yes"}
    result, turn = engine.submit_form(KEY, "room", values, people=ListResolver(), actor=ALICE)
    assert turn is None and booked == []
    assert result.errors == {
        "room": "Please choose one of: Blue room, Green room.",
        "chair": "I don't know “nobody” — try @name or an email.",
        "day": (
            "There is no 30 February 2027. Please check the day and month (dates are read day first, e.g. 31/03/2027)."
        ),
    }
    values.update(room="blue", chair="sam.patel@council.gov.uk", day="2027-02-28")
    result, turn = engine.submit_form(KEY, "room", values, people=ListResolver(), actor=ALICE)
    assert result.warnings == {"topic": "There is already a meeting called “budget”. Keep this topic?"} and turn is None
    result, turn = engine.submit_form(KEY, "room", values, people=ListResolver(), actor=ALICE, confirmed={"topic"})
    assert turn.status is TurnStatus.COMPLETED and booked[0]["chair"] == SAM_P and booked[0]["agenda"] is None


def test_an_answer_that_crosses_with_another_is_not_lost_or_doubled(database, clock, booked) -> None:
    """Two workers handle messages for one conversation at once: the later write is refused, not merged."""

    class RacingStore(SqlConversationStore):
        # Between this worker's read and its write, another worker saves an answer (a retried event).
        raced = False

        def get(self, key):
            record = super().get(key)
            if record is not None and not self.raced and record.step == "room":
                self.raced = True
                other = ConversationEngine(
                    SqlConversationStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock
                )
                other.handle(KEY, "green", people=ListResolver(), actor=ALICE)
            return record

    engine = ConversationEngine(
        SqlConversationStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock
    )
    engine.start(KEY, "room", people=ListResolver(), actor=ALICE)
    say(engine, "Quarterly plans")
    racing = ConversationEngine(RacingStore(database, clock=clock), [room_flow(booked)], idle_minutes=60, clock=clock)
    crossed = say(racing, "blue")
    assert "That answer crossed with another message of yours, so I didn't use it" in crossed.text
    assert crossed.prompt.step_id == "chair"
    summary = [say(engine, a) for a in ["ok", "2027-01-15", "skip", "no"]][-1]
    assert "Which room?: Green room" in summary.text


def test_a_conversation_saved_under_older_questions_starts_them_again(database, clock, booked) -> None:
    store = SqlConversationStore(database, clock=clock)
    old = ConversationEngine(store, [room_flow(booked)], idle_minutes=60, clock=clock)
    old.start(KEY, "room")
    say(old, "Quarterly plans")
    renamed = room_flow(booked)
    renamed.steps[1].id = "venue"  # as when a council's edited cycle renames a stage
    new = ConversationEngine(store, [renamed], idle_minutes=60, clock=clock)
    turn = say(new, "blue")
    assert "The questions changed since you started" in turn.text and turn.prompt.step_id == "topic"
    assert turn.prompt.suggestion == "Quarterly plans"


def test_the_engine_state_is_kept_in_the_shape_earlier_versions_saved() -> None:
    """Conversations saved before an upgrade resume as they were: the state is stored beside the answers."""
    stored = {
        "topic": "Budget",
        "__engine__": {
            "editing": True,
            "pending": {"step": "room", "value": "blue"},
            "options": [{"value": "2", "label": "Sam Patel"}],
        },
    }
    state = EngineState.from_answers(stored)
    assert state == EngineState(
        editing=True, pending=PendingAnswer("room", "blue"), options=(Option("2", "Sam Patel"),)
    )
    assert with_state({"topic": "Budget"}, state) == stored
    assert with_state(stored, EngineState()) == {"topic": "Budget"}
    assert EngineState.from_answers({"topic": "Budget"}) == EngineState()
