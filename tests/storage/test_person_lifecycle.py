"""Leavers and erasure requests, on SQLite and PostgreSQL: what stays, what goes, and what is handed over."""

from __future__ import annotations

import sqlalchemy as sa

from handlers.slack.context import build_web_client
from handlers.slack.notify import SlackNotifier
from storage.people import PeopleRepository
from storage.person_lifecycle import PersonLifecycle, why_unreachable
from storage.tables import metadata
from tests.feedback.helpers import FeedbackWorld, identity_strings, ref
from tests.feedback.test_feedback_storage import answer, ask
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from workflows.messaging import Courier
from workflows.nudge_types import Recipient


def _text_of_every_row(database) -> str:
    with database.engine.connect() as connection:
        return "\n".join(
            " ".join(str(value) for value in row.values())
            for table in metadata.sorted_tables
            for row in connection.execute(sa.select(table)).mappings()
        ).casefold()


def test_a_leaver_is_no_longer_offered_or_nudged_and_their_open_stages_are_listed(database) -> None:
    world = FeedbackWorld(database)
    people = PeopleRepository(database)
    owner = world.owner
    assert [p.id for p in people.search("Owen")] == [owner.id]

    work = PersonLifecycle(database).deactivate(owner.id, actor="operator: test")

    assert [stage for _, _, stage, _ in work.stages] and all(rid == world.review_id for rid, *_ in work.stages)
    left = people.get(owner.id)
    assert people.search("Owen") == []  # never offered when an officer names someone
    assert why_unreachable(left) == "deactivated: has left"
    assert Recipient.from_person(left).reachable is False  # never nudged
    assert world.reviews.get(world.review_id).stages[0].owner.name == "Owen Owner"  # history still reads


def test_erasure_removes_the_persons_identity_everywhere_and_keeps_their_ratings_anonymous(database) -> None:
    world = FeedbackWorld(database)
    alice = world.stakeholders[0]
    round_ = ask(world)
    form = world.feedback.answers.form(ref(alice), f"round:{round_.id}")
    worked = f"{alice.name} liked the new rota"
    world.feedback.answers.submit(ref(alice), round_.id, form.token, answer(worked=worked))
    identities = identity_strings(alice)
    assert all(identity.casefold() in _text_of_every_row(database) for identity in identities)

    report = PersonLifecycle(database).erase(alice.id, actor="operator: test")

    everything = _text_of_every_row(database)
    assert not [identity for identity in identities if identity.casefold() in everything]
    assert report.feedback_answers == 1 and report.audit_entries >= 1
    erased = PeopleRepository(database).get(alice.id)
    assert erased.name == f"Erased person {alice.id}" and erased.email is None
    [kept] = world.feedback.rules.repository.responses(round_.id)
    assert kept.anonymous and kept.person_id is None and kept.ratings["outcomes"] == 4
    assert kept.answers["what_worked"] == f"Erased person {alice.id} liked the new rota"


def test_a_leaver_marked_reachable_again_by_a_platform_is_still_never_messaged(database) -> None:
    fake = FakeSlack().start()
    try:
        courier = Courier(database, [SlackNotifier(build_web_client(BOT_TOKEN, fake.api_url))])
        people = PeopleRepository(database)
        leaver = people.upsert(name="Lee Leaver", email="lee@council.gov.uk", slack_user_id="U0LEAVER01")
        assert courier.messenger_for(people.get(leaver.id)) is not None
        PersonLifecycle(database).deactivate(leaver.id, actor="operator: test")
        people.upsert(name="Lee Leaver", slack_user_id="U0LEAVER01", reachable=True)  # they wrote to the bot
        assert people.get(leaver.id).reachable is True
        assert courier.messenger_for(people.get(leaver.id)) is None
    finally:
        fake.stop()
