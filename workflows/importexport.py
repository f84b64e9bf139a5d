"""Bulk import and export of reviews as CSV, one row per review stage.

The format (also in the README)::

    review_title,service,level,lead_commissioner,portfolio_holder,stage,stage_owner,stage_due

- people are given as an email, a Slack user id (U0123ABC) or a Teams user id
  (the Azure AD object id), and must already be in the people list;
- dates are YYYY-MM-DD or DD/MM/YYYY;
- a review has a row for each stage it gives; a stage of the council's cycle
  with no row is filled in from the cycle's usual duration, owned by the lead
  commissioner, and reported as a warning;
- optional ``outcomes`` and ``stakeholders`` columns list outcomes and people
  separated by ``|``; they may be on one of a review's rows or repeated on
  each; other extra columns are ignored with a warning.

An import is three steps, all or nothing: **parse** the file into rows
(``workflows/csv_rows.py``, which also reads what Excel writes), **check** every
row and every review and report each problem with its row number (as Excel
numbers rows, the header being row 1), and only for a file with no problems
**save** every review in a single transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

import structlog

from storage.models import Person
from storage.people import identity_kind
from workflows.csv_rows import (
    COLUMNS,
    OPTIONAL_COLUMNS,
    CsvImportError,
    CsvRow,
    parse_date,
    parse_reviews_csv,
)
from workflows.csv_safety import safe_csv_writer
from workflows.cycle import CycleConfig
from workflows.reviews import LEVELS, Actor, ReviewDraft, ReviewService, StageDraft

__all__ = [
    "COLUMNS",
    "CsvImportError",
    "ImportResult",
    "export_reviews_csv",
    "import_reviews_csv",
    "parse_date",
    "read_reviews_csv",
]

log = structlog.get_logger(__name__)

OUTCOME_SEPARATOR = "|"
PERSON_COLUMNS = ("lead_commissioner", "portfolio_holder", "stage_owner")
# A review's own details, repeated on each of its rows.
_SAME_ON_EVERY_ROW = ("level", "lead_commissioner", "portfolio_holder")
# A review's lists: on any one of its rows (blank on the others), or the same on each that has them.
_ON_ANY_ROW = ("outcomes", "stakeholders")


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(OUTCOME_SEPARATOR) if part.strip()]


def _stakeholder_identifiers(row: CsvRow) -> list[str]:
    return _split(row.values.get("stakeholders", ""))


@dataclass
class ImportResult:
    review_ids: list[int]
    rows: int
    warnings: list[str] = field(default_factory=list)


def _rows_label(rows: Sequence[CsvRow]) -> str:
    numbers = [row.number for row in rows]
    if len(numbers) == 1:
        return f"row {numbers[0]}"
    if numbers == list(range(numbers[0], numbers[-1] + 1)):
        return f"rows {numbers[0]}-{numbers[-1]}"
    return "rows " + ", ".join(map(str, numbers))


# --- checking: every row, then every review ---------------------------------------------------------


@dataclass
class _Check:
    """What checking the rows needs, and what it finds."""

    cycle: CycleConfig
    today: date
    people: Mapping[str, Person]  # every identifier the file names, resolved
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def person(self, row: CsvRow, column: str) -> Person | None:
        text = row.values[column]
        if not text:
            return None
        found = self.people.get(text)
        if found is None:
            if identity_kind(text) is None:
                self.problems.append(
                    f'Row {row.number}: {column} "{text}" is not an email, a Slack user id or a Teams user id.'
                )
            else:
                self.problems.append(
                    f'Row {row.number}: {column} "{text}" is not in the people list; add them first '
                    "with `commissioning-bot people add`."
                )
        return found

    def row(self, row: CsvRow) -> None:
        """Each cell on its own: filled in, a known level and stage, a real date, known people."""
        values = row.values
        self._blanks(row)
        if values["level"] and values["level"].lower() not in LEVELS:
            self.problems.append(f'Row {row.number}: level "{values["level"]}" is not one of {", ".join(LEVELS)}.')
        if values["stage"] and self.cycle.stage(values["stage"]) is None:
            self.problems.append(
                f'Row {row.number}: stage "{values["stage"]}" is not a stage of the cycle '
                f"({', '.join(self.cycle.stage_names)})."
            )
        if values["stage_due"]:
            self._due(row)
        for column in PERSON_COLUMNS:
            self.person(row, column)
        for identifier in _stakeholder_identifiers(row):
            self.person(CsvRow(row.number, {"stakeholders": identifier}), "stakeholders")

    def _blanks(self, row: CsvRow) -> None:
        blank = [column for column in COLUMNS if not row.values[column]]
        if blank:
            self.problems.append(f"Row {row.number}: {', '.join(blank)} {'is' if len(blank) == 1 else 'are'} empty.")

    def _due(self, row: CsvRow) -> None:
        due = parse_date(row.values["stage_due"])
        if due is None:
            self.problems.append(
                f'Row {row.number}: stage_due "{row.values["stage_due"]}" is not a real date in the '
                "form YYYY-MM-DD or DD/MM/YYYY."
            )
        elif due < self.today:
            self.warnings.append(
                f"Row {row.number}: {row.values['stage'] or 'the stage'} was due on {due.isoformat()}, "
                "which has passed; it will show as overdue unless it is marked done."
            )

    def review(self, group: Sequence[CsvRow]) -> ReviewDraft | None:
        """One review's rows together: the same review details on each, one row per stage of the cycle."""
        label = _review_label(group)
        differing = [
            column for column in _SAME_ON_EVERY_ROW if len({row.values.get(column, "").casefold() for row in group}) > 1
        ]
        differing += [
            column
            for column in _ON_ANY_ROW
            if len({row.values.get(column, "").casefold() for row in group if row.values.get(column)}) > 1
        ]
        self.problems += [
            f"{label}: {column} differs between its rows; give it on one row, or the same on every row."
            for column in differing
        ]
        by_stage = self._rows_by_stage(group)
        stage_problems = [
            f"{label}: the {name} stage appears on more than one row ({_rows_label(rows)})."
            for name, rows in by_stage.items()
            if len(rows) > 1
        ]
        self.problems += stage_problems
        if stage_problems:
            return None
        return self._draft(group, {name: rows[0] for name, rows in by_stage.items()})

    def _rows_by_stage(self, group: Sequence[CsvRow]) -> dict[str, list[CsvRow]]:
        by_stage: dict[str, list[CsvRow]] = {}
        for row in group:
            definition = self.cycle.stage(row.values["stage"]) if row.values["stage"] else None
            if definition is not None:
                by_stage.setdefault(definition.name, []).append(row)
        return by_stage

    def _person_id(self, identifier: str) -> int | None:
        found = self.people.get(identifier)
        return found.id if found is not None else None

    def _draft(self, group: Sequence[CsvRow], stage_rows: Mapping[str, CsvRow]) -> ReviewDraft | None:
        """The review, once every person and date in its rows is known (each problem was reported by row())."""
        first = group[0]
        lead_id = self._person_id(first.values["lead_commissioner"])
        holder_id = self._person_id(first.values["portfolio_holder"])
        if lead_id is None or holder_id is None:
            return None
        given: dict[str, tuple[int, date]] = {}
        for name, row in stage_rows.items():
            owner_id = self._person_id(row.values["stage_owner"])
            due = parse_date(row.values["stage_due"])
            if owner_id is None or due is None:
                return None
            given[name] = (owner_id, due)
        stages = self._fill_stages(_review_label(group), given, lead_id)
        listed = {column: next((r.values[column] for r in group if r.values.get(column)), "") for column in _ON_ANY_ROW}
        stakeholder_ids = [self._person_id(identifier) for identifier in _split(listed["stakeholders"])]
        return ReviewDraft(
            title=first.values["review_title"],
            service=first.values["service"],
            outcomes=_split(listed["outcomes"]),
            level=first.values["level"].lower(),
            lead_commissioner_id=lead_id,
            portfolio_holder_id=holder_id,
            stages=stages,
            stakeholder_ids=list(dict.fromkeys(pid for pid in stakeholder_ids if pid is not None)),
        )

    def _fill_stages(self, label: str, given: Mapping[str, tuple[int, date]], lead_id: int) -> list[StageDraft]:
        """Every stage of the cycle: those the file gives, and the rest due the cycle's usual duration after the
        stage before (or today), never after the next stage the file gives, owned by the lead commissioner."""
        stages: list[StageDraft] = []
        previous = self.today
        names = self.cycle.stage_names
        for index, name in enumerate(names):
            if name in given:
                owner_id, due = given[name]
            else:
                definition = self.cycle.stage(name)
                assert definition is not None  # a name from the cycle itself
                due = self.cycle.add_duration(max(previous, self.today), definition)
                later = [given[n][1] for n in names[index + 1 :] if n in given]
                if later and due > later[0]:
                    due = later[0]
                owner_id = lead_id
                self.warnings.append(
                    f"{label}: no row for the {name} stage, so it is due {due.isoformat()} (the cycle's usual "
                    f"{definition.duration_label}) and owned by the lead commissioner; change it after import "
                    "if that is wrong."
                )
            stages.append(StageDraft(name=name, owner_id=owner_id, due=due))
            previous = due
        return stages


