"""A nudge's Snooze and Reassign buttons, and the modal that picks the new owner.

"Mark <stage> done" and "Open review" on a nudge are the command buttons
(``review_advance``, ``review_status``) and are handled in ``review_buttons.py``.
The rules live in ``workflows/nudge_actions.py``.
"""

from __future__ import annotations

import json
from functools import cached_property
from typing import Any

from slack_bolt import Ack, App

from handlers.slack import blocks
from handlers.slack import constants as C
from handlers.slack.context import SlackContext, command_key
from handlers.slack.interaction_work import InteractionRun, interaction_task, send_later
from handlers.slack.payloads import ButtonPress, ViewSubmission, queue_press
from workflows.actions import NudgeActions, parse_stage_value
from workflows.nudge_actions import NudgeButtons
from workflows.replies import Reply

REASSIGN_CALLBACK = "nudge_reassign"
NEW_OWNER_BLOCK = "new_owner"


class _Buttons:
    def __init__(self, slack: SlackContext) -> None:
        self.slack = slack

    @cached_property
    def actions(self) -> NudgeButtons:
        return NudgeButtons(self.slack.services.reviews, self.slack.services.calendar)


def reassign_modal(review_id: int, stage_name: str, private_metadata: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REASSIGN_CALLBACK,
        "title": blocks.plain("Reassign a stage", blocks.MAX_MODAL_TITLE),
        "submit": blocks.plain("Reassign", blocks.MAX_MODAL_TITLE),
        "close": blocks.plain("Cancel", blocks.MAX_MODAL_TITLE),
        "private_metadata": blocks.fit_metadata(private_metadata),
        "blocks": [
            blocks.section(
                blocks.escape(
                    f"Who should take on {stage_name} of review #{review_id}? They will get its reminders from now on."
                )
            ),
            {
                "type": "input",
                "block_id": NEW_OWNER_BLOCK,
                "label": blocks.plain("New owner"),
                "element": {"type": "users_select", "action_id": C.INPUT_ACTION},
            },
        ],
    }


def _reply_to(press: ButtonPress) -> dict[str, Any]:
    """Where a nudge button's reply goes: the nudge's thread, or the officer's direct messages."""
    if press.in_channel_message:
        return {"channel": press.channel_id or "", "thread_ts": press.reply_thread}
    return {"user": press.user_id}


@interaction_task("nudge_snooze")
def snooze_nudge(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    """Snoozed once (the confirmation is kept with the work), then confirmed where the nudge was."""
    press = ButtonPress(**payload["press"])
    slack = run.slack

    def snoozed() -> list[Reply]:
        user = slack.user(press.user_id, press.conversation_key)
        return _Buttons(slack).actions.press(user, NudgeActions.SNOOZE, press.value)

    run.send(_reply_to(press), run.replies("replies", snoozed))


def register(app: App, slack: SlackContext) -> None:
    buttons = _Buttons(slack)

    @app.action(C.action_pattern(NudgeActions.SNOOZE))
    def snooze(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        queue_press(slack, "nudge_snooze", press)
        ack()

    @app.action(C.action_pattern(NudgeActions.REASSIGN))
    def reassign(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        press = ButtonPress.from_body(body, action)
        review_id, stage_name = parse_stage_value(press.value)
        user = slack.user(press.user_id, press.conversation_key)
        [reply] = buttons.actions.press(user, NudgeActions.REASSIGN, press.value)
        if reply.kind.value != "question":
            # Not the lead commissioner: say who can, rather than a form they cannot use.
            send_later(slack, press.key, press.team_id, _reply_to(press), [reply])
            ack()
            return
        ack()
        metadata = blocks.metadata(review=review_id, stage=stage_name, team=press.team_id)
        slack.open_view(press.trigger_id, reassign_modal(review_id, stage_name, metadata))

    @app.view(REASSIGN_CALLBACK)
    def submit_reassign(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        submission = ViewSubmission.from_body(body, view)
        if slack.already_queued(submission.key):
            ack()  # the same submission again: its stage was moved and its confirmation stored the first time
            return
        meta = json.loads(submission.private_metadata or "{}")
        chosen = blocks.read_modal_values(submission.state_values).get(NEW_OWNER_BLOCK, "")
        if not chosen:
            ack(response_action="errors", errors={NEW_OWNER_BLOCK: "Choose who should take the stage on."})
            return
        user = slack.user(submission.user_id, command_key(submission.team_id, submission.user_id))
        reply = buttons.actions.reassign(user, int(meta["review"]), str(meta["stage"]), f"<@{chosen}>")
        if reply.kind.value == "problem":
            ack(response_action="errors", errors={NEW_OWNER_BLOCK: blocks.shorten(reply.text, 150)})
            return
        send_later(slack, submission.key, submission.team_id, {"user": submission.user_id}, [reply])
        ack()
