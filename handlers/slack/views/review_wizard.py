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
from handlers.slack.interaction_work import InteractionRun, interaction_task, rendered
from handlers.slack.payloads import ViewSubmission

MAX_ERROR_CHARS = 150  # Slack shows a field error on one short line


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.REVIEW_WIZARD_CALLBACK)
    def submit_review_wizard(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        if slack.already_queued(submission.key):
            ack()  # the same submission again: its review was created and its confirmation stored the first time
            return
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
        # The review exists now (created while checking, so problems could go back into the modal); telling the
        # officer and redrawing their App Home are stored before the acknowledgement and done once.
        slack.queue_interaction(
            "review_created",
            {"user": submission.user_id, "messages": rendered(result.replies)},
            key=submission.key,
            team_id=submission.team_id,
            where=submission.user_id,
        )
        ack()


@interaction_task("review_created")
def tell_review_created(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    user_id = str(payload["user"])
    run.direct_message(user_id, payload["messages"])
    run.effect(lambda: publish_home(run.slack, user_id))
