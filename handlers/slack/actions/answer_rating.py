""" "Helpful" / "Not helpful" under a guidance answer: thank the officer in place and log the rating
(feedback on answers is counted from these log events)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.blocks import render_rated_blocks
from handlers.slack.context import SlackContext
from handlers.slack.payloads import ButtonPress
from workflows.actions import Actions

log = structlog.get_logger(__name__)


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(*C.RATING_ACTIONS))
    def rate_answer(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        helpful = C.core_action_id(press.action_id) == Actions.HELPFUL
        log.info("answer_rated", platform=C.PLATFORM, helpful=helpful, question_chars=len(press.value))

        def thank() -> None:
            rated = render_rated_blocks(press.message_blocks, helpful)
            text = "Thanks for rating this answer."
            if press.in_channel_message and press.channel_id and press.message_ts:
                slack.client.chat_update(channel=press.channel_id, ts=press.message_ts, text=text, blocks=rated)
            elif press.message_blocks:
                respond(text=text, blocks=rated, replace_original=True, response_type="ephemeral")
            else:
                # Slack does not send an ephemeral message's blocks back, so the answer cannot be redrawn:
                # leave it as it is and thank the officer underneath.
                respond(text=rated[-1]["elements"][0]["text"], replace_original=False, response_type="ephemeral")

        slack.later("answer_rated", thank)
