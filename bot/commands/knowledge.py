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
    from knowledge.indexer import IndexReport
    from knowledge.service import KnowledgeBase


def _knowledge(ctx: click.Context) -> KnowledgeBase:
    # lazy: the index's libraries (Chroma, ONNX Runtime) take a second to import, which
    # every other command (and --help) should not pay for.
    from knowledge.service import open_knowledge

    settings: Settings = ctx.obj
    return open_knowledge(settings.for_knowledge())


@click.command("index")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--exclude",
    "excludes",
    multiple=True,
    metavar="PATTERN",
    help="Leave out matching files or folders, e.g. 'drafts/' or '*.tmp' (kept for later refreshes).",
)
@click.option("--strict", is_flag=True, help="Exit with 1 if any file was skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def index_command(
    ctx: click.Context, paths: tuple[Path, ...], excludes: tuple[str, ...], strict: bool, as_json: bool
) -> None:
    """Index guidance files and folders (.txt .md .html .pdf .docx).

    With no PATH, re-index everything indexed before (or the built-in starter
    guidance on a fresh install). Unchanged files are skipped, changed files
    replaced and deleted files removed; a .guidanceignore file in a folder lists
    patterns to leave out, as --exclude does. Files that cannot be read are
    listed as warnings and the rest is indexed (exit 0); with --strict a
    skipped file makes it exit 1. Exit 2 when nothing could be indexed at all.
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

    report = kb.index(
        list(paths), exclude=excludes, progress=progress, on_files=on_files, on_vectors=on_vectors, load=False
    )
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
            click.echo(f"Warning: skipped {skipped.display}: {skipped.reason}.", err=True)
        for error in report.errors:
            click.echo(f"Warning: a source could not be refreshed: {error}.", err=True)
    kb.close()
    missing = [s for s in report.skipped if s.reason == "it does not exist"]
    if paths and len(missing) == len(paths):
        ctx.exit(2)  # nothing asked for exists: a failure, not a warning
    ctx.exit(1 if strict and not report.complete else 0)


def _print_answer(answer: Answer) -> None:
    click.echo(answer.text)
    if answer.citations:
        first = answer.citations[0]
        where = f"{first.source}" + (f" — {first.section}" if first.section else "")
        click.echo(f"\n  Source: {where}")
        if first.link:
            click.echo(f"  Open: {first.link}")
        passage = textwrap.shorten(first.text.replace("\n", " "), width=400, placeholder=" …")
        click.echo(textwrap.indent(textwrap.fill(f"“{passage}”", width=88), "  "))
        shown = {where}
        for other in answer.citations[1:]:
            also = f"{other.source}" + (f" — {other.section}" if other.section else "")
            if also not in shown:
                shown.add(also)
                click.echo(f"  See also: {also}" + (f" ({other.link})" if other.link else ""))
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


@click.group("sources")
def sources_group() -> None:
    """Where the guidance is indexed from: folders and files, SharePoint libraries and web sites."""


@sources_group.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def sources_list(ctx: click.Context, as_json: bool) -> None:
    """Each folder, file, SharePoint library or web site indexed: passages, when last indexed, and problems."""
    kb = _knowledge(ctx)
    roots = kb.sources()
    kb.close()
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "location": r.location,
                        "kind": r.kind,
                        "starter": r.starter,
                        "files": r.sources,
                        "passages": r.passages,
                        "excludes": r.excludes,
                        "last_indexed": r.last_indexed_at.isoformat() if r.last_indexed_at else None,
                        "skipped": (r.last_report or {}).get("skipped", []),
                        "state": _state_of(r.last_report),
                        "errors": (r.last_report or {}).get("errors", []),
                        "options": r.options,
                    }
                    for r in roots
                ],
                indent=2,
            )
        )
        return
    if not roots:
        click.echo("Nothing is indexed yet: commissioning-bot index PATH")
        return
    for root in roots:
        label = "built-in starter guidance" if root.starter else root.kind
        when = root.last_indexed_at.strftime("%d %b %Y %H:%M") if root.last_indexed_at else "not yet"
        click.echo(f"{root.location}  ({label})")
        click.echo(
            f"  {root.sources} files, {root.passages} passages; last indexed {when} UTC; {_state_of(root.last_report)}"
        )
        for error in (root.last_report or {}).get("errors", []):
            click.echo(f"  last refresh failed: {error} (what was indexed before is still answered from)")
        if root.excludes:
            click.echo(f"  leaving out: {', '.join(root.excludes)}")
        for skipped in (root.last_report or {}).get("skipped", []):
            click.echo(f"  skipped {skipped['file']}: {skipped['reason']}")


def _state_of(report: dict[str, Any] | None) -> str:
    if report is None:
        return "not indexed yet"
    if report.get("errors"):
        return "failed"
    return "ok, with files skipped" if report.get("skipped") else "ok"


@sources_group.command("remove")
@click.argument("paths", nargs=-1, required=True)
@click.pass_context
def sources_remove(ctx: click.Context, paths: tuple[str, ...]) -> None:
    """Stop answering from a folder, file, SharePoint library or web site (as `sources list` names it):
    everything indexed from it is removed."""
    kb = _knowledge(ctx)
    removed, unknown = kb.remove(list(paths))
    kb.close()
    for path in removed:
        click.echo(f"Removed {path} and everything indexed from it.")
    for path in unknown:
        click.echo(f"{path} is not indexed; `commissioning-bot sources list` shows what is.", err=True)
    ctx.exit(0 if removed else 1)


@sources_group.group("add")
def sources_add() -> None:
    """Index guidance from a SharePoint library or a web site, and keep it up to date."""


def _report_added(ctx: click.Context, kb: KnowledgeBase, location: str, report: IndexReport, as_json: bool) -> None:
    kb.close()
    if as_json:
        click.echo(json.dumps({"location": location, **report.to_json()}, indent=2))
    else:
        click.echo(
            f"{location}: {len(report.added)} new, {len(report.updated)} changed, {len(report.moved)} moved, "
            f"{len(report.unchanged)} unchanged, {len(report.removed)} removed ({report.passages} passages). "
            "It is refreshed with the rest of the guidance; `commissioning-bot sources list` shows its state."
        )
        for skipped in report.skipped:
            click.echo(f"Warning: skipped {skipped.display}: {skipped.reason}.", err=True)
        for error in report.errors:
            click.echo(f"Could not index {location}: {error}.", err=True)
    ctx.exit(2 if report.errors else 0)


@sources_add.command("sharepoint")
@click.option("--site", required=True, help="The site's address, e.g. https://council.sharepoint.com/sites/Guidance")
@click.option("--library", default=None, help="The document library's name (the site's default library otherwise).")
@click.option("--folder", default=None, help="Only this folder of the library, e.g. 'Policies/Current'.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sources_add_sharepoint(
    ctx: click.Context, site: str, library: str | None, folder: str | None, as_json: bool
) -> None:
    """A SharePoint or OneDrive library, read through Microsoft Graph (see the README for the permission)."""
    # lazy: as _knowledge, the guidance's libraries load only when a command uses them.
    from knowledge.sources.base import SourceUnavailable
    from knowledge.sources.sharepoint import sharepoint_location

    if not site.startswith("https://"):
        raise click.BadParameter("give the site's https:// address", param_hint="--site")
    location = sharepoint_location(site, library, folder)
    kb = _knowledge(ctx)
    try:
        report = kb.add_source("sharepoint", location, {"site": site, "library": library, "folder": folder})
    except SourceUnavailable as exc:
        kb.close()
        raise click.ClickException(str(exc)) from exc
    _report_added(ctx, kb, location, report, as_json)


@sources_add.command("web")
@click.argument("url")
@click.option("--sitemap", default=None, help="The site's sitemap (those robots.txt names otherwise).")
@click.option(
    "--include",
    "includes",
    multiple=True,
    metavar="PATTERN",
    help="Only pages whose path matches, e.g. '/constitution/*' (repeat for several).",
)
@click.option("--max-pages", type=click.IntRange(min=1), default=None, help="Most pages read in one refresh.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def sources_add_web(
    ctx: click.Context, url: str, sitemap: str | None, includes: tuple[str, ...], max_pages: int | None, as_json: bool
) -> None:
    """Web pages on one site, starting from URL: its own links only, as its robots.txt allows."""
    # lazy: as _knowledge, the guidance's libraries load only when a command uses them.
    from knowledge.sources.base import SourceUnavailable

    if not url.startswith(("https://", "http://")):
        raise click.BadParameter("give the page's full address, starting https://", param_hint="URL")
    kb = _knowledge(ctx)
    options = {"url": url, "sitemap": sitemap, "include": list(includes), "max_pages": max_pages}
    try:
        report = kb.add_source("web", url, options)
    except SourceUnavailable as exc:
        kb.close()
        raise click.ClickException(str(exc)) from exc
    _report_added(ctx, kb, url, report, as_json)


def register(cli: click.Group) -> None:
    for command in (index_command, ask_command, roles_command, whois_command, sources_group):
        cli.add_command(command)
