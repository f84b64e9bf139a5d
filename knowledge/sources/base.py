"""Where guidance comes from: each kind of source says what changed since the last refresh.

A source (a folder on this server, a SharePoint library, a web site) is walked by :meth:`GuidanceSource.changes`,
which yields one :data:`Change` per document: fetched (new or changed, with its bytes),
unchanged, moved (new name or link, same content: nothing downloaded), removed, or
skipped with a reason an officer can act on. The indexer (:mod:`knowledge.indexer`)
turns those into passages; a source knows nothing about passages or the database.

A source that cannot be reached at all raises :class:`SourceUnavailable`; whatever
was indexed from it before stays searchable. What the next refresh carries on from
(a drive's delta link) is in :attr:`GuidanceSource.state` once the walk has finished;
it is stored only then, so a walk cut short is simply repeated.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from knowledge.ingest import SUPPORTED_SUFFIXES, Skipped
from storage.guidance import SourceRow

__all__ = [
    "Change",
    "Fetched",
    "GuidanceSource",
    "Moved",
    "Removed",
    "SourceDocument",
    "Skipped",
    "SourceUnavailable",
    "Unchanged",
    "kind_for_suffix",
]


class SourceUnavailable(RuntimeError):
    """The source could not be reached or refused us; the message says what to do about it."""


@dataclass(frozen=True)
class SourceDocument:
    key: str  # stable identity: survives a rename or a move (a drive item's id, a page's address)
    display: str  # what citations show: a file's path in its library, a page's title
    link: str  # what an officer opens from a citation ("" for a file on this server)
    marker: str  # the source's own change marker (cTag, ETag or Last-Modified; "" for a local file)
    suffix: str  # which reader reads it: ".docx", ".pdf", ".html", ...
    data: bytes  # the downloaded bytes; empty when ``path`` is given
    modified_ns: int = 0
    path: Path | None = None  # a file on this server, read where it is
    fingerprint: str = ""  # its content hash, when the source has worked it out already
    size: int = 0


@dataclass(frozen=True)
class Fetched:
    document: SourceDocument


@dataclass(frozen=True)
class Unchanged:
    key: str
    display: str
    marker: str | None = None  # a new marker for the same content (a web page's new ETag after a 200)
    modified_ns: int | None = None  # a new time for the same content (a local file saved again unchanged)


@dataclass(frozen=True)
class Moved:
    key: str
    display: str
    link: str
    marker: str


@dataclass(frozen=True)
class Removed:
    key: str


Change = Fetched | Unchanged | Moved | Removed | Skipped


class GuidanceSource(Protocol):
    kind: str
    location: str

    @property
    def state(self) -> dict[str, Any]:
        """Where the next refresh carries on from, once :meth:`changes` has been walked to the end."""
        ...

    def changes(self, known: Mapping[str, SourceRow], state: Mapping[str, Any]) -> Iterator[Change]:
        """What changed since the documents in ``known`` were indexed."""
        ...

    def close(self) -> None: ...


def kind_for_suffix(suffix: str) -> str | None:
    """The reader for a file name's suffix, or None for a type that cannot be read."""
    return SUPPORTED_SUFFIXES.get(suffix.lower())
