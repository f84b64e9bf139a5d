"""One guidance index in the database, shared by processes with their own data folders, followed live.

Each knowledge base here stands for a process (its own data folder: its own copy of the vectors) on the
one database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set) and, for meaning search, one Chroma.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
from datetime import timedelta
from pathlib import Path

from knowledge.models import AnswerKind
from knowledge.service import KnowledgeBase
from storage.guidance import GuidanceRepository
from tests.conftest import MODEL_DIR
from tests.knowledge.conftest import make_settings

FLEET = "# Fleet\n\nThe fleet manager owns every vehicle replacement review.\n"
PARKS = "# Parks\n\nThe parks team leads the tree survey each spring.\n"


def _process(tmp_path: Path, name: str, database, *, dense: bool = False, chroma: Path | None = None) -> KnowledgeBase:
    settings = make_settings(tmp_path / name, dense=dense, starter_pack="off")
    if chroma is not None:
        settings = dataclasses.replace(settings, chroma_dir=chroma)
    return KnowledgeBase(settings, database=database)


def test_guidance_indexed_by_one_process_is_answered_by_another_after_a_refresh(tmp_path, database) -> None:
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
    indexer = _process(tmp_path, "indexer", database)
    server = _process(tmp_path, "server", database)
    server.ensure_ready()
    assert server.version == 0

    report = indexer.index([folder], load=False)
    assert report.added == ["guidance/fleet.md"] and report.version >= 1
    assert "fleet manager" not in server.ask("Who owns vehicle replacement reviews?").text  # not yet followed
    assert server.refresh() is True
    assert server.version == report.version
    assert "fleet manager" in server.ask("Who owns vehicle replacement reviews?").text

    # A changed file, a new one and a removed one: only what changed is read again, and the server follows.
    (folder / "fleet.md").write_text(FLEET.replace("fleet manager", "transport director"), encoding="utf-8")
    (folder / "parks.md").write_text(PARKS, encoding="utf-8")
    changed = indexer.index([folder], load=False)
    assert changed.updated == ["guidance/fleet.md"] and changed.added == ["guidance/parks.md"]
    assert server.refresh() is True
    assert "transport director" in server.ask("Who owns vehicle replacement reviews?").text
    (folder / "parks.md").unlink()
    gone = indexer.index([folder], load=False)
    assert gone.removed == ["guidance/parks.md"]
    server.refresh()
    assert server.ask("Who leads the tree survey?").kind is not AnswerKind.ANSWERED
    assert server.refresh() is False  # nothing newer


def test_a_server_following_changes_picks_them_up_on_its_own(tmp_path, database) -> None:
    folder = tmp_path / "guidance"
    folder.mkdir()
    server = _process(tmp_path, "server", database)
    server.ensure_ready()
    server.follow_changes(0.05)
    try:
        (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
        report = _process(tmp_path, "indexer", database).index([folder], load=False)
        for _ in range(200):
            if server.version == report.version:
                break
            time.sleep(0.05)
        assert server.version == report.version
        assert "fleet manager" in server.ask("Who owns vehicle replacement reviews?").text
    finally:
        server.close()


def test_meaning_search_is_shared_through_chroma_and_each_process_keeps_its_own_copy(tmp_path, database) -> None:
    if not MODEL_DIR.exists():
        return
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
    chroma = tmp_path / "chroma"
    indexer = _process(tmp_path, "indexer", database, dense=True, chroma=chroma)
    indexer.index([folder], load=False)
    server = _process(tmp_path, "server", database, dense=True, chroma=chroma)
    answer = server.ask("Which officer is in charge of replacing council vehicles?")
    assert answer.citations and "fleet manager" in answer.citations[0].text
    assert (tmp_path / "server" / "knowledge" / "vectors.npz").is_file()


def test_sources_can_be_listed_excluded_and_removed(tmp_path, database) -> None:
    folder = tmp_path / "guidance"
    (folder / "drafts").mkdir(parents=True)
    (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
    (folder / "drafts" / "parks.md").write_text(PARKS, encoding="utf-8")
    (folder / "notes.tmp.md").write_text("# Notes\n\nNothing to see.\n", encoding="utf-8")
    (folder / ".guidanceignore").write_text("# work in progress\n*.tmp.md\n", encoding="utf-8")
    kb = _process(tmp_path, "kb", database)
    report = kb.index([folder], exclude=["drafts/"])
    assert report.added == ["guidance/fleet.md"]
    [root] = kb.sources()
    assert (root.location, root.sources, root.excludes) == (str(folder.resolve()), 1, ["drafts/"])
    assert root.passages >= 1 and root.last_indexed_at is not None

    # Exclusions are remembered: a refresh with no paths still leaves the drafts out.
    assert kb.index().added == []
    removed, unknown = kb.remove([folder, tmp_path / "elsewhere"])
    assert removed == [str(folder)] and unknown == [str(tmp_path / "elsewhere")]
    assert kb.sources() == []
    assert kb.ask("Who owns vehicle replacement reviews?").kind is AnswerKind.NOT_FOUND


def test_one_replica_at_a_time_refreshes_the_guidance(tmp_path, database) -> None:
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
    first = _process(tmp_path, "first", database)
    first.index([folder])
    repository = GuidanceRepository(database)
    every = timedelta(minutes=60)
    assert repository.claim_refresh("replica-b", stale_after=every)
    assert first.refresh_sources("replica-a", every=every) is None  # b holds the turn
    repository.release_refresh("replica-b")
    (folder / "parks.md").write_text(PARKS, encoding="utf-8")
    report = first.refresh_sources("replica-a", every=every)
    assert report is not None and report.added == ["guidance/parks.md"]
    # A turn held by a replica that died is taken over once it is stale.
    assert repository.claim_refresh("replica-c", stale_after=every)
    later = repository.claim_refresh("replica-d", stale_after=timedelta(0))
    assert later


def test_an_old_catalog_is_moved_into_the_database_once(tmp_path, database) -> None:
    kb = _process(tmp_path, "old", database)
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "fleet.md").write_text(FLEET, encoding="utf-8")
    # What an earlier release wrote: passages in DATA_DIR/knowledge/catalog.json.
    knowledge_dir = tmp_path / "old" / "knowledge"
    knowledge_dir.mkdir(parents=True)
    stat = (folder / "fleet.md").stat()
    chunk = {
        "chunk_id": "abc123-00000-deadbeef",
        "text": "The fleet manager owns every vehicle replacement review.",
        "source": "guidance/fleet.md",
        "source_key": str((folder / "fleet.md").resolve()),
        "section": ["Fleet"],
        "position": 0,
        "kind": "paragraph",
        "meta": {"title": "Fleet"},
    }
    catalog = {
        "version": 3,
        "sources": [
            {
                "key": chunk["source_key"],
                "display": "guidance/fleet.md",
                "root": str(folder.resolve()),
                "sha256": "0" * 64,
                "size": stat.st_size,
                "mtime_ns": stat.st_mtime_ns,
                "indexed_at": "2026-11-01T10:00:00+00:00",
                "starter": False,
                "chunks": [chunk],
            }
        ],
    }
    (knowledge_dir / "catalog.json").write_text(json.dumps(catalog), encoding="utf-8")
    assert "fleet manager" in kb.ask("Who owns vehicle replacement reviews?").text
    assert not (knowledge_dir / "catalog.json").exists() and (knowledge_dir / "catalog.json.moved").exists()
    [root] = kb.sources()
    assert root.location == str(folder.resolve()) and root.sources == 1
    os.utime(folder / "fleet.md")  # touched: the next index compares content, not the stored one
