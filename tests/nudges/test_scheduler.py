"""The scheduler keeps its jobs in the product's own database and runs the sweep from there."""

from __future__ import annotations

import threading

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from bot.app import Services
from bot.scheduler import (
    JOB_ANSWER_LOG,
    JOB_FEEDBACK,
    JOB_GUIDANCE,
    JOB_PURGE,
    JOB_SWEEP,
    NudgeScheduler,
    run_feedback_reminders,
)
from workflows.delivery import SweepReport


def test_jobs_live_in_the_database_and_the_first_sweep_runs(database, database_settings, shared_guidance) -> None:
    services = Services(database_settings, knowledge=shared_guidance)
    scheduler = NudgeScheduler(services)
    finished = threading.Event()
    outcomes: list[object] = []

    def listen(job_event) -> None:  # type: ignore[no-untyped-def]
        if job_event.job_id == JOB_SWEEP:
            outcomes.append(job_event.exception or job_event.retval)
            finished.set()

    scheduler.scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    scheduler.start(first_sweep_after=0.0)
    try:
        assert finished.wait(30), "the first sweep did not run"
        assert isinstance(outcomes[0], SweepReport)
        with database.engine.connect() as connection:
            stored = set(connection.execute(sa.text("SELECT id FROM apscheduler_jobs")).scalars())
        assert stored == {JOB_SWEEP, JOB_FEEDBACK, JOB_PURGE, JOB_GUIDANCE, JOB_ANSWER_LOG}
    finally:
        scheduler.shutdown()
        services.close()

    # A second start (a restart, or a second instance) replaces the same jobs rather than adding more.
    again = NudgeScheduler(Services(database_settings, knowledge=shared_guidance))
    again.start(first_sweep_after=3600)
    try:
        assert sorted(job.id for job in again.jobs()) == sorted(
            [JOB_SWEEP, JOB_FEEDBACK, JOB_PURGE, JOB_GUIDANCE, JOB_ANSWER_LOG]
        )
        sweep = next(job for job in again.jobs() if job.id == JOB_SWEEP)
        assert sweep.trigger.interval.total_seconds() == database_settings.sweep_minutes * 60
    finally:
        again.shutdown()
        again.services.close()


def test_the_feedback_reminders_job_runs_only_in_a_running_scheduler(
    database, database_settings, shared_guidance
) -> None:
    assert run_feedback_reminders() == 0  # no scheduler running in this process: nothing to do
    scheduler = NudgeScheduler(Services(database_settings, knowledge=shared_guidance))
    scheduler.start(first_sweep_after=3600)
    try:
        assert run_feedback_reminders() == 0  # no feedback requested yet
    finally:
        scheduler.shutdown()
        scheduler.services.close()
