"""The review wizard as an Adaptive Card (in the chat and as a dialog) and as a typed conversation:
server-side errors shown next to their fields, and a review created through the card."""

from __future__ import annotations

import uuid

import pytest

from tests.teams import activities as A
from tests.teams.helpers import inputs, note_after, open_form, valid_values


def _chat(member) -> str:
    return A.personal(member)["id"]


@pytest.fixture
def colleagues(teams) -> dict[str, str]:
    """People to name in the form, by email (the database is shared by the module's tests)."""
    tag = uuid.uuid4().hex[:6]
    emails = {}
    for role in ("lead", "holder", "analyst"):
        email = f"{role}.{tag}@council.gov.uk"
        teams.people.upsert(name=f"{role.title()} {tag}", email=email)
        emails[role] = email
    return emails


def test_new_review_opens_the_form_card(teams, member) -> None:
    posted = open_form(teams, member)
    form = posted.card
    assert form["version"] == "1.5"
    fields = inputs(form)
    assert fields["service"]["type"] == "Input.Text" and fields["service"]["isRequired"] is True
    assert fields["service"]["errorMessage"]
    assert fields["level"]["type"] == "Input.ChoiceSet"
    assert {c["value"] for c in fields["level"]["choices"]} == {"regional", "strategic", "operational", "individual"}
    assert fields["stage1_analyse_due"]["type"] == "Input.Date"
    assert fields["outcomes"]["isMultiline"] is True
    submit = form["actions"][0]
    assert submit["type"] == "Action.Execute" and submit["verb"] == "review_form_submit"
    # The typed conversation is offered too.
    assert any(a["data"].get("value") == "start a review" for a in form["actions"])


def test_a_review_is_created_through_the_card_after_fixing_errors(teams, member, colleagues) -> None:
    url = teams.connector.service_url
    posted = open_form(teams, member)
    form = posted.card
    values = valid_values(form, colleagues, f"Home care {uuid.uuid4().hex[:5]}")
    bad = {
        **values,
        "service": "",
        "stage1_analyse_due": "the thirty-first of Smarch",
        "lead_commissioner": "nobody.here@council.gov.uk",
    }
    data = {**form["actions"][0]["data"], **bad}

    response = teams.post(A.card_action(url, member, data, reply_to=posted.activity_id))
    assert response.status_code == 200
    body = response.json()
    assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive"
    refreshed = body["value"]
    assert "Please check the 3 highlighted answers" in refreshed["body"][1]["text"]
    for field_id in ("service", "stage1_analyse_due", "lead_commissioner"):
        note = note_after(refreshed, field_id)
        assert note["color"] == "Attention", field_id
    assert note_after(refreshed, "portfolio_holder").get("color") is None  # only help under a good field
    # What the officer typed is kept.
    assert inputs(refreshed)["outcomes"]["value"] == values["outcomes"]
    assert inputs(refreshed)["stage1_analyse_due"]["value"] == "the thirty-first of Smarch"

    good = {**refreshed["actions"][0]["data"], **values}
    response = teams.post(A.card_action(url, member, good, reply_to=posted.activity_id))
    done = response.json()
    assert done["type"] == "application/vnd.microsoft.card.adaptive"
    text = " ".join(block.get("text", "") for block in done["value"]["body"])
    assert values["service"] in text

    assert inputs(done["value"]) == {}  # the form is replaced by the confirmation
    lead = teams.people.find_by_email(colleagues["lead"])
    created = [r for r in teams.services.reviews.list_mine(lead.id) if r.service == values["service"]]
    assert len(created) == 1


