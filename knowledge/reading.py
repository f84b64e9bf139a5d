"""Reading untrusted files within bounds: size, unpacked size, structure, time and memory.

A guidance folder is whatever people saved into it. A 200 KB Word file can
unpack to gigabytes of XML, a PDF can declare a stream of any length, a web
page can nest elements a million deep. Every file is checked cheaply before
it is parsed (file size, what a Word file unpacks to, how deeply a page
nests), and Word, PDF and web pages (and any large text file) are parsed in a
separate worker process with a time limit and a memory cap, so one hostile
file costs at most ``max_seconds`` and never the indexing process itself.
Each refusal says why in words the person indexing can act on.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import zipfile
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bot.logging import event
from knowledge.blocks import ParsedDocument

log = logging.getLogger(__name__)

_SANDBOXED = {"docx", "pdf", "html"}
_LARGE_TEXT_BYTES = 1_048_576
_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9:-]*)[^<>]*?(/?)>")
_VOID = {b"area", b"base", b"br", b"col", b"embed", b"hr", b"img", b"input", b"link", b"meta", b"param", b"source",
         b"track", b"wbr", b"p", b"li", b"td", b"th", b"tr", b"option", b"dt", b"dd"}


class SkipFile(Exception):
    """A file that was not indexed, and why."""


@dataclass(frozen=True)
class ReadLimits:
    max_bytes: int = 20 * 1_048_576  # the file itself (MAX_FILE_MB)
    max_unpacked_bytes: int = 200 * 1_048_576  # what a Word file's parts may unpack to
    max_ratio: int = 100  # how many times a Word file's parts may expand when unpacked
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


# ------------------------------------------------------------------ the worker
def _worker(connection: Connection, limits: ReadLimits) -> None:
    """Read files sent over ``connection`` until told to stop, within the memory cap."""
    try:
        import resource

        cap = limits.max_memory_mb * 1_048_576
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ImportError, ValueError, OSError):
        pass
    from knowledge.ingest import parse_file

    while True:
        try:
            task = connection.recv()
        except EOFError:
            return
        if task is None:
            return
        path, kind = task
        try:
            connection.send(("ok", parse_file(Path(path), kind, limits)))
        except SkipFile as exc:
            connection.send(("skip", str(exc)))
        except MemoryError:
            connection.send(("skip", f"reading it needs more than the {limits.max_memory_mb:,} MB allowed"))
        except RecursionError:
            connection.send(("skip", "it is nested too deeply to be read"))
        except Exception as exc:  # a reader bug: the indexing process logs it and carries on
            connection.send(("error", f"{type(exc).__name__}: {exc}"[:500]))


class DocumentReader:
    """Parses files, the risky kinds in a worker process that is replaced whenever a file defeats it."""

    def __init__(self, limits: ReadLimits) -> None:
        self.limits = limits
        self._process: Any = None
        self._connection: Connection | None = None

    def __enter__(self) -> DocumentReader:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def read(self, path: Path, kind: str) -> ParsedDocument:
        from knowledge.ingest import parse_file

        size = precheck(path, kind, self.limits)
        if kind not in _SANDBOXED and size <= _LARGE_TEXT_BYTES:
            return parse_file(path, kind, self.limits)
        connection = self._start()
        connection.send((str(path), kind))
        if not connection.poll(self.limits.max_seconds):
            self._stop(kill=True)
            raise SkipFile(f"it took more than {self.limits.max_seconds:.0f} seconds to read, so it was left out")
        try:
            outcome, payload = connection.recv()
        except (EOFError, OSError) as exc:
            self._stop(kill=True)
            raise SkipFile(
                f"reading it needed more than the {self.limits.max_memory_mb:,} MB of memory allowed"
            ) from exc
        if outcome == "ok":
            return payload  # type: ignore[no-any-return]
        if outcome == "skip":
            raise SkipFile(payload)
        event(log, "index_file_failed", logging.ERROR, error=payload)
        raise SkipFile("it could not be read (an unexpected problem; see the log)")

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._connection is not None:
            return self._connection
        self._stop(kill=True)
        context = multiprocessing.get_context("forkserver")
        parent, child = context.Pipe()
        process = context.Process(target=_worker, args=(child, self.limits), daemon=True, name="guidance-reader")
        process.start()
        child.close()
        self._process, self._connection = process, parent
        return parent

    def _stop(self, kill: bool = False) -> None:
        process, connection = self._process, self._connection
        self._process = self._connection = None
        if connection is not None:
            try:
                if not kill:
                    connection.send(None)
            except OSError:
                pass
            connection.close()
        if process is not None:
            if kill:
                process.kill()
            process.join(timeout=5)

    def close(self) -> None:
        self._stop()
