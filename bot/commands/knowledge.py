"""`index`, `ask`, `roles` and `whois`: the guidance knowledge base from the command line."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm import tqdm

from bot.config import Settings
from knowledge.models import Answer, AnswerKind

if TYPE_CHECKING:  # for annotations only: the guidance's libraries load when a command opens it
    from knowledge.service import KnowledgeBase


def _knowledge(ctx: click.Context) -> KnowledgeBase:
    # lazy: the index's libraries (Chroma, ONNX Runtime) take a second to import, which
    # every other command (and --help) should not pay for.
    from knowledge.service import open_knowledge

    settings: Settings = ctx.obj
    return open_knowledge(settings.for_knowledge())


@click.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def index_command(ctx: click.Context, paths: tuple[Path, ...], as_json: bool) -> None:
    """Index guidance files and folders (.txt .md .html .pdf .docx).

    With no PATH, re-index everything indexed before (or the built-in starter
    guidance on a fresh install). Unchanged files are skipped, changed files
    replaced and deleted files removed. Exits with 1 if any file was skipped.
    """
    kb = _knowledge(ctx)
    files_bar: tqdm[Any] | None = None
    vectors_bar: tqdm[Any] | None = None
    show = sys.stderr.isatty() and not as_json

    def on_files(total: int) -> None:
        nonlocal files_bar
        if show and total > 20:
            files_bar = tqdm(total=total, desc="Reading files", unit="file", file=sys.stderr)

    def progress(_: str) -> None:
        if files_bar is not None:
            files_bar.update(1)

    def on_vectors(count: int) -> None:
        nonlocal vectors_bar
        if show:
            if vectors_bar is None:
                vectors_bar = tqdm(desc="Embedding passages", unit="passage", file=sys.stderr)
            vectors_bar.update(count)

    report = kb.index(list(paths), progress=progress, on_files=on_files, on_vectors=on_vectors)
    for bar in (files_bar, vectors_bar):
        if bar is not None:
            bar.close()
    if as_json:
        click.echo(json.dumps({**report.to_json(), **kb.stats()}, indent=2))
    else:
        stats = kb.stats()
        click.echo(
            f"Indexed: {len(report.added)} new, {len(report.updated)} changed, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed "
            f"({stats['passages']} passages from {stats['sources']} files, {report.seconds:.1f}s)."
        )
        if stats["starter_pack"]:
            click.echo(
                "Answering from the built-in starter guidance until you index your own: commissioning-bot index PATH"
            )
        if not stats["dense"]:
            click.echo(
                "Note: no embedding model could be loaded, so answers use keyword search only "
                "(see EMBEDDING_MODEL_DIR)."
            )
        for skipped in report.skipped:
            click.echo(f"Skipped {skipped.display}: {skipped.reason}.", err=True)
    ctx.exit(0 if report.complete else 1)


def _print_answer(answer: Answer) -> None:
    click.echo(answer.text)
    if answer.citations:
        first = answer.citations[0]
        where = f"{first.source}" + (f" — {first.section}" if first.section else "")
        click.echo(f"\n  Source: {where}")
        passage = textwrap.shorten(first.text.replace("\n", " "), width=400, placeholder=" …")
        click.echo(textwrap.indent(textwrap.fill(f"“{passage}”", width=88), "  "))
        shown = {where}
        for other in answer.citations[1:]:
            also = f"{other.source}" + (f" — {other.section}" if other.section else "")
            if also not in shown:
                shown.add(also)
                click.echo(f"  See also: {also}")
    if answer.kind is not AnswerKind.INVALID:
        click.echo(f"  Confidence: {answer.confidence:.0%}")


@click.command("ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per answer.")
@click.pass_context
def ask_command(ctx: click.Context, question: str | None, as_json: bool) -> None:
    """Answer QUESTION from the guidance; with no QUESTION, answer each line of standard input."""
    kb = _knowledge(ctx)
    questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
    first = True
    for item in questions:
        if question is None and not item.strip():
            continue
        started = time.perf_counter()
        answer = kb.ask(item)
        seconds = time.perf_counter() - started
        if as_json:
            click.echo(json.dumps({**answer.to_json(), "seconds": round(seconds, 4)}, ensure_ascii=False))
            continue
        if not first:
            click.echo("")
        first = False
        if question is None:
            click.echo(f"Q: {item.strip()}")
        _print_answer(answer)


@click.command("roles")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def roles_command(ctx: click.Context, as_json: bool) -> None:
    """List the roles the guidance describes and what each is responsible for."""
    roles = _knowledge(ctx).roles()
    if as_json:
        click.echo(json.dumps([r.to_json() for r in roles], indent=2, ensure_ascii=False))
        return
    if not roles:
        click.echo("The indexed guidance does not describe any roles yet.")
        return
    for role in roles:
        click.echo(f"{role.name}  ({role.source})")
        for duty in role.responsibilities:
            click.echo(textwrap.fill(duty, width=88, initial_indent="  • ", subsequent_indent="    "))


@click.command("whois")
@click.argument("role", nargs=-1, required=True)
@click.pass_context
def whois_command(ctx: click.Context, role: tuple[str, ...]) -> None:
    """What the guidance says a ROLE does, e.g. `whois portfolio holder`."""
    query = " ".join(role)
    found = _knowledge(ctx).whois(query)
    if not found:
        click.echo(f"The guidance does not describe a role called “{query}”. Try `commissioning-bot roles`.")
        ctx.exit(1)
    for item in found:
        click.echo(f"{item.name}  ({item.source} — {item.section})")
        for duty in item.responsibilities:
            click.echo(textwrap.fill(duty, width=88, initial_indent="  • ", subsequent_indent="    "))


def register(cli: click.Group) -> None:
    for command in (index_command, ask_command, roles_command, whois_command):
        cli.add_command(command)
