"""Bringing the shared index in line with each source of guidance, one document at a time.

Each source (:mod:`knowledge.sources`: a folder or file here, a SharePoint library,
a web site) says what changed since the last run; this module reads what is new or
changed, stores its passages, renames what moved and removes what went.

For each folder or file asked for (a "root"), every supported file is found
(leaving out what ``--exclude`` patterns or a ``.guidanceignore`` file name), and
each one is compared with what the index holds: an unchanged file (same size
and time, or same content) costs nothing; a new or changed one is read (within
bounds, see :mod:`knowledge.reading`), split into passages, its vectors added,
and then its passages replace the old ones in one database transaction that
also bumps the index version. Files gone from a root, or now excluded, are
removed the same way. Work is in proportion to what changed, and memory holds
one file's passages at a time.

A file that cannot be read is reported with its reason and whatever was
indexed from it before stays searchable.

A SharePoint library or a web site's changed documents arrive as bytes, read with
the same readers from a temporary file; a moved one is renamed without reading it
again.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from knowledge.blocks import ParsedDocument
from knowledge.chunker import chunk_document
from knowledge.ingest import SUPPORTED_SUFFIXES, Skipped
from knowledge.limits import ReadLimits, SkipFile
from knowledge.passages import to_row
from knowledge.reading import DocumentReader
from knowledge.sources.base import (
    Fetched,
    GuidanceSource,
    Moved,
    Removed,
    SourceDocument,
    SourceUnavailable,
    Unchanged,
)
from knowledge.sources.local import LocalFolder
from knowledge.vectors import VectorStore
from storage.guidance import GuidanceRepository, RootRow, SourceRow

log = structlog.get_logger(__name__)


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)  # renamed or moved, content unchanged: not read again
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # a whole source that could not be reached, and why
    passages: int = 0
    seconds: float = 0.0
    version: int = 0  # the index version afterwards

    @property
    def complete(self) -> bool:
        return not self.skipped and not self.errors

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed or self.moved)

    def merge(self, other: IndexReport) -> None:
        for name in ("added", "updated", "unchanged", "removed", "moved", "skipped", "errors"):
            getattr(self, name).extend(getattr(other, name))
        self.passages += other.passages
        self.version = max(self.version, other.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "moved": self.moved,
            "skipped": [{"file": s.display, "reason": s.reason} for s in self.skipped],
            "errors": self.errors,
            "passages": self.passages,
            "seconds": round(self.seconds, 3),
            "version": self.version,
        }


def root_of(path: Path) -> tuple[str, str]:
    """The stored name of a folder or file asked for, and its kind."""
    resolved = path.expanduser().resolve()
    return str(resolved), "file" if resolved.is_file() else "folder"


class Indexer:
    def __init__(self, repository: GuidanceRepository, limits: ReadLimits) -> None:
        self.repository = repository
        self.limits = limits
        self._lock = threading.Lock()  # one run at a time in this process; the database orders the others

    def update(
        self,
        paths: Iterable[Path],
        *,
        vectors: VectorStore | None = None,
        starter: bool = False,
        exclude: Sequence[str] = (),
        progress: Callable[[str], None] | None = None,
        on_files: Callable[[int], None] | None = None,
        on_vectors: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Index each folder or file (a missing one is reported, not indexed)."""
        report = IndexReport()
        with self._lock, DocumentReader(self.limits) as reader:
            for path in paths:
                if not Path(path).expanduser().exists():
                    report.skipped.append(Skipped(str(path), "it does not exist"))
                    continue
                location, kind = root_of(Path(path))
                self.repository.ensure_root(location, kind=kind, starter=starter, excludes=exclude)
                root = next(r for r in self.repository.roots() if r.location == location)
                source = LocalFolder(root.location, root.excludes, on_files=on_files)
                part = self._apply(root, source, reader, vectors, progress, on_vectors)
                self.repository.record_report(location, part.to_json())
                report.merge(part)
        report.version = max(report.version, self.repository.generation())
        return report

    def _store(
        self,
        row: SourceRow,
        document: ParsedDocument,
        record: SourceRow | None,
        vectors: VectorStore | None,
        report: IndexReport,
        on_vectors: Callable[[int], None] | None,
    ) -> None:
        chunks = chunk_document(document, row.display, row.key)
        if row.link:
            chunks = [dataclasses.replace(chunk, link=row.link) for chunk in chunks]
        if vectors is not None:
            # Vectors first: once the database lists a passage, meaning search can find it.
            vectors.add(chunks, on_vectors)
        version, replaced = self.repository.replace_source(row, [to_row(chunk) for chunk in chunks])
        if vectors is not None:
            vectors.remove(replaced)
        (report.updated if record else report.added).append(row.display)
        report.passages += len(chunks)
        report.version = version

    # ------------------------------------------------------------ remote sources
    def update_remote(
        self,
        root: RootRow,
        source: GuidanceSource,
        *,
        vectors: VectorStore | None = None,
        progress: Callable[[str], None] | None = None,
        on_vectors: Callable[[int], None] | None = None,
    ) -> IndexReport:
        """Bring a SharePoint library or web site's passages in line with what it says changed."""
        with self._lock, DocumentReader(self.limits) as reader:
            report = self._apply(root, source, reader, vectors, progress, on_vectors)
        self.repository.record_report(root.location, report.to_json())
        report.version = max(report.version, self.repository.generation())
        return report

    def _apply(
        self,
        root: RootRow,
        source: GuidanceSource,
        reader: DocumentReader,
        vectors: VectorStore | None,
        progress: Callable[[str], None] | None,
        on_vectors: Callable[[int], None] | None,
    ) -> IndexReport:
        """Apply each change a source reports; removals last, in one transaction."""
        report = IndexReport()
        known = {s.key: s for s in self.repository.sources(root=root.location)}
        gone: list[str] = []
        with tempfile.TemporaryDirectory() as scratch:
            try:
                for change in source.changes(known, root.state):
                    if isinstance(change, Removed):
                        gone.append(change.key)
                    elif isinstance(change, Skipped):
                        report.skipped.append(change)
                    else:
                        self._apply_one(root.location, change, known, reader, scratch, vectors, report, on_vectors)
                        if progress:
                            progress(change.document.display if isinstance(change, Fetched) else change.display)
            except SourceUnavailable as exc:
                # Nothing is removed on the strength of a walk cut short; what was indexed stays searchable.
                log.warning("source_unavailable", location=root.location, kind=root.kind, reason=str(exc))
                report.errors.append(str(exc))
                gone = []
            else:
                if source.state:
                    self.repository.save_state(root.location, source.state)
        if gone:
            version, removed_ids = self.repository.remove_sources(gone)
            if vectors is not None:
                vectors.remove(removed_ids)
            report.removed.extend(known[key].display for key in gone if key in known)
            report.version = version
        return report

    def _apply_one(
        self,
        location: str,
        change: Fetched | Unchanged | Moved,
        known: dict[str, SourceRow],
        reader: DocumentReader,
        scratch: str,
        vectors: VectorStore | None,
        report: IndexReport,
        on_vectors: Callable[[int], None] | None,
    ) -> None:
        if isinstance(change, Fetched):
            self._update_fetched(location, change.document, known, reader, scratch, vectors, report, on_vectors)
        elif isinstance(change, Moved):
            report.version = self.repository.relocate_source(
                change.key, display=change.display, link=change.link, marker=change.marker
            )
            report.moved.append(change.display)
        else:
            report.unchanged.append(change.display)
            record = known[change.key]
            new_marker = change.marker is not None and change.marker != record.marker
            new_time = change.modified_ns is not None and change.modified_ns != record.mtime_ns
            if new_marker or new_time:
                modified = record.mtime_ns if change.modified_ns is None else change.modified_ns
                self.repository.touch(change.key, modified, change.marker)

    def _update_fetched(
        self,
        location: str,
        document: SourceDocument,
        known: dict[str, SourceRow],
        reader: DocumentReader,
        scratch: str,
        vectors: VectorStore | None,
        report: IndexReport,
        on_vectors: Callable[[int], None] | None,
    ) -> None:
        record = known.get(document.key)
        fingerprint = document.fingerprint or hashlib.sha256(document.data).hexdigest()
        if record is not None and record.fingerprint == fingerprint:
            # Same bytes under a new marker (a page served again, a file saved unchanged): nothing to read.
            if record.display != document.display or (record.link or "") != document.link:
                self.repository.relocate_source(
                    document.key, display=document.display, link=document.link or None, marker=document.marker or None
                )
                report.moved.append(document.display)
            else:
                self.repository.touch(document.key, document.modified_ns, document.marker or None)
                report.unchanged.append(document.display)
            return
        path = document.path or Path(scratch) / f"document{document.suffix}"
        try:
            if document.path is None:
                path.write_bytes(document.data)
            parsed = reader.read(path, SUPPORTED_SUFFIXES[document.suffix])
        except SkipFile as exc:
            # Whatever was indexed from it before stays searchable.
            report.skipped.append(Skipped(document.display, str(exc)))
            return
        except OSError as exc:
            report.skipped.append(Skipped(document.display, f"it could not be read ({exc.strerror or exc})"))
            return
        finally:
            if document.path is None:
                path.unlink(missing_ok=True)
        row = SourceRow(
            key=document.key,
            display=document.display,
            fingerprint=fingerprint,
            size=document.size or len(document.data),
            mtime_ns=document.modified_ns,
            root=location,
            link=document.link or None,
            marker=document.marker or None,
        )
        self._store(row, parsed, record, vectors, report, on_vectors)
