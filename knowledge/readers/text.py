"""Plain text, including text copied out of PDFs and web pages.

Plain text has no markup, so structure is inferred from layout: tab-separated
lines are table rows, bullet characters start list items, and a short line
with no closing punctuation standing on its own is a heading. Two headings in
a row are read as a section and its first sub-section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.clean import (
    clean_cell,
    is_noise,
    is_toc_entry,
    normalise_text,
    strip_bullet,
    strip_number,
    tidy,
)

_CLAUSE_START = re.compile(
    r"^\s*(?:\((?:[0-9]{1,3}[A-Z]{0,2}|[a-z]{1,4})\)|[0-9]{1,3}\.[0-9]{1,3}(?:\.[0-9]{1,3})*\.?)\s+\S"
)
_SENTENCE_BREAK = re.compile(r"[.!?;]\s+\S")
_NUMBERED_HEADING = re.compile(r"^\s*\d{1,2}(?:\.\d{1,2})*[.)]?\s+(?=\S)")
_MAX_HEADING_WORDS = 14
_SHORT_SUBHEADING_WORDS = 4


@dataclass
class _Unit:
    kind: str  # "text", "list", "table"
    lines: list[str]
    rows: list[list[str]] | None = None
    ordered: bool = False

    @property
    def text(self) -> str:
        return " ".join(line.strip() for line in self.lines).strip()


_DEFINITION = re.compile(r"^[\w'’/ ()-]{1,40}?\s+[–—-]\s+[a-z]")
# A finite verb in the middle of a line makes it a sentence rather than a title.
_CLAUSE_VERB = re.compile(
    r"\s(?:means|is|are|was|were|will|shall|must|should|can|may|has|have|does|provides|ensures)\s"
)
_QUESTION_OPENER = re.compile(r"(?i)^(?:what|who|why|how|when|where|which|is|are|can|do|does|should)\b")


def looks_like_heading(text: str) -> bool:
    s = _NUMBERED_HEADING.sub("", text.strip())
    if not s or len(s) > 110 or "\t" in s:
        return False
    if _DEFINITION.match(s):
        # "Output – the desired level of service activity" is a definition.
        return False
    words = s.split()
    if len(words) > _MAX_HEADING_WORDS:
        return False
    if len(words) >= 6 and _CLAUSE_VERB.search(s) and not _QUESTION_OPENER.match(s):
        # "'Great commissioning' means delivering the right outcomes": a sentence, though unpunctuated.
        return False
    if s[-1] in ".;:,!)" or _SENTENCE_BREAK.search(s):
        return False
    if "http" in s or "www." in s or "@" in s or "|" in s:
        return False
    first = s[0]
    return first.isupper() or first.isdigit() or first in "'\"‘“"


def _classify(lines: list[str]) -> list[tuple[str, object]]:
    """Label each line: blank, row (cells), bullet (text), numbered (text) or text."""
    labelled: list[tuple[str, object]] = []
    for raw in lines:
        if not raw.strip():
            labelled.append(("blank", None))
            continue
        if is_noise(raw) or is_toc_entry(raw):
            continue
        if "\t" in raw.strip("\t "):
            cells = [clean_cell(c) for c in raw.split("\t")]
            if sum(1 for c in cells if c) >= 2:
                labelled.append(("row", cells))
                continue
            raw = " ".join(c for c in cells if c)
        line = tidy(raw.replace("\t", " "))
        was_bullet, rest = strip_bullet(line)
        if was_bullet and rest:
            labelled.append(("bullet", rest))
            continue
        labelled.append(("text", line))
    return labelled


def _group(labelled: list[tuple[str, object]]) -> list[_Unit]:
    units: list[_Unit] = []
    current: _Unit | None = None

    def close() -> None:
        nonlocal current
        if current is not None:
            units.append(current)
            current = None

    for kind, value in labelled:
        if kind == "blank":
            # A blank line ends a paragraph or a table, but a list may have blank
            # lines between its items.
            if current is not None and current.kind != "list":
                close()
            continue
        if kind == "row":
            if current is None or current.kind != "table":
                close()
                current = _Unit("table", [], rows=[])
            assert current.rows is not None
            current.rows.append(value)  # type: ignore[arg-type]
            continue
        if kind == "bullet":
            if current is None or current.kind != "list":
                close()
                current = _Unit("list", [])
            current.lines.append(str(value))
            continue
        text = str(value)
        if current is not None and current.kind == "list":
            close()
        if current is not None and current.kind == "text":
            # A heading-like line directly above body text is a heading, not the
            # first line of the paragraph.
            if (
                len(current.lines) == 1
                and looks_like_heading(current.lines[0])
                or current.lines[-1].rstrip().endswith((".", ":", "?", "!"))
                and looks_like_heading(text)
            ):
                close()
            elif _CLAUSE_START.match(text):
                close()  # "(2) ...", "4.3 ...": each numbered clause is its own paragraph
        if current is None or current.kind != "text":
            close()
            current = _Unit("text", [])
        current.lines.append(text)
    close()
    return _rejoin_broken_paragraphs(units)


def _rejoin_broken_paragraphs(units: list[_Unit]) -> list[_Unit]:
    """Mend a paragraph that a copy-and-paste split mid-sentence across a blank line."""
    mended: list[_Unit] = []
    for unit in units:
        if (
            unit.kind == "text"
            and mended
            and mended[-1].kind == "text"
            and unit.lines[0][:1].islower()
            and not mended[-1].lines[-1].rstrip().endswith((".", "!", "?", ":"))
        ):
            mended[-1].lines.extend(unit.lines)
            continue
        mended.append(unit)
    return mended


def _table(unit: _Unit) -> Block:
    rows = unit.rows or []
    width = max(len(r) for r in rows)
    padded = [r + [""] * (width - len(r)) for r in rows]
    header, body = padded[0], padded[1:]
    # Drop columns that are empty everywhere (trailing tabs).
    keep = [i for i in range(width) if any(row[i] for row in padded)]
    header = [header[i] for i in keep]
    body = [[row[i] for i in keep] for row in body]
    if not body:
        return Paragraph(" ".join(h for h in header if h))
    return Table(headers=header, rows=body)


def _heading_text(text: str) -> str:
    return _NUMBERED_HEADING.sub("", text).strip() or text.strip()


def _last_heading_unnumbered(blocks: list[Block]) -> bool:
    for block in reversed(blocks):
        if isinstance(block, Heading):
            return block.level == 1 and not block.numbered
    return False


def parse_plain_text(text: str, fallback_title: str) -> ParsedDocument:
    lines = normalise_text(text).split("\n")
    units = _group(_classify(lines))

    def is_heading_candidate(i: int) -> bool:
        unit = units[i]
        if unit.kind != "text" or len(unit.lines) != 1 or not looks_like_heading(unit.text):
            return False
        # A question or lead-in sitting directly above a list introduces it.
        return not (i + 1 < len(units) and units[i + 1].kind == "list")

    title = fallback_title
    start = 0
    if units and is_heading_candidate(0):
        title = units[0].text
        start = 1

    blocks: list[Block] = []
    in_parent = False
    numbered_steps = False
    i = start
    while i < len(units):
        if not is_heading_candidate(i):
            unit = units[i]
            if unit.kind == "table":
                blocks.append(_table(unit))
            elif unit.kind == "list":
                blocks.append(ListBlock(items=unit.lines))
            else:
                blocks.append(Paragraph(unit.text))
            i += 1
            continue

        run_end = i
        while run_end + 1 < len(units) and is_heading_candidate(run_end + 1):
            run_end += 1
        run = [units[k].text for k in range(i, run_end + 1)]
        followed_by_body = run_end + 1 < len(units)

        if len(run) == 1:
            numbered = bool(_NUMBERED_HEADING.match(run[0]))
            short = len(run[0].split()) <= _SHORT_SUBHEADING_WORDS
            if numbered and not in_parent and blocks and _last_heading_unnumbered(blocks):
                # "1. Analyse", "2. Plan" under "The Commissioning Cycle" are its steps.
                in_parent, numbered_steps = True, True
            if numbered_steps and not numbered:
                in_parent = numbered_steps = False  # the numbered steps are over
            level = 2 if (in_parent and (short or numbered)) else 1
            if level == 1:
                in_parent = False
            blocks.append(Heading(_heading_text(run[0]), level, numbered=numbered))
        elif len(run) == 2 and followed_by_body:
            blocks.append(Heading(_heading_text(run[0]), 1))
            blocks.append(Heading(_heading_text(run[1]), 2))
            in_parent, numbered_steps = True, False
        else:
            # Three or more short lines in a row are a heading followed by short
            # lines of its own (questions, links), not a ladder of sub-sections.
            in_parent = False
            blocks.append(Heading(_heading_text(run[0]), 1))
            middle = run[1:-1] if followed_by_body else run[1:]
            blocks.extend(Paragraph(line) for line in middle)
            if followed_by_body:
                blocks.append(Heading(_heading_text(run[-1]), 1))
        i = run_end + 1

    numbered_title = strip_number(title)[1]
    return ParsedDocument(title=numbered_title or title, blocks=blocks)
