"""The knowledge layer's public data types. Nothing here knows about chat platforms."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class PassageKind(StrEnum):
    PARAGRAPH = "paragraph"
    LIST = "list"
    TABLE_ROW = "table_row"
    DEFINITION = "definition"


@dataclass(frozen=True)
class Chunk:
    """One retrievable passage of a guidance document."""

    chunk_id: str
    text: str
    source: str  # the file's display name, e.g. "housing-guidance.pdf"
    source_key: str  # stable identity of the file in the index (its resolved path)
    section: tuple[str, ...]  # heading path, outermost first
    position: int  # order of the chunk within its file
    kind: PassageKind = PassageKind.PARAGRAPH
    meta: dict[str, Any] = field(default_factory=dict)
    link: str | None = None  # where an officer opens the source (a web page, a SharePoint file)

    @property
    def section_label(self) -> str:
        return " > ".join(self.section)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kind"] = self.kind.value
        data["section"] = list(self.section)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Chunk:
        return cls(
            chunk_id=data["chunk_id"],
            text=data["text"],
            source=data["source"],
            source_key=data["source_key"],
            section=tuple(data.get("section") or ()),
            position=int(data["position"]),
            kind=PassageKind(data.get("kind", "paragraph")),
            meta=dict(data.get("meta") or {}),
            link=data.get("link"),
        )


@dataclass(frozen=True)
class Citation:
    source: str
    section: str
    text: str
    score: float
    link: str | None = None  # the page or file to open, when the guidance came from the web or SharePoint

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "source": self.source,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
        }
        if self.link:
            data["link"] = self.link
        return data


class AnswerKind(StrEnum):
    ANSWERED = "answered"  # the guidance answers the question
    UNSURE = "unsure"  # a likely answer, flagged as uncertain
    NOT_FOUND = "not_found"  # the guidance does not cover it; suggestions offered
    INVALID = "invalid"  # the question itself could not be used (empty, too long)


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    citations: list[Citation]
    confidence: float
    kind: AnswerKind = AnswerKind.ANSWERED
    suggestions: list[str] = field(default_factory=list)
    written_by: str = "extractive"  # or the LLM model name

    def to_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [c.to_json() for c in self.citations],
            "confidence": round(self.confidence, 3),
            "kind": self.kind.value,
            "suggestions": list(self.suggestions),
        }


@dataclass(frozen=True)
class Role:
    """A role from the guidance and what it is responsible for."""

    name: str
    responsibilities: list[str]
    source: str
    section: str
    chunk_id: str
    aliases: list[str] = field(default_factory=list)  # other names the guidance gives it

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
