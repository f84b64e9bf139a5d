"""Turn a parsed document into passages by its structure, not by character count.

- A small section (a heading and a few short paragraphs) is one passage, so the
  heading's topic and everything said under it stay together.
- In a longer section each paragraph is a passage; runs of very short
  paragraphs are grouped.
- A list stays with the sentence that introduces it.
- Each table row is its own passage and carries the column headings
  ("Stakeholder group: Portfolio Holders. Role(s) in the commissioning
  process: ...").
- Numbered clauses, as in legislation and constitutions ("(1) ... (a) ...",
  "4.2 ..."), are grouped by their numbering: each top-level clause is a
  passage with its sub-clauses, and a long one is split with its opening
  words repeated, so every passage reads on its own.
- A heading that is only a number ("51" under "Standstill periods") joins the
  heading above it ("51 Standstill periods").
- Every passage keeps its file, heading path and position. A passage that is
  only a heading-like fragment is marked so it is never quoted as an answer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from knowledge.blocks import Block, Heading, ListBlock, Paragraph, ParsedDocument, Table
from knowledge.models import Chunk, PassageKind
from knowledge.readers.text import looks_like_heading
from knowledge.roles import split_responsibilities, table_openers

if TYPE_CHECKING:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

SMALL_SECTION_WORDS = 180
SHORT_PARAGRAPH_WORDS = 25
GROUP_WORDS = 150
LIST_WORDS = 220
MAX_PASSAGE_CHARS = 1400


@cache
def _splitter() -> RecursiveCharacterTextSplitter:
    # lazy: LangChain's splitter loads only when a passage is too long to keep whole; answering never needs it.
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter(
        chunk_size=MAX_PASSAGE_CHARS,
        chunk_overlap=150,
        separators=["\n\n", "\n", ". ", "; ", ", ", " "],
        keep_separator="end",
    )


_DEFINITION_LINE = re.compile(r"^(?P<term>[A-Z][\w'’/ ()-]{0,40}?)\s+[–—-]\s+(?P<body>\S.*)$")
# “Relevant body” means ..., a “key performance indicator” is ..., "X" has the meaning given in ...
_QUOTED_DEFINITION = re.compile(
    r"[“\"‘'](?P<term>[^“”\"‘’']{2,60})[”\"’']\s*(?:\([^)]{0,40}\)\s*)?"
    r"(?:means|is|are|includes|refers to|has the meaning)\b"
)
_DEFINITION_SENTENCE = re.compile(
    r"(?:^|(?<=[.!?]\s))(?:The\s+)?(?P<term>[A-Z][\w'’ -]{1,40}?)\s+(?:is|are|means|refers to)\s+"
    r"(?:the|a|an|essentially|defined as|where|when)\b"
)
# A last column headed "What it is" / "What is it?" / "Definition" defines each row's first cell.
_DESCRIBES_COLUMN = re.compile(
    r"(?i)^(?:what (?:it|they) (?:is|are|means?)|what (?:is|are|does) (?:it|they)(?: mean)?|"
    r"definition|meaning|description)\??$"
)
_PRONOUNS = {"it", "this", "that", "they", "there", "which", "these", "those", "essentially", "he", "she", "we"}
_WHAT_IS_HEADING = re.compile(
    r"(?i)^(?:what is|what are|what does)\s+(?:meant by\s+)?(?:an?\s+|the\s+)?(?P<term>.+?)\??$"
)


def words(text: str) -> int:
    return len(text.split())


def normalise_term(term: str) -> str:
    term = term.lower().strip(" '\"‘’“”?:.")
    term = re.sub(r"^(?:the|a|an)\s+", "", term)
    term = re.sub(r"\s+", " ", term)
    if len(term) > 3 and term.endswith("s") and not term.endswith("ss"):
        term = term[:-1]
    return term


# How strongly a passage defines a term: a "Term – meaning" line or a "What is X?"
# heading is a definition; "X is the ..." in running text usually is; a heading
# only names the passage's topic.
DEFINES_LINE = 3.0
DEFINES_SENTENCE = 2.5
DEFINES_TOPIC = 2.0


def defined_terms(text: str) -> dict[str, float]:
    """Terms that a passage defines, with how strongly it defines each."""
    found: dict[str, float] = {}

    def note(term: str, strength: float) -> None:
        term = normalise_term(term)
        if term and found.get(term, 0.0) < strength:
            found[term] = strength

    for line in text.split("\n"):
        line = line.lstrip("• ").strip()
        match = _DEFINITION_LINE.match(line)
        if match and words(match.group("term")) <= 5:
            note(match.group("term"), DEFINES_LINE)
    for match in _DEFINITION_SENTENCE.finditer(text):
        term = match.group("term")
        if words(term) <= 5 and not _PRONOUNS & set(term.lower().split()):
            note(term, DEFINES_SENTENCE)
    for match in _QUOTED_DEFINITION.finditer(text):
        term = match.group("term").strip(" *_")
        if words(term) <= 6:
            note(term, DEFINES_SENTENCE)
    return found


def is_fragment(text: str) -> bool:
    """A heading-like scrap ("Time limits and termination", a table's column names) that answers nothing."""
    stripped = " ".join(text.split())
    return len(stripped.split()) <= 10 and looks_like_heading(stripped)


class _Builder:
    def __init__(self, source: str, source_key: str, title: str) -> None:
        self.source = source
        self.source_key = source_key
        self.title = title
        self.chunks: list[Chunk] = []
        self._id_prefix = hashlib.sha1(source_key.encode("utf-8")).hexdigest()[:12]

    def add(self, text: str, section: tuple[str, ...], kind: PassageKind, meta: dict[str, Any] | None = None) -> None:
        text = text.strip()
        if not text:
            return
        pieces = _splitter().split_text(text) if len(text) > MAX_PASSAGE_CHARS else [text]
        for piece in pieces:
            position = len(self.chunks)
            chunk_meta = dict(meta or {})
            chunk_meta.setdefault("title", self.title)
            defines = dict(chunk_meta.get("defines", {}))
            for term, strength in defined_terms(piece).items():
                defines[term] = max(strength, defines.get(term, 0.0))
            if section:
                heading = _WHAT_IS_HEADING.match(section[-1])
                topic = normalise_term(heading.group("term") if heading else SECTION_NUMBER.sub("", section[-1]))
                strength = DEFINES_LINE if heading else DEFINES_TOPIC
                if (
                    topic
                    and words(topic) <= 6
                    and any(ch.isalpha() for ch in topic)
                    and defines.get(topic, 0.0) < strength
                ):
                    defines[topic] = strength
            if defines:
                chunk_meta["defines"] = defines
            if is_fragment(piece):
                chunk_meta["fragment"] = True
            self.chunks.append(
                Chunk(
                    # The text's hash is part of the id so that a changed passage gets a new vector.
                    chunk_id=f"{self._id_prefix}-{position:05d}-{hashlib.sha1(piece.encode('utf-8')).hexdigest()[:8]}",
                    text=piece.strip(),
                    source=self.source,
                    source_key=self.source_key,
                    section=section,
                    position=position,
                    kind=kind,
                    meta=chunk_meta,
                )
            )


# "51 Standstill periods", "4.2 Officers": a heading's own number, not part of its topic.
SECTION_NUMBER = re.compile(r"^\s*[0-9]{1,4}[A-Z]{0,2}(?:\.[0-9]{1,3})*\.?\s+")
_NUMBER_ONLY = re.compile(
    r"^(?:section|clause|article|rule|paragraph|part)?\s*[0-9]{1,4}[A-Z]{0,2}(?:\.[0-9]{1,3})*\.?$", re.I
)


def _sections(blocks: Iterable[Block], title: str = "") -> Iterable[tuple[tuple[str, ...], list[Block]]]:
    """Yield (heading path, body blocks) for each stretch between headings."""
    stack: list[tuple[int, str]] = []
    body: list[Block] = []
    started = False
    for block in blocks:
        if isinstance(block, Heading):
            if not stack and not started and title and _NUMBER_ONLY.match(block.text.strip()):
                # The document's first heading became its title; "18" under it is that title's number.
                stack.append((block.level, f"{block.text.strip()} {title}"))
                continue
            if body:
                yield tuple(text for _, text in stack), body
                body = []
            elif stack and _NUMBER_ONLY.match(block.text.strip()) and not _NUMBER_ONLY.match(stack[-1][1]):
                # "Standstill periods" then "51": one heading, "51 Standstill periods".
                level, text = stack.pop()
                stack.append((level, f"{block.text.strip()} {text}"))
                continue
            while stack and stack[-1][0] >= block.level:
                stack.pop()
            stack.append((block.level, block.text))
        else:
            started = True
            body.append(block)
    if body:
        yield tuple(text for _, text in stack), body


# Clause numbers: "(1)", "(2A)", "(a)", "(iv)", "(A)", and dotted "4.2", "4.2.1" before a space.
_CLAUSE = re.compile(
    r"^\s*(?:\((?P<paren>[0-9]{1,3}[A-Z]{0,2}|[a-z]{1,4}|[A-Z]{1,2})\)|(?P<dotted>[0-9]{1,3}(?:\.[0-9]{1,3}){1,3})\.?)\s+(?=\S)"
)
_ROMAN = re.compile(r"^(?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii|xiii|xiv|xv)$")
CLAUSE_WORDS = 200
_TINY_CLAUSE_WORDS = 25


def _clause_style(text: str, last_letter: str | None) -> str | None:
    """The numbering style of a clause's marker: digits, letters, roman numerals or dotted numbers."""
    match = _CLAUSE.match(text)
    if not match:
        return None
    if match.group("dotted"):
        return f"dotted{match.group('dotted').count('.')}"
    marker = match.group("paren")
    if marker[0].isdigit():
        return "number"
    if marker.isupper():
        return "capital"
    # "(i)" after "(h)" is a letter; on its own it is a roman numeral.
    if _ROMAN.match(marker) and not (last_letter and len(marker) == 1 and ord(marker) == ord(last_letter) + 1):
        return "roman"
    return "letter"


def _clause_units(body: list[Block]) -> list[tuple[str, str | None]] | None:
    """The body as (text, numbering style) units when it is written as numbered clauses, else None."""
    units: list[tuple[str, str | None]] = []
    last_letter: str | None = None
    for block in body:
        texts = [block.text] if isinstance(block, Paragraph) else block.items if isinstance(block, ListBlock) else None
        if texts is None:
            return None  # a table among clauses: read the section the ordinary way
        for text in texts:
            style = _clause_style(text, last_letter)
            if style == "letter":
                marker = _CLAUSE.match(text).group("paren")  # type: ignore[union-attr]
                last_letter = marker[-1]
            units.append((text, style))
    top = next((style for _, style in units if style), None)
    if top not in ("number", "dotted1", "dotted2") or sum(1 for _, style in units if style == top) < 2:
        return None
    return units


def _emit_clauses(builder: _Builder, section: tuple[str, ...], units: list[tuple[str, str | None]]) -> None:
    top = next(style for _, style in units if style)
    groups: list[list[str]] = []
    preamble: list[str] = []
    for text, style in units:
        if style == top:
            groups.append([text])
        elif groups:
            groups[-1].append(text)  # a sub-clause, or a sentence that carries its clause on
        else:
            preamble.append(text)
    if preamble:
        _emit_paragraphs(builder, section, preamble, small=True)
    merged: list[list[str]] = []
    for group in groups:
        # A one-line clause ("(3) This section does not apply to private utilities.") reads best with its neighbour.
        if (
            merged
            and words(" ".join(group)) < _TINY_CLAUSE_WORDS
            and words(" ".join(merged[-1] + group)) <= CLAUSE_WORDS
        ):
            merged[-1].extend(group)
        else:
            merged.append(group)
    for group in merged:
        _emit_clause_group(builder, section, group)


def _emit_clause_group(builder: _Builder, section: tuple[str, ...], group: list[str]) -> None:
    kind = PassageKind.LIST if len(group) > 1 else PassageKind.PARAGRAPH
    if words(" ".join(group)) <= CLAUSE_WORDS or len(group) == 1:
        builder.add("\n".join(group), section, kind)
        return
    lead, rest = group[0], group[1:]
    part: list[str] = []
    for text in rest:
        if part and words(" ".join([lead, *part, text])) > CLAUSE_WORDS:
            builder.add("\n".join([lead, *part]), section, kind)
            part = []
        part.append(text)
    if part:
        builder.add("\n".join([lead, *part]), section, kind)


def _list_text(intro: str | None, items: list[str]) -> str:
    lines = [intro] if intro else []
    lines.extend(f"• {item}" for item in items)
    return "\n".join(lines)


def _emit_list(builder: _Builder, section: tuple[str, ...], intro: str | None, items: list[str]) -> None:
    group: list[str] = []
    budget = LIST_WORDS - (words(intro) if intro else 0)
    for item in items:
        if group and sum(words(i) for i in group) + words(item) > budget:
            builder.add(_list_text(intro, group), section, PassageKind.LIST)
            group = []
        group.append(item)
    if group:
        builder.add(_list_text(intro, group), section, PassageKind.LIST)


def _emit_table(builder: _Builder, section: tuple[str, ...], table: Table) -> None:
    headers = [h or f"Column {i + 1}" for i, h in enumerate(table.headers)]
    openers = table_openers(table.rows)
    for row in table.rows:
        if not any(row):
            continue
        parts = []
        cell_parts = [split_responsibilities(cell, openers) for cell in row]
        for header, cell, pieces in zip(headers, row, cell_parts, strict=False):
            if not cell:
                continue
            cell_text = "; ".join(part.rstrip(".") for part in pieces)
            parts.append(f"{header}: {cell_text.rstrip('.')}.")
        meta: dict[str, Any] = {"row_label": row[0], "headers": headers, "cells": row, "parts": cell_parts}
        if headers and _DESCRIBES_COLUMN.match(headers[-1]) and row[0]:
            meta["defines"] = {normalise_term(row[0]): DEFINES_LINE}
        builder.add(" ".join(parts), section, PassageKind.TABLE_ROW, meta)


def _emit_paragraphs(builder: _Builder, section: tuple[str, ...], paragraphs: list[str], small: bool) -> None:
    if not paragraphs:
        return
    if small:
        builder.add("\n".join(paragraphs), section, PassageKind.PARAGRAPH)
        return
    group: list[str] = []
    for paragraph in paragraphs:
        if words(paragraph) >= SHORT_PARAGRAPH_WORDS:
            if group:
                builder.add("\n".join(group), section, PassageKind.PARAGRAPH)
                group = []
            builder.add(paragraph, section, PassageKind.PARAGRAPH)
            continue
        if group and sum(words(p) for p in group) + words(paragraph) > GROUP_WORDS:
            builder.add("\n".join(group), section, PassageKind.PARAGRAPH)
            group = []
        group.append(paragraph)
    if group:
        builder.add("\n".join(group), section, PassageKind.PARAGRAPH)


def chunk_document(doc: ParsedDocument, source: str, source_key: str) -> list[Chunk]:
    builder = _Builder(source, source_key, doc.title)
    for section, body in _sections(doc.blocks, doc.title):
        # Passages before the first heading sit under the document's title.
        section = section or ((doc.title,) if doc.title else ())
        clauses = _clause_units(body)
        if clauses is not None:
            _emit_clauses(builder, section, clauses)
            continue
        paragraph_words = sum(words(b.text) for b in body if isinstance(b, Paragraph))
        small = paragraph_words <= SMALL_SECTION_WORDS
        pending: list[str] = []
        for index, block in enumerate(body):
            if isinstance(block, Paragraph):
                following = body[index + 1] if index + 1 < len(body) else None
                if isinstance(following, ListBlock):
                    continue  # it is the list's introduction; emitted with the list
                pending.append(block.text)
            elif isinstance(block, ListBlock):
                previous = body[index - 1] if index > 0 else None
                intro = previous.text if isinstance(previous, Paragraph) else None
                if small:
                    # Keep a small section whole: its paragraphs lead into the list.
                    intro = "\n".join(pending + ([intro] if intro else [])) or None
                    pending = []
                else:
                    _emit_paragraphs(builder, section, pending, small=False)
                    pending = []
                _emit_list(builder, section, intro, block.items)
            elif isinstance(block, Table):
                _emit_paragraphs(builder, section, pending, small)
                pending = []
                _emit_table(builder, section, block)
        _emit_paragraphs(builder, section, pending, small)
    return builder.chunks
