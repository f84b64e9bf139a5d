from __future__ import annotations

import io
from datetime import date

import pytest

from tests.storage.review_helpers import Clock, Team, add_team, make_service
from workflows.importexport import (
    COLUMNS,
    CsvImportError,
    export_reviews_csv,
    import_reviews_csv,
    read_reviews_csv,
)
from workflows.reviews import Actor, ReviewService

HEADER = ",".join(COLUMNS)
OPERATOR = Actor.system("operator: reviews import")
OWEN_TEAMS = "6f1c7a52-3b0e-4d5e-9f6a-2b8c1d4e7a90"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def team(database) -> Team:
    return add_team(database)


@pytest.fixture
def service(database, clock) -> ReviewService:
    return make_service(database, clock)


def review_rows(title: str, service: str = "Adult social care", due_year: int = 2027) -> list[str]:
    return [
        f"{title},{service},operational,sam.patel@council.gov.uk,U0PRIYA,Analyse,{OWEN_TEAMS},{due_year}-01-29",
        f"{title},{service},operational,sam.patel@council.gov.uk,U0PRIYA,Plan,owen.jones@council.gov.uk,26/02/{due_year}",
        f"{title},{service},operational,sam.patel@council.gov.uk,U0PRIYA,Do,ruth.green@council.gov.uk,{due_year}-05-28",
        f"{title},{service},operational,sam.patel@council.gov.uk,U0PRIYA,Review,U0SAM,{due_year}-07-30",
    ]


def csv_bytes(lines: list[str], newline: str = "\n") -> bytes:
    return (newline.join(lines) + newline).encode("utf-8")


def test_a_councils_pipeline_is_imported_with_people_by_email_slack_or_teams_id(
    service: ReviewService, team: Team
) -> None:
    data = csv_bytes([HEADER, *review_rows("Home care"), *review_rows("Day centres", service="Adult social care")])

    result = import_reviews_csv(data, service, OPERATOR)

    assert result.rows == 8 and result.warnings == []
    assert len(result.review_ids) == 2
    home_care = service.get(result.review_ids[0])
    assert home_care.title == "Home care"
    assert home_care.lead_commissioner.name == "Sam Patel"
    assert home_care.portfolio_holder.name == "Cllr Priya Shah"
    assert [(s.name, s.owner.name, s.due_date) for s in home_care.stages] == [
        ("Analyse", "Owen Jones", date(2027, 1, 29)),
        ("Plan", "Owen Jones", date(2027, 2, 26)),
        ("Do", "Ruth Green", date(2027, 5, 28)),
        ("Review", "Sam Patel", date(2027, 7, 30)),
    ]
    assert [e.action for e in service.history(home_care.id)] == ["review.created"]
    assert service.history(home_care.id)[0].actor == "operator: reviews import"


def test_a_bad_date_on_row_57_is_reported_by_row_and_nothing_is_imported(service: ReviewService, team: Team) -> None:
    lines = [HEADER]
    for n in range(14):
        lines += review_rows(f"Review {n}")
    assert len(lines) == 57
    lines[56] = lines[56].replace("2027-07-30", "31/02/2027")

    with pytest.raises(CsvImportError) as refused:
        import_reviews_csv(csv_bytes(lines), service, OPERATOR)

    assert refused.value.problems == [
        'Row 57: stage_due "31/02/2027" is not a real date in the form YYYY-MM-DD or DD/MM/YYYY.'
    ]
    assert str(refused.value).startswith("Nothing was imported: the file has 1 problem.")
    assert service.list_all(include_closed=True) == []


def test_a_missing_column_is_named(service: ReviewService, team: Team) -> None:
    header = HEADER.replace(",stage_owner", "")
    rows = [",".join(r.split(",")[:6] + r.split(",")[7:]) for r in review_rows("Home care")]

    with pytest.raises(CsvImportError, match="Row 1: the header has no stage_owner column"):
        import_reviews_csv(csv_bytes([header, *rows]), service, OPERATOR)


def test_every_problem_in_the_file_is_listed_with_its_row(service: ReviewService, team: Team) -> None:
    rows = review_rows("Home care") + review_rows("Libraries", service="Culture")
    rows[1] = rows[1].replace(",Plan,", ",Planning,")
    rows[2] = rows[2].replace("ruth.green@council.gov.uk", "nobody@council.gov.uk")
    rows[5] = rows[5].replace("operational", "galactic")
    rows[6] = rows[6].replace("ruth.green@council.gov.uk", "Ruth")
    rows[7] = rows[7].replace("U0SAM", "")

    with pytest.raises(CsvImportError) as refused:
        import_reviews_csv(csv_bytes([HEADER, *rows]), service, OPERATOR)

    problems = refused.value.problems
    assert 'Row 3: stage "Planning" is not a stage of the cycle (Analyse, Plan, Do, Review).' in problems
    assert any(p.startswith('Row 4: stage_owner "nobody@council.gov.uk" is not in the people list') for p in problems)
    assert any(p.startswith('Row 7: level "galactic" is not one of regional') for p in problems)
    assert 'Row 8: stage_owner "Ruth" is not an email, a Slack user id or a Teams user id.' in problems
    assert "Row 9: stage_owner is empty." in problems
    assert any(p.startswith('Review "Libraries" (rows 6-9): level differs between its rows') for p in problems)
    assert service.list_all(include_closed=True) == []


