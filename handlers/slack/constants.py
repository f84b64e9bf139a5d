"""Every action id, callback id and block id the Slack adapter uses, in one place.

Buttons the chat core offers (``workflows.replies.Actions``) and commands offer
(``workflows.commands.CommandActions``) keep their ids on Slack, with a
``:<n>`` suffix because Slack wants action ids unique within a block;
:func:`core_action_id` strips it again.
"""

from __future__ import annotations

import re

from workflows.actions import Actions, CommandActions, FeedbackActions

# --- buttons ------------------------------------------------------------------------

# Buttons whose press goes to Dialogue.press (the value is typed back, or is a question to ask).
CONVERSATION_ACTIONS = (Actions.ANSWER, Actions.ASK)
# "Helpful" / "Not helpful" under a guidance answer.
RATING_ACTIONS = (Actions.HELPFUL, Actions.NOT_HELPFUL)
# Slack's own feedback buttons (a context_actions block) under an answer in the assistant panel; the value is
# "<Actions.HELPFUL or NOT_HELPFUL>:<answer ref>".
ANSWER_FEEDBACK = "answer_feedback"
# "Tell us more" after "not helpful": opens a box for a comment; the value is the answer's ref.
ANSWER_COMMENT = "answer_comment"
# Buttons that open the review wizard (needs the trigger id at once).
OPEN_REVIEW_FORM = Actions.OPEN_REVIEW_FORM
# Buttons from command replies and the App Home.
REVIEW_STATUS = CommandActions.REVIEW_STATUS
REVIEW_ADVANCE = CommandActions.REVIEW_ADVANCE
REVIEW_ADVANCE_WITH_REASON = CommandActions.REVIEW_ADVANCE_WITH_REASON
# Feedback: open the answer form; open it again to change an answer (workflows/feedback.py).
FEEDBACK_GIVE = FeedbackActions.GIVE
FEEDBACK_CHANGE = FeedbackActions.CHANGE
FEEDBACK_SHOW_CHART = FeedbackActions.SHOW_CHART


def action_pattern(*action_ids: str) -> re.Pattern[str]:
    """Matches the action ids as rendered, with or without their ``:<n>`` suffix."""
    return re.compile(r"^(?:" + "|".join(re.escape(a) for a in action_ids) + r")(?::\d+)?$")


def core_action_id(slack_action_id: str) -> str:
    return slack_action_id.split(":", 1)[0]


# --- modals -------------------------------------------------------------------------

REVIEW_WIZARD_CALLBACK = "review_wizard"
ADVANCE_REASON_CALLBACK = "advance_reason"
FEEDBACK_REQUEST_CALLBACK = "feedback_request"
FEEDBACK_RESPONSE_CALLBACK = "feedback_response"
FEEDBACK_NOTICE_CALLBACK = "feedback_notice"
ANSWER_COMMENT_CALLBACK = "answer_comment"
ANSWER_COMMENT_BLOCK = "comment"

# Inside every input block of our modals the element has this action id; the block id is the field id.
INPUT_ACTION = "value"
# The "I've checked, create it anyway" box shown when the wizard has warnings to confirm.
CONFIRM_WARNINGS_BLOCK = "confirm_warnings"
CONFIRM_WARNINGS_VALUE = "confirmed"
ADVANCE_REASON_BLOCK = "reason"

# --- App Home -----------------------------------------------------------------------

HOME_NEW_REVIEW = Actions.OPEN_REVIEW_FORM

# --- conversation keys --------------------------------------------------------------

PLATFORM = "slack"
# Threads the app has answered in, kept in the processed-event table so follow-ups need no mention.
THREAD_PLATFORM = "slack-thread"
# Assistant panel threads whose title has been set (once, from the first question).
TITLED_PLATFORM = "slack-titled"
