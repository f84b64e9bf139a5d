from __future__ import annotations

import pytest

from bot.config import Settings
from knowledge.service import KnowledgeBase, open_knowledge
from tests.conftest import MODEL_DIR


@pytest.fixture(scope="module")
def guidance(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeBase:
    """One knowledge base per module: indexing the starter guidance takes a couple of seconds."""
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("guidance"),
        embedding_model_dir=MODEL_DIR if MODEL_DIR.exists() else None,
        _env_file=None,  # type: ignore[call-arg]
    )
    knowledge = open_knowledge(settings)
    knowledge.ensure_ready()
    return knowledge
