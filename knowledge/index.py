"""The hybrid index: Chroma for meaning, BM25 for words, both over the catalog's passages."""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bm25s
import numpy as np
import structlog

from knowledge.catalog import Catalog, SourceRecord
from knowledge.chunker import SECTION_NUMBER, chunk_document
from knowledge.ingest import SUPPORTED_SUFFIXES, Skipped, SourceFile, discover, read_document
from knowledge.limits import ReadLimits, SkipFile
from knowledge.models import Chunk
from knowledge.reading import DocumentReader
from knowledge.tokens import terms

log = structlog.get_logger(__name__)
# bm25s sets its own logger to DEBUG when imported, which would print a line for every re-index.
logging.getLogger("bm25s").setLevel(logging.WARNING)

EMBED_BATCH = 32


# Part of the vector collection's identity: changing what is embedded starts the collection again.
SEARCH_TEXT_VERSION = 3


def search_text(chunk: Chunk) -> str:
    """What keyword search sees: the document's title and whole heading path give a passage its topic."""
    context = list(chunk.section)
    title = str(chunk.meta.get("title") or "")
    if title and title not in context:
        context.insert(0, title)
    return f"{' > '.join(context)}\n{chunk.text}" if context else chunk.text


def meaning_text(chunk: Chunk) -> str:
    """What meaning search embeds: the title and the passage's own heading only.

    A long heading path would make every clause of a section embed alike; the
    nearest heading keeps the topic while the passage's own words tell clauses apart.
    """
    title = str(chunk.meta.get("title") or "")
    heading = SECTION_NUMBER.sub("", chunk.section[-1]) if chunk.section else ""
    context = " > ".join(part for part in dict.fromkeys((title, heading)) if part)
    return f"{context}\n{chunk.text}" if context else chunk.text


class LexicalIndex:
    """BM25 over stemmed content words, rebuilt in memory from the catalog (milliseconds per thousand passages)."""

    def __init__(self, chunks: Sequence[Chunk], sequences: Sequence[list[str]] | None = None) -> None:
        self.chunks = list(chunks)
        self._model: bm25s.BM25 | None = None
        if sequences is None:
            sequences = [terms(search_text(c)) for c in self.chunks]
        corpus = [sequence or ["_"] for sequence in sequences]
        if corpus:
            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index(corpus, show_progress=False)
            self._model = model
            self._vocab = model.vocab_dict

    def search(self, query_terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        if self._model is None:
            return []
        known = [t for t in query_terms if t in self._vocab]
        if not known:
            return []
        scores = self._model.get_scores(known)
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


class VectorStore:
    """One vector per passage: stored in a Chroma collection, searched in memory.

    Chroma (on disk, or a server several replicas share) is where the vectors
    live. Each process searches its own copy of them as one matrix: an exact
    cosine search, about 37 MB and a few milliseconds a question at 25,000
    passages. The copy is saved beside the catalog, so a process that starts
    on an unchanged index never needs to open Chroma (or import it: that alone
    takes about a second).
    """

    def __init__(
        self,
        open_client: Callable[[], Any],
        collection_name: str,
        embed: Callable[[list[str]], Any],
        identity: str,
        copy_path: Path,
    ) -> None:
        self._open_client = open_client
        self._collection_name = collection_name
        self._embed = embed
        self.identity = f"{identity}#text-v{SEARCH_TEXT_VERSION}"
        self._copy_path = copy_path
        self._collection: Any = None
        self._ids: list[str] = []
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    # ----------------------------------------------------------- Chroma
    def _chroma(self) -> Any:
        if self._collection is None:
            client = self._open_client()

            def open_collection() -> Any:
                return client.get_or_create_collection(
                    self._collection_name,
                    embedding_function=None,
                    metadata={"hnsw:space": "cosine", "embedding_model": self.identity},
                )

            collection = open_collection()
            if (collection.metadata or {}).get("embedding_model") != self.identity:
                # Vectors from another model, or of other text, are not comparable: start again.
                client.delete_collection(self._collection_name)
                collection = open_collection()
            self._collection = collection
        return self._collection

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._embed(texts), dtype=np.float32)

    def ids(self) -> set[str]:
        return set(self._chroma().get(include=[])["ids"])

    # ------------------------------------------------------ in memory
    def prepare(self, chunks: Sequence[Chunk], progress: Callable[[int], None] | None = None) -> int:
        """Make the in-memory vectors those of exactly these passages; returns how many had to be embedded."""
        wanted = [c.chunk_id for c in chunks]
        if not self._ids:
            self._load_copy()
        if set(self._ids) == set(wanted):
            self._order(wanted)
            return 0
        return self.sync(chunks, progress)

    def sync(self, chunks: Sequence[Chunk], progress: Callable[[int], None] | None = None) -> int:
        """Add vectors for passages that lack one, drop vectors of passages that are gone, refresh the copy."""
        collection = self._chroma()
        wanted = {c.chunk_id: c for c in chunks}
        present = self.ids()
        stale = sorted(present - wanted.keys())
        for start in range(0, len(stale), 500):
            collection.delete(ids=stale[start : start + 500])
        known = dict(zip(self._ids, self._matrix, strict=False)) if len(self._matrix) else {}
        missing = [wanted[i] for i in wanted.keys() - present]
        missing.sort(key=lambda c: len(c.text))  # similar lengths batch with little padding
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            vectors = self.embed([meaning_text(c) for c in batch])
            collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=vectors,
                metadatas=[{"source_key": c.source_key, "position": c.position} for c in batch],
            )
            known.update(zip((c.chunk_id for c in batch), vectors, strict=False))
            if progress:
                progress(len(batch))
        unknown = [i for i in wanted if i not in known]
        for start in range(0, len(unknown), 1000):
            found = collection.get(ids=unknown[start : start + 1000], include=["embeddings"])
            known.update(zip(found["ids"], np.asarray(found["embeddings"], dtype=np.float32), strict=False))
        order = [i for i in wanted if i in known]
        self._ids = order
        self._matrix = (
            np.vstack([known[i] for i in order]).astype(np.float32) if order else np.zeros((0, 0), np.float32)
        )
        self._save_copy()
        return len(missing)

    def _order(self, wanted: list[str]) -> None:
        if self._ids != wanted:
            position = {i: n for n, i in enumerate(self._ids)}
            self._matrix = self._matrix[[position[i] for i in wanted]] if wanted else self._matrix
            self._ids = list(wanted)

    def _load_copy(self) -> None:
        try:
            with np.load(self._copy_path, allow_pickle=False) as saved:
                if str(saved["identity"]) != self.identity:
                    return
                self._ids = [str(i) for i in saved["ids"]]
                self._matrix = saved["vectors"].astype(np.float32)
        except (OSError, KeyError, ValueError):
            self._ids, self._matrix = [], np.zeros((0, 0), dtype=np.float32)

    def _save_copy(self) -> None:
        self._copy_path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".vectors-", suffix=".npz", dir=self._copy_path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                np.savez(handle, identity=np.array(self.identity), ids=np.array(self._ids), vectors=self._matrix)
            os.replace(tmp, self._copy_path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def search(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if not len(self._ids):
            return []
        scores = self._matrix @ np.asarray(vector, dtype=np.float32)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self._ids[i], float(scores[i])) for i in top]


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        return not self.skipped

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "skipped": [{"file": s.display, "reason": s.reason} for s in self.skipped],
            "passages": self.passages,
            "seconds": round(self.seconds, 3),
        }


