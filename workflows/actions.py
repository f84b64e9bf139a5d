"""Every button the core puts on a reply, by action id, with what its value carries.

Adapters route a press by its action id (Slack listeners, Teams card handlers) and call the core
back with the value; see ``handlers/slack/constants.py`` and ``handlers/teams/actions/``.
"""

from __future__ import annotations

__all__ = [
    "Actions",
    "CommandActions",
    "FeedbackActions",
    "InsightsActions",
    "NudgeActions",
    "parse_stage_value",
    "stage_value",
]


class Actions:
    """Buttons the chat core produces (``workflows/dialogue.py``)."""

    # The button's value is sent back as if the officer had typed it (a choice, "yes", "back").
    ANSWER = "conversation_answer"
    # Feedback on a guidance answer; the value is the answer's ref in the answer log (storage/answer_log.py).
    HELPFUL = "answer_helpful"
    NOT_HELPFUL = "answer_not_helpful"
    # Ask a suggested question; the value is the question.
    ASK = "ask_question"
    # Open the review wizard as one form (a Slack modal, a Teams card).
    OPEN_REVIEW_FORM = "open_review_form"


class CommandActions:
    """Buttons that commands put on their replies (``workflows/commands.py``)."""

    # Show a review's status; the value is the review number.
    REVIEW_STATUS = "review_status"
    # Mark a stage done; the value is a :func:`stage_value`, so a stale button cannot finish the next stage.
    REVIEW_ADVANCE = "review_advance"
    # The stage still has checklist items open: the adapter asks for a reason (a modal, a card) and then calls
    # :meth:`workflows.commands.CommandRunner.advance` with it. Same value as REVIEW_ADVANCE.
    REVIEW_ADVANCE_WITH_REASON = "review_advance_with_reason"


class NudgeActions:
    """Buttons on a nudge (``workflows/nudge_actions.py``); every value is a :func:`stage_value`."""

    # "Mark <stage> done" and "Open review" are the command buttons, handled where those are.
    MARK_DONE = CommandActions.REVIEW_ADVANCE
    OPEN_REVIEW = CommandActions.REVIEW_STATUS
    SNOOZE = "nudge_snooze"
    REASSIGN = "nudge_reassign"
    # Every id an adapter must route to workflows/nudge_actions.py (the other two go to the command buttons).
    HANDLED_HERE = (SNOOZE, REASSIGN)


class FeedbackActions:
    """Buttons of stakeholder feedback (``workflows/feedback/``)."""

    # Open the answer form. "round:<id>" for a request; "review:<id>" for feedback nobody asked for.
    GIVE = "feedback_give"
    # Open the form again to change an answer: "<round id>:<secret>" (the secret proves an anonymous answer is theirs).
    CHANGE = "feedback_change"
    # Open the form that asks stakeholders (Teams: a card; Slack opens a modal straight from the command).
    OPEN_REQUEST_FORM = "feedback_request_form"
    # Show the summary as a chart; the value is the review number.
    SHOW_CHART = "feedback_chart"


class InsightsActions:
    """Buttons on the guidance insights (``workflows/guidance_insights.py``)."""

    # Show the insights as a chart; the value is the report's start date ("" for everything logged).
    SHOW_CHART = "insights_chart"


def stage_value(review_id: int, stage_name: str) -> str:
    """A button's value naming one stage of one review: ``"12:Plan"``."""
    return f"{review_id}:{stage_name}"


def parse_stage_value(value: str) -> tuple[int, str]:
    """``"12:Plan"`` -> (12, "Plan"); ``"12"`` -> (12, ""). Raises ValueError for a value that names no review."""
    number, _, stage = value.partition(":")
    return int(number), stage
