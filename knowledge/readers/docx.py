"""Word documents: headings by paragraph style, list paragraphs, and tables in document order.

The body's XML is walked directly (python-docx opens the package and reads
the tables): looking each paragraph's style up through python-docx costs about
a millisecond a paragraph, which a long document cannot afford.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.table import Table as DocxTable

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import clean_cell, is_noise, normalise_text, strip_bullet, tidy

_HEADING_STYLE = re.compile(r"(?i)^heading\s*(\d)$")
_P, _TBL, _T, _TAB, _BR, _CR = (qn("w:p"), qn("w:tbl"), qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"))
_PPR, _PSTYLE, _NUMPR, _VAL = qn("w:pPr"), qn("w:pStyle"), qn("w:numPr"), qn("w:val")


class TooLong(Exception):
    """The document has more paragraphs, list items and table rows than any guidance needs."""


def _paragraph_text(p: Any) -> str:
    parts: list[str] = []
    for node in p.iter(_T, _TAB, _BR, _CR):
        if node.tag == _T:
            parts.append(node.text or "")
        elif node.tag == _TAB:
            parts.append("\t")
        else:
            parts.append("\n")
    return "".join(parts)


def parse_docx(path: Path, fallback_title: str, max_blocks: int = 200_000) -> ParsedDocument:
    document: DocxDocument = docx.Document(str(path))
    title = (document.core_properties.title or "").strip() or fallback_title
    style_names = {style.style_id: style.name or "" for style in document.styles}
    blocks: list[Block] = []
    items: list[str] = []
    count = 0

    def flush_list() -> None:
        nonlocal items
        if items:
            blocks.append(ListBlock(items=items))
            items = []

    for element in document.element.body.iterchildren():
        count += 1
        if count > max_blocks:
            raise TooLong(f"it has more than {max_blocks:,} paragraphs and tables")
        if element.tag == _TBL:
            flush_list()
            table = _table(DocxTable(element, document._body))
            if table is not None:
                count += len(table.rows)
                blocks.append(table)
            continue
        if element.tag != _P:
            continue
        text = tidy(normalise_text(_paragraph_text(element)).replace("\n", " "))
        if not text or is_noise(text):
            continue
        properties = element.find(_PPR)
        style_id = None
        is_list = False
        if properties is not None:
            style = properties.find(_PSTYLE)
            style_id = style.get(_VAL) if style is not None else None
            is_list = properties.find(_NUMPR) is not None
        style_name = style_names.get(style_id or "", "") if style_id else ""
        heading = _HEADING_STYLE.match(style_name)
        is_list = is_list or "list" in style_name.lower()
        was_bullet, bare = strip_bullet(text)
        if style_name.lower() == "title":
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
            cells.append(clean_cell("\n".join(_paragraph_text(p) for p in cell._tc.iter(_P))))
        if any(cells):
            rows.append(cells)
    if len(rows) < 2:
        return None
    return Table(headers=rows[0], rows=rows[1:])
