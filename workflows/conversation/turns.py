"""What the engine answers with: a :class:`Turn` (messages, and the :class:`Prompt` now waiting), in a shape any
platform can render."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from workflows.conversation.steps import Option

__all__ = ["Prompt", "Turn", "TurnStatus"]


class TurnStatus(StrEnum):
    ASKING = "asking"  # a question is waiting for an answer
    COMPLETED = "completed"  # the flow finished and did its work
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # the conversation had been idle too long and was set aside


@dataclass(frozen=True)
class Prompt:
    """The question now waiting for an answer, in a shape any platform can render."""

    flow: str
    step_id: str
    kind: str
    question: str
    help: str
    required: bool
    options: list[Option]
    suggestion: str | None  # shown as "reply ok to use …"
    number: int
    total: int
    detail: str = ""  # the summary, for the confirmation step

    @property
    def text(self) -> str:
        lines = []
        if self.detail:
            lines.append(self.detail)
        head = f"({self.number}/{self.total}) " if self.kind not in {"confirm", "pick"} else ""
        lines.append(head + self.question)
        if self.options and self.kind not in {"yes_no", "confirm"}:
            lines.append("\n".join(f"  {i}. {o.label}" for i, o in enumerate(self.options, 1)))
        if self.suggestion:
            lines.append(f"Suggested: {self.suggestion} — reply ok to use it.")
        if not self.required and self.kind not in {"confirm", "pick"}:
            lines.append("(Optional: reply skip to leave it out.)")
        return "\n".join(lines)


@dataclass
class Turn:
    status: TurnStatus
    messages: list[str] = field(default_factory=list)
    prompt: Prompt | None = None
    result: Any = None
    flow: str = ""

    @property
    def text(self) -> str:
        parts = list(self.messages)
        if self.prompt is not None:
            parts.append(self.prompt.text)
        return "\n\n".join(parts)
