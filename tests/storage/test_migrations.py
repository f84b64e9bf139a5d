from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from storage.db import alembic_config, head_revision, open_database
from storage.people import PeopleRepository
from storage.tables import metadata


def _assert_schema_matches_models(database) -> None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == [], "the models and the migrations disagree; add a migration"


def test_the_migrations_build_exactly_the_schema_the_models_describe(database) -> None:
    assert database.current_revision() == head_revision()
    _assert_schema_matches_models(database)


def test_opening_a_new_sqlite_file_migrates_it_with_foreign_keys_and_wal(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path / 'new' / 'commissioning.db'}")
    try:
        assert database.current_revision() == head_revision()
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert "review_stage" in inspect(database.engine).get_table_names()
    finally:
        database.dispose()


def test_opening_a_new_postgres_schema_migrates_it_and_reopening_is_harmless(fresh_postgres_url: str) -> None:
    database = open_database(fresh_postgres_url)
    try:
        _assert_schema_matches_models(database)
    finally:
        database.dispose()
    again = open_database(fresh_postgres_url)
    try:
        assert again.current_revision() == head_revision()
    finally:
        again.dispose()


def test_every_migration_can_be_undone(database) -> None:
    config = alembic_config()
    with database.engine.connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        connection.commit()
        assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
    database.upgrade()
    assert database.current_revision() == head_revision()


def test_database_settings_open_the_same_database(database, database_settings) -> None:
    PeopleRepository(database).upsert(name="Sam Patel", email="sam.patel@council.gov.uk")
    reopened = open_database(database_settings.resolved_database_url)
    try:
        assert PeopleRepository(reopened).find_by_email("sam.patel@council.gov.uk").name == "Sam Patel"
    finally:
        reopened.dispose()
