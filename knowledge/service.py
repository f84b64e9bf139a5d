"""The knowledge base: index guidance, answer questions, list roles.

One object per process. The index itself (sources, passages, the version) is
in the database every process shares; vectors are in Chroma. Questions are
answered from an immutable snapshot of one index version. A process notices a
newer version (``refresh``, or every ``INDEX_POLL_SECONDS`` once
``follow_changes`` has started it) and builds the next snapshot from only the
sources that changed, then swaps it in whole: a question in flight finishes on
the version it started on.

Over 400 lines because indexing (local folders, SharePoint, web sites), following
versions and answering share one lock and one snapshot; splitting them would pass
both around between modules.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import structlog

from knowledge.answer import ModelAnswerer, extractive_answer
from knowledge.catalog import move_catalog_into
from knowledge.embeddings import EmbeddingUnavailable, describe_fallback, load_embedding_function
from knowledge.indexer import Indexer, IndexReport, root_of
from knowledge.lexicon import Synonyms, english_words, load_synonyms
from knowledge.limits import ReadLimits
from knowledge.models import Answer, AnswerKind, Role
from knowledge.settings import KnowledgeSettings
from knowledge.snapshot import Snapshot, build_snapshot, group_by_source
from knowledge.sources import REMOTE_KINDS, open_source
from knowledge.sources.base import SourceUnavailable
from knowledge.vectors import VectorStore
from storage.db import Database, open_database
from storage.guidance import GuidanceRepository, RootRow

log = structlog.get_logger(__name__)

STARTER_PACK_DIR = Path(__file__).resolve().parent / "starter_pack"


class KnowledgeBase:
    def __init__(
        self, settings: KnowledgeSettings, *, database: Database | None = None, chat_model: Any | None = None
    ) -> None:
        self.settings = settings
        self._database = database
        self._owns_database = database is None
        max_bytes = int(settings.max_file_mb * 1_048_576)
        self.limits = ReadLimits(
            max_bytes=max_bytes,
            max_unpacked_bytes=max(10 * max_bytes, 50 * 1_048_576),
            max_seconds=settings.max_read_seconds,
        )
        self._chat_model = chat_model
        self._answerer: ModelAnswerer | None = None
        self._llm_unavailable = False
        self._vectors: VectorStore | None = None
        self._vectors_loaded = False
        self._synonyms: Synonyms | None = None
        self._snapshot: Snapshot | None = None
        self._lock = threading.RLock()
        self._follower: threading.Thread | None = None
        self._stop_following = threading.Event()
        self.dense_unavailable_reason: str | None = None

    # ------------------------------------------------------------------ set-up
    @property
    def database(self) -> Database:
        if self._database is None:
            self._database = open_database(self.settings.database_url)
        return self._database

    @property
    def repository(self) -> GuidanceRepository:
        return GuidanceRepository(self.database)

    def ensure_ready(self) -> None:
        """Load the index (indexing the starter pack on first use) and the embedding model."""
        if self._snapshot is None:
            with self._lock:
                if self._snapshot is None:  # another thread may have loaded it while this one waited
                    self._load()

    def _load(self) -> None:
        self._ensure_guidance()
        version, rows = self.repository.snapshot()
        self._snapshot = self._build(version, group_by_source(rows))

    def _ensure_guidance(self) -> None:
        """Move an old catalog across, and index the starter pack when nothing at all is indexed yet."""
        repository = self.repository
        moved = move_catalog_into(self.settings.knowledge_dir / "catalog.json", repository)
        if moved:
            log.info("catalog_moved_into_database", sources=moved)
        if not repository.roots() and self.settings.starter_pack != "off":
            report = self._indexer().update([STARTER_PACK_DIR], vectors=self._vector_store(), starter=True)
            log.info("starter_pack_indexed", passages=report.passages)

    def _build(self, version: int, rows: dict[str, list[Any]]) -> Snapshot:
        return build_snapshot(
            version,
            rows,
            self._vector_store(),
            self._synonym_table(),
            english_words(str(self.settings.embedding_model_dir) if self._vectors is not None else None),
        )

    def _synonym_table(self) -> Synonyms:
        if self._synonyms is None:
            self._synonyms = load_synonyms(self.settings.synonyms_file)
        return self._synonyms

    def _indexer(self) -> Indexer:
        return Indexer(self.repository, self.limits)

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

    def embedder(self) -> Callable[[list[str]], Any] | None:
        """The model meaning search embeds with (the insights group similar questions with it); None when off."""
        store = self._vector_store()
        return store.embed if store is not None else None

    @property
    def dense_enabled(self) -> bool:
        self.ensure_ready()
        return self._vectors is not None

    @property
    def version(self) -> int:
        """The index version this process answers from (0 before it has loaded one)."""
        snapshot = self._snapshot
        return snapshot.version if snapshot is not None else 0

    # --------------------------------------------------------- other versions
    def refresh(self) -> bool:
        """Swap in the newest index version if there is one; True when it did."""
        snapshot = self._snapshot
        if snapshot is None:
            self.ensure_ready()
            return True
        repository = self.repository
        if repository.generation() == snapshot.version:
            return False
        with self._lock:
            current = self._snapshot
            assert current is not None
            change = repository.changes_since(current.version)
            if change.generation == current.version:
                return False
            rows = {key: passages for key, passages in current.rows.items() if key in change.present}
            rows.update(change.changed)
            started = time.perf_counter()
            self._snapshot = self._build(change.generation, rows)
            log.info(
                "index_version_loaded",
                version=change.generation,
                changed_sources=len(change.changed),
                passages=self._snapshot.passages,
                seconds=round(time.perf_counter() - started, 3),
            )
        return True

    def follow_changes(self, poll_seconds: float) -> None:
        """Check for a newer index version every ``poll_seconds`` in a background thread (for a server)."""
        if self._follower is not None or poll_seconds <= 0:
            return
        self._stop_following.clear()

        def loop() -> None:
            while not self._stop_following.wait(poll_seconds):
                try:
                    self.refresh()
                except Exception as exc:  # the database may be briefly away: keep answering, try again later
                    log.warning("index_refresh_failed", error=f"{type(exc).__name__}: {exc}"[:300])

        self._follower = threading.Thread(target=loop, name="guidance-follower", daemon=True)
        self._follower.start()

    def close(self) -> None:
        self._stop_following.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
            self._follower = None
        if self._owns_database and self._database is not None:
            self._database.dispose()
            self._database = None

    # ---------------------------------------------------------------- indexing
    def index(
        self,
        paths: Iterable[Path] = (),
        *,
        exclude: Sequence[str] = (),
        progress: Callable[[str], None] | None = None,
        on_files: Callable[[int], None] | None = None,
        on_vectors: Callable[[int], None] | None = None,
        load: bool = True,
        remote: Sequence[str] | None = None,
    ) -> IndexReport:
        """Index files and folders; with no paths, refresh everything indexed before (SharePoint and web too).

        ``remote`` names SharePoint and web sources to refresh (with no paths, every one).
        ``load=False`` leaves the answering snapshot alone (the ``index`` command only reports).
        """
        started = time.perf_counter()
        paths = [Path(p) for p in paths]
        repository = self.repository
        with self._lock:
            moved = move_catalog_into(self.settings.knowledge_dir / "catalog.json", repository)
            if moved:
                log.info("catalog_moved_into_database", sources=moved)
            vectors = self._vector_store()
            known = repository.roots()
            if remote is None and not paths:
                remote = [r.location for r in known if r.kind in REMOTE_KINDS]
                paths = [Path(r.location) for r in known if not r.starter and r.kind not in REMOTE_KINDS]
            indexer = self._indexer()
            report = (
                indexer.update(
                    paths,
                    vectors=vectors,
                    exclude=exclude,
                    progress=progress,
                    on_files=on_files,
                    on_vectors=on_vectors,
                )
                if paths
                else IndexReport()
            )
            for root in (r for r in known if r.location in set(remote or ())):
                report.merge(self._index_remote(indexer, root, vectors, progress, on_vectors))
            roots = repository.roots()
            council = [r for r in roots if not r.starter]
            starters = [r.location for r in roots if r.starter]
            if council and starters and self.settings.starter_pack == "auto":
                # The council's own guidance now answers questions; set the starter pack aside.
                report.version, removed_ids, removed = repository.remove_roots(starters)
                if vectors is not None:
                    vectors.remove(removed_ids)
                report.removed.extend(removed)
            elif not roots and self.settings.starter_pack != "off":
                report.merge(indexer.update([STARTER_PACK_DIR], vectors=vectors, starter=True, progress=progress))
            if vectors is not None and report.changed:
                # Vectors a run stopped part-way left behind: no passage lists them.
                vectors.prune(repository.passage_ids())
        if load:
            self.refresh()
        report.seconds = time.perf_counter() - started
        log.info("index_finished", **report.to_json())
        return report

    def _index_remote(
        self,
        indexer: Indexer,
        root: RootRow,
        vectors: VectorStore | None,
        progress: Callable[[str], None] | None,
        on_vectors: Callable[[int], None] | None,
    ) -> IndexReport:
        try:
            source = open_source(
                root.kind, root.location, root.options, self.settings.sources, max_bytes=self.limits.max_bytes
            )
        except SourceUnavailable as exc:
            report = IndexReport(errors=[str(exc)])
            self.repository.record_report(root.location, report.to_json())
            return report
        try:
            return indexer.update_remote(root, source, vectors=vectors, progress=progress, on_vectors=on_vectors)
        finally:
            source.close()

    def add_source(
        self,
        kind: str,
        location: str,
        options: dict[str, Any],
        *,
        progress: Callable[[str], None] | None = None,
        on_vectors: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Add a SharePoint library or a web site (or change its options) and index it now."""
        repository = self.repository
        existing = next((r for r in repository.roots() if r.location == location), None)
        if existing is not None and existing.kind != kind:
            raise SourceUnavailable(f"{location} is already indexed as a {existing.kind} source")
        # Settings missing (no app registration for SharePoint) are said now, before anything is stored.
        open_source(kind, location, options, self.settings.sources, max_bytes=self.limits.max_bytes).close()
        repository.ensure_root(location, kind=kind, options=options)
        return self.index(remote=[location], progress=progress, on_vectors=on_vectors)

    def remove(self, paths: Iterable[Path | str]) -> tuple[list[str], list[str]]:
        """Remove folders, files, SharePoint libraries or web sites from the index with everything indexed from them.

        Returns (the ones removed, the ones that were not indexed).
        """
        repository = self.repository
        with self._lock:
            known = {r.location for r in repository.roots()}
            # A SharePoint or web source is named exactly as `sources list` shows it; a folder may be relative.
            wanted = {str(p) if str(p) in known else root_of(Path(p))[0]: str(p) for p in paths}
            found = [location for location in wanted if location in known]
            if found:
                _, removed_ids, _ = repository.remove_roots(found)
                vectors = self._vector_store()
                if vectors is not None:
                    vectors.remove(removed_ids)
        self.refresh()
        return [wanted[f] for f in found], [given for location, given in wanted.items() if location not in known]

    def sources(self) -> list[RootRow]:
        """Each folder or file indexed: passages, last indexed, and what was skipped and why."""
        return self.repository.roots()

    def refresh_sources(self, owner: str | None = None, *, every: timedelta) -> IndexReport | None:
        """Index again everything indexed before, unless another process is already doing so (the scheduler's job)."""
        owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        repository = self.repository
        # A turn older than two intervals belongs to a process that died holding it.
        if not repository.claim_refresh(owner, stale_after=2 * every):
            return None
        try:
            return self.index(load=self._snapshot is not None)
        finally:
            repository.release_refresh(owner)

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
        answer = extractive_answer(
            cleaned, analysis, hits, snapshot.retriever.similarity, neighbours=snapshot.retriever.neighbours
        )
        answerer = self._model_answerer()
        if answerer is not None:
            answer = answerer.answer(cleaned, analysis, hits, answer)
        log.info(
            "question_answered",
            kind=answer.kind.value,
            confidence=answer.confidence,
            source=answer.citations[0].source if answer.citations else None,
            written_by=answer.written_by,
            version=snapshot.version,
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
    def _ready(self) -> Snapshot:
        self.ensure_ready()
        snapshot = self._snapshot
        assert snapshot is not None
        return snapshot

    def roles(self) -> list[Role]:
        return list(self._ready().roles.roles)

    def whois(self, query: str) -> list[Role]:
        snapshot = self._ready()
        found = snapshot.roles.find(query)
        if not found and snapshot.retriever.lexicon is not None:
            # "s151 officer", "PH": the way the question is written may not be the way the guidance is.
            found = snapshot.roles.find(snapshot.retriever.lexicon.rewrite(query).text)
        return found

    def stats(self) -> dict[str, Any]:
        """Counts for reports; read from the database, so a command that only indexes need not load the index."""
        with self._lock:
            self._ensure_guidance()
        roots = self.repository.roots()
        snapshot = self._snapshot
        return {
            "sources": sum(r.sources for r in roots),
            "passages": sum(r.passages for r in roots),
            "roles": len(snapshot.roles.roles) if snapshot is not None else None,
            "dense": self._vector_store() is not None,
            "starter_pack": any(r.starter for r in roots),
            "version": self.repository.generation(),
        }


def open_knowledge(
    settings: KnowledgeSettings, *, database: Database | None = None, chat_model: Any | None = None
) -> KnowledgeBase:
    return KnowledgeBase(settings, database=database, chat_model=chat_model)
