"""The reason for finishing a stage with checklist items open: refused reasons show in the modal."""

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
from workflows.replies import ReplyKind


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.ADVANCE_REASON_CALLBACK)
    def submit_reason(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        if slack.already_queued(submission.key):
            ack()  # the same submission again: its stage was finished and its replies stored the first time
            return
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
        to = {"channel": meta["channel"], "thread_ts": meta.get("thread")} if meta.get("channel") else None
        slack.queue_interaction(
            "stage_advanced",
            {"user": submission.user_id, "to": to or {"user": submission.user_id}, "messages": rendered(replies)},
            key=submission.key,
            team_id=submission.team_id,
            where=str(meta.get("channel") or submission.user_id),
        )
        ack()


@interaction_task("stage_advanced")
def tell_stage_advanced(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """The stage was finished in the listener (its problems go back into the modal); here it is said, once, where
    the button was, and the officer's App Home redrawn."""
    user_id = str(payload["user"])
    run.send(payload["to"], payload["messages"])
    run.effect(lambda: publish_home(run.slack, user_id))
