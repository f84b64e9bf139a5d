"""``@Commissioning <question>`` in a channel: answered in a thread; the thread is the conversation,
so a follow-up in it (with or without a mention) is read in context."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import App, BoltContext

from handlers.slack.context import SlackContext, thread_key


def without_mentions_of(text: str, bot_user_id: str | None) -> str:
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    return " ".join(text.split())


def register(app: App, slack: SlackContext) -> None:
    @app.event("app_mention")
    def answer_mention(event: dict[str, Any], body: dict[str, Any], context: BoltContext) -> None:
        team_id, channel = body.get("team_id", ""), event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        text = without_mentions_of(event.get("text", ""), context.bot_user_id)

        # Stored before the acknowledgement; a worker in this or another process answers it, once.
        slack.queue_answer(
            str(body.get("event_id") or f"{channel}:{event['ts']}"),
            team_id=team_id,
            channel=channel,
            user=event["user"],
            text=text,
            conversation_key=thread_key(team_id, channel, thread_ts),
            thread_ts=thread_ts,
            join_thread=thread_ts,
        )
