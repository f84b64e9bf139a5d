from __future__ import annotations

import pytest

from knowledge.service import KnowledgeBase


@pytest.fixture
def guidance(shared_guidance: KnowledgeBase) -> KnowledgeBase:
    """The starter guidance, indexed once for the whole session (see tests/conftest.py)."""
    return shared_guidance
