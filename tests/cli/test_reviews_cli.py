from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.cli import cli as installed
from bot.commands import db as db_commands
from bot.commands import people as people_commands
from bot.commands import reviews as reviews_commands
from bot.config import Settings
from storage.db import head_revision

HEADER = "review_title,service,level,lead_commissioner,portfolio_holder,stage,stage_owner,stage_due"


def pipeline_rows(title: str, analyse_due: str = "2030-01-29") -> list[str]:
    return [
        f"{title},Adult social care,operational,sam@council.gov.uk,U0PRIYA,Analyse,owen@council.gov.uk,{analyse_due}",
        f"{title},Adult social care,operational,sam@council.gov.uk,U0PRIYA,Plan,owen@council.gov.uk,26/02/2030",
        f"{title},Adult social care,operational,sam@council.gov.uk,U0PRIYA,Do,sam@council.gov.uk,2030-05-28",
        f"{title},Adult social care,operational,sam@council.gov.uk,U0PRIYA,Review,U0SAM,2030-07-30",
    ]


@pytest.fixture
def cli() -> click.Group:
    """Only this module's commands, so the test does not depend on the other command groups."""
    group = click.Group("commissioning-bot")
    for module in (reviews_commands, people_commands, db_commands):
        module.register(group)
    return group


@pytest.fixture
def settings(database, tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database.engine.url.render_as_string(hide_password=False),
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def run(cli: click.Group, settings: Settings):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), obj=settings, catch_exceptions=False)

    return invoke


@pytest.fixture
def people(run) -> None:
    assert (
        run("people", "add", "--name", "Sam Patel", "--email", "sam@council.gov.uk", "--slack-id", "U0SAM").exit_code
        == 0
    )
    assert (
        run(
            "people",
            "add",
            "--name",
            "Cllr Priya Shah",
            "--email",
            "priya@council.gov.uk",
            "--slack-id",
            "U0PRIYA",
            "--role",
            "portfolio holder:adult social care",
        ).exit_code
        == 0
    )
    assert run("people", "add", "--name", "Owen Jones", "--email", "owen@council.gov.uk").exit_code == 0


