"""Bringing the shared index in line with the guidance files, one file at a time.

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
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from knowledge.chunker import chunk_document
from knowledge.ingest import SUPPORTED_SUFFIXES, Skipped, SourceFile, discover
from knowledge.limits import ReadLimits, SkipFile
from knowledge.passages import to_row
from knowledge.reading import DocumentReader
from knowledge.vectors import VectorStore
from storage.guidance import GuidanceRepository, SourceRow

log = structlog.get_logger(__name__)


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0
    version: int = 0  # the index version afterwards

    @property
    def complete(self) -> bool:
        return not self.skipped

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def merge(self, other: IndexReport) -> None:
        for name in ("added", "updated", "unchanged", "removed", "skipped"):
            getattr(self, name).extend(getattr(other, name))
        self.passages += other.passages
        self.version = max(self.version, other.version)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": len(self.unchanged),
            "removed": self.removed,
            "skipped": [{"file": s.display, "reason": s.reason} for s in self.skipped],
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
                part = self._update_root(root.location, root.excludes, reader, vectors, progress, on_files, on_vectors)
                self.repository.record_report(location, part.to_json())
                report.merge(part)
        report.version = max(report.version, self.repository.generation())
        return report

    def _update_root(
        self,
        location: str,
        excludes: Sequence[str],
        reader: DocumentReader,
        vectors: VectorStore | None,
        progress: Callable[[str], None] | None,
        on_files: Callable[[int], None] | None,
        on_vectors: Callable[[int], None] | None,
    ) -> IndexReport:
        report = IndexReport()
        files, skipped = discover([Path(location)], excludes)
        report.skipped.extend(skipped)
        if on_files:
            on_files(len(files))
        known = {s.key: s for s in self.repository.sources(root=location)}
        for source in files:
            self._update_one(source, known.get(source.key), reader, vectors, report, on_vectors)
            if progress:
                progress(source.display)
        # Gone from the folder, or now excluded: what was indexed from them goes too.
        found = {f.key for f in files}
        # A folder that could not be opened this time is not gone: its earlier passages keep answering.
        unreadable = tuple(s.unreadable_folder.rstrip(os.sep) + os.sep for s in skipped if s.unreadable_folder)
        gone = [key for key in known if key not in found and not (unreadable and key.startswith(unreadable))]
        if gone:
            version, removed_ids = self.repository.remove_sources(gone)
            if vectors is not None:
                vectors.remove(removed_ids)
            report.removed.extend(known[key].display for key in gone)
            report.version = version
        return report

    def _update_one(
        self,
        source: SourceFile,
        record: SourceRow | None,
        reader: DocumentReader,
        vectors: VectorStore | None,
        report: IndexReport,
        on_vectors: Callable[[int], None] | None,
    ) -> None:
        try:
            stat = source.path.stat()
            if record and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns:
                report.unchanged.append(source.display)
                return
            fingerprint = source.fingerprint()
            if record and record.fingerprint == fingerprint:
                self.repository.touch(source.key, stat.st_mtime_ns)  # saved again, not changed
                report.unchanged.append(source.display)
                return
            document = reader.read(source.path, SUPPORTED_SUFFIXES[source.path.suffix.lower()])
        except SkipFile as exc:
            # Whatever was indexed from this file before stays searchable.
            report.skipped.append(Skipped(source.display, str(exc)))
            return
        except OSError as exc:
            report.skipped.append(Skipped(source.display, f"it could not be read ({exc.strerror or exc})"))
            return
        chunks = chunk_document(document, source.display, source.key)
        if vectors is not None:
            # Vectors first: once the database lists a passage, meaning search can find it.
            vectors.add(chunks, on_vectors)
        version, replaced = self.repository.replace_source(
            SourceRow(
                key=source.key,
                display=source.display,
                fingerprint=fingerprint,
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                root=source.root,
            ),
            [to_row(chunk) for chunk in chunks],
        )
        if vectors is not None:
            vectors.remove(replaced)
        (report.updated if record else report.added).append(source.display)
        report.passages += len(chunks)
        report.version = version
