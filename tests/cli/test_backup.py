"""`backup` and `restore` as an operator runs them: a populated instance comes back whole in an empty one."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from tests.conftest import MODEL_DIR
from workflows.importexport import COLUMNS

HEADER = ",".join([*COLUMNS, "outcomes", "stakeholders"])
PIPELINE = "\n".join(
    [
        HEADER,
        "Home care,Adult social care,operational,sam@council.gov.uk,U0PRIYA,Analyse,owen@council.gov.uk,2030-01-29,"
        "Independence | Fewer admissions,owen@council.gov.uk",
        "Home care,Adult social care,operational,sam@council.gov.uk,U0PRIYA,Do,sam@council.gov.uk,2030-05-28,,",
        "Libraries,Culture,strategic,owen@council.gov.uk,U0PRIYA,Analyse,owen@council.gov.uk,2030-02-27,More visits,",
    ]
)

GUIDANCE = """# Sourcing decisions

The Sourcing Board approves every sourcing decision above the key decision threshold, after the lead officer
has set out the options appraisal and the risks of each route to market.
"""


def _env(data_dir: Path, url: str) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": url,
        "EMBEDDING_MODEL_DIR": str(MODEL_DIR) if MODEL_DIR.exists() else "",
        "LOG_LEVEL": "ERROR",
        "CHROMA_HOST": "",
    }


def _run(env: dict[str, str], *args: str):
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    return result


@pytest.fixture
def empty_url(database, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A second, empty database of the same kind as ``database`` (a new schema on PostgreSQL)."""
    if database.dialect == "postgresql":
        return str(request.getfixturevalue("fresh_postgres_url"))
    return f"sqlite:///{tmp_path / 'restored' / 'commissioning.db'}"


def test_a_backup_restores_into_an_empty_instance_with_the_same_reviews_people_and_guidance(
    database, empty_url: str, tmp_path: Path
) -> None:
    source = _env(tmp_path / "source-data", database.engine.url.render_as_string(hide_password=False))
    for name, email, extra in [
        ("Sam Patel", "sam@council.gov.uk", ["--slack-id", "U0SAM"]),
        ("Cllr Priya Shah", "priya@council.gov.uk", ["--slack-id", "U0PRIYA", "--role", "portfolio holder:care"]),
        ("Owen Jones", "owen@council.gov.uk", []),
    ]:
        assert _run(source, "people", "add", "--name", name, "--email", email, *extra).exit_code == 0
    (tmp_path / "pipeline.csv").write_text(PIPELINE, encoding="utf-8")
    imported = _run(source, "reviews", "import", str(tmp_path / "pipeline.csv"))
    assert imported.exit_code == 0, imported.output
    guidance = tmp_path / "guidance"
    guidance.mkdir()
    (guidance / "sourcing.md").write_text(GUIDANCE, encoding="utf-8")
    assert _run(source, "index", str(guidance)).exit_code == 0
    question = "Who approves sourcing decisions?"
    before = {
        "export": _run(source, "reviews", "export").output,
        "people": _run(source, "people", "list").output,
        "answer": _run(source, "ask", question).output,
    }
    assert "Independence | Fewer admissions" in before["export"] and "Sourcing Board" in before["answer"]

    archive = tmp_path / "instance.tar.gz"
    backed_up = _run(source, "backup", str(archive))
    assert backed_up.exit_code == 0, backed_up.output
    assert backed_up.output.startswith("Backed up ")
    with tarfile.open(archive) as opened:
        names = opened.getnames()
    assert "manifest.json" in names and "database/review.jsonl" in names
    assert any(name.startswith("files/chroma/") for name in names)

    target = _env(tmp_path / "restored-data", empty_url)
    restored = _run(target, "restore", str(archive))
    assert restored.exit_code == 0, restored.output
    assert "Restored " in restored.output
    assert _run(target, "reviews", "export").output == before["export"]
    assert _run(target, "people", "list").output == before["people"]
    assert _run(target, "ask", question).output == before["answer"]

    # The restored database carries on: new rows get new ids (PostgreSQL's sequences moved past the restored ones).
    added = _run(target, "people", "add", "--name", "Grace Lee", "--email", "grace@council.gov.uk")
    assert added.exit_code == 0 and added.output.strip() == "Added Grace Lee (id 4)."

    again = _run(target, "restore", str(archive))
    assert again.exit_code == 1
    assert "already holds" in again.output and "nothing was restored" in again.output


def test_restoring_something_that_is_not_a_backup_is_explained(tmp_path: Path) -> None:
    env = _env(tmp_path / "data", f"sqlite:///{tmp_path / 'data' / 'commissioning.db'}")
    missing = _run(env, "restore", str(tmp_path / "nope.tar.gz"))
    assert missing.exit_code == 1 and "There is no backup file at" in missing.output
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not an archive")
    refused = _run(env, "restore", str(junk))
    assert refused.exit_code == 1 and "is not a readable backup archive" in refused.output
