"""Creating a review by conversation, over the real review service and database.

Today is Monday 23 November 2026 in every test here (the clock is the test's).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from storage.conversations import SqlConversationStore
from storage.people import PeopleRepository
from tests.storage.review_helpers import Clock
from workflows.conversation import ConversationEngine, TurnStatus
from workflows.cycle import load_cycle
from workflows.dates import format_date
from workflows.people import DirectoryPeopleResolver, PersonRef
from workflows.review_flow import REVIEW_FLOW, build_review_flow
from workflows.reviews import ReviewService

KEY = "slack:T1:U1:1764000000.0001"


MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class Officer:
    """One officer talking to a freshly built engine, as a server process would build it."""

    def __init__(self, database, clock, cycle_file: Path | None = None) -> None:
        self.cycle = load_cycle(cycle_file)
        self.reviews = ReviewService(database, self.cycle, clock=clock)
        self.engine = ConversationEngine(
            SqlConversationStore(database, clock=clock),
            [build_review_flow(self.cycle, self.reviews)],
            idle_minutes=60 * 24,
            clock=clock,
        )
        directory = PeopleRepository(database)
        self.me = PersonRef.from_person(directory.find_by_email("alice.adams@council.gov.uk"))
        self.people = DirectoryPeopleResolver(directory, me=self.me)

    def start(self):
        return self.engine.start(KEY, REVIEW_FLOW, people=self.people, actor=self.me)

    def say(self, text: str):
        turn = self.engine.handle(KEY, text, people=self.people, actor=self.me)
        assert turn is not None, "no conversation is active"
        return turn

    def answer_all(self, answers: list[str]):
        turn = None
        for text in answers:
            turn = self.say(text)
        return turn


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM)


@pytest.fixture
def directory(database) -> PeopleRepository:
    people = PeopleRepository(database)
    people.upsert(name="Alice Adams", email="alice.adams@council.gov.uk")
    people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk", slack_user_id="U0SAMPATEL1")
    people.upsert(name="Sam Jones", email="sam.jones@council.gov.uk")
    people.upsert(name="Cllr Priya Shah", email="priya.shah@council.gov.uk")
    people.upsert(name="Omar Khan", email="omar.khan@council.gov.uk")
    people.upsert(name="Grace Lee", email="grace.lee@council.gov.uk")
    return people


@pytest.fixture
def officer(database, clock, directory) -> Officer:
    return Officer(database, clock)


HOME_CARE = [
    "Home care for older people",  # service
    "ok",  # the suggested title
    "Older people stay independent at home for longer; Fewer emergency hospital admissions",
    "operational",
    "me",  # lead commissioner
    "priya.shah@council.gov.uk",  # portfolio holder
    "U0SAMPATEL1",  # the id a Slack user picker gives (a mention is read by the Slack adapter)
    "31/03/2027",  # Analyse
    "ok",
    "2027-05-28",  # Plan: owner defaults to the lead commissioner
    "Sam Jones",
    "in 40 weeks",  # Do
    "omar.khan@council.gov.uk",
    "next Friday",  # Review: refused below, too early
]


def test_a_review_is_created_by_conversation_and_the_officer_told_who_is_reminded(officer) -> None:
    first = officer.start()
    assert "(1/" in first.text and "Which service is under review?" in first.text
    turn = officer.answer_all(HOME_CARE[:-1])
    assert turn.prompt.question == "When is the Review stage due?"
    refused = officer.say("next Friday")
    assert "is before Mon 30 August 2027, the date the previous stage is due" in refused.text
    officer.say("2027-10-29")
    summary = officer.say("Omar Khan, grace.lee@council.gov.uk")
    assert summary.prompt.kind == "confirm"
    for line in [
        "1. Service: Home care for older people",
        "2. Title: Home care for older people review 2026",
        "3. Outcomes for residents: "
        "Older people stay independent at home for longer; Fewer emergency hospital admissions",
        "4. Level: Operational",
        "5. Lead commissioner: Alice Adams (alice.adams@council.gov.uk)",
        "6. Portfolio holder: Cllr Priya Shah (priya.shah@council.gov.uk)",
        "7. Analyse: owner: Sam Patel (sam.patel@council.gov.uk)",
        "8. Analyse: due: Wed 31 March 2027",
        "10. Plan: due: Fri 28 May 2027",
        "15. Stakeholders: Omar Khan (omar.khan@council.gov.uk), Grace Lee (grace.lee@council.gov.uk)",
    ]:
        assert line in summary.text
    done = officer.say("yes")
    assert done.status is TurnStatus.COMPLETED
    review = done.result
    assert done.text.startswith(
        f"Review #{review.id} created: “Home care for older people review 2026” for Home care for older people."
    )
    assert "• Sam Patel: Analyse (due Wed 31 March 2027), as each due date approaches and if it passes." in done.text
    assert "• Alice Adams: Plan (due Fri 28 May 2027)" in done.text
    assert "• Omar Khan: Review (due Fri 29 October 2027)" in done.text
    # Only Sam Patel has a Slack id: nobody else is promised reminders that could never be sent.
    assert (
        "• Alice Adams: Plan (due Fri 28 May 2027). I can't remind them yet (no Slack or Teams account known)"
        in done.text
    )
    assert done.text.count("as each due date approaches") == 1
    assert (
        "Alice Adams (lead commissioner) and Cllr Priya Shah (portfolio holder) will find it in their list of reviews."
        in done.text
    )

    stored = officer.reviews.get(review.id)
    assert [(s.name, s.owner.name, s.due_date) for s in stored.stages] == [
        ("Analyse", "Sam Patel", date(2027, 3, 31)),
        ("Plan", "Alice Adams", date(2027, 5, 28)),
        ("Do", "Sam Jones", date(2027, 8, 30)),
        ("Review", "Omar Khan", date(2027, 10, 29)),
    ]
    assert stored.level == "operational" and stored.portfolio_holder.name == "Cllr Priya Shah"
    assert sorted(s.person.name for s in stored.stakeholders) == ["Grace Lee", "Omar Khan"]
    assert [r.id for r in officer.reviews.list_mine(officer.me.id)] == [review.id]
    assert not officer.engine.is_active(KEY)


def test_due_dates_are_suggested_from_the_cycle_durations(officer) -> None:
    officer.start()
    turn = officer.answer_all(HOME_CARE[:7])
    expected = officer.cycle.default_due_dates(date(2026, 11, 23))
    assert turn.prompt.question == "When is the Analyse stage due?"
    assert turn.prompt.suggestion == format_date(expected[0])
    officer.say("ok")
    assert officer.say("ok").prompt.suggestion == format_date(expected[1])
    help_turn = officer.say("help")
    assert "The Plan stage usually takes 25 working days." in help_turn.text


def test_stage_questions_follow_the_councils_own_cycle(database, clock, directory, tmp_path) -> None:
    cycle_file = tmp_path / "cycle.toml"
    cycle_file.write_text(
        '[cycle]\nname = "Three steps"\n'
        '[[stages]]\nname = "Strategic planning"\nduration = 10\nunit = "days"\n'
        '[[stages]]\nname = "Sourcing"\nduration = 10\nunit = "days"\n'
        '[[stages]]\nname = "Monitoring and evaluation"\nduration = 10\nunit = "days"\n',
        encoding="utf-8",
    )
    officer = Officer(database, clock, cycle_file)
    officer.start()
    turn = officer.answer_all(HOME_CARE[:6])
    assert turn.prompt.question == "Who owns the Strategic planning stage?"
    turn = officer.answer_all(["ok", "ok"])
    assert turn.prompt.question == "Who owns the Sourcing stage?"
    turn = officer.answer_all(["ok", "ok", "ok", "ok", "skip"])
    assert "13. Stakeholders: (none)" in turn.text and turn.prompt.kind == "confirm"
    done = officer.say("yes")
    stages = officer.reviews.get(done.result.id).stages
    assert [s.name for s in stages] == ["Strategic planning", "Sourcing", "Monitoring and evaluation"]
    assert [s.due_date for s in stages] == [date(2026, 12, 3), date(2026, 12, 13), date(2026, 12, 23)]


def test_bad_answers_get_clear_messages(officer) -> None:
    officer.start()
    huge = officer.say("A" * 10_000)
    assert "That message is 10,000 characters long" in huge.text and huge.prompt.step_id == "service"
    assert "the limit for this question is 200" in officer.say("B" * 201).text
    officer.answer_all(HOME_CARE[:4])
    unknown = officer.say("@nobody")
    assert "I don't know “@nobody” — try @name or an email." in unknown.text
    # An email or a picked Slack id is already exact: the officer is told the person is not known yet, and how.
    by_email = officer.say("nobody@council.gov.uk")
    assert "nobody@council.gov.uk isn't in the council's people list yet" in by_email.text
    assert "try @name" not in by_email.text
    picked = officer.say("U0NOBODY99")
    assert "The person you picked (U0NOBODY99) isn't in the council's people list yet" in picked.text
    ambiguous = officer.say("sam")
    assert "More than one person matches “sam”" in ambiguous.text and len(ambiguous.prompt.options) == 2
    chosen = officer.say("2")
    assert chosen.prompt.step_id == "portfolio_holder"
    officer.say("priya.shah@council.gov.uk")
    officer.say("me")
    assert "There is no 30 February 2027" in officer.say("30/02/2027").text
    assert "is in the past" in officer.say("2026-11-01").text
    assert "couldn't read “soonish” as a date" in officer.say("soonish").text
    officer.say("2027-03-31")
    officer.say("me")
    assert "must not go backwards" in officer.say("2027-03-30").text
    assert officer.say("2027-03-31").prompt.question == "Who owns the Do stage?"


def test_a_duplicate_title_for_the_same_service_is_questioned(officer) -> None:
    officer.start()
    officer.answer_all(HOME_CARE[:6] + ["ok", "ok"] * 4 + ["skip", "yes"])
    officer.start()
    warned = officer.answer_all(HOME_CARE[:2])
    assert (
        "There is already a review called “Home care for older people review 2026” for Home care for older people"
        in warned.text
    )
    assert "led by Alice Adams" in warned.text and warned.prompt.step_id == "title"
    renamed = officer.say("Home care refresh 2026")
    assert renamed.prompt.step_id == "outcomes"
    done = officer.answer_all(HOME_CARE[2:6] + ["ok", "ok"] * 4 + ["skip", "yes"])
    assert done.result.title == "Home care refresh 2026"
    # Confirming a duplicate on purpose creates it.
    officer.start()
    officer.answer_all(HOME_CARE[:2])
    again = officer.answer_all(["yes"] + HOME_CARE[2:6] + ["ok", "ok"] * 4 + ["skip", "yes"])
    assert again.status is TurnStatus.COMPLETED and again.result.title == "Home care for older people review 2026"
    assert (
        len(officer.reviews.find_duplicates("Home care for older people review 2026", "Home care for older people"))
        == 2
    )


def test_changing_the_service_from_the_summary_rechecks_the_title(officer) -> None:
    officer.start()
    officer.answer_all(["Libraries"] + HOME_CARE[1:6] + ["ok", "ok"] * 4 + ["skip", "yes"])
    officer.start()
    officer.answer_all(["Libraries", "Libraries review 2026", "yes", "More visits", "strategic", "me", "priya"])
    summary = officer.answer_all(["ok", "ok"] * 4 + ["skip"])
    assert "2. Title: Libraries review 2026" in summary.text
    officer.say("change")
    officer.say("1")
    changed = officer.say("Mobile libraries")
    assert changed.prompt.step_id == "confirm" and "1. Service: Mobile libraries" in changed.text
    officer.say("change")
    officer.say("1")
    warned = officer.say("Libraries")
    assert "There is already a review called “Libraries review 2026”" in warned.text


def test_a_half_finished_review_survives_a_restart(database, clock, directory) -> None:
    Officer(database, clock).start()
    Officer(database, clock).answer_all(HOME_CARE[:5])
    later = Officer(database, clock)  # the server restarted: new store, service and engine
    waiting = later.engine.current(KEY, people=later.people, actor=later.me)
    assert waiting.prompt.step_id == "portfolio_holder" and "(6/15) Who is the portfolio holder?" in waiting.text
    done = later.answer_all(HOME_CARE[5:6] + ["ok", "ok"] * 4 + ["skip", "yes"])
    assert done.status is TurnStatus.COMPLETED
    assert later.reviews.get(done.result.id).outcomes == (
        "Older people stay independent at home for longer",
        "Fewer emergency hospital admissions",
    )


def test_the_wizard_form_shows_every_question_and_checks_each_field(officer) -> None:
    fields = officer.engine.form_fields(REVIEW_FLOW, people=officer.people, actor=officer.me)
    assert [f.id for f in fields][:6] == [
        "service",
        "title",
        "outcomes",
        "level",
        "lead_commissioner",
        "portfolio_holder",
    ]
    assert len(fields) == 15 and fields[4].initial == "alice.adams@council.gov.uk"
    assert [o.value for o in fields[3].options] == ["regional", "strategic", "operational", "individual"]
    values = {f.id: f.initial or "" for f in fields}
    values.update(
        service="Libraries",
        outcomes="More visits",
        level="strategic",
        portfolio_holder="nobody",
        stage1_analyse_due="2027-06-01",
        stage2_plan_due="2027-05-01",
        stage3_do_due="2027-09-01",
        stage4_review_due="2027-11-01",
    )
    result, turn = officer.engine.submit_form(KEY, REVIEW_FLOW, values, people=officer.people, actor=officer.me)
    assert turn is None
    assert result.errors == {
        "portfolio_holder": "I don't know “nobody” — try @name or an email.",
        "stage2_plan_due": (
            "Sat 1 May 2027 is before Tue 1 June 2027, the date the previous stage is due. "
            "Stage dates must not go backwards."
        ),
    }
    values.update(portfolio_holder="priya.shah@council.gov.uk", stage2_plan_due="2027-07-01")
    result, turn = officer.engine.submit_form(KEY, REVIEW_FLOW, values, people=officer.people, actor=officer.me)
    assert result.errors == {} and turn.status is TurnStatus.COMPLETED
    assert turn.result.title == "Libraries review 2026"


def test_the_portfolio_holder_for_the_service_is_suggested(officer, directory) -> None:
    priya = directory.find_by_email("priya.shah@council.gov.uk")
    directory.assign_role(priya.id, "portfolio holder", "adult social care")
    grace = directory.find_by_email("grace.lee@council.gov.uk")
    directory.assign_role(grace.id, "portfolio holder", "libraries")
    officer.start()
    turn = officer.answer_all(["Adult social care: home care", "ok", "Independence", "strategic", "me"])
    assert turn.prompt.suggestion == "Cllr Priya Shah (priya.shah@council.gov.uk)"
    assert officer.say("ok").prompt.step_id == "stage1_analyse_owner"
    officer.start()
    turn = officer.answer_all(["Parks", "ok", "Greener parks", "strategic", "me"])
    assert turn.prompt.suggestion is None  # no portfolio names parks: nothing guessed


def test_moving_a_stage_later_suggests_a_next_date_that_is_accepted(officer) -> None:
    """Editing a due date so the next stage's date now comes before it: the date suggested for the next stage
    is one that "ok" accepts, not the old date the order check refuses."""
    officer.start()
    summary = officer.answer_all(HOME_CARE[:7] + ["ok", "ok"] * 4 + ["skip"])
    assert summary.prompt.step_id == "confirm"
    officer.say("change")
    officer.say("8")  # Analyse: due
    moved = officer.say("2027-09-30")
    assert moved.prompt.question == "When is the Plan stage due?"
    assert moved.prompt.suggestion is not None
    suggested = moved.prompt.suggestion
    assert "Thu 30 September 2027" not in suggested  # not the date it must come after
    accepted = officer.say("ok")
    # Plan took the suggestion; Do now comes too early as well, and is asked again with a date "ok" accepts.
    assert f"is now before the previous stage's date ({suggested})" in accepted.text
    assert accepted.prompt.question == "When is the Do stage due?"
    summary = officer.say("ok")
    while summary.prompt.step_id != "confirm":
        assert "must not go backwards" not in summary.text and "is before" not in summary.text
        summary = officer.say("ok")
    assert f"Plan: due: {suggested}" in summary.text


def test_terminal_friendly_hints_for_outcomes_and_stakeholders(officer) -> None:
    """Questions ask only for what every surface can type, and the stakeholder help asks for people, which the
    answer is then read as, rather than suggesting team names it would refuse."""
    first = officer.start()
    outcomes = officer.say("Home care")
    outcomes = officer.say("ok")
    assert outcomes.prompt.step_id == "outcomes" and "own line" not in outcomes.prompt.question
    assert "semicolons" in outcomes.prompt.question and first.prompt.step_id == "service"
    turn = officer.answer_all(["Independence; Fewer admissions", *HOME_CARE[3:7], *["ok", "ok"] * 4])
    assert turn.prompt.step_id == "stakeholders"
    assert "Name people rather than teams" in officer.say("help").text
