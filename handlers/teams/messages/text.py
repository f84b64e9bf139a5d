"""Typed text: a command from the app's menu (``status 12``, ``my reviews``), an answer in the review
conversation, or a question for the guidance.

Teams has no slash commands: only a message starting with a command's own name counts, so a question such as
"who approves sourcing?" is never read as the ``whois`` alias. While the review conversation waits for an answer,
text is always that answer. Commands go to :class:`workflows.commands.CommandRunner`, everything else to
:class:`workflows.dialogue.Dialogue`.
"""

from __future__ import annotations

import html
import re

from microsoft_agents.activity import Activity

from handlers.teams.context import TeamsContext
from handlers.teams.outbox import Part
from handlers.teams.people import is_personal
from workflows.command_parsing import COMMAND_NAMES, Command, parse_command

__all__ = ["answer_text", "message_text", "teams_command"]

_OTHER_TAGS = re.compile(r"<(?!/?at>)[^>]+>", re.IGNORECASE)
# The command menu's entries, typed or picked, beyond the bare command names.
_MENU_PHRASES = {"new review": "new", "my reviews": "list"}


def message_text(activity: Activity) -> str:
    """The text without the bot's own @mention, HTML entities or formatting tags (other @mentions stay)."""
    text = activity.text or ""
    if activity.recipient is not None:
        text = activity.remove_recipient_mention() or ""
    text = _OTHER_TAGS.sub(" ", text)
    return " ".join(html.unescape(text).split())


def teams_command(text: str) -> Command | None:
    """A typed command, or None for anything else (a question, an answer in a conversation)."""
    lowered = " ".join(text.split()).casefold().rstrip(".!")
    if lowered in _MENU_PHRASES:
        return Command(_MENU_PHRASES[lowered])
    first = lowered.split(" ", 1)[0] if lowered else ""
    if first not in COMMAND_NAMES:
        return None
    command = parse_command(text)
    return command if command.unknown is None else None


def answer_text(teams: TeamsContext, activity: Activity) -> list[Part]:
    if not is_personal(activity) and not activity.is_recipient_mentioned():
        return []  # in a channel or group chat the bot speaks only when spoken to
    text = message_text(activity)
    user = teams.user(activity)
    question = text
    command = None if teams.in_conversation(user) else teams_command(text)
    if command is not None:
        replies = teams.commands.run_command(user, command)
        question = command.argument if command.name == "ask" else text
    else:
        replies = teams.services.dialogue.handle(user, text)
    return teams.reply_parts(activity, replies, question)
