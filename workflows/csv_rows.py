"""Reading a CSV file of reviews into rows: the first of an import's three steps (parse, then check, then save).

Files saved by Excel are welcome: a byte-order mark, semicolons or tabs instead of commas, a ``sep=;``
first line, CRLF line ends and Windows-1252 text all work. Rows keep the numbers Excel shows (the header
is row 1), so every problem found later can name its row. A cell Excel would run as a formula is written
by the export with a leading apostrophe (Excel's own "this is text" mark), which is taken off here.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from knowledge.limits import mb
from workflows.csv_safety import FORMULA_STARTS, guard, unguard

__all__ = [
    "COLUMNS",
    "FORMULA_STARTS",
    "OPTIONAL_COLUMNS",
    "CsvImportError",
    "CsvRow",
    "ParsedCsv",
    "guard",
    "parse_date",
    "parse_reviews_csv",
]

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
OPTIONAL_COLUMNS = ("outcomes", "stakeholders")
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_PROBLEMS_SHOWN = 50
# C0 and C1 control characters other than tab, line feed and carriage return, and DEL.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


class CsvImportError(ValueError):
    """The file was not imported; ``problems`` lists every reason, each with its row number."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        shown = self.problems[:MAX_PROBLEMS_SHOWN]
        more = len(self.problems) - len(shown)
        count = len(self.problems)
        lines = [f"Nothing was imported: the file has {count} problem{'s' if count != 1 else ''}."]
        lines += [f"- {problem}" for problem in shown]
        if more:
            lines.append(f"- ... and {more} more.")
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class CsvRow:
    number: int  # as Excel numbers it
    values: dict[str, str]  # column -> the cell, trimmed


@dataclass
class ParsedCsv:
    rows: list[CsvRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")


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


def _sep_line(text: str) -> tuple[str | None, str]:
    """Excel's own hint line naming the delimiter (``sep=;``), if the file starts with one, and the rest."""
    lines = text.splitlines()
    first = lines[0].strip() if lines else ""
    if first.lower().startswith("sep=") and len(first) == 5:
        return first[4], text.split("\n", 1)[1] if "\n" in text else ""
    return None, text


def _records(text: str) -> tuple[list[list[str]], int]:
    """The file's records and the row number of the first; raises CsvImportError when it is not CSV."""
    delimiter, text = _sep_line(text)
    first_row = 2 if delimiter else 1
    header_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _choose_delimiter(header_line))
    try:
        records = list(reader)
    except csv.Error as error:
        raise CsvImportError(
            [f"The file could not be read as CSV near row {reader.line_num + first_row - 1}: {error}."]
        ) from error
    # Skip blank lines before the header, keeping Excel's row numbers.
    while records and not any(cell.strip() for cell in records[0]):
        records.pop(0)
        first_row += 1
    return records, first_row


def _header_problems(header: list[str], row: int) -> list[str]:
    problems = []
    duplicated = sorted({name for name in header if name and header.count(name) > 1})
    if duplicated:
        columns = "columns" if len(duplicated) > 1 else "column"
        problems.append(f"Row {row}: the {columns} {', '.join(duplicated)} appear more than once in the header.")
    missing = [name for name in COLUMNS if name not in header]
    if missing:
        columns = "columns" if len(missing) > 1 else "column"
        problems.append(
            f"Row {row}: the header has no {', '.join(missing)} {columns}. It must include: {','.join(COLUMNS)}"
        )
    return problems


def _header(cells: list[str], row: int, warnings: list[str]) -> list[str]:
    """The header's column names; raises CsvImportError when a column is missing or repeated."""
    header = [_normalise_header(cell) for cell in cells]
    problems = _header_problems(header, row)
    if problems:
        raise CsvImportError(problems)
    known = set(COLUMNS) | set(OPTIONAL_COLUMNS)
    extra = [name or f"(column {index + 1} has no name)" for index, name in enumerate(header) if name not in known]
    if extra:
        warnings.append(f"These columns are not part of the format and were ignored: {', '.join(extra)}.")
    return header


def _spills_over(record: list[str], header: list[str]) -> bool:
    """More filled cells than the header has columns: usually an unquoted comma inside a cell."""
    return len(record) > len(header) and any(cell.strip() for cell in record[len(header) :])


def _cells(record: list[str], header: list[str]) -> dict[str, str]:
    return {name: unguard(record[index].strip()) if index < len(record) else "" for index, name in enumerate(header)}


def _without_control_characters(value: str) -> tuple[str, int]:
    """``value`` without the control characters a database may refuse (PostgreSQL refuses NUL) or a terminal
    would act on (escape codes); tabs and line breaks inside a cell are kept."""
    cleaned = _CONTROL_CHARACTERS.sub("", value)
    return cleaned, len(value) - len(cleaned)


def _rows(records: list[list[str]], header: list[str], first_row: int, warnings: list[str]) -> list[CsvRow]:
    """Each record as a row keyed by column; raises CsvImportError for rows with too many cells."""
    rows: list[CsvRow] = []
    problems: list[str] = []
    for offset, record in enumerate(records, start=1):
        number = first_row + offset
        if not any(cell.strip() for cell in record):
            continue  # Excel leaves rows of empty cells at the end
        if _spills_over(record, header):
            problems.append(
                f"Row {number}: it has {len(record)} cells but the header names {len(header)} columns; "
                "check for an unquoted comma inside a cell."
            )
            continue
        values = {
            name: unguard(record[index].strip()) if index < len(record) else "" for index, name in enumerate(header)
        }
        for name, value in values.items():
            cleaned, removed = _without_control_characters(value)
            if removed:
                values[name] = cleaned
                warnings.append(
                    f"Row {number}: removed {removed} control character{'s' if removed != 1 else ''} "
                    f"(such as NUL or an escape code, which no spreadsheet shows) from {name}."
                )
        rows.append(CsvRow(number=number, values=values))
    if problems:
        raise CsvImportError(problems)
    if not rows:
        raise CsvImportError(["The file has a header but no rows of reviews."])
    return rows


def parse_reviews_csv(data: bytes) -> ParsedCsv:
    """The file's rows; raises :class:`CsvImportError` for a file that is too big, empty or not this format."""
    if len(data) > MAX_FILE_BYTES:
        raise CsvImportError([f"The file is {mb(len(data), than=MAX_FILE_BYTES)}; the limit is {mb(MAX_FILE_BYTES)}."])
    parsed = ParsedCsv()
    text = _decode(data, parsed.warnings)
    if not text.strip():
        raise CsvImportError([f"The file is empty. The first row must be the header: {','.join(COLUMNS)}"])
    records, first_row = _records(text)
    if not records:
        raise CsvImportError([f"The file has no header row. The first row must be: {','.join(COLUMNS)}"])
    header = _header(records[0], first_row, parsed.warnings)
    if len(records) - 1 > MAX_ROWS:
        raise CsvImportError([f"The file has {len(records) - 1} rows; at most {MAX_ROWS} can be imported at once."])
    parsed.rows = _rows(records[1:], header, first_row, parsed.warnings)
    return parsed
