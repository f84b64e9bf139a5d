"""How much a guidance file may be, unpack to and contain before it is parsed, and the checks that say so.

A guidance folder is whatever people saved into it. A 200 KB Word file can
unpack to gigabytes of XML, a PDF can declare a stream of any length, a web
page can nest elements a million deep. These checks are cheap and run before
anything is parsed; each refusal says why in words the person indexing can
act on. :mod:`knowledge.reading` bounds the parsing itself (time and memory).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*?(/?)>")
_VOID = {
    b"area",
    b"base",
    b"br",
    b"col",
    b"embed",
    b"hr",
    b"img",
    b"input",
    b"link",
    b"meta",
    b"param",
    b"source",
    b"track",
    b"wbr",
    b"p",
    b"li",
    b"td",
    b"th",
    b"tr",
    b"option",
    b"dt",
    b"dd",
}


class SkipFile(Exception):
    """A file that was not indexed, and why."""


@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int = 20 * 1_048_576  # the file itself (MAX_FILE_MB)
    max_unpacked_bytes: int = 200 * 1_048_576  # what a Word file's parts may unpack to
    max_ratio: int = 100  # how many times a Word file's parts may expand when unpacked
    max_text_part_bytes: int = 64 * 1_048_576  # a Word file's XML (text, styles, numbering) unpacked; media aside
    max_blocks: int = 200_000  # paragraphs, list items and table rows
    max_depth: int = 400  # how deeply a web page may nest its elements
    max_pages: int = 5_000  # pages of a PDF
    max_seconds: float = 30.0  # reading one file
    max_memory_mb: int = 1_536  # the reading process


def mb(size: float, than: float | None = None) -> str:
    """A size in MB, with as many decimals as it takes to differ from ``than`` ("20.001 MB", not "20 MB")."""
    value = size / 1_048_576
    for decimals in range(4):
        shown = f"{value:.{decimals}f}"
        if than is None or shown != f"{than / 1_048_576:.{decimals}f}" or decimals == 3:
            return f"{shown} MB" if decimals or value >= 1 or value == 0 else f"{value:.2f} MB"
    return f"{value} MB"


def check_docx(path: Path, limits: ReadLimits) -> None:
    """Refuse a Word file whose parts unpack to far more than any document needs (a "zip bomb")."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise SkipFile("it could not be opened as a Word document (damaged, or not really .docx)") from exc
    unpacked = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members) or 1
    if unpacked > limits.max_unpacked_bytes:
        raise SkipFile(
            f"it unpacks to {mb(unpacked, than=limits.max_unpacked_bytes)}, over the {mb(limits.max_unpacked_bytes)} "
            "a Word document may unpack to"
        )
    if unpacked > 10 * 1_048_576 and unpacked / packed > limits.max_ratio:
        raise SkipFile(
            f"it unpacks to {unpacked // packed} times its size ({mb(unpacked)}), which no real document does; "
            "open and save it again in Word"
        )
    # Pictures padding out the file can hide one part that inflates: the XML is what gets parsed, so it is
    # bounded on its own (a thousand-page report's text is a few MB of XML).
    xml = [m for m in members if m.filename.lower().endswith((".xml", ".rels"))]
    text_bytes = sum(m.file_size for m in xml)
    if text_bytes > limits.max_text_part_bytes:
        raise SkipFile(
            f"its text unpacks to {mb(text_bytes, than=limits.max_text_part_bytes)}, over the "
            f"{mb(limits.max_text_part_bytes)} of text a Word document may hold; open and save it again in Word"
        )
    for member in xml:
        if member.file_size > 10 * 1_048_576 and member.file_size / (member.compress_size or 1) > limits.max_ratio:
            raise SkipFile(
                f"part of it unpacks to {member.file_size // (member.compress_size or 1)} times its size "
                f"({mb(member.file_size)}), which no real document does; open and save it again in Word"
            )


def check_html(data: bytes, limits: ReadLimits) -> None:
    """Refuse a page that nests elements deeper, or has more of them, than any readable page."""
    depth = deepest = count = 0
    for match in _TAG.finditer(data):
        closing, name, self_closing = match.group(1), match.group(2).lower(), match.group(3)
        count += 1
        if count > limits.max_blocks * 5:
            raise SkipFile(f"it has more than {limits.max_blocks * 5:,} HTML elements, more than any readable page")
        if name in _VOID or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
            if deepest > limits.max_depth:
                raise SkipFile(
                    f"its elements are nested more than {limits.max_depth} deep, which no readable page needs"
                )


def precheck(path: Path, kind: str, limits: ReadLimits) -> int:
    """Cheap checks before parsing; returns the file's size."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise SkipFile(f"it could not be read ({exc.strerror or exc})") from exc
    if size == 0:
        raise SkipFile("it is empty")
    if size > limits.max_bytes:
        raise SkipFile(f"it is {mb(size, than=limits.max_bytes)}, over the {mb(limits.max_bytes)} limit (MAX_FILE_MB)")
    if kind == "docx":
        check_docx(path, limits)
    elif kind == "html":
        with path.open("rb") as handle:
            check_html(handle.read(), limits)
    return size
