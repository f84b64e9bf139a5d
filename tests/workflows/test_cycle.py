from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.config import Settings
from storage.people import PeopleRepository
from tests.storage.review_helpers import Clock
from workflows.cycle import CycleConfigError, cycle_from_settings, load_cycle
from workflows.reviews import Actor, ReviewDraft, ReviewError, ReviewService, StageDraft

THREE_STAGES = """
[cycle]
name = "Strategic planning, sourcing, monitoring"
bank_holidays = "scotland"

[[stages]]
name = "Strategic planning"
duration = 8
unit = "days"
checklist = ["Needs assessment published"]

[[stages]]
name = "Sourcing"
duration = 10
unit = "working days"
checklist = ["Route to market agreed", "Provider appointed"]

[[stages]]
name = "Monitoring and evaluation"
duration = 3
checklist = []
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cycle.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_built_in_cycle_is_analyse_plan_do_review_with_checklists() -> None:
    cycle = load_cycle()

    assert cycle.stage_names == ("Analyse", "Plan", "Do", "Review")
    assert all(stage.checklist for stage in cycle.stages)
    assert any("Sourcing route chosen" in item for item in cycle.stage("do").checklist)
    assert all(stage.unit == "working days" for stage in cycle.stages)


def test_working_days_skip_weekends_and_bank_holidays() -> None:
    cycle = load_cycle()
    analyse = cycle.stage("Analyse")
    one_day = type(analyse)(name="x", duration=1, unit="working days", checklist=())

    # Thursday 24 December 2026 + 1 working day: Christmas Friday, the weekend and
    # Boxing Day's substitute Monday are all skipped.
    assert cycle.add_duration(date(2026, 12, 24), one_day) == date(2026, 12, 29)
    # 30 working days from Monday 23 November 2026, missing Christmas, Boxing Day (Monday 28th) and New Year.
    assert cycle.default_due_dates(date(2026, 11, 23))[0] == date(2027, 1, 7)


def test_a_council_with_three_stages_changes_the_file_not_the_code(tmp_path: Path, database) -> None:
    settings = Settings(data_dir=tmp_path / "data", cycle_file=write(tmp_path, THREE_STAGES), _env_file=None)
    cycle = cycle_from_settings(settings.for_workflows())
    assert cycle.stage_names == ("Strategic planning", "Sourcing", "Monitoring and evaluation")
    assert cycle.default_due_dates(date(2026, 11, 23))[0] == date(2026, 12, 1)

    people = PeopleRepository(database)
    lead = people.upsert(name="Alex Reid", email="alex.reid@council.scot")
    clock = Clock()
    service = ReviewService(database, cycle, clock=clock)
    due = service.suggested_due_dates()
    review = service.create_review(
        ReviewDraft(
            title="Library services",
            service="Libraries",
            outcomes=["More people reading"],
            level="strategic",
            lead_commissioner_id=lead.id,
            portfolio_holder_id=lead.id,
            stages=[
                StageDraft(name=name, owner_id=lead.id, due=day)
                for name, day in zip(cycle.stage_names, due, strict=True)
            ],
        ),
        Actor.person(lead.id, lead.name),
    )
    assert [s.name for s in review.stages] == ["Strategic planning", "Sourcing", "Monitoring and evaluation"]
    assert [len(s.checklist) for s in review.stages] == [1, 2, 0]

    four_stage_draft = ReviewDraft(
        title="Other",
        service="Libraries",
        outcomes=["x"],
        level="strategic",
        lead_commissioner_id=lead.id,
        portfolio_holder_id=lead.id,
        stages=[
            StageDraft(name=n, owner_id=lead.id, due=clock.today + timedelta(days=i))
            for i, n in enumerate(["Analyse", "Plan", "Do", "Review"])
        ],
    )
    with pytest.raises(ReviewError, match="The stages must be Strategic planning, Sourcing, Monitoring and evaluation"):
        service.create_review(four_stage_draft, Actor.person(lead.id, lead.name))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[cycle]\nname = 'x'\n", "names no stages"),
        ("[[stages]]\nname = 'A'\nduration = 5\n[[stages]]\nname = 'a'\nduration = 5\n", "names the stage 'a' twice"),
        ("[[stages]]\nname = 'A'\nduration = 0\n", r"\(stage 1, A\) needs a duration: a whole number of days from 1"),
        ("[[stages]]\nname = 'A'\nduration = 'ten'\n", "needs a duration"),
        ("[[stages]]\nname = 'A'\nduration = 5\nunit = 'weeks'\n", 'unit = \'weeks\'; use "working days" or "days"'),
        ("[[stages]]\nname = 'A'\nduration = 5\nchecklists = []\n", "does not understand: checklists"),
        ("[[stages]]\nname = ''\nduration = 5\n", "needs a stage name"),
        ("[[stages]]\nname = 'A'\nduration = 5\nchecklist = 'one thing'\n", "needs checklist to be a list"),
        ("[[stages]]\nname = 'A'\nduration = 5\nchecklist = ['ok', '']\n", "checklist item 2 needs an item"),
        ("[cycle]\nbank_holidays = 'mars'\n[[stages]]\nname = 'A'\nduration = 5\n", "bank_holidays = 'mars'"),
        ("[[stages]\nname = 'A'\n", "is not valid TOML"),
        ("[stage]\nname = 'A'\n", "sections it does not understand: stage"),
    ],
)
def test_a_broken_cycle_file_gets_a_message_that_names_the_file_and_the_fix(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)

    with pytest.raises(CycleConfigError, match=message) as refused:
        load_cycle(path)
    assert str(path) in str(refused.value)


def test_a_missing_cycle_file_says_to_check_the_setting(tmp_path: Path) -> None:
    with pytest.raises(CycleConfigError, match="does not exist. Check CYCLE_FILE"):
        load_cycle(tmp_path / "nowhere.toml")


def test_a_cycle_file_saved_by_windows_notepad_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "cycle.toml"
    path.write_bytes("\ufeff".encode() + THREE_STAGES.replace("\n", "\r\n").encode())

    assert load_cycle(path).stage_names[0] == "Strategic planning"
