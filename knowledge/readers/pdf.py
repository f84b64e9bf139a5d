"""PDF files: the text layer of each page, read as plain text.

A PDF has no paragraphs, only positioned lines. Lines are joined back into
paragraphs unless a line looks like a heading or a list item, and repeated
running headers and footers (the same line on most pages) are dropped.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError

from knowledge.blocks import ParsedDocument
from knowledge.readers.text import looks_like_heading, parse_plain_text


class PdfProblem(Exception):
    """A PDF that cannot be read, with a reason written for the person indexing it."""


_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\s*$", re.IGNORECASE)
_LIST_START = re.compile(r"^\s*(?:[•·▪◦●■\-*–]|\d{1,2}[.)])\s+")


def parse_pdf(path: Path, fallback_title: str) -> ParsedDocument:
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise PdfProblem("it is password-protected")
            except (FileNotDecryptedError, NotImplementedError) as exc:
                raise PdfProblem("it is password-protected") from exc
        pages = [page.extract_text() or "" for page in reader.pages]
        title = ""
        if reader.metadata is not None and reader.metadata.title:
            title = str(reader.metadata.title).strip()
    except PdfProblem:
        raise
    except FileNotDecryptedError as exc:
        raise PdfProblem("it is password-protected") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AssertionError, OSError) as exc:
        raise PdfProblem("it is damaged or is not really a PDF") from exc
    if not any(p.strip() for p in pages):
        raise PdfProblem("it has no text layer (a scan or images only); run it through OCR first")
    text = _reflow(pages)
    doc = parse_plain_text(text, title or fallback_title)
    return doc


def _reflow(pages: list[str]) -> str:
    page_lines = [[line.rstrip() for line in page.split("\n")] for page in pages]
    # A line on more than half the pages is a running header or footer.
    counts = Counter(line.strip() for lines in page_lines for line in set(lines) if line.strip())
    threshold = max(2, len(pages) // 2 + 1)
    repeated = {line for line, n in counts.items() if n >= threshold} if len(pages) > 1 else set()
    paragraphs: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            paragraphs.append(" ".join(current))
            current.clear()

    for lines in page_lines:
        for line in lines:
            stripped = line.strip()
            if not stripped:
                flush()
                continue
            if stripped in repeated or _PAGE_NUMBER.match(stripped):
                continue
            if _LIST_START.match(stripped) or "\t" in stripped:
                flush()
                paragraphs.append(stripped)
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