def test_excel_files_with_bom_semicolons_crlf_and_windows_encoding_are_read(service: ReviewService, team: Team) -> None:
    people = service.people
    people.upsert(name="Zoë Brontë", email="zoe.bronte@council.gov.uk")
    lines = [HEADER.replace(",", ";")] + [
        line.replace(",", ";").replace("ruth.green@council.gov.uk", "zoe.bronte@council.gov.uk")
        for line in review_rows("Café and meals on wheels", service="Adult social care")
    ]
    utf8_with_bom = "\ufeff" + "\r\n".join(lines) + "\r\n"
    result = import_reviews_csv(utf8_with_bom.encode("utf-8"), service, OPERATOR)
    assert service.get(result.review_ids[0]).title == "Café and meals on wheels"
    assert service.get(result.review_ids[0]).stage("Do").owner.name == "Zoë Brontë"

    cp1252 = ("sep=;\r\n" + "\r\n".join(lines).replace("Café and meals", "Café and hot meals") + "\r\n").encode(
        "cp1252"
    )
    result = import_reviews_csv(cp1252, service, OPERATOR)
    assert service.get(result.review_ids[0]).title == "Café and hot meals on wheels"
    assert any("Windows-1252" in warning for warning in result.warnings)


def test_extra_columns_are_ignored_with_a_warning_and_outcomes_are_read(service: ReviewService, team: Team) -> None:
    lines = [HEADER + ",budget,outcomes"] + [
        row + ',"£1,200,000",People stay at home | Fewer admissions' for row in review_rows("Home care")
    ]

    result = import_reviews_csv(csv_bytes(lines), service, OPERATOR)

    assert result.warnings == ["These columns are not part of the format and were ignored: budget."]
    assert service.get(result.review_ids[0]).outcomes == ("People stay at home", "Fewer admissions")


def test_importing_the_same_file_twice_is_refused_unless_asked(service: ReviewService, team: Team) -> None:
    data = csv_bytes([HEADER, *review_rows("Home care")])
    import_reviews_csv(data, service, OPERATOR)

    with pytest.raises(CsvImportError, match=r"already exists \(#1\).*--allow-duplicates"):
        import_reviews_csv(data, service, OPERATOR)
    assert len(service.list_all()) == 1

    import_reviews_csv(data, service, OPERATOR, allow_duplicates=True)
    assert len(service.list_all()) == 2


def test_a_stage_listed_twice_or_out_of_date_order_is_refused(service: ReviewService, team: Team) -> None:
    rows = review_rows("Home care")
    with pytest.raises(CsvImportError, match=r"the Plan stage appears on more than one row \(rows 3, 6\)"):
        import_reviews_csv(csv_bytes([HEADER, *rows, rows[1]]), service, OPERATOR)

    rows[1] = rows[1].replace("26/02/2027", "01/01/2027")
    with pytest.raises(CsvImportError, match="Plan is due on 1 January 2027, before the stage ahead of it"):
        import_reviews_csv(csv_bytes([HEADER, *rows]), service, OPERATOR)


def test_past_due_dates_are_imported_with_a_warning(service: ReviewService, team: Team) -> None:
    rows = review_rows("Home care", due_year=2026)  # every stage due before today (23 Nov 2026)
    rows[3] = rows[3].replace("2026-07-30", "2027-07-30")

    result = import_reviews_csv(csv_bytes([HEADER, *rows]), service, OPERATOR)

    assert len(result.warnings) == 3 and "Row 2: Analyse was due on 2026-01-29" in result.warnings[0]
    # One line per review: the stage holding it up, not the later ones waiting behind it.
    assert [o.stage.name for o in service.list_overdue()] == ["Analyse"]


def test_an_empty_file_or_a_header_only_file_is_explained(service: ReviewService, team: Team) -> None:
    with pytest.raises(CsvImportError, match="The file is empty"):
        import_reviews_csv(b"\xef\xbb\xbf\r\n", service, OPERATOR)
    with pytest.raises(CsvImportError, match="a header but no rows"):
        import_reviews_csv(csv_bytes([HEADER, ",,,,,,,", ""]), service, OPERATOR)


