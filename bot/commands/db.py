"""`db upgrade` and `db current`: the database schema from the command line."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from bot.config import Settings
from storage.db import DatabaseError, head_revision, open_database


def _safe_url(settings: Settings) -> str:
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@click.group("db")
def db_group() -> None:
    """The database: apply migrations, show the schema version."""


@db_group.command("upgrade")
@click.pass_obj
def upgrade_command(settings: Settings) -> None:
    """Apply every migration not yet applied (the bot also does this when it starts)."""
    try:
        database = open_database(settings.resolved_database_url)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    try:
        click.echo(f"The database at {_safe_url(settings)} is up to date (revision {database.current_revision()}).")
    finally:
        database.dispose()


@db_group.command("current")
@click.pass_obj
def current_command(settings: Settings) -> None:
    """Show the database's schema revision and the newest one this version of the bot has."""
    try:
        database = open_database(settings.resolved_database_url, migrate=False)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    try:
        current, head = database.current_revision(), head_revision()
    finally:
        database.dispose()
    state = "up to date" if current == head else "needs `commissioning-bot db upgrade`"
    click.echo(
        f"Database: {_safe_url(settings)}\nRevision: {current or 'none (empty database)'}\nNewest:   {head}\n{state}"
    )


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
