"""Rating a guidance answer: "Helpful" / "Not helpful" buttons (channels and DMs) or Slack's own feedback buttons
(the assistant panel). The rating is stored in the answer log against the answer's ref, with no identity
(``workflows/answer_ratings.py``); the answer is redrawn with a thank-you, and after "not helpful" a
"Tell us more" button opens a box for an optional comment (``handlers/slack/views/answer_comment.py``)."""

from __future__ import annotations

from typing import Any

import structlog
from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.blocks import render_rated_blocks
from handlers.slack.context import SlackContext
from handlers.slack.interaction_work import REDACT, InteractionRun, interaction_task
from handlers.slack.payloads import ButtonPress, queue_press
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


@interaction_task("answer_rated")
def store_and_thank(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """Store the rating once, then redraw the answer with a thank-you (or thank the officer underneath)."""
    press = ButtonPress(**payload["press"])
    helpful, ref = read_rating(press)
    stored = run.step("rated", lambda: rate_answer(run.slack.dialogue.answer_log, C.PLATFORM, ref, helpful))
    rated = render_rated_blocks(press.message_blocks, helpful)
    thanks = rated[-1]
    more: list[dict[str, Any]] = []
    if stored and not helpful:
        more = [tell_us_more_block(ref)]
    text = "Thanks for rating this answer."
    if press.in_channel_message and press.channel_id and press.message_ts:
        channel, ts = press.channel_id, press.message_ts
        run.effect(lambda: run.slack.client.chat_update(channel=channel, ts=ts, text=text, blocks=[*rated, *more]))
    elif press.response_url and press.message_blocks:
        run.respond(press.response_url, [{"text": text, "blocks": [*rated, *more]}], replace_original=True)
    elif press.response_url:
        # Slack does not send an ephemeral message's blocks back, so the answer cannot be redrawn:
        # leave it as it is and thank the officer underneath.
        run.respond(press.response_url, [{"text": thanks["elements"][0]["text"], "blocks": [thanks, *more]}])


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(*C.RATING_ACTIONS, C.ANSWER_FEEDBACK))
    def rate(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        # Stored before the acknowledgement; a worker stores the rating and says thanks, once.
        # It names the answer beside who pressed: kept only until done (see interaction_work.REDACT).
        queue_press(slack, "answer_rated", press, when_done=REDACT)
        ack()

    @app.action(C.action_pattern(C.ANSWER_COMMENT))
    def ask_for_comment(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        # The trigger id lasts three seconds: the modal opens here, before any slow work.
        slack.open_view(press.trigger_id, render_answer_comment_modal(press.value))
