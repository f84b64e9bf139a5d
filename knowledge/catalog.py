"""Moving an index kept in ``catalog.json`` (by earlier releases) into the shared database.

Earlier releases kept each process's passages in ``DATA_DIR/knowledge/catalog.json``.
The first time a knowledge base opens the database it moves such a catalog
across, source by source (each move its own transaction, so a stop part-way
leaves nothing half-moved and the next start carries on), then renames the
file ``catalog.json.moved``. Vectors need no moving: Chroma keeps them under the
same passage ids.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import structlog

from knowledge.models import Chunk
from knowledge.passages import to_row
from storage.guidance import GuidanceRepository, SourceRow

log = structlog.get_logger(__name__)

CATALOG_VERSION = 3  # the last layout written; an older one held passages read the old way, so they are re-read


def move_catalog_into(path: Path, repository: GuidanceRepository) -> int:
    """Move the catalog at ``path`` into the database, if there is one; returns how many sources were moved."""
    if not path.is_file():
        return 0
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        log.warning("catalog_unreadable", path=str(path), error=str(exc)[:200])
        data = {}
    moved = 0
    if data.get("version") == CATALOG_VERSION:
        known = {s.key: s for s in repository.sources()}
        for record in data.get("sources", []):
            key = str(record["key"])
            if key in known and known[key].fingerprint == record["sha256"]:
                continue  # moved by an earlier start that stopped before renaming the file
            root = str(record["root"])
            repository.ensure_root(root, kind="file" if root == key else "folder", starter=bool(record.get("starter")))
            chunks = [Chunk.from_json(c) for c in record.get("chunks", [])]
            repository.replace_source(
                SourceRow(
                    key=key,
                    display=str(record["display"]),
                    fingerprint=str(record["sha256"]),
                    size=int(record["size"]),
                    mtime_ns=int(record["mtime_ns"]),
                    root=root,
                ),
                [to_row(chunk) for chunk in chunks],
            )
            moved += 1
    path.replace(path.with_name(path.name + ".moved"))
    return moved
