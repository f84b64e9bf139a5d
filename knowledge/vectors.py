"""Meaning search: one vector per passage, stored in Chroma and searched in memory.

Chroma (on disk, or a server several replicas share) is where the vectors
live, keyed by passage id. Each process searches its own copy of them as one
matrix: an exact cosine search, about 37 MB and a few milliseconds a question
at 25,000 passages. The copy is saved in the process's data folder, so a
process that starts on an unchanged index never opens Chroma (or imports it:
that alone takes about a second), and one that finds the index changed fetches
only the vectors it lacks.

Indexing adds a passage's vector before the database lists the passage, and
removes it after the database has let the passage go; a search only ever
returns passages the database lists.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import structlog

from knowledge.models import Chunk
from knowledge.passages import SEARCH_TEXT_VERSION, meaning_text

log = structlog.get_logger(__name__)

EMBED_BATCH = 32
FETCH_BATCH = 1000


class VectorStore:
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
        self._copy_loaded = False

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

    def stored_ids(self) -> set[str]:
        return set(self._chroma().get(include=[])["ids"])

    def add(self, chunks: Sequence[Chunk], progress: Callable[[int], None] | None = None) -> int:
        """Store vectors for the passages Chroma does not have yet; returns how many were embedded."""
        if not chunks:
            return 0
        collection = self._chroma()
        have = set(collection.get(ids=[c.chunk_id for c in chunks], include=[])["ids"])
        missing = sorted((c for c in chunks if c.chunk_id not in have), key=lambda c: len(c.text))
        for start in range(0, len(missing), EMBED_BATCH):
            batch = missing[start : start + EMBED_BATCH]
            collection.upsert(
                ids=[c.chunk_id for c in batch],
                embeddings=self.embed([meaning_text(c) for c in batch]),
                metadatas=[{"source_key": c.source_key, "position": c.position} for c in batch],
            )
            if progress:
                progress(len(batch))
        return len(missing)

    def remove(self, ids: Iterable[str]) -> None:
        ids = sorted(set(ids))
        if not ids:
            return
        collection = self._chroma()
        for start in range(0, len(ids), 500):
            collection.delete(ids=ids[start : start + 500])

    def prune(self, keep: set[str]) -> int:
        """Remove vectors of passages the index no longer lists (left behind by a run that stopped part-way)."""
        stale = self.stored_ids() - keep
        self.remove(stale)
        return len(stale)

    # ------------------------------------------------------ in memory
    def follow(self, wanted: Sequence[str]) -> int:
        """Make the in-memory copy hold exactly these passages' vectors, fetching only those it lacks.

        Returns how many were fetched from Chroma.
        """
        if not self._copy_loaded:
            self._load_copy()
            self._copy_loaded = True
        if self._ids == list(wanted):
            return 0
        known = dict(zip(self._ids, self._matrix, strict=True)) if len(self._matrix) else {}
        lacking = [i for i in wanted if i not in known]
        if lacking:
            collection = self._chroma()
            for start in range(0, len(lacking), FETCH_BATCH):
                found = collection.get(ids=lacking[start : start + FETCH_BATCH], include=["embeddings"])
                known.update(zip(found["ids"], np.asarray(found["embeddings"], dtype=np.float32), strict=True))
        order = [i for i in wanted if i in known]
        if len(order) < len(wanted):
            log.warning("vectors_missing", passages=len(wanted) - len(order))
        self._ids = order
        self._matrix = (
            np.vstack([known[i] for i in order]).astype(np.float32) if order else np.zeros((0, 0), np.float32)
        )
        self._save_copy()
        return len(lacking)

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
