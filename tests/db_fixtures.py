"""Database fixtures for the whole suite (loaded from tests/conftest.py).

``database`` runs a test on SQLite always and, when TEST_DATABASE_URL is set
(e.g. ``postgresql+psycopg://postgres@127.0.0.1:5432/test``), on PostgreSQL
too. Both start from the real Alembic migrations, never ``create_all``:

- SQLite: the migrations run once into a template file, which each test copies.
- PostgreSQL: the migrations run once into a schema of this test session's own
  (``search_path`` set through the connection options), and each test empties
  the tables afterwards. ``fresh_postgres_url`` gives an empty schema for tests
  that must watch the migrations themselves.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storage.db import Database, open_database
from storage.tables import metadata

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL") or None
DATABASE_KINDS = ["sqlite", "postgres"] if TEST_DATABASE_URL else ["sqlite"]


def postgres_url_for_schema(schema: str) -> str:
    assert TEST_DATABASE_URL, "TEST_DATABASE_URL is not set"
    url = make_url(TEST_DATABASE_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _create_schema(schema: str) -> None:
    engine = create_engine(TEST_DATABASE_URL)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()


def _drop_schema(schema: str) -> None:
    engine = create_engine(TEST_DATABASE_URL)  # type: ignore[arg-type]
    with engine.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    open_database(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_session_schema() -> Iterator[str]:
    schema = f"test_{uuid.uuid4().hex[:12]}"
    _create_schema(schema)
    database = open_database(postgres_url_for_schema(schema))
    database.dispose()
    try:
        yield schema
    finally:
        _drop_schema(schema)


def _empty_all_tables(database: Database) -> None:
    tables = ", ".join(f'"{table.name}"' for table in metadata.sorted_tables)
    with database.engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=DATABASE_KINDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database: SQLite, and PostgreSQL when TEST_DATABASE_URL is set."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        database = open_database(f"sqlite:///{path}")
        try:
            yield database
        finally:
            database.dispose()
        return
    schema = request.getfixturevalue("_postgres_session_schema")
    database = open_database(postgres_url_for_schema(schema))
    try:
        yield database
    finally:
        database.dispose()
        _empty_all_tables(database)
        database.dispose()


@pytest.fixture
def fresh_postgres_url() -> Iterator[str]:
    """The URL of a brand-new, empty PostgreSQL schema (skips the test without TEST_DATABASE_URL)."""
    if not TEST_DATABASE_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = f"test_{uuid.uuid4().hex[:12]}"
    _create_schema(schema)
    try:
        yield postgres_url_for_schema(schema)
    finally:
        _drop_schema(schema)


@pytest.fixture
def database_settings(database: Database, settings):  # type: ignore[no-untyped-def]
    """The suite's ``settings`` pointed at ``database`` (SQLite, or PostgreSQL when TEST_DATABASE_URL is set)."""
    return settings.model_copy(update={"database_url": database.engine.url.render_as_string(hide_password=False)})
