"""``message/submitAction``: the thumbs up or down (and optional comment) of Teams' feedback loop on an answer.

Teams names only the rated message (``replyToId``); the answer is found by the one-way key recorded when it was
sent (``TeamsContext.remember_answer_delivery``), and the rating stored without identity
(``workflows/answer_ratings.py``). Teams expects a plain 200 once the feedback is taken.
"""

from __future__ import annotations

import json
from typing import Any

import structlog
from microsoft_agents.activity import Activity

from handlers.teams.constants import PLATFORM
from handlers.teams.context import TeamsContext
from handlers.teams.invokes import FollowUp, InvokeResult
from storage.answer_log import delivery_key
from workflows.answer_ratings import rate_answer

log = structlog.get_logger(__name__)

FEEDBACK_ACTION = "feedback"


def read_feedback(value: Any) -> tuple[bool, str | None] | None:
    """(helpful, comment) from the invoke's value; None when it is not the feedback loop's."""
    if not isinstance(value, dict) or value.get("actionName") != FEEDBACK_ACTION:
        return None
    action: dict[str, Any] = value["actionValue"] if isinstance(value.get("actionValue"), dict) else {}
    reaction = action.get("reaction")
    if reaction not in ("like", "dislike"):
        return None
    comment = None
    raw = action.get("feedback")
    try:
        # Teams sends the comment box's content as JSON text: {"feedbackText": "..."}.
        parsed = json.loads(raw) if isinstance(raw, str) and raw else raw
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("feedbackText"), str):
        comment = parsed["feedbackText"].strip() or None
    return reaction == "like", comment


def answer_feedback_loop(teams: TeamsContext, activity: Activity) -> tuple[InvokeResult, FollowUp]:
    feedback = read_feedback(activity.value)
    if feedback is None:
        log.info("teams_submit_action_unsupported")
        return InvokeResult(400, None), []
    helpful, comment = feedback
    answer_log = teams.services.dialogue.answer_log
    conversation = activity.conversation.id if activity.conversation else ""
    ref = answer_log.ref_delivered_at(delivery_key(conversation, activity.reply_to_id or "")) if answer_log else None
    if ref is None:
        # An answer from before the log, or purged: still counted in the log events, and Teams is thanked.
        log.info("answer_rated", platform=PLATFORM, helpful=helpful, stored=False, comment=bool(comment))
    else:
        rate_answer(answer_log, PLATFORM, ref, helpful, comment)
    return InvokeResult(200, None), []
