"""PDF files: the text layer of each page, with headings found from the fonts.

A PDF has no paragraphs, only positioned runs of text in a font. Where the
document uses more than one style, a line set wholly in bold or in a larger
size than the body text is a heading, and the sizes give the heading levels
(so a table's column headings, in the body font, never become section
headings). Body lines are joined back into paragraphs; a numbered clause
("(2)", "(a)") or a bullet starts a new one. Repeated running headers and
footers (the same line, page numbers aside, on most pages) and page numbers
are dropped. A PDF whose text is all in one style is read as plain text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, LimitReachedError, PdfReadError

from knowledge.blocks import Block, Heading, Paragraph, ParsedDocument
from knowledge.clean import is_noise, normalise_text, tidy
from knowledge.readers.text import looks_like_heading, parse_plain_text


class PdfProblem(Exception):
    """A PDF that cannot be read, with a reason written for the person indexing it."""


_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
_LIST_START = re.compile(r"^\s*(?:[•·▪◦●■\-*–]|\d{1,2}[.)]|\(\s*[0-9]{1,3}[A-Z]{0,2}\s*\)|\(\s*[a-z]{1,4}\s*\))\s+")
_SENTENCE_END = (".", "?", "!", ":", ";", "—", "–")


@dataclass
class _Line:
    text: str
    bold: bool = False
    size: float = 0.0

    @property
    def style(self) -> tuple[float, bool]:
        return (round(self.size, 1), self.bold)


def parse_pdf(path: Path, fallback_title: str, max_pages: int = 5_000) -> ParsedDocument:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise PdfProblem("it is password-protected")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise PdfProblem("it is password-protected") from exc
        if len(reader.pages) > max_pages:
            raise PdfProblem(f"it has {len(reader.pages):,} pages, more than the {max_pages:,} read from one file")
        pages = [_page_lines(page) for page in reader.pages]
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title).strip()
    except PdfProblem:
        raise
    except LimitReachedError as exc:
        raise PdfProblem("part of it unpacks to far more data than any page holds (a damaged or hostile PDF)") from exc
    except FileNotDecryptedError as exc:
        raise PdfProblem("it is password-protected") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AssertionError, OSError) as exc:
        raise PdfProblem("it is damaged or is not really a PDF") from exc
    if not any(line.text.strip() for lines in pages for line in lines):
        raise PdfProblem("it has no text layer (a scan or images only); run it through OCR first")
    lines = _drop_running_lines(pages)
    body_style = _body_style(lines)
    if body_style is None:
        doc = parse_plain_text(_reflow([line.text for line in lines]), title or fallback_title)
        return doc
    return _styled_document(lines, body_style, title, fallback_title)


def _page_lines(page: Any) -> list[_Line]:
    """The page's lines, each with the font style most of its letters are set in."""
    lines: list[_Line] = []
    text: list[str] = []
    styles: Counter[tuple[float, bool]] = Counter()

    def end_line() -> None:
        joined = normalise_text("".join(text)).strip()
        if joined:
            (size, bold), _ = styles.most_common(1)[0] if styles else ((0.0, False), 0)
            lines.append(_Line(joined, bold=bold, size=size))
        text.clear()
        styles.clear()

    def visit(fragment: str, _cm: Any, _tm: Any, font: Any, size: float) -> None:
        name = str((font or {}).get("/BaseFont", "")) if hasattr(font, "get") else ""
        style = (
            round(float(size or 0.0), 1),
            "bold" in name.lower() or "black" in name.lower() or "heavy" in name.lower(),
        )
        pieces = fragment.split("\n")
        for n, piece in enumerate(pieces):
            if n:
                end_line()
            text.append(piece)
            letters = sum(ch.isalnum() for ch in piece)
            if letters:
                styles[style] += letters

    page.extract_text(visitor_text=visit)
    end_line()
    return lines


