"""Socket Mode: the same app, reached over a WebSocket opened with the app-level token."""

from __future__ import annotations

import time

import pytest

from bot.app import Services
from handlers.slack import constants as C
from handlers.slack.app import build_slack_app
from handlers.slack.socket_mode import start_socket_mode
from tests.slack.conftest import ALICE, add_fake_users, slack_settings
from tests.slack.fake_slack import APP_TOKEN, BOT_USER_ID, TEAM_ID, FakeSlack
from tests.slack.fake_socket_mode import FakeSocketMode


@pytest.fixture(scope="module")
def socket_world(tmp_path_factory, shared_guidance):
    fake = FakeSlack().start()
    add_fake_users(fake)
    sockets = FakeSocketMode().start()
    fake.socket_url = sockets.url
    services = Services(
        slack_settings(tmp_path_factory.mktemp("socket-data"), fake, slack_app_token=APP_TOKEN),
        knowledge=shared_guidance,
    )
    bot = build_slack_app(services, services.settings.for_slack())
    handler = start_socket_mode(bot, APP_TOKEN)
    try:
        sockets.wait_connected()
        yield fake, sockets
    finally:
        handler.close()
        bot.close()
        sockets.stop()
        fake.stop()
        services.close()


def mention_payload(event_id: str, channel: str, text: str) -> dict:
    ts = f"{int(time.time())}.000100"
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0COMMAPP1",
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "event": {
            "type": "app_mention",
            "user": ALICE,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        },
    }


def test_the_connection_is_opened_with_the_app_token(socket_world) -> None:
    fake, _ = socket_world
    assert fake.calls_to("apps.connections.open")


def test_events_are_acknowledged_and_answered_once_even_when_redelivered(socket_world) -> None:
    fake, sockets = socket_world
    payload = mention_payload("Ev0SOCKET01", "C0SOCKET01", "Who takes strategic sourcing decisions?")
    first = sockets.push("events_api", payload)
    again = sockets.push("events_api", payload, retry_attempt=1)
    sockets.wait_for_ack(first)
    sockets.wait_for_ack(again)
    [answer] = fake.wait_for("chat.postMessage", channel="C0SOCKET01", timeout=60)
    assert "Cabinet" in str(answer.args["blocks"])
    time.sleep(0.5)
    assert len(fake.calls_to("chat.postMessage", channel="C0SOCKET01")) == 1
    assert len(sockets.acks_for(first)) == 1 and len(sockets.acks_for(again)) == 1


def test_a_slash_command_is_acknowledged_and_answered(socket_world) -> None:
    fake, sockets = socket_world
    response_url = fake.response_url()
    envelope = sockets.push(
        "slash_commands",
        {
            "token": "legacy",
            "team_id": TEAM_ID,
            "channel_id": "C0SOCKET02",
            "user_id": ALICE,
            "command": "/commissioning",
            "text": "help",
            "response_url": response_url,
            "trigger_id": fake.new_trigger_id(),
            "api_app_id": "A0COMMAPP1",
        },
        accepts_response_payload=True,
    )
    sockets.wait_for_ack(envelope)
    [reply] = fake.wait_for("response_url", url=response_url.split(fake.url)[1])
    assert "/commissioning new" in str(reply.args["blocks"])


def test_modal_field_errors_travel_back_in_the_envelope_acknowledgement(socket_world) -> None:
    fake, sockets = socket_world
    envelope = sockets.push(
        "interactive",
        {
            "type": "view_submission",
            "team": {"id": TEAM_ID},
            "user": {"id": ALICE, "team_id": TEAM_ID},
            "api_app_id": "A0COMMAPP1",
            "trigger_id": fake.new_trigger_id(),
            "view": {
                "id": "V0SOCKET01",
                "type": "modal",
                "callback_id": C.ADVANCE_REASON_CALLBACK,
                "private_metadata": '{"review": 1, "stage": "Analyse"}',
                "blocks": [],
                "state": {"values": {C.ADVANCE_REASON_BLOCK: {"value": {"type": "plain_text_input", "value": " "}}}},
            },
        },
        accepts_response_payload=True,
    )
    ack = sockets.wait_for_ack(envelope)
    assert ack["payload"] == {
        "response_action": "errors",
        "errors": {C.ADVANCE_REASON_BLOCK: "Please say why the stage can be finished."},
    }
