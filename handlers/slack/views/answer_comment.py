"""The optional comment after rating an answer "not helpful": stored with the rating, without identity."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.interaction_work import InteractionRun, interaction_task
from handlers.slack.payloads import ViewSubmission
from workflows.answer_ratings import rate_answer


@interaction_task("answer_comment")
def store_comment(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    ref, comment = str(payload["ref"]), str(payload["comment"])
    run.step("rated", lambda: rate_answer(run.slack.dialogue.answer_log, C.PLATFORM, ref, False, comment))


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.ANSWER_COMMENT_CALLBACK)
    def submit_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        comment = blocks.read_modal_values(submission.state_values).get(C.ANSWER_COMMENT_BLOCK, "").strip()
        if not comment:
            ack(response_action="errors", errors={C.ANSWER_COMMENT_BLOCK: "Please say what was missing or wrong."})
            return
        ref = str(json.loads(submission.private_metadata or "{}").get("answer", ""))
        # Stored before the acknowledgement, without who wrote it: the comment is kept with the rating only.
        slack.queue_interaction(
            "answer_comment",
            {"ref": ref, "comment": comment},
            key=submission.key,
            team_id=submission.team_id,
            where=submission.user_id,
        )
        ack()
