"""``index`` killed part-way (SIGKILL: no clean-up runs) leaves an index that answers, and a re-run completes it.

The database holds whole files only (each file's passages and the new index version commit together), and
every passage it lists has a vector; vectors a killed run added for a file it never committed are pruned by
the next run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings as ChromaSettings

from knowledge.models import AnswerKind
from knowledge.service import KnowledgeBase
from storage.db import open_database
from storage.guidance import GuidanceRepository
from tests.conftest import MODEL_DIR, REPO_ROOT
from tests.knowledge.conftest import make_settings

FILES = 60


def _guidance(folder: Path) -> None:
    folder.mkdir()
    for n in range(FILES):
        (folder / f"team-{n:02d}.md").write_text(
            f"# Team {n}\n\nThe team {n} coordinator approves every purchase order for workstream {n}.\n"
            f"\n## Reviews\n\nTeam {n} reviews its suppliers each quarter and reports to the board.\n",
            encoding="utf-8",
        )


@pytest.mark.skipif(not MODEL_DIR.exists(), reason="the shared embedding model is not present")
def test_a_killed_index_leaves_an_index_that_answers_and_a_rerun_completes_it(tmp_path: Path) -> None:
    folder = tmp_path / "guidance"
    _guidance(folder)
    data = tmp_path / "data"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DATA_DIR": str(data),
        "EMBEDDING_MODEL_DIR": str(MODEL_DIR),
        "STARTER_PACK": "off",
        "LOG_LEVEL": "WARNING",
    }
    database = open_database(f"sqlite:///{data / 'commissioning.db'}")
    repository = GuidanceRepository(database)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "index", str(folder)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while len(repository.sources()) < 5:
            assert process.poll() is None, "index finished before it could be stopped"
            assert time.monotonic() < deadline, "index stored nothing"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    stored = repository.sources()
    assert 5 <= len(stored) < FILES
    settings = make_settings(data, starter_pack="off")
    answered = KnowledgeBase(settings)
    first = Path(stored[0].key).stem.split("-")[1].lstrip("0") or "0"
    answer = answered.ask(f"Who approves purchase orders for workstream {first}?")
    assert answer.kind is not AnswerKind.NOT_FOUND
    assert f"team {first} coordinator" in answer.citations[0].text
    answered.close()

    rerun = subprocess.run(
        [sys.executable, "-m", "bot", "index", str(folder)], cwd=tmp_path, env=env, capture_output=True, timeout=300
    )
    assert rerun.returncode == 0, rerun.stderr.decode(errors="replace")[-2000:]
    assert len(repository.sources()) == FILES
    # Every passage listed has its vector, and no vector is left without a passage.
    client = chromadb.PersistentClient(path=str(data / "chroma"), settings=ChromaSettings(anonymized_telemetry=False))
    vectors = set(client.get_collection("guidance").get(include=[])["ids"])
    assert vectors == repository.passage_ids()
    database.dispose()
