"""What ``/slack/events`` checks before Bolt sees a request: that Slack signed it, then that it has Slack's shape.

Bolt parses a body before it checks the signature, so unsigned garbage used to end in a 500 and a
traceback (a cheap way to flood the log). Here, in order and each at the cost of a few microseconds:

1. the signature (``v0=`` HMAC-SHA256 of ``v0:{timestamp}:{body}`` with the signing secret, the
   timestamp within five minutes): 401 and one log line otherwise, with nothing parsed;
2. the body's shape, parsed the way Bolt parses it: a body Slack would never send (not UTF-8, not
   JSON, a JSON list, an interaction without a user) gets 400 and one log line;
3. an event whose fields are not what Slack sends (``event`` as a string, ``user: 5``, a message
   without a channel) is acknowledged with 200 and ignored, because Slack retries any other answer to
   an event.

After Bolt has answered, an event nobody listens to gets 200 rather than Bolt's 404 (which Slack would
retry), and a listener that fails answers with one log line, not a traceback (:func:`listener_failed`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import structlog
from slack_bolt.response import BoltResponse
from starlette.responses import JSONResponse, Response

__all__ = ["CheckedRequest", "SlackRequestGuard", "listener_failed"]

log = structlog.get_logger(__name__)

MAX_CLOCK_SKEW_SECONDS = 5 * 60
# Event fields the listeners read as text; Slack always sends them as strings when present.
_TEXT_EVENT_FIELDS = (
    *("type", "user", "channel", "text", "ts", "thread_ts"),
    *("channel_type", "subtype", "event_ts", "tab"),
)
# Events the listeners answer in a channel: without one there is nowhere to answer.
_EVENTS_NEEDING_A_CHANNEL = ("message", "app_mention")


@dataclass(frozen=True)
class CheckedRequest:
    """The guard's verdict: ``refusal`` to send now, or None to let Bolt handle a request of this ``kind``."""

    kind: str  # "event", "command", "interaction", "other"
    refusal: Response | None = None


def _refuse(status: int, reason: str, kind: str = "other") -> CheckedRequest:
    log.warning("slack_request_refused", status=status, reason=reason)
    body = {"error": reason} if status == 400 else None
    return CheckedRequest(kind, JSONResponse(body, status_code=status) if body else Response(status_code=status))


def _ignore(reason: str) -> CheckedRequest:
    log.info("slack_request_ignored", reason=reason)
    return CheckedRequest("event", Response(status_code=200))


