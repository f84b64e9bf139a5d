"""Careless and hostile review imports: Unicode titles, control characters, sizes just over the limit.

Runs on SQLite, and on PostgreSQL too when TEST_DATABASE_URL is set (the ``database`` fixture).
"""

from __future__ import annotations

from datetime import date

import pytest

from storage.models import review_title_key
from tests.storage.review_helpers import Clock, Team, add_team, draft_for, make_service
from tests.workflows.test_importexport import HEADER, OPERATOR, csv_bytes, review_rows
from workflows.csv_rows import MAX_FILE_BYTES, parse_reviews_csv
from workflows.importexport import CsvImportError, import_reviews_csv
from workflows.reviews import Actor, ReviewService


@pytest.fixture
def team(database) -> Team:
    return add_team(database)


@pytest.fixture
def service(database) -> ReviewService:
    return make_service(database, Clock())


@pytest.mark.parametrize(
    ("first", "second"),
    [("Ŵyl Gymraeg", "ŵyl gymraeg"), ("Straße lighting", "STRASSE LIGHTING"), ("Café  hours", "CAFÉ hours")],
)
def test_a_title_differing_only_in_case_is_the_same_title_on_every_database(
    service: ReviewService, team: Team, first: str, second: str
) -> None:
    import_reviews_csv(csv_bytes([HEADER, *review_rows(first)]), service, OPERATOR)
    with pytest.raises(CsvImportError, match=r"already exists \(#1\)"):
        import_reviews_csv(csv_bytes([HEADER, *review_rows(second)]), service, OPERATOR)
    assert len(service.list_all()) == 1
    assert [" ".join(r.title.split()) for r in service.reviews.find_by_title(second, "adult  SOCIAL care")] == [
        " ".join(first.split())
    ]


def test_the_title_key_folds_unicode_and_spaces_and_keeps_services_apart() -> None:
    assert review_title_key("Ŵyl", "Libraries") == review_title_key(" ŵyl ", "libraries")
    assert review_title_key("Ŵyl", "Libraries") != review_title_key("Ŵyl", "Leisure")
    assert len(review_title_key("x" * 300, "y" * 200)) == 64


def test_nul_and_escape_codes_are_removed_with_the_row_named(service: ReviewService, team: Team) -> None:
    rows = review_rows("Home\x00 care\x1b[31m")
    result = import_reviews_csv(csv_bytes([HEADER, *rows]), service, OPERATOR)
    [review] = service.list_all()
    assert review.title == "Home care[31m"
    assert "Row 2: removed 2 control characters" in result.warnings[0]
    assert "review_title" in result.warnings[0]
    assert len(result.warnings) == 4  # one per row that had them, each with its own number
    assert [w.split(":")[0] for w in result.warnings] == ["Row 2", "Row 3", "Row 4", "Row 5"]


def test_a_file_just_over_the_limit_says_by_how_much() -> None:
    data = b"x" * (MAX_FILE_BYTES + 1049)
    with pytest.raises(CsvImportError) as refused:
        parse_reviews_csv(data)
    assert "The file is 20.001 MB; the limit is 20 MB." in str(refused.value)


def test_a_review_from_chat_with_nul_and_escape_codes_is_stored_without_them(database, team: Team) -> None:
    """The review form and the typed conversation reach the same rules: PostgreSQL would refuse the NUL."""
    service = make_service(database, Clock())
    draft = draft_for(team, date(2026, 11, 23), title="Home\x00 care\x1b[2J", service="Adult\x00 social\tcare")
    [review_id] = service.create_reviews([draft], Actor.system("test"))
    review = service.get(review_id)
    assert (review.title, review.service) == ("Home care[2J", "Adult social care")