def _review_label(group: Sequence[CsvRow]) -> str:
    return f'Review "{group[0].values["review_title"]}" ({_rows_label(group)})'


def _group_by_review(rows: Sequence[CsvRow]) -> list[list[CsvRow]]:
    """Rows of one review share its title and service (ignoring case and spacing)."""
    groups: dict[tuple[str, str], list[CsvRow]] = {}
    for row in rows:
        key = (
            " ".join(row.values["review_title"].split()).casefold(),
            " ".join(row.values["service"].split()).casefold(),
        )
        if all(key):
            groups.setdefault(key, []).append(row)
    return list(groups.values())


def _saving_problems(draft: ReviewDraft, service: ReviewService, *, allow_duplicates: bool) -> list[str]:
    """What the review service would refuse about the draft, and a review it would duplicate."""
    problems = service.check_draft(draft, require_outcomes=False, check_people=False)
    existing = [] if allow_duplicates else service.find_duplicates(draft.title, draft.service)
    if existing:
        problems.append(
            f"a review with this title for {existing[0].service} already exists (#{existing[0].id}). "
            "Remove its rows, or import with --allow-duplicates to add it again."
        )
    return problems


def check_rows(
    rows: Sequence[CsvRow], service: ReviewService, *, allow_duplicates: bool = False
) -> tuple[list[ReviewDraft], list[str]]:
    """The reviews the rows describe, and warnings; raises :class:`CsvImportError` listing every problem."""
    identifiers = {row.values[column] for row in rows for column in PERSON_COLUMNS if row.values[column]}
    identifiers.update(identifier for row in rows for identifier in _stakeholder_identifiers(row))
    check = _Check(service.cycle, service.today(), service.people.find_many(identifiers))
    for row in rows:
        check.row(row)
    drafts: list[ReviewDraft] = []
    for group in _group_by_review(rows):
        draft = check.review(group)
        if draft is not None:
            problems = _saving_problems(draft, service, allow_duplicates=allow_duplicates)
            check.problems += [f"{_review_label(group)}: {problem}" for problem in problems]
            drafts.append(draft)
    if check.problems:
        raise CsvImportError(check.problems)
    return drafts, check.warnings


