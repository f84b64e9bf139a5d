"""Guidance insights for the people who own the guidance: the report from the answer log, and who may see it.

The CLI, the Slack App Home and the ``insights`` command (Slack and Teams) all start here. The guidance's
documents and sections (for "never cited") come from the shared index in the database; grouping similar
questions uses the knowledge base's embedding model when meaning search is on (``embedder``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time

from storage.answer_log import AnswerLog
from storage.db import Database
from storage.guidance import GuidanceRepository
from storage.people import PeopleRepository
from workflows.guidance_owners import GuidanceOwners
from workflows.insights import Embedder, GuidanceInsights, build_insights

__all__ = ["InsightsService", "NOT_AN_OWNER"]

NOT_AN_OWNER = (
    "Guidance insights are for the people who look after the guidance. If that's you, ask your system "
    "administrator to add your email to GUIDANCE_OWNERS."
)


class InsightsService:
    def __init__(
        self,
        database: Database,
        owners: GuidanceOwners,
        *,
        embedder: Callable[[], Embedder | None] = lambda: None,
    ) -> None:
        self.answer_log = AnswerLog(database)
        self.owners = owners
        self._database = database
        self._embedder = embedder

    def report(self, since: date | None = None) -> GuidanceInsights:
        start = datetime.combine(since, time(), tzinfo=UTC) if since else None
        return build_insights(self.answer_log.entries(start), self._catalogue(), embed=self._embedder(), since=since)

    def _catalogue(self) -> Iterator[tuple[str, str]]:
        _, rows = GuidanceRepository(self._database).snapshot()
        for row in rows:
            yield row.source, " > ".join(row.section)

    def is_owner(self, person_id: int | None, *platform_ids: str | None) -> bool:
        """Whether the person (by their email and platform ids in the people table) or any of ``platform_ids`` is
        listed in GUIDANCE_OWNERS."""
        if not self.owners:
            return False
        identities: list[str | None] = list(platform_ids)
        if person_id is not None:
            person = PeopleRepository(self._database).get(person_id)
            if person is not None:
                identities += [person.email, person.slack_user_id, person.teams_user_id]
        return self.owners.includes(*identities)
