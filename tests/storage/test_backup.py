"""The logical database copy behind `backup` and `restore`, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.backup import BackupError, dump_database, restore_database
from storage.db import open_database
from storage.people import PeopleRepository
from tests.storage.review_helpers import Clock, add_team, draft_for, make_service
from workflows.reviews import Actor


def test_a_dump_restores_into_a_database_a_server_has_already_migrated(database, tmp_path: Path) -> None:
    """Compose starts the bot (which migrates) before anyone restores: an empty migrated database is fine."""
    team = add_team(database)
    service = make_service(database, Clock())
    review = service.create_review(draft_for(team, service.today()), Actor.system("test"))
    summary = dump_database(database, tmp_path / "dump")
    assert summary["person"] == 5 and summary["review_stage"] == 4

    target = open_database(f"sqlite:///{tmp_path / 'target.db'}")  # migrated to the newest revision, no rows
    try:
        restored = restore_database(target, tmp_path / "dump")
        assert restored == {name: count for name, count in summary.items()}
        copy = make_service(target, Clock()).get(review.id)
        assert [(s.name, s.owner.name, s.due_date) for s in copy.stages] == [
            (s.name, s.owner.name, s.due_date) for s in service.get(review.id).stages
        ]
        assert PeopleRepository(target).find_by_slack_id("U0PRIYA").name == "Cllr Priya Shah"
    finally:
        target.dispose()


def test_a_backup_from_an_unknown_schema_or_not_a_backup_is_refused(database, tmp_path: Path) -> None:
    add_team(database)
    dump_database(database, tmp_path / "dump")
    schema = json.loads((tmp_path / "dump" / "schema.json").read_text(encoding="utf-8"))
    (tmp_path / "dump" / "schema.json").write_text(json.dumps({**schema, "revision": "9999"}), encoding="utf-8")
    target = open_database(f"sqlite:///{tmp_path / 'target.db'}", migrate=False)
    try:
        with pytest.raises(BackupError, match="revision 9999, which this release does not know"):
            restore_database(target, tmp_path / "dump")
        (tmp_path / "empty").mkdir()
        with pytest.raises(BackupError, match="not a Commissioning Assistant backup"):
            restore_database(target, tmp_path / "empty")
    finally:
        target.dispose()
