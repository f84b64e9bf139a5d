"""People and the roles they hold.

A person is found by whichever identity a platform gives us: an email, a
Slack user id (``U0123ABC``) or a Teams user id (the Azure AD object id).
Look-ups are case-insensitive: emails and Teams ids are stored lower-case,
Slack ids upper-case, which is how each platform writes them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import structlog
from sqlalchemy import func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from storage.audit import AuditRepository
from storage.base import utc_now
from storage.db import Database
from storage.models import Person, RoleAssignment

log = structlog.get_logger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_TEAMS_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# Fields an upsert may change, with the audit log's name for each.
_PERSON_FIELDS = ("name", "email", "slack_user_id", "teams_user_id", "timezone", "reachable", "teams_conversation_ref")


class PersonError(ValueError):
    """A person could not be saved; the message says why in plain words."""


def normalise_email(email: str | None) -> str | None:
    if email is None or not email.strip():
        return None
    return email.strip().lower()


def normalise_slack_id(slack_user_id: str | None) -> str | None:
    if slack_user_id is None or not slack_user_id.strip():
        return None
    return slack_user_id.strip().upper()


def normalise_teams_id(teams_user_id: str | None) -> str | None:
    if teams_user_id is None or not teams_user_id.strip():
        return None
    return teams_user_id.strip().lower()


def identity_kind(identifier: str) -> str | None:
    """Which kind of identity a string looks like: 'email', 'slack', 'teams' or None."""
    text = identifier.strip()
    if _EMAIL.match(text):
        return "email"
    if _TEAMS_ID.match(text.lower()):
        return "teams"
    if _SLACK_ID.match(text.upper()) and text.upper() == text:
        return "slack"
    return None


# How each kind of identity is normalised, and the column that holds it.
_IDENTITY_COLUMNS: dict[str, tuple[Callable[[str | None], str | None], str]] = {
    "email": (normalise_email, "email"),
    "slack": (normalise_slack_id, "slack_user_id"),
    "teams": (normalise_teams_id, "teams_user_id"),
}


def _by_identity(people: Iterable[Person]) -> dict[tuple[str, str | None], Person]:
    """Each person under each identity they have: (column, value) -> person."""
    return {
        (column, getattr(person, column)): person
        for person in people
        for _, column in _IDENTITY_COLUMNS.values()
        if getattr(person, column)
    }


def person_as_dict(person: Person) -> dict[str, Any]:
    return {name: getattr(person, name) for name in _PERSON_FIELDS}


def parse_role(text: str) -> tuple[str, str]:
    """'portfolio holder:housing' -> ('portfolio holder', 'housing'); 'section 151 officer' -> (..., '')."""
    role, _, scope = text.partition(":")
    role, scope = role.strip().lower(), scope.strip().lower()
    if not role:
        raise PersonError(f"{text!r} is not a role; write it like 'portfolio holder:housing'.")
    return role, scope


class PeopleRepository:
    def __init__(self, database: Database, audit: AuditRepository | None = None) -> None:
        self._database = database
        self._audit = audit or AuditRepository(database)

    @property
    def database(self) -> Database:
        return self._database

    # --- reading ---------------------------------------------------------------

    def get(self, person_id: int) -> Person | None:
        with self._database.session() as session:
            return session.get(Person, person_id)

    def get_many(self, person_ids: Iterable[int]) -> dict[int, Person]:
        ids = sorted(set(person_ids))
        if not ids:
            return {}
        with self._database.session() as session:
            people = session.exec(select(Person).where(Person.id.in_(ids))).all()  # type: ignore[union-attr]
            return {person.id: person for person in people}  # type: ignore[misc]

    def find_by_email(self, email: str) -> Person | None:
        normalised = normalise_email(email)
        if normalised is None:
            return None
        with self._database.session() as session:
            return session.exec(select(Person).where(Person.email == normalised)).first()

    def find_by_slack_id(self, slack_user_id: str) -> Person | None:
        normalised = normalise_slack_id(slack_user_id)
        if normalised is None:
            return None
        with self._database.session() as session:
            return session.exec(select(Person).where(Person.slack_user_id == normalised)).first()

    def find_by_teams_id(self, teams_user_id: str) -> Person | None:
        normalised = normalise_teams_id(teams_user_id)
        if normalised is None:
            return None
        with self._database.session() as session:
            return session.exec(select(Person).where(Person.teams_user_id == normalised)).first()

    def find(self, identifier: str) -> Person | None:
        """Find a person by an email, a Slack user id or a Teams user id, whichever it is."""
        kind = identity_kind(identifier)
        if kind == "email":
            return self.find_by_email(identifier)
        if kind == "teams":
            return self.find_by_teams_id(identifier)
        if kind == "slack":
            return self.find_by_slack_id(identifier)
        return None

    def find_many(self, identifiers: Iterable[str]) -> dict[str, Person]:
        """Resolve many identities in one query; the result is keyed by the identifier as given."""
        wanted: dict[str, tuple[str, str | None]] = {}  # identifier -> (column, normalised value)
        for identifier in set(identifiers):
            kind = identity_kind(identifier)
            if kind is not None:
                normalise, column = _IDENTITY_COLUMNS[kind]
                wanted[identifier] = (column, normalise(identifier))
        if not wanted:
            return {}
        conditions = []
        for column in sorted({column for column, _ in wanted.values()}):
            values = {value for wanted_column, value in wanted.values() if wanted_column == column}
            conditions.append(col(getattr(Person, column)).in_(values))
        with self._database.session() as session:
            people = session.exec(select(Person).where(or_(*conditions))).all()
        by_identity = _by_identity(people)
        return {identifier: by_identity[key] for identifier, key in wanted.items() if key in by_identity}

    def search(self, text: str, limit: int = 10) -> Sequence[Person]:
        """People whose name or email contains ``text``, ignoring case; whole-name matches first."""
        query = " ".join(text.split()).lower()
        if not query:
            return []
        name = func.lower(Person.name)
        exact_first = (name != query, func.length(Person.name), Person.name)
        statement = (
            select(Person)
            .where(or_(name.contains(query, autoescape=True), Person.email.contains(query, autoescape=True)))  # type: ignore[union-attr]
            .where(col(Person.deactivated_at).is_(None))  # a leaver is never offered when an officer names someone
            .order_by(*exact_first)
            .limit(limit)
        )
        with self._database.session() as session:
            return list(session.exec(statement).all())

    def list_all(self) -> Sequence[Person]:
        with self._database.session() as session:
            return list(session.exec(select(Person).order_by(func.lower(Person.name))).all())

    def roles_of(self, person_id: int) -> list[RoleAssignment]:
        with self._database.session() as session:
            statement = (
                select(RoleAssignment).where(RoleAssignment.person_id == person_id).order_by(RoleAssignment.role)
            )
            return list(session.exec(statement).all())

    def roles_by_person(self, person_ids: Iterable[int]) -> dict[int, list[RoleAssignment]]:
        ids = sorted(set(person_ids))
        result: dict[int, list[RoleAssignment]] = {person_id: [] for person_id in ids}
        if not ids:
            return result
        with self._database.session() as session:
            statement = select(RoleAssignment).where(RoleAssignment.person_id.in_(ids)).order_by(RoleAssignment.role)  # type: ignore[attr-defined]
            for assignment in session.exec(statement).all():
                result[assignment.person_id].append(assignment)
        return result

    def holders_of(self, role: str, scope: str | None = None) -> Sequence[Person]:
        """Who holds ``role`` (for ``scope``, when given), e.g. holders_of('portfolio holder', 'housing')."""
        statement = (
            select(Person)
            .join(RoleAssignment, RoleAssignment.person_id == Person.id)  # type: ignore[arg-type]
            .where(RoleAssignment.role == role.strip().lower())
        )
        if scope is not None:
            statement = statement.where(RoleAssignment.scope == scope.strip().lower())
        with self._database.session() as session:
            return list(session.exec(statement.order_by(Person.name)).all())

    # --- writing ---------------------------------------------------------------

    def upsert(
        self,
        *,
        name: str,
        email: str | None = None,
        slack_user_id: str | None = None,
        teams_user_id: str | None = None,
        timezone: str | None = None,
        reachable: bool | None = None,
        teams_conversation_ref: dict[str, Any] | None = None,
        actor: str = "system",
    ) -> Person:
        """Add a person, or update the one who already has any of the given identities.

        Only the fields given are changed. Identities that belong to two different
        people are refused rather than merged, because merging people silently would
        move their reviews.
        """
        name = " ".join(name.split())
        if not name:
            raise PersonError("A person needs a name.")
        if len(name) > 200:
            raise PersonError("That name is longer than 200 characters.")
        email = normalise_email(email)
        if email is not None and not _EMAIL.match(email):
            raise PersonError(f"{email!r} does not look like an email address.")
        slack_user_id = normalise_slack_id(slack_user_id)
        if slack_user_id is not None and not _SLACK_ID.match(slack_user_id):
            # The same rule the review import applies, so a person added here can be named in a spreadsheet.
            raise PersonError(
                f"{slack_user_id!r} does not look like a Slack user id: U or W then letters and digits, "
                "e.g. U0123ABCD (in Slack: the person's profile, ⋮ More, Copy member ID)."
            )
        teams_user_id = normalise_teams_id(teams_user_id)
        if email is None and slack_user_id is None and teams_user_id is None:
            raise PersonError(f"{name} needs an email, a Slack user id or a Teams user id so we can reach them.")

        # Two adapters meeting a new person at once both try to add them; the loser of that
        # race finds the winner's row on its second pass and updates it instead.
        for _attempt in (1, 2):
            try:
                with self._database.transaction() as session:
                    matches = self._people_with_identities(session, email, slack_user_id, teams_user_id)
                    if len(matches) > 1:
                        names = " and ".join(sorted(person.name for person in matches))
                        raise PersonError(
                            f"Those details belong to two different people ({names}); update them one at a time."
                        )
                    person = matches[0] if matches else None
                    before = person_as_dict(person) if person else None
                    changes: dict[str, Any] = {"name": name}
                    for field_name, value in (
                        ("email", email),
                        ("slack_user_id", slack_user_id),
                        ("teams_user_id", teams_user_id),
                        ("timezone", timezone),
                        ("reachable", reachable),
                        ("teams_conversation_ref", teams_conversation_ref),
                    ):
                        if value is not None:
                            changes[field_name] = value
                    if person is None:
                        person = Person(**changes)
                        session.add(person)
                        action = "person.added"
                    else:
                        for field_name, value in changes.items():
                            setattr(person, field_name, value)
                        person.updated_at = utc_now()
                        action = "person.updated"
                    session.flush()
                    after = person_as_dict(person)
                    if before != after:
                        self._audit.record(
                            session,
                            actor=actor,
                            action=action,
                            entity_type="person",
                            entity_id=person.id,  # type: ignore[arg-type]
                            before=before,
                            after=after,
                        )
                log.info(action, person_id=person.id)
                return person
            except IntegrityError:
                continue
        raise PersonError("Those details were saved by someone else at the same moment; please try again.")

    def set_reachable(self, person_id: int, reachable: bool, actor: str = "system") -> None:
        self._update(person_id, actor, reachable=reachable)

    def set_teams_conversation_ref(self, person_id: int, reference: dict[str, Any], actor: str = "system") -> None:
        self._update(person_id, actor, teams_conversation_ref=reference)

    def assign_role(self, person_id: int, role: str, scope: str = "", actor: str = "system") -> RoleAssignment:
        role, scope = role.strip().lower(), scope.strip().lower()
        if not role:
            raise PersonError("A role needs a name, e.g. 'portfolio holder'.")
        with self._database.transaction() as session:
            if session.get(Person, person_id) is None:
                raise PersonError(f"There is no person with id {person_id}.")
            existing = session.exec(
                select(RoleAssignment).where(
                    RoleAssignment.person_id == person_id, RoleAssignment.role == role, RoleAssignment.scope == scope
                )
            ).first()
            if existing is not None:
                return existing
            assignment = RoleAssignment(person_id=person_id, role=role, scope=scope)
            session.add(assignment)
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="role.assigned",
                entity_type="person",
                entity_id=person_id,
                after={"role": role, "scope": scope},
            )
            return assignment

    def remove_role(self, person_id: int, role: str, scope: str = "", actor: str = "system") -> bool:
        role, scope = role.strip().lower(), scope.strip().lower()
        with self._database.transaction() as session:
            existing = session.exec(
                select(RoleAssignment).where(
                    RoleAssignment.person_id == person_id, RoleAssignment.role == role, RoleAssignment.scope == scope
                )
            ).first()
            if existing is None:
                return False
            session.delete(existing)
            self._audit.record(
                session,
                actor=actor,
                action="role.removed",
                entity_type="person",
                entity_id=person_id,
                before={"role": role, "scope": scope},
            )
            return True

    # --- helpers -------------------------------------------------------------------

    @staticmethod
    def _people_with_identities(
        session: Session, email: str | None, slack_user_id: str | None, teams_user_id: str | None
    ) -> list[Person]:
        conditions = []
        if email is not None:
            conditions.append(col(Person.email) == email)
        if slack_user_id is not None:
            conditions.append(col(Person.slack_user_id) == slack_user_id)
        if teams_user_id is not None:
            conditions.append(col(Person.teams_user_id) == teams_user_id)
        return list(session.exec(select(Person).where(or_(*conditions)).order_by(col(Person.id))).all())

    def _update(self, person_id: int, actor: str, **changes: Any) -> None:
        with self._database.transaction() as session:
            person = session.get(Person, person_id)
            if person is None:
                raise PersonError(f"There is no person with id {person_id}.")
            before = person_as_dict(person)
            for field_name, value in changes.items():
                setattr(person, field_name, value)
            person.updated_at = utc_now()
            session.flush()
            self._audit.record(
                session,
                actor=actor,
                action="person.updated",
                entity_type="person",
                entity_id=person_id,
                before=before,
                after=person_as_dict(person),
            )
