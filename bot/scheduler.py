"""The scheduler: APScheduler in the background, its jobs kept in the product's own database.

``start_scheduler(services)`` starts it inside ``commissioning-bot serve``;
``commissioning-bot scheduler`` runs it alone for deployments that split the
two. Its jobs live in the ``apscheduler_jobs`` table (created by the
migrations) of the same database as everything else, so a restart picks up
where it left off and a missed run is run once (``coalesce``) on the way up.

Jobs (each a plain function here, because a persistent job store keeps a
reference to the function, not the object):

- ``nudge_sweep`` every ``SWEEP_MINUTES``: reminders, escalations and the
  weekly digests, each worked out per person and timezone inside the sweep
  (``workflows/delivery.py``), rather than a cron entry per person;
- ``feedback_reminders`` hourly: :func:`send_feedback_reminders` (invitations
  not yet delivered, and reminders before a request closes);
- ``purge_idle_conversations`` hourly: half-finished conversations idle for
  twice ``CONVERSATION_IDLE_MINUTES`` are removed;
- ``purge_answer_log`` daily: guidance answers and their ratings older than
  ``ANSWER_LOG_DAYS`` are removed.

Two instances may run their schedulers against one database: each sweep
claims every message in the notification ledger and queues its sending in the
same transaction, so a message is still queued, and sent, once. The messages
are sent by the process's work queue workers (``Services.work``), which the
scheduler starts when no chat adapter has.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import structlog
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from bot.app import Services
from storage.base import utc_now
from storage.metrics import SCHEDULER_RUNS
from storage.nudges import SCHEDULER_JOBS_TABLE
from workflows.cycle import cycle_from_settings
from workflows.delivery import CycleTips, GuidanceTips, NudgeSweep, SweepReport
from workflows.nudge_types import NudgePolicy

__all__ = [
    "JOB_FEEDBACK",
    "JOB_PURGE",
    "JOB_SWEEP",
    "NudgeScheduler",
    "build_sweep",
    "send_feedback_reminders",
    "start_scheduler",
]

log = structlog.get_logger(__name__)

JOB_SWEEP = "nudge_sweep"
JOB_FEEDBACK = "feedback_reminders"
JOB_PURGE = "purge_idle_conversations"
JOB_GUIDANCE = "guidance_refresh"
JOB_ANSWER_LOG = "purge_answer_log"

# The process's running scheduler: job functions find it here (see the module docstring).
_current: dict[str, NudgeScheduler] = {}
_current_lock = threading.Lock()


def build_sweep(
    services: Services, clock: Callable[[], datetime] | None = None, *, send_now: bool = True
) -> NudgeSweep:
    """A sweep wired the way production runs it: both platforms (those configured) and tips from the guidance.

    ``send_now`` (a sweep run from the command line): it sends what it queued before it returns. The scheduler's
    sweep only queues; the work queue's workers send."""
    settings = services.workflow_settings
    tips = GuidanceTips(lambda: services.knowledge, fallback=CycleTips(cycle_from_settings(settings)))
    return NudgeSweep(
        services.database,
        NudgePolicy.from_settings(settings),
        services.messengers,
        tips=tips,
        max_attempts=settings.nudge_max_attempts,
        clock=clock or utc_now,
        send_now=send_now,
    )


def send_feedback_reminders(services: Services, now: datetime | None = None) -> int:
    """Deliver feedback invitations not yet delivered, and reminders that are due; returns how many were sent."""
    return services.feedback.requests.send_reminders(now)


# --- the jobs ---------------------------------------------------------------------------------


def _running() -> NudgeScheduler | None:
    with _current_lock:
        return _current.get("scheduler")


def run_nudge_sweep() -> SweepReport | None:
    running = _running()
    if running is None:
        return None
    return running.sweep.run()


def run_feedback_reminders() -> int:
    running = _running()
    if running is None:
        return 0
    return send_feedback_reminders(running.services, datetime.now(UTC))


