"""Messages the pre-filter lets through: a direct message to the app (no mention needed), or a reply in a
channel thread the app has answered in (a follow-up, read in the thread's context).

The whole DM is one conversation (so the review flow runs there by typing), unless the officer replies in
a thread, which is then its own conversation.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from handlers.slack.context import SlackContext, channel_key, thread_key


def register(app: App, slack: SlackContext) -> None:
    @app.event("message")
    def answer_message(event: dict[str, Any], body: dict[str, Any]) -> None:
        team_id, channel = body.get("team_id", ""), event["channel"]
        thread_ts = event.get("thread_ts")
        in_channel = event.get("channel_type") != "im"
        key = thread_key(team_id, channel, thread_ts) if thread_ts else channel_key(team_id, channel)
        text = event.get("text", "")

        def answer() -> None:
            user = slack.user(event["user"], key)
            slack.post_or_apologise(channel, lambda: slack.dialogue.handle(user, text), thread_ts=thread_ts)
            if in_channel and thread_ts:
                slack.join_thread(team_id, channel, thread_ts)

        slack.later("message", answer, tell_officer=lambda replies: slack.post(channel, replies, thread_ts))
