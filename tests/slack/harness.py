"""Running the product's real server on loopback, and talking to it the way Slack does.

:class:`LoopbackServer` runs the ASGI app from ``bot.server.build_server`` under
uvicorn in a thread. :class:`SlackSender` signs each request with the signing
secret exactly as Slack does (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}``)
and builds the payloads Slack sends: events, slash commands, button presses and
modal submissions.

Over 400 lines: one sender for every kind of request Slack makes (events, the assistant panel, commands,
button presses, modal submissions), each beside the others so their shared signing stays in one place.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn

from tests.slack.fake_slack import BOT_USER_ID, TEAM_ID, FakeSlack

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LoopbackServer:
    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="product-server", daemon=True)

    def start(self, ready_timeout: float = 120.0) -> LoopbackServer:
        self._thread.start()
        deadline = time.monotonic() + ready_timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the server did not start")
            time.sleep(0.02)
        return self

    def wait_until_ready(self, timeout: float = 180.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            response = httpx.get(f"{self.url}/healthz", timeout=5)
            if response.status_code == 200:
                return response.json()
            if response.json().get("status") == "failed" or time.monotonic() > deadline:
                raise RuntimeError(f"the server never became ready: {response.text}")
            time.sleep(0.1)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


class SlackSender:
    """Sends what Slack sends to ``/slack/events``, signed."""

    def __init__(self, server_url: str, fake: FakeSlack, secret: str = SIGNING_SECRET) -> None:
        self.endpoint = f"{server_url}/slack/events"
        self.fake = fake
        self.secret = secret
        self._ids = itertools.count(1)
        self.http = httpx.Client(timeout=10)

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ids):06d}"

    def post(
        self,
        body: str,
        content_type: str,
        *,
        timestamp: int | None = None,
        signature: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        timestamp = int(time.time()) if timestamp is None else timestamp
        sent_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": str(timestamp),
            "X-Slack-Signature": signature or sign(body, timestamp, self.secret),
            **(headers or {}),
        }
        return self.http.post(self.endpoint, content=body.encode(), headers=sent_headers)

    # --- events -------------------------------------------------------------------------

    def event(
        self, slack_event: dict[str, Any], *, event_id: str | None = None, retry: int | None = None, **options: Any
    ) -> httpx.Response:
        body = json.dumps(
            {
                "token": "legacy-verification-token",
                "team_id": TEAM_ID,
                "api_app_id": "A0COMMAPP1",
                "event": slack_event,
                "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):08d}",
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
            }
        )
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(body, "application/json", headers=headers, **options)

    def mention(
        self, user: str, channel: str, text: str, *, thread_ts: str | None = None, **options: Any
    ) -> tuple[httpx.Response, str]:
        ts = self.new_ts()
        slack_event = {
            "type": "app_mention",
            "user": user,
            "text": f"<@{BOT_USER_ID}> {text}",
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
        }
        if thread_ts:
            slack_event["thread_ts"] = thread_ts
        return self.event(slack_event, **options), ts

    def thread_reply(self, user: str, channel: str, text: str, *, thread_ts: str, **options: Any) -> httpx.Response:
        """A reply in a channel thread without a mention (Slack sends it as ``message.channels``)."""
        ts = self.new_ts()
        return self.event(
            {
                "type": "message",
                "channel_type": "channel",
                "user": user,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
                "channel": channel,
                "event_ts": ts,
            },
            **options,
        )

    def direct_message(self, user: str, text: str, *, channel: str | None = None, **options: Any) -> httpx.Response:
        ts = self.new_ts()
        return self.event(
            {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "text": text,
                "ts": ts,
                "channel": channel or "D" + user[1:],
                "event_ts": ts,
            },
            **options,
        )

    # --- the assistant panel ------------------------------------------------------------

    def assistant_thread_started(
        self, user: str, *, from_channel: str = "C0GENERAL1"
    ) -> tuple[httpx.Response, str, str]:
        """The officer opens the assistant panel: Slack starts a thread in their DM with the app."""
        channel, thread_ts = "D" + user[1:], self.new_ts()
        response = self.event(
            {
                "type": "assistant_thread_started",
                "assistant_thread": {
                    "user_id": user,
                    "context": {"channel_id": from_channel, "team_id": TEAM_ID, "enterprise_id": None},
                    "channel_id": channel,
                    "thread_ts": thread_ts,
                },
                "event_ts": self.new_ts(),
            }
        )
        return response, channel, thread_ts

    def assistant_message(self, user: str, channel: str, thread_ts: str, text: str) -> httpx.Response:
        """A question typed in the assistant panel: a message.im event in the panel's thread."""
        ts = self.new_ts()
        return self.event(
            {
                "type": "message",
                "channel_type": "im",
                "user": user,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
                "channel": channel,
                "event_ts": ts,
                "parent_user_id": BOT_USER_ID,
            }
        )

    def press_feedback(self, user: str, channel: str, message: dict[str, Any], positive: bool) -> httpx.Response:
        """A press of Slack's own feedback buttons: the action carries the chosen side's value."""
        block = next(b for b in message["blocks"] if b["type"] == "context_actions")
        element = block["elements"][0]
        chosen = element["positive_button" if positive else "negative_button"]
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "council"},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A0COMMAPP1",
            "trigger_id": self.fake.new_trigger_id(),
            "container": {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
                "thread_ts": message.get("thread_ts"),
            },
            "channel": {"id": channel},
            "message": {
                "type": "message",
                "ts": message["ts"],
                "text": message.get("text"),
                "blocks": message["blocks"],
                "bot_id": "B0COMMBOT1",
                "thread_ts": message.get("thread_ts"),
            },
            "response_url": self.fake.response_url(),
            "actions": [
                {
                    "type": "feedback_buttons",
                    "action_id": element["action_id"],
                    "block_id": block.get("block_id", "fb1"),
                    "value": chosen["value"],
                    "text": chosen["text"],
                    "action_ts": self.new_ts(),
                }
            ],
        }
        return self.interaction(payload)

    def home_opened(self, user: str) -> httpx.Response:
        return self.event(
            {
                "type": "app_home_opened",
                "user": user,
                "channel": "D" + user[1:],
                "tab": "home",
                "event_ts": self.new_ts(),
            }
        )

    def url_verification(self, challenge: str) -> httpx.Response:
        return self.post(
            json.dumps({"token": "legacy", "challenge": challenge, "type": "url_verification"}), "application/json"
        )

    # --- slash commands and interactivity ----------------------------------------------

    def slash_command(
        self,
        user: str,
        text: str,
        *,
        command: str = "/commissioning",
        channel: str = "C0GENERAL1",
        trigger_id: str | None = None,
        **options: Any,
    ) -> tuple[httpx.Response, str, str]:
        response_url = self.fake.response_url()
        trigger_id = trigger_id or self.fake.new_trigger_id()
        body = urlencode(
            {
                "token": "legacy",
                "team_id": TEAM_ID,
                "team_domain": "council",
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": command,
                "text": text,
                "api_app_id": "A0COMMAPP1",
                "response_url": response_url,
                "trigger_id": trigger_id,
            }
        )
        return self.post(body, "application/x-www-form-urlencoded", **options), response_url, trigger_id

    def interaction(self, payload: dict[str, Any], *, retry: int | None = None) -> httpx.Response:
        headers = {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"} if retry else None
        return self.post(
            urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded", headers=headers
        )

    def press(
        self,
        user: str,
        element: dict[str, Any],
        *,
        channel: str | None = None,
        message: dict[str, Any] | None = None,
        home: bool = False,
        ephemeral_response_url: str | None = None,
    ) -> tuple[httpx.Response, str]:
        trigger_id = self.fake.new_trigger_id()
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": TEAM_ID, "domain": "council"},
            "user": {"id": user, "team_id": TEAM_ID},
            "api_app_id": "A0COMMAPP1",
            "trigger_id": trigger_id,
            "actions": [
                {
                    "type": "button",
                    "action_id": element["action_id"],
                    "block_id": "b1",
                    "value": element.get("value", ""),
                    "text": element["text"],
                    "action_ts": self.new_ts(),
                }
            ],
        }
        if home:
            payload["container"] = {"type": "view", "view_id": "VHOME"}
            payload["view"] = {"id": "VHOME", "type": "home"}
        elif ephemeral_response_url:
            payload["container"] = {
                "type": "message",
                "message_ts": self.new_ts(),
                "channel_id": channel,
                "is_ephemeral": True,
            }
            payload["channel"] = {"id": channel}
            payload["response_url"] = ephemeral_response_url
        else:
            assert message is not None and channel is not None
            payload["container"] = {
                "type": "message",
                "message_ts": message["ts"],
                "channel_id": channel,
                "is_ephemeral": False,
            }
            payload["channel"] = {"id": channel}
            payload["message"] = {
                "type": "message",
                "ts": message["ts"],
                "text": message.get("text"),
                "blocks": message.get("blocks") or [],
                "bot_id": "B0COMMBOT1",
                **({"thread_ts": message["thread_ts"]} if message.get("thread_ts") else {}),
            }
            payload["response_url"] = self.fake.response_url()
        return self.interaction(payload), trigger_id

    def submit_view(
        self,
        user: str,
        view: dict[str, Any],
        values: dict[str, dict[str, Any]],
        *,
        view_id: str | None = None,
        view_hash: str | None = None,
        retry: int | None = None,
    ) -> httpx.Response:
        """A modal submitted. Slack names the view (its id, and a hash that is new for every version of it);
        each call is a new version unless ``view_id`` and ``view_hash`` repeat an earlier delivery."""
        return self.interaction(
            {
                "type": "view_submission",
                "team": {"id": TEAM_ID, "domain": "council"},
                "user": {"id": user, "team_id": TEAM_ID},
                "api_app_id": "A0COMMAPP1",
                "trigger_id": self.fake.new_trigger_id(),
                "view": {
                    "id": view_id or view.get("id") or f"V0MODAL{next(self._ids)}",
                    "hash": view_hash or f"{int(time.time())}.{next(self._ids):08d}",
                    "type": "modal",
                    "callback_id": view["callback_id"],
                    "private_metadata": view.get("private_metadata", ""),
                    "blocks": view["blocks"],
                    "state": {"values": values},
                },
            },
            retry=retry,
        )


