"""Every string the Teams adapter and its cards agree on, in one place."""

from __future__ import annotations

PLATFORM = "teams"
CHANNEL_ID = "msteams"

# Adaptive Cards: Teams renders up to 1.5 in chats and channels.
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"

# Invoke names Teams sends, answered in the HTTP response.
INVOKE_CARD_ACTION = "adaptiveCard/action"
INVOKE_TASK_FETCH = "task/fetch"
INVOKE_TASK_SUBMIT = "task/submit"
# Thumbs up / down (and a comment) from the feedback loop on an AI message (handlers/teams/ai_messages.py).
INVOKE_SUBMIT_ACTION = "message/submitAction"
INVOKE_RESPONSE_TYPE = "invokeResponse"

# Verbs of Action.Execute (and the "verb" key of Action.Submit data, for clients without Universal Actions).
VERB_PRESS = "press"  # a core button: data carries action_id and value
VERB_REVIEW_FORM_SUBMIT = "review_form_submit"
VERB_OPEN_REVIEW_FORM = "open_review_form"  # also the task/fetch that opens the form as a dialog

# Keys inside card data. Input ids are the form field ids themselves.
DATA_VERB = "verb"
DATA_ACTION_ID = "action_id"
DATA_VALUE = "value"
DATA_CONFIRMED = "confirmed"  # warnings already shown once, accepted by submitting again
DATA_FLOW = "flow"

# Adaptive Card invoke response types.
CARD_RESPONSE_TYPE = "application/vnd.microsoft.card.adaptive"
MESSAGE_RESPONSE_TYPE = "application/vnd.microsoft.activity.message"

# Connector pacing: Teams allows about 7 messages per second per conversation.
MESSAGES_PER_SECOND_PER_CONVERSATION = 7.0

# The channel's clock and ours may differ a little; Bot Framework's own SDKs allow five minutes.
CLOCK_SKEW_SECONDS = 300
VERB_ADVANCE_WITH_REASON = "advance_with_reason"  # the reason card for finishing a stage with items open
REASON_INPUT_ID = "reason"
VERB_REASSIGN_STAGE = "reassign_stage"  # the box for naming a stage's new owner, from a nudge's Reassign
NEW_OWNER_INPUT_ID = "new_owner"
VERB_FEEDBACK_REQUEST = "feedback_request_submit"  # the card asking stakeholders for feedback
VERB_FEEDBACK_RESPONSE = "feedback_response_submit"  # a stakeholder's answer card
DATA_ROUND = "round"  # the answer card's feedback round
DATA_TOKEN = "token"  # the secret that lets an anonymous answer be changed, only ever in the person's own card
