"""The chat core every platform shares, with the real knowledge base (starter guidance) and database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.people import PeopleRepository
from tests.storage.review_helpers import Clock
from workflows.actions import Actions
from workflows.dialogue import HELP_TEXT, build_dialogue, directory_user
from workflows.people import PersonRef
from workflows.replies import ReplyKind, render_text

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> Clock:
    return Clock(MONDAY_9AM)


@pytest.fixture
def dialogue(settings, database, guidance, clock):
    people = PeopleRepository(database)
    people.upsert(name="Alice Adams", email="alice.adams@council.gov.uk")
    people.upsert(name="Cllr Priya Shah", email="priya.shah@council.gov.uk")
    return build_dialogue(
        settings.model_copy(update={"conversation_idle_minutes": 120}).for_workflows(),
        database,
        knowledge=guidance,
        clock=clock,
    )


@pytest.fixture
def alice(dialogue):
    person = PersonRef.from_person(dialogue.people.find_by_email("alice.adams@council.gov.uk"))
    return directory_user(dialogue, "slack", "slack:T1:U1:1764000000.0001", person)


def test_help_says_what_the_assistant_can_do(dialogue, alice) -> None:
    [reply] = dialogue.handle(alice, "help")
    assert reply.text == HELP_TEXT and "start a review" in reply.text
    assert [(b.label, b.value) for b in reply.buttons] == [("Start a review", "start a review")]


def test_a_question_is_answered_from_the_guidance_with_its_source(dialogue, alice) -> None:
    [reply] = dialogue.handle(alice, "Who takes strategic sourcing decisions?")
    assert reply.kind is ReplyKind.ANSWER
    assert "Cabinet" in reply.text
    assert reply.citations and reply.citations[0].source.endswith("02-roles-and-responsibilities.md")
    assert [b.action_id for b in reply.buttons[:2]] == [Actions.HELPFUL, Actions.NOT_HELPFUL]
    assert "[1] starter_pack/02-roles-and-responsibilities.md" in render_text(reply)


def test_start_a_review_begins_the_flow_and_answers_go_to_it(dialogue, alice) -> None:
    [started] = dialogue.handle(alice, "I'd like to start a new review")
    assert started.kind is ReplyKind.QUESTION and started.prompt.step_id == "service"
    [titled] = dialogue.handle(alice, "Home care")
    assert titled.prompt.step_id == "title"
    assert [(b.label, b.value) for b in titled.buttons] == [("Use Home care review 2026", "ok"), ("Skip", "skip")]
    [again] = dialogue.handle(alice, "new review")
    assert "You're already setting up a review" in again.text and again.prompt.step_id == "title"
    dialogue.handle(alice, "ok")
    dialogue.handle(alice, "Live at home for longer")
    [level] = dialogue.handle(alice, "help")
    assert "Strategic: council-wide priorities" in level.text
    assert [b.value for b in level.buttons] == ["regional", "strategic", "operational", "individual"]


def test_a_question_asked_mid_review_is_answered_then_the_review_continues(dialogue, alice) -> None:
    dialogue.handle(alice, "start a review")
    for answer in ["Home care", "ok", "Live at home for longer", "strategic", "me"]:
        dialogue.handle(alice, answer)
    answer, back = dialogue.handle(alice, "What does a portfolio holder do?")
    assert answer.kind is ReplyKind.ANSWER and "cabinet member" in answer.text
    assert back.text.startswith("Back to your review:") and back.prompt.step_id == "portfolio_holder"
    [next_question] = dialogue.handle(alice, "priya")
    assert "Got it: Cllr Priya Shah" in next_question.text


def test_an_officer_returning_after_the_idle_limit_is_told_the_review_was_set_aside(dialogue, alice, clock) -> None:
    dialogue.handle(alice, "start a review")
    dialogue.handle(alice, "Home care")
    clock.now += timedelta(hours=2, minutes=1)
    [notice] = dialogue.handle(alice, "Home care review 2026")
    assert "Your half-finished review (started 23 Nov 2026 at 09:00) was set aside after 2 hours" in notice.text
    assert notice.kind is ReplyKind.INFO and notice.buttons[0].value == "start a review"
    [fresh] = dialogue.handle(alice, "start a review")
    assert fresh.prompt.step_id == "service"


def test_commands_with_nothing_under_way_are_explained(dialogue, alice) -> None:
    [reply] = dialogue.handle(alice, "cancel")
    assert "There's nothing under way" in reply.text


def test_conversations_are_kept_apart_by_key(dialogue, alice) -> None:
    dialogue.handle(alice, "start a review")
    elsewhere = directory_user(dialogue, "slack", "slack:T1:U1:1764000000.9999", alice.person)
    [reply] = dialogue.handle(elsewhere, "Home care")
    assert reply.kind is ReplyKind.ANSWER  # a different thread: a question, not an answer to the review
    assert dialogue.resume(alice)[0].prompt.step_id == "service"


def test_the_review_wizard_reports_errors_per_field_then_creates(dialogue, alice) -> None:
    form = dialogue.review_form(alice)
    assert form.title == "New commissioning review" and len(form.fields) == 15
    values = {f.id: f.initial or "" for f in form.fields}
    values.update(service="Libraries", outcomes="More visits\nLonger opening", level="Strategic")
    missing = dialogue.submit_review_form(alice, values)
    assert missing.errors == {"portfolio_holder": "This question needs an answer."} and not missing.ok
    values["portfolio_holder"] = "priya.shah@council.gov.uk"
    created = dialogue.submit_review_form(alice, values)
    assert created.ok and created.created.title == "Libraries review 2026"
    assert created.replies[0].kind is ReplyKind.DONE and "Review #" in created.replies[0].text
    duplicate = dialogue.submit_review_form(alice, values)
    assert "There is already a review called “Libraries review 2026”" in duplicate.warnings["title"]
    confirmed = dialogue.submit_review_form(alice, values, confirmed={"title"})
    assert confirmed.ok and confirmed.created.id != created.created.id


def test_a_service_name_that_sounds_like_a_request_is_taken_as_the_answer(dialogue, alice) -> None:
    dialogue.handle(alice, "start a review")
    [reply] = dialogue.handle(alice, "New review panel for libraries")
    assert reply.prompt.step_id == "title" and "New review panel for libraries review 2026" in reply.text


def test_my_reviews_and_status_show_what_was_created(dialogue, alice, clock) -> None:
    [none_yet] = dialogue.handle(alice, "my reviews")
    assert none_yet.text.startswith("You have no open reviews.")
    values = {f.id: f.initial or "" for f in dialogue.review_form(alice).fields}
    values.update(
        service="Libraries",
        outcomes="More visits",
        level="strategic",
        portfolio_holder="priya.shah@council.gov.uk",
        stage1_analyse_due="2026-12-01",
    )
    review = dialogue.submit_review_form(alice, values).created
    [mine] = dialogue.handle(alice, "show my reviews")
    assert mine.text.splitlines()[:2] == [
        "Your open reviews (1):",
        f"• #{review.id} “Libraries review 2026” (Libraries): "
        "Analyse stage, owner Alice Adams, due Tue 1 December 2026",
    ]
    clock.now += timedelta(days=9)
    [late] = dialogue.handle(alice, "my reviews")
    assert "due Tue 1 December 2026 — overdue" in late.text
    [status] = dialogue.handle(alice, f"status {review.id}")
    assert status.text.startswith(f"#{review.id} Libraries review 2026 (Libraries)") and "Analyse" in status.text
    [missing] = dialogue.handle(alice, "status 999")
    assert missing.kind is ReplyKind.PROBLEM and "There is no review number 999." in missing.text


def test_roles_come_from_the_guidance(dialogue, alice) -> None:
    [reply] = dialogue.handle(alice, "roles")
    assert reply.text.startswith("Who does what in commissioning, according to the guidance:")
    assert "• Portfolio holder: Is the cabinet member responsible for a group of services" in reply.text


def test_someone_not_in_the_people_list_is_told_why_there_are_no_reviews(dialogue) -> None:
    guest = directory_user(dialogue, "terminal", "terminal:guest", None)
    [reply] = dialogue.handle(guest, "my reviews")
    assert reply.kind is ReplyKind.PROBLEM and "people list" in reply.text


def test_buttons_send_their_values_back(dialogue, alice) -> None:
    [started] = dialogue.press(alice, Actions.ANSWER, "start a review")
    assert started.prompt.step_id == "service"
    answer, back = dialogue.press(alice, Actions.ASK, "What does a portfolio holder do?")
    assert answer.kind is ReplyKind.ANSWER and back.prompt.step_id == "service"
    [form] = dialogue.press(alice, Actions.OPEN_REVIEW_FORM, "")
    assert form.form is not None and form.form.fields[0].id == "service"
    with pytest.raises(ValueError):
        dialogue.press(alice, "no_such_button", "")
