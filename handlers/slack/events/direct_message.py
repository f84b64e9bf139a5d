"""A direct message to the app: no mention needed. The whole DM is one conversation (so the review flow
runs there by typing), unless the officer replies in a thread, which is then its own conversation."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.slack.context import SlackContext, channel_key, thread_key


def register(app: App, slack: SlackContext) -> None:
    @app.event("message")
    def answer_direct_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id, channel = body.get("team_id", ""), event["channel"]
        thread_ts = event.get("thread_ts")
        key = thread_key(team_id, channel, thread_ts) if thread_ts else channel_key(team_id, channel)
        text = event.get("text", "")

        def answer() -> None:
            user = slack.user(event["user"], key)
            slack.post_or_apologise(channel, lambda: slack.dialogue.handle(user, text), thread_ts=thread_ts)

        slack.later("direct_message", answer)
