"""The platform-neutral commands (Slack's slash command, Teams' typed commands), with the real guidance and database."""

from __future__ import annotations

import pytest

from storage.people import PeopleRepository
from tests.storage.review_helpers import Clock, add_team, draft_for
from workflows.actions import Actions, CommandActions
from workflows.command_parsing import Command, parse_command
from workflows.commands import CommandRunner
from workflows.dialogue import build_dialogue, directory_user
from workflows.feedback import FeedbackService
from workflows.people import PersonRef
from workflows.replies import ReplyKind
from workflows.review_reference import parse_review_reference


@pytest.fixture
def world(settings, database, guidance):
    clock = Clock()
    team = add_team(database)
    dialogue = build_dialogue(settings.for_workflows(), database, knowledge=guidance, clock=clock)
    feedback = FeedbackService.from_settings(settings.for_workflows(), database, dialogue.reviews)
    runner = CommandRunner(dialogue, roles=guidance, feedback=feedback, command_prefix="/commissioning ")
    return dialogue, runner, team, clock


def user_for(dialogue, person) -> object:
    return directory_user(
        dialogue, "slack", f"slack:T1:{person.slack_user_id or person.id}:command", PersonRef.from_person(person)
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("help", Command("help")),
        ("status #12", Command("status", "#12")),
        ("STATUS   12", Command("status", "12")),
        ("my reviews", Command("list")),
        ("list", Command("list")),
        ("new review", Command("new")),
        ("ask who approves sourcing decisions?", Command("ask", "who approves sourcing decisions?")),
        ("whois the portfolio holder?", Command("whois", "the portfolio holder")),
        ("who is the section 151 officer?", Command("whois", "section 151 officer")),
        ("advance 3 market work done elsewhere", Command("advance", "3 market work done elsewhere")),
        ("frobnicate 3", Command("help", unknown="frobnicate")),
    ],
)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse_command(text) == expected


def test_parse_review_reference() -> None:
    assert parse_review_reference("#12 because the market work slipped") == (12, "because the market work slipped")
    assert parse_review_reference("review 7") == (7, "")
    assert parse_review_reference("home care") == (None, "home care")


def test_unknown_command_shows_help_naming_the_word(world) -> None:
    dialogue, runner, team, _ = world
    [reply] = runner.run(user_for(dialogue, team.sam), "frobnicate")
    assert "I don't know the command “frobnicate”" in reply.text
    assert "`/commissioning new`" in reply.text and "`/commissioning whois <role>`" in reply.text


def test_ask_answers_from_the_guidance_with_citations(world) -> None:
    dialogue, runner, team, _ = world
    [reply] = runner.run(user_for(dialogue, team.sam), "ask Who takes strategic sourcing decisions?")
    assert reply.kind is ReplyKind.ANSWER and "Cabinet" in reply.text
    assert reply.citations and [b.action_id for b in reply.buttons[:2]] == [Actions.HELPFUL, Actions.NOT_HELPFUL]


def test_new_returns_the_review_form(world) -> None:
    dialogue, runner, team, _ = world
    [reply] = runner.run(user_for(dialogue, team.sam), "new")
    assert reply.form is not None and reply.form.title == "New commissioning review"
    assert {f.id for f in reply.form.fields} >= {"service", "title"}


def test_list_status_and_advance(world) -> None:
    dialogue, runner, team, clock = world
    review = dialogue.reviews.create_review(draft_for(team, clock.today), team.sam.id)
    sam = user_for(dialogue, team.sam)

    [listed] = runner.run(sam, "list")
    assert f"#{review.id} “Home care review”" in listed.text and "Analyse stage, owner Owen Jones" in listed.text
    assert [(b.action_id, b.value) for b in listed.buttons] == [(CommandActions.REVIEW_STATUS, str(review.id))]

    [status] = runner.press(sam, CommandActions.REVIEW_STATUS, str(review.id))
    assert "1. Analyse: in progress" in status.text
    # Mark done, then "Give feedback" (anyone may give feedback on a review; workflows/feedback.py).
    [mark_done, give_feedback] = status.buttons
    assert give_feedback.action_id == "feedback_give" and give_feedback.value == f"review:{review.id}"
    assert mark_done.action_id == CommandActions.REVIEW_ADVANCE and mark_done.value == f"{review.id}:Analyse"

    # The Analyse stage has checklist items open: no reason, no change, and a button to give one.
    [asked] = runner.press(sam, mark_done.action_id, mark_done.value)
    assert asked.kind is ReplyKind.QUESTION and "still has checklist items open" in asked.text
    assert asked.buttons[0].action_id == CommandActions.REVIEW_ADVANCE_WITH_REASON
    assert dialogue.reviews.get(review.id).current_stage.name == "Analyse"

    [done] = runner.run(sam, f"advance {review.id} market analysis was done by the region")
    assert done.kind is ReplyKind.DONE and "has moved on to Plan" in done.text
    assert dialogue.reviews.get(review.id).stages[0].completion_note == "market analysis was done by the region"


def test_status_by_title_words_and_for_a_missing_review(world) -> None:
    dialogue, runner, team, clock = world
    review = dialogue.reviews.create_review(draft_for(team, clock.today), team.sam.id)
    ruth = user_for(dialogue, team.ruth)
    [found] = runner.run(ruth, "status home care")
    assert found.text.startswith(f"#{review.id} Home care review")
    # Ruth owns a later stage, not the current one: no "Mark done", only "Give feedback".
    assert [b.action_id for b in found.buttons] == ["feedback_give"]
    [missing] = runner.run(ruth, "status 999")
    assert missing.kind is ReplyKind.PROBLEM and "There is no review number 999." in missing.text


def test_advance_by_someone_else_is_refused_politely(world) -> None:
    dialogue, runner, team, clock = world
    review = dialogue.reviews.create_review(draft_for(team, clock.today), team.sam.id)
    [refused] = runner.run(user_for(dialogue, team.ruth), f"advance {review.id} because")
    assert refused.kind is ReplyKind.PROBLEM and "Only the stage owner (Owen Jones)" in refused.text


def test_roles_and_whois(world, database) -> None:
    dialogue, runner, team, _ = world
    PeopleRepository(database).assign_role(team.priya.id, "portfolio holder", "adult social care")
    sam = user_for(dialogue, team.sam)
    [roles] = runner.run(sam, "roles")
    assert roles.text.startswith("Who does what in commissioning") and "Portfolio holder" in roles.text
    [whois] = runner.run(sam, "whois portfolio holder")
    assert "*Portfolio holder*" in whois.text and "In this council: Cllr Priya Shah" in whois.text
    [nobody] = runner.run(sam, "whois chief wizard")
    assert "couldn't find a role called “chief wizard”" in nobody.text


def test_feedback_is_answered_by_the_feedback_feature(world) -> None:
    dialogue, runner, team, _ = world
    sam = user_for(dialogue, team.sam)
    # The feedback feature itself answers (here: there is no review 3).
    [missing] = runner.run(sam, "feedback 3")
    assert missing.kind is ReplyKind.PROBLEM and "3" in missing.text
    # Where there is no feedback feature (the terminal), the command says so.
    [not_here] = CommandRunner(dialogue).run(sam, "feedback 3")
    assert not_here.kind is ReplyKind.INFO and "aren't set up here" in not_here.text


def test_a_person_not_in_the_people_table_is_told_so(world) -> None:
    dialogue, runner, _, _ = world
    stranger = directory_user(dialogue, "slack", "slack:T1:U9:command", None)
    [reply] = runner.run(stranger, "list")
    assert reply.kind is ReplyKind.PROBLEM and "people list" in reply.text
