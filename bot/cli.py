"""The ``commissioning-bot`` command line.

Each group of sub-commands lives in its own module under ``bot/commands`` and
exposes ``register(group)``.
"""

from __future__ import annotations

import importlib

import click

from bot.config import load_settings
from bot.logging import configure_logging

COMMAND_MODULES = [
    "bot.commands.knowledge",
    "bot.commands.chat",
    "bot.commands.reviews",
    "bot.commands.db",
    "bot.commands.people",
    "bot.commands.serve",
    "bot.commands.teams",
    "bot.commands.nudges",
    "bot.commands.feedback",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Commissioning Assistant: guidance answers, reviews, nudges and feedback."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = settings


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(cli)


def main() -> None:
    cli(prog_name="commissioning-bot")
