"""The ``roles`` and ``whois`` commands: who does what according to the guidance, and who holds a role here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

from knowledge.models import Role
from storage.people import PeopleRepository
from workflows.replies import Reply, ReplyKind, shorten

__all__ = ["RoleCommands", "RoleSource"]

NO_GUIDANCE = "The guidance isn't available here."


@runtime_checkable
class RoleSource(Protocol):
    """The part of the knowledge base the role commands read."""

    def roles(self) -> list[Role]: ...

    def whois(self, query: str) -> list[Role]: ...


class RoleCommands:
    """Answers ``roles`` and ``whois <role>``.

    ``source`` may be a factory, so a platform can start before the guidance index is loaded; it is called
    the first time a role command needs it. ``people`` names who holds a role in this council.
    """

    def __init__(
        self,
        source: RoleSource | Callable[[], RoleSource] | None,
        people: PeopleRepository | None,
        command_prefix: str,
    ) -> None:
        self._source = source
        self._loaded: RoleSource | None = None
        self._people = people
        self._prefix = command_prefix

    def roles(self) -> list[Reply]:
        directory = self._directory()
        if directory is None:
            return [Reply(NO_GUIDANCE, ReplyKind.PROBLEM)]
        found = directory.roles()
        if not found:
            return [Reply("The guidance I have doesn't set out who does what in commissioning.", ReplyKind.INFO)]
        lines = ["Who does what in commissioning, according to the guidance:"]
        lines += [f"• *{role.name}*: {shorten('; '.join(role.responsibilities), 400)}" for role in found]
        lines.append(
            f"Use `{self._prefix}whois` and a role for more, e.g. `{self._prefix}whois {found[0].name.lower()}`."
        )
        return [Reply("\n".join(lines), ReplyKind.INFO)]

    def whois(self, argument: str) -> list[Reply]:
        if not argument:
            return [Reply(f"Which role? For example: `{self._prefix}whois portfolio holder`.", ReplyKind.INFO)]
        directory = self._directory()
        if directory is None:
            return [Reply(NO_GUIDANCE, ReplyKind.PROBLEM)]
        found = directory.whois(argument)
        holders = self._holders(argument, found)
        if not found and not holders:
            return [
                Reply(
                    f"I couldn't find a role called “{shorten(argument, 80)}” in the guidance. "
                    f"Use `{self._prefix}roles` to see the roles it describes.",
                    ReplyKind.INFO,
                )
            ]
        lines: list[str] = []
        for role in found[:3]:
            lines.append(f"*{role.name}* ({role.source}{', ' + role.section if role.section else ''}):")
            lines += [f"• {responsibility}" for responsibility in role.responsibilities[:8]]
        if holders:
            lines.append("In this council: " + "; ".join(holders))
        return [Reply("\n".join(lines), ReplyKind.INFO)]

    def _directory(self) -> RoleSource | None:
        if self._loaded is None and self._source is not None:
            source = self._source
            self._loaded = source if isinstance(source, RoleSource) else source()
        return self._loaded

    def _holders(self, query: str, roles: Sequence[Role]) -> list[str]:
        """People in the people table who hold the role asked about (by the guidance's name or the words typed)."""
        if self._people is None:
            return []
        names: list[str] = []
        for role_name in [query, *(role.name for role in roles[:3])]:
            try:
                held = self._people.holders_of(role_name.strip().lower())
            except Exception:  # noqa: BLE001 - a role name the repository refuses just has no holders
                continue
            for person in held:
                if person.name and person.name not in names:
                    names.append(person.name)
        return names[:10]
