"""`people add|list`: the people the assistant knows, for operators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from bot.commands.reviews import format_table
from bot.config import Settings
from storage.db import DatabaseError, open_database
from storage.models import Person
from storage.people import PeopleRepository, PersonError, parse_role, why_unreachable


@contextmanager
def _people(settings: Settings) -> Iterator[PeopleRepository]:
    try:
        database = open_database(settings.resolved_database_url)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    try:
        yield PeopleRepository(database)
    finally:
        database.dispose()


@click.group("people")
def people_group() -> None:
    """People who lead, own or hold the portfolio for reviews."""


@people_group.command("add")
@click.option("--name", required=True, help="Full name, e.g. 'Sam Patel'.")
@click.option("--email", help="Work email.")
@click.option("--slack-id", help="Slack user id, e.g. U0123ABC.")
@click.option("--teams-id", help="Teams user id (the Azure AD object id).")
@click.option("--timezone", help="IANA time zone, e.g. Europe/London (the council's own by default).")
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="ROLE[:SCOPE]",
    help="A role held, e.g. 'portfolio holder:housing' or 'section 151 officer'. Repeat for more.",
)
@click.pass_obj
def add_command(
    settings: Settings,
    name: str,
    email: str | None,
    slack_id: str | None,
    teams_id: str | None,
    timezone: str | None,
    roles: tuple[str, ...],
) -> None:
    """Add a person, or update the one who already has this email, Slack id or Teams id."""
    if timezone:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise click.ClickException(f"{timezone!r} is not a time zone; use a name like Europe/London.") from None
    try:
        parsed_roles = [parse_role(role) for role in roles]
    except PersonError as error:
        raise click.ClickException(str(error)) from error
    actor = "operator: people add"
    with _people(settings) as people:
        _add_person(people, settings, actor, name, email, slack_id, teams_id, timezone, parsed_roles)


def _add_person(
    people: PeopleRepository,
    settings: Settings,
    actor: str,
    name: str,
    email: str | None,
    slack_id: str | None,
    teams_id: str | None,
    timezone: str | None,
    parsed_roles: list[tuple[str, str]],
) -> None:
    try:
        existed = any(
            finder(value) is not None
            for finder, value in (
                (people.find_by_email, email),
                (people.find_by_slack_id, slack_id),
                (people.find_by_teams_id, teams_id),
            )
            if value
        )
        person = people.upsert(
            name=name,
            email=email,
            slack_user_id=slack_id,
            teams_user_id=teams_id,
            timezone=timezone or (None if existed else settings.timezone),
            actor=actor,
        )
        for role, scope in parsed_roles:
            people.assign_role(person.id, role, scope, actor=actor)  # type: ignore[arg-type]
    except PersonError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"{'Updated' if existed else 'Added'} {person.name} (id {person.id}).")


@people_group.command("list")
@click.option("--search", help="Only people whose name or email contains this.")
@click.pass_obj
def list_command(settings: Settings, search: str | None) -> None:
    """List people with their identities and roles."""
    with _people(settings) as people:
        _list_people(people, search)


def _list_people(people: PeopleRepository, search: str | None) -> None:
    everyone = people.search(search, limit=1000) if search else people.list_all()
    if not everyone:
        click.echo("Nobody matches." if search else "Nobody yet. Add people with `commissioning-bot people add`.")
        return
    roles = people.roles_by_person(person.id for person in everyone)  # type: ignore[misc]
    click.echo(
        format_table(
            ["ID", "Name", "Email", "Slack", "Teams", "Roles", "Reachable"],
            [
                [
                    p.id,
                    p.name,
                    p.email or "",
                    p.slack_user_id or "",
                    p.teams_user_id or "",
                    "; ".join(f"{r.role}:{r.scope}" if r.scope else r.role for r in roles[p.id]),  # type: ignore[index]
                    _reachable_label(p),
                ]
                for p in everyone
            ],
        )
    )


def _reachable_label(person: Person) -> str:
    problem = why_unreachable(person)
    return "yes" if problem is None else f"no: {problem}"


def register(cli: click.Group) -> None:
    cli.add_command(people_group)
