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

        def answer() -> None:
            user = slack.user(event["user"], thread_key(team_id, channel, thread_ts))
            # Joined before answering, so a follow-up sent the moment the answer appears is not missed.
            slack.join_thread(team_id, channel, thread_ts)
            slack.post_or_apologise(channel, lambda: slack.dialogue.handle(user, text), thread_ts=thread_ts)

        slack.later("app_mention", answer, tell_officer=lambda replies: slack.post(channel, replies, thread_ts))
