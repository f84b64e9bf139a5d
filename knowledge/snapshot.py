"""One version of the index, ready to answer from: passages, keyword index, vectors, roles and vocabulary.

A snapshot never changes once built; a new index version is a new snapshot,
swapped in whole, so a question in flight always finishes on the version it
started on. Building one reads nothing again: the passages' search words were
stored when they were indexed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from knowledge.lexical import LexicalIndex
from knowledge.lexicon import Lexicon, Synonyms
from knowledge.models import Chunk
from knowledge.passages import from_row
from knowledge.retrieve import PassageIndex, Retriever
from knowledge.roles import RoleDirectory, build_role_directory
from knowledge.vectors import VectorStore
from storage.guidance import PassageRow


@dataclass(frozen=True)
class Snapshot:
    version: int
    retriever: Retriever
    roles: RoleDirectory
    rows: dict[str, list[PassageRow]]  # source key → its passages, to build the next version from

    @property
    def passages(self) -> int:
        return len(self.retriever.chunks)

    @property
    def sources(self) -> int:
        return len(self.rows)


def group_by_source(rows: Iterable[PassageRow]) -> dict[str, list[PassageRow]]:
    grouped: dict[str, list[PassageRow]] = {}
    for row in rows:
        grouped.setdefault(row.source_key, []).append(row)
    return grouped


def build_snapshot(
    version: int,
    rows: dict[str, list[PassageRow]],
    vectors: VectorStore | None,
    synonyms: Synonyms,
    english: dict[str, int],
) -> Snapshot:
    ordered: list[PassageRow] = [row for key in sorted(rows) for row in rows[key]]
    chunks: Sequence[Chunk] = [from_row(row) for row in ordered]
    passages = PassageIndex(chunks, [row.terms for row in ordered], [row.context_terms for row in ordered])
    lexical = LexicalIndex(passages.sequences())
    passages.weigh(lexical.document_frequency)
    if vectors is not None:
        vectors.follow([c.chunk_id for c in chunks])
    roles = build_role_directory(chunks)
    lexicon = Lexicon.build((c.text for c in chunks), synonyms, english)
    return Snapshot(version, Retriever(passages, lexical, vectors, roles, lexicon), roles, rows)
