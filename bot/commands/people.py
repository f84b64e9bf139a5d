"""`people add|list|deactivate|erase`: the people the assistant knows, for operators."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

from bot.commands.reviews import format_table
from bot.config import Settings
from storage.db import DatabaseError, open_database
from storage.models import Person
from storage.people import PeopleRepository, PersonError, parse_role
from storage.person_lifecycle import OpenWork, PersonLifecycle, why_unreachable
from workflows.reviews import Actor, ReviewError, open_review_service


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


def _find(people: PeopleRepository, who: str) -> Person:
    """A person by email, Slack id, Teams id or the id `people list` shows."""
    found = people.get(int(who)) if who.strip().isdigit() else people.find(who)
    if found is None:
        raise click.ClickException(
            f"Nobody with the email, Slack id, Teams id or id {who!r} is in the people list. "
            "`commissioning-bot people list --search NAME` finds them."
        )
    return found


def _echo_open_work(name: str, work: OpenWork) -> None:
    if work.empty:
        click.echo(f"{name} holds nothing in open reviews.")
        return
    click.echo(f"{name} still holds, in open reviews:")
    for review_id, title, stage, due in work.stages:
        click.echo(f"  - #{review_id} {title}: owns the {stage} stage (due {due.isoformat()})")
    for review_id, title in work.leads:
        click.echo(f"  - #{review_id} {title}: lead commissioner")
    for review_id, title in work.portfolios:
        click.echo(f"  - #{review_id} {title}: portfolio holder")
    click.echo(
        "Hand these over: `people deactivate PERSON --reassign-to NEW` gives their open stages to someone else; "
        "a lead commissioner or portfolio holder is changed by re-importing the review or in chat."
    )


@people_group.command("deactivate")
@click.argument("person")
@click.option("--reassign-to", metavar="PERSON", help="Give their open stages to this person (email or id).")
@click.pass_obj
def deactivate_command(settings: Settings, person: str, reassign_to: str | None) -> None:
    """Mark PERSON (email, Slack id, Teams id or id) as having left: never offered, nudged or asked for feedback.

    Their reviews and history keep their name. Lists what they still hold in open reviews."""
    with _people(settings) as people:
        leaver = _find(people, person)
        heir = _find(people, reassign_to) if reassign_to else None
        if heir is not None and (heir.id == leaver.id or heir.deactivated_at is not None):
            raise click.ClickException(f"{heir.name} can't take over: choose someone who has not left.")
        lifecycle = PersonLifecycle(people.database)
        work = lifecycle.deactivate(leaver.id, actor="operator: people deactivate")  # type: ignore[arg-type]
        click.echo(f"Deactivated {leaver.name} (id {leaver.id}): they won't be offered, reminded or asked again.")
        if heir is not None and work.stages:
            reviews = open_review_service(settings.for_workflows(), people.database)
            actor = Actor.system("operator: people deactivate --reassign-to")
            for review_id, title, stage, _ in work.stages:
                try:
                    reviews.reassign_stage(review_id, stage, heir.id, actor)  # type: ignore[arg-type]
                except ReviewError as error:
                    click.echo(f"  Could not give #{review_id} {title} {stage} to {heir.name}: {error}", err=True)
                else:
                    click.echo(f"  Gave #{review_id} {title}: {stage} to {heir.name}.")
            work = lifecycle.open_work(leaver.id)  # type: ignore[arg-type]
        _echo_open_work(leaver.name, work)


@people_group.command("erase")
@click.argument("person")
@click.option("--yes", is_flag=True, help="Erase without asking to confirm (for scripts).")
@click.pass_obj
def erase_command(settings: Settings, person: str, yes: bool) -> None:
    """Erase PERSON on request (data protection): their name, email and ids go from people, audit and feedback.

    Reviews they were part of keep their place as "Erased person N". This cannot be undone (backups taken
    before still hold them, until they expire)."""
    with _people(settings) as people:
        target = _find(people, person)
        if not yes:
            click.confirm(
                f"Erase {target.name} (id {target.id}) for good? Reviews will show them as “Erased person {target.id}”",
                abort=True,
            )
        report = PersonLifecycle(people.database).erase(target.id, actor="operator: people erase")  # type: ignore[arg-type]
        click.echo(
            f"Erased person {report.person_id}: their identity was removed from the people list, "
            f"{report.audit_entries} audit entries and {report.feedback_answers} feedback answers "
            f"(now anonymous); {report.conversations} conversations deleted."
        )
        _echo_open_work(f"Erased person {report.person_id}", report.open_work)


def _reachable_label(person: Person) -> str:
    problem = why_unreachable(person)
    return "yes" if problem is None else f"no: {problem}"


def register(cli: click.Group) -> None:
    cli.add_command(people_group)
