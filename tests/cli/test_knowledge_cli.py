"""The guidance commands as an operator runs them."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from bot.cli import COMMANDS, cli
from bot.version import VERSION
from tests.conftest import CORPUS_DIR, MODEL_DIR, REPO_ROOT


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("EMBEDDING_MODEL_DIR", str(MODEL_DIR))
    monkeypatch.setenv("LOG_LEVEL", "ERROR")
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None):
        return runner.invoke(cli, list(args), input=input, catch_exceptions=False)

    return invoke


def test_index_reports_what_it_did_and_exits_zero(run):
    result = run("index", str(CORPUS_DIR))
    assert result.exit_code == 0, result.output
    assert "Indexed: 6 new, 0 changed, 0 unchanged" in result.output
    again = run("index", str(CORPUS_DIR))
    assert "0 new, 0 changed, 6 unchanged" in again.output


def test_index_warns_about_a_skipped_file_and_succeeds_unless_strict(run, tmp_path):
    folder = tmp_path / "guidance"
    folder.mkdir()
    (folder / "good.md").write_text("# Fleet\n\nThe fleet manager owns vehicle reviews.\n", encoding="utf-8")
    (folder / "broken.pdf").write_bytes(b"not a pdf")
    result = run("index", str(folder))
    assert result.exit_code == 0  # a scheduled job would otherwise alert for ever over one bad file
    assert "Warning: skipped guidance/broken.pdf: it is damaged or is not really a PDF." in result.output
    assert "1 new" in result.output
    strict = run("index", "--strict", str(folder))
    assert strict.exit_code == 1
    assert "Warning: skipped guidance/broken.pdf" in strict.output


def test_index_fails_when_nothing_asked_for_exists(run, tmp_path):
    result = run("index", str(tmp_path / "nowhere"))
    assert result.exit_code == 2
    assert "it does not exist" in result.output


def test_ask_answers_each_line_of_standard_input_as_json(run):
    run("index", str(CORPUS_DIR))
    result = run(
        "ask", "--json", input="Who feeds into commissioning reviews for their portfolio?\n\nWhat is an output?\n"
    )
    assert result.exit_code == 0
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert [line["question"] for line in lines] == [
        "Who feeds into commissioning reviews for their portfolio?",
        "What is an output?",
    ]
    first = lines[0]
    assert first["answer"].startswith("Portfolio Holders:")
    assert {"source", "section", "text", "score"} == set(first["citations"][0])
    assert 0 <= first["confidence"] <= 1
    # How long each answer took, for operators timing their own guidance.
    assert all(isinstance(line["seconds"], float) and 0 <= line["seconds"] < 30 for line in lines)


def test_ask_prints_the_passage_and_its_source(run):
    result = run("ask", "Who makes strategic sourcing decisions?")
    assert result.exit_code == 0
    assert result.output.startswith("Cabinet: Takes strategic sourcing decisions")
    assert "Source: starter_pack/02-roles-and-responsibilities.md" in result.output


def test_an_empty_question_gets_help(run):
    result = run("ask", "")
    assert result.exit_code == 0
    assert "Ask me a question about commissioning" in result.output


def test_roles_and_whois(run):
    run("index", str(CORPUS_DIR))
    roles = run("roles")
    assert "Portfolio Holders  (corpus/001_0379794f0cb80f6c.txt)" in roles.output
    assert "  • Feeds into commissioning reviews concerning their areas of responsibility" in roles.output
    who = run("whois", "legal")
    assert who.exit_code == 0 and "case-by-case advice" in who.output
    nobody = run("whois", "chief", "constable")
    assert nobody.exit_code == 1 and "does not describe a role called “chief constable”" in nobody.output


def test_python_dash_m_bot_is_the_same_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )
    assert "Commissioning Assistant" in result.stdout and "index" in result.stdout and "ask" in result.stdout


def test_help_lists_every_command_each_module_registers_and_only_those() -> None:
    registered = click.Group()
    for module in {module for module, _ in COMMANDS.values()}:
        importlib.import_module(module).register(registered)
    assert set(registered.commands) == set(COMMANDS)
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for name, (_, summary) in COMMANDS.items():
        assert f"{name} " in result.output and summary in result.output
    assert CliRunner().invoke(cli, ["whois", "--help"]).output.startswith("Usage: cli whois")


def test_help_starts_without_loading_the_database_or_search_libraries() -> None:
    code = "\n".join(
        [
            "import sys",
            "from bot.cli import main",
            "sys.argv = ['commissioning-bot', '--help']",
            "try:\n    main()\nexcept SystemExit:\n    pass",
            "heavy = ('sqlalchemy', 'alembic', 'structlog', 'numpy', 'pydantic_settings')",
            "print(sorted(m for m in heavy if m in sys.modules))",
        ]
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip().endswith("[]"), shown.stdout


def test_version_is_shown_without_loading_settings() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == f"commissioning-bot {VERSION}"
    assert VERSION == "0.2.0"