def _drop_running_lines(pages: list[list[_Line]]) -> list[_Line]:
    """Every page's lines in order, without running headers, footers and page numbers."""

    def key(line: _Line) -> str:
        return re.sub(r"\d+", "#", line.text.strip().lower())

    counts = Counter(k for lines in pages for k in {key(line) for line in lines})
    threshold = max(2, len(pages) // 2 + 1)
    repeated = {k for k, n in counts.items() if n >= threshold} if len(pages) > 1 else set()
    kept: list[_Line] = []
    for lines in pages:
        for line in lines:
            running = key(line) in repeated or _PAGE_NUMBER.match(line.text)
            if running and not _is_section_number(line, kept):
                continue
            kept.append(line)
        kept.append(_Line(""))  # a page break ends a paragraph only if the text says so
    return kept


def _is_section_number(line: _Line, before: list[_Line]) -> bool:
    """A bare number set in a heading style right after a heading ("51" under its title) is a section number."""
    previous = next((b for b in reversed(before) if b.text), None)
    return bool(line.bold and previous is not None and previous.bold and line.text.strip().isdigit())


def _body_style(lines: list[_Line]) -> tuple[float, bool] | None:
    """The style of most of the text, or None when the whole document is in one style."""
    weights: Counter[tuple[float, bool]] = Counter()
    for line in lines:
        if line.text and line.size:
            weights[line.style] += len(line.text)
    if len(weights) < 2:
        return None
    body, body_weight = weights.most_common(1)[0]
    headingish = sum(w for style, w in weights.items() if _stands_out(style, body))
    if not headingish or headingish > 0.5 * body_weight:
        return None
    return body


def _stands_out(style: tuple[float, bool], body: tuple[float, bool]) -> bool:
    size, bold = style
    return size > body[0] + 0.4 or (bold and not body[1] and size >= body[0] - 0.6)


def _styled_document(lines: list[_Line], body: tuple[float, bool], title: str, fallback_title: str) -> ParsedDocument:
    heading_styles = sorted(
        {line.style for line in lines if line.text and _is_heading(line, body)}, key=lambda s: (-s[0], not s[1])
    )
    level_of = {style: n + 1 for n, style in enumerate(heading_styles)}
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            text = tidy(" ".join(paragraph))
            if text and not is_noise(text):
                blocks.append(Paragraph(text))
            paragraph.clear()

    previous_heading: Heading | None = None
    for line in lines:
        text = line.text.strip()
        if not text:
            continue
        if _is_heading(line, body):
            flush()
            level = level_of[line.style]
            if (
                previous_heading is not None
                and blocks
                and blocks[-1] is previous_heading
                and previous_heading.level == level
                and not text[:1].isdigit()
            ):
                previous_heading.text = f"{previous_heading.text} {text}"  # a heading wrapped over two lines
                continue
            previous_heading = Heading(text, level)
            blocks.append(previous_heading)
            continue
        previous_heading = None
        if _LIST_START.match(text) and paragraph:
            flush()
        if paragraph and paragraph[-1].endswith("-") and text[:1].islower():
            paragraph[-1] = paragraph[-1][:-1] + text  # a word hyphenated across lines
        else:
            paragraph.append(text)
    flush()
    if not title:
        first = next((b for b in blocks if isinstance(b, Heading)), None)
        if first is not None and first.level == 1:
            title = first.text
            blocks.remove(first)
    return ParsedDocument(title=title or fallback_title, blocks=blocks)


def _is_heading(line: _Line, body: tuple[float, bool]) -> bool:
    text = line.text.strip()
    if not _stands_out(line.style, body) or _LIST_START.match(text) or len(text.split()) > 20:
        return False
    return any(ch.isalnum() for ch in text)


def _reflow(page_lines: list[str]) -> str:
    """Join single-style PDF lines back into paragraphs for the plain-text reader."""
    paragraphs: list[str] = []
    current: list[str] = []
    lengths = sorted(len(line.strip()) for line in page_lines if line.strip())
    # A line this long ran into the margin: the next line carries it on.
    wrapped = 0.6 * lengths[int(0.9 * (len(lengths) - 1))] if lengths else 0

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for line in page_lines:
        stripped = line.strip()
        if not stripped:
            flush()
            continue
        if "\t" in stripped:
            flush()
            paragraphs.append(stripped)
            continue
        if _LIST_START.match(stripped):
            flush()  # a numbered clause or bullet starts its own paragraph; its wrapped lines follow
            current.append(stripped)
            if len(stripped) < wrapped:
                flush()  # "1. Analyse": a short numbered line stands alone
            continue
        if looks_like_heading(stripped) and (not current or current[-1].endswith((".", ":", "?", "!"))):
            flush()
            paragraphs.append(stripped)
            continue
        if current and current[-1].endswith("-") and stripped[:1].islower():
            current[-1] = current[-1][:-1] + stripped  # a word hyphenated across lines
            continue
        current.append(stripped)
        if stripped.endswith((".", "?", "!", ":")) and len(stripped) < 60:
            flush()  # a short line ending a sentence usually ends its paragraph
    flush()
    return "\n\n".join(paragraphs)
