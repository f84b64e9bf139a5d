"""Rating a guidance answer: "Helpful" / "Not helpful" buttons (channels and DMs) or Slack's own feedback buttons
(the assistant panel). The rating is stored in the answer log against the answer's ref, with no identity
(``workflows/answer_ratings.py``); the answer is redrawn with a thank-you, and after "not helpful" a
"Tell us more" button opens a box for an optional comment (``handlers/slack/views/answer_comment.py``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog
from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.blocks import render_rated_blocks
from handlers.slack.context import SlackContext
from handlers.slack.payloads import ButtonPress
from handlers.slack.rating_blocks import render_answer_comment_modal, tell_us_more_block
from workflows.actions import Actions
from workflows.answer_ratings import rate_answer

log = structlog.get_logger(__name__)


def read_rating(press: ButtonPress) -> tuple[bool, str]:
    """(helpful, answer ref) from either kind of button."""
    if press.action_id == C.ANSWER_FEEDBACK:
        action, _, ref = press.value.partition(":")
        return action == Actions.HELPFUL, ref
    return C.core_action_id(press.action_id) == Actions.HELPFUL, press.value


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(*C.RATING_ACTIONS, C.ANSWER_FEEDBACK))
    def rate(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Callable[..., Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        helpful, ref = read_rating(press)

        def store_and_thank() -> None:
            stored = rate_answer(slack.dialogue.answer_log, C.PLATFORM, ref, helpful)
            rated = render_rated_blocks(press.message_blocks, helpful)
            thanks = rated[-1]
            more: list[dict[str, Any]] = []
            if stored and not helpful:
                more = [tell_us_more_block(ref)]
            text = "Thanks for rating this answer."
            if press.in_channel_message and press.channel_id and press.message_ts:
                slack.client.chat_update(
                    channel=press.channel_id, ts=press.message_ts, text=text, blocks=[*rated, *more]
                )
            elif press.message_blocks:
                respond(text=text, blocks=[*rated, *more], replace_original=True, response_type="ephemeral")
            else:
                # Slack does not send an ephemeral message's blocks back, so the answer cannot be redrawn:
                # leave it as it is and thank the officer underneath.
                respond(
                    text=thanks["elements"][0]["text"],
                    blocks=[thanks, *more],
                    replace_original=False,
                    response_type="ephemeral",
                )

        slack.later("answer_rated", store_and_thank)

    @app.action(C.action_pattern(C.ANSWER_COMMENT))
    def ask_for_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        # The trigger id lasts three seconds: the modal opens here, before any slow work.
        slack.open_view(press.trigger_id, render_answer_comment_modal(press.value))
