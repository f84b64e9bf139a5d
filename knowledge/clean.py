"""Noise that real guidance documents carry, and how to recognise it.

Published guidance is copied out of PDFs, web pages and Word files. What comes
with it: icon captions ("Yellow circular graphic icon featuring ..."), empty
figure placeholders, stray markup, odd bullet characters, page-numbered tables
of contents and web navigation. None of it answers a question, and some of it
would out-rank real passages in a keyword search.
"""

from __future__ import annotations

import re
import unicodedata

_MARKUP = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(?:\s[^<>]*)?/?>")
_ZERO_WIDTH = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
_SPACES = re.compile(r"[ \u00a0\u2000-\u200a\u202f\u205f\u3000]+")

# "Yellow circular graphic icon featuring black torch icon", "Challenges icon"
_ICON_CAPTION = re.compile(r"(?i)^(?:[\w'-]+\s+){0,12}(?:icon|graphic|logo|image)(?:\s+[\w'-]+){0,8}$")
_ICON_WORDS = re.compile(r"(?i)\b(?:icon|graphic|logo)\b")
# "Figure 2: The commissioning cycle", "Diagram 1.", "Image: ..." standing alone
_FIGURE_CAPTION = re.compile(
    r"(?i)^(?:figure|fig\.|diagram|image|chart|picture|photo)\s*\d*(?:\.\d+)*\s*[:.\-–]?\s*.{0,80}$"
)
# "Great commissioning\t3", "Purpose of this document\t", "Introduction .......... 4"
_TOC_ENTRY = re.compile(r"^\s*\S.{0,100}?(?:\t+\s*\d{0,4}|\.{4,}\s*\d{1,4}|\s{2,}\d{1,4})\s*$")
_NAVIGATION = re.compile(
    r"(?i)^(?:previous page|next page|back to top|skip to (?:main )?content|print this page|"
    r"share this page|(?:[\w ]+:\s*)?table of contents|contents|on this page)$"
)
_BULLET = re.compile(r"^\s*(?:[-–]\s*[·•]|[•·▪◦●■□➢➤►\-*–]|o(?=\s))\s+")
_NUMBERED = re.compile(r"^\s*(?:\(?\d{1,2}[.)]|\(?[a-z][.)]|\(?[ivx]{1,4}[.)])\s+")


def normalise_unicode(text: str) -> str:
    """Unicode-normalise, drop invisible characters and unify line endings."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _ZERO_WIDTH.sub("", text)


def normalise_text(text: str) -> str:
    """As :func:`normalise_unicode`, and strip stray markup such as ``<u>Deliver</u>``."""
    return _MARKUP.sub("", normalise_unicode(text))


def tidy(line: str) -> str:
    """Collapse runs of spaces (not tabs: tabs mark table cells in copied text)."""
    return _SPACES.sub(" ", line).strip(" ")


def is_icon_caption(line: str) -> bool:
    words = line.split()
    if not words or len(words) > 14 or line.rstrip().endswith((".", ":", "?")):
        return False
    return (
        bool(_ICON_CAPTION.match(line.strip()))
        and bool(_ICON_WORDS.search(line))
        and ("featuring" in line.lower() or line.lower().rstrip().endswith(("icon", "graphic", "logo")))
    )


def is_figure_caption(line: str) -> bool:
    stripped = line.strip()
    return bool(_FIGURE_CAPTION.match(stripped)) and len(stripped.split()) <= 14


def is_toc_entry(line: str) -> bool:
    return bool(_TOC_ENTRY.match(line)) and line.count("\t") <= 2 and not line.strip().endswith(".")


def is_navigation(line: str) -> bool:
    return bool(_NAVIGATION.match(line.strip()))


def is_noise(line: str) -> bool:
    return is_icon_caption(line) or is_figure_caption(line) or is_navigation(line)


def strip_bullet(line: str) -> tuple[bool, str]:
    """Return (was_bullet, text) for a line that may start with a bullet marker."""
    match = _BULLET.match(line)
    if match:
        return True, line[match.end() :].strip()
    return False, line.strip()


def strip_number(line: str) -> tuple[bool, str]:
    match = _NUMBERED.match(line)
    if match:
        return True, line[match.end() :].strip()
    return False, line.strip()


def clean_cell(text: str) -> str:
    return tidy(text.replace("\n", " ")).strip()
