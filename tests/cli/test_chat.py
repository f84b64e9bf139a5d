"""`commissioning-bot chat` end to end: piped input in, what the officer would read out."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from storage.people import PeopleRepository
from tests.conftest import MODEL_DIR, REPO_ROOT
from workflows.cycle import load_cycle
from workflows.reviews import ReviewService

ALICE = "alice.adams@council.gov.uk"
# The command runs on the real clock, so the dates typed are relative to today.
ANALYSE_DUE = date.today() + timedelta(days=120)
PLAN_DUE = date.today() + timedelta(days=200)

REVIEW_SCRIPT = [
    "start a review",
    "Home care for older people",
    "ok",
    "Older people stay independent at home for longer; Fewer emergency hospital admissions",
    "3",
    "me",
    "Priya",
    "ok",
    f"{ANALYSE_DUE:%d/%m/%Y}",
    "ok",
    PLAN_DUE.isoformat(),
    "ok",
    "in 45 weeks",
    "ok",
    "ok",
    "none",
]


@pytest.fixture
def environment(database, tmp_path: Path) -> dict[str, str]:
    people = PeopleRepository(database)
    people.upsert(name="Alice Adams", email=ALICE)
    people.upsert(name="Cllr Priya Shah", email="priya.shah@council.gov.uk")
    return {
        "DATABASE_URL": database.engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path / "data"),
        "LOG_FORMAT": "text",
        "EMBEDDING_MODEL_DIR": str(MODEL_DIR) if MODEL_DIR.exists() else "",
    }


def chat(environment: dict[str, str], lines: list[str], *args: str):
    result = CliRunner().invoke(cli, ["chat", *args], input="\n".join(lines) + "\n", env=environment)
    assert "Traceback" not in result.output
    return result


def test_a_review_is_created_in_the_terminal(environment, database) -> None:
    result = chat(environment, REVIEW_SCRIPT + ["yes"], "--as", ALICE)
    assert result.exit_code == 0, result.output
    out = result.output
    assert out.startswith("Hello, Alice. I'm the Commissioning Assistant.")
    assert "(1/15) Which service is under review?" in out
    assert "Got it: Cllr Priya Shah (priya.shah@council.gov.uk)." in out
    assert "15. Stakeholders: (none)" in out
    assert "Review #1 created: “Home care for older people review 2026” for Home care for older people." in out
    assert out.rstrip().endswith("Goodbye.")
    review = ReviewService(database, load_cycle()).get(1)
    assert [s.due_date for s in review.stages][:2] == [ANALYSE_DUE, PLAN_DUE]
    assert review.lead_commissioner.name == "Alice Adams" and review.created_by.startswith("Alice Adams")


def test_leaving_half_way_and_coming_back_carries_on(environment, database) -> None:
    first = chat(environment, REVIEW_SCRIPT[:6])
    assert first.exit_code == 0
    assert "(I don't know who" in first.output  # no --as: the OS user, unknown to the people list
    first = chat(environment, REVIEW_SCRIPT[:6], "--as", ALICE)
    assert "Your half-finished review is saved: run chat again to carry on" in first.output
    second = chat(environment, REVIEW_SCRIPT[6:] + ["yes"], "--as", ALICE)
    assert "You have a review half set up; let's carry on.\n\n(6/15) Who is the portfolio holder?" in second.output
    assert "Review #1 created" in second.output


def test_bad_answers_are_explained_in_the_terminal(environment) -> None:
    result = chat(environment, ["start a review", "x" * 10_000, "Libraries", "back", "cancel", "cancel"], "--as", ALICE)
    out = result.output
    assert "That message is 10,000 characters long, which is more than I can take (5,000)." in out
    assert "Going back." in out and "Cancelled. Nothing was saved" in out
    assert "There's nothing under way to stop or change." in out


def test_an_unknown_user_is_told_plainly(environment) -> None:
    result = chat(environment, ["hello"], "--as", "nobody@council.gov.uk")
    assert result.exit_code == 2
    assert "I don't know anyone with the email nobody@council.gov.uk in the people list." in result.output
    assert 'chat --as nobody@council.gov.uk --name "Your Name"' in result.output


def test_a_newcomer_adds_themselves_and_starts_a_review(environment, database) -> None:
    """The README's next step after quickstart works for someone the people list has never seen."""
    result = chat(environment, ["start a review", "exit"], "--as", "you@council.gov.uk", "--name", "Jo Newcomer")
    assert result.exit_code == 0, result.output
    assert "Added Jo Newcomer (you@council.gov.uk) to the people list." in result.output
    assert "Hello, Jo." in result.output and "Which service is under review?" in result.output
    assert PeopleRepository(database).find_by_email("you@council.gov.uk").name == "Jo Newcomer"
    again = chat(environment, ["exit"], "--as", "you@council.gov.uk")
    assert again.exit_code == 0 and "Added" not in again.output


def test_questions_through_a_real_pipe(environment, tmp_path: Path, request) -> None:
    if "postgres" in request.node.name:
        pytest.skip("a real pipe behaves the same whichever database is behind it; once on SQLite is enough")
    env = {**os.environ, **environment, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--as", ALICE],
        input="Who takes strategic sourcing decisions?\nexit\nthis line is never read\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Cabinet: Takes strategic sourcing decisions" in done.stdout
    assert "[1] starter_pack/02-roles-and-responsibilities.md" in done.stdout
    assert done.stdout.rstrip().endswith("Goodbye.") and "Traceback" not in done.stderr
