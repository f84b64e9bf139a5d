"""`backup FILE` and `restore FILE`: the database and the guidance index in one archive, for operators."""

from __future__ import annotations

from pathlib import Path

import click

from bot.backup import BackupError, restore_backup, write_backup
from bot.config import Settings
from storage.db import DatabaseError, open_database


@click.command("backup")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def backup_command(settings: Settings, file: Path) -> None:
    """Write the database and the guidance index in DATA_DIR to FILE (.tar.gz); safe while the bot runs."""
    try:
        database = open_database(settings.resolved_database_url, migrate=False)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    try:
        report = write_backup(settings, database, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        database.dispose()
    size = file.stat().st_size
    click.echo(
        f"Backed up {report.rows:,} rows from {len(report.tables)} tables and {report.files} index files "
        f"to {file} ({size / 1_048_576:.1f} MB)."
    )
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)


@click.command("restore")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def restore_command(settings: Settings, file: Path) -> None:
    """Restore a backup FILE into an empty database (DATABASE_URL) and a DATA_DIR with no index yet."""
    try:
        database = open_database(settings.resolved_database_url, migrate=False)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    try:
        report = restore_backup(settings, database, file)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    finally:
        database.dispose()
    click.echo(
        f"Restored {report.rows:,} rows into {len(report.tables)} tables and {report.files} index files from {file}. "
        "Start the bot as usual; it answers from the restored guidance."
    )
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(backup_command)
    cli.add_command(restore_command)
