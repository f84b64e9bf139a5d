"""A logical copy of the database: every table of the product's schema as JSON lines, and its schema revision.

The same copy works for SQLite and PostgreSQL and needs no client tools (``pg_dump`` is rarely installed where
the bot runs), and it restores across them: a council can move from the SQLite file to PostgreSQL with a backup
and a restore. :func:`dump_database` writes ``<table>.jsonl`` files and ``schema.json`` into a folder;
:func:`restore_database` reads them into an *empty* database: it migrates that database to the backup's revision,
inserts every row in foreign-key order in one transaction, resets PostgreSQL's id sequences, then migrates to the
newest revision, so a backup taken by an earlier release restores into this one.

Values JSON cannot hold (dates and times, bytes, decimals) and JSON columns are written as ``{"$": kind, "v": ...}``
so that each comes back as the type its column expects.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog

from storage.db import Database, is_known_revision, upgrade_database
from storage.tables import metadata

__all__ = ["BackupError", "DumpSummary", "dump_database", "restore_database", "database_is_empty"]

log = structlog.get_logger(__name__)

SCHEMA_FILE = "schema.json"
FORMAT_VERSION = 1
_BATCH = 1000
_TAG = "$"


class BackupError(RuntimeError):
    """A backup could not be written or restored; the message says why and what to do."""


DumpSummary = dict[str, int]  # table -> rows


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return {_TAG: "datetime", "v": value.isoformat()}
    if isinstance(value, date):
        return {_TAG: "date", "v": value.isoformat()}
    if isinstance(value, time):
        return {_TAG: "time", "v": value.isoformat()}
    if isinstance(value, bytes | bytearray | memoryview):
        return {_TAG: "bytes", "v": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Decimal):
        return {_TAG: "decimal", "v": str(value)}
    if isinstance(value, dict | list):
        return {_TAG: "json", "v": value}
    return value


def _decode(value: Any, column: sa.Column[Any]) -> Any:
    if not isinstance(value, dict) or _TAG not in value:
        return value
    kind, raw = value[_TAG], value["v"]
    if kind == "datetime":
        return datetime.fromisoformat(raw)
    if kind == "date":
        return date.fromisoformat(raw)
    if kind == "time":
        return time.fromisoformat(raw)
    if kind == "bytes":
        return base64.b64decode(raw)
    if kind == "decimal":
        return Decimal(raw)
    # A JSON column takes the object; a column that held JSON as text (an older schema) takes the text.
    return raw if isinstance(column.type, sa.JSON) else json.dumps(raw)


def _product_tables(connection: sa.Connection) -> list[sa.Table]:
    """The product's tables as they are in this database, parents before children (foreign-key order)."""
    reflected = sa.MetaData()
    reflected.reflect(bind=connection, only=lambda name, _: name in metadata.tables)
    return list(reflected.sorted_tables)


def _revision(connection: sa.Connection) -> str | None:
    if not sa.inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def dump_database(database: Database, folder: Path) -> DumpSummary:
    """Write every product table of ``database`` into ``folder``, in one read transaction (a consistent copy
    while the bot keeps running); returns the rows written per table."""
    folder.mkdir(parents=True, exist_ok=True)
    summary: DumpSummary = {}
    with database.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # One snapshot for every table, so a review and its stages are copied as of the same moment.
            connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        revision = _revision(connection)
        if revision is None:
            raise BackupError("The database has no schema yet, so there is nothing to back up.")
        tables = _product_tables(connection)
        for table in tables:
            count = 0
            order = [column for column in table.primary_key.columns] or list(table.columns)
            rows = connection.execution_options(yield_per=_BATCH).execute(sa.select(table).order_by(*order))
            with (folder / f"{table.name}.jsonl").open("w", encoding="utf-8") as out:
                for row in rows.mappings():
                    out.write(json.dumps({key: _encode(value) for key, value in row.items()}, ensure_ascii=False))
                    out.write("\n")
                    count += 1
            summary[table.name] = count
        connection.rollback()
    schema = {"format": FORMAT_VERSION, "revision": revision, "dialect": database.dialect, "tables": summary}
    (folder / SCHEMA_FILE).write_text(json.dumps(schema, indent=2), encoding="utf-8")
    log.info("database_dumped", tables=len(summary), rows=sum(summary.values()), revision=revision)
    return summary


def read_schema(folder: Path) -> Mapping[str, Any]:
    try:
        schema = json.loads((folder / SCHEMA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(
            f"This is not a Commissioning Assistant backup: {SCHEMA_FILE} is missing or unreadable."
        ) from error
    if not isinstance(schema, dict) or schema.get("format") != FORMAT_VERSION:
        raise BackupError(
            "This backup was made in a format this release cannot read; restore it with the release that made it."
        )
    return schema


def database_is_empty(database: Database) -> bool:
    """True when no product table holds a row (a new database, or one only migrated)."""
    with database.engine.connect() as connection:
        for table in _product_tables(connection):
            if connection.execute(sa.select(sa.literal(1)).select_from(table).limit(1)).first() is not None:
                return False
    return True


def _rows(path: Path, table: sa.Table) -> Iterator[dict[str, Any]]:
    columns = table.columns
    with path.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                data = json.loads(line)
                yield {key: _decode(value, columns[key]) for key, value in data.items() if key in columns}


def _reset_sequences(connection: sa.Connection, tables: list[sa.Table]) -> None:
    """Rows were inserted with their ids; PostgreSQL's sequences must move past them or the next insert clashes."""
    for table in tables:
        for column in table.primary_key.columns:
            if not isinstance(column.type, sa.Integer):
                continue
            sequence = connection.execute(
                sa.text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": column.name}
            ).scalar()
            if sequence:
                highest = f'COALESCE((SELECT MAX("{column.name}") FROM "{table.name}"), 0) + 1'
                connection.execute(sa.text(f"SELECT setval(:sequence, {highest}, false)"), {"sequence": sequence})


def restore_database(database: Database, folder: Path) -> DumpSummary:
    """Load a dump written by :func:`dump_database` into ``database``, which must hold no rows yet."""
    schema = read_schema(folder)
    revision = str(schema["revision"])
    if not database_is_empty(database):
        raise BackupError(
            "The database already holds reviews, people or guidance, so nothing was restored. Restore into a new, "
            "empty database (or a new DATA_DIR for SQLite), then point the bot at it."
        )
    if not is_known_revision(revision):
        raise BackupError(
            f"This backup comes from schema revision {revision}, which this release does not know; restore it with "
            "the release that made it (or a newer one)."
        )
    if database.current_revision() is None:
        # A brand-new database gets the backup's own schema, so every row fits; it is migrated forward after.
        upgrade_database(database.engine, revision)
    # An empty database already migrated (a server started on it first) keeps its newer schema: columns added
    # since the backup take their defaults.
    summary: DumpSummary = {}
    with database.engine.begin() as connection:
        tables = _product_tables(connection)
        for table in tables:
            path = folder / f"{table.name}.jsonl"
            if not path.exists():
                continue
            batch: list[dict[str, Any]] = []
            count = 0
            for row in _rows(path, table):
                batch.append(row)
                if len(batch) >= _BATCH:
                    connection.execute(table.insert(), batch)
                    count += len(batch)
                    batch = []
            if batch:
                connection.execute(table.insert(), batch)
                count += len(batch)
            summary[table.name] = count
        if connection.dialect.name == "postgresql":
            _reset_sequences(connection, tables)
    upgrade_database(database.engine)
    log.info("database_restored", tables=len(summary), rows=sum(summary.values()), from_revision=revision)
    return summary