class Indexer:
    """Brings the catalog (and so both indexes) in line with files on disk, incrementally."""

    def __init__(self, catalog: Catalog, limits: ReadLimits | int) -> None:
        self.catalog = catalog
        self.limits = ReadLimits(max_bytes=limits) if isinstance(limits, int) else limits
        self._lock = threading.Lock()
        self._reader: DocumentReader | None = None

    def update(
        self,
        paths: Iterable[Path],
        *,
        starter: bool = False,
        progress: Callable[[str], None] | None = None,
        on_files: Callable[[int], None] | None = None,
    ) -> IndexReport:
        report = IndexReport()
        paths = [Path(p) for p in paths]
        with self._lock:
            files, skipped = discover(paths)
            report.skipped.extend(skipped)
            if on_files:
                on_files(len(files))
            seen: set[str] = set()
            with DocumentReader(self.limits) as reader:
                self._reader = reader
                for source in files:
                    seen.add(source.key)
                    self._update_one(source, starter, report)
                    if progress:
                        progress(source.display)
                self._reader = None
            self._remove_deleted(paths, seen, report)
            if report.added or report.updated or report.removed:
                self.catalog.save()
        return report

    def _update_one(self, source: SourceFile, starter: bool, report: IndexReport) -> None:
        record = self.catalog.sources.get(source.key)
        try:
            stat = source.path.stat()
            if record and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns:
                report.unchanged.append(source.display)
                return
            fingerprint = source.fingerprint()
            if record and record.sha256 == fingerprint:
                record.mtime_ns = stat.st_mtime_ns  # touched, not changed
                report.unchanged.append(source.display)
                return
            kind = SUPPORTED_SUFFIXES[source.path.suffix.lower()]
            doc = self._reader.read(source.path, kind) if self._reader else read_document(source, self.limits)
        except SkipFile as exc:
            # Whatever was indexed from this file before stays searchable.
            report.skipped.append(Skipped(source.display, str(exc)))
            return
        except OSError as exc:
            report.skipped.append(Skipped(source.display, f"it could not be read ({exc.strerror or exc})"))
            return
        except Exception as exc:  # a reader bug must not lose the rest of the run
            log.error("index_file_failed", file=source.display, error=repr(exc))
            report.skipped.append(Skipped(source.display, "it could not be read (an unexpected problem; see the log)"))
            return
        chunks = chunk_document(doc, source.display, source.key)
        self.catalog.sources[source.key] = SourceRecord(
            key=source.key,
            display=source.display,
            root=source.root,
            sha256=fingerprint,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            indexed_at=datetime.now(UTC).isoformat(timespec="seconds"),
            starter=starter,
            chunks=chunks,
        )
        (report.updated if record else report.added).append(source.display)
        report.passages += len(chunks)

    def _remove_deleted(self, paths: list[Path], seen: set[str], report: IndexReport) -> None:
        """Files indexed earlier from a folder being indexed again, which are no longer there."""
        roots = {str(p.expanduser().resolve()) for p in paths if p.expanduser().exists()}
        for key, record in list(self.catalog.sources.items()):
            if key in seen or record.root not in roots:
                continue
            if not Path(key).exists():
                del self.catalog.sources[key]
                report.removed.append(record.display)

    def remove(self, predicate: Callable[[SourceRecord], bool]) -> list[str]:
        with self._lock:
            gone = [key for key, record in self.catalog.sources.items() if predicate(record)]
            names = [self.catalog.sources.pop(key).display for key in gone]
            if names:
                self.catalog.save()
            return names
