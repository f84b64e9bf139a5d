"""Buttons on command replies (status, mark a stage done, finish with a reason), and another
feature's buttons routed through the adapter's registration hook."""

from __future__ import annotations

import uuid

import pytest

from handlers.teams.registry import CardHandlers, CardOutcome, CardPress
from tests.teams import activities as A
from tests.teams.helpers import inputs, open_form, valid_values
from workflows.actions import NudgeActions, stage_value
from workflows.replies import Button, Reply


def _chat(member) -> str:
    return A.personal(member)["id"]


def _my_review(teams, member):
    """A review made through the card, with the member as lead commissioner and every stage's owner."""
    url = teams.connector.service_url
    form = open_form(teams, member).card
    me = member.email
    holder = f"holder.{uuid.uuid4().hex[:5]}@council.gov.uk"
    teams.people.upsert(name=f"Holder {holder[7:12]}", email=holder)
    values = valid_values(form, {"lead": me, "holder": holder, "analyst": me}, f"Respite {uuid.uuid4().hex[:5]}")
    created = teams.post(A.card_action(url, member, {**form["actions"][0]["data"], **values})).json()
    assert inputs(created["value"]) == {}
    person = teams.people.find_by_teams_id(member.aad_object_id)
    [review] = [r for r in teams.services.reviews.list_mine(person.id) if r.service == values["service"]]
    return person, review


def test_status_mark_done_and_finish_with_a_reason(teams, member) -> None:
    url = teams.connector.service_url
    person, review = _my_review(teams, member)

    teams.post(A.message(url, member, f"status {review.id}"))
    status = teams.connector.wait_for(3, _chat(member))[2]
    mark = next(a for a in status.card["actions"] if a["data"]["action_id"] == "review_advance")
    assert mark["title"] == "Mark Analyse done"

    response = teams.post(A.card_action(url, member, mark["data"], reply_to=status.activity_id)).json()
    assert response["type"] == "application/vnd.microsoft.activity.message"
    open_items = teams.connector.wait_for(4, _chat(member))[3]
    assert "checklist items open" in open_items.all_text
    finish = next(a for a in open_items.card["actions"] if a["data"]["action_id"] == "review_advance_with_reason")

    reason_card = teams.post(A.card_action(url, member, finish["data"])).json()["value"]
    assert "reason" in inputs(reason_card)
    submit = reason_card["actions"][0]["data"]
    empty = teams.post(A.card_action(url, member, {**submit, "reason": "  "})).json()["value"]
    assert any(b.get("color") == "Attention" for b in empty["body"])
    done = teams.post(A.card_action(url, member, {**submit, "reason": "Evidence held by the CCG"})).json()["value"]
    assert "moved on to Plan" in " ".join(b.get("text", "") for b in done["body"])
    assert teams.services.reviews.get(review.id).current_stage.name == "Plan"


def test_another_features_buttons_are_routed_to_it(teams, member) -> None:
    url = teams.connector.service_url
    pressed: list[tuple[str, str]] = []

    def snooze(press: CardPress) -> CardOutcome:
        pressed.append((press.action_id, press.value))
        reply = Reply(f"Snoozed for {press.user.display_name}.", buttons=[Button("Undo", press.value, "test_undo")])
        return CardOutcome(message="Got it.", replies=[reply])

    teams.services.teams.bot.cards.on_press(["test_snooze"], snooze)
    teams.post(A.install(url, member))
    teams.connector.wait_for(1, _chat(member))
    response = teams.post(A.card_action(url, member, {"verb": "press", "action_id": "test_snooze", "value": "12:Plan"}))
    assert response.json()["type"] == "application/vnd.microsoft.activity.message"
    reply = teams.connector.wait_for(2, _chat(member))[1]
    assert pressed == [("test_snooze", "12:Plan")]
    assert f"Snoozed for {member.name}." in reply.all_text


def test_a_failing_button_tells_the_officer_plainly(teams, member) -> None:
    def broken(press: CardPress) -> CardOutcome:
        raise RuntimeError("database went away")

    teams.services.teams.bot.cards.on_verb("test_broken", broken)
    response = teams.post(A.card_action(teams.connector.service_url, member, {"verb": "test_broken"}))
    assert response.status_code == 200
    body = response.json()
    assert body["statusCode"] == 500 and body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["message"].startswith("Sorry, something went wrong on my side.")
    assert "database" not in body["value"]["message"]


def test_a_nudges_snooze_and_reassign_buttons(teams, member) -> None:
    url = teams.connector.service_url
    person, review = _my_review(teams, member)
    value = stage_value(review.id, "Analyse")
    nudge = Reply(
        f"Analyse of #{review.id} is due soon.",
        buttons=[
            Button("Snooze 2 working days", value, NudgeActions.SNOOZE),
            Button("Reassign", value, NudgeActions.REASSIGN),
        ],
    )
    assert teams.services.teams.messenger.send_proactive(person, nudge).sent
    posted = teams.connector.wait_for(3, _chat(member))[2]
    snooze, reassign = (a["data"] for a in posted.card["actions"])

    response = teams.post(A.card_action(url, member, snooze, reply_to=posted.activity_id)).json()
    assert response["value"].startswith("Snoozed: I'll remind you about Analyse")
    assert "Snoozed" in teams.connector.wait_for(4, _chat(member))[3].all_text

    response = teams.post(A.card_action(url, member, reassign, reply_to=posted.activity_id)).json()
    assert response["type"] == "application/vnd.microsoft.activity.message"
    box = teams.connector.wait_for(5, _chat(member))[4]
    assert "new_owner" in inputs(box.card)
    colleague = f"colleague.{uuid.uuid4().hex[:5]}@council.gov.uk"
    teams.people.upsert(name=f"Colleague {colleague[10:15]}", email=colleague)
    submit = box.card["actions"][0]["data"]
    empty = teams.post(A.card_action(url, member, {**submit, "new_owner": ""})).json()["value"]
    assert any(block.get("color") == "Attention" for block in empty["body"])
    done = teams.post(A.card_action(url, member, {**submit, "new_owner": colleague})).json()["value"]
    assert "now belongs to" in " ".join(block.get("text", "") for block in done["body"])
    assert teams.services.reviews.get(review.id).stage("Analyse").owner.email == colleague


def test_the_feedback_command_is_answered_by_the_feedback_feature(teams, member) -> None:
    url = teams.connector.service_url
    teams.post(A.install(url, member))
    teams.connector.wait_for(1, _chat(member))
    teams.post(A.message(url, member, "feedback 99999"))
    assert "There is no review number 99999." in teams.connector.wait_for(2, _chat(member))[1].all_text


def test_a_card_button_has_one_handler() -> None:
    cards = CardHandlers()
    cards.on_press(["nudge_snooze"], lambda press: CardOutcome())
    with pytest.raises(ValueError, match="already has a handler"):
        cards.on_press(["nudge_snooze"], lambda press: CardOutcome())
    with pytest.raises(ValueError, match="already has a handler"):
        cards.on_verb("press", lambda press: CardOutcome())
