"""Meaning search gives a text the same vector whatever it is embedded alongside."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.embeddings import TOKEN_BUDGET, LocalMiniLM, _groups
from tests.conftest import MODEL_DIR


def test_groups_keep_every_text_once_and_within_the_token_budget() -> None:
    lengths = [256, 3, 40, 256, 12, 128, 7, 256, 256, 256, 256, 256, 256, 256, 90]
    groups = _groups(lengths)
    assert sorted(i for group in groups for i in group) == list(range(len(lengths)))
    for group in groups:
        assert len(group) == 1 or len(group) * max(lengths[i] for i in group) <= TOKEN_BUDGET


@pytest.mark.skipif(not MODEL_DIR.exists(), reason="the shared embedding model is not present")
def test_a_question_gets_the_same_vector_alone_or_among_long_passages() -> None:
    model = LocalMiniLM(MODEL_DIR)
    question = "Who signs off the contract award?"
    passage = "The panel records its scores and the reasons for them before a recommendation is made. " * 20
    alone = model([question])
    mixed = model([passage, question, "", passage[:300]])
    assert mixed.shape == (4, 384)
    assert np.allclose(mixed[1], alone[0], atol=1e-5)
    assert np.allclose(np.linalg.norm(mixed, axis=1)[[0, 1, 3]], 1.0, atol=1e-5)
    # A different text is a different vector: the comparison above can fail.
    assert not np.allclose(mixed[0], alone[0], atol=1e-2)
