"""One backup archive for the whole instance: the database and the guidance index kept in ``DATA_DIR``.

``commissioning-bot backup FILE`` writes a ``.tar.gz`` holding:

- ``manifest.json``: the release that made it, when, the schema revision and what is inside;
- ``database/``: every table as JSON lines (:mod:`storage.backup`; the same on SQLite and PostgreSQL);
- ``files/chroma/`` and ``files/knowledge/``: Chroma's vectors on disk and the index's own files, when they live in
  ``DATA_DIR`` (with ``CHROMA_HOST`` the vectors live in the Chroma server: back that up with the server, or run
  ``commissioning-bot index`` after a restore to embed the guidance again). SQLite files inside (Chroma's own
  database) are copied with SQLite's online backup, so a running bot never leaves a torn copy.

``commissioning-bot restore FILE`` puts all of it back into an empty database and a ``DATA_DIR`` with no index yet.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import structlog

from bot.config import Settings
from bot.version import VERSION
from storage.backup import BackupError, DumpSummary, dump_database, restore_database
from storage.db import Database

__all__ = ["BackupError", "BackupReport", "write_backup", "restore_backup"]

log = structlog.get_logger(__name__)

MANIFEST = "manifest.json"
_SQLITE_SUFFIXES = (".sqlite3", ".sqlite", ".db")


@dataclass
class BackupReport:
    tables: DumpSummary
    files: int
    notes: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _index_folders(settings: Settings) -> dict[str, Path]:
    """The index's folders in DATA_DIR that belong in a backup (Chroma's only when it runs on disk here)."""
    folders = {"knowledge": settings.knowledge_dir}
    if not settings.chroma_host:
        folders["chroma"] = settings.chroma_dir
    return folders


def _copy_file(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix in _SQLITE_SUFFIXES:
        # A live SQLite file (Chroma's) copied byte by byte mid-write can be torn; the online backup cannot.
        with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as live, sqlite3.connect(target) as copy:
            live.backup(copy)
        copy.close()
        live.close()
        return
    shutil.copy2(source, target)


def _copy_tree(source: Path, target: Path) -> int:
    copied = 0
    for path in sorted(source.rglob("*")):
        if path.is_file() and not path.name.endswith(("-wal", "-shm", "-journal", ".lock")):
            _copy_file(path, target / path.relative_to(source))
            copied += 1
    return copied


def write_backup(settings: Settings, database: Database, target: Path) -> BackupReport:
    """Write the archive to ``target`` (via a temporary file beside it, so a failure never leaves half a backup)."""
    target = target.expanduser().resolve()
    if not target.parent.is_dir():
        raise BackupError(f"The folder {target.parent} does not exist.")
    with tempfile.TemporaryDirectory(prefix="commissioning-backup-") as work:
        staging = Path(work)
        tables = dump_database(database, staging / "database")
        files = 0
        notes: list[str] = []
        for name, folder in _index_folders(settings).items():
            if folder.is_dir():
                files += _copy_tree(folder, staging / "files" / name)
        if settings.chroma_host:
            notes.append(
                f"The guidance vectors live in the Chroma server at {settings.chroma_host} and are not in this backup: "
                "back up that server too, or run `commissioning-bot index` after restoring."
            )
        manifest = {
            "product": "commissioning-assistant",
            "version": VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": tables,
            "files": files,
            "chroma_included": not settings.chroma_host,
        }
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with open(handle, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                for path in sorted(staging.rglob("*")):
                    if path.is_file():
                        archive.add(path, arcname=str(path.relative_to(staging)), recursive=False)
            Path(temporary).replace(target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    log.info("backup_written", rows=sum(tables.values()), files=files, bytes=target.stat().st_size)
    return BackupReport(tables, files, notes)


def _index_present(settings: Settings) -> list[Path]:
    return [folder for folder in _index_folders(settings).values() if folder.is_dir() and any(folder.iterdir())]


def restore_backup(settings: Settings, database: Database, source: Path) -> BackupReport:
    """Restore the archive at ``source`` into ``database`` (empty) and ``DATA_DIR`` (with no index yet)."""
    if not source.is_file():
        raise BackupError(f"There is no backup file at {source}.")
    present = _index_present(settings)
    if present:
        raise BackupError(
            f"{present[0]} already holds a guidance index, so nothing was restored. Restore into an empty DATA_DIR."
        )
    with tempfile.TemporaryDirectory(prefix="commissioning-restore-") as work:
        staging = Path(work)
        try:
            with tarfile.open(source, mode="r:gz") as archive:
                # The "data" filter refuses absolute paths, "..", links out of the folder and device files.
                archive.extractall(staging, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise BackupError(f"{source} is not a readable backup archive ({error}).") from error
        if not (staging / MANIFEST).is_file():
            raise BackupError(f"{source} is not a Commissioning Assistant backup: it has no {MANIFEST}.")
        manifest = json.loads((staging / MANIFEST).read_text(encoding="utf-8"))
        tables = restore_database(database, staging / "database")
        files = 0
        for name, folder in _index_folders(settings).items():
            saved = staging / "files" / name
            if saved.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                files += _copy_tree(saved, folder)
    notes = []
    if not manifest.get("chroma_included", True) or (settings.chroma_host and files == 0):
        notes.append("The guidance vectors were not in this backup: run `commissioning-bot index` to embed it again.")
    log.info("backup_restored", rows=sum(tables.values()), files=files, made_by=manifest.get("version"))
    return BackupReport(tables, files, notes)
