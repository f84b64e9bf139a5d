"""`nudges preview|run` and `scheduler`: see and send the reminders, or run the scheduler on its own.

``--at`` takes an ISO time (``2026-11-30T09:30``, read in the council's
timezone when it has no offset) so an operator can see what a given moment
would send, e.g. Monday morning's digests.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping
from datetime import UTC, datetime

import click

from bot.app import Services
from bot.commands.reviews import format_table
from bot.config import Settings
from bot.scheduler import build_sweep, start_scheduler
from storage.db import DatabaseError
from storage.models import Person
from workflows.nudge_types import Nudge
from workflows.working_days import zone


def _parse_at(text: str | None, settings: Settings) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise click.BadParameter(f"{text!r} is not an ISO time; try 2026-11-30T09:30.", param_hint="--at") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(settings.timezone))
    return moment.astimezone(UTC)


def _services(settings: Settings) -> Services:
    services = Services(settings)
    try:
        _ = services.database
    except DatabaseError as error:
        raise click.ClickException(str(error)) from error
    return services


@click.group("nudges")
def nudges_group() -> None:
    """Reminders to stage owners, escalations to lead commissioners and weekly digests."""


@nudges_group.command("preview")
@click.option("--at", "at_text", metavar="ISO-TIME", help="Pretend it is this time (council timezone unless given).")
@click.option("--held/--no-held", default=True, show_default=True, help="Also list nudges held back, and why.")
@click.pass_obj
def preview_command(settings: Settings, at_text: str | None, held: bool) -> None:
    """List what a sweep would send now (or at --at), to whom and why. Sends nothing."""
    at = _parse_at(at_text, settings)
    services = _services(settings)
    try:
        sweep = build_sweep(services, clock=(lambda: at) if at else None)
        now = sweep.clock()
        plan, people = sweep.plan(now)
        ready, counts = sweep.pending(plan.nudges, now)
        local = now.astimezone(zone(settings.timezone))
        click.echo(f"Nudges for {local:%a %d %b %Y %H:%M} ({settings.timezone}):")
        if ready:
            rows = [_row(nudge, people) for nudge in ready]
            click.echo(_table(["who", "what", "kind", "stage", "due", "why"], rows))
        else:
            click.echo("Nothing to send.")
        if counts["already_done"] or counts["claimed_elsewhere"] or counts["waiting_to_retry"]:
            click.echo(
                f"Already sent or given up: {counts['already_done']}; being sent by another worker: "
                f"{counts['claimed_elsewhere']}; waiting to retry: {counts['waiting_to_retry']}."
            )
        # Held nudges already sent earlier (e.g. this morning's, seen after hours) are not worth listing.
        still_due = {nudge.key for nudge in sweep.pending([item.nudge for item in plan.held], now)[0]}
        plan.held = [item for item in plan.held if item.nudge.key in still_due]
        if held and plan.held:
            click.echo("")
            click.echo("Held back:")
            rows = [[*_row(item.nudge, people)[:5], item.reason] for item in plan.held]
            click.echo(_table(["who", "what", "kind", "stage", "due", "why not now"], rows))
        if not sweep.messengers:
            click.echo(
                "\nNo chat platform is configured (SLACK_BOT_TOKEN, or TEAMS_APP_ID with its password and "
                "tenant), so `nudges run` could not send these."
            )
    finally:
        services.close()


def _table(headers: list[str], rows: list[list[object]]) -> str:
    """The shared table layout, with the last column ("why") left whole: it is the one operators read."""
    body = format_table(headers[:-1], [row[:-1] for row in rows]).split("\n")
    widths = len(body[1])
    lines = [body[0].ljust(widths) + "  " + headers[-1], body[1] + "  " + "-" * len(headers[-1])]
    lines += [line.ljust(widths) + "  " + str(row[-1]) for line, row in zip(body[2:], rows, strict=True)]
    return "\n".join(lines)


def _row(nudge: Nudge, people: Mapping[int, Person]) -> list[object]:
    person = people.get(nudge.person_id)
    who = nudge.person_name + (
        f" ({person.timezone})" if person is not None and person.timezone != "Europe/London" else ""
    )
    what = nudge.review_title if nudge.stage_id is None else f"#{nudge.review_id} {nudge.review_title}"
    due = nudge.due_date.isoformat() if nudge.due_date else ""
    return [who, what, nudge.kind.label, nudge.stage_name or "", due, nudge.why]


@nudges_group.command("run")
@click.option("--at", "at_text", metavar="ISO-TIME", help="Run the sweep as if it were this time.")
@click.pass_obj
def run_command(settings: Settings, at_text: str | None) -> None:
    """Run one sweep now: send every nudge that is due, exactly once."""
    at = _parse_at(at_text, settings)
    services = _services(settings)
    try:
        sweep = build_sweep(services, clock=(lambda: at) if at else None)
        if not sweep.messengers:
            raise click.ClickException(
                "No chat platform is configured: set SLACK_BOT_TOKEN, or TEAMS_APP_ID, "
                "TEAMS_APP_PASSWORD and TEAMS_TENANT_ID. `nudges preview` shows what would go."
            )
        report = sweep.run()
        click.echo(
            f"Sent {report.sent}; failed (will retry) {report.failed}; gave up {report.gave_up}; "
            f"unreachable {report.unreachable}; already sent {report.already_done}; "
            f"held back {report.held}; "
            f"left for the next sweep {report.deferred + report.claimed_elsewhere + report.waiting_to_retry}."
        )
    finally:
        services.close()


def register(cli: click.Group) -> None:
    cli.add_command(nudges_group)

    @cli.command("scheduler")
    @click.pass_obj
    def scheduler_command(settings: Settings) -> None:
        """Run the scheduler on its own (nudges, digests, feedback reminders, housekeeping) until stopped."""
        services = _services(settings)
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        scheduler = start_scheduler(services, first_sweep_after=0.0)
        click.echo(f"Scheduler running: a sweep every {settings.sweep_minutes} minutes. Press Ctrl+C to stop.")
        try:
            stop.wait()
        finally:
            scheduler.shutdown()
            services.close()
