"""The optional comment after rating an answer "not helpful": stored with the rating, without identity.

Stored before the acknowledgement, in the listener: it is one update of the answer's row (a later comment
replaces an earlier one, so a repeated submission changes nothing), as quick as storing it as work would
be, and no work row ever holds the comment beside the officer who wrote it.
"""

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
        ref = str(json.loads(submission.private_metadata or "{}").get("answer", ""))
        rate_answer(slack.dialogue.answer_log, C.PLATFORM, ref, False, comment)
        ack()
