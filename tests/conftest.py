"""Fixtures shared by the whole suite."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logging import configure_logging
from knowledge.service import KnowledgeBase, open_knowledge

pytest_plugins = ["tests.db_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()
CORPUS_DIR = SHARED_DIR / "corpus"
MODEL_DIR = SHARED_DIR / "models" / "all-MiniLM-L6-v2"


def pytest_configure(config: pytest.Config) -> None:
    """Logging as the product sets it up, before anything logs (pytest's log capture sees every event)."""
    configure_logging("WARNING", "text")


def _resident_mb() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") // 2**20


_collected_at = [0]


def _collect() -> None:
    gc.collect()
    _collected_at[0] = _resident_mb()


def pytest_fixture_post_finalizer(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> None:
    """Free a torn-down module's server before the next one is built.

    A server's parts refer to each other in cycles, which only a full collection frees, and Python runs
    one rarely: without this each module's server (with a guidance index) would linger into the next.
    """
    if fixturedef.scope in ("module", "package", "session") and fixturedef.cached_result is not None:
        _collect()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Likewise after a test that built something big of its own (a CLI run that opened the guidance)."""
    if _resident_mb() - _collected_at[0] > 200:
        _collect()


@pytest.fixture(scope="session")
def guidance_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings whose data folder holds the starter guidance, indexed once for the session.

    Indexing leaves the embedding model's working memory at its largest batch (hundreds of MB), so the
    knowledge base that built the index is let go: the ones opened on it afterwards only embed questions.
    """
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("shared-guidance"),
        embedding_model_dir=MODEL_DIR if MODEL_DIR.exists() else None,
        log_format="text",
        _env_file=None,
    )  # type: ignore[call-arg]
    builder = open_knowledge(settings.for_knowledge())
    builder.ensure_ready()
    del builder
    _collect()
    return settings


@pytest.fixture(scope="session")
def shared_guidance(guidance_settings: Settings) -> Iterator[KnowledgeBase]:
    """One warm knowledge base for every server and chat core that only reads the starter guidance (each open
    knowledge base holds an embedding model of its own)."""
    knowledge = open_knowledge(guidance_settings.for_knowledge())
    knowledge.ensure_ready()
    yield knowledge


@pytest.fixture
def cold_guidance(guidance_settings: Settings) -> KnowledgeBase:
    """A knowledge base on the indexed starter guidance that has not loaded anything yet (to watch a warm-up)."""
    return open_knowledge(guidance_settings.for_knowledge())


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep tests away from a developer's own .env and ./data."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(("SLACK_", "TEAMS_", "LLM_", "CHROMA_")) or name in {"DATABASE_URL", "DATA_DIR"}:
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data folder, with the local embedding model when it is present."""
    return Settings(
        data_dir=tmp_path / "data",
        embedding_model_dir=MODEL_DIR if MODEL_DIR.exists() else None,
        log_format="text",
        _env_file=None,  # type: ignore[call-arg]
    )
