"""Bulk import and export of reviews as CSV, one row per review stage.

The format (also in the README)::

    review_title,service,level,lead_commissioner,portfolio_holder,stage,stage_owner,stage_due

- people are given as an email, a Slack user id (U0123ABC) or a Teams user id
  (the Azure AD object id), and must already be in the people list;
- dates are YYYY-MM-DD or DD/MM/YYYY;
- every review needs one row for each stage of the council's cycle;
- an optional ``outcomes`` column lists outcomes separated by ``|``; other
  extra columns are ignored with a warning.

Files saved by Excel are welcome: a byte-order mark, semicolons instead of
commas, a ``sep=;`` first line, CRLF line ends and Windows-1252 text all work.
Export writes any cell Excel would run as a formula (``=``, ``+``, ``-``, ``@``)
with a leading apostrophe, which import removes again.

An import is all or nothing: every row is checked first and every problem is
reported with its row number (as Excel numbers rows, the header being row 1);
only a file with no problems is saved, in a single transaction.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

import structlog

from storage.models import Person
from storage.people import identity_kind
from workflows.reviews import LEVELS, Actor, ReviewDraft, ReviewService, StageDraft

log = structlog.get_logger(__name__)

COLUMNS = (
    "review_title",
    "service",
    "level",
    "lead_commissioner",
    "portfolio_holder",
    "stage",
    "stage_owner",
    "stage_due",
)
OPTIONAL_COLUMNS = ("outcomes",)
OUTCOME_SEPARATOR = "|"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_PROBLEMS_SHOWN = 50

# Excel runs a cell that starts with one of these as a formula, so a title such as
# "=HYPERLINK(...)" would run on the reader's machine. Export writes such cells with a
# leading apostrophe (Excel's own "this is text" mark) and import takes it off again.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


class CsvImportError(ValueError):
    """The file was not imported; ``problems`` lists every reason, each with its row number."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        lines = [
            f"Nothing was imported: the file has {len(self.problems)} problem{'s' if len(self.problems) != 1 else ''}."
        ]
        lines += [f"- {problem}" for problem in shown]
        if more:
            lines.append(f"- ... and {more} more.")
        super().__init__("\n".join(lines))


@dataclass
class ImportResult:
    review_ids: list[int]
    rows: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class _Row:
    number: int
    values: dict[str, str]


def _decode(data: bytes, warnings: list[str]) -> str:
    try:
        # utf-8-sig drops the byte-order mark Excel puts at the start of "CSV UTF-8" files.
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Excel's plain "CSV (Comma delimited)" is saved in the Windows code page.
        warnings.append("The file is not UTF-8; it was read as Windows-1252 (Excel's usual encoding).")
        return data.decode("cp1252", errors="replace")


def _normalise_header(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().strip('"').strip().lower())


