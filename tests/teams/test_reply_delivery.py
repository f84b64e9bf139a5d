"""Replies to officers' messages on the Connector's bad days, each reply arriving once: a conversation Teams
throttles waits in the queue without holding up anyone else's reply, a server error is tried again from the
part that did not go, and a reply the Connector may have posted is not posted a second time.

The server here has one queue worker, so a worker asleep on a throttled conversation would hold up every
other reply."""

from __future__ import annotations

from tests.teams import activities as A
from tests.teams.conftest import new_member
from tests.teams.fakes import Accept, Answer
from tests.teams.helpers import at_the_level_question, chat_of, settled

TEAMS_SETTINGS = {"work_threads": 1}
BACK = "Back to your review"


def test_a_throttled_conversation_holds_up_no_other_and_gets_its_reply_once(teams, member) -> None:
    url = teams.connector.service_url
    other = new_member(teams)
    throttled, free = chat_of(member), chat_of(other)
    teams.connector.throttle(throttled, "1")
    teams.post(A.message(url, member, "help"))
    teams.connector.wait_until(lambda: 429 in teams.connector.answered(throttled))

    teams.post(A.message(url, other, "roles"))
    [answer] = teams.connector.wait_for(1, free)
    assert "Who does what in commissioning" in answer.all_text
    assert teams.connector.posted_to(throttled) == []  # still throttled: it waits, and the other chat did not

    teams.connector.unthrottle(throttled)
    [late] = teams.connector.wait_for(1, throttled)
    settled(teams)
    assert "`help" in late.all_text
    assert len(teams.connector.posted_to(throttled)) == 1
    statuses = teams.connector.answered(throttled)
    assert statuses[-1] == 201 and set(statuses[:-1]) == {429}


def test_a_server_error_is_tried_again_from_the_part_that_did_not_go(teams, member) -> None:
    url = teams.connector.service_url
    chat = chat_of(member)
    at_the_level_question(teams, member)
    error = Answer(500, {"error": {"code": "InternalServerError", "message": "An error has occurred."}})
    teams.connector.script(chat, Accept(), error)  # the answer goes; "Back to your review" meets a 500

    teams.post(A.message(url, member, "What does strategic level mean?"))
    posts = teams.connector.wait_for(6, chat)
    settled(teams)
    assert len(teams.connector.posted_to(chat)) == 6
    assert BACK not in posts[4].all_text and "strategic" in posts[4].all_text.lower()
    assert BACK in posts[5].all_text
    assert teams.connector.answered(chat)[-3:] == [201, 500, 201]


def test_a_reply_the_connector_may_have_posted_is_not_posted_again(teams, member, caplog) -> None:
    url = teams.connector.service_url
    chat = chat_of(member)
    teams.connector.script(chat, Accept(drop=True))  # posted, but the connection drops before the answer

    teams.post(A.message(url, member, "help"))
    [reply] = teams.connector.wait_for(1, chat)
    settled(teams)
    assert teams.connector.answered(chat) == [0]  # one request: the officer sees the reply once
    assert "teams_reply_part_unconfirmed" in caplog.text
    # The conversation is not left stuck behind it.
    teams.post(A.message(url, member, "roles"))
    assert "Who does what in commissioning" in teams.connector.wait_for(2, chat)[1].all_text
