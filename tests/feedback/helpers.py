"""Shared arrangements for the feedback tests: people and a review in a real database, a fixed clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from storage.db import Database
from storage.models import Person
from storage.tables import metadata
from tests.nudges.helpers import World
from tests.storage.review_helpers import Clock
from workflows.feedback import FeedbackService, RequestForm, RequestOutcome
from workflows.messaging import Messenger
from workflows.people import PersonRef
from workflows.working_days import WorkingCalendar

# Monday 23 November 2026, 10:00 in London.
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
CLOSES = date(2026, 12, 4)


class FeedbackWorld(World):
    """A lead, a stage owner, a portfolio holder and five stakeholders, and one review they share."""

    def __init__(self, database: Database, clock: Clock | None = None, slack_ids: bool = True) -> None:
        super().__init__(database)
        self.clock = clock or Clock(NOW)
        self.reviews._clock = self.clock  # type: ignore[attr-defined]
        self.lead = self.person("Lena Lead", slack="U0LEAD0001" if slack_ids else None)
        self.owner = self.person("Owen Owner", slack="U0OWNER001" if slack_ids else None)
        self.holder = self.person("Holly Holder", slack="U0HOLDER01" if slack_ids else None)
        self.stakeholders = [
            self.person(f"Stake Holder{i}", slack=f"U0STAKE00{i}" if slack_ids else None) for i in range(1, 6)
        ]
        self.outsider = self.person("Oscar Outsider", slack="U0OUTSIDE1" if slack_ids else None)
        self.review_id = self.review(
            "Library services",
            self.owner,
            self.lead,
            self.holder,
            [date(2026, 12, 1), date(2027, 1, 15), date(2027, 3, 1), date(2027, 5, 1)],
        )
        self.feedback = self.feedback_through(())

    def feedback_through(self, messengers: Sequence[Messenger]) -> FeedbackService:
        """The feedback service, sending its invitations and reminders through ``messengers``."""
        return FeedbackService(
            self.database, self.reviews, calendar=WorkingCalendar(), clock=self.clock, messengers=messengers
        )

    def ask(self, people: Sequence[Person] | None = None, requester: Person | None = None) -> RequestOutcome:
        """The lead (or ``requester``) asks the stakeholders (or ``people``), closing on CLOSES."""
        chosen = [person.id for person in (people or self.stakeholders)]
        form = RequestForm(person_ids=chosen, question_set="", closes_on=CLOSES)  # type: ignore[arg-type]
        return self.feedback.requests.ask(ref(requester or self.lead), self.review_id, form)


def ref(person: Person) -> PersonRef:
    return PersonRef.from_person(person)


def identity_strings(person: Person) -> list[str]:
    """Everything that names a person: id aside, the strings a scan of the tables looks for."""
    found = [person.name, person.email or "", person.slack_user_id or "", person.teams_user_id or ""]
    return [text for text in found if text]


def rows_mentioning(
    database: Database, person: Person, *, skip: set[str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table that holds the person's id (in a person column) or any of their identities."""
    needles = identity_strings(person)
    hits: dict[str, list[dict[str, Any]]] = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if skip and table.name in skip:
                continue
            for row in connection.execute(sa.select(table)).mappings():
                text = " ".join(str(value) for value in row.values())
                person_columns = [name for name in row if "person_id" in name]
                if any(row[name] == person.id for name in person_columns) or any(n in text for n in needles):
                    hits.setdefault(table.name, []).append(dict(row))
    return hits


def snapshot(database: Database) -> dict[str, set[str]]:
    """Every row of every table, as text, to see what an action added or changed."""
    found: dict[str, set[str]] = {}
    with database.engine.connect() as connection:
        for table in metadata.sorted_tables:
            found[table.name] = {
                repr(sorted(dict(row).items(), key=lambda kv: kv[0]))
                for row in connection.execute(sa.select(table)).mappings()
            }
    return found


def changed_rows(before: dict[str, set[str]], after: dict[str, set[str]]) -> dict[str, set[str]]:
    return {name: rows - before.get(name, set()) for name, rows in after.items() if rows - before.get(name, set())}
