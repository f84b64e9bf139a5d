"""`chat`: talk to the assistant in the terminal, with no chat platform.

Guidance questions and the review conversation work exactly as in Slack or
Teams, because this command feeds the same chat core (workflows/dialogue.py).
It reads standard input line by line, so it can be scripted:

    printf 'start a review\\nHome care\\n...' | commissioning-bot chat --as alice@council.gov.uk
"""

from __future__ import annotations

import getpass
import logging
import sys

import click
import structlog

from bot.config import Settings
from storage.db import Database, DatabaseError, open_database
from storage.models import Person
from storage.people import PeopleRepository, PersonError, identity_kind
from workflows.cycle import CycleConfigError
from workflows.dialogue import Dialogue, UserContext, build_dialogue, directory_user
from workflows.guidance_questions import KnowledgeSource
from workflows.people import PersonRef
from workflows.replies import render_text

log = structlog.get_logger(__name__)

GOODBYE_WORDS = {"exit", "bye", "goodbye", "/exit", "/quit"}


def _say(text: str) -> None:
    click.echo(text)
    click.echo("")


def _open_dialogue(settings: Settings) -> tuple[Database, Dialogue]:
    """The chat core over the council's database, opening the guidance on the first question; exits on failure."""

    def open_guidance() -> KnowledgeSource:
        # lazy: the guidance's libraries (Chroma, ONNX Runtime) load on the first question, not at start-up.
        from knowledge.service import open_knowledge

        return open_knowledge(settings.for_knowledge())

    try:
        database = open_database(settings.resolved_database_url)
    except DatabaseError as error:
        click.echo(f"Sorry, I can't open the database, so chat can't start.\n{error}", err=True)
        sys.exit(1)
    try:
        return database, build_dialogue(settings.for_workflows(), database, knowledge=open_guidance)
    except CycleConfigError as error:
        click.echo(f"Sorry, chat can't start: {error}", err=True)
        sys.exit(1)


def _add_newcomer(database: Database, who: str, name: str | None, timezone: str) -> Person | None:
    """Add the person chatting as ``who`` (an email nobody has yet), named by --name or, on a terminal, by asking.

    A first-time user's next step after quickstart is this command: stopping them with "ask an administrator"
    would end the first hour, so the terminal offers to add them itself."""
    if identity_kind(who) != "email":
        return None
    if not name and sys.stdin.isatty():
        click.echo(f"I don't know anyone with the email {who} yet.")
        name = click.prompt(
            "What's your full name? I'll add you to the people list (press Enter to stop)",
            default="",
            show_default=False,
        ).strip()
    if not name:
        return None
    try:
        person = PeopleRepository(database).upsert(
            name=name, email=who, timezone=timezone, actor="terminal chat: newcomer"
        )
    except PersonError as error:
        click.echo(f"Sorry, I couldn't add you: {error}", err=True)
        return None
    click.echo(f"Added {person.name} ({who}) to the people list.")
    return person


def _terminal_user(
    settings: Settings, database: Database, dialogue: Dialogue, as_user: str | None, name: str | None
) -> tuple[UserContext, str]:
    """Who is chatting (from --as, CHAT_USER or the login name) and the name to greet; exits for an unknown email
    that is not added."""
    who = (as_user or settings.chat_user or "").strip()
    person: PersonRef | None = None
    if who:
        found = dialogue.people.find_by_email(who) if dialogue.people else None
        if found is None:
            found = _add_newcomer(database, who, name, settings.timezone)
        if found is None:
            click.echo(
                f"I don't know anyone with the email {who} in the people list. Check the spelling, or add "
                f'yourself and carry on: commissioning-bot chat --as {who} --name "Your Name" '
                f'(or commissioning-bot people add --name "Your Name" --email {who}).',
                err=True,
            )
            sys.exit(2)
        person = PersonRef.from_person(found)
        key = f"terminal:{person.email}"
    else:
        who = getpass.getuser()
        key = f"terminal:{who}"
    return directory_user(dialogue, "terminal", key, person, display_name=who), who


def _greet(user: UserContext, who: str, dialogue: Dialogue) -> None:
    person = user.person
    name = f", {person.name.split()[0]}" if person else ""
    _say(
        f"Hello{name}. I'm the Commissioning Assistant. Ask me a question about commissioning, "
        "say “start a review”, or type help. Type exit (or press Ctrl-D) to leave."
    )
    if person is None:
        _say(
            f"(I don't know who “{who}” is, so you can ask questions, but to set up a review as yourself "
            "start chat with --as your.email@council.gov.uk.)"
        )
    for reply in dialogue.resume(user):
        _say(render_text(reply))


def _answer(dialogue: Dialogue, user: UserContext, text: str) -> None:
    try:
        replies = dialogue.handle(user, text)
    except Exception as error:  # noqa: BLE001 - never a traceback in front of an officer
        log.error("terminal_chat_failed", error=type(error).__name__, detail=str(error)[:300])
        _say(
            "Sorry, something went wrong handling that. Please try again; if it keeps happening, "
            "let your system administrator know."
        )
        return
    for reply in replies:
        _say(render_text(reply))


@click.command("chat")
@click.option(
    "--as",
    "as_user",
    metavar="EMAIL",
    help="Whose conversation this is (an email in the people list). Defaults to CHAT_USER, then your login name.",
)
@click.option(
    "--name",
    metavar="NAME",
    help="Your full name: with --as, adds you to the people list if your email is not in it yet.",
)
@click.pass_obj
def chat_command(settings: Settings, as_user: str | None, name: str | None) -> None:
    """Ask questions and set up reviews in the terminal. Type `exit` or press Ctrl-D to leave."""
    # The terminal is for people: keep routine log lines out of the conversation.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))
    database, dialogue = _open_dialogue(settings)
    user, who = _terminal_user(settings, database, dialogue, as_user, name)
    log.info("terminal_chat_started", known_person=user.person is not None)
    _greet(user, who, dialogue)

    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            click.echo("> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        text = line.rstrip("\r\n")
        if not text.strip():
            continue
        if text.strip().lower() in GOODBYE_WORDS:
            break
        _answer(dialogue, user, text)
    if dialogue.engine.is_active(user.conversation_key):
        _say("Goodbye. Your half-finished review is saved: run chat again to carry on where you left off.")
    else:
        _say("Goodbye.")
    database.dispose()


def register(cli: click.Group) -> None:
    cli.add_command(chat_command)
