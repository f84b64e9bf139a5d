"""The knowledge base: index guidance, answer questions, list roles.

One object per process. Questions are answered from an immutable snapshot of
the index, so a re-index in the background never disturbs an answer in flight.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from knowledge.answer import ModelAnswerer, extractive_answer
from knowledge.catalog import Catalog
from knowledge.embeddings import EmbeddingUnavailable, describe_fallback, load_embedding_function
from knowledge.index import Indexer, IndexReport, LexicalIndex, VectorStore
from knowledge.lexicon import Lexicon, english_words, load_synonyms
from knowledge.limits import ReadLimits
from knowledge.models import Answer, AnswerKind, Role
from knowledge.retrieve import PassageIndex, Retriever
from knowledge.roles import RoleDirectory, build_role_directory
from knowledge.settings import KnowledgeSettings

log = structlog.get_logger(__name__)

STARTER_PACK_DIR = Path(__file__).resolve().parent / "starter_pack"


@dataclass(frozen=True)
class _Snapshot:
    retriever: Retriever
    roles: RoleDirectory
    passages: int


class KnowledgeBase:
    def __init__(self, settings: KnowledgeSettings, chat_model: Any | None = None) -> None:
        self.settings = settings
        self.catalog = Catalog(settings.knowledge_dir / "catalog.json")
        max_bytes = int(settings.max_file_mb * 1_048_576)
        self.indexer = Indexer(
            self.catalog,
            ReadLimits(
                max_bytes=max_bytes,
                max_unpacked_bytes=max(10 * max_bytes, 50 * 1_048_576),
                max_seconds=settings.max_read_seconds,
            ),
        )
        self._chat_model = chat_model
        self._answerer: ModelAnswerer | None = None
        self._llm_unavailable = False
        self._vectors: VectorStore | None = None
        self._vectors_loaded = False
        self._snapshot: _Snapshot | None = None
        self._lock = threading.RLock()
        self.dense_unavailable_reason: str | None = None

    # ------------------------------------------------------------------ set-up
    def ensure_ready(self) -> None:
        """Load the index (indexing the starter pack on first use) and the embedding model."""
        if self._snapshot is None:
            with self._lock:
                if self._snapshot is None:  # another thread may have loaded it while this one waited
                    self._load()

    def _load(self) -> None:
        if not self.catalog.sources and self.settings.starter_pack != "off":
            self.indexer.update([STARTER_PACK_DIR], starter=True)
            log.info("starter_pack_indexed", passages=len(self.catalog.chunks()))
        self._rebuild()

    def _vector_store(self) -> VectorStore | None:
        if self._vectors_loaded:
            return self._vectors
        self._vectors_loaded = True
        try:
            embed, identity = load_embedding_function(self.settings.embedding_model_dir)
            self._vectors = VectorStore(
                self._chroma_client,
                self.settings.chroma_collection,
                embed,
                identity,
                self.settings.knowledge_dir / "vectors.npz",
            )
        except EmbeddingUnavailable as exc:
            self.dense_unavailable_reason = str(exc)
            describe_fallback(str(exc))
            self._vectors = None
        return self._vectors

    def _chroma_client(self) -> Any:
        # lazy: Chroma takes about a second to import; a process opens it only when the index changes.
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        if self.settings.chroma_host:
            return chromadb.HttpClient(
                host=self.settings.chroma_host, port=self.settings.chroma_port, settings=chroma_settings
            )
        self.settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self.settings.chroma_dir), settings=chroma_settings)

    def _rebuild(self, progress: Callable[[int], None] | None = None) -> None:
        chunks = self.catalog.chunks()
        vectors = self._vector_store()
        if vectors is not None:
            added = vectors.prepare(chunks, progress)
            if added:
                log.info("vectors_added", passages=added)
        roles = build_role_directory(chunks)
        passages = PassageIndex(chunks)
        model_dir = self.settings.embedding_model_dir if vectors is not None else None
        lexicon = Lexicon.build(
            (c.text for c in chunks),
            load_synonyms(self.settings.synonyms_file),
            english_words(str(model_dir) if model_dir else None),
        )
        lexical = LexicalIndex(chunks, passages.sequences)
        self._snapshot = _Snapshot(
            retriever=Retriever(chunks, lexical, vectors, roles, lexicon, passages), roles=roles, passages=len(chunks)
        )

    @property
    def dense_enabled(self) -> bool:
        self.ensure_ready()
        return self._vectors is not None

    # ---------------------------------------------------------------- indexing
    def index(
        self,
        paths: Iterable[Path] = (),
        *,
        progress: Callable[[str], None] | None = None,
        on_files: Callable[[int], None] | None = None,
        on_vectors: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Index files and folders; with no paths, refresh everything indexed before."""
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        with self._lock:
            if not paths:
                roots = sorted({r.root for r in self.catalog.sources.values() if not r.starter})
                paths = [Path(r) for r in roots]
            report = self.indexer.update(paths, progress=progress, on_files=on_files) if paths else IndexReport()
            if self.settings.starter_pack == "auto" and self.catalog.has_council_sources():
                # The council's own guidance now answers questions; set the starter pack aside.
                report.removed.extend(self.indexer.remove(lambda r: r.starter))
            elif not self.catalog.sources and self.settings.starter_pack != "off":
                starter = self.indexer.update([STARTER_PACK_DIR], starter=True, progress=progress)
                report.added.extend(starter.added)
                report.unchanged.extend(starter.unchanged)
            changed = bool(report.added or report.updated or report.removed)
            if changed or self._snapshot is None:
                self._rebuild(on_vectors)
        report.seconds = time.perf_counter() - started
        log.info("index_finished", **report.to_json())
        return report

    # --------------------------------------------------------------- questions
    def ask(self, question: str, history: Sequence[str] = ()) -> Answer:
        cleaned = " ".join((question or "").split())
        if not cleaned:
            return Answer(
                question="",
                text="Ask me a question about commissioning, for example “Who makes strategic sourcing decisions?”",
                citations=[],
                confidence=0.0,
                kind=AnswerKind.INVALID,
            )
        limit = self.settings.max_question_chars
        if len(cleaned) > limit:
            return Answer(
                question=cleaned[:200] + "…",
                text=(
                    f"That question is {len(cleaned):,} characters long; I can take up to {limit:,}. "
                    "Please ask the key part in a sentence or two, for example "
                    "“What does a portfolio holder do in a review?”"
                ),
                citations=[],
                confidence=0.0,
                kind=AnswerKind.INVALID,
            )
        self.ensure_ready()
        snapshot = self._snapshot
        assert snapshot is not None
        analysis, hits = snapshot.retriever.search(cleaned, k=5, history=list(history))
        answer = extractive_answer(cleaned, analysis, hits, snapshot.retriever.similarity)
        answerer = self._model_answerer()
        if answerer is not None:
            answer = answerer.answer(cleaned, analysis, hits, answer)
        log.info(
            "question_answered",
            kind=answer.kind.value,
            confidence=answer.confidence,
            source=answer.citations[0].source if answer.citations else None,
            written_by=answer.written_by,
        )
        return answer

    def _model_answerer(self) -> ModelAnswerer | None:
        if self._answerer is not None:
            return self._answerer
        model = self._chat_model
        name = self.settings.llm_model or getattr(model, "model_name", None) or type(model).__name__
        if model is None and self.settings.llm_model and not self._llm_unavailable:
            try:
                # lazy: LangChain loads only when a chat model is configured.
                from langchain.chat_models import init_chat_model

                model = init_chat_model(self.settings.llm_model)
            except Exception as exc:  # a missing provider package or key: say so once, answer extractively
                log.warning("llm_unavailable", model=self.settings.llm_model, error=str(exc)[:200])
                # Remembered here, not by editing the shared settings, so the failure is said once.
                self._llm_unavailable = True
                return None
            self._chat_model = model
        if model is None:
            return None
        self._answerer = ModelAnswerer(model, str(name), self.settings.llm_timeout_seconds)
        return self._answerer

    # ------------------------------------------------------------------- roles
    def roles(self) -> list[Role]:
        self.ensure_ready()
        assert self._snapshot is not None
        return list(self._snapshot.roles.roles)

    def whois(self, query: str) -> list[Role]:
        self.ensure_ready()
        assert self._snapshot is not None
        snapshot = self._snapshot
        found = snapshot.roles.find(query)
        if not found and snapshot.retriever.lexicon is not None:
            # "s151 officer", "PH": the way the question is written may not be the way the guidance is.
            found = snapshot.roles.find(snapshot.retriever.lexicon.rewrite(query).text)
        return found

    def stats(self) -> dict[str, Any]:
        self.ensure_ready()
        assert self._snapshot is not None
        return {
            "sources": len(self.catalog.sources),
            "passages": self._snapshot.passages,
            "roles": len(self._snapshot.roles.roles),
            "dense": self._vectors is not None,
            "starter_pack": any(s.starter for s in self.catalog.sources.values()),
        }


def open_knowledge(settings: KnowledgeSettings, chat_model: Any | None = None) -> KnowledgeBase:
    return KnowledgeBase(settings, chat_model=chat_model)
