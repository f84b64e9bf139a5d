"""Incremental re-indexing, the starter pack, and running without an embedding model."""

from __future__ import annotations

import logging
import shutil

from knowledge.service import KnowledgeBase
from tests.conftest import CORPUS_DIR
from tests.knowledge.conftest import make_settings


def _copy_corpus(tmp_path):
    folder = tmp_path / "guidance"
    shutil.copytree(CORPUS_DIR, folder)
    return folder


def test_reindex_skips_unchanged_replaces_changed_and_removes_deleted(tmp_path, settings):
    folder = _copy_corpus(tmp_path)
    kb = KnowledgeBase(settings.for_knowledge())
    first = kb.index([folder])
    assert len(first.added) == 6

    again = kb.index([folder])
    assert again.added == again.updated == again.removed == [] and len(again.unchanged) == 6

    (folder / "004_d7df652836f12a28.txt").write_text(
        "Social Value Toolkit\n\n"
        "Every tender must set aside ten per cent of its weighting for social value outcomes.\n",
        encoding="utf-8",
    )
    (folder / "000_190fe358b99d4cd4.txt").unlink()
    changed = kb.index([folder])
    assert changed.updated == ["guidance/004_d7df652836f12a28.txt"]
    assert changed.removed == ["guidance/000_190fe358b99d4cd4.txt"]

    answer = kb.ask("How much tender weighting goes to social value?")
    assert "ten per cent" in answer.text
    sources = {c.source for c in kb.ask("What is the legal department's role in commissioning exercises?").citations}
    assert "guidance/000_190fe358b99d4cd4.txt" not in sources

    # A fresh process over the same data folder sees the same index, vectors included.
    restarted = KnowledgeBase(settings.for_knowledge())
    assert restarted.stats()["passages"] == kb.stats()["passages"] and restarted.dense_enabled
    assert "ten per cent" in restarted.ask("How much tender weighting goes to social value?").text


def test_index_with_no_paths_refreshes_what_was_indexed(tmp_path, lexical_settings):
    folder = _copy_corpus(tmp_path)
    kb = KnowledgeBase(lexical_settings)
    kb.index([folder])
    (folder / "new.md").write_text("# Fleet\n\nThe fleet manager owns vehicle replacement reviews.\n", encoding="utf-8")
    report = kb.index()
    assert report.added == ["guidance/new.md"]


def test_fresh_install_answers_from_the_starter_pack(settings):
    kb = KnowledgeBase(settings.for_knowledge())
    answer = kb.ask("Who makes strategic sourcing decisions?")
    assert answer.kind.value == "answered"
    assert answer.text.startswith("Cabinet:")
    assert answer.citations[0].source.startswith("starter_pack/")
    assert {"Portfolio holder", "Section 151 officer", "Lead commissioner"} <= {r.name for r in kb.roles()}


def test_starter_pack_is_set_aside_once_the_council_indexes_its_own(tmp_path, lexical_settings):
    kb = KnowledgeBase(lexical_settings)
    assert kb.stats()["starter_pack"]
    report = kb.index([CORPUS_DIR])
    assert any(name.startswith("starter_pack/") for name in report.removed)
    assert not kb.stats()["starter_pack"]
    assert all(
        not c.source.startswith("starter_pack/") for c in kb.ask("Who makes strategic sourcing decisions?").citations
    )


def test_starter_pack_can_be_kept_alongside(tmp_path):
    kb = KnowledgeBase(make_settings(tmp_path / "data", dense=False, starter_pack="always"))
    kb.ask("warm up")
    kb.index([CORPUS_DIR])
    assert kb.stats()["starter_pack"]


def test_no_embedding_model_means_keyword_search_said_once(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    kb = KnowledgeBase(make_settings(tmp_path / "data", dense=False))
    kb.index([CORPUS_DIR])
    first = kb.ask("Who feeds into commissioning reviews for their portfolio?")
    kb.ask("What is procurement?")
    assert "Portfolio Holders" in first.text
    assert not kb.dense_enabled
    # structlog hands the standard library its event as a dict.
    warnings = [
        r.msg for r in caplog.records if isinstance(r.msg, dict) and r.msg["event"] == "embedding_model_unavailable"
    ]
    assert len(warnings) == 1
    assert "missing model.onnx" in warnings[0]["reason"]
