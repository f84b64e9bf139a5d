"""Nudges to Slack: a direct message from the app, paced and honest about who cannot be reached.

:class:`SlackNotifier` is the Slack :class:`~workflows.messaging.Messenger`. It
opens the person's DM with ``conversations.open`` (remembered per user), posts
the reply rendered by the adapter's own Block Kit builders with
``chat.postMessage``, and keeps to about one message a second per conversation
(Slack's limit for posting) with the adapter's own ``ChannelPacer``: the work
queue's handler asks :meth:`SlackNotifier.next_turn` first and puts the message
back until its turn rather than sleeping. Its Web API client does not wait out a
429 itself: the ``Retry-After`` is reported, and that person's messages wait in
the work queue while everyone else's go on.
"""

from __future__ import annotations

import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.slack import blocks
from handlers.slack.answers import delivery_client
from handlers.slack.context import ChannelPacer
from handlers.slack.settings import SlackSettings
from storage.models import Person
from workflows.messaging import SendResult, SendStatus
from workflows.replies import Reply

# Slack's answers that mean this person cannot get a DM from the app, now or later.
UNREACHABLE_ERRORS = frozenset(
    {
        "account_inactive",
        "user_not_found",
        "user_disabled",
        "users_not_found",
        "cannot_dm_bot",
        "user_is_restricted",
        "is_archived",
        "channel_not_found",
    }
)


class SlackNotifier:
    platform = "slack"

    def __init__(self, client: WebClient, *, pacer: ChannelPacer | None = None) -> None:
        self._client = client
        self._pacer = pacer or ChannelPacer()
        self._channels: dict[str, str] = {}
        self._lock = threading.Lock()

    def can_reach(self, person: Person) -> bool:
        return bool(person.slack_user_id)

    def next_turn(self, person: Person) -> float:
        """Seconds until the person's DM may have another message; 0 means now, and the turn is taken."""
        return self._pacer.next_turn(f"dm:{person.slack_user_id}")

    def send(self, person: Person, reply: Reply, *, skip: int = 0) -> SendResult:
        """Post the reply (its messages after the first ``skip``, which went before) to the person's DM."""
        if not person.slack_user_id:
            return SendResult(SendStatus.NO_ADDRESS, "no Slack user id")
        posted = 0
        try:
            channel = self._dm_channel(person.slack_user_id)
            for message in blocks.render_reply_messages(reply)[skip:]:
                self._client.chat_postMessage(
                    channel=channel, text=message.text, blocks=message.blocks, unfurl_links=False, unfurl_media=False
                )
                posted += 1
        except SlackApiError as error:
            code = str(error.response.get("error") or "")
            if code in UNREACHABLE_ERRORS:
                return SendResult(SendStatus.UNREACHABLE, code, parts_sent=posted)
            retry_after = None
            if error.response.status_code == 429 or code == "ratelimited":
                try:
                    retry_after = float(error.response.headers.get("Retry-After", "30"))
                except (TypeError, ValueError):
                    retry_after = 30.0
            return SendResult(SendStatus.FAILED, code or f"HTTP {error.response.status_code}", retry_after, posted)
        except OSError as error:
            # Connection trouble: nothing was posted that we know of.
            return SendResult(SendStatus.FAILED, type(error).__name__, parts_sent=posted)
        return SendResult(SendStatus.SENT, parts_sent=posted)

    def _dm_channel(self, user_id: str) -> str:
        with self._lock:
            channel = self._channels.get(user_id)
        if channel is None:
            channel = str(self._client.conversations_open(users=user_id)["channel"]["id"])
            with self._lock:
                self._channels[user_id] = channel
        return channel


def slack_notifier(settings: SlackSettings) -> SlackNotifier | None:
    """The Slack messenger for nudges and invitations, or None when SLACK_BOT_TOKEN is not set."""
    if settings.bot_token is None:
        return None
    return SlackNotifier(delivery_client(settings.bot_token.get_secret_value(), settings.api_url))
