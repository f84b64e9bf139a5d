"""Slack's assistant panel, the feedback buttons on answers, stored ratings and the guidance insights, end to end.

Through the real server and the fake Slack, with payloads shaped as Slack's documentation shows them: the
panel opening (``assistant_thread_started``), a question in its thread, a press of the feedback buttons, the
comment box, the App Home for a guidance owner and for someone else, and ``commissioning-bot insights``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner

from bot.cli import cli
from handlers.slack import constants as C
from knowledge.service import KnowledgeBase
from storage.answer_log import AnswerLog
from tests.db_fixtures import DATABASE_KINDS
from tests.identity_scan import assert_ratings_hold_no_identity
from tests.slack.conftest import ALICE, OWEN, SlackWorld, running_world
from tests.slack.fake_slack import wait_until
from tests.slack.harness import text_input, text_of

OWNER_EMAIL = "alice.adams@council.gov.uk"
NOT_COVERED = "What is the council's policy on parking permits for electric scooters?"


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shared_guidance: KnowledgeBase
) -> Iterator[SlackWorld]:
    yield from running_world(
        request.param, tmp_path_factory, shared_guidance, "assist", guidance_owners=[OWNER_EMAIL.upper()]
    )


def answer_log(world: SlackWorld) -> AnswerLog:
    return AnswerLog(world.services.database)


def ask_in_panel(world: SlackWorld, user: str, question: str) -> tuple[str, str, dict]:
    """Open the panel, ask, and return (channel, thread, the answer message as the fake keeps it)."""
    _, channel, thread_ts = world.slack.assistant_thread_started(user)
    world.fake.wait_for("assistant.threads.setSuggestedPrompts", channel_id=channel, thread_ts=thread_ts)
    world.fake.wait_for("chat.postMessage", channel=channel, thread_ts=thread_ts)  # the greeting
    response = world.slack.assistant_message(user, channel, thread_ts, question)
    assert response.status_code == 200
    posts = world.fake.wait_for("chat.postMessage", count=2, channel=channel, thread_ts=thread_ts)
    answer = posts[-1]
    ts = next(
        ts for (ch, ts), m in list(world.fake.messages.items()) if ch == channel and m["text"] == answer.args["text"]
    )
    return channel, thread_ts, dict(world.fake.messages[(channel, ts)])


def test_opening_the_panel_suggests_prompts_from_the_guidance_and_offers_the_review_form(world) -> None:
    response, channel, thread_ts = world.slack.assistant_thread_started(OWEN)
    assert response.status_code == 200
    [prompts] = world.fake.wait_for("assistant.threads.setSuggestedPrompts", channel_id=channel, thread_ts=thread_ts)
    sent = prompts.args["prompts"]
    sent = json.loads(sent) if isinstance(sent, str) else sent
    assert 1 < len(sent) <= 4
    roles = {role.name.casefold() for role in world.services.knowledge.roles()}
    # A role the starter guidance itself describes, not a phrase from this code.
    assert any(any(role in p["message"].casefold() for role in roles) for p in sent)
    assert sent[-1]["message"] == "start a review"
    [greeting] = world.fake.wait_for("chat.postMessage", channel=channel, thread_ts=thread_ts)
    buttons = [e for b in greeting.args["blocks"] if b["type"] == "actions" for e in b["elements"]]
    new_review = next(b for b in buttons if b["action_id"].startswith(C.OPEN_REVIEW_FORM))
    # The review wizard opens from the panel.
    ts = next(ts for (ch, ts), m in list(world.fake.messages.items()) if ch == channel and m["thread_ts"] == thread_ts)
    opened_before = len(world.fake.calls_to("views.open"))
    world.slack.press(OWEN, new_review, channel=channel, message=world.fake.messages[(channel, ts)])
    opened = world.fake.wait_for("views.open", count=opened_before + 1)[-1]
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == C.REVIEW_WIZARD_CALLBACK


def test_a_question_in_the_panel_shows_a_status_a_title_then_the_answer_with_feedback_buttons(world) -> None:
    question = "Who takes strategic sourcing decisions?"
    channel, thread_ts, answer = ask_in_panel(world, ALICE, question)
    [status] = world.fake.calls_to("assistant.threads.setStatus", channel_id=channel, thread_ts=thread_ts)
    assert status.args["status"] == "Searching the guidance…"
    [title] = world.fake.calls_to("assistant.threads.setTitle", channel_id=channel, thread_ts=thread_ts)
    assert title.args["title"] == question
    posted = world.fake.calls_to("chat.postMessage", channel=channel, thread_ts=thread_ts)[-1]
    assert status.at < posted.at  # the status shows while searching, before the answer
    assert "Cabinet" in text_of(answer["blocks"])
    [feedback] = [b for b in answer["blocks"] if b["type"] == "context_actions"]
    assert feedback["elements"][0]["type"] == "feedback_buttons"
    # No classic Helpful button beside Slack's own.
    assert not any(b["type"] == "actions" for b in answer["blocks"])

    # A follow-up in the same thread is answered in the same thread, and the title is not changed again.
    world.slack.assistant_message(ALICE, channel, thread_ts, "And who scrutinises them?")
    world.fake.wait_for("chat.postMessage", count=3, channel=channel, thread_ts=thread_ts)
    assert len(world.fake.calls_to("assistant.threads.setTitle", channel_id=channel, thread_ts=thread_ts)) == 1


COMMENT = "It did not say who signs off."


def test_not_helpful_is_stored_without_identity_and_a_comment_can_follow(world) -> None:
    rate_not_helpful_with_a_comment(world)
    [rated] = [e for e in answer_log(world).entries() if e.comment]
    assert rated.comment == COMMENT and rated.rating == "not_helpful"
    # Every table: the rating's row names nobody (user, email, name, DM channel), and nothing else points at it.
    identities = [OWEN, "owen.jones@council.gov.uk", "Owen Jones", "D" + OWEN[1:]]
    assert assert_ratings_hold_no_identity(world.services.database, identities, [rated.ref, COMMENT]) > 0


def rate_not_helpful_with_a_comment(world: SlackWorld) -> None:
    if any(e.comment == COMMENT for e in answer_log(world).entries()):
        return  # done by an earlier test in this module
    channel, _, answer = ask_in_panel(world, OWEN, "What does a portfolio holder do in a review?")
    response = world.slack.press_feedback(OWEN, channel, answer, positive=False)
    assert response.status_code == 200
    [update] = world.fake.wait_for("chat.update", channel=channel, ts=answer["ts"])
    assert "not helpful" in text_of(update.args["blocks"])
    assert not any(b["type"] == "context_actions" for b in update.args["blocks"])
    wait_until(lambda: any(e.rating == "not_helpful" for e in answer_log(world).entries()))
    [rated] = [e for e in answer_log(world).entries() if e.rating == "not_helpful"]
    assert rated.question == "What does a portfolio holder do in a review?" and rated.platform == "slack"

    tell_more = next(
        e
        for b in update.args["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"].startswith(C.ANSWER_COMMENT)
    )
    opened_before = len(world.fake.calls_to("views.open"))
    world.slack.press(OWEN, tell_more, channel=channel, message=world.fake.messages[(channel, answer["ts"])])
    opened = world.fake.wait_for("views.open", count=opened_before + 1)[-1]
    view = opened.args["view"]
    view = json.loads(view) if isinstance(view, str) else view
    response = world.slack.submit_view(OWEN, view, {C.ANSWER_COMMENT_BLOCK: text_input(COMMENT)})
    assert response.status_code == 200
    wait_until(lambda: any(e.comment for e in answer_log(world).entries()))


def test_insights_list_the_gap_and_the_unhelpful_answer_for_owners_only(world, monkeypatch) -> None:
    channel, thread_ts, answer = ask_in_panel(world, OWEN, NOT_COVERED)
    assert "context_actions" not in [b["type"] for b in answer["blocks"]]  # nothing to rate in "not covered"
    rate_not_helpful_with_a_comment(world)

    settings = world.services.settings
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    result = CliRunner().invoke(cli, ["insights", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert any(NOT_COVERED in g["questions"] for g in report["gaps"])
    assert any(u["comment"] == COMMENT for u in report["unhelpful"])

    world.slack.home_opened(ALICE)  # listed in GUIDANCE_OWNERS by email, in another case
    home = world.fake.wait_for("views.publish", user_id=ALICE)[-1].args["view"]
    shown = text_of(home["blocks"])
    assert "Guidance insights" in shown and NOT_COVERED.replace("'", "'") in shown
    assert COMMENT in shown

    world.slack.home_opened(OWEN)
    home = world.fake.wait_for("views.publish", user_id=OWEN)[-1].args["view"]
    assert "Guidance insights" not in text_of(home["blocks"]) and NOT_COVERED not in text_of(home["blocks"])

    _, url, _ = world.slack.slash_command(OWEN, "insights")
    [refused] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "GUIDANCE_OWNERS" in text_of(refused.args["blocks"]) and NOT_COVERED not in text_of(refused.args["blocks"])
    _, url, _ = world.slack.slash_command(ALICE, "insights")
    [shown_to_owner] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert NOT_COVERED in text_of(shown_to_owner.args["blocks"])
