"""The adapter's small parts on their own: host allow-list, pacing, card layout."""

from __future__ import annotations

from microsoft_agents.activity import Activity

from bot.app import Services
from bot.routes import ServerHooks, teams_route_provider
from handlers.teams.auth import host_allowed
from handlers.teams.cards import render_answer_card, render_reply_card
from handlers.teams.connector import ConversationPacer
from handlers.teams.people import teams_people_resolver
from handlers.teams.render import reply_activity
from storage.people import PeopleRepository
from workflows.actions import Actions
from workflows.people import Resolved
from workflows.replies import Button, Reply, ReplyKind


def test_host_allow_list() -> None:
    allowed = ["smba.trafficmanager.net", "*.teams.microsoft.us"]
    assert host_allowed("smba.trafficmanager.net", allowed)
    assert host_allowed("SMBA.trafficmanager.net.", allowed)
    assert host_allowed("smba.infra.gov.teams.microsoft.us", allowed)
    assert not host_allowed("teams.microsoft.us", allowed)  # a wildcard is for sub-domains only
    assert not host_allowed("evil-teams.microsoft.us.example.com", allowed)
    assert not host_allowed("smba.trafficmanager.net.evil.com", allowed)


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 4))
        self.now += seconds


def test_pacing_is_per_conversation() -> None:
    clock = _Clock()
    pacer = ConversationPacer(rate=7.0, clock=clock, sleep=clock.sleep)
    for _ in range(8):
        pacer.wait("chat-a")
    assert round(clock.now, 3) == round(7 / 7.0, 3)  # eight sends, seven gaps of 1/7 s
    before = clock.now
    pacer.wait("chat-b")  # another conversation is not held up
    assert clock.now == before


def test_queued_replies_take_their_turn_without_sleeping() -> None:
    clock = _Clock()
    pacer = ConversationPacer(rate=7.0, clock=clock, sleep=clock.sleep)
    assert pacer.next_turn("chat-a") == 0.0
    wait = pacer.next_turn("chat-a")  # not its turn yet: how long until it is, and the slot is not taken
    assert round(wait, 3) == round(1 / 7.0, 3) and pacer.next_turn("chat-a") == wait
    assert pacer.next_turn("chat-b") == 0.0  # another conversation is not held up
    clock.now += wait
    assert pacer.next_turn("chat-a") == 0.0
    assert clock.slept == []


def test_many_buttons_wrap_into_rows_and_answers_are_rated_once() -> None:
    reply = Reply("Pick one", ReplyKind.QUESTION, buttons=[Button(f"Option {n}", str(n)) for n in range(8)])
    content = render_reply_card(reply)
    rows = [item for item in content["body"] if item["type"] == "ActionSet"]
    assert [len(row["actions"]) for row in rows] == [5, 3]
    rated = Reply("An answer", ReplyKind.ANSWER, buttons=[Button("Helpful", "q", Actions.HELPFUL)])
    assert [a["title"] for a in render_answer_card(rated, "q")["actions"]] == ["Helpful"]
    unrated = Reply("An answer", ReplyKind.ANSWER)
    assert [a["title"] for a in render_answer_card(unrated, "q")["actions"]] == ["Helpful", "Not helpful"]


def test_plain_replies_are_text_and_the_rest_cards() -> None:
    text = reply_activity(Reply("Line one\nLine two"))
    assert text == {"type": "message", "text": "Line one\n\nLine two", "textFormat": "markdown"}
    problem = reply_activity(Reply("That went wrong", ReplyKind.PROBLEM))
    block = problem["attachments"][0]["content"]["body"][0]
    assert block["color"] == "Attention" and problem["summary"] == "That went wrong"


def test_no_endpoint_unless_teams_is_configured(settings, caplog) -> None:
    assert teams_route_provider(Services(settings), ServerHooks()) == []
    half = settings.model_copy(update={"teams_app_id": "3f1c2a9e-5b7d-4c1e-9a2b-8d6e4f0a1b2c"})
    assert teams_route_provider(Services(half), ServerHooks()) == []
    assert "teams_not_started" in caplog.text


def test_an_at_mention_without_its_entity_is_found_by_name(database) -> None:
    people = PeopleRepository(database)
    people.upsert(name="Sam Jones", email="sam.jones@council.gov.uk")
    activity = Activity(type="message", text="<at>Sam Jones</at>")  # Teams sent no mention entity for it
    found = teams_people_resolver(activity, people, None, me=None).resolve("<at>Sam Jones</at>")
    assert isinstance(found, Resolved) and found.person.name == "Sam Jones"
