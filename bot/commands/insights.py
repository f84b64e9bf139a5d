"""`insights [--since DATE] [--json] [--csv FILE] [--chart FILE]`: guidance insights from the answer log.

For the people who own the guidance: questions not covered or answered unsure (similar ones grouped, with
counts), answers rated not helpful with their comments, the documents and sections cited most and never, and
questions per week. The same report appears in the Slack App Home and the ``insights`` command for the
people in GUIDANCE_OWNERS.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from bot.config import Settings
from storage.db import DatabaseError, open_database
from workflows.guidance_insights import InsightsService
from workflows.guidance_owners import GuidanceOwners
from workflows.insights import Embedder, insights_text, write_insights_csv


def _embedder(settings: Settings) -> Embedder | None:
    """The knowledge base's own embedding model, or None when meaning search is off (words are compared then)."""
    # lazy: the embedding model's libraries are only needed to group questions by meaning.
    from knowledge.embeddings import EmbeddingUnavailable, load_embedding_function

    try:
        embed, _ = load_embedding_function(settings.embedding_model_dir)
    except EmbeddingUnavailable:
        return None
    function: Embedder = embed
    return function


def _since(_ctx: Any, _param: Any, value: datetime | None) -> date | None:
    return value.date() if value is not None else None


@click.command("insights")
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), callback=_since, help="Only answers from this day on (YYYY-MM-DD)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), help="Also write it as CSV here.")
@click.option("--chart", type=click.Path(dir_okay=False, path_type=Path), help="Also save a chart (PNG) here.")
@click.pass_obj
def insights_command(
    settings: Settings, since: date | None, as_json: bool, csv_file: Path | None, chart: Path | None
) -> None:
    """Where the guidance falls short, from the answers officers were given and how they rated them."""
    try:
        database = open_database(settings.resolved_database_url)
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    service = InsightsService(
        database, GuidanceOwners.of(settings.guidance_owners), embedder=lambda: _embedder(settings)
    )
    report = service.report(since)
    click.echo(json.dumps(report.as_json(), indent=2, ensure_ascii=False) if as_json else insights_text(report))
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as out:
            rows = write_insights_csv(report, out)
        click.echo(f"Wrote {rows} row{'s' if rows != 1 else ''} to {csv_file}.", err=True)
    if chart is not None:
        # lazy: matplotlib takes a while to import, and only --chart draws.
        from workflows.insight_charts import render_insights_chart

        png = render_insights_chart(report)
        if png is None:
            raise click.ClickException("There is no chart to save: no questions were logged in that period.")
        chart.write_bytes(png)
        click.echo(f"Saved the chart to {chart} ({len(png):,} bytes).", err=True)


def register(cli: click.Group) -> None:
    cli.add_command(insights_command)
