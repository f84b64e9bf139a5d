from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from knowledge.service import KnowledgeBase
from knowledge.settings import KnowledgeSettings
from tests.conftest import CORPUS_DIR, MODEL_DIR


def make_settings(data_dir: Path, *, dense: bool = True, **overrides: object) -> KnowledgeSettings:
    """The knowledge settings the application would build from these environment settings."""
    return Settings(
        data_dir=data_dir,
        embedding_model_dir=MODEL_DIR if dense else data_dir / "no-embedding-model",
        log_format="text",
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    ).for_knowledge()


def logged(caplog: pytest.LogCaptureFixture, name: str) -> list[dict[str, object]]:
    """The events called ``name`` in the captured log (structlog hands the standard library each as a dict)."""
    return [r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg.get("event") == name]


@pytest.fixture
def knowledge_settings(settings: Settings) -> KnowledgeSettings:
    """The shared ``settings`` fixture as the knowledge base sees it."""
    return settings.for_knowledge()


@pytest.fixture(scope="session")
def corpus_kb(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """The shared guidance corpus indexed once, with the local MiniLM model."""
    if not MODEL_DIR.exists():
        pytest.skip("the shared embedding model is not present")
    kb = KnowledgeBase(make_settings(tmp_path_factory.mktemp("corpus-data")))
    report = kb.index([CORPUS_DIR])
    assert report.added, report.to_json()
    return kb


@pytest.fixture
def lexical_settings(tmp_path: Path) -> KnowledgeSettings:
    """Keyword-only settings: fast, for tests about files rather than meaning."""
    return make_settings(tmp_path / "data", dense=False)
