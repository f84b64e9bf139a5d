"""Scanning every table of the schema for a person's identity beside an answer's rating.

Used by the Slack and Teams end-to-end tests after officers have rated answers: every row of every table is
read, and a row that holds a rating (or its comment, or the answer's ref) must hold none of the identities the
platform gave the raters; and no other table may hold the answer's ref or comment, which would link the two.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import sqlalchemy as sa

from storage.db import Database
from storage.tables import metadata


def rows_of_every_table(database: Database) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    with database.engine.connect() as connection:
        names = sa.inspect(connection).get_table_names()
        for table in metadata.sorted_tables:
            assert table.name in names, f"{table.name} is in the models but not in the database"
        for name in names:
            rows = connection.execute(sa.text(f'SELECT * FROM "{name}"')).mappings().all()
            found[name] = [json.dumps(dict(row), default=str, ensure_ascii=False) for row in rows]
    return found


def assert_ratings_hold_no_identity(database: Database, identities: Iterable[str], rating_marks: Iterable[str]) -> int:
    """``rating_marks``: strings only a rating row holds (its comment, the answer's ref). Returns the rows checked."""
    identities = [i for i in identities if i]
    marks = [m for m in rating_marks if m]
    checked = 0
    for table, rows in rows_of_every_table(database).items():
        for row in rows:
            checked += 1
            holds_rating = table == "answer_log" or any(mark in row for mark in marks)
            if not holds_rating:
                continue
            assert table == "answer_log", f"{table} holds an answer's rating or ref: {row[:200]}"
            leaked = [i for i in identities if i.casefold() in row.casefold()]
            assert not leaked, f"answer_log row holds {leaked}: {row[:300]}"
    return checked
