"""Word documents: headings by paragraph style, list paragraphs, and tables in document order."""

from __future__ import annotations

import re
from pathlib import Path

import docx
from docx.document import Document as DocxDocument
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph as DocxParagraph

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_text, strip_bullet, tidy

_HEADING_STYLE = re.compile(r"(?i)^heading\s*(\d)$")


def parse_docx(path: Path, fallback_title: str) -> ParsedDocument:
    document: DocxDocument = docx.Document(str(path))
    title = (document.core_properties.title or "").strip() or fallback_title
    blocks: list[Block] = []
    items: list[str] = []

    def flush_list() -> None:
        nonlocal items
        if items:
            blocks.append(ListBlock(items=items))
            items = []

    for element in document.iter_inner_content():
        if isinstance(element, DocxTable):
            flush_list()
            table = _table(element)
            if table is not None:
                blocks.append(table)
            continue
        assert isinstance(element, DocxParagraph)
        text = tidy(normalise_text(element.text).replace("\n", " "))
        if not text or is_noise(text):
            continue
        style = (element.style.name if element.style is not None else "") or ""
        heading = _HEADING_STYLE.match(style)
        is_list = "list" in style.lower() or element._p.pPr is not None and element._p.pPr.numPr is not None
        was_bullet, bare = strip_bullet(text)
        if style.lower() == "title":
            flush_list()
            if title == fallback_title:
                title = text
            else:
                blocks.append(Heading(text, 1))
        elif heading:
            flush_list()
            blocks.append(Heading(text, int(heading.group(1))))
        elif is_list or was_bullet:
            items.append(bare)
        else:
            flush_list()
            blocks.append(Paragraph(text))
    flush_list()
    return ParsedDocument(title=title, blocks=blocks)


def _table(table: DocxTable) -> Table | None:
    rows: list[list[str]] = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            # Merged cells repeat the same object; count them once.
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(clean_cell("\n".join(p.text for p in cell.paragraphs)))
        if any(cells):
            rows.append(cells)
    if len(rows) < 2:
        return None
    return Table(headers=rows[0], rows=rows[1:])
