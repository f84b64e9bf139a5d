"""Shared set-up for the review lifecycle, import and CLI tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from storage.db import Database
from storage.models import Person
from storage.people import PeopleRepository
from workflows.cycle import load_cycle
from workflows.reviews import Actor, ReviewDraft, ReviewService, StageDraft

# A Monday morning in London.
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass
class Team:
    sam: Person  # lead commissioner
    priya: Person  # portfolio holder
    owen: Person  # stage owner
    ruth: Person  # another officer
    council: Person  # a stakeholder

    def actor(self, person: Person) -> Actor:
        return Actor.person(person.id, person.name)  # type: ignore[arg-type]


def add_team(database: Database) -> Team:
    people = PeopleRepository(database)
    return Team(
        sam=people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk", slack_user_id="U0SAM"),
        priya=people.upsert(name="Cllr Priya Shah", email="priya.shah@council.gov.uk", slack_user_id="U0PRIYA"),
        owen=people.upsert(
            name="Owen Jones", email="owen.jones@council.gov.uk", teams_user_id="6f1c7a52-3b0e-4d5e-9f6a-2b8c1d4e7a90"
        ),
        ruth=people.upsert(name="Ruth Green", email="ruth.green@council.gov.uk"),
        council=people.upsert(name="Voluntary Action Network", email="hello@van.org.uk"),
    )


def make_service(database: Database, clock: Clock) -> ReviewService:
    return ReviewService(database, load_cycle(), clock=clock, timezone="Europe/London")


def draft_for(
    team: Team,
    today: date,
    title: str = "Home care review",
    service: str = "Adult social care",
    owner: Person | None = None,
) -> ReviewDraft:
    owner = owner or team.owen
    return ReviewDraft(
        title=title,
        service=service,
        outcomes=["People stay well at home for longer", "Fewer emergency hospital admissions"],
        level="operational",
        lead_commissioner_id=team.sam.id,  # type: ignore[arg-type]
        portfolio_holder_id=team.priya.id,  # type: ignore[arg-type]
        stages=[
            StageDraft(name="Analyse", owner_id=owner.id, due=today + timedelta(days=30)),  # type: ignore[arg-type]
            StageDraft(name="Plan", owner_id=owner.id, due=today + timedelta(days=60)),  # type: ignore[arg-type]
            StageDraft(name="Do", owner_id=team.ruth.id, due=today + timedelta(days=120)),  # type: ignore[arg-type]
            StageDraft(name="Review", owner_id=team.sam.id, due=today + timedelta(days=150)),  # type: ignore[arg-type]
        ],
        stakeholder_ids=[team.council.id],  # type: ignore[list-item]
    )