def run_guidance_refresh() -> int:
    """Index the guidance again (once across replicas: the database says whose turn it is); returns files changed."""
    running = _running()
    if running is None:
        return 0
    settings = running.services.settings
    report = running.services.knowledge.refresh_sources(every=timedelta(minutes=settings.index_refresh_minutes))
    if report is None:
        return 0
    return len(report.added) + len(report.updated) + len(report.removed)


def run_purge_idle_conversations() -> int:
    running = _running()
    if running is None:
        return 0
    return running.services.dialogue.engine.purge_idle()


def _count_run(event: JobExecutionEvent) -> None:
    """Each job run for ``/metrics``: ok, failed (it raised) or missed (the process was down past its grace)."""
    outcome = "failed" if event.exception is not None else "missed" if event.code == EVENT_JOB_MISSED else "ok"
    SCHEDULER_RUNS.labels(job=str(event.job_id), outcome=outcome).inc()


def run_purge_answer_log() -> int:
    """Forget guidance answers (and their ratings) older than ANSWER_LOG_DAYS; returns how many went."""
    running = _running()
    if running is None:
        return 0
    answer_log = running.services.dialogue.answer_log
    purged = answer_log.purge(running.services.settings.answer_log_days) if answer_log is not None else 0
    log.info("answer_log_purged", answers=purged)
    return purged


class NudgeScheduler:
    def __init__(self, services: Services) -> None:
        self.services = services
        store = SQLAlchemyJobStore(engine=services.database.engine, tablename=SCHEDULER_JOBS_TABLE)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": store},
            # A run missed while the bot was down is made up once, not once per missed slot.
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone=UTC,
        )
        self.scheduler.add_listener(_count_run, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED)

    @cached_property
    def sweep(self) -> NudgeSweep:
        """Built once, so its tips from the guidance are asked once per stage for the life of the scheduler."""
        return build_sweep(self.services, send_now=False)

    def start(self, first_sweep_after: float = 30.0) -> None:
        """Start the jobs; the first sweep waits ``first_sweep_after`` seconds so start-up (warming the guidance)
        has the machine to itself, then catches up on anything missed while the bot was down."""
        with _current_lock:
            _current["scheduler"] = self
        # The workers that send what the sweeps queue (already running when a chat adapter started them).
        self.services.work.start()
        minutes = self.services.settings.sweep_minutes
        add = self.scheduler.add_job
        add(
            "bot.scheduler:run_nudge_sweep",
            "interval",
            minutes=minutes,
            id=JOB_SWEEP,
            replace_existing=True,
            next_run_time=datetime.now(UTC) + timedelta(seconds=first_sweep_after),
        )
        add("bot.scheduler:run_feedback_reminders", "interval", hours=1, id=JOB_FEEDBACK, replace_existing=True)
        add("bot.scheduler:run_purge_idle_conversations", "interval", hours=1, id=JOB_PURGE, replace_existing=True)
        add("bot.scheduler:run_purge_answer_log", "interval", days=1, id=JOB_ANSWER_LOG, replace_existing=True)
        refresh = self.services.settings.index_refresh_minutes
        if refresh:
            add(
                "bot.scheduler:run_guidance_refresh",
                "interval",
                minutes=refresh,
                id=JOB_GUIDANCE,
                replace_existing=True,
            )
        self.scheduler.start()
        if not refresh:
            # Turned off since an earlier start: the stored job goes too.
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(JOB_GUIDANCE)
        log.info("scheduler_started", sweep_minutes=minutes, jobs=[job.id for job in self.scheduler.get_jobs()])

    def jobs(self) -> list[Any]:
        return list(self.scheduler.get_jobs())

    def shutdown(self, wait: bool = True) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
        with _current_lock:
            if _current.get("scheduler") is self:
                _current.pop("scheduler", None)
        log.info("scheduler_stopped")


def start_scheduler(services: Services, first_sweep_after: float = 30.0) -> NudgeScheduler:
    """Start the jobs in a background thread; call ``.shutdown()`` on the result when the process stops."""
    scheduler = NudgeScheduler(services)
    scheduler.start(first_sweep_after)
    return scheduler
