"""Teams answers as AI messages (citations, feedback loop, AI label), ratings from the feedback loop stored without
identity, and the guidance insights card for owners only: real activities POSTed to the running server, shaped
as Microsoft's documentation shows them."""

from __future__ import annotations

import json
import time
import uuid

from handlers.teams.ai_messages import render_ai_answer
from knowledge.models import Answer, AnswerKind, Citation
from storage.answer_log import AnswerLog, delivery_key
from tests.identity_scan import assert_ratings_hold_no_identity
from tests.teams import activities as A
from tests.teams.conftest import GUIDANCE_OWNER_EMAIL
from tests.teams.fakes import Member
from workflows.actions import Actions
from workflows.replies import Button, Reply, ReplyKind

NOT_COVERED = "What is the council's policy on parking permits for electric scooters?"
COMMENT = "It never says who signs the contract off."


def _chat(member: Member) -> str:
    return A.personal(member)["id"]


def feedback_loop(service_url: str, member: Member, reply_to: str, reaction: str, text: str = "") -> dict:
    """The invoke Teams sends when thumbs up/down is pressed on a message with feedbackLoopEnabled."""
    activity = A._base("invoke", service_url, A.personal(member), member)
    activity["name"] = "message/submitAction"
    activity["replyToId"] = reply_to
    activity["value"] = {
        "actionName": "feedback",
        "actionValue": {"reaction": reaction, "feedback": json.dumps({"feedbackText": text})},
    }
    return activity


def ask(teams, member: Member, question: str):
    """The reply to ``question``: the next message in the member's chat (earlier replies are already there). An
    answer that can be rated is returned once the bot has finished recording where it went, as it has long before
    an officer could read it and press a thumb."""
    count = len(teams.connector.posted_to(_chat(member))) + 1
    teams.post(A.message(teams.connector.service_url, member, question))
    reply = teams.connector.wait_for(count, _chat(member))[count - 1]
    if reply.body.get("channelData", {}).get("feedbackLoopEnabled"):
        key = delivery_key(_chat(member), reply.activity_id)
        deadline = time.monotonic() + 10
        while AnswerLog(teams.services.database).ref_delivered_at(key) is None:
            assert time.monotonic() < deadline, "the answer was delivered but never recorded for its rating"
            time.sleep(0.02)
    return reply


def test_an_answer_carries_one_citation_per_quoted_passage_and_the_feedback_loop(teams, member) -> None:
    answer = ask(teams, member, "What does a portfolio holder do in a review?")
    body = answer.body
    assert body["channelData"] == {"feedbackLoopEnabled": True}
    [entity] = body["entities"]
    assert entity["type"] == "https://schema.org/Message" and entity["@type"] == "Message"
    assert entity["@context"] == "https://schema.org" and entity["@id"] == ""
    claims = entity["citation"]
    [logged] = [e for e in AnswerLog(teams.services.database).entries() if e.question.startswith("What does a port")]
    assert len(claims) == len(logged.citations) >= 1
    for position, claim in enumerate(claims, 1):
        assert claim["@type"] == "Claim" and claim["position"] == position
        assert f"[{position}]" in body["text"]  # an in-text marker for each citation
        appearance = claim["appearance"]
        assert appearance["@type"] == "DigitalDocument"
        assert appearance["name"] == logged.citations[position - 1].source
        assert 0 < len(appearance["abstract"]) <= 160
    # Quoted from the guidance, not written by a model: no "AI generated" label.
    assert "additionalType" not in entity


def test_the_ai_label_appears_only_when_a_model_wrote_the_answer() -> None:
    citation = Citation("guide.md", "Roles > Cabinet", "The Cabinet approves sourcing decisions.", 1.0)

    def reply(written_by: str) -> Reply:
        answer = Answer("q", "The Cabinet approves them.", [citation], 0.9, AnswerKind.ANSWERED, written_by=written_by)
        buttons = [Button("Helpful", "ref1", Actions.HELPFUL), Button("Not helpful", "ref1", Actions.NOT_HELPFUL)]
        return Reply(answer.text, ReplyKind.ANSWER, [citation], buttons, answer=answer, answer_ref="ref1")

    [written] = render_ai_answer(reply("openai:gpt-4o-mini"))["entities"]
    assert written["additionalType"] == ["AIGeneratedContent"]
    [quoted] = render_ai_answer(reply("extractive"))["entities"]
    assert "additionalType" not in quoted
    assert quoted["citation"][0]["appearance"]["keywords"] == ["Roles", "Cabinet"]


def test_thumbs_down_with_a_comment_is_stored_without_identity(teams, member) -> None:
    answer = ask(teams, member, "Who approves sourcing decisions?")
    invoke = feedback_loop(teams.connector.service_url, member, answer.activity_id, "dislike", COMMENT)
    response = teams.post(invoke)
    assert response.status_code == 200
    [rated] = [e for e in AnswerLog(teams.services.database).entries() if e.comment == COMMENT]
    assert rated.rating == "not_helpful" and rated.question == "Who approves sourcing decisions?"
    assert rated.platform == "teams"
    # Every table: the rating's row names nobody, and nothing else points at the rating.
    identities = [member.id, member.aad_object_id, member.name, member.email, _chat(member)]
    assert assert_ratings_hold_no_identity(teams.services.database, identities, [rated.ref, COMMENT]) > 0


def test_insights_card_for_the_guidance_owner_and_nobody_else(teams, member) -> None:
    not_covered = ask(teams, member, NOT_COVERED)
    assert "entities" not in not_covered.body  # nothing quoted, nothing to rate
    if not any(e.comment == COMMENT for e in AnswerLog(teams.services.database).entries()):
        test_thumbs_down_with_a_comment_is_stored_without_identity(teams, member)

    owner = Member(
        id=f"29:{uuid.uuid4().hex}", aad_object_id=str(uuid.uuid4()), name="Guidance Owner", email=GUIDANCE_OWNER_EMAIL
    )
    teams.connector.add_member(owner)
    card = ask(teams, owner, "insights")
    assert NOT_COVERED in card.all_text and COMMENT in card.all_text
    chart = next(a for a in card.card["actions"] if a["data"].get("action_id") == "insights_chart")
    press = teams.post(A.card_action(teams.connector.service_url, owner, chart["data"], reply_to=card.activity_id))
    assert press.status_code == 200
    shown = press.json()["value"]
    assert shown["body"][0]["type"] == "Image" and shown["body"][0]["url"].startswith("data:image/png;base64,")

    refused = ask(teams, member, "insights")
    assert "GUIDANCE_OWNERS" in refused.all_text and NOT_COVERED not in refused.all_text
    press = teams.post(A.card_action(teams.connector.service_url, member, chart["data"], reply_to=card.activity_id))
    assert "GUIDANCE_OWNERS" in press.json()["value"]
