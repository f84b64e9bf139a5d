"""Typed text to a command: ``"status #12"`` -> ``Command("status", "#12")``.

Slack's slash command and Teams' typed messages both use :func:`parse_command`;
:class:`workflows.commands.CommandRunner` answers the result.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["COMMAND_NAMES", "Command", "parse_command"]

# Every command's name, with the words officers also type for it.
_ALIASES = {
    "ask": "ask",
    "question": "ask",
    "q": "ask",
    "new": "new",
    "start": "new",
    "create": "new",
    "list": "list",
    "mine": "list",
    "reviews": "list",
    "my": "list",
    "status": "status",
    "show": "status",
    "advance": "advance",
    "done": "advance",
    "complete": "advance",
    "feedback": "feedback",
    "roles": "roles",
    "whois": "whois",
    "who": "whois",
    "insights": "insights",
    "help": "help",
    "?": "help",
}
COMMAND_NAMES = ("ask", "new", "list", "status", "advance", "feedback", "roles", "whois", "insights", "help")

_FILLER = re.compile(r"^(?:review|reviews)$", re.IGNORECASE)
_WHO_IS = re.compile(r"^(?:is\s+(?:the\s+|a\s+|an\s+)?)", re.IGNORECASE)


@dataclass(frozen=True)
class Command:
    """A parsed command: its canonical name and the rest of the text.

    ``unknown`` holds the word an officer typed when it is not a command; ``name`` is then "help".
    """

    name: str
    argument: str = ""
    unknown: str | None = None


def parse_command(text: str) -> Command:
    """``"status #12"`` -> Command("status", "#12"); anything not a command -> Command("help", unknown=word)."""
    text = " ".join((text or "").split())
    if not text:
        return Command("help")
    word, _, rest = text.partition(" ")
    name = _ALIASES.get(word.casefold().rstrip(":"))
    if name is None:
        return Command("help", unknown=word)
    rest = rest.strip()
    if name == "list" and _FILLER.match(rest):  # "my reviews", "list reviews"
        rest = ""
    if name == "new" and _FILLER.match(rest):  # "new review"
        rest = ""
    if name == "whois":
        rest = _WHO_IS.sub("", rest).rstrip("?").strip()
    return Command(name, rest)
