"""The optional comment after rating an answer "not helpful": stored with the rating, without identity."""

from __future__ import annotations

import json
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext
from handlers.slack.payloads import ViewSubmission
from workflows.answer_ratings import rate_answer


def register(app: App, slack: SlackContext) -> None:
    @app.view(C.ANSWER_COMMENT_CALLBACK)
    def submit_comment(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        comment = blocks.read_modal_values(submission.state_values).get(C.ANSWER_COMMENT_BLOCK, "").strip()
        if not comment:
            ack(response_action="errors", errors={C.ANSWER_COMMENT_BLOCK: "Please say what was missing or wrong."})
            return
        ack()
        ref = str(json.loads(submission.private_metadata or "{}").get("answer", ""))

        def store() -> None:
            rate_answer(slack.dialogue.answer_log, C.PLATFORM, ref, False, comment)

        slack.later("answer_comment", store)
