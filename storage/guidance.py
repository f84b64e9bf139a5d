"""The guidance index's passages, their sources and the index version, shared by every process.

Indexing writes here and every ``serve`` replica reads from here, whatever its
own data folder. The index version (``generation``) is bumped in the same
transaction as any change to sources or passages, so a process that sees a
new version knows exactly which sources changed since the one it serves
(those whose ``generation`` is newer) and which went (those it had that are no
longer listed).

Vectors for meaning search live in Chroma, keyed by passage id; this module
knows nothing about them or about how guidance is read. Rows come and go as
plain dataclasses.

Over 400 lines: the four tables and their repository belong together (every write
bumps the version in the same transaction), and splitting them would split that.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Column, Field

from storage.base import StorageModel, UtcDateTime, json_column, utc_now
from storage.db import Database

__all__ = [
    "GuidanceRepository",
    "PassageRow",
    "RootRow",
    "SourceRow",
    "IndexChange",
]

MAX_LOCATION = 1000
PASSAGE_BATCH = 500


class GuidanceIndexState(StorageModel, table=True):
    """One row: the index version, and who is refreshing the guidance (so replicas take turns)."""

    __tablename__ = "guidance_index"

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(default=0, sa_column=Column(sa.BigInteger(), nullable=False, server_default="0"))
    changed_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False))
    refresh_owner: str | None = Field(default=None, max_length=200)
    refresh_started_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))


class GuidanceRoot(StorageModel, table=True):
    """A folder or file someone asked to index: what a refresh reads again and ``sources list`` shows."""

    __tablename__ = "guidance_root"

    id: int | None = Field(default=None, primary_key=True)
    location: str = Field(max_length=MAX_LOCATION, sa_column_kwargs={"unique": True})
    kind: str = Field(default="folder", max_length=20)
    starter: bool = Field(default=False)
    excludes: list[str] = Field(default_factory=list, sa_column=json_column())
    added_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False))
    last_indexed_at: datetime | None = Field(default=None, sa_column=Column(UtcDateTime(), nullable=True))
    last_report: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    # What was asked for (a SharePoint library, a web site's limits) and where its next refresh carries on.
    options: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))
    state: dict[str, Any] | None = Field(default=None, sa_column=json_column(nullable=True))


class GuidanceSource(StorageModel, table=True):
    """One indexed file, with the fingerprint that says whether it changed."""

    __tablename__ = "guidance_source"

    id: int | None = Field(default=None, primary_key=True)
    root_id: int = Field(
        sa_column=Column(
            sa.Integer(), sa.ForeignKey("guidance_root.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    key: str = Field(max_length=MAX_LOCATION, sa_column_kwargs={"unique": True})
    display: str = Field(max_length=MAX_LOCATION)
    fingerprint: str = Field(max_length=64)
    size: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    mtime_ns: int = Field(sa_column=Column(sa.BigInteger(), nullable=False))
    indexed_at: datetime = Field(default_factory=utc_now, sa_column=Column(UtcDateTime(), nullable=False))
    generation: int = Field(sa_column=Column(sa.BigInteger(), nullable=False, index=True))
    link: str | None = Field(default=None, max_length=2000)  # where an officer opens it (web page, SharePoint)
    marker: str | None = Field(default=None, max_length=1000)  # the source's own change marker (ETag, cTag)


class GuidancePassage(StorageModel, table=True):
    """One citable passage. ``terms`` are its stemmed search words (heading path first, then its own text), so
    no process has to read the words again to build its keyword index."""

    __tablename__ = "guidance_passage"

    id: str = Field(max_length=80, primary_key=True)
    source_id: int = Field(
        sa_column=Column(
            sa.Integer(), sa.ForeignKey("guidance_source.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    position: int
    kind: str = Field(max_length=20)
    text: str = Field(sa_column=Column(sa.Text(), nullable=False))
    section: list[str] = Field(default_factory=list, sa_column=json_column())
    meta: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    terms: str = Field(sa_column=Column(sa.Text(), nullable=False))
    context_terms: int = Field(default=0)


_state: sa.Table = GuidanceIndexState.__table__  # type: ignore[attr-defined]
_roots: sa.Table = GuidanceRoot.__table__  # type: ignore[attr-defined]
_sources: sa.Table = GuidanceSource.__table__  # type: ignore[attr-defined]
_passages: sa.Table = GuidancePassage.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RootRow:
    id: int
    location: str
    kind: str
    starter: bool
    excludes: list[str]
    added_at: datetime
    last_indexed_at: datetime | None
    last_report: dict[str, Any] | None
    sources: int = 0
    passages: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SourceRow:
    key: str
    display: str
    fingerprint: str
    size: int
    mtime_ns: int
    root: str
    generation: int = 0
    indexed_at: datetime | None = None
    starter: bool = False
    link: str | None = None
    marker: str | None = None


@dataclass(frozen=True)
class PassageRow:
    id: str
    source_key: str
    source: str  # the source's display name
    position: int
    kind: str
    text: str
    section: list[str]
    meta: dict[str, Any]
    terms: str
    context_terms: int
    link: str | None = None  # the source's address, for citations an officer can open


@dataclass(frozen=True)
class IndexChange:
    """What changed between two index versions."""

    generation: int
    changed: dict[str, list[PassageRow]] = field(default_factory=dict)  # source key → its passages now
    present: set[str] = field(default_factory=set)  # every source key in the index now


class GuidanceRepository:
    def __init__(self, database: Database) -> None:
        self._database = database

    # ----------------------------------------------------------------- version
    def generation(self) -> int:
        with self._database.engine.connect() as connection:
            found = connection.execute(sa.select(_state.c.generation).where(_state.c.id == 1)).scalar()
        return int(found or 0)

    def _bump(self, connection: sa.Connection) -> int:
        """The next version, in the caller's transaction (which locks the row until it commits)."""
        now = utc_now()
        updated = connection.execute(
            _state.update().where(_state.c.id == 1).values(generation=_state.c.generation + 1, changed_at=now)
        )
        if not updated.rowcount:
            self._insert_ignore(connection, _state, [{"id": 1, "generation": 0, "changed_at": now}], ["id"])
            connection.execute(
                _state.update().where(_state.c.id == 1).values(generation=_state.c.generation + 1, changed_at=now)
            )
        return int(connection.execute(sa.select(_state.c.generation).where(_state.c.id == 1)).scalar_one())

    def _insert_ignore(
        self, connection: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], keys: list[str]
    ) -> None:
        connection.execute(self._database.insert(table).on_conflict_do_nothing(index_elements=keys), rows)

    # ------------------------------------------------------------------- roots
    def roots(self) -> list[RootRow]:
        """Every folder or file indexed, with how many sources and passages each holds."""
        sources = (
            sa.select(_sources.c.root_id, sa.func.count(sa.distinct(_sources.c.id)).label("sources"))
            .group_by(_sources.c.root_id)
            .subquery()
        )
        passages = (
            sa.select(_sources.c.root_id, sa.func.count(_passages.c.id).label("passages"))
            .select_from(_sources.join(_passages, _passages.c.source_id == _sources.c.id))
            .group_by(_sources.c.root_id)
            .subquery()
        )
        query = (
            sa.select(_roots, sources.c.sources, passages.c.passages)
            .select_from(
                _roots.outerjoin(sources, sources.c.root_id == _roots.c.id).outerjoin(
                    passages, passages.c.root_id == _roots.c.id
                )
            )
            .order_by(_roots.c.location)
        )
        with self._database.engine.connect() as connection:
            return [
                RootRow(
                    id=row.id,
                    location=row.location,
                    kind=row.kind,
                    starter=row.starter,
                    excludes=list(row.excludes or []),
                    added_at=row.added_at,
                    last_indexed_at=row.last_indexed_at,
                    last_report=row.last_report,
                    sources=int(row.sources or 0),
                    passages=int(row.passages or 0),
                    options=dict(row.options or {}),
                    state=dict(row.state or {}),
                )
                for row in connection.execute(query)
            ]

    def ensure_root(
        self,
        location: str,
        *,
        kind: str,
        starter: bool = False,
        excludes: Sequence[str] = (),
        options: dict[str, Any] | None = None,
    ) -> int:
        """The root's id, adding it (or updating its exclusions and options) as needed."""
        with self._database.engine.begin() as connection:
            self._insert_ignore(
                connection,
                _roots,
                [
                    {
                        "location": location,
                        "kind": kind,
                        "starter": starter,
                        "excludes": list(excludes),
                        "added_at": utc_now(),
                        "options": options,
                    }
                ],
                ["location"],
            )
            if excludes:
                connection.execute(_roots.update().where(_roots.c.location == location).values(excludes=list(excludes)))
            if options is not None:
                connection.execute(_roots.update().where(_roots.c.location == location).values(options=options))
            return int(connection.execute(sa.select(_roots.c.id).where(_roots.c.location == location)).scalar_one())

    def record_report(self, location: str, report: dict[str, Any]) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(
                _roots.update()
                .where(_roots.c.location == location)
                .values(last_indexed_at=utc_now(), last_report=report)
            )

    def save_state(self, location: str, state: dict[str, Any]) -> None:
        """Where the root's next refresh carries on from (stored after its changes, so none is lost)."""
        with self._database.engine.begin() as connection:
            connection.execute(_roots.update().where(_roots.c.location == location).values(state=state))

    def remove_roots(self, locations: Iterable[str]) -> tuple[int, list[str], list[str]]:
        """Remove roots and everything indexed from them: (version, passage ids removed, source displays removed)."""
        locations = list(locations)
        with self._database.engine.begin() as connection:
            root_ids = [
                r for (r,) in connection.execute(sa.select(_roots.c.id).where(_roots.c.location.in_(locations)))
            ]
            if not root_ids:
                return self._current(connection), [], []
            source_rows = connection.execute(
                sa.select(_sources.c.id, _sources.c.display).where(_sources.c.root_id.in_(root_ids))
            ).all()
            removed = self._delete_sources(connection, [r.id for r in source_rows])
            connection.execute(_roots.delete().where(_roots.c.id.in_(root_ids)))
            return self._bump(connection), removed, [r.display for r in source_rows]

    def _current(self, connection: sa.Connection) -> int:
        return int(connection.execute(sa.select(_state.c.generation).where(_state.c.id == 1)).scalar() or 0)

    # ----------------------------------------------------------------- sources
    def sources(self, *, root: str | None = None) -> list[SourceRow]:
        query = sa.select(
            _sources.c.key,
            _sources.c.display,
            _sources.c.fingerprint,
            _sources.c.size,
            _sources.c.mtime_ns,
            _sources.c.generation,
            _sources.c.indexed_at,
            _roots.c.location,
            _roots.c.starter,
            _sources.c.link,
            _sources.c.marker,
        ).select_from(_sources.join(_roots, _roots.c.id == _sources.c.root_id))
        if root is not None:
            query = query.where(_roots.c.location == root)
        with self._database.engine.connect() as connection:
            return [
                SourceRow(
                    key=r.key,
                    display=r.display,
                    fingerprint=r.fingerprint,
                    size=r.size,
                    mtime_ns=r.mtime_ns,
                    root=r.location,
                    generation=r.generation,
                    indexed_at=r.indexed_at,
                    starter=r.starter,
                    link=r.link,
                    marker=r.marker,
                )
                for r in connection.execute(query.order_by(_sources.c.key))
            ]

    def passage_ids(self, source_key: str | None = None) -> set[str]:
        query = sa.select(_passages.c.id)
        if source_key is not None:
            query = query.select_from(_passages.join(_sources, _sources.c.id == _passages.c.source_id)).where(
                _sources.c.key == source_key
            )
        with self._database.engine.connect() as connection:
            return {r for (r,) in connection.execute(query)}

    def touch(self, key: str, mtime_ns: int, marker: str | None = None) -> None:
        """The file was saved again without changing: remember its new time so it is not read next time."""
        values: dict[str, Any] = {"mtime_ns": mtime_ns}
        if marker is not None:
            values["marker"] = marker
        with self._database.engine.begin() as connection:
            connection.execute(_sources.update().where(_sources.c.key == key).values(**values))

    def relocate_source(self, key: str, *, display: str, link: str | None, marker: str | None) -> int:
        """A source moved or was renamed without its content changing: new name and link, same passages.

        Bumps the index version so every process shows the new name and link in its citations.
        """
        with self._database.engine.begin() as connection:
            generation = self._bump(connection)
            connection.execute(
                _sources.update()
                .where(_sources.c.key == key)
                .values(display=display, link=link, marker=marker, generation=generation)
            )
            return generation

    def replace_source(self, source: SourceRow, passages: Sequence[PassageRow]) -> tuple[int, list[str]]:
        """Store a new or changed source with its passages, in one transaction with a new index version.

        Returns (version, ids of the passages it replaced that are no longer there).
        """
        with self._database.engine.begin() as connection:
            root_id = connection.execute(sa.select(_roots.c.id).where(_roots.c.location == source.root)).scalar_one()
            generation = self._bump(connection)
            existing = connection.execute(sa.select(_sources.c.id).where(_sources.c.key == source.key)).scalar()
            values = {
                "root_id": root_id,
                "key": source.key,
                "display": source.display,
                "fingerprint": source.fingerprint,
                "size": source.size,
                "mtime_ns": source.mtime_ns,
                "indexed_at": utc_now(),
                "generation": generation,
                "link": source.link,
                "marker": source.marker,
            }
            before: set[str] = set()
            if existing is None:
                inserted = connection.execute(_sources.insert().values(**values)).inserted_primary_key
                assert inserted is not None
                source_id = int(inserted[0])
            else:
                source_id = int(existing)
                connection.execute(_sources.update().where(_sources.c.id == source_id).values(**values))
                before = {
                    r
                    for (r,) in connection.execute(sa.select(_passages.c.id).where(_passages.c.source_id == source_id))
                }
                connection.execute(_passages.delete().where(_passages.c.source_id == source_id))
            rows = [
                {
                    "id": p.id,
                    "source_id": source_id,
                    "position": p.position,
                    "kind": p.kind,
                    "text": p.text,
                    "section": p.section,
                    "meta": p.meta,
                    "terms": p.terms,
                    "context_terms": p.context_terms,
                }
                for p in passages
            ]
            for start in range(0, len(rows), PASSAGE_BATCH):
                connection.execute(_passages.insert(), rows[start : start + PASSAGE_BATCH])
            return generation, sorted(before - {p.id for p in passages})

    def remove_sources(self, keys: Iterable[str]) -> tuple[int, list[str]]:
        """Remove indexed files (deleted, or now excluded): (version, passage ids removed)."""
        keys = list(keys)
        with self._database.engine.begin() as connection:
            ids = [r for (r,) in connection.execute(sa.select(_sources.c.id).where(_sources.c.key.in_(keys)))]
            if not ids:
                return self._current(connection), []
            removed = self._delete_sources(connection, ids)
            return self._bump(connection), removed

    def _delete_sources(self, connection: sa.Connection, source_ids: list[int]) -> list[str]:
        if not source_ids:
            return []
        removed = [
            r for (r,) in connection.execute(sa.select(_passages.c.id).where(_passages.c.source_id.in_(source_ids)))
        ]
        # Passages first: SQLite only cascades when foreign keys are on, and being explicit costs nothing.
        connection.execute(_passages.delete().where(_passages.c.source_id.in_(source_ids)))
        connection.execute(_sources.delete().where(_sources.c.id.in_(source_ids)))
        return removed

    # ---------------------------------------------------------------- reading
    def _passage_query(self) -> sa.Select[Any]:
        return (
            sa.select(
                _passages.c.id,
                _sources.c.key,
                _sources.c.display,
                _passages.c.position,
                _passages.c.kind,
                _passages.c.text,
                _passages.c.section,
                _passages.c.meta,
                _passages.c.terms,
                _passages.c.context_terms,
                _sources.c.link,
            )
            .select_from(_passages.join(_sources, _sources.c.id == _passages.c.source_id))
            .order_by(_sources.c.key, _passages.c.position)
        )

    @staticmethod
    def _passage(row: Any) -> PassageRow:
        return PassageRow(
            id=row.id,
            source_key=row.key,
            source=row.display,
            position=row.position,
            kind=row.kind,
            text=row.text,
            section=list(row.section or []),
            meta=dict(row.meta or {}),
            terms=row.terms,
            context_terms=row.context_terms,
            link=row.link,
        )

    def snapshot(self) -> tuple[int, Iterator[PassageRow]]:
        """The current version and every passage in it, read in one consistent transaction."""
        connection = self._database.engine.connect()
        transaction = connection.begin()
        generation = self._current(connection)
        result = connection.execution_options(yield_per=2000).execute(self._passage_query())

        def rows() -> Iterator[PassageRow]:
            try:
                for row in result:
                    yield self._passage(row)
            finally:
                transaction.rollback()
                connection.close()

        return generation, rows()

    def changes_since(self, generation: int) -> IndexChange:
        """The sources changed after ``generation`` with their passages, and which sources exist now."""
        with self._database.engine.connect() as connection, connection.begin():
            now = self._current(connection)
            present = {k for (k,) in connection.execute(sa.select(_sources.c.key))}
            changed: dict[str, list[PassageRow]] = {}
            keys = [
                k for (k,) in connection.execute(sa.select(_sources.c.key).where(_sources.c.generation > generation))
            ]
            for start in range(0, len(keys), PASSAGE_BATCH):
                chunk = keys[start : start + PASSAGE_BATCH]
                for key in chunk:
                    changed[key] = []
                for row in connection.execute(self._passage_query().where(_sources.c.key.in_(chunk))):
                    changed[row.key].append(self._passage(row))
            return IndexChange(generation=now, changed=changed, present=present)

    # ---------------------------------------------------------------- refresh
    def claim_refresh(self, owner: str, *, stale_after: timedelta, now: datetime | None = None) -> bool:
        """Take the turn to refresh the guidance; False while another process holds a turn younger than
        ``stale_after`` (one that died holding it is overtaken once it is stale)."""
        now = now or utc_now()
        with self._database.engine.begin() as connection:
            self._insert_ignore(connection, _state, [{"id": 1, "generation": 0, "changed_at": now}], ["id"])
            taken = connection.execute(
                _state.update()
                .where(
                    (_state.c.id == 1)
                    & ((_state.c.refresh_started_at.is_(None)) | (_state.c.refresh_started_at < now - stale_after))
                )
                .values(refresh_owner=owner, refresh_started_at=now)
            )
            return bool(taken.rowcount)

    def release_refresh(self, owner: str) -> None:
        with self._database.engine.begin() as connection:
            connection.execute(
                _state.update()
                .where((_state.c.id == 1) & (_state.c.refresh_owner == owner))
                .values(refresh_owner=None, refresh_started_at=None)
            )
