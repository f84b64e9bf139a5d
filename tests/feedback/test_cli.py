"""`commissioning-bot feedback export` and `feedback summary`, against the suite's database (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import io

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
