"""The words that steer a conversation instead of answering its question: one table, read by the engine and by
``help``.

Each works at every question, except ``skip`` (optional questions only) and ``change`` (at the summary,
where it picks an answer to change).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from workflows.conversation.steps import Step

__all__ = ["COMMANDS", "ConversationCommand", "command_for", "help_text"]


@dataclass(frozen=True)
class ConversationCommand:
    name: str
    meaning: str  # as help lists it: "back (go back to the previous question)"
    also: tuple[str, ...] = ()  # other words officers type for it
    at_summary_only: bool = False  # anywhere else the word is an ordinary answer


TABLE: tuple[ConversationCommand, ...] = (
    ConversationCommand("help", "explain the current question", ("?",)),
    ConversationCommand("back", "go back to the previous question", ("go back", "previous")),
    ConversationCommand("skip", "leave out an optional question"),
    ConversationCommand("cancel", "stop without saving anything", ("stop", "quit", "abandon")),
    ConversationCommand("restart", "start again from the first question", ("start again", "start over")),
    ConversationCommand("change", "change one of the answers", at_summary_only=True),
)
# Every command's meaning by name, in the order help lists them.
COMMANDS: dict[str, str] = {command.name: command.meaning for command in TABLE}

_BY_WORD = {word: command for command in TABLE for word in (command.name, *command.also)}


def command_for(text: str, *, at_summary: bool) -> ConversationCommand | None:
    """The command ``text`` is, or None when it is an answer."""
    word = re.sub(r"\s+", " ", text).strip().casefold().rstrip(".!")
    command = _BY_WORD.get(word)
    if command is None or (command.at_summary_only and not at_summary):
        return None
    return command


def help_text(step: Step, *, at_summary: bool) -> str:
    """What ``help`` says at ``step``: its own help, then the commands that work there."""
    usable = [
        f"{command.name} ({command.meaning})"
        for command in TABLE
        if (command.name != "skip" or not step.required) and (not command.at_summary_only or at_summary)
    ]
    return "\n".join(
        [step.help or "Please answer the question below.", "You can also type: " + ", ".join(usable) + "."]
    )
