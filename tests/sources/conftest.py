"""Loopback Entra ID and Microsoft Graph (HTTPS, test CA), and a knowledge base pointed at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import docx
import pytest

from bot.config import Settings
from knowledge.service import KnowledgeBase
from storage.db import Database
from tests.sources.fake_graph import FakeGraph
from tests.teams.fakes import FakeEntra
from tests.teams.pki import TestPKI, make_pki

TENANT_ID = "3f9a1c2e-0000-4000-8000-00000000c0de"
CLIENT_ID = "5b1f7e2a-0000-4000-8000-0000000a99b0"
CLIENT_SECRET = "graph-secret-value"
GRAPH_SCOPE = "https://graph.microsoft.com/.default"
SITE_HOST = "anytown.sharepoint.com"
SITE_PATH = "/sites/Commissioning"
SITE_URL = f"https://{SITE_HOST}{SITE_PATH}"


@pytest.fixture(scope="session")
def source_pki(tmp_path_factory: pytest.TempPathFactory) -> TestPKI:
    return make_pki(tmp_path_factory.mktemp("sources-pki"))


@pytest.fixture
def entra(source_pki: TestPKI) -> Iterator[FakeEntra]:
    fake = FakeEntra(
        source_pki, tenant_id=TENANT_ID, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, scope=GRAPH_SCOPE
    )
    yield fake
    fake.close()


@pytest.fixture
def graph(source_pki: TestPKI, entra: FakeEntra) -> Iterator[FakeGraph]:
    fake = FakeGraph(source_pki, entra, host=SITE_HOST, site_path=SITE_PATH)
    yield fake
    fake.close()


def source_settings(data_dir: Path, **overrides: object) -> Settings:
    """Application settings as a council would set them, pointed at the fakes; keyword search only (fast)."""
    return Settings(
        data_dir=data_dir,
        embedding_model_dir=data_dir / "no-embedding-model",
        starter_pack="off",
        log_format="text",
        web_delay_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )


@pytest.fixture
def graph_settings(tmp_path: Path, source_pki: TestPKI, entra: FakeEntra, graph: FakeGraph) -> Settings:
    return source_settings(
        tmp_path / "data",
        graph_client_id=CLIENT_ID,
        graph_client_secret=CLIENT_SECRET,
        graph_tenant_id=TENANT_ID,
        graph_authority_url=entra.base_url,
        graph_api_url=f"{graph.base_url}/v1.0",
        sources_ca_bundle=source_pki.ca_file,
        max_file_mb=0.2,
    )


@pytest.fixture
def graph_kb(graph_settings: Settings, database: Database) -> Iterator[KnowledgeBase]:
    kb = KnowledgeBase(graph_settings.for_knowledge(), database=database)
    yield kb
    kb.close()


def word_file(path: Path, title: str, paragraphs: list[str]) -> bytes:
    document = docx.Document()
    document.add_heading(title, level=1)
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(str(path))
    return path.read_bytes()