class SlackRequestGuard:
    def __init__(self, signing_secret: str, clock: Any = time.time) -> None:
        self._secret = signing_secret.encode()
        self._clock = clock

    def check(self, headers: Mapping[str, str], body: bytes) -> CheckedRequest:
        if not self._signed(headers, body):
            return _refuse(401, "the request is not signed with this app's signing secret")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _refuse(400, "the body is not UTF-8 text")
        content_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
        if content_type == "application/json" or text.startswith("{"):
            return _check_json(text)
        return _check_form(text)

    def _signed(self, headers: Mapping[str, str], body: bytes) -> bool:
        timestamp = headers.get("x-slack-request-timestamp") or ""
        signature = headers.get("x-slack-signature") or ""
        if not timestamp.isdigit() or not signature.startswith("v0="):
            return False
        if abs(self._clock() - int(timestamp)) > MAX_CLOCK_SKEW_SECONDS:
            return False
        expected = hmac.new(self._secret, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest("v0=" + expected, signature)

    @staticmethod
    def settle(checked: CheckedRequest, response: BoltResponse) -> BoltResponse:
        """Bolt's answer, except that an event nobody listens to is acknowledged (Slack retries a 404)."""
        if checked.kind == "event" and response.status == 404:
            log.info("slack_event_unhandled")
            return BoltResponse(status=200, body="")
        return response


def _check_json(text: str) -> CheckedRequest:
    try:
        payload = json.loads(text)
    except ValueError:
        return _refuse(400, "the body is not valid JSON")
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return _refuse(400, "the body is not a Slack request (an object with a type)")
    if payload["type"] == "url_verification":
        if not isinstance(payload.get("challenge"), str):
            return _refuse(400, "url_verification without a challenge")
        return CheckedRequest("other")
    if payload["type"] != "event_callback":
        return CheckedRequest("other")
    event = payload.get("event")
    if not isinstance(event, dict):
        return _ignore("event_callback without an event object")
    wrong = [name for name in _TEXT_EVENT_FIELDS if name in event and not isinstance(event[name], str)]
    if wrong or "type" not in event:
        return _ignore(f"event fields of the wrong type: {', '.join(wrong) or 'type'}")
    if event["type"] in _EVENTS_NEEDING_A_CHANNEL and not event.get("channel"):
        return _ignore("a message event without a channel")
    for name in ("team_id", "event_id", "api_app_id"):
        if name in payload and not isinstance(payload[name], str):
            return _ignore(f"{name} is not text")
    authorizations = payload.get("authorizations")
    if authorizations is not None and (
        not isinstance(authorizations, list) or not all(isinstance(a, dict) for a in authorizations)
    ):
        return _ignore("authorizations is not a list of objects")
    return CheckedRequest("event")


def _check_form(text: str) -> CheckedRequest:
    try:
        form = dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), max_num_fields=200))
    except ValueError:
        return _refuse(400, "the body is not a form")
    if "ssl_check" in form:
        return CheckedRequest("other")
    if "payload" in form:
        return _check_interaction(form["payload"])
    if form.get("command") and form.get("user_id") and "text" in form:
        return CheckedRequest("command")
    return _refuse(400, "the form is neither a slash command nor an interaction")


def _check_interaction(raw: str) -> CheckedRequest:
    try:
        payload = json.loads(raw)
    except ValueError:
        return _refuse(400, "the interaction payload is not valid JSON", "interaction")
    if not isinstance(payload, dict) or not isinstance(payload.get("type"), str):
        return _refuse(400, "the interaction payload has no type", "interaction")
    user = payload.get("user")
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return _refuse(400, "the interaction payload has no user", "interaction")
    actions = payload.get("actions")
    if actions is not None and (
        not isinstance(actions, list)
        or not all(isinstance(a, dict) and isinstance(a.get("action_id", ""), str) for a in actions)
    ):
        return _refuse(400, "the interaction's actions are not Slack's", "interaction")
    for name in ("view", "container", "channel", "message", "team"):
        # Bolt reads these as objects whenever the key is there; only channel and message may be null.
        allowed_null = name in ("channel", "message") and payload[name] is None if name in payload else True
        if name in payload and not allowed_null and not isinstance(payload[name], dict):
            return _refuse(400, f"the interaction's {name} is not an object", "interaction")
    view = payload.get("view")
    if isinstance(view, dict) and (
        not isinstance(view.get("type"), str)
        or not isinstance(view.get("callback_id", ""), str)
        or not isinstance(view.get("private_metadata", ""), str)
        or not isinstance(view.get("state", {}), dict)
    ):
        return _refuse(400, "the interaction's view is not Slack's", "interaction")
    for name in ("trigger_id", "response_url", "callback_id"):
        if name in payload and not isinstance(payload[name], str):
            return _refuse(400, f"the interaction's {name} is not text", "interaction")
    return CheckedRequest("interaction")


def listener_failed(error: Exception, request: Any) -> BoltResponse:
    """Bolt's error handler: one log line (the error and where), no traceback. An event is acknowledged
    anyway (Slack would retry it, and fail the same way); anything else gets 400."""
    frame = traceback.extract_tb(error.__traceback__)[-1] if error.__traceback__ else None
    body = getattr(request, "body", None)
    is_event = isinstance(body, dict) and body.get("type") == "event_callback"
    log.error(
        "slack_request_failed",
        error=type(error).__name__,
        where=f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno}" if frame else "",
        kind="event" if is_event else "request",
    )
    return BoltResponse(status=200 if is_event else 400, body="")
