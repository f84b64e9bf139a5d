"""Slack users become people (users.info, users.lookupByEmail), with Slack's timezone; mentions resolve to them."""

from __future__ import annotations

import pytest

from handlers.slack.context import build_web_client
from handlers.slack.people import SlackPeople, slack_people_resolver
from storage.people import PeopleRepository
from tests.slack.conftest import NEWBIE, OWEN, add_fake_users
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from workflows.people import Resolved, Unknown


@pytest.fixture
def fake():
    fake = FakeSlack().start()
    add_fake_users(fake)
    yield fake
    fake.stop()


def test_mentions_bare_ids_and_emails_resolve_to_stored_people(database, fake) -> None:
    people = PeopleRepository(database)
    slack_people = SlackPeople(build_web_client(BOT_TOKEN, fake.api_url), people)
    resolver = slack_people_resolver(slack_people, people, me=None)

    mentioned = resolver.resolve(f"<@{NEWBIE}|nia>")
    assert isinstance(mentioned, Resolved) and mentioned.person.name == "Nia Evans"
    stored = people.find_by_slack_id(NEWBIE)
    assert stored.email == "nia.evans@council.gov.uk" and stored.timezone == "America/New_York"

    by_email = resolver.resolve("<mailto:owen.jones@council.gov.uk|owen.jones@council.gov.uk>")
    assert isinstance(by_email, Resolved) and people.find_by_slack_id(OWEN).timezone == "Europe/Dublin"
    assert fake.calls_to("users.lookupByEmail")

    # Names come from the people table once Slack has told us about the person.
    assert resolver.resolve("Nia Evans") == Resolved(mentioned.person)
    assert isinstance(resolver.resolve("<@U0NOBODY01>"), Unknown)
    assert isinstance(resolver.resolve("nobody@council.gov.uk"), Unknown)


def test_users_are_looked_up_once_while_cached(database, fake) -> None:
    slack_people = SlackPeople(build_web_client(BOT_TOKEN, fake.api_url), PeopleRepository(database))
    for _ in range(3):
        assert slack_people.person_for(NEWBIE).name == "Nia Evans"
    assert len(fake.calls_to("users.info", user=NEWBIE)) == 1


def test_a_slack_outage_falls_back_to_what_we_already_know(database, fake) -> None:
    people = PeopleRepository(database)
    people.upsert(name="Owen Jones", email="owen.jones@council.gov.uk", slack_user_id=OWEN)
    fake.fail_next("users.info", error="fatal_error")
    slack_people = SlackPeople(build_web_client(BOT_TOKEN, fake.api_url), people)
    assert slack_people.person_for(OWEN).name == "Owen Jones"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("<@U0SAMPATEL1>", "Sam Patel"),
        ("<@U0SAMPATEL1|sam>", "Sam Patel"),
        ("<mailto:sam.jones@council.gov.uk|sam.jones@council.gov.uk>", "Sam Jones"),
    ],
)
def test_slack_markup_finds_people_slack_does_not_know(database, fake, typed: str, expected: str) -> None:
    """People in the table whom Slack has never heard of (users.info says user_not_found) are still found."""
    people = PeopleRepository(database)
    people.upsert(name="Sam Patel", email="sam.patel@council.gov.uk", slack_user_id="U0SAMPATEL1")
    people.upsert(name="Sam Jones", email="sam.jones@council.gov.uk")
    resolver = slack_people_resolver(SlackPeople(build_web_client(BOT_TOKEN, fake.api_url), people), people, me=None)
    found = resolver.resolve(typed)
    assert isinstance(found, Resolved) and found.person.name == expected
    assert isinstance(resolver.resolve("<@U0NOTKNOWN>"), Unknown)
