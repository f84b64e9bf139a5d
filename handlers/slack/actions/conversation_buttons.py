"""Buttons the chat core offers (a choice in the review conversation, a suggested question): the value goes
back to the same conversation as if typed."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.interaction_work import InteractionRun, interaction_task
from handlers.slack.payloads import ButtonPress, queue_press
from workflows.replies import Reply


@interaction_task("conversation_button")
def answer_press(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    press = ButtonPress(**payload["press"])
    user = run.slack.user(press.user_id, press.conversation_key)

    def replies() -> list[Reply]:
        return run.slack.dialogue.press(user, C.core_action_id(press.action_id), press.value)

    if press.in_channel_message:
        # In a thread, a failure is said in the thread, where the officer is looking.
        messages = run.replies("replies", replies, apologise=True)
        run.post(press.channel_id or "", messages, thread_ts=press.reply_thread)
    elif press.response_url:
        run.respond(press.response_url, run.replies("replies", replies))
    else:
        run.direct_message(press.user_id, run.replies("replies", replies))


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(*C.CONVERSATION_ACTIONS))
    def press_conversation_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        queue_press(slack, "conversation_button", press, apology={"user": press.user_id})
        ack()
