"""`reviews list|show|import|export`: commissioning reviews for operators."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from bot.terminal import printable
from storage.db import DatabaseError, open_database
from storage.models import Person
from workflows.cycle import CycleConfigError
from workflows.importexport import CsvImportError, export_reviews_csv, import_reviews_csv, read_reviews_csv
from workflows.reviews import Actor, ReviewError, ReviewService, ReviewSummary, open_review_service

MAX_CELL = 40


def format_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table that lines up in any terminal; long cells are shortened with '...'."""

    def cell(value: object) -> str:
        text = "" if value is None else printable(" ".join(str(value).split()))
        return text if len(text) <= MAX_CELL else text[: MAX_CELL - 3] + "..."

    cells = [[cell(value) for value in row] for row in rows]
    widths = [max([len(header)] + [len(row[index]) for row in cells]) for index, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def format_date(day: date | None) -> str:
    return day.isoformat() if day else ""


@contextmanager
def review_service(settings: Settings) -> Iterator[ReviewService]:
    """The review service for one command; every error an operator can fix becomes a plain message."""
    try:
        service = open_review_service(settings.for_workflows(), open_database(settings.resolved_database_url))
    except (DatabaseError, CycleConfigError) as error:
        raise click.ClickException(str(error)) from error
    try:
        yield service
    except (ReviewError, CsvImportError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        service.database.dispose()


def find_person_or_fail(service: ReviewService, identifier: str) -> Person:
    person = service.people.find(identifier)
    if person is None:
        raise click.ClickException(
            f"Nobody with the email, Slack id or Teams id {identifier!r} is in the people list. "
            "See `commissioning-bot people list`."
        )
    return person


def _review_rows(reviews: Sequence[ReviewSummary], today: date) -> list[list[object]]:
    rows = []
    for review in reviews:
        current = review.current_stage
        if current is None:
            stage, owner, due, note = "all done", "", "", ""
        else:
            stage, owner, due = current.name, current.owner.name, format_date(current.due_date)
            note = f"OVERDUE {(today - current.due_date).days}d" if review.is_open and current.is_overdue(today) else ""
        rows.append([review.id, review.title, review.service, review.level, review.status, stage, owner, due, note])
    return rows


@click.group("reviews")
def reviews_group() -> None:
    """Commissioning reviews: list, show, import and export."""


@reviews_group.command("list")
@click.option(
    "--mine",
    "mine",
    metavar="PERSON",
    help="Reviews this person leads, owns a stage of, or holds the portfolio for (email, Slack id or Teams id).",
)
@click.option("--portfolio", metavar="PERSON", help="Reviews in this portfolio holder's portfolio.")
@click.option("--overdue", is_flag=True, help="Stages past their due date, across the council.")
@click.option("--all", "include_closed", is_flag=True, help="Include closed and decommissioned reviews.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most this many.")
@click.pass_obj
def list_command(
    settings: Settings, mine: str | None, portfolio: str | None, overdue: bool, include_closed: bool, limit: int | None
) -> None:
    """List reviews (open ones unless --all)."""
    if sum(bool(choice) for choice in (mine, portfolio, overdue)) > 1:
        raise click.UsageError("Choose one of --mine, --portfolio and --overdue.")
    with review_service(settings) as service:
        today = service.today()
        if overdue:
            stages = service.list_overdue(limit=limit)
            if not stages:
                click.echo("No stage is overdue.")
                return
            click.echo(
                format_table(
                    ["ID", "Review", "Stage", "Owner", "Due", "Days overdue", "Lead commissioner"],
                    [
                        [
                            o.review_id,
                            o.review_title,
                            o.stage.name,
                            o.stage.owner.name,
                            format_date(o.stage.due_date),
                            o.days_overdue,
                            o.lead_commissioner.name,
                        ]
                        for o in stages
                    ],
                )
            )
            return
        if mine:
            person = find_person_or_fail(service, mine)
            reviews = service.list_mine(person.id, include_closed=include_closed)  # type: ignore[arg-type]
            empty = f"{person.name} has no {'' if include_closed else 'open '}reviews."
        elif portfolio:
            person = find_person_or_fail(service, portfolio)
            reviews = service.list_for_portfolio_holder(person.id, include_closed=include_closed)  # type: ignore[arg-type]
            empty = f"{person.name} holds the portfolio for no {'' if include_closed else 'open '}reviews."
        else:
            reviews = service.list_all(include_closed=include_closed)
            empty = (
                "There are no reviews yet. Start one in chat, or import a pipeline with "
                "`commissioning-bot reviews import`."
            )
        if limit is not None:
            reviews = reviews[:limit]
        if not reviews:
            click.echo(empty)
            return
        click.echo(
            format_table(
                ["ID", "Title", "Service", "Level", "Status", "Current stage", "Owner", "Due", ""],
                _review_rows(reviews, today),
            )
        )


@reviews_group.command("show")
@click.argument("review_id", type=int)
@click.option("--history/--no-history", default=True, help="Show the audit log of every change.")
@click.pass_obj
def show_command(settings: Settings, review_id: int, history: bool) -> None:
    """Show one review: people, stages, checklists and its history."""
    with review_service(settings) as service:
        review = service.get(review_id)
        click.echo(printable(service.status_summary(review_id), keep_line_breaks=True))
        created = f"{review.created_at:%Y-%m-%d %H:%M}"
        click.echo(f"Level: {printable(review.level)}. Created by {printable(review.created_by)} on {created} UTC.")
        if review.status_reason:
            click.echo(f"Reason for {review.status}: {printable(review.status_reason)}")
        if review.outcomes:
            click.echo("Outcomes:")
            for outcome in review.outcomes:
                click.echo(f"  - {printable(outcome)}")
        if review.stakeholders:
            click.echo(
                "Stakeholders: "
                + printable(", ".join(s.person.name + (f" ({s.role})" if s.role else "") for s in review.stakeholders))
            )
        for stage in review.stages:
            if not stage.checklist and not stage.completion_note:
                continue
            click.echo(f"{printable(stage.name)} checklist:")
            for number, item in enumerate(stage.checklist, start=1):
                click.echo(f"  [{'x' if item.done else ' '}] {number}. {printable(item.text)}")
            if stage.completion_note:
                click.echo(f"  Finished with a note: {printable(stage.completion_note)}")
        if history:
            entries = service.history(review_id)
            click.echo("History:")
            click.echo(
                format_table(
                    ["When (UTC)", "Who", "What", "Details"],
                    [
                        [f"{e.at:%Y-%m-%d %H:%M}", e.actor, e.action, _describe_change(e.before, e.after)]
                        for e in entries
                    ],
                )
            )


def _describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str:
    if before is None:
        return ""
    changed = [key for key in (after or {}) if (before or {}).get(key) != (after or {}).get(key)]
    parts = [f"{key}: {before.get(key)!s} -> {(after or {}).get(key)!s}" for key in changed if key != "stage"]
    stage = (after or {}).get("stage")
    return (f"{stage}: " if stage else "") + "; ".join(parts)


@reviews_group.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--allow-duplicates",
    is_flag=True,
    help="Import reviews even when one with the same title already exists for the service.",
)
@click.option(
    "--check", "check_only", is_flag=True, help="Check the file and report problems without importing anything."
)
@click.pass_obj
def import_command(settings: Settings, file: Path, allow_duplicates: bool, check_only: bool) -> None:
    """Import reviews from a CSV file, one row per review stage.

    The header is review_title,service,level,lead_commissioner,portfolio_holder,stage,stage_owner,stage_due,
    with optional outcomes and stakeholders columns (separated by |, on any one of a review's rows).
    People are an email, a Slack user id or a Teams user id; dates are YYYY-MM-DD or DD/MM/YYYY.
    A stage with no row is filled in from the cycle's usual duration and owned by the lead commissioner
    (a warning says so; --check shows it). The whole file is checked first: if any row has a problem,
    nothing is imported.
    """
    with review_service(settings) as service:
        actor = Actor.system(f"operator: reviews import {file.name}")
        if check_only:
            try:
                data = file.read_bytes()
            except OSError as error:
                raise click.ClickException(f"{file} could not be read: {error.strerror or error}.") from error
            drafts, warnings = read_reviews_csv(data, service, allow_duplicates=allow_duplicates)
            for warning in warnings:
                click.echo(f"Warning: {warning}", err=True)
            click.echo(f"The file is ready to import: {len(drafts)} reviews. Nothing was imported (--check).")
            return
        result = import_reviews_csv(file, service, actor, allow_duplicates=allow_duplicates)
        for warning in result.warnings:
            click.echo(f"Warning: {warning}", err=True)
        ids = result.review_ids
        span = f" (#{ids[0]} to #{ids[-1]})" if len(ids) > 1 else (f" (#{ids[0]})" if ids else "")
        click.echo(f"Imported {len(ids)} review{'s' if len(ids) != 1 else ''}{span} from {result.rows} rows.")


@reviews_group.command("export")
@click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False, allow_dash=True))
@click.option("--open-only", is_flag=True, help="Leave out closed and decommissioned reviews.")
@click.option(
    "--details/--no-details",
    "include_details",
    default=True,
    help="Outcomes and stakeholders columns (each separated by |), so the file imports back as it was (default).",
)
# Earlier releases needed --outcomes for the outcomes column; it is now there by default, and the flag still works.
@click.option("--outcomes", "legacy_outcomes", is_flag=True, hidden=True)
@click.pass_obj
def export_command(
    settings: Settings, file: Path | None, open_only: bool, include_details: bool, legacy_outcomes: bool
) -> None:
    """Export reviews in the import format to FILE (or to standard output), with outcomes and stakeholders."""
    include_details = include_details or legacy_outcomes
    with review_service(settings) as service:
        if file is None or str(file) == "-":
            export_reviews_csv(service, sys.stdout, include_closed=not open_only, include_details=include_details)
            return
        # Written beside the target and renamed into place, so a failure never leaves half a file.
        target = file.expanduser().resolve()
        if not target.parent.is_dir():
            raise click.ClickException(f"The folder {target.parent} does not exist.")
        handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
                rows = export_reviews_csv(service, out, include_closed=not open_only, include_details=include_details)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        click.echo(f"Exported {rows} rows to {target}.", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(reviews_group)
