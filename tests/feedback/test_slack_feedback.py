"""Feedback on Slack, end to end: signed requests into the real server, Web API calls out to the fake Slack.

Asking (people, a channel's members, a user group), the form opening, field errors, an answer stored and
changed, a second answer refused, an anonymous answer that names nobody, a closed request, reminders only to
people who haven't answered, and the summary with its chart uploaded through Slack's external upload.

One module (over 400 lines) because its tests share one running server per database (the module-scoped
``world`` fixture); splitting it would start that server again for each part.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

import pytest

from bot.app import Services
from bot.logging import configure_logging
from bot.scheduler import send_feedback_reminders
from bot.server import build_server
from handlers.slack import constants as C
from knowledge.service import KnowledgeBase
from storage.feedback import FeedbackRepository
from storage.models import FeedbackStatus, Person
from storage.notifications import NotificationLedger
from storage.people import PeopleRepository
from storage.work_queue import work_queue_depth
from tests.db_fixtures import DATABASE_KINDS, _create_schema, _drop_schema, postgres_url_for_schema
from tests.feedback.fake_slack_files import FakeSlackWithFiles
from tests.feedback.helpers import changed_rows, rows_mentioning, snapshot
from tests.slack.conftest import slack_settings
from tests.slack.fake_slack import wait_until
from tests.slack.harness import LoopbackServer, SlackSender, buttons_of, date_picked, text_input, users_select
from workflows.reviews import Actor, ReviewDraft, StageDraft

LEAD, OWNER, HOLDER = "U0FBLEAD01", "U0FBOWNER1", "U0FBHOLDR1"
STAKE = ["U0FBSTAKE1", "U0FBSTAKE2", "U0FBSTAKE3", "U0FBSTAKE4", "U0FBSTAKE5"]
OUTSIDER = "U0FBOUTSD1"
CHANNEL, GROUP = "C0HOUSING1", "S0PROVIDR1"


@dataclass
class FeedbackSlackWorld:
    fake: FakeSlackWithFiles
    services: Services
    server: LoopbackServer
    slack: SlackSender
    review_id: int

    @property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self.services.database)

    def person(self, slack_id: str) -> Person:
        found = self.people.find_by_slack_id(slack_id)
        assert found is not None
        return found


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shared_guidance: KnowledgeBase
) -> Iterator[FeedbackSlackWorld]:
    fake = FakeSlackWithFiles().start()
    names = {LEAD: "Lena Lead", OWNER: "Owen Owner", HOLDER: "Cllr Holly Holder", OUTSIDER: "Oscar Outsider"}
    names.update({slack_id: f"Stake Holder{i}" for i, slack_id in enumerate(STAKE, 1)})
    for slack_id, name in names.items():
        fake.add_user(slack_id, name, name.lower().replace("cllr ", "").replace(" ", ".") + "@council.gov.uk")
    fake.add_channel(CHANNEL, [STAKE[1], STAKE[2], LEAD])
    fake.add_usergroup(GROUP, "providers", [STAKE[3]])
    schema = f"test_fb_{uuid.uuid4().hex[:10]}" if request.param == "postgres" else None
    overrides = {}
    if schema is not None:
        _create_schema(schema)
        overrides["database_url"] = postgres_url_for_schema(schema)
    services = Services(
        slack_settings(tmp_path_factory.mktemp("feedback-slack"), fake, **overrides), knowledge=shared_guidance
    )
    server = LoopbackServer(build_server(services)).start()
    try:
        server.wait_until_ready()
        people = PeopleRepository(services.database)
        ids = {
            slack_id: people.upsert(name=name, email=fake.users[slack_id].email, slack_user_id=slack_id).id
            for slack_id, name in names.items()
            if slack_id in (LEAD, OWNER, HOLDER)
        }
        today = services.reviews.today()
        draft = ReviewDraft(
            title="Library services",
            service="Libraries",
            outcomes=["Residents can borrow books"],
            level="operational",
            lead_commissioner_id=ids[LEAD],
            portfolio_holder_id=ids[HOLDER],
            stages=[
                StageDraft(name, ids[OWNER], today + timedelta(days=30 * (i + 1)))
                for i, name in enumerate(("Analyse", "Plan", "Do", "Review"))
            ],
        )
        [review_id] = services.reviews.create_reviews([draft], Actor.system("test"))
        yield FeedbackSlackWorld(fake, services, server, SlackSender(server.url, fake), review_id)
    finally:
        server.stop()
        fake.stop()
        services.close()
        if schema is not None:
            _drop_schema(schema)


def dm_channel(slack_id: str) -> str:
    return "D" + slack_id[1:]


def last_dm(world: FeedbackSlackWorld, slack_id: str, count: int = 1) -> dict:
    calls = world.fake.wait_for("chat.postMessage", count=count, channel=dm_channel(slack_id))
    return calls[-1].args


def press(world: FeedbackSlackWorld, user: str, message: dict, label: str) -> dict:
    """Press the button and return the modal Slack was asked to open."""
    element = next(e for e in buttons_of(message["blocks"]) if e["text"]["text"] == label)
    before = len(world.fake.calls_to("views.open"))
    response, trigger = world.slack.press(
        user, element, channel=dm_channel(user), message={"ts": "1.000001", **message}
    )
    assert response.status_code == 200
    calls = world.fake.wait_for("views.open", count=before + 1)
    assert calls[-1].args["trigger_id"] == trigger
    return calls[-1].args["view"]


def rating(score: int | None) -> dict:
    if score is None:
        return {"value": {"type": "static_select", "selected_option": None}}
    return {"value": {"type": "static_select", "selected_option": {"value": str(score)}}}


def answers(ratings=(4, 3, 5), worked="Friendly staff", change="Longer opening hours", anonymous=False) -> dict:
    return {
        "outcomes": rating(ratings[0]),
        "value_for_money": rating(ratings[1]),
        "satisfaction": rating(ratings[2]),
        "what_worked": text_input(worked),
        "what_should_change": text_input(change),
        "anonymous": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}] if anonymous else []}},
    }


def request_values(people=(), closes="", group="", channel=None) -> dict:
    return {
        "stakeholders": users_select(list(people)),
        "channel": {"value": {"type": "conversations_select", "selected_conversation": channel}},
        "usergroup": text_input(group),
        "question_set": {"value": {"type": "static_select", "selected_option": {"value": "review"}}},
        "closes_on": date_picked(closes),
    }


def ask_for_feedback(world: FeedbackSlackWorld) -> int:
    """Lena asks: one person, a channel's members and a user group. Returns the round's id."""
    response, _, _ = world.slack.slash_command(LEAD, f"feedback {world.review_id}")
    assert response.status_code == 200
    view = world.fake.wait_for("views.open")[-1].args["view"]
    assert view["callback_id"] == C.FEEDBACK_REQUEST_CALLBACK
    block_ids = [b.get("block_id") for b in view["blocks"]]
    assert {"stakeholders", "channel", "usergroup", "question_set", "closes_on"} <= set(block_ids)

    # Field problems come back in the acknowledgement, next to their fields.
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    bad = world.slack.submit_view(LEAD, view, request_values(closes=yesterday, group="@nobody"))
    assert bad.status_code == 200
    errors = bad.json()
    assert errors["response_action"] == "errors"
    assert set(errors["errors"]) == {"closes_on", "usergroup"} and "after today" in errors["errors"]["closes_on"]

    closes = (date.today() + timedelta(days=14)).isoformat()
    good = world.slack.submit_view(LEAD, view, request_values([STAKE[0]], closes, "@providers", CHANNEL))
    assert good.status_code == 200 and not good.content
    for slack_id in STAKE[:4]:
        invitation = last_dm(world, slack_id)
        assert "Lena Lead would like your feedback on" in invitation["text"]
        assert [e["text"]["text"] for e in buttons_of(invitation["blocks"])] == ["Give feedback"]
    confirmation = world.fake.wait_for("chat.postMessage", channel=dm_channel(LEAD))[-1].args
    assert "I've asked 4 people for feedback" in confirmation["text"]
    # The lead, a member of the channel, is not asked about her own review; nobody outside the choice is.
    assert not world.fake.calls_to("chat.postMessage", channel=dm_channel(STAKE[4]))
    # The work queue's worker records each invitation as sent just after posting it: read on once it has.
    ledger = NotificationLedger(world.services.database)
    wait_until(lambda: [e.status for e in ledger.for_review(world.review_id)] == ["sent"] * 4)
    wait_until(lambda: sum(work_queue_depth(world.services.database)[state] for state in ("ready", "leased")) == 0)
    [found] = FeedbackRepository(world.services.database).rounds_for_review(world.review_id, "requested")
    return found.id


def test_asking_answering_changing_and_refusing_through_slack(world: FeedbackSlackWorld, caplog) -> None:
    round_id = ask_for_feedback(world)
    feedback = FeedbackRepository(world.services.database)

    # Someone who doesn't run the review sees why in place of the form.
    world.slack.slash_command(OUTSIDER, f"feedback {world.review_id}")
    update = world.fake.wait_for("views.update")[-1].args["view"]
    assert "Only the lead commissioner (Lena Lead)" in json.dumps(update)

    # The form opens from the DM's button; a missing rating and an essay are shown next to their fields.
    invitation = last_dm(world, STAKE[0])
    form = press(world, STAKE[0], invitation, "Give feedback")
    assert form["callback_id"] == C.FEEDBACK_RESPONSE_CALLBACK
    labels = [b["label"]["text"] for b in form["blocks"] if b["type"] == "input"]
    assert labels[:3] == [
        "How well is the service achieving its outcomes for residents?",
        "How good is the service's value for money?",
        "How satisfied are you with the service?",
    ]
    bad = world.slack.submit_view(
        STAKE[0], form, {**answers(), "outcomes": rating(None), "what_worked": text_input("x" * 3001)}
    )
    assert bad.json()["response_action"] == "errors"
    assert set(bad.json()["errors"]) == {"outcomes", "what_worked"}
    assert feedback.responses(round_id) == []

    good = world.slack.submit_view(STAKE[0], form, answers())
    assert good.status_code == 200 and not good.content
    thanks = last_dm(world, STAKE[0], count=2)
    assert "is recorded with your name" in thanks["text"]
    [stored] = feedback.responses(round_id)
    assert stored.person_id == world.person(STAKE[0]).id and stored.ratings["outcomes"] == 4

    # Pressing "Give feedback" again opens the answer as given; sending it changes it (one answer, not two).
    again = press(world, STAKE[0], invitation, "Give feedback")
    outcomes_block = next(b for b in again["blocks"] if b.get("block_id") == "outcomes")
    assert outcomes_block["element"]["initial_option"]["value"] == "4"
    world.slack.submit_view(STAKE[0], again, answers(ratings=(2, 3, 5)))
    assert "is changed with your name" in last_dm(world, STAKE[0], count=3)["text"]
    [stored] = feedback.responses(round_id)
    assert stored.ratings["outcomes"] == 2

    # An anonymous answer: nothing it writes names the person, in any table.
    bea = world.person(STAKE[1])
    anonymous_form = press(world, STAKE[1], last_dm(world, STAKE[1]), "Give feedback")
    before, mentions_before = snapshot(world.services.database), rows_mentioning(world.services.database, bea)
    caplog.clear()
    caplog.set_level(logging.INFO)
    # Every log line of the anonymous round trip, at DEBUG, as the product writes them (third-party libraries
    # included): the answer, its thank-you with "Change my answer", and the change.
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    debug_log = io.StringIO()
    configure_logging("DEBUG", "json", stream=debug_log)
    root.addHandler(caplog.handler)
    try:
        world.slack.submit_view(STAKE[1], anonymous_form, answers(ratings=(3, 3, 3), anonymous=True))
        thanks = last_dm(world, STAKE[1], count=2)
        change = press(world, STAKE[1], thanks, "Change my answer")
        world.slack.submit_view(STAKE[1], change, answers(ratings=(3, 3, 3), anonymous=True))
        last_dm(world, STAKE[1], count=3)
        time.sleep(0.5)  # the thank-you's own request log, if any, comes after the fake has recorded it
    finally:
        configure_logging("WARNING", "text")
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    assert "anonymously" in thanks["text"]
    debug_lines = debug_log.getvalue().splitlines()
    assert sum('"feedback_answered"' in line for line in debug_lines) == 2
    button_value = next(e for e in buttons_of(thanks["blocks"]) if e["text"]["text"] == "Change my answer")["value"]
    debug_secret = json.loads(change["private_metadata"])["token"]
    for needle in (
        STAKE[1],
        dm_channel(STAKE[1]),
        bea.name,
        bea.email,
        button_value,
        debug_secret,
        hashlib.sha256(debug_secret.encode()).hexdigest(),
    ):
        leaks = [line[:300] for line in debug_lines if needle in line]
        assert leaks == [], (needle, leaks)
    # Nor in the logs: not who answered, nor the secret that opens the answer again.
    secret = json.loads(anonymous_form["private_metadata"])["token"]
    logged = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in caplog.records)
    assert "feedback_answered" in logged
    for needle in (STAKE[1], bea.name, bea.email, secret):
        assert needle not in logged
    assert set(changed_rows(before, snapshot(world.services.database))) == {"feedback_response", "feedback_request"}
    mentions_after = rows_mentioning(world.services.database, bea)
    assert "feedback_response" not in mentions_after
    for table, rows in mentions_after.items():
        added = [row for row in rows if row not in mentions_before.get(table, [])]
        if table == "feedback_request":
            assert [(r["person_id"], r["status"]) for r in added] == [(bea.id, FeedbackStatus.ANSWERED.value)]
        else:
            assert added == [], (table, added)

    # The DM's own button can't find an anonymous answer; a second answer from another form is refused politely.
    invitation = world.fake.calls_to("chat.postMessage", channel=dm_channel(STAKE[1]))[0].args
    plain = press(world, STAKE[1], invitation, "Give feedback")
    assert "already answered this request anonymously" in json.dumps(plain)
    second = world.slack.submit_view(
        STAKE[1],
        {**anonymous_form, "private_metadata": json.dumps({"round": round_id, "token": "not-the-secret"})},
        answers(ratings=(1, 1, 1)),
    )
    assert second.json()["response_action"] == "update"
    assert "haven't stored a second answer" in json.dumps(second.json()["view"])
    # "Change my answer" in the thank-you opens the anonymous answer, and changes it.
    change = press(world, STAKE[1], thanks, "Change my answer")
    assert next(b for b in change["blocks"] if b.get("block_id") == "anonymous")["element"]["initial_options"]
    world.slack.submit_view(STAKE[1], change, answers(ratings=(5, 5, 5), anonymous=True))
    last_dm(world, STAKE[1], count=3)
    assert sorted(r.ratings["outcomes"] for r in feedback.responses(round_id)) == [2, 5]

    # Two answers: the summary says one more is needed and uploads nothing.
    _, url, _ = world.slack.slash_command(LEAD, f"feedback summary {world.review_id}")
    [reply] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "2 of 4 people answered (50%)" in reply.args["text"] and "1 more answer needed" in reply.args["text"]
    assert world.fake.calls_to("files.getUploadURLExternal") == []

    # Reminders near the closing date go only to the two who haven't answered, once.
    closes = feedback.get_round(round_id).closes_on
    calendar = world.services.calendar
    day = closes
    while not calendar.is_working_day(day):
        day -= timedelta(days=1)
    reminder_time = datetime.combine(day, clock_time(11, 0), tzinfo=UTC)
    sent = send_feedback_reminders(world.services, reminder_time)
    assert sent == 2
    for slack_id in (STAKE[2], STAKE[3]):
        assert "A reminder" in last_dm(world, slack_id, count=2)["text"]
    for slack_id in (STAKE[0], STAKE[1]):
        assert not any(
            "A reminder" in c.args["text"]
            for c in world.fake.calls_to("chat.postMessage", channel=dm_channel(slack_id))
        )
    assert send_feedback_reminders(world.services, reminder_time + timedelta(hours=1)) == 0

    # A third answer: the summary breaks down the ratings and uploads the chart into the lead's DM.
    third = press(
        world, STAKE[2], world.fake.calls_to("chat.postMessage", channel=dm_channel(STAKE[2]))[0].args, "Give feedback"
    )
    world.slack.submit_view(STAKE[2], third, answers(ratings=(2, 4, 4), worked="Quick answers"))
    last_dm(world, STAKE[2], count=3)
    _, url, _ = world.slack.slash_command(LEAD, f"feedback summary {world.review_id}")
    [reply] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    text = reply.args["text"]
    assert "3 of 4 people answered (75%)" in text and "average 3.0 out of 5" in text and "Quick answers" in text
    [complete] = world.fake.wait_for("files.completeUploadExternal", timeout=30)
    assert complete.args["channel_id"] == dm_channel(LEAD)
    [uploaded] = world.fake.shared_files()
    assert uploaded.data is not None and uploaded.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert uploaded.filename == "feedback-summary.png" and len(uploaded.data) < 60_000

    # The summary is for the people running the review.
    _, url, _ = world.slack.slash_command(OUTSIDER, f"feedback summary {world.review_id}")
    [reply] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    assert "is for its lead commissioner" in reply.args["text"]


def test_a_closed_request_refuses_answers_politely(world: FeedbackSlackWorld) -> None:
    service = world.services.feedback
    chosen = service.rules.question_sets.default
    lead = world.person(LEAD)
    stakeholder = world.people.upsert(
        name="Stake Holder5", email=world.fake.users[STAKE[4]].email, slack_user_id=STAKE[4]
    )
    closed = service.rules.repository.create_round(
        review_id=world.review_id,
        question_set=chosen.id,
        question_set_version=chosen.version,
        questions=[q.as_json() for q in chosen.questions],
        closes_on=date.today() - timedelta(days=1),
        requested_by=lead.name,
        requested_by_person_id=lead.id,
        person_ids=[stakeholder.id],
    )
    message = {
        "text": "x",
        "blocks": [
            {
                "type": "actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{C.FEEDBACK_GIVE}:0",
                        "value": f"round:{closed.id}",
                        "text": {"type": "plain_text", "text": "Give feedback"},
                    }
                ],
            }
        ],
    }
    view = press(world, STAKE[4], message, "Give feedback")
    assert view["callback_id"] == C.FEEDBACK_NOTICE_CALLBACK and "closed at the end of" in json.dumps(view)
    # A form opened before the closing date and sent after it is refused the same way.
    form = {
        "callback_id": C.FEEDBACK_RESPONSE_CALLBACK,
        "blocks": [],
        "private_metadata": json.dumps({"round": closed.id, "token": "t"}),
    }
    late = world.slack.submit_view(STAKE[4], form, answers())
    assert late.json()["response_action"] == "update" and "closed at the end of" in json.dumps(late.json())
    assert service.rules.repository.responses(closed.id) == []


def test_anyone_can_give_feedback_from_the_review_card(world: FeedbackSlackWorld) -> None:
    _, url, _ = world.slack.slash_command(OUTSIDER, f"status {world.review_id}")
    [status] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
    element = next(e for e in buttons_of(status.args["blocks"]) if e["action_id"].startswith(C.FEEDBACK_GIVE))
    assert element["value"] == f"review:{world.review_id}"
    before = len(world.fake.calls_to("views.open"))
    world.slack.press(OUTSIDER, element, ephemeral_response_url=url, channel="C0GENERAL1")
    form = world.fake.wait_for("views.open", count=before + 1)[-1].args["view"]
    assert form["callback_id"] == C.FEEDBACK_RESPONSE_CALLBACK
    world.slack.submit_view(OUTSIDER, form, answers(ratings=(1, 2, 3)))
    assert "Thank you" in last_dm(world, OUTSIDER)["text"]
    service = world.services.feedback
    [unsolicited] = service.rules.repository.rounds_for_review(world.review_id, "unsolicited")
    [response] = service.rules.repository.responses(unsolicited.id)
    assert response.ratings == {"outcomes": 1, "value_for_money": 2, "satisfaction": 3}


def test_app_home_lists_feedback_waiting_and_offers_feedback_on_each_review(world: FeedbackSlackWorld) -> None:
    # Stake Holder4 was asked in the first test and hasn't answered (the other request is closed).
    [round_] = [
        r
        for r in FeedbackRepository(world.services.database).rounds_for_review(world.review_id, "requested")
        if r.closes_on >= date.today()
    ]
    world.slack.home_opened(STAKE[3])
    home = world.fake.wait_for("views.publish", user_id=STAKE[3])[-1].args["view"]
    shown = json.dumps(home)
    assert "Feedback you've been asked for" in shown and "Lena Lead asked" in shown
    accessories = [b["accessory"] for b in home["blocks"] if b.get("accessory")]
    assert [a["value"] for a in accessories] == [f"round:{round_.id}"]
    # The lead's home offers "Give feedback" on each of her reviews.
    world.slack.home_opened(LEAD)
    lead_home = world.fake.wait_for("views.publish", user_id=LEAD)[-1].args["view"]
    values = [e["value"] for e in buttons_of(lead_home["blocks"]) if e["action_id"].startswith(C.FEEDBACK_GIVE)]
    assert values == [f"review:{world.review_id}"]
    assert "No feedback requests are waiting for you." in json.dumps(lead_home)


def test_feedback_without_a_known_review_says_how_to_name_one(world: FeedbackSlackWorld) -> None:
    for text, expected in (("feedback", "Which review?"), ("feedback no such thing", "couldn't find one review")):
        _, url, _ = world.slack.slash_command(LEAD, text)
        [reply] = world.fake.wait_for("response_url", url=url.split(world.fake.url)[1])
        assert expected in reply.args["text"]
