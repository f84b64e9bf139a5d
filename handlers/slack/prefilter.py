"""The one place that decides whether a Slack event is answered at all.

Runs as Bolt middleware on every request, after Bolt has checked the
signature. An event is dropped (answered with an empty 200, so Slack does not
retry it) when it is:

- from this app itself or from any other bot (no bot-to-bot loops);
- an edit, a deletion or another message subtype (an edited question is not a new one);
- a channel message that does not mention the app (mentions arrive as ``app_mention``), unless
  it is a reply in a thread the app has answered in (a follow-up needs no second mention);
- a mention inside a direct message (the ``message.im`` event answers those);
- the App Home's Messages tab opening (only the Home tab is drawn);
- an event we have already handled: Slack retries (``X-Slack-Retry-Num``) when an
  acknowledgement is slow or lost, and the event id is remembered in the database,
  so a retry after a restart is still answered once. Messages, mentions, the App Home
  and the assistant panel opening are remembered by the work queue that answers them
  (``answers.py``, ``interaction_work.py``), everything else here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import BoltRequest, BoltResponse

from handlers.slack.constants import PLATFORM, THREAD_PLATFORM
from handlers.slack.context import thread_key
from storage.events import ProcessedEvents

log = structlog.get_logger(__name__)

PURGE_EVERY_SECONDS = 3600
# Events whose work goes through the durable work queue, keyed on the event id (handlers/slack/answers.py,
# handlers/slack/interaction_work.py): the queue's insert is their one de-duplication.
QUEUED_EVENT_TYPES = frozenset({"app_mention", "message", "app_home_opened", "assistant_thread_started"})


def is_thread_reply(event: dict[str, Any]) -> bool:
    return bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")


def _message(event: dict[str, Any], bot_user_id: str | None) -> str | None:
    if event.get("subtype"):
        return f"subtype_{event['subtype']}"
    if not event.get("user"):
        return "no_user"
    if event.get("channel_type") == "im":
        return None
    if not is_thread_reply(event):
        return "channel_message_without_mention"
    if bot_user_id and f"<@{bot_user_id}" in event.get("text", ""):
        return "mention_answered_as_app_mention"
    return None  # a reply in a thread: answered only if it is a thread we are in (checked against the database)


def _app_mention(event: dict[str, Any], bot_user_id: str | None) -> str | None:
    if event.get("subtype") or event.get("edited"):
        return "edited_mention"
    if str(event.get("channel", "")).startswith("D"):
        return "mention_in_direct_message"
    return None


def _app_home_opened(event: dict[str, Any], bot_user_id: str | None) -> str | None:
    return None if event.get("tab", "home") == "home" else "messages_tab"


# The events we answer, and for each why one of them may still be left alone.
_REASONS: dict[str, Callable[[dict[str, Any], str | None], str | None]] = {
    "message": _message,
    "app_mention": _app_mention,
    "app_home_opened": _app_home_opened,
    # The assistant panel opening, or its officer moving to another channel (handlers/slack/assistant.py).
    "assistant_thread_started": lambda event, bot_user_id: None,
    "assistant_thread_context_changed": lambda event, bot_user_id: None,
}


def reason_to_ignore(event: dict[str, Any], bot_user_id: str | None) -> str | None:
    """Why this event should not be answered, or None when it should be."""
    if event.get("bot_id") or event.get("bot_profile") or (bot_user_id and event.get("user") == bot_user_id):
        return "from_a_bot"
    reason = _REASONS.get(str(event.get("type")))
    return reason(event, bot_user_id) if reason is not None else "not_an_event_we_answer"


def _header(request: BoltRequest, name: str) -> str | None:
    """The first value of a request header, or None."""
    values = request.headers.get(name)
    return values[0] if values else None


class EventPrefilter:
    """Bolt middleware: drop what we do not answer and what we have answered before, with an empty 200."""

    def __init__(
        self,
        processed: Callable[[], ProcessedEvents],
        in_background: Callable[[str, Callable[[], Any]], Any] | None = None,
    ) -> None:
        # A factory: the database is opened on the first event, not when the app is built.
        self._processed = processed
        self._in_background = in_background
        self._next_purge = 0.0

    def __call__(
        self, request: BoltRequest, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        if body.get("type") != "event_callback":
            return next()
        slack_event = body.get("event") or {}
        retry = _header(request, "x-slack-retry-num")
        reason = reason_to_ignore(slack_event, request.context.bot_user_id)
        if reason is not None:
            log.debug("slack_event_ignored", event_type=slack_event.get("type"), reason=reason)
            return BoltResponse(status=200, body="")
        if slack_event.get("type") == "message" and slack_event.get("channel_type") != "im":
            key = thread_key(body.get("team_id", ""), slack_event.get("channel", ""), slack_event["thread_ts"])
            if not self._processed().seen(THREAD_PLATFORM, key):
                log.debug("slack_event_ignored", event_type="message", reason="not_our_thread")
                return BoltResponse(status=200, body="")
        event_id = body.get("event_id")
        # Queued events are de-duplicated where their work is stored (the work queue's key is the event id), in
        # the same single insert, so an event is never marked handled without its work being kept.
        queued = slack_event.get("type") in QUEUED_EVENT_TYPES
        if event_id and not queued and not self._processed().first_time(PLATFORM, str(event_id)):
            log.info(
                "slack_event_duplicate",
                event_type=slack_event.get("type"),
                retry=retry,
                retry_reason=_header(request, "x-slack-retry-reason"),
            )
            return BoltResponse(status=200, body="")
        self._purge_now_and_then()
        return next()

    def _purge_now_and_then(self) -> None:
        """Forget event ids older than a day, about once an hour, so the table stays small."""
        if self._in_background is None or time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + PURGE_EVERY_SECONDS
        self._in_background("purge_processed_events", lambda: self._processed().purge())
