"""Who owns the guidance (``GUIDANCE_OWNERS``): the people who see the guidance insights in the chat.

Each entry is an email, or an id a platform gives a person (a Slack user id, a Teams / Entra object id).
Matching is case-insensitive, so ``Sam.Patel@council.gov.uk`` and ``sam.patel@council.gov.uk`` are the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["GuidanceOwners"]


@dataclass(frozen=True)
class GuidanceOwners:
    entries: frozenset[str] = frozenset()

    @classmethod
    def of(cls, entries: Iterable[str]) -> GuidanceOwners:
        return cls(frozenset(e.strip().casefold() for e in entries if e.strip()))

    def includes(self, *identities: str | None) -> bool:
        """Whether any of a person's identities (email, platform ids) is listed."""
        return any(i and i.strip().casefold() in self.entries for i in identities)

    def __bool__(self) -> bool:
        return bool(self.entries)