# --- the three steps ------------------------------------------------------------------------------------


def read_reviews_csv(
    data: bytes, service: ReviewService, *, allow_duplicates: bool = False
) -> tuple[list[ReviewDraft], list[str]]:
    """Parse and check a whole file: the review drafts and any warnings. Raises :class:`CsvImportError`
    listing every problem when any row cannot be used; nothing is saved."""
    parsed = parse_reviews_csv(data)
    drafts, warnings = check_rows(parsed.rows, service, allow_duplicates=allow_duplicates)
    return drafts, parsed.warnings + warnings


def import_reviews_csv(
    source: Path | bytes, service: ReviewService, actor: Actor, *, allow_duplicates: bool = False
) -> ImportResult:
    """Parse and check the whole file, then create every review in it in one transaction (or none)."""
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
    include_details: bool = True,
) -> int:
    """Write reviews in the import format, one row per stage; returns how many rows were written.

    ``include_details``: add the outcomes and stakeholders columns (on each review's first row), so that
    importing the file into an empty database gives the same reviews back."""
    reviews = service.list_all(include_closed=include_closed)
    # Lists leave outcomes and stakeholders out; read them in a few queries for every review at once.
    full = {r.id: r for r in service.reviews.get_many([r.id for r in reviews])} if include_details else {}
    person_ids: set[int] = set()
    for review in reviews:
        person_ids.update((review.lead_commissioner.id, review.portfolio_holder.id))
        person_ids.update(stage.owner.id for stage in review.stages)
    for snapshot in full.values():
        person_ids.update(stakeholder.person.id for stakeholder in snapshot.stakeholders)
    people = service.people.get_many(person_ids)
    writer = safe_csv_writer(out)
    writer.writerow(COLUMNS + (OPTIONAL_COLUMNS if include_details else ()))
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
            if include_details:
                first = stage is review.stages[0]
                details = full[review.id]
                stakeholders = [_identity(people[s.person.id]) for s in details.stakeholders]
                row.append(f" {OUTCOME_SEPARATOR} ".join(details.outcomes) if first else "")
                row.append(f" {OUTCOME_SEPARATOR} ".join(stakeholders) if first else "")
            writer.writerow(row)
            rows += 1
    log.info("reviews_exported", reviews=len(reviews), rows=rows)
    return rows
