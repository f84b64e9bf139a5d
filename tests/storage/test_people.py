from __future__ import annotations

import threading

import pytest

from storage.audit import AuditRepository
from storage.people import PeopleRepository, PersonError, identity_kind


@pytest.fixture
def people(database) -> PeopleRepository:
    return PeopleRepository(database)


def test_people_are_found_by_any_identity_ignoring_case(people: PeopleRepository) -> None:
    sam = people.upsert(
        name="Sam Patel",
        email="Sam.Patel@Council.gov.uk",
        slack_user_id="u0sam",
        teams_user_id="6F1C7A52-3B0E-4D5E-9F6A-2B8C1D4E7A90",
    )

    assert people.find_by_email("sam.patel@council.gov.uk").id == sam.id
    assert people.find_by_email("SAM.PATEL@COUNCIL.GOV.UK").id == sam.id
    assert people.find_by_slack_id("U0SAM").id == sam.id
    assert people.find_by_teams_id("6f1c7a52-3b0e-4d5e-9f6a-2b8c1d4e7a90").id == sam.id
    assert people.find("U0SAM").id == sam.id
    assert people.find(" Sam.Patel@council.gov.uk ").id == sam.id
    assert people.find("nobody@council.gov.uk") is None
    assert set(people.find_many(["U0SAM", "sam.patel@council.gov.uk", "U0NOBODY"])) == {
        "U0SAM",
        "sam.patel@council.gov.uk",
    }


def test_upsert_updates_the_person_who_has_the_identity(people: PeopleRepository, database) -> None:
    first = people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk")
    again = people.upsert(
        name="Samir Patel", email="sam.patel@council.gov.uk", slack_user_id="U0SAM", timezone="Europe/Dublin"
    )

    assert again.id == first.id
    assert people.get(first.id).name == "Samir Patel"
    assert people.get(first.id).timezone == "Europe/Dublin"
    assert len(people.list_all()) == 1
    history = AuditRepository(database).for_entity("person", first.id)
    assert [entry.action for entry in history] == ["person.added", "person.updated"]
    assert history[1].before["name"] == "Sam Patel" and history[1].after["name"] == "Samir Patel"


def test_identities_of_two_different_people_are_never_merged(people: PeopleRepository) -> None:
    people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk")
    people.upsert(name="Owen Jones", email="owen.jones@council.gov.uk", slack_user_id="U0OWEN")

    with pytest.raises(PersonError, match=r"belong to two different people \(Owen Jones and Sam Patel\)"):
        people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk", slack_user_id="U0OWEN")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "   "}, "needs a name"),
        ({"name": "Sam"}, "needs an email, a Slack user id or a Teams user id"),
        ({"name": "Sam", "email": "not an email"}, "does not look like an email address"),
        ({"name": "x" * 201, "email": "a@b.org"}, "longer than 200 characters"),
    ],
)
def test_a_person_with_bad_details_is_refused_and_nothing_is_saved(people: PeopleRepository, kwargs, message) -> None:
    with pytest.raises(PersonError, match=message):
        people.upsert(**kwargs)
    assert people.list_all() == []


def test_search_finds_names_and_emails_case_insensitively_whole_names_first(people: PeopleRepository) -> None:
    people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk")
    people.upsert(name="Samantha Oduya", email="s.oduya@council.gov.uk")
    people.upsert(name="Owen Jones", email="owen@council.gov.uk")
    people.upsert(name="Sam", email="sam@council.gov.uk")

    assert [p.name for p in people.search("SAM")] == ["Sam", "Sam Patel", "Samantha Oduya"]
    assert [p.name for p in people.search("oduya@")] == ["Samantha Oduya"]
    assert people.search("100%_") == []
    assert people.search("   ") == []


def test_roles_are_held_by_people_with_an_optional_scope(people: PeopleRepository) -> None:
    priya = people.upsert(name="Cllr Priya Shah", email="priya.shah@council.gov.uk")
    fin = people.upsert(name="Dana Ali", email="dana.ali@council.gov.uk")
    people.assign_role(priya.id, "Portfolio Holder", "Housing")
    people.assign_role(priya.id, "portfolio holder", "housing")  # the same role again changes nothing
    people.assign_role(fin.id, "section 151 officer")

    assert [(r.role, r.scope) for r in people.roles_of(priya.id)] == [("portfolio holder", "housing")]
    assert [p.name for p in people.holders_of("portfolio holder", "HOUSING")] == ["Cllr Priya Shah"]
    assert [p.name for p in people.holders_of("section 151 officer")] == ["Dana Ali"]
    assert people.remove_role(priya.id, "portfolio holder", "housing") is True
    assert people.holders_of("portfolio holder") == []


def test_reachability_and_the_teams_conversation_reference_are_kept(people: PeopleRepository) -> None:
    owen = people.upsert(name="Owen Jones", teams_user_id="6f1c7a52-3b0e-4d5e-9f6a-2b8c1d4e7a90")
    reference = {"serviceUrl": "https://smba.trafficmanager.net/uk/", "conversation": {"id": "a:1"}, "tenantId": "t1"}

    people.set_teams_conversation_ref(owen.id, reference)
    people.set_reachable(owen.id, False)

    stored = people.get(owen.id)
    assert stored.teams_conversation_ref == reference
    assert stored.reachable is False


def test_identity_kinds() -> None:
    assert identity_kind("a.b@council.gov.uk") == "email"
    assert identity_kind("U0123ABC") == "slack"
    assert identity_kind("6f1c7a52-3b0e-4d5e-9f6a-2b8c1d4e7a90") == "teams"
    assert identity_kind("Sam Patel") is None


def test_two_adapters_adding_the_same_new_person_at_once_make_one_person(people: PeopleRepository) -> None:
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def add() -> None:
        barrier.wait()
        try:
            people.upsert(name="Owen Jones", email="owen.jones@council.gov.uk", slack_user_id="U0OWEN")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert [p.name for p in people.list_all()] == ["Owen Jones"]
