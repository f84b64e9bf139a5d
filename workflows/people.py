"""Turning what an officer types ("@Sam", "sam.patel@council.gov.uk", "me") into a person in the people table.

Each chat platform writes mentions its own way, so resolution sits behind the
small :class:`PeopleResolver` protocol. :class:`DirectoryPeopleResolver` reads
the people table and understands emails, names, "me", and the bare ids the
people table keeps (a Slack user id, a Teams object id). Platform syntax (a
Slack ``<@U123>``, a Teams ``<at>Sam Patel</at>``) belongs to the adapters: each
puts its own resolver in front with :class:`ChainedPeopleResolver` (for instance
one that asks Slack's ``users.info`` about a user the table has not seen yet),
and turns its mention syntax into something the directory reads with
:class:`RewritingResolver`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "PersonRef",
    "Resolved",
    "Ambiguous",
    "Unknown",
    "Resolution",
    "PeopleResolver",
    "PeopleDirectory",
    "DirectoryPeopleResolver",
    "ChainedPeopleResolver",
    "RewritingResolver",
    "UNKNOWN_PERSON_HINT",
    "unknown_person_message",
]

UNKNOWN_PERSON_HINT = "try @name or an email"
MAX_CANDIDATES = 5
_ME_WORDS = frozenset({"me", "myself", "i", "i am", "i'll do it", "i will", "@me"})

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
# Bare ids, as a Slack user picker or a Teams people picker hands them over.
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{8,}$")
_TEAMS_ID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


@dataclass(frozen=True)
class PersonRef:
    """Enough about a person to store in a conversation and show back to the officer."""

    id: int
    name: str
    email: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.email else self.name

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PersonRef:
        return cls(id=int(data["id"]), name=str(data["name"]), email=data.get("email"))

    @classmethod
    def from_person(cls, person: Any) -> PersonRef:
        return cls(id=int(person.id), name=person.name, email=getattr(person, "email", None))


@dataclass(frozen=True)
class Resolved:
    person: PersonRef


@dataclass(frozen=True)
class Ambiguous:
    query: str
    candidates: list[PersonRef] = field(default_factory=list)


@dataclass(frozen=True)
class Unknown:
    query: str


Resolution = Resolved | Ambiguous | Unknown


@runtime_checkable
class PeopleResolver(Protocol):
    """What the conversation engine needs from a platform to find a person."""

    def resolve(self, text: str) -> Resolution: ...


class PeopleDirectory(Protocol):
    """The part of the storage layer's people repository this module reads."""

    def find_by_email(self, email: str) -> Any | None: ...

    def find_by_slack_id(self, slack_user_id: str) -> Any | None: ...

    def find_by_teams_id(self, teams_user_id: str) -> Any | None: ...

    def search(self, text: str, limit: int = 10) -> Sequence[Any]: ...


def _normalise_name(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def unknown_person_message(text: str) -> str:
    """Why ``text`` found nobody, and what to do next. An email or a picked id (a Slack user picker sends only
    ids) is already exact, so "try @name or an email" would be no help: the person is simply not known yet."""
    query = text.strip()
    shown = query[:80]
    if _EMAIL.match(query):
        return (
            f"{shown} isn't in the council's people list yet. They are added when they first message the assistant, "
            f"or an administrator can add them (commissioning-bot people add --email {shown})."
        )
    if _SLACK_ID.match(query) or _TEAMS_ID.match(query):
        return (
            f"The person you picked ({shown}) isn't in the council's people list yet. They are added when they first "
            "message the assistant, or an administrator can add them with commissioning-bot people add."
        )
    return f"I don't know “{shown}” — {UNKNOWN_PERSON_HINT}."


class DirectoryPeopleResolver:
    """Finds people in the people table by email, name, or the id a platform's people picker gives.

    ``me`` lets an officer answer "me" to "who is the lead commissioner?".
    """

    def __init__(self, directory: PeopleDirectory, me: PersonRef | None = None) -> None:
        self._directory = directory
        self._me = me

    def resolve(self, text: str) -> Resolution:
        query = text.strip().strip(",;")
        if not query:
            return Unknown(query)
        if query.casefold() in _ME_WORDS:
            # Never a name search: "me" is inside "James" and "Mehmet".
            return Resolved(self._me) if self._me is not None else Unknown(query)
        if _SLACK_ID.match(query):
            return self._one(self._directory.find_by_slack_id(query), query)
        if _TEAMS_ID.match(query):
            return self._one(self._directory.find_by_teams_id(query.lower()), query)
        if _EMAIL.match(query):
            return self._one(self._directory.find_by_email(query.lower()), query)
        name = query.lstrip("@").strip()
        if len(name) < 2:
            return Unknown(query)
        return self._by_name(name, query)

    def _one(self, person: Any | None, query: str) -> Resolution:
        return Resolved(PersonRef.from_person(person)) if person is not None else Unknown(query)

    def _by_name(self, name: str, query: str) -> Resolution:
        found = [PersonRef.from_person(p) for p in self._directory.search(name, limit=MAX_CANDIDATES + 1)]
        if not found:
            return Unknown(query)
        wanted = _normalise_name(name)
        exact = [p for p in found if _normalise_name(p.name) == wanted]
        if len(exact) == 1:
            return Resolved(exact[0])
        if len(found) == 1:
            return Resolved(found[0])
        return Ambiguous(query, (exact or found)[:MAX_CANDIDATES])


class ChainedPeopleResolver:
    """Asks each resolver in turn; the first one that recognises the text (even ambiguously) answers."""

    def __init__(self, resolvers: Iterable[PeopleResolver]) -> None:
        self._resolvers = list(resolvers)

    def resolve(self, text: str) -> Resolution:
        result: Resolution = Unknown(text.strip())
        for resolver in self._resolvers:
            result = resolver.resolve(text)
            if not isinstance(result, Unknown):
                return result
        return result


class RewritingResolver:
    """Resolves the text after rewriting it: an adapter turns its platform's mention syntax into the id or name
    the resolver behind reads (``<at>Sam Patel</at>`` into ``Sam Patel``)."""

    def __init__(self, rewrite: Callable[[str], str], resolver: PeopleResolver) -> None:
        self._rewrite = rewrite
        self._resolver = resolver

    def resolve(self, text: str) -> Resolution:
        return self._resolver.resolve(self._rewrite(text))
