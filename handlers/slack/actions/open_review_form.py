"""Buttons that open the review wizard (in replies and on the App Home): the modal opens before any slow work."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.payloads import ButtonPress
from handlers.slack.wizard import open_review_wizard


def register(app: App, slack: SlackContext) -> None:
    @app.action(C.action_pattern(C.OPEN_REVIEW_FORM))
    def open_form(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        press = ButtonPress.from_body(body, action)
        open_review_wizard(
            slack,
            press.trigger_id,
            press.team_id,
            press.user_id,
            press.channel_id if press.in_channel_message else None,
        )
