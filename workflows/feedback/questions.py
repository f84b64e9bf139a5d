"""Question sets for stakeholder feedback: what a request asks, read from a TOML file.

The built-in sets are in ``workflows/question_sets.toml``; a council points
``FEEDBACK_QUESTION_SETS`` at its own file. A set is versioned: a round stores the
questions as asked, so a new version never rewords answers already given.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_QUESTION_SETS", "Question", "QuestionSet", "QuestionSets", "load_question_sets"]

DEFAULT_QUESTION_SETS = Path(__file__).resolve().parent.parent / "question_sets.toml"


@dataclass(frozen=True)
class Question:
    id: str
    kind: str  # "rating" or "text"
    text: str
    required: bool = True

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "text": self.text, "required": self.required}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Question:
        kind = str(data.get("kind", "rating"))
        return cls(
            id=str(data["id"]), kind=kind, text=str(data["text"]), required=bool(data.get("required", kind == "rating"))
        )


@dataclass(frozen=True)
class QuestionSet:
    id: str
    version: int
    title: str
    questions: tuple[Question, ...]
    description: str = ""

    @property
    def key(self) -> str:
        return f"{self.id}:{self.version}"


class QuestionSets:
    def __init__(self, sets: Iterable[QuestionSet]) -> None:
        self._sets = {(s.id, s.version): s for s in sets}
        if not self._sets:
            raise ValueError("no question sets configured")

    def latest(self) -> list[QuestionSet]:
        """The newest version of each set: what a new request offers (the first is the default)."""
        newest: dict[str, QuestionSet] = {}
        for found in self._sets.values():
            if found.id not in newest or found.version > newest[found.id].version:
                newest[found.id] = found
        return list(newest.values())

    @property
    def default(self) -> QuestionSet:
        return self.latest()[0]

    def get(self, key: str) -> QuestionSet | None:
        """By "id" (newest version) or "id:version"."""
        set_id, _, version = key.partition(":")
        if version:
            return self._sets.get((set_id, int(version))) if version.isdigit() else None
        return next((s for s in self.latest() if s.id == set_id), None)


def load_question_sets(path: Path | None = None) -> QuestionSets:
    """Read the question sets; a mistake in the file is reported with the file's name."""
    path = path or DEFAULT_QUESTION_SETS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        sets = []
        for raw in data.get("question_set", []):
            questions = tuple(Question.from_json(q) for q in raw.get("question", []))
            kinds = {q.kind for q in questions}
            if not questions or not kinds <= {"rating", "text"} or len({q.id for q in questions}) != len(questions):
                raise ValueError(
                    f"question set {raw.get('id')!r} needs questions with unique ids, each of kind 'rating' or 'text'"
                )
            sets.append(
                QuestionSet(
                    id=str(raw["id"]),
                    version=int(raw.get("version", 1)),
                    title=str(raw["title"]),
                    questions=questions,
                    description=str(raw.get("description", "")),
                )
            )
        return QuestionSets(sets)
    except (OSError, KeyError, ValueError, tomllib.TOMLDecodeError) as error:
        raise ValueError(f"{path}: {error}") from error
