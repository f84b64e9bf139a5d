"""Shared arrangements for the nudge tests: times in a given timezone, people and reviews in a real database."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from handlers.slack.context import ChannelPacer
from storage.db import Database
from storage.models import Person
from storage.people import PeopleRepository
from storage.review_snapshots import PersonSummary, ReviewSummary, StageSummary
from storage.work_queue import WorkQueue, work_queue_depth
from workflows.cycle import load_cycle
from workflows.messaging import Messenger, register_message_work
from workflows.nudge_types import Recipient
from workflows.reviews import Actor, ReviewDraft, ReviewService, StageDraft
from workflows.work_runner import WorkRunner

STAGES = ("Analyse", "Plan", "Do", "Review")


def at(text: str, zone: str = "Europe/London") -> datetime:
    """'2026-11-23 10:00' in ``zone``, as the aware UTC time the scheduler works in."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


def no_waiting() -> ChannelPacer:
    """Slack pacing with room for any burst, for tests that are not about pacing."""
    return ChannelPacer(burst=10_000)


def message_workers(database: Database, messengers: list[Messenger], threads: int = 1) -> WorkRunner:
    """The product's work queue workers, sending the direct messages a sweep queued through ``messengers``."""
    runner = WorkRunner(WorkQueue(database), threads=threads, poll_seconds=0.05, grace_seconds=5)
    register_message_work(runner, database, lambda: messengers)
    return runner


def run_workers_until_done(runner: WorkRunner, timeout: float = 30.0) -> dict[str, int]:
    """Start the workers, wait until nothing is waiting or being worked on, stop them; the queue's depth."""
    runner.start()
    try:
        deadline = time.monotonic() + timeout
        while True:
            depth = work_queue_depth(runner.queue.database)
            if depth["ready"] + depth["leased"] == 0:
                return depth
            assert time.monotonic() < deadline, f"the work queue did not empty: {depth}"
            time.sleep(0.05)
    finally:
        runner.stop(grace_seconds=5)


def summary(
    review_id: int,
    dues: list[date],
    *,
    owner: int = 1,
    lead: int = 2,
    holder: int = 3,
    done: int = 0,
    status: str = "open",
    title: str = "Library services",
) -> ReviewSummary:
    """A review as the repository lists it, with ``done`` stages already finished."""
    people = {i: PersonSummary(i, f"Person {i}") for i in (owner, lead, holder)}
    stages = tuple(
        StageSummary(
            review_id * 10 + position,
            name,
            position,
            people[owner],
            due,
            datetime(2026, 1, 1, tzinfo=UTC) if position < done else None,
        )
        for position, (name, due) in enumerate(zip(STAGES, dues, strict=True))
    )
    return ReviewSummary(review_id, title, "Libraries", "operational", status, people[lead], people[holder], stages, 1)


def recipients(*people: Recipient) -> dict[int, Recipient]:
    return {person.id: person for person in people}


def officer(person_id: int, name: str | None = None, zone: str = "Europe/London", **options: Any) -> Recipient:
    return Recipient(
        person_id,
        name or f"Person {person_id}",
        zone,
        options.get("reachable", True),
        options.get("platforms", ("slack",)),
    )


class World:
    """People and reviews saved through the product's own services."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self.people = PeopleRepository(database)
        self.reviews = ReviewService(database, load_cycle())

    def person(
        self,
        name: str,
        *,
        slack: str | None = None,
        zone: str = "Europe/London",
        teams_ref: dict[str, Any] | None = None,
        teams_id: str | None = None,
    ) -> Person:
        email = name.lower().replace(" ", ".") + "@council.gov.uk"
        return self.people.upsert(
            name=name,
            email=email,
            slack_user_id=slack,
            timezone=zone,
            teams_user_id=teams_id,
            teams_conversation_ref=teams_ref,
        )

    def review(self, title: str, owner: Person, lead: Person, holder: Person, dues: list[date]) -> int:
        draft = ReviewDraft(
            title=title,
            service="Libraries",
            outcomes=["Residents can borrow books"],
            level="operational",
            lead_commissioner_id=lead.id,
            portfolio_holder_id=holder.id,  # type: ignore[arg-type]
            stages=[StageDraft(name, owner.id, due) for name, due in zip(STAGES, dues, strict=True)],
        )  # type: ignore[arg-type]
        [review_id] = self.reviews.create_reviews([draft], Actor.system("test"))
        return review_id
