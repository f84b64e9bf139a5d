"""Opening the database: engine, sessions and migrations.

``open_database`` is the one way in. It builds the engine for SQLite (the
default, a file under DATA_DIR) or PostgreSQL (``DATABASE_URL``, e.g.
``postgresql+psycopg://user@host/db``) and brings the schema up to date with
the Alembic migrations shipped inside this package, so a fresh ``pip install``
works without a separate migration step.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.pool import StaticPool
from sqlmodel import Session

log = structlog.get_logger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Any fixed number will do: it only has to be the same for every process that migrates.
_MIGRATION_LOCK_ID = 7_210_331


class DatabaseError(RuntimeError):
    """The database could not be opened or migrated; the message says what to check."""


class Database:
    """An engine plus the way this project opens sessions on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_postgres(self) -> bool:
        return self.dialect == "postgresql"

    def insert(self, table: sa.TableClause) -> sqlite.Insert | postgresql.Insert:
        """An INSERT into ``table`` that can say what to do on a conflict (``ON CONFLICT``), on SQLite or
        PostgreSQL."""
        return (postgresql.insert if self.is_postgres else sqlite.insert)(table)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading; objects stay readable after it closes."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed on success and rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def upgrade(self) -> None:
        upgrade_database(self.engine)

    def ping(self) -> None:
        """Raise if the database cannot answer a trivial query now (for health checks)."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def current_revision(self) -> str | None:
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    def dispose(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Database({self.engine.url.render_as_string(hide_password=True)})"


def _install_sqlite_pragmas(engine: Engine) -> None:
    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # SQLite ignores foreign keys unless asked, per connection.
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL lets the chat handlers read while a writer commits.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_database_engine(url: str, **engine_options: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
        if parsed.database in (None, "", ":memory:"):
            # One shared connection, or every session would see its own empty database.
            engine_options.setdefault("poolclass", StaticPool)
        else:
            Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args=connect_args, **engine_options)
        _install_sqlite_pragmas(engine)
        return engine
    engine_options.setdefault("pool_pre_ping", True)
    return create_engine(url, **engine_options)


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def is_known_revision(revision: str) -> bool:
    """Whether this release's migrations include ``revision`` (a backup from a newer release's schema does not)."""
    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds of error for an unknown or malformed id
        return False


@contextmanager
def _sqlite_migration_lock(engine: Engine) -> Iterator[None]:
    """Processes opening one SQLite file together (two servers, or a server and ``index``) migrate in turn.

    SQLite has no advisory locks as PostgreSQL has; a lock on a file beside the database does the same.
    """
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().with_name(Path(database).name + ".migrating")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied (``alembic upgrade head``)."""
    with _sqlite_migration_lock(engine):
        _upgrade(engine, revision)


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            # Batch migrations copy and drop tables; with foreign keys on, the drop
            # would cascade into other tables. The pragma only works outside a transaction.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        elif connection.dialect.name == "postgresql":
            # Two workers starting together must not both run the same migration.
            connection.execute(text("SELECT pg_advisory_lock(:lock)"), {"lock": _MIGRATION_LOCK_ID})
            connection.commit()
        try:
            before = MigrationContext.configure(connection).get_current_revision()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            connection.commit()
            after = MigrationContext.configure(connection).get_current_revision()
        finally:
            # A failed migration leaves the transaction aborted; clear it so the clean-up can run.
            connection.rollback()
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
            elif connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_unlock(:lock)"), {"lock": _MIGRATION_LOCK_ID})
                connection.commit()
    if before != after:
        log.info("database_migrated", from_revision=before, to_revision=after, dialect=engine.dialect.name)


def open_database(url: str, *, migrate: bool = True, **engine_options: Any) -> Database:
    """Connect to the database at ``url`` (an SQLAlchemy URL) and bring its schema up to date."""
    try:
        engine = create_database_engine(url, **engine_options)
        database = Database(engine)
        if migrate:
            database.upgrade()
    except Exception as error:  # noqa: BLE001 - turned into one message an operator can act on
        safe_url = make_url(url).render_as_string(hide_password=True)
        raise DatabaseError(f"Could not open the database at {safe_url}: {error}") from error
    log.debug("database_opened", dialect=database.dialect, revision=database.current_revision())
    return database
