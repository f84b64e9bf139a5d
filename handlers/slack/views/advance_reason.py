"""The reason for finishing a stage with checklist items open: refused reasons show in the modal."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext, command_key
from handlers.slack.home import publish_home
from handlers.slack.payloads import ViewSubmission
from workflows.replies import ReplyKind


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.ADVANCE_REASON_CALLBACK)
    def submit_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        meta = json.loads(submission.private_metadata or "{}")
        reason = blocks.read_modal_values(submission.state_values).get(C.ADVANCE_REASON_BLOCK, "").strip()
        if not reason:
            ack(response_action="errors", errors={C.ADVANCE_REASON_BLOCK: "Please say why the stage can be finished."})
            return
        user = slack.user(submission.user_id, command_key(submission.team_id, submission.user_id))
        replies = slack.commands.advance(user, int(meta["review"]), stage_name=meta.get("stage"), reason=reason)
        if replies and replies[0].kind is ReplyKind.PROBLEM:
            ack(response_action="errors", errors={C.ADVANCE_REASON_BLOCK: blocks.shorten(replies[0].text, 150)})
            return
        ack()

        def tell() -> None:
            if meta.get("channel"):
                slack.post(meta["channel"], replies, thread_ts=meta.get("thread"))
            else:
                slack.direct_message(submission.user_id, replies)
            publish_home(slack, submission.user_id)

        slack.later("stage_advanced", tell)
