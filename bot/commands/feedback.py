"""`feedback export <review> [FILE]` and `feedback summary <review>`: stakeholder feedback for operators.

The export writes one CSV row per answer (named answers carry the person's name
and the day; anonymous ones say "anonymous" and nothing else). Requests with
fewer than three answers are left out, and said so, for the same reason the
chat summary holds back its breakdown: a lone anonymous answer could be read
off against the list of who has answered.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.config import Settings
from storage.db import DatabaseError, open_database
from workflows.feedback import MIN_RESPONSES, FeedbackError, FeedbackService
from workflows.reviews import open_review_service


def _feedback(settings: Settings) -> FeedbackService:
    try:
        database = open_database(settings.resolved_database_url)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    workflow_settings = settings.for_workflows()
    return FeedbackService.from_settings(workflow_settings, database, open_review_service(workflow_settings, database))


def _review(feedback: FeedbackService, reference: str) -> int:
    try:
        return feedback.rules.find_review(reference)
    except FeedbackError as error:
        raise click.ClickException(str(error)) from error


@click.group("feedback")
def feedback_group() -> None:
    """Stakeholder feedback on reviews: export the answers, see a summary."""


@feedback_group.command("export")
@click.argument("review")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def export_command(settings: Settings, review: str, file: Path | None) -> None:
    """Write REVIEW's feedback answers as CSV to FILE (standard output when FILE is left out)."""
    feedback = _feedback(settings)
    review_id = _review(feedback, review)
    if file is None:
        written = feedback.summaries.export_csv(review_id, sys.stdout)
    else:
        with file.open("w", newline="", encoding="utf-8") as out:
            written = feedback.summaries.export_csv(review_id, out)
    for held, count in feedback.summaries.rounds_held_back(review_id):
        click.echo(
            f"Left out request {held.id} ({held.kind}): {count} answer{'s' if count != 1 else ''}, fewer than "
            f"{MIN_RESPONSES}, so anonymous answers could be singled out.",
            err=True,
        )
    if file is not None:
        click.echo(f"Wrote {written} answer{'s' if written != 1 else ''} to {file}.", err=True)


@feedback_group.command("summary")
@click.argument("review")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), help="Also save the chart as a PNG here.")
@click.pass_obj
def summary_command(settings: Settings, review: str, chart: Path | None) -> None:
    """Print REVIEW's feedback summary (the one the chat shows), and optionally save its chart."""
    # lazy: matplotlib takes a while to import, and only this command draws.
    from workflows.charts import render_summary_chart

    feedback = _feedback(settings)
    summary = feedback.summaries.summary(_review(feedback, review))
    click.echo(feedback.summaries.summary_text(summary))
    if chart is not None:
        png = render_summary_chart(summary)
        if png is None:
            raise click.ClickException("There is no chart to save: it needs at least three answers with ratings.")
        chart.write_bytes(png)
        click.echo(f"Saved the chart to {chart} ({len(png):,} bytes).", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(feedback_group)
