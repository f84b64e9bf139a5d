"""What the engine remembers about a conversation besides the answers themselves.

It is saved with the answers, under :data:`STATE_KEY` in the stored ``answers``, so a conversation
resumes exactly where it was after a restart (and conversations saved by earlier versions still load).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from workflows.conversation.steps import Option

__all__ = ["STATE_KEY", "EngineState", "PendingAnswer"]

STATE_KEY = "__engine__"


@dataclass(frozen=True)
class PendingAnswer:
    """An answer that is allowed but worth a second look (a duplicate title), waiting for "yes" or "no"."""

    step: str
    value: Any  # as the step dumps it (JSON)


@dataclass(frozen=True)
class EngineState:
    # At the summary the officer said "change": the next message names which answer.
    choosing_edit: bool = False
    # Changing one answer from the summary: afterwards only later answers that no longer hold are asked again.
    editing: bool = False
    pending: PendingAnswer | None = None
    # The candidates offered after an ambiguous answer (two people called Sam), picked by their number.
    options: tuple[Option, ...] = field(default_factory=tuple)

    @classmethod
    def from_answers(cls, answers: Mapping[str, Any]) -> EngineState:
        data = answers.get(STATE_KEY)
        if not isinstance(data, Mapping):
            return cls()
        pending = data.get("pending")
        return cls(
            choosing_edit=bool(data.get("choosing_edit")),
            editing=bool(data.get("editing")),
            pending=PendingAnswer(str(pending["step"]), pending.get("value")) if isinstance(pending, Mapping) else None,
            options=tuple(Option(str(o["value"]), str(o["label"])) for o in data.get("options") or ()),
        )

    def to_json(self) -> dict[str, Any]:
        """Only what is set, so a conversation with nothing to remember stores nothing."""
        data: dict[str, Any] = {}
        if self.choosing_edit:
            data["choosing_edit"] = True
        if self.editing:
            data["editing"] = True
        if self.pending is not None:
            data["pending"] = {"step": self.pending.step, "value": self.pending.value}
        if self.options:
            data["options"] = [{"value": o.value, "label": o.label} for o in self.options]
        return data


def answers_only(answers: Mapping[str, Any]) -> dict[str, Any]:
    """The stored answers without the engine's own state."""
    return {key: value for key, value in answers.items() if key != STATE_KEY}


def with_state(answers: Mapping[str, Any], state: EngineState) -> dict[str, Any]:
    """The stored answers with ``state`` kept beside them."""
    stored = answers_only(answers)
    if state.to_json():
        stored[STATE_KEY] = state.to_json()
    return stored
