"""The Teams fakes and the real server, started once per test module.

The server is the product's own ASGI app (:func:`bot.server.build_server`) on
uvicorn, on a free loopback port, with every Teams endpoint setting pointed at
the fakes and the test CA trusted through TEAMS_CA_BUNDLE. It runs on SQLite,
and on PostgreSQL too when TEST_DATABASE_URL is set. A test module may set ``TEAMS_SETTINGS`` (a dict of
:class:`~bot.config.Settings` fields) for its own server, e.g. one queue worker.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from bot.app import Services
from bot.config import Settings
from bot.routes import teams_route_provider
from bot.server import build_server
from knowledge.service import KnowledgeBase
from storage.people import PeopleRepository
from tests.conftest import MODEL_DIR
from tests.db_fixtures import DATABASE_KINDS, _create_schema, _drop_schema, postgres_url_for_schema
from tests.teams.fakes import FakeChannel, FakeConnector, FakeEntra, Member
from tests.teams.ids import APP_ID, APP_PASSWORD, SCOPE, TENANT_ID
from tests.teams.pki import TestPKI, make_pki

# The one person who sees the guidance insights (tests/teams/test_ai_answers.py).
GUIDANCE_OWNER_EMAIL = "guidance.owner@council.gov.uk"


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("pki"))


@dataclass
class TeamsWorld:
    entra: FakeEntra
    channel: FakeChannel
    connector: FakeConnector
    settings: Settings
    services: Services
    base_url: str
    http: httpx.Client

    def token(self, **overrides: Any) -> str:
        options: dict[str, Any] = {"audience": APP_ID, "service_url": self.connector.service_url}
        options.update(overrides)
        return self.channel.mint(**options)

    def post(
        self,
        activity: dict[str, Any],
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if auth:
            sent.setdefault("Authorization", f"Bearer {token or self.token()}")
        return self.http.post(f"{self.base_url}/api/messages", json=activity, headers=sent)

    @property
    def people(self) -> PeopleRepository:
        return PeopleRepository(self.services.database)


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="module", params=DATABASE_KINDS)
def teams(
    request: pytest.FixtureRequest,
    pki: TestPKI,
    tmp_path_factory: pytest.TempPathFactory,
    shared_guidance: KnowledgeBase,
) -> Iterator[TeamsWorld]:
    entra = FakeEntra(pki, tenant_id=TENANT_ID, client_id=APP_ID, client_secret=APP_PASSWORD, scope=SCOPE)
    channel = FakeChannel(pki)
    connector = FakeConnector(pki, entra)
    data_dir: Path = tmp_path_factory.mktemp("teams-data")
    schema = None
    database_url = None
    if request.param == "postgres":
        schema = f"teams_{uuid.uuid4().hex[:10]}"
        _create_schema(schema)
        database_url = postgres_url_for_schema(schema)
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        embedding_model_dir=MODEL_DIR if MODEL_DIR.exists() else None,
        log_format="text",
        teams_app_id=APP_ID,
        teams_app_password=APP_PASSWORD,
        teams_tenant_id=TENANT_ID,
        teams_authority_url=entra.base_url,
        teams_openid_metadata_url=channel.metadata_url,
        teams_allowed_service_url_hosts=["127.0.0.1"],
        teams_ca_bundle=pki.ca_file,
        guidance_owners=[GUIDANCE_OWNER_EMAIL],
        _env_file=None,  # type: ignore[call-arg]
    )
    overrides = getattr(request.module, "TEAMS_SETTINGS", None)
    if overrides:
        settings = settings.model_copy(update=overrides)
    services = Services(settings, knowledge=shared_guidance)
    app = build_server(services, [teams_route_provider], warm_up=True)
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    http = httpx.Client(timeout=30.0)
    deadline = time.monotonic() + 60
    while True:
        try:
            if http.get(f"{base_url}/healthz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become ready")
        time.sleep(0.1)
    world = TeamsWorld(entra, channel, connector, settings, services, base_url, http)
    try:
        yield world
    finally:
        http.close()
        server.should_exit = True
        thread.join(timeout=15)
        services.close()
        for fake in (connector, channel, entra):
            fake.close()
        if schema is not None:
            _drop_schema(schema)


@pytest.fixture
def member(teams: TeamsWorld) -> Member:
    """A fresh Teams user, known to the Connector (its member record carries their email)."""
    return new_member(teams)


def new_member(teams: TeamsWorld) -> Member:
    """A fresh Teams user, known to the Connector (its member record carries their email)."""
    aad = str(uuid.uuid4())
    short = aad[:6]
    person = Member(
        id=f"29:{uuid.uuid4().hex}", aad_object_id=aad, name=f"Officer {short}", email=f"officer.{short}@council.gov.uk"
    )
    teams.connector.add_member(person)
    return person
