"""A passage as the indexes see it, and as the database stores it.

Keyword search reads a passage with its document's title and whole heading
path; meaning search embeds it with only the title and its own heading (a long
path would make every clause of a section embed alike). The stemmed words are
worked out once, when the passage is indexed, and stored with it.
"""

from __future__ import annotations

from knowledge.chunker import SECTION_NUMBER
from knowledge.models import Chunk, PassageKind
from knowledge.tokens import terms
from storage.guidance import PassageRow

# Part of the vector collection's identity: changing what is embedded starts the collection again.
SEARCH_TEXT_VERSION = 3


def context_of(chunk: Chunk) -> list[str]:
    """The document's title and the passage's heading path, outermost first."""
    context = list(chunk.section)
    title = str(chunk.meta.get("title") or "")
    if title and title not in context:
        context.insert(0, title)
    return context


def search_text(chunk: Chunk) -> str:
    """What keyword search sees: the document's title and whole heading path give a passage its topic."""
    context = context_of(chunk)
    return f"{' > '.join(context)}\n{chunk.text}" if context else chunk.text


def meaning_text(chunk: Chunk) -> str:
    """What meaning search embeds: the title and the passage's own heading only."""
    title = str(chunk.meta.get("title") or "")
    heading = SECTION_NUMBER.sub("", chunk.section[-1]) if chunk.section else ""
    context = " > ".join(part for part in dict.fromkeys((title, heading)) if part)
    return f"{context}\n{chunk.text}" if context else chunk.text


def to_row(chunk: Chunk) -> PassageRow:
    """The passage as stored: its search words too (heading path first, then its own text)."""
    context = terms(" > ".join(context_of(chunk)))
    words = terms(chunk.text)
    return PassageRow(
        id=chunk.chunk_id,
        source_key=chunk.source_key,
        source=chunk.source,
        position=chunk.position,
        kind=chunk.kind.value,
        text=chunk.text,
        section=list(chunk.section),
        meta=dict(chunk.meta),
        terms=" ".join(context + words),
        context_terms=len(context),
        link=chunk.link,
    )


def from_row(row: PassageRow) -> Chunk:
    return Chunk(
        chunk_id=row.id,
        text=row.text,
        source=row.source,
        source_key=row.source_key,
        section=tuple(row.section),
        position=row.position,
        kind=PassageKind(row.kind),
        meta=row.meta,
        link=row.link,
    )
