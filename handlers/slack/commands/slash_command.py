"""``/commissioning <sub-command>``: ``new`` and ``feedback`` open a modal at once (the trigger id lasts three
seconds); the rest are stored in the durable work queue before the ack (``handlers/slack/command_work.py``).

The rules for each sub-command live in ``workflows/commands.py`` (shared with Teams).
"""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt import Ack, App

from handlers.slack.context import SlackContext, command_key
from handlers.slack.feedback import COULD_NOT_OPEN
from handlers.slack.feedback import handle_command as handle_feedback_command
from handlers.slack.interaction_work import InteractionRun, interaction_task, send_later
from handlers.slack.wizard import open_review_wizard
from workflows.command_parsing import parse_command
from workflows.replies import Reply, ReplyKind


def register(app: App, slack: SlackContext) -> None:
    @app.command(slack.command)
    def handle_slash_command(ack: Ack, command: dict[str, Any]) -> None:
        parsed = parse_command(command.get("text", ""))
        team_id, user_id = command.get("team_id", ""), command["user_id"]
        opens_modal = parsed.unknown is None and parsed.name in {"new", "feedback"}
        if not opens_modal:
            # Stored before the acknowledgement (even in Socket Mode, where ack() answers at once): a crash
            # after Slack hears "got it" no longer loses the answer, and a repeated request adds nothing.
            if command.get("response_url"):
                # Keyed on the trigger id, new for every invocation (or the response_url, just as new).
                slack.queue_command({**command, "trigger_id": command.get("trigger_id") or command["response_url"]})
            else:
                # No response_url to answer through (Slack always sends one; a hand-made request may not):
                # the answer goes to the officer's direct messages.
                key = f"command-reply:{command.get('trigger_id') or uuid.uuid4().hex}:{user_id}"
                payload = {"user": user_id, "team": team_id, "text": command.get("text", "")}
                slack.queue_interaction(
                    "command_by_dm", payload, key=key, team_id=team_id, where=user_id, apology={"user": user_id}
                )
            ack()
            return
        ack()
        if parsed.name == "new":
            if not open_review_wizard(slack, command["trigger_id"], team_id, user_id, command.get("channel_id")):
                to = {"response_url": command["response_url"]} if command.get("response_url") else {"user": user_id}
                key = f"command-reply:{command.get('trigger_id')}"
                send_later(slack, key, team_id, to, [Reply(COULD_NOT_OPEN, ReplyKind.PROBLEM)])
            return
        # The request form is a modal (opened at once, like the wizard); the summary uploads a chart.
        handle_feedback_command(slack, command, parsed)


@interaction_task("command_by_dm")
def answer_command_by_dm(run: InteractionRun[SlackContext], payload: dict[str, Any]) -> None:
    slack, team_id, user_id = run.slack, str(payload["team"]), str(payload["user"])

    def replies() -> list[Reply]:
        user = slack.user(user_id, command_key(team_id, user_id))
        return slack.commands.run_command(user, parse_command(str(payload["text"])))

    run.direct_message(user_id, run.replies("replies", replies))
