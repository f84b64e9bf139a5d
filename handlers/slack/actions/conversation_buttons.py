"""Buttons the chat core offers (a choice in the review conversation, a suggested question): the value goes
back to the same conversation as if typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.payloads import ButtonPress
from workflows.replies import Reply


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(*C.CONVERSATION_ACTIONS))
    def press_conversation_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]
    ) -> None:
        ack()
        press = ButtonPress.from_body(body, action)

        def answer() -> None:
            user = slack.user(press.user_id, press.conversation_key)

            def replies() -> list[Reply]:
                return slack.dialogue.press(user, C.core_action_id(press.action_id), press.value)

            if press.in_channel_message:
                slack.post_or_apologise(press.channel_id or "", replies, thread_ts=press.reply_thread)
            else:
                slack.respond(respond, replies())

        slack.later(
            "conversation_button", answer, tell_officer=lambda replies: slack.direct_message(press.user_id, replies)
        )
