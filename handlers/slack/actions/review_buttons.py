"""Review buttons from command replies and the App Home: status, mark a stage done, finish with a reason.

The rules (who may advance, what the checklist needs) are in ``workflows/reviews.py``;
``workflows/commands.py`` turns them into replies.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.home import publish_home
from handlers.slack.interaction_work import InteractionRun, interaction_task
from handlers.slack.payloads import ButtonPress, queue_press
from workflows.actions import parse_stage_value
from workflows.replies import Reply


@interaction_task("review_button")
def answer_review_button(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """Status or "Mark done": the stage is advanced once (the replies are kept with the work), then said where
    the button was, and the officer's App Home redrawn."""
    press = ButtonPress(**payload["press"])
    slack = run.slack

    def replies() -> list[Reply]:
        user = slack.user(press.user_id, press.conversation_key)
        return slack.commands.press(user, C.core_action_id(press.action_id), press.value)

    messages = run.replies("replies", replies)
    if press.in_channel_message:
        run.post(press.channel_id or "", messages, thread_ts=press.reply_thread)
    elif press.from_home or not press.response_url:
        run.direct_message(press.user_id, messages)
    else:
        run.respond(press.response_url, messages)
    if C.core_action_id(press.action_id) == C.REVIEW_ADVANCE:
        run.effect(lambda: publish_home(slack, press.user_id))


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(C.REVIEW_STATUS, C.REVIEW_ADVANCE))
    def press_review_button(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        queue_press(slack, "review_button", press, apology={"user": press.user_id})
        ack()

    @app.action(C.action_pattern(C.REVIEW_ADVANCE_WITH_REASON))
    def ask_for_reason(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        review_id, stage = parse_stage_value(press.value)
        view = blocks.render_advance_reason_modal(
            review_id,
            stage or "The current stage",
            blocks.metadata(
                team=press.team_id,
                review=review_id,
                stage=stage or None,
                channel=press.channel_id if press.in_channel_message else None,
                thread=press.reply_thread if press.in_channel_message else None,
            ),
        )
        slack.open_view(press.trigger_id, view)