def write_csv(tmp_path: Path, lines: list[str], name: str = "pipeline.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_people_are_added_updated_and_listed_with_their_roles(run, people) -> None:
    result = run(
        "people", "add", "--name", "Samuel Patel", "--email", "SAM@council.gov.uk", "--role", "section 151 officer"
    )
    assert result.output.strip() == "Updated Samuel Patel (id 1)."

    listing = run("people", "list").output
    assert "Samuel Patel" in listing and "section 151 officer" in listing
    assert "portfolio holder:adult social care" in listing
    assert "Owen Jones" in run("people", "list", "--search", "OWEN").output


def test_people_list_says_who_cannot_be_messaged_and_why(run, people) -> None:
    """Someone with only an email cannot be sent a reminder, so the list must not say they are reachable."""
    lines = run("people", "list").output.splitlines()
    [sam] = [line for line in lines if "Sam Patel" in line]
    [owen] = [line for line in lines if "Owen Jones" in line]
    assert sam.endswith("yes")
    assert owen.endswith("no: no Slack or Teams account known")


def test_a_leaver_is_deactivated_and_their_open_stages_handed_over(run, people, tmp_path: Path) -> None:
    run("reviews", "import", str(write_csv(tmp_path, [HEADER, *pipeline_rows("Home care")])))

    listed = run("people", "deactivate", "owen@council.gov.uk")
    assert listed.exit_code == 0, listed.output
    assert "Deactivated Owen Jones (id 3)" in listed.output
    assert "#1 Home care: owns the Analyse stage (due 2030-01-29)" in listed.output
    assert "#1 Home care: owns the Plan stage" in listed.output
    assert "no: deactivated: has left" in run("people", "list").output

    handed = run("people", "deactivate", "3", "--reassign-to", "sam@council.gov.uk")
    assert "Gave #1 Home care: Analyse to Sam Patel." in handed.output
    assert "Owen Jones holds nothing in open reviews." in handed.output
    current = [line for line in run("reviews", "list").output.splitlines() if "Home care" in line]
    assert current and "Analyse" in current[0] and "Sam Patel" in current[0]


def test_erase_needs_confirmation_and_leaves_no_name_behind(run, people, tmp_path: Path) -> None:
    run("reviews", "import", str(write_csv(tmp_path, [HEADER, *pipeline_rows("Home care")])))
    kept = run("people", "erase", "owen@council.gov.uk")  # no --yes, and nobody answers the question
    assert kept.exit_code == 1 and "Owen Jones" in run("people", "list").output

    erased = run("people", "erase", "owen@council.gov.uk", "--yes")
    assert erased.exit_code == 0, erased.output
    assert erased.output.startswith("Erased person 3: their identity was removed")
    assert "Erased person 3 still holds" in erased.output
    listing = run("people", "list").output + run("reviews", "show", "1", "--history").output
    assert "Owen" not in listing and "owen@" not in listing and "Erased person 3" in listing


def test_a_person_without_any_identity_gets_a_clear_error(run) -> None:
    result = run("people", "add", "--name", "Nobody")
    assert result.exit_code == 1
    assert "needs an email, a Slack user id or a Teams user id" in result.output
    assert "Nobody yet" in run("people", "list").output


def test_import_then_list_show_and_export(run, people, tmp_path: Path) -> None:
    source = write_csv(tmp_path, [HEADER, *pipeline_rows("Home care"), *pipeline_rows("Day centres")])

    imported = run("reviews", "import", str(source))
    assert imported.exit_code == 0, imported.output
    assert "Imported 2 reviews (#1 to #2) from 8 rows." in imported.output

    listing = run("reviews", "list").output
    assert "Home care" in listing and "Day centres" in listing and "Analyse" in listing

    mine = run("reviews", "list", "--mine", "owen@council.gov.uk").output
    assert "Home care" in mine
    portfolio = run("reviews", "list", "--portfolio", "U0PRIYA").output
    assert "Day centres" in portfolio

    shown = run("reviews", "show", "1").output
    assert "#1 Home care (Adult social care) - open" in shown
    assert "Lead commissioner: Sam Patel. Portfolio holder: Cllr Priya Shah." in shown
    assert "[ ] 1. Evidence of need gathered" in shown
    assert "review.created" in shown

    exported = tmp_path / "exported.csv"
    assert run("reviews", "export", str(exported)).exit_code == 0
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER + ",outcomes,stakeholders"
    assert lines[1] == (
        "Home care,Adult social care,operational,sam@council.gov.uk,priya@council.gov.uk,Analyse,"
        "owen@council.gov.uk,2030-01-29,,"
    )
    assert len(lines) == 9
    assert run("reviews", "export", "--no-details").output.splitlines()[0] == HEADER


def test_a_file_with_a_problem_imports_nothing_and_says_which_row(run, people, tmp_path: Path) -> None:
    rows = pipeline_rows("Home care") + pipeline_rows("Day centres")
    rows[6] = rows[6].replace("2030-05-28", "2030-13-01")
    source = write_csv(tmp_path, [HEADER, *rows])

    result = run("reviews", "import", str(source))

    assert result.exit_code == 1
    assert "Nothing was imported" in result.output
    assert 'Row 8: stage_due "2030-13-01" is not a real date' in result.output
    assert "There are no reviews yet" in run("reviews", "list").output


def test_check_reports_without_importing(run, people, tmp_path: Path) -> None:
    source = write_csv(tmp_path, [HEADER + ",notes", *(row + ",x" for row in pipeline_rows("Home care"))])

    result = run("reviews", "import", "--check", str(source))

    assert result.exit_code == 0
    assert "ready to import: 1 reviews" in result.output
    assert "ignored: notes" in result.output
    assert "There are no reviews yet" in run("reviews", "list").output


def test_check_lists_the_stages_it_would_fill_in(run, people, tmp_path: Path) -> None:
    source = write_csv(tmp_path, [HEADER, pipeline_rows("Home care")[0]])

    result = run("reviews", "import", "--check", str(source))

    assert result.exit_code == 0, result.output
    assert 'Warning: Review "Home care" (row 2): no row for the Plan stage' in result.output
    assert "ready to import: 1 reviews" in result.output


def test_overdue_lists_stages_past_due_across_the_council(run, people, tmp_path: Path) -> None:
    source = write_csv(tmp_path, [HEADER, *pipeline_rows("Home care", analyse_due="2020-01-06")])
    run("reviews", "import", str(source))

    result = run("reviews", "list", "--overdue")

    assert "Home care" in result.output and "Analyse" in result.output and "Owen Jones" in result.output


def test_unknown_people_and_reviews_are_explained(run, people) -> None:
    unknown = run("reviews", "list", "--mine", "nobody@council.gov.uk")
    assert unknown.exit_code == 1
    assert "Nobody with the email, Slack id or Teams id 'nobody@council.gov.uk'" in unknown.output

    missing = run("reviews", "show", "99")
    assert missing.exit_code == 1
    assert "There is no review number 99." in missing.output

    both = run("reviews", "list", "--mine", "sam@council.gov.uk", "--overdue")
    assert both.exit_code == 2


def test_db_upgrade_migrates_a_new_database(cli: click.Group, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "fresh", _env_file=None)  # type: ignore[call-arg]
    runner = CliRunner()

    before = runner.invoke(cli, ["db", "current"], obj=settings)
    assert "none (empty database)" in before.output and "needs `commissioning-bot db upgrade`" in before.output

    upgraded = runner.invoke(cli, ["db", "upgrade"], obj=settings)
    assert upgraded.exit_code == 0
    assert f"is up to date (revision {head_revision()})" in upgraded.output
    assert "up to date" in runner.invoke(cli, ["db", "current"], obj=settings).output


def test_the_installed_command_has_the_reviews_people_and_db_groups() -> None:
    ctx = click.Context(installed)
    assert {"reviews", "people", "db"} <= set(installed.list_commands(ctx))
    reviews = installed.get_command(ctx, "reviews")
    assert isinstance(reviews, click.Group)
    assert {"list", "show", "import", "export"} <= set(reviews.commands)


def test_a_slack_id_the_import_would_refuse_is_refused_when_adding_a_person(run) -> None:
    result = run("people", "add", "--name", "Alice Adams", "--slack-id", "U_ALICE")
    assert result.exit_code == 1
    assert "'U_ALICE' does not look like a Slack user id" in result.output
    assert "Nobody yet" in run("people", "list").output
    assert run("people", "add", "--name", "Alice Adams", "--slack-id", "u0alice01").exit_code == 0


def test_escape_sequences_in_stored_text_are_shown_not_obeyed(run, people, tmp_path: Path) -> None:
    source = write_csv(tmp_path, [HEADER, *pipeline_rows("Home care")])
    assert run("reviews", "import", str(source)).exit_code == 0
    # Text that reached the database another way (a chat form, an older import) may hold anything.
    run("people", "add", "--name", "Eve\x1b]0;pwned\x07 \u202eevil", "--email", "eve@council.gov.uk")
    listing = run("people", "list").output
    assert "\x1b" not in listing and "\x07" not in listing and "\u202e" not in listing
    assert "Eve\\x1b]0;pwned\\x07 \\u202eevil" in listing
