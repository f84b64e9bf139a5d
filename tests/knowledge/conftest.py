from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from knowledge.service import KnowledgeBase
from tests.conftest import CORPUS_DIR, MODEL_DIR


def make_settings(data_dir: Path, *, dense: bool = True, **overrides: object) -> Settings:
    return Settings(
        data_dir=data_dir,
        embedding_model_dir=MODEL_DIR if dense else data_dir / "no-embedding-model",
        log_format="text",
        _env_file=None,  # type: ignore[call-arg]
        **overrides,  # type: ignore[arg-type]
    )


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
def lexical_settings(tmp_path: Path) -> Settings:
    """Keyword-only settings: fast, for tests about files rather than meaning."""
    return make_settings(tmp_path / "data", dense=False)
