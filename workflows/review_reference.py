"""Which review an officer means: a number (``12``, ``#12``, ``review 12``) or words from its title or service."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from storage.review_snapshots import ReviewSummary

__all__ = ["matching_reviews", "parse_review_reference"]

_REVIEW_NUMBER = re.compile(r"^(?:review\s+)?#?(\d{1,9})\b[\s:,.-]*(.*)$", re.IGNORECASE | re.DOTALL)


def parse_review_reference(argument: str) -> tuple[int | None, str]:
    """``"#12 because the market review slipped"`` -> (12, "because the market review slipped");
    ``"library services"`` -> (None, "library services")."""
    argument = argument.strip()
    if match := _REVIEW_NUMBER.match(argument):
        return int(match[1]), match[2].strip()
    return None, argument


def matching_reviews(reviews: Iterable[ReviewSummary], words: str) -> Sequence[ReviewSummary]:
    """The reviews whose title or service contains ``words``, ignoring case."""
    wanted = words.strip().casefold()
    return [r for r in reviews if wanted and (wanted in r.title.casefold() or wanted in r.service.casefold())]