def _choose_delimiter(first_line: str) -> str:
    """Comma normally; semicolon or tab where Excel used one (it does in many European locales)."""
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    return max(counts, key=lambda delimiter: (counts[delimiter], delimiter == ","))


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD or DD/MM/YYYY; None when it is neither or is not a real date."""
    text = text.strip()
    match = _ISO_DATE.match(text)
    if match:
        year, month, day = (int(part) for part in match.groups())
    else:
        match = _UK_DATE.match(text)
        if not match:
            return None
        day, month, year = (int(part) for part in match.groups())
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _read_rows(data: bytes, warnings: list[str], problems: list[str]) -> list[_Row]:
    if len(data) > MAX_FILE_BYTES:
        problems.append(
            f"The file is {len(data) // (1024 * 1024)} MB; the limit is {MAX_FILE_BYTES // (1024 * 1024)} MB."
        )
        return []
    text = _decode(data, warnings)
    if not text.strip():
        problems.append(f"The file is empty. The first row must be the header: {','.join(COLUMNS)}")
        return []
    lines = text.splitlines()
    first_row = 1
    delimiter = None
    if lines and lines[0].strip().lower().startswith("sep=") and len(lines[0].strip()) == 5:
        # Excel's own hint line naming the delimiter.
        delimiter = lines[0].strip()[4]
        text = text.split("\n", 1)[1] if "\n" in text else ""
        first_row = 2
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = delimiter or _choose_delimiter(header_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as error:
        problems.append(f"The file could not be read as CSV near row {reader.line_num + first_row - 1}: {error}.")
        return []

    # Skip blank lines before the header, keeping Excel's row numbers.
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
        first_row += 1
    if not records:
        problems.append(f"The file has no header row. The first row must be: {','.join(COLUMNS)}")
        return []

    header = [_normalise_header(cell) for cell in records[0]]
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        problems.append(
            f"Row {first_row}: the column{'s' if len(duplicated) > 1 else ''} {', '.join(duplicated)} "
            "appear more than once in the header."
        )
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        problems.append(
            f"Row {first_row}: the header has no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}. "
            f"It must include: {','.join(COLUMNS)}"
        )
    if duplicated or missing:
        return []
    extra = [
        name or f"(column {index + 1} has no name)"
        for index, name in enumerate(header)
        if name not in COLUMNS and name not in OPTIONAL_COLUMNS
    ]
    if extra:
        warnings.append(f"These columns are not part of the format and were ignored: {', '.join(extra)}.")

    data_rows = records[1:]
    if len(data_rows) > MAX_ROWS:
        problems.append(f"The file has {len(data_rows)} rows; at most {MAX_ROWS} can be imported at once.")
        return []
    rows: list[_Row] = []
    for offset, record in enumerate(data_rows, start=1):
        number = first_row + offset
        if not any(cell.strip() for cell in record):
            continue  # Excel leaves rows of empty cells at the end
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            problems.append(
                f"Row {number}: it has {len(record)} cells but the header names {len(header)} columns; "
                "check for an unquoted comma inside a cell."
            )
            continue
        values = {
            name: _unguard(record[index].strip()) if index < len(record) else "" for index, name in enumerate(header)
        }
        rows.append(_Row(number=number, values=values))
    if not rows and not problems:
        problems.append("The file has a header but no rows of reviews.")
    return rows


def _guard(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _unguard(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:].startswith(_FORMULA_STARTS) else value


def _rows_label(rows: Sequence[_Row]) -> str:
    numbers = [row.number for row in rows]
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"rows {numbers[0]}-{numbers[-1]}"
    return "rows " + ", ".join(map(str, numbers))


def read_reviews_csv(
    data: bytes, service: ReviewService, *, allow_duplicates: bool = False
) -> tuple[list[ReviewDraft], list[str]]:
    """Check a whole file and turn it into review drafts.

    Returns the drafts and any warnings; raises :class:`CsvImportError` listing every
    problem when any row cannot be used.
    """
    warnings: list[str] = []
    problems: list[str] = []
    rows = _read_rows(data, warnings, problems)
    if problems:
        raise CsvImportError(problems)

    cycle = service.cycle
    identifiers = {
        row.values[column]
        for row in rows
        for column in ("lead_commissioner", "portfolio_holder", "stage_owner")
        if row.values[column]
    }
    people = service.people.find_many(identifiers)

    def person(row: _Row, column: str) -> Person | None:
        text = row.values[column]
        if not text:
            return None
        found = people.get(text)
        if found is None:
            if identity_kind(text) is None:
                problems.append(
                    f'Row {row.number}: {column} "{text}" is not an email, a Slack user id or a Teams user id.'
                )
            else:
                problems.append(
                    f'Row {row.number}: {column} "{text}" is not in the people list; add them first '
                    "with `commissioning-bot people add`."
                )
        return found

    today = service.today()
    groups: dict[tuple[str, str], list[_Row]] = {}
    for row in rows:
        values = row.values
        blank = [column for column in COLUMNS if not values[column]]
        if blank:
            problems.append(f"Row {row.number}: {', '.join(blank)} {'is' if len(blank) == 1 else 'are'} empty.")
        if values["level"] and values["level"].lower() not in LEVELS:
            problems.append(f'Row {row.number}: level "{values["level"]}" is not one of {", ".join(LEVELS)}.')
        if values["stage"] and cycle.stage(values["stage"]) is None:
            problems.append(
                f'Row {row.number}: stage "{values["stage"]}" is not a stage of the cycle '
                f"({', '.join(cycle.stage_names)})."
            )
        if values["stage_due"]:
            due = parse_date(values["stage_due"])
            if due is None:
                problems.append(
                    f'Row {row.number}: stage_due "{values["stage_due"]}" is not a real date in the '
                    "form YYYY-MM-DD or DD/MM/YYYY."
                )
            elif due < today:
                warnings.append(
                    f"Row {row.number}: {values['stage'] or 'the stage'} was due on {due.isoformat()}, "
                    "which has passed; it will show as overdue unless it is marked done."
                )
        for column in ("lead_commissioner", "portfolio_holder", "stage_owner"):
            person(row, column)
        key = (" ".join(values["review_title"].split()).casefold(), " ".join(values["service"].split()).casefold())
        if all(key):
            groups.setdefault(key, []).append(row)

    drafts: list[ReviewDraft] = []
    for group in groups.values():
        first = group[0]
        label = f'Review "{first.values["review_title"]}" ({_rows_label(group)})'
        for column in ("level", "lead_commissioner", "portfolio_holder", "outcomes"):
            seen = {row.values.get(column, "").casefold() for row in group}
            if len(seen) > 1:
                problems.append(f"{label}: {column} differs between its rows; it must be the same on every row.")
        by_stage: dict[str, list[_Row]] = {}
        for row in group:
            definition = cycle.stage(row.values["stage"]) if row.values["stage"] else None
            if definition is not None:
                by_stage.setdefault(definition.name, []).append(row)
        for name, stage_rows in by_stage.items():
            if len(stage_rows) > 1:
                problems.append(f"{label}: the {name} stage appears on more than one row ({_rows_label(stage_rows)}).")
        absent = [name for name in cycle.stage_names if name not in by_stage]
        if absent:
            problems.append(
                f"{label}: there is no row for the {', '.join(absent)} stage"
                f"{'s' if len(absent) > 1 else ''}; each review needs one row per stage."
            )
        if absent or any(len(stage_rows) > 1 for stage_rows in by_stage.values()):
            continue
        lead = people.get(first.values["lead_commissioner"])
        holder = people.get(first.values["portfolio_holder"])
        stages = []
        for name in cycle.stage_names:
            row = by_stage[name][0]
            owner = people.get(row.values["stage_owner"])
            due = parse_date(row.values["stage_due"])
            if owner is None or due is None:
                break
            stages.append(StageDraft(name=name, owner_id=owner.id, due=due))  # type: ignore[arg-type]
        if lead is None or holder is None or len(stages) != len(cycle.stages):
            continue
        outcomes = [part.strip() for part in first.values.get("outcomes", "").split(OUTCOME_SEPARATOR) if part.strip()]
        draft = ReviewDraft(
            title=first.values["review_title"],
            service=first.values["service"],
            outcomes=outcomes,
            level=first.values["level"].lower(),
            lead_commissioner_id=lead.id,  # type: ignore[arg-type]
            portfolio_holder_id=holder.id,  # type: ignore[arg-type]
            stages=stages,
        )
        for problem in service.check_draft(draft, require_outcomes=False, check_people=False):
            problems.append(f"{label}: {problem}")
        if not allow_duplicates:
            existing = service.find_duplicates(draft.title, draft.service)
            if existing:
                problems.append(
                    f"{label}: a review with this title for {existing[0].service} already exists (#{existing[0].id}). "
                    "Remove its rows, or import with --allow-duplicates to add it again."
                )
        drafts.append(draft)

    if problems:
        raise CsvImportError(problems)
    return drafts, warnings


def import_reviews_csv(
    source: Path | bytes, service: ReviewService, actor: Actor, *, allow_duplicates: bool = False
) -> ImportResult:
    """Check the whole file, then create every review in it in one transaction (or none)."""
    data = source if isinstance(source, bytes) else _read_file(source)
    drafts, warnings = read_reviews_csv(data, service, allow_duplicates=allow_duplicates)
    review_ids = service.create_reviews(drafts, actor)
    rows = sum(len(draft.stages) for draft in drafts)
    log.info("reviews_imported", reviews=len(review_ids), rows=rows, warnings=len(warnings), actor=actor.label)
    return ImportResult(review_ids=review_ids, rows=rows, warnings=warnings)


def _read_file(path: Path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CsvImportError([f"There is no file at {path}."]) from None
    except IsADirectoryError:
        raise CsvImportError([f"{path} is a folder, not a CSV file."]) from None
    except OSError as error:
        raise CsvImportError([f"{path} could not be read: {error.strerror or error}."]) from None


def _identity(person: Person) -> str:
    return person.email or person.slack_user_id or person.teams_user_id or person.name


def export_reviews_csv(
    service: ReviewService,
    out: TextIO,
    *,
    include_closed: bool = True,
    include_outcomes: bool = False,
) -> int:
    """Write reviews in the import format, one row per stage; returns how many rows were written."""
    reviews = service.list_all(include_closed=include_closed)
    person_ids: set[int] = set()
    for review in reviews:
        person_ids.update((review.lead_commissioner.id, review.portfolio_holder.id))
        person_ids.update(stage.owner.id for stage in review.stages)
    people = service.people.get_many(person_ids)
    writer = csv.writer(out)
    writer.writerow(COLUMNS + (OPTIONAL_COLUMNS if include_outcomes else ()))
    rows = 0
    for review in reviews:
        for stage in review.stages:
            row = [
                review.title,
                review.service,
                review.level,
                _identity(people[review.lead_commissioner.id]),
                _identity(people[review.portfolio_holder.id]),
                stage.name,
                _identity(people[stage.owner.id]),
                stage.due_date.isoformat(),
            ]
            if include_outcomes:
                row.append(f" {OUTCOME_SEPARATOR} ".join(review.outcomes))
            writer.writerow([_guard(value) for value in row])
            rows += 1
    log.info("reviews_exported", reviews=len(reviews), rows=rows)
    return rows
