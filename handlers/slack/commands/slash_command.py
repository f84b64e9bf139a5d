"""``/commissioning <sub-command>``: acknowledged at once; ``new`` opens the wizard, the rest run after the ack.

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
