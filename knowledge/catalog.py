"""What has been indexed: one record per source file, with its fingerprint and passages.

The catalog is the index's source of truth for passages. The keyword index is
rebuilt from it in memory and the vector store is kept in step with it, so a
crash part-way through indexing never leaves passages that cannot be cited.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from knowledge.models import Chunk

CATALOG_VERSION = 3  # passages are re-read when the way documents are split changes


@dataclass
class SourceRecord:
    key: str
    display: str
    root: str
    sha256: str
    size: int
    mtime_ns: int
    indexed_at: str
    starter: bool = False
    chunks: list[Chunk] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "display": self.display,
            "root": self.root,
            "sha256": self.sha256,
            "size": self.size,
            "mtime_ns": self.mtime_ns,
            "indexed_at": self.indexed_at,
            "starter": self.starter,
            "chunks": [c.to_json() for c in self.chunks],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceRecord:
        return cls(
            key=data["key"],
            display=data["display"],
            root=data["root"],
            sha256=data["sha256"],
            size=int(data["size"]),
            mtime_ns=int(data["mtime_ns"]),
            indexed_at=data["indexed_at"],
            starter=bool(data.get("starter", False)),
            chunks=[Chunk.from_json(c) for c in data.get("chunks", [])],
        )


class Catalog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.sources: dict[str, SourceRecord] = {}
        self.load()

    def load(self) -> None:
        if not self.path.exists():
            self.sources = {}
            return
        data = json.loads(self.path.read_text(encoding="utf-8"))
        if data.get("version") != CATALOG_VERSION:
            # An older layout: start again; the next index run rebuilds everything.
            self.sources = {}
            return
        self.sources = {s["key"]: SourceRecord.from_json(s) for s in data.get("sources", [])}

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        payload = {"version": CATALOG_VERSION, "sources": [s.to_json() for s in self.sources.values()]}
        fd, tmp = tempfile.mkstemp(prefix=".catalog-", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(payload, handle, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def chunks(self) -> list[Chunk]:
        return [chunk for source in self.sources.values() for chunk in source.chunks]

    def has_council_sources(self) -> bool:
        return any(not s.starter for s in self.sources.values())
