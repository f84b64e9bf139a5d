"""Document structure shared by every file reader: headings, paragraphs, lists and tables.

Readers turn a file into a flat sequence of blocks; the chunker turns blocks
into passages. Keeping the two apart means a new file type only needs a reader.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Heading:
    text: str
    level: int = 1
    numbered: bool = False  # "2. Plan": steps under the heading before them


@dataclass
class Paragraph:
    text: str


@dataclass
class ListBlock:
    items: list[str]
    ordered: bool = False


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]] = field(default_factory=list)


Block = Heading | Paragraph | ListBlock | Table


@dataclass
class ParsedDocument:
    title: str
    blocks: list[Block]
    warnings: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not any(isinstance(b, (Paragraph, ListBlock, Table)) for b in self.blocks)
