"""The review wizard submitted: per-field problems go back into the modal (``response_action: errors``);
warnings such as a duplicate title redraw it with a box to confirm; a clean form creates the review.

Checking happens before the acknowledgement because Slack only shows field errors from the
acknowledgement itself; it is a database read or two and, for a new colleague, one users.info.
"""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext, command_key
from handlers.slack.home import publish_home
from handlers.slack.payloads import ViewSubmission

MAX_ERROR_CHARS = 150  # Slack shows a field error on one short line


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.REVIEW_WIZARD_CALLBACK)
    def submit_review_wizard(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        meta = json.loads(submission.private_metadata or "{}")
        values = blocks.read_modal_values(submission.state_values)
        confirmed_box = values.pop(C.CONFIRM_WARNINGS_BLOCK, "")
        confirmed = meta.get("warnings", []) if C.CONFIRM_WARNINGS_VALUE in confirmed_box else []
        user = slack.user(submission.user_id, command_key(submission.team_id, submission.user_id))
        result = slack.dialogue.submit_review_form(user, values, confirmed)
        if result.errors:
            ack(
                response_action="errors",
                errors={field: blocks.shorten(text, MAX_ERROR_CHARS) for field, text in result.errors.items()},
            )
            return
        if result.warnings:
            form = slack.dialogue.review_form(user)
            redrawn = blocks.render_review_modal(
                form,
                blocks.metadata(team=submission.team_id, channel=meta.get("channel"), warnings=sorted(result.warnings)),
                values=values,
                warnings=result.warnings,
            )
            ack(response_action="update", view=redrawn)
            return
        ack()

        def tell() -> None:
            slack.direct_message(submission.user_id, result.replies)
            publish_home(slack, submission.user_id)

        slack.later("review_created", tell)
