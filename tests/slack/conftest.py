"""One fake Slack and one warmed product server per test module: warming the guidance takes seconds."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from bot.app import Services
from bot.config import Settings
from bot.server import build_server
from knowledge.service import KnowledgeBase
from storage.people import PeopleRepository
from tests.conftest import MODEL_DIR
from tests.db_fixtures import DATABASE_KINDS, _create_schema, _drop_schema, postgres_url_for_schema
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack
from tests.slack.harness import SIGNING_SECRET, LoopbackServer, SlackSender

ALICE = "U0ALICE001"  # lead commissioner
OWEN = "U0OWEN0001"  # stage owner
PRIYA = "U0PRIYA001"  # portfolio holder
NEWBIE = "U0NEWBIE01"  # a colleague the people table has never seen


@dataclass
class SlackWorld:
    fake: FakeSlack
    services: Services
    server: LoopbackServer
    slack: SlackSender

    @property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self.services.database)


def slack_settings(data_dir, fake: FakeSlack, **overrides) -> Settings:  # type: ignore[no-untyped-def]
    return Settings(
        data_dir=data_dir,
        embedding_model_dir=MODEL_DIR if MODEL_DIR.exists() else None,
        log_format="text",
        slack_bot_token=BOT_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_api_url=fake.api_url,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,
    )


def add_fake_users(fake: FakeSlack) -> None:
    fake.add_user(ALICE, "Alice Adams", "alice.adams@council.gov.uk")
    fake.add_user(OWEN, "Owen Jones", "owen.jones@council.gov.uk", tz="Europe/Dublin")
    fake.add_user(PRIYA, "Cllr Priya Shah", "priya.shah@council.gov.uk")
    fake.add_user(NEWBIE, "Nia Evans", "nia.evans@council.gov.uk", tz="America/New_York")


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, shared_guidance: KnowledgeBase
) -> Iterator[SlackWorld]:
    """The product's server on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set."""
    yield from running_world(request.param, tmp_path_factory, shared_guidance, "slack")


def running_world(
    database_kind: str,
    tmp_path_factory: pytest.TempPathFactory,
    shared_guidance: KnowledgeBase,
    name: str,
    **overrides: object,
) -> Iterator[SlackWorld]:
    """The fake Slack and the product's server on the database kind asked for, with settings ``overrides``;
    everything is stopped (and a PostgreSQL schema dropped) when the generator is closed."""
    fake = FakeSlack().start()
    add_fake_users(fake)
    schema = f"test_{name}_{uuid.uuid4().hex[:10]}" if database_kind == "postgres" else None
    if schema is not None:
        _create_schema(schema)
        overrides["database_url"] = postgres_url_for_schema(schema)
    services = Services(
        slack_settings(tmp_path_factory.mktemp(f"{name}-data"), fake, **overrides), knowledge=shared_guidance
    )
    server = LoopbackServer(build_server(services)).start()
    try:
        server.wait_until_ready()
        yield SlackWorld(fake, services, server, SlackSender(server.url, fake))
    finally:
        server.stop()
        fake.stop()
        services.close()
        if schema is not None:
            _drop_schema(schema)
