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
        # Stored before the acknowledgement; a worker in this or another process answers it, once.
        slack.queue_answer(
            str(body.get("event_id") or f"{channel}:{event['ts']}"),
            team_id=team_id,
            channel=channel,
            user=event["user"],
            text=event.get("text", ""),
            conversation_key=key,
            thread_ts=thread_ts,
            join_thread=thread_ts if in_channel and thread_ts else None,
        )
