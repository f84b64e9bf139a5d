"""Installs, questions, mentions and typed commands, end to end: real activities POSTed to the
running server's /api/messages, asserting on the HTTP answer and on what the Connector received."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from handlers.teams.constants import CARD_VERSION
from storage.answer_log import AnswerLog
from storage.work_queue import WorkQueue
from tests.teams import activities as A
from tests.teams.fakes import Member
from tests.teams.ids import BOT_ID, TENANT_ID


def _chat(member) -> str:
    return A.personal(member)["id"]


def test_install_stores_the_conversation_reference_and_says_hello(teams, member) -> None:
    response = teams.post(A.install(teams.connector.service_url, member))
    assert response.status_code == 200
    [welcome] = teams.connector.wait_for(1, _chat(member))
    assert "Commissioning Assistant" in welcome.all_text
    assert welcome.reply_to_id is None

    person = teams.people.find_by_teams_id(member.aad_object_id)
    assert person is not None
    # The email came from the Connector's member record, so an officer added by email is the same person.
    assert person.email == member.email
    assert person.name == member.name
    assert person.reachable is True
    assert person.teams_conversation_ref == {
        "service_url": teams.connector.service_url,
        "tenant_id": TENANT_ID,
        "bot_id": BOT_ID,
        "bot_name": A.BOT_NAME,
        "user_id": member.id,
        "user_aad_id": member.aad_object_id,
        "conversation_id": _chat(member),
        "channel_id": "msteams",
    }


def test_first_message_links_an_officer_added_by_email(teams, member) -> None:
    existing = teams.people.upsert(name="Sam Patel", email=member.email)
    teams.post(A.message(teams.connector.service_url, member, "hello"))
    teams.connector.wait_for(1, _chat(member))
    linked = teams.people.find_by_teams_id(member.aad_object_id)
    assert linked is not None and linked.id == existing.id
    assert linked.teams_conversation_ref["conversation_id"] == _chat(member)


def test_installation_update_remove_and_add(teams, member) -> None:
    url = teams.connector.service_url
    assert teams.post(A.installation_update(url, member, "add")).status_code == 200
    deadline = time.monotonic() + 10

    def stored():
        # The person and their conversation reference are saved in turn: wait for both.
        person = teams.people.find_by_teams_id(member.aad_object_id)
        return person is not None and person.teams_conversation_ref is not None

    while not stored() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert teams.people.find_by_teams_id(member.aad_object_id).teams_conversation_ref is not None
    assert teams.post(A.installation_update(url, member, "remove")).status_code == 200
    deadline = time.monotonic() + 10
    while teams.people.find_by_teams_id(member.aad_object_id).reachable and time.monotonic() < deadline:
        time.sleep(0.05)
    assert teams.people.find_by_teams_id(member.aad_object_id).reachable is False


def test_a_question_in_a_personal_chat_gets_an_answer_citing_its_source(teams, member) -> None:
    response = teams.post(A.message(teams.connector.service_url, member, "Who approves sourcing decisions?"))
    assert response.status_code == 200
    assert response.content == b""  # acknowledged at once; the answer goes through the Connector
    [answer] = teams.connector.wait_for(1, _chat(member))
    assert "Cabinet" in answer.body["text"] and "[1]" in answer.body["text"]
    [entity] = answer.body["entities"]
    documents = [c["appearance"]["name"] for c in entity["citation"]]
    assert "starter_pack/02-roles-and-responsibilities.md" in documents
    assert answer.body["channelData"]["feedbackLoopEnabled"] is True


def test_a_channel_answer_is_a_card_whose_rating_buttons_work_in_every_client(teams, member) -> None:
    url = teams.connector.service_url
    activity = A.mention(url, member, "Who approves sourcing decisions?", thread="1700000000456")
    assert teams.post(activity).status_code == 200
    [answer] = teams.connector.wait_for(1, activity["conversation"]["id"])
    card = answer.card
    assert card is not None and card["version"] == CARD_VERSION
    assert "Source: starter_pack/02-roles-and-responsibilities.md" in answer.all_text
    assert "“Role: Cabinet." in answer.all_text  # the quoted passage
    rating = [a for a in card["actions"] if a["data"]["action_id"] in ("answer_helpful", "answer_not_helpful")]
    assert [a["title"] for a in rating] == ["Helpful", "Not helpful"]
    assert all(a["type"] == "Action.Execute" for a in rating)
    # Older clients get the same button as an Action.Submit carrying the same data.
    assert all(a["fallback"] == {"type": "Action.Submit", "title": a["title"], "data": a["data"]} for a in rating)

    # Pressing Helpful is an invoke, answered in the HTTP response; the answer card stays as it was.
    press = teams.post(A.card_action(url, member, rating[0]["data"], reply_to=answer.activity_id))
    assert press.status_code == 200
    assert press.json() == {
        "statusCode": 200,
        "type": "application/vnd.microsoft.activity.message",
        "value": "Thanks, glad it helped.",
    }
    rated = [e for e in AnswerLog(teams.services.database).entries() if e.rating == "helpful"]
    assert [e.question for e in rated] == ["Who approves sourcing decisions?"]


def test_a_mention_in_a_channel_is_answered_in_its_thread(teams, member) -> None:
    url = teams.connector.service_url
    activity = A.mention(url, member, "what does the Analyse stage cover?", thread="1700000000123")
    assert teams.post(activity).status_code == 200
    conversation = activity["conversation"]["id"]
    [reply] = teams.connector.wait_for(1, conversation)
    assert reply.reply_to_id == activity["id"]  # in the thread, not a new post
    assert "Analyse" in reply.all_text
    # A channel message is no 1:1 chat: the person is known, with only what a 1:1 chat needs.
    person = teams.people.find_by_teams_id(member.aad_object_id)
    assert person.teams_conversation_ref["user_id"] == member.id
    assert "conversation_id" not in person.teams_conversation_ref


def test_channel_messages_without_a_mention_are_left_alone(teams, member) -> None:
    url = teams.connector.service_url
    activity = A.message(url, member, "lunch anyone?", A.channel_thread("1700000000999"))
    assert teams.post(activity).status_code == 200
    mentioned = A.mention(url, member, "help", thread="1700000000999")
    teams.post(mentioned)
    replies = teams.connector.wait_for(1, activity["conversation"]["id"])
    time.sleep(0.3)
    assert len(teams.connector.posted_to(activity["conversation"]["id"])) == 1
    assert replies[0].reply_to_id == mentioned["id"]


def test_typed_commands(teams, member) -> None:
    url = teams.connector.service_url
    teams.post(A.message(url, member, "help"))
    [help_reply] = teams.connector.wait_for(1, _chat(member))
    for command in ("new", "list", "status <review>", "feedback <review>", "roles", "help"):
        assert f"`{command}" in help_reply.all_text

    teams.post(A.message(url, member, "my reviews"))
    listing = teams.connector.wait_for(2, _chat(member))[1]
    assert "no open reviews" in listing.all_text

    teams.post(A.message(url, member, "roles"))
    roles = teams.connector.wait_for(3, _chat(member))[2]
    assert "Who does what in commissioning" in roles.all_text

    teams.post(A.message(url, member, "status 999999"))
    status = teams.connector.wait_for(4, _chat(member))[3]
    assert "999999" in status.all_text

    # A question that starts with a command's alias is still a question.
    teams.post(A.message(url, member, "who approves sourcing decisions?"))
    answer = teams.connector.wait_for(5, _chat(member))[4]
    assert "Cabinet" in answer.all_text


def test_a_redelivered_activity_is_answered_once(teams, member) -> None:
    activity = A.message(teams.connector.service_url, member, "What is the Plan stage?")
    assert teams.post(activity).status_code == 200
    assert teams.post(activity).status_code == 200  # Teams redelivers after ~15 s without an answer
    teams.connector.wait_for(1, _chat(member))
    time.sleep(0.5)
    assert len(teams.connector.posted_to(_chat(member))) == 1
    key = f"{activity['conversation']['id']}|{activity['id']}"
    # Remembered in the database, where a replica or a restarted process would find it too.
    assert WorkQueue(teams.services.database).enqueue("teams.activity", "teams:x", {}, f"teams:{key}") is None


def test_an_activity_a_dead_process_stored_is_answered_by_this_one(teams, member) -> None:
    activity = A.message(teams.connector.service_url, member, "What is the Plan stage?")
    key = f"{activity['conversation']['id']}|{activity['id']}"
    # Stored and acknowledged by a process that died before a worker took it (or while one had it leased).
    queue = WorkQueue(teams.services.database)
    assert queue.enqueue(
        "teams.activity", f"teams:{activity['conversation']['id']}", {"activity": activity}, f"teams:{key}"
    )
    teams.services.work.wake()
    [answer] = teams.connector.wait_for(1, _chat(member))
    assert "Plan" in answer.all_text
    # Teams' own redelivery, arriving afterwards, adds nothing.
    assert teams.post(activity).status_code == 200
    time.sleep(0.5)
    assert len(teams.connector.posted_to(_chat(member))) == 1


def test_the_bots_own_messages_are_ignored(teams, member) -> None:
    activity = A.message(teams.connector.service_url, member, "echo")
    activity["from"] = {"id": BOT_ID, "name": A.BOT_NAME}
    assert teams.post(activity).status_code == 200
    time.sleep(0.4)
    assert teams.connector.posted_to(_chat(member)) == []


def test_simultaneous_install_activities_store_one_person(teams, member) -> None:
    # Teams sends conversationUpdate and installationUpdate at the same moment when the app is added.
    url = teams.connector.service_url
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(teams.post, [A.install(url, member), A.installation_update(url, member, "add")]))
    assert [a.status_code for a in answers] == [200, 200]
    [welcome] = teams.connector.wait_for(1, _chat(member))
    time.sleep(0.3)
    matching = [p for p in teams.people.list_all() if p.teams_user_id == member.aad_object_id]
    assert len(matching) == 1 and matching[0].teams_conversation_ref["conversation_id"] == _chat(member)


def test_an_at_mention_names_a_colleague_in_the_review_conversation(teams, member) -> None:
    url = teams.connector.service_url
    colleague = Member(
        id=f"29:{uuid.uuid4().hex}",
        aad_object_id=str(uuid.uuid4()),
        name=f"Priya {uuid.uuid4().hex[:5]}",
        email=f"priya.{uuid.uuid4().hex[:5]}@council.gov.uk",
    )
    teams.connector.add_member(colleague)  # a member of the channel the bot has never met
    thread = str(1700000100000 + uuid.uuid4().int % 100000)
    conversation = A.channel_thread(thread)["id"]
    answers = [
        "start a review",
        f"Carers support {uuid.uuid4().hex[:4]}",
        "ok",
        "Carers have a break when they need one",
        "strategic",
    ]
    for number, text in enumerate(answers, 1):
        teams.post(A.mention(url, member, text, thread=thread))
        teams.connector.wait_for(number, conversation)
    asked = teams.connector.posted_to(conversation)[-1].all_text
    assert "lead commissioner" in asked.lower()

    teams.post(A.mention(url, member, f"<at>{colleague.name}</at>", thread=thread, others=[colleague]))
    after = teams.connector.wait_for(len(answers) + 1, conversation)[-1].all_text
    assert "portfolio holder" in after.lower()
    # Teams said who was mentioned; the member record gave their AAD id and email, and they are now known.
    known = teams.people.find_by_teams_id(colleague.aad_object_id)
    assert known is not None and known.email == colleague.email
