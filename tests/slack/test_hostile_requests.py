"""Hostile and careless requests to ``/slack/events``: refused cheaply, never a 5xx, never a traceback.

Everything goes through the real server (uvicorn on loopback) and the fake Slack; the last test is a
seeded fuzz run of a few hundred payloads, signed and unsigned, after which a mention is still answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import socket
import string
import time
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.slack.conftest import ALICE
from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID
from tests.slack.harness import SIGNING_SECRET, sign


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()[:200]}"
        for r in caplog.records
        if r.exc_info is not None or "Traceback" in r.getMessage()
    ]


def events(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The product's structlog event names, in order."""
    return [str(r.msg.get("event")) for r in caplog.records if isinstance(r.msg, dict)]


def raw_post(port: int, head: str, body: bytes = b"") -> bytes:
    """Speak HTTP/1.1 by hand, so a request can declare a body it never sends."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(head.encode() + b"\r\n\r\n" + body)
        return connection.recv(4096)


def event(slack_event: Any, **extra: Any) -> str:
    return json.dumps(
        {
            "type": "event_callback",
            "team_id": TEAM_ID,
            "event_id": f"Ev{random.random()}",
            "event": slack_event,
            **extra,
        }
    )


def test_a_huge_declared_body_is_refused_before_it_is_read(world, caplog) -> None:
    caplog.set_level(logging.INFO)
    head = (
        f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {300 * 1_048_576}"
    )
    answer = raw_post(world.server.port, head, b"{")
    assert answer.startswith(b"HTTP/1.1 413")
    assert "http_request_refused" in events(caplog)


def test_a_streamed_body_over_the_limit_is_refused_while_it_arrives(world) -> None:
    def chunks():  # no Content-Length: chunked transfer, 2 MB in 64 KB pieces
        for _ in range(32):
            yield b"x" * 65_536

    response = world.slack.http.post(world.slack.endpoint, content=chunks(), headers={"Content-Type": "text/plain"})
    assert response.status_code == 413


@pytest.mark.parametrize(
    "body",
    ["{bad", "[1, 2]", '{"type": "event_callback", "event": {"type": "app_mention"}}', "payload=%7B%7D", ""],
)
def test_unsigned_bodies_get_401_and_one_log_line_without_a_traceback(world, caplog, body) -> None:
    caplog.set_level(logging.INFO)
    response = world.slack.http.post(world.slack.endpoint, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401
    assert tracebacks(caplog) == []
    assert events(caplog) == ["slack_request_refused"]


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{bad", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"just a string"', "application/json", 400),
        ("\udcff", "application/json", 400),  # not UTF-8 once encoded with surrogateescape
        ("payload=not-json", "application/x-www-form-urlencoded", 400),
        ("payload=" + json.dumps({"type": "block_actions"}), "application/x-www-form-urlencoded", 400),
        ("hello=world", "application/x-www-form-urlencoded", 400),
        (event("a string, not an event"), "application/json", 200),
        (
            event({"type": "app_mention", "user": 5, "text": "hi", "channel": "C1", "ts": "1.1"}),
            "application/json",
            200,
        ),
        (
            event({"type": "message", "channel_type": "im", "user": ALICE, "text": "hi", "ts": "1.2"}),
            "application/json",
            200,
        ),
        (event({"type": "reaction_added", "user": ALICE, "reaction": "eyes"}), "application/json", 200),
        (
            event(
                {"type": "app_mention", "user": ALICE, "text": "hi", "channel": "C1", "ts": "1.3"}, authorizations="x"
            ),
            "application/json",
            200,
        ),
    ],
)
def test_signed_but_malformed_bodies_get_400_or_are_acknowledged_never_500(
    world, caplog, body, content_type, status
) -> None:
    caplog.set_level(logging.INFO)
    raw = body.encode("utf-8", "surrogateescape")
    timestamp = int(time.time())
    signature = sign_bytes(raw, timestamp)
    response = world.slack.http.post(
        world.slack.endpoint,
        content=raw,
        headers={
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature,
        },
    )
    assert response.status_code == status
    assert tracebacks(caplog) == []
    if status == 400:
        assert events(caplog) == ["slack_request_refused"]


def sign_bytes(raw: bytes, timestamp: int) -> str:
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(SIGNING_SECRET.encode(), base, hashlib.sha256).hexdigest()


# --- fuzz -----------------------------------------------------------------------------------------


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "float", "bool", "none", "list", "dict"] if depth < 3 else ["str", "int", "none"]
    kind = rng.choice(kinds)
    if kind == "str":
        return "".join(rng.choice(string.printable + "éŴ\u202e\x00") for _ in range(rng.randint(0, 20)))
    if kind == "int":
        return rng.choice([0, -1, 5, 2**63, rng.randint(-1000, 1000)])
    if kind == "float":
        return rng.random() * 1e6
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "none":
        return None
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["type", "user", "channel", "text", "ts", "event", "actions", "view", "value", "id", "team", "x"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def _slack_payload(rng: random.Random) -> tuple[bytes, str]:
    """One of: garbage bytes, random JSON, a mutated event, a mutated slash command, a mutated interaction."""
    choice = rng.randrange(6)
    if choice == 0:
        return bytes(rng.randrange(256) for _ in range(rng.randint(0, 300))), rng.choice(
            ["application/json", "application/x-www-form-urlencoded", "text/plain"]
        )
    if choice == 1:
        return json.dumps(_random_value(rng)).encode(), "application/json"
    if choice == 2:
        slack_event: dict[str, Any] = {
            "type": rng.choice(["app_mention", "message", "app_home_opened", "team_join", "x"]),
            "user": rng.choice([ALICE, "U0FUZZ0001", 5, None, {"id": ALICE}]),
            "text": rng.choice([f"<@{BOT_USER_ID}> roles", "help", "", 7, "\x00" * 3, "‮" * 50]),
            "ts": rng.choice(["1.1", None, 1.5]),
            "channel": rng.choice(["C0FUZZ0001", "D0FUZZ0001", None, 12]),
            "channel_type": rng.choice(["im", "channel", "group", 3]),
        }
        for key in rng.sample(list(slack_event), rng.randint(0, 3)):
            del slack_event[key]
        if rng.random() < 0.2:
            slack_event["thread_ts"] = rng.choice(["1.0", 2, None])
        return event(slack_event if rng.random() < 0.9 else _random_value(rng)).encode(), "application/json"
    if choice == 3:
        form = {
            "command": rng.choice(["/commissioning", "/other", ""]),
            "text": rng.choice(
                ["help", "list", "status 999999999999999999999", "new", "feedback x", "\x00", "é" * 300]
            ),
            "user_id": rng.choice([ALICE, "U0FUZZ0002", ""]),
            "team_id": TEAM_ID,
            "channel_id": rng.choice(["C0FUZZ0001", ""]),
            "trigger_id": rng.choice(["", "1.2.abc"]),
            "response_url": rng.choice(["", "http://127.0.0.1:9/nowhere"]),
        }
        for key in rng.sample(list(form), rng.randint(0, 2)):
            del form[key]
        return urlencode(form).encode(), "application/x-www-form-urlencoded"
    payload: dict[str, Any] = {
        "type": rng.choice(["block_actions", "view_submission", "view_closed", "shortcut", "x"]),
        "user": rng.choice([{"id": ALICE}, {"id": "U0FUZZ0003"}, {"id": 5}, "U1", None]),
        "team": {"id": TEAM_ID},
        "trigger_id": rng.choice(["1.2.abc", 5]),
        "actions": rng.choice(
            [
                [
                    {
                        "action_id": rng.choice(["answer_helpful", "open_review", "feedback_give", "x"]),
                        "value": rng.choice(["1", "", "x:y", "99999999999"]),
                    }
                ],
                [],
                "nope",
                [5],
            ]
        ),
        "view": rng.choice(
            [
                {
                    "callback_id": rng.choice(["review_wizard", "feedback_answer", "x"]),
                    "state": {"values": _random_value(rng)},
                    "private_metadata": rng.choice(["", "{", "{}", '{"round": "x"}']),
                },
                None,
                "v",
            ]
        ),
    }
    for key in rng.sample(list(payload), rng.randint(0, 2)):
        del payload[key]
    return urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded"


def test_fuzz_seeded_payloads_never_get_a_5xx_or_a_traceback_and_a_mention_is_still_answered(world, caplog) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(17)
    statuses: dict[int, int] = {}
    for number in range(300):
        raw, content_type = _slack_payload(rng)
        timestamp = int(time.time())
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": str(timestamp)}
        if number % 4:  # three in four signed, so most reach the shape checks and Bolt
            headers["X-Slack-Signature"] = sign_bytes(raw, timestamp)
        elif rng.random() < 0.5:
            headers["X-Slack-Signature"] = sign(raw.decode("latin-1"), timestamp, "not-the-secret")
        response = world.slack.http.post(world.slack.endpoint, content=raw, headers=headers)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, (number, raw[:200], response.text[:200])
    assert set(statuses) <= {200, 400, 401, 404}, statuses
    time.sleep(1.0)  # let work acknowledged above finish, so any late failure is in the log
    assert tracebacks(caplog) == []

    response, ts = world.slack.mention(ALICE, "C0AFTERFUZ", "Who takes strategic sourcing decisions?")
    assert response.status_code == 200
    [call] = world.fake.wait_for("chat.postMessage", channel="C0AFTERFUZ")
    assert call.args["thread_ts"] == ts
