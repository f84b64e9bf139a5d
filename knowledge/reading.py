"""Parsing untrusted guidance files within a time limit and a memory cap.

Word, PDF and web pages (and any large text file) are parsed in a separate
worker process, replaced whenever a file defeats it: one hostile file costs at
most ``max_seconds`` and never the indexing process itself. The cheap checks
that come first are in :mod:`knowledge.limits`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import structlog

from knowledge.blocks import ParsedDocument
from knowledge.ingest import parse_file
from knowledge.limits import ReadLimits, SkipFile, precheck

try:
    import resource
except ImportError:  # not on Windows: the worker then runs without a memory cap
    resource = None  # type: ignore[assignment]

log = structlog.get_logger(__name__)

_SANDBOXED = {"docx", "pdf", "html"}
_LARGE_TEXT_BYTES = 1_048_576


# ------------------------------------------------------------------ the worker
def _worker(connection: Connection, limits: ReadLimits) -> None:
    """Read files sent over ``connection`` until told to stop, within the memory cap."""
    if resource is not None:
        cap = limits.max_memory_mb * 1_048_576
        with contextlib.suppress(ValueError, OSError):  # a lower hard limit already applies
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
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
        log.error("index_file_failed", error=payload)
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
