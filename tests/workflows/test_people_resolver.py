"""Finding people from what an officer types, against the real people table.

Each platform's mention syntax is its adapter's: see tests/slack/test_people.py and tests/teams/test_parts.py."""

from __future__ import annotations

import pytest

from storage.people import PeopleRepository
from workflows.people import (
    Ambiguous,
    ChainedPeopleResolver,
    DirectoryPeopleResolver,
    PersonRef,
    Resolved,
    Unknown,
)

TEAMS_ID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.fixture
def people(database) -> PeopleRepository:
    repo = PeopleRepository(database)
    repo.upsert(name="Sam Patel", email="sam.patel@council.gov.uk", slack_user_id="U0SAMPATEL1")
    repo.upsert(name="Sam Jones", email="sam.jones@council.gov.uk", teams_user_id=TEAMS_ID)
    repo.upsert(name="Priya Shah", email="priya.shah@council.gov.uk")
    return repo


@pytest.fixture
def resolver(people) -> DirectoryPeopleResolver:
    me = PersonRef.from_person(people.find_by_email("priya.shah@council.gov.uk"))
    return DirectoryPeopleResolver(people, me=me)


def name_of(result) -> str:
    assert isinstance(result, Resolved), result
    return result.person.name


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("sam.patel@council.gov.uk", "Sam Patel"),
        ("SAM.PATEL@Council.gov.uk", "Sam Patel"),
        ("Sam Patel", "Sam Patel"),
        ("@sam jones", "Sam Jones"),
        ("patel", "Sam Patel"),
        ("U0SAMPATEL1", "Sam Patel"),
        (TEAMS_ID.upper(), "Sam Jones"),
        ("me", "Priya Shah"),
    ],
)
def test_people_are_found_by_email_name_and_platform_id(resolver, typed: str, expected: str) -> None:
    assert name_of(resolver.resolve(typed)) == expected


def test_an_ambiguous_name_offers_the_candidates(resolver) -> None:
    result = resolver.resolve("sam")
    assert isinstance(result, Ambiguous)
    assert sorted(p.email for p in result.candidates) == ["sam.jones@council.gov.uk", "sam.patel@council.gov.uk"]


@pytest.mark.parametrize("typed", ["nobody@council.gov.uk", "U0NOTKNOWN1", "Zed Zebra", "x", ""])
def test_an_unknown_person_is_reported_as_unknown(resolver, typed: str) -> None:
    assert isinstance(resolver.resolve(typed), Unknown)


def test_a_platform_resolver_goes_first_and_the_directory_catches_the_rest(resolver) -> None:
    class BotUsers:
        def resolve(self, text: str):
            return Resolved(PersonRef(99, "Helper Bot")) if text == "<@UHELPERBOT>" else Unknown(text)

    chained = ChainedPeopleResolver([BotUsers(), resolver])
    assert name_of(chained.resolve("<@UHELPERBOT>")) == "Helper Bot"
    assert name_of(chained.resolve("priya")) == "Priya Shah"
    assert isinstance(chained.resolve("nobody"), Unknown)


def test_me_is_never_a_name_search(people) -> None:
    people.upsert(name="James Mehta", email="james.mehta@council.gov.uk")
    assert isinstance(DirectoryPeopleResolver(people).resolve("me"), Unknown)
