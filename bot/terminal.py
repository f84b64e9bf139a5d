"""Text from the database, made safe to print on an officer's terminal.

Titles, names, outcomes and notes come from spreadsheets and chat. An escape sequence in one of them
(``\\x1b]0;...``, ``\\x1b[2J``) would be obeyed by the terminal printing ``reviews list``: it could clear
the screen, retitle the window or hide the rows around it; a right-to-left override would make a row
read differently from what is stored. Every such character is shown as its escape (``\\x1b``,
``\\u202e``) instead, so the officer sees that it is there.
"""

from __future__ import annotations

import re

__all__ = ["printable"]

# C0 and C1 controls and DEL (line breaks are kept where asked), and the bidirectional overrides/isolates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_WITH_BREAKS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(value: object, keep_line_breaks: bool = False) -> str:
    """``value`` as text with every character a terminal would act on shown as its escape."""
    text = "" if value is None else str(value)
    return (_UNSAFE if keep_line_breaks else _UNSAFE_WITH_BREAKS).sub(_escape, text)