def test_export_writes_the_import_format_and_reads_back_the_same(service: ReviewService, team: Team) -> None:
    import_reviews_csv(
        csv_bytes([HEADER, *review_rows('"Home care, North"'), *review_rows("Day centres")]), service, OPERATOR
    )
    exported = io.StringIO()

    rows = export_reviews_csv(service, exported)

    text = exported.getvalue()
    assert rows == 8
    lines = text.splitlines()
    assert lines[0] == HEADER + ",outcomes,stakeholders"
    assert lines[1] == (
        '"Home care, North",Adult social care,operational,sam.patel@council.gov.uk,priya.shah@council.gov.uk,'
        "Analyse,owen.jones@council.gov.uk,2027-01-29,,"
    )
    again = import_reviews_csv(text.encode("utf-8"), service, OPERATOR, allow_duplicates=True)
    copy = service.get(again.review_ids[0])
    original = service.get(1)
    assert (copy.title, copy.service, copy.level) == (original.title, original.service, original.level)
    assert [(s.name, s.owner.id, s.due_date) for s in copy.stages] == [
        (s.name, s.owner.id, s.due_date) for s in original.stages
    ]


def test_export_round_trips_outcomes_and_stakeholders_by_default(service: ReviewService, team: Team) -> None:
    """Outcomes and stakeholders need be given only once per review, and an export imports back the same."""
    rows = review_rows("Home care")
    lines = [HEADER + ",outcomes,stakeholders", f"{rows[0]},People stay at home | Fewer admissions,"]
    lines += [f"{row},," for row in rows[1:3]] + [f"{rows[3]},,ruth.green@council.gov.uk | U0PRIYA"]
    first = import_reviews_csv(csv_bytes(lines), service, OPERATOR)
    original = service.get(first.review_ids[0])
    assert original.outcomes == ("People stay at home", "Fewer admissions")
    assert sorted(s.person.name for s in original.stakeholders) == ["Cllr Priya Shah", "Ruth Green"]

    exported = io.StringIO()
    assert export_reviews_csv(service, exported) == 4
    written = exported.getvalue().splitlines()
    assert written[0] == HEADER + ",outcomes,stakeholders"
    assert written[1].endswith(
        ",People stay at home | Fewer admissions,ruth.green@council.gov.uk | priya.shah@council.gov.uk"
    )
    again = import_reviews_csv(exported.getvalue().encode("utf-8"), service, OPERATOR, allow_duplicates=True)
    copy = service.get(again.review_ids[0])
    assert copy.outcomes == original.outcomes
    assert sorted(s.person.id for s in copy.stakeholders) == sorted(s.person.id for s in original.stakeholders)


def test_outcomes_that_differ_between_rows_of_a_review_are_refused(service: ReviewService, team: Team) -> None:
    rows = review_rows("Home care")
    lines = [HEADER + ",outcomes"] + [f"{row},{'A' if i else 'B'}" for i, row in enumerate(rows)]
    with pytest.raises(CsvImportError) as refused:
        import_reviews_csv(csv_bytes(lines), service, OPERATOR)
    assert any("outcomes differs between its rows; give it on one row" in p for p in refused.value.problems)


def test_stages_without_a_row_are_filled_from_the_cycle_and_reported(service: ReviewService, team: Team) -> None:
    """A council's tracker often knows only some dates: the rest come from the cycle's usual durations."""
    rows = review_rows("Home care")
    data = csv_bytes([HEADER, rows[0], rows[2]])  # Analyse and Do only

    drafts, warnings = read_reviews_csv(data, service)
    assert [s.name for s in drafts[0].stages] == ["Analyse", "Plan", "Do", "Review"]
    assert any("no row for the Plan stage" in w and "owned by the lead commissioner" in w for w in warnings)
    assert any("no row for the Review stage" in w for w in warnings)

    result = import_reviews_csv(data, service, OPERATOR)
    review = service.get(result.review_ids[0])
    plan, do, last = review.stages[1], review.stages[2], review.stages[3]
    assert plan.owner.name == "Sam Patel" and last.owner.name == "Sam Patel"  # the lead commissioner
    assert date(2027, 1, 29) < plan.due_date <= do.due_date == date(2027, 5, 28) < last.due_date
    assert service.cycle.add_duration(date(2027, 1, 29), service.cycle.stages[1]) == plan.due_date


def test_a_missing_file_is_reported_plainly(service: ReviewService, tmp_path) -> None:
    with pytest.raises(CsvImportError, match="There is no file at"):
        import_reviews_csv(tmp_path / "pipeline.csv", service, OPERATOR)


def test_a_title_that_excel_would_run_as_a_formula_is_exported_as_text_and_reads_back(
    service: ReviewService, team: Team
) -> None:
    rows = review_rows('"=HYPERLINK(""http://evil.example"",""Home care"")"')
    import_reviews_csv(csv_bytes([HEADER, *rows]), service, OPERATOR)
    exported = io.StringIO()
    export_reviews_csv(service, exported)

    first_cell = exported.getvalue().splitlines()[1].split(",")[0]
    assert first_cell.startswith("\"'=HYPERLINK") or first_cell.startswith("'=HYPERLINK")

    again = import_reviews_csv(exported.getvalue().encode(), service, OPERATOR, allow_duplicates=True)
    assert service.get(again.review_ids[0]).title == '=HYPERLINK("http://evil.example","Home care")'
