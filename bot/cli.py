"""The ``commissioning-bot`` command line.

Each group of sub-commands lives in its own module under ``bot/commands`` and
exposes ``register(group)``. A module is imported only when one of its commands
runs, so ``--help`` and each command load just what they use; ``COMMANDS`` is
the one list of top-level commands, their module and the line ``--help`` shows.
"""

from __future__ import annotations

import importlib

import click

COMMANDS: dict[str, tuple[str, str]] = {
    "ask": ("bot.commands.knowledge", "Answer a question from the guidance, quoting its source."),
    "backup": ("bot.commands.backup", "Save the database and the guidance index to one archive file."),
    "chat": ("bot.commands.chat", "Ask questions and set up reviews in the terminal."),
    "db": ("bot.commands.db", "The database: apply migrations, show the schema version."),
    "feedback": ("bot.commands.feedback", "Stakeholder feedback on reviews: export answers, see a summary."),
    "index": ("bot.commands.knowledge", "Index guidance files and folders (.txt .md .html .pdf .docx)."),
    "insights": ("bot.commands.insights", "Where the guidance falls short, from answers and ratings."),
    "nudges": ("bot.commands.nudges", "Reminders to stage owners, escalations and weekly digests."),
    "people": ("bot.commands.people", "People who lead, own or hold the portfolio for reviews."),
    "reviews": ("bot.commands.reviews", "Commissioning reviews: list, show, import and export."),
    "restore": ("bot.commands.backup", "Restore a backup archive into an empty database and DATA_DIR."),
    "roles": ("bot.commands.knowledge", "List the roles the guidance describes and what each does."),
    "scheduler": ("bot.commands.nudges", "Run the scheduler on its own (nudges, digests, housekeeping)."),
    "serve": ("bot.commands.serve", "Run the chat endpoints for Slack and Teams, and GET /healthz."),
    "sources": ("bot.commands.knowledge", "Where the guidance comes from: folders, SharePoint, web sites."),
    "teams": ("bot.commands.teams", "Microsoft Teams: build the app package to upload."),
    "whois": ("bot.commands.knowledge", "What the guidance says a role does."),
}


class LazyGroup(click.Group):
    """A group whose commands are imported from their module when one is run or asked for by name.

    The group's own help lists every command from ``COMMANDS`` without importing any of them.
    """

    listing = False

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, summary = COMMANDS[cmd_name]
        if self.listing:
            return click.Command(cmd_name, short_help=summary)
        registered = click.Group()
        importlib.import_module(module).register(registered)
        command = registered.commands[cmd_name]
        command.short_help = summary
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self.listing = False


def _show_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    # lazy: reading the installed version touches package metadata, which only --version needs.
    from bot.version import VERSION

    click.echo(f"commissioning-bot {VERSION}")
    ctx.exit()


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the release's version and exit.",
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Commissioning Assistant: guidance answers, reviews, nudges and feedback."""
    # lazy: settings and logging import pydantic, SQLAlchemy and structlog, which --help does not need.
    from bot.config import load_settings
    from bot.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = settings


def main() -> None:
    cli(prog_name="commissioning-bot")
