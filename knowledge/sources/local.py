"""A folder or file on this server, the first kind of source.

A file is unchanged when its size and time are (nothing is read), or when its
content hash is (it was saved again: only its time is remembered). Files gone
from the folder, or now excluded (``--exclude``, ``.guidanceignore``), are
removed. Changed files are read where they are.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from knowledge.ingest import Skipped, discover
from knowledge.sources.base import Change, Fetched, Removed, SourceDocument, Unchanged
from storage.guidance import SourceRow


class LocalFolder:
    kind = "folder"

    def __init__(
        self, location: str, excludes: Sequence[str] = (), *, on_files: Callable[[int], None] | None = None
    ) -> None:
        self.location = location
        self._excludes = list(excludes)
        self._on_files = on_files

    @property
    def state(self) -> dict[str, Any]:
        return {}  # each file's size, time and hash are kept with the file's own record

    def close(self) -> None:
        pass

    def changes(self, known: Mapping[str, SourceRow], state: Mapping[str, Any]) -> Iterator[Change]:
        files, skipped = discover([Path(self.location)], self._excludes)
        yield from skipped
        if self._on_files:
            self._on_files(len(files))
        for source in files:
            record = known.get(source.key)
            try:
                stat = source.path.stat()
                if record and record.size == stat.st_size and record.mtime_ns == stat.st_mtime_ns:
                    yield Unchanged(source.key, source.display)
                    continue
                fingerprint = source.fingerprint()
            except OSError as exc:
                yield Skipped(source.display, f"it could not be read ({exc.strerror or exc})")
                continue
            if record and record.fingerprint == fingerprint:
                yield Unchanged(source.key, source.display, modified_ns=stat.st_mtime_ns)  # saved again, not changed
                continue
            yield Fetched(
                SourceDocument(
                    key=source.key,
                    display=source.display,
                    link="",
                    marker="",
                    suffix=source.path.suffix.lower(),
                    data=b"",
                    modified_ns=stat.st_mtime_ns,
                    path=source.path,
                    fingerprint=fingerprint,
                    size=stat.st_size,
                )
            )
        found = {f.key for f in files}
        # A folder that could not be opened this time is not gone: its earlier passages keep answering.
        unreadable = tuple(s.unreadable_folder.rstrip(os.sep) + os.sep for s in skipped if s.unreadable_folder)
        yield from (
            Removed(key) for key in known if key not in found and not (unreadable and key.startswith(unreadable))
        )
