"""A sweep delivers to Teams as proactive messages through the Connector's real REST protocol.

The loopback Entra token service and Connector are the Teams tests' own fakes
(HTTPS with a test CA); the product's ConnectorClient, token provider and
TeamsMessenger are the code under test.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from pydantic import SecretStr

from handlers.teams.connector import ConnectorClient
from handlers.teams.notify import TeamsNotifier
from handlers.teams.proactive import TeamsMessenger
from handlers.teams.settings import TeamsSettings
from handlers.teams.token import BotTokenProvider
from storage.notifications import NotificationLedger
from tests.nudges.helpers import World, at
from tests.teams import pki as teams_pki
from tests.teams.fakes import Answer, FakeConnector, FakeEntra
from tests.teams.ids import APP_ID, APP_PASSWORD, BOT_ID, SCOPE, TENANT_ID
from workflows.actions import NudgeActions
from workflows.cycle import load_cycle
from workflows.delivery import CycleTips, NudgeSweep
from workflows.nudge_types import NudgeKind, NudgePolicy

DUES = [date(2026, 11, 30), date(2026, 12, 18), date(2027, 1, 29), date(2027, 2, 26)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> teams_pki.TestPKI:
    return teams_pki.make_pki(tmp_path_factory.mktemp("nudge-pki"))


@pytest.fixture
def connector(pki: teams_pki.TestPKI, tmp_path) -> Iterator[tuple[FakeConnector, ConnectorClient]]:  # type: ignore[no-untyped-def]
    entra = FakeEntra(pki, tenant_id=TENANT_ID, client_id=APP_ID, client_secret=APP_PASSWORD, scope=SCOPE)
    fake = FakeConnector(pki, entra)
    settings = TeamsSettings(
        app_id=APP_ID,
        app_password=SecretStr(APP_PASSWORD),
        tenant_id=TENANT_ID,
        authority_url=entra.base_url,
        allowed_service_url_hosts=("127.0.0.1",),
        ca_bundle=pki.ca_file,
    )
    client = ConnectorClient(settings, BotTokenProvider(settings), sleep=lambda seconds: None)
    try:
        yield fake, client
    finally:
        client.close()
        fake.close()
        entra.close()


def teams_person(world: World, fake: FakeConnector, name: str):  # type: ignore[no-untyped-def]
    """Someone who has installed the app: the reference Teams gave us then is stored on them."""
    reference = {
        "service_url": fake.service_url,
        "tenant_id": TENANT_ID,
        "bot_id": BOT_ID,
        "user_id": f"29:{uuid.uuid4().hex}",
        "user_aad_id": str(uuid.uuid4()),
    }
    return world.person(name, teams_ref=reference, teams_id=reference["user_aad_id"])


def test_reminders_arrive_as_cards_in_the_personal_chat_once(database, connector) -> None:
    fake, client = connector
    world = World(database)
    owner, lead, holder = (teams_person(world, fake, name) for name in ("Sam Owner", "Lee Lead", "Pat Holder"))
    review_id = world.review("Day centres", owner, lead, holder, DUES)
    sweep = NudgeSweep(
        database,
        NudgePolicy(),
        [TeamsNotifier(TeamsMessenger(world.people, client))],
        tips=CycleTips(load_cycle()),
        send_now=True,
    )
    report = sweep.run(at("2026-12-07 10:00"))
    assert (report.sent, report.failed) == (3, 0)  # overdue, escalation, Monday digest
    owner_chat = fake.personal_chats[owner.teams_conversation_ref["user_id"]]
    [card] = fake.posted_to(owner_chat)
    assert "Analyse of #1 “Day centres” is overdue" in card.all_text and "Evidence of need gathered" in card.all_text
    actions = (
        card.card["actions"]
        if "actions" in card.card
        else [a for item in card.card["body"] if item.get("type") == "ActionSet" for a in item["actions"]]
    )
    pressed = {a["data"]["action_id"]: a["data"]["value"] for a in actions}
    assert pressed[NudgeActions.SNOOZE] == f"{review_id}:Analyse" and NudgeActions.REASSIGN in pressed
    assert card.card["version"] == "1.5"
    lead_chat = fake.personal_chats[lead.teams_conversation_ref["user_id"]]
    assert "Sam Owner owns it" in fake.posted_to(lead_chat)[0].all_text
    assert sweep.run(at("2026-12-07 11:00")).sent == 0
    assert len(fake.posted) == 3


def test_a_person_who_blocked_the_bot_is_marked_unreachable(database, connector) -> None:
    fake, client = connector
    world = World(database)
    owner, lead, holder = (teams_person(world, fake, name) for name in ("Sam Owner", "Lee Lead", "Pat Holder"))
    world.review("Day centres", owner, lead, holder, DUES)
    fake.blocked_users.add(owner.teams_conversation_ref["user_id"])
    sweep = NudgeSweep(database, NudgePolicy(), [TeamsNotifier(TeamsMessenger(world.people, client))], send_now=True)
    report = sweep.run(at("2026-11-24 10:00"))
    assert report.unreachable == 1
    assert world.people.get(owner.id).reachable is False
    [nudge] = [n for n in sweep.plan(at("2026-11-24 10:00"))[0].held if n.nudge.kind is NudgeKind.DUE_SOON]
    entry = NotificationLedger(database).get(nudge.nudge.key)
    assert entry.status == "failed" and "unreachable" in entry.last_error


def test_an_ambiguous_gateway_answer_is_not_sent_twice(database, connector) -> None:
    fake, client = connector
    world = World(database)
    owner, lead, holder = (teams_person(world, fake, name) for name in ("Sam Owner", "Lee Lead", "Pat Holder"))
    world.review("Day centres", owner, lead, holder, DUES)
    sweep = NudgeSweep(database, NudgePolicy(), [TeamsNotifier(TeamsMessenger(world.people, client))], send_now=True)
    # The 1:1 chat opens; then the post answers 502, which may or may not have shown the message.
    fake.fail_next(Answer(201, {"id": "a:chat-1"}), Answer(502, {"error": {"code": "BadGateway", "message": "x"}}))
    report = sweep.run(at("2026-11-24 10:00"))
    assert report.gave_up == 1
    assert sweep.run(at("2026-11-24 11:00")).sent == 0


@pytest.mark.parametrize("retry_after", [5, 60], ids=["within-the-connectors-own-wait", "longer"])
def test_teams_throttling_one_person_holds_only_their_reminder_in_the_queue(database, connector, retry_after) -> None:
    fake, client = connector
    world = World(database)
    owner, lead, holder = (teams_person(world, fake, name) for name in ("Sam Owner", "Lee Lead", "Pat Holder"))
    world.review("Day centres", owner, lead, holder, DUES)
    sweep = NudgeSweep(database, NudgePolicy(), [TeamsNotifier(TeamsMessenger(world.people, client))], send_now=True)
    # The owner's chat opens, then Teams answers 429: no worker sleeps through it, however short.
    throttled = Answer(429, {"error": {"code": "Throttled", "message": "slow down"}}, {"Retry-After": str(retry_after)})
    fake.fail_next(Answer(201, {"id": "a:chat-owner"}), throttled)
    before = datetime.now(UTC)
    report = sweep.run(at("2026-11-24 10:00"))  # Tuesday: the owner's reminder, the holder's digest caught up
    assert (report.queued, report.sent, report.deferred) == (2, 1, 1)
    holder_chat = fake.personal_chats[holder.teams_conversation_ref["user_id"]]
    assert [p.conversation_id for p in fake.posted] == [holder_chat]
    # The owner's reminder waits in the queue until Teams' Retry-After, still claimed once in the ledger.
    with database.engine.connect() as connection:
        [(state, not_before)] = connection.execute(
            sa.text("SELECT state, not_before FROM work_item WHERE channel_key = :key"),
            {"key": f"dm:teams:{owner.id}"},
        ).all()
    waits_until = not_before if isinstance(not_before, datetime) else datetime.fromisoformat(str(not_before))
    assert state == "ready" and waits_until.replace(tzinfo=UTC) >= before + timedelta(seconds=retry_after - 1)
    assert sweep.run(at("2026-11-24 10:30")).claimed_elsewhere == 1
    assert len(fake.posted) == 1
