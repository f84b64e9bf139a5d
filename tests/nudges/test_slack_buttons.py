"""A nudge's buttons pressed in Slack, end to end: the real server, signed requests, the fake Web API."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest

from bot.app import Services
from bot.config import Settings
from bot.server import build_server
from handlers.slack.context import build_web_client
from handlers.slack.notify import SlackNotifier
from storage.nudges import NudgeStore
from tests.nudges.helpers import World, at, no_waiting
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.harness import SIGNING_SECRET, LoopbackServer, SlackSender, user_select
from workflows.actions import NudgeActions
from workflows.delivery import NudgeSweep
from workflows.nudge_types import NudgePolicy
from workflows.reviews import Actor

OWNER, LEAD, HOLDER, NEW = "U0OWNER001", "U0LEAD0001", "U0HOLD0001", "U0NEWOWN01"
DUES = [date(2031, 3, 31), date(2031, 4, 30), date(2031, 5, 30), date(2031, 6, 30)]


@pytest.fixture
def served(database, fake_slack, tmp_path, shared_guidance) -> Iterator[tuple[World, SlackSender]]:  # type: ignore[no-untyped-def]
    for user_id, name in ((OWNER, "Sam Owner"), (LEAD, "Lee Lead"), (HOLDER, "Pat Holder"), (NEW, "Nia New")):
        fake_slack.add_user(user_id, name, name.lower().replace(" ", ".") + "@council.gov.uk")
    settings = Settings(
        data_dir=tmp_path / "data",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake_slack.api_url,
        log_format="text",
        database_url=database.engine.url.render_as_string(hide_password=False),
        _env_file=None,
    )  # type: ignore[call-arg]
    services = Services(settings, knowledge=shared_guidance)
    server = LoopbackServer(build_server(services, warm_up=False)).start()
    try:
        server.wait_until_ready()
        world = World(database)
        world.owner = world.person("Sam Owner", slack=OWNER)
        world.lead = world.person("Lee Lead", slack=LEAD)
        world.holder = world.person("Pat Holder", slack=HOLDER)
        world.review_id = world.review("Library services", world.owner, world.lead, world.holder, DUES)
        yield world, SlackSender(server.url, fake_slack)
    finally:
        server.stop()
        services.close()


def nudge_message(world: World, fake_slack: FakeSlack, channel: str) -> dict:  # type: ignore[type-arg]
    notifier = SlackNotifier(build_web_client(BOT_TOKEN, fake_slack.api_url), pacer=no_waiting())
    sweep = NudgeSweep(world.database, NudgePolicy(), [notifier], send_now=True)
    assert sweep.run(at("2031-03-24 10:00")).sent >= 1
    ts = next(ts for (posted_in, ts) in list(fake_slack.messages) if posted_in == channel)
    return dict(fake_slack.messages[(channel, ts)])


def button(message: dict, action_id: str) -> dict:  # type: ignore[type-arg]
    return next(
        element
        for block in message["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
        if element["action_id"].split(":")[0] == action_id
    )


def test_snooze_pressed_in_slack_is_saved_and_confirmed(served, fake_slack) -> None:
    world, slack = served
    message = nudge_message(world, fake_slack, "D0OWNER001")
    response, _ = slack.press(OWNER, button(message, NudgeActions.SNOOZE), channel="D0OWNER001", message=message)
    assert response.status_code == 200
    [confirmation] = fake_slack.wait_for("chat.postMessage", count=2, channel="D0OWNER001")[1:]
    assert "Snoozed: I'll remind you about Analyse" in confirmation.args["text"]
    stage_id = world.reviews.get(world.review_id).stages[0].id
    until = NudgeStore(world.database).snooze_of(stage_id, world.owner.id)
    assert until is not None and until > datetime.now(UTC).date()


def test_reassign_pressed_by_the_lead_opens_a_picker_and_moves_the_stage(served, fake_slack) -> None:
    world, slack = served
    # The lead owns the stage here, so the reminder (and its Reassign button) reaches them.
    world.reviews.reassign_stage(world.review_id, "Analyse", world.lead.id, Actor.system("test"))
    message = nudge_message(world, fake_slack, "D0LEAD0001")
    slack.press(LEAD, button(message, NudgeActions.REASSIGN), channel="D0LEAD0001", message=message)
    [opened] = fake_slack.wait_for("views.open")
    view = opened.args["view"]
    assert view["callback_id"] == "nudge_reassign"
    response = slack.submit_view(LEAD, view, {"new_owner": user_select(NEW)})
    assert response.status_code == 200
    fake_slack.wait_for("chat.postMessage", count=2, channel="D0LEAD0001")
    assert world.reviews.get(world.review_id).stages[0].owner.name == "Nia New"


def test_reassign_pressed_by_the_owner_says_who_can(served, fake_slack) -> None:
    world, slack = served
    message = nudge_message(world, fake_slack, "D0OWNER001")
    slack.press(OWNER, button(message, NudgeActions.REASSIGN), channel="D0OWNER001", message=message)
    [reply] = fake_slack.wait_for("chat.postMessage", count=2, channel="D0OWNER001")[1:]
    assert "Only the lead commissioner, Lee Lead" in reply.args["text"]
    assert fake_slack.calls_to("views.open") == []