def text_input(value: str) -> dict[str, Any]:
    return {"value": {"type": "plain_text_input", "value": value}}


def user_select(user_id: str) -> dict[str, Any]:
    return {"value": {"type": "users_select", "selected_user": user_id}}


def users_select(user_ids: list[str]) -> dict[str, Any]:
    return {"value": {"type": "multi_users_select", "selected_users": user_ids}}


def date_picked(day: str) -> dict[str, Any]:
    return {"value": {"type": "datepicker", "selected_date": day}}


def option_picked(value: str) -> dict[str, Any]:
    return {
        "value": {
            "type": "static_select",
            "selected_option": {"value": value, "text": {"type": "plain_text", "text": value}},
        }
    }


def boxes_ticked(*values: str) -> dict[str, Any]:
    return {"value": {"type": "checkboxes", "selected_options": [{"value": v} for v in values]}}


# --- reading what the bot posted ------------------------------------------------------------------


def buttons_of(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every button (and other element) in a message's actions blocks."""
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def text_of(blocks: list[dict[str, Any]]) -> str:
    """The text an officer reads in a message's section, header and context blocks."""
    parts = []
    for block in blocks:
        if block["type"] in ("section", "header"):
            parts.append(block["text"]["text"])
        elif block["type"] == "context":
            parts.extend(e.get("text", "") for e in block["elements"])
    return "\n".join(parts)
