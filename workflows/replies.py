"""What the assistant says back, before any platform's formatting.

The Slack adapter renders a :class:`Reply` as Block Kit, the Teams adapter as
an Adaptive Card, the terminal as plain text (:func:`render_text`). A reply
carries its text, the guidance passages it quotes, buttons (each with an
action id from :mod:`workflows.actions` and the value to send back), the question it
asks (so an adapter can show a date picker for a date question) and, for the
review wizard, a whole form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from knowledge.models import Answer, Citation
from workflows.actions import Actions
from workflows.conversation import FormField, Prompt

__all__ = ["INTERRUPTED", "Button", "FormSpec", "Reply", "ReplyKind", "render_text", "shorten"]

# What an officer is told when the process working on their message stopped before its reply was stored: the
# message may already have moved their conversation on, so it is not worked out a second time.
INTERRUPTED = (
    "Sorry, I was interrupted while working on your last message, so I may not have finished it. "
    "Please check where things stand and send it again if you need to."
)


class ReplyKind(StrEnum):
    ANSWER = "answer"  # a guidance answer, with citations
    QUESTION = "question"  # the conversation is waiting for an answer to ``prompt``
    DONE = "done"  # a flow finished (a review was created)
    INFO = "info"  # help, cancellations, notices
    PROBLEM = "problem"  # something went wrong that the officer should know about


@dataclass(frozen=True)
class Button:
    label: str
    value: str
    action_id: str = Actions.ANSWER
    style: str | None = None  # "primary" or "danger", for platforms that colour buttons


@dataclass(frozen=True)
class FormSpec:
    """A whole flow as one form. ``errors`` and ``warnings`` are per field id, shown next to the fields."""

    flow: str
    title: str
    submit_label: str
    fields: list[FormField]
    errors: dict[str, str] = field(default_factory=dict)
    warnings: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    text: str
    kind: ReplyKind = ReplyKind.INFO
    citations: list[Citation] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    prompt: Prompt | None = None
    form: FormSpec | None = None
    answer: Answer | None = None
    # The answer log's ref for a guidance answer (``storage/answer_log.py``): what a rating is stored against.
    answer_ref: str | None = None


def render_text(reply: Reply) -> str:
    """Plain text for the terminal: the reply, its sources, and its buttons as things to type."""
    lines = [reply.text]
    for number, citation in enumerate(reply.citations, 1):
        where = f"{citation.source}" + (f", {citation.section}" if citation.section else "")
        quote = " ".join(citation.text.split())
        if len(quote) > 300:
            quote = quote[:297].rstrip() + "…"
        lines.append(f"  [{number}] {where}: “{quote}”")
        if citation.link:
            lines.append(f"      {citation.link}")
    asks = [b for b in reply.buttons if b.action_id == Actions.ASK]
    if asks:
        lines.append("Related topics you could ask about:")
        lines.extend(f"  - {b.value}" for b in asks)
    return "\n".join(line for line in lines if line)


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, ending in "…" when it was longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
