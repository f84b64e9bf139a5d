"""Review buttons from command replies and the App Home: status, mark a stage done, finish with a reason.

The rules (who may advance, what the checklist needs) are in ``workflows/reviews.py``;
``workflows/commands.py`` turns them into replies.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.home import publish_home
from handlers.slack.payloads import ButtonPress
from workflows.actions import parse_stage_value


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(C.REVIEW_STATUS, C.REVIEW_ADVANCE))
    def press_review_button(
        ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]
    ) -> None:
        ack()
        press = ButtonPress.from_body(body, action)

        def run() -> None:
            user = slack.user(press.user_id, press.conversation_key)
            replies = slack.commands.press(user, C.core_action_id(press.action_id), press.value)
            if press.in_channel_message:
                slack.post(press.channel_id or "", replies, thread_ts=press.reply_thread)
            elif press.from_home:
                slack.direct_message(press.user_id, replies)
            else:
                slack.respond(respond, replies)
            if C.core_action_id(press.action_id) == C.REVIEW_ADVANCE:
                publish_home(slack, press.user_id)

        slack.later("review_button", run, tell_officer=lambda replies: slack.direct_message(press.user_id, replies))

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
