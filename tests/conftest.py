"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bot.config import Settings

pytest_plugins = ["tests.db_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DIR = Path(os.environ.get("SHARED_DIR", REPO_ROOT.parent / "shared")).resolve()
CORPUS_DIR = SHARED_DIR / "corpus"
MODEL_DIR = SHARED_DIR / "models" / "all-MiniLM-L6-v2"


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
