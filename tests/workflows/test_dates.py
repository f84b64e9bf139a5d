"""Dates as officers type them, read against a fixed 'today' (Monday 23 November 2026)."""

from datetime import date

import pytest

from workflows.dates import DateError, format_date, next_working_day, parse_friendly_date

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("31/03/2027", date(2027, 3, 31)),
        ("31/3/27", date(2027, 3, 31)),
        ("31.03.2027", date(2027, 3, 31)),
        ("2027-03-31", date(2027, 3, 31)),
        ("31 March 2027", date(2027, 3, 31)),
        ("31st March", date(2027, 3, 31)),
        ("next Friday", date(2026, 11, 27)),
        ("in 3 weeks", date(2026, 12, 14)),
        ("3 weeks", date(2026, 12, 14)),
        ("in two months", date(2027, 1, 23)),
        ("in a fortnight", date(2026, 12, 7)),
        ("tomorrow", date(2026, 11, 24)),
        ("today", TODAY),
        ("end of March", date(2027, 3, 31)),
        ("end of next month", date(2026, 12, 31)),
        ("in 3 working days", date(2026, 11, 26)),
    ],
)
def test_reads_the_formats_officers_use(text: str, expected: date) -> None:
    assert parse_friendly_date(text, TODAY) == expected


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("31/02/2027", "There is no 31 February 2027"),
        ("2027-02-30", "There is no 30 February 2027"),
        ("12/13/2027", "no month 13"),
        ("banana", "couldn't read “banana” as a date"),
        ("1/1/2020", "is in the past"),
        ("yesterday", "is in the past"),
        ("2045-01-01", "more than 10 years away"),
        ("12345", "couldn't read"),
    ],
)
def test_impossible_past_and_unreadable_dates_are_explained(text: str, fragment: str) -> None:
    with pytest.raises(DateError) as error:
        parse_friendly_date(text, TODAY)
    assert fragment in str(error.value)


def test_a_date_before_the_previous_stage_is_refused() -> None:
    with pytest.raises(DateError, match="must not go backwards"):
        parse_friendly_date("2027-01-10", TODAY, not_before=date(2027, 2, 1))
    assert parse_friendly_date("2027-02-01", TODAY, not_before=date(2027, 2, 1)) == date(2027, 2, 1)


def test_suggested_deadlines_skip_weekends_and_bank_holidays() -> None:
    assert next_working_day(date(2026, 12, 25)) == date(2026, 12, 29)  # Christmas Fri, Boxing Day substitute Mon 28
    assert next_working_day(date(2026, 11, 28)) == date(2026, 11, 30)  # Saturday
    assert format_date(date(2027, 3, 31)) == "Wed 31 March 2027"


def test_a_month_alone_means_the_end_of_that_month() -> None:
    assert parse_friendly_date("March 2027", TODAY) == date(2027, 3, 31)