def test_a_duplicate_title_is_questioned_then_confirmed(teams, member, colleagues) -> None:
    url = teams.connector.service_url
    posted = open_form(teams, member)
    values = valid_values(posted.card, colleagues, f"Libraries {uuid.uuid4().hex[:5]}")
    first = teams.post(A.card_action(url, member, {**posted.card["actions"][0]["data"], **values})).json()
    assert first["type"] == "application/vnd.microsoft.card.adaptive"

    again = teams.post(A.card_action(url, member, {**posted.card["actions"][0]["data"], **values})).json()["value"]
    warned = [f for f in inputs(again) if (note_after(again, f) or {}).get("color") == "Warning"]
    assert warned, "a second review with the same title should be questioned"
    assert again["actions"][0]["data"]["confirmed"] == sorted(warned)

    confirmed = teams.post(A.card_action(url, member, {**again["actions"][0]["data"], **values})).json()["value"]
    assert inputs(confirmed) == {}  # accepted: the confirmation replaces the form
    lead = teams.people.find_by_email(colleagues["lead"])
    assert len([r for r in teams.services.reviews.list_mine(lead.id) if r.service == values["service"]]) == 2


def test_the_form_as_a_dialog(teams, member, colleagues) -> None:
    url = teams.connector.service_url
    teams.post(A.install(url, member))
    teams.connector.wait_for(1, _chat(member))

    fetched = teams.post(A.task_fetch(url, member, {"verb": "open_review_form"}))
    assert fetched.status_code == 200
    task = fetched.json()["task"]
    assert task["type"] == "continue"
    form = task["value"]["card"]["content"]
    assert form["actions"][0]["type"] == "Action.Submit"  # dialogs take Action.Submit, not Action.Execute

    values = valid_values(form, colleagues, f"Day centres {uuid.uuid4().hex[:5]}")
    invalid = teams.post(A.task_submit(url, member, {**form["actions"][0]["data"], **values, "level": ""})).json()
    assert invalid["task"]["type"] == "continue"
    assert note_after(invalid["task"]["value"]["card"]["content"], "level")["color"] == "Attention"

    valid = teams.post(A.task_submit(url, member, {**form["actions"][0]["data"], **values})).json()
    assert valid["task"]["type"] == "message"
    # The dialog closes; the confirmation stays in the chat.
    confirmation = teams.connector.wait_for(2, _chat(member))[1]
    assert values["service"] in confirmation.all_text


def test_action_submit_updates_the_card_in_place(teams, member, colleagues) -> None:
    url = teams.connector.service_url
    posted = open_form(teams, member)
    values = valid_values(posted.card, colleagues, f"Meals {uuid.uuid4().hex[:5]}")
    data = {**posted.card["actions"][0]["data"], **values, "outcomes": ""}
    assert teams.post(A.card_submit(url, member, data, reply_to=posted.activity_id)).status_code == 200
    updated = teams.connector.wait_for(3, _chat(member))[2]
    assert updated.method == "PUT" and updated.activity_id == posted.activity_id
    assert note_after(updated.card, "outcomes")["color"] == "Attention"


def test_the_review_as_a_typed_conversation(teams, member) -> None:
    url = teams.connector.service_url
    teams.post(A.message(url, member, "start a review"))
    first = teams.connector.wait_for(1, _chat(member))[0]
    assert "(1/" in first.all_text  # the first question of the flow
    teams.post(A.message(url, member, "Adult social care"))
    second = teams.connector.wait_for(2, _chat(member))[1]
    assert "(2/" in second.all_text
    # "help" mid-conversation is the conversation's help, not the command list.
    teams.post(A.message(url, member, "cancel"))
    third = teams.connector.wait_for(3, _chat(member))[2]
    assert "review" in third.all_text.lower()


def test_a_conversation_button_is_pressed(teams, member) -> None:
    url = teams.connector.service_url
    teams.post(A.message(url, member, "hello"))
    teams.connector.wait_for(1, _chat(member))
    press = {"verb": "press", "action_id": "conversation_answer", "value": "start a review"}
    response = teams.post(A.card_action(url, member, press)).json()
    assert response["type"] == "application/vnd.microsoft.activity.message"
    question = teams.connector.wait_for(2, _chat(member))[1]
    assert "(1/" in question.all_text


def test_a_stale_button_is_explained(teams, member) -> None:
    response = teams.post(A.card_action(teams.connector.service_url, member, {"verb": "something_retired"})).json()
    assert "no longer" in response["value"]
