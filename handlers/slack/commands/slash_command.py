"""``/commissioning <sub-command>``: ``new`` and ``feedback`` open a modal at once (the trigger id lasts three
seconds); the rest are stored in the durable work queue before the ack (``handlers/slack/command_work.py``).

The rules for each sub-command live in ``workflows/commands.py`` (shared with Teams).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from handlers.slack.context import SlackContext, command_key
from handlers.slack.feedback import handle_command as handle_feedback_command
from handlers.slack.wizard import open_review_wizard
from workflows.command_parsing import parse_command
from workflows.replies import Reply, ReplyKind


def register(app: App, slack: SlackContext) -> None:
    @app.command(slack.command)
    def handle_slash_command(ack: Ack, command: dict[str, Any], respond: Callable[..., Any]) -> None:
        parsed = parse_command(command.get("text", ""))
        team_id, user_id = command.get("team_id", ""), command["user_id"]
        opens_modal = parsed.unknown is None and parsed.name in {"new", "feedback"}
        if not opens_modal and command.get("response_url") and command.get("trigger_id"):
            # Stored before the acknowledgement (even in Socket Mode, where ack() answers at once): a crash
            # after Slack hears "got it" no longer loses the answer, and a repeated request adds nothing.
            slack.queue_command(command)
            ack()
            return
        ack()
        if parsed.name == "new" and parsed.unknown is None:
            if not open_review_wizard(slack, command["trigger_id"], team_id, user_id, command.get("channel_id")):
                slack.later(
                    "wizard_fallback",
                    lambda: slack.respond(
                        respond,
                        [
                            Reply(
                                "Sorry, Slack didn't let me open the form in time. Please run the command again.",
                                ReplyKind.PROBLEM,
                            )
                        ],
                    ),
                )
            return
        if parsed.name == "feedback" and parsed.unknown is None:
            # The request form is a modal (opened at once, like the wizard); the summary uploads a chart.
            handle_feedback_command(slack, command, parsed, respond)
            return

        def run() -> None:
            user = slack.user(user_id, command_key(team_id, user_id))
            slack.respond(respond, slack.commands.run_command(user, parsed))

        slack.later(f"command_{parsed.name}", run, tell_officer=lambda replies: slack.respond(respond, replies))
