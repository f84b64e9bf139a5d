"""Slash command listeners."""

from handlers.slack.commands import slash_command


def register(app, slack) -> None:  # type: ignore[no-untyped-def]
    slash_command.register(app, slack)
