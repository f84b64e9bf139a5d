"""Benchmark: one nudge sweep over 10,000 open reviews with 4 stages each.

Seeds a fresh database (300 officers in five timezones, 20 portfolio holders,
reviews whose current stages fall before, on and after their due dates), then
times, at Monday 09:30 in London:

- **plan**: load the open reviews, people, snoozes and ledger keys, and work out
  every nudge due (what ``commissioning-bot nudges preview`` does);
- **plan + record**: the same, then write each message, claim it in the
  notification ledger and store the work of sending it in the work queue, as the
  scheduler's sweep does (the queue's workers send later, so no platform is timed).
- **second sweep**: a sweep five minutes later, when everything is already in the
  ledger (what runs every few minutes all day).

SQLite always; PostgreSQL too when ``--postgres URL`` or ``TEST_DATABASE_URL`` is
given (in a throwaway schema). Target: a sweep planned in under 2 s.

    .venv/bin/python bench/nudges.py [--reviews 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pg_schema import throwaway_schema  # noqa: E402

from bot.logging import configure_logging  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.models import Person, ReviewStatus  # noqa: E402
from storage.reviews import ReviewRepository  # noqa: E402
from workflows.cycle import load_cycle  # noqa: E402
from workflows.delivery import NudgeSweep
from workflows.messaging import SendResult, SendStatus

# noqa: E402
from workflows.nudge_types import NudgePolicy

# noqa: E402

TARGET_SECONDS = 2.0
NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)  # Monday 09:30 in London
TODAY = NOW.date()
ZONES = ["Europe/London"] * 6 + ["Europe/Dublin", "Europe/Paris", "America/New_York", "Asia/Kolkata"]


class CountingPlatform:
    """Accepts every message and counts it: the bench measures the sweep, not a chat platform."""

    platform = "bench"

    def __init__(self) -> None:
        self.sent = 0

    def can_reach(self, person: Person) -> bool:
        return bool(person.slack_user_id)

    def send(self, person: Person, reply: object) -> SendResult:
        self.sent += 1
        return SendResult(SendStatus.SENT)


def seed(database: Database, reviews: int, rng: random.Random) -> float:
    started = time.perf_counter()
    with database.engine.begin() as connection:
        person = Person.__table__  # type: ignore[attr-defined]
        now = datetime.now(UTC)
        rows = [
            {
                "name": f"Officer {n:03d}",
                "email": f"officer{n:03d}@council.gov.uk",
                "slack_user_id": f"U0OFF{n:05d}",
                "timezone": rng.choice(ZONES),
                "reachable": True,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(300)
        ]
        rows += [
            {
                "name": f"Cllr {n:02d}",
                "email": f"cllr{n:02d}@council.gov.uk",
                "slack_user_id": f"U0CLR{n:05d}",
                "timezone": "Europe/London",
                "reachable": True,
                "created_at": now,
                "updated_at": now,
            }
            for n in range(20)
        ]
        connection.execute(person.insert(), rows)
        ids = list(connection.execute(text("SELECT id FROM person ORDER BY id")).scalars())
    officers, councillors = ids[:300], ids[300:]
    cycle = load_cycle()

    for first in range(0, reviews, 1000):
        review_rows, stage_rows = [], []
        for n in range(first, min(first + 1000, reviews)):
            created = datetime.now(UTC)
            review_rows.append(
                {
                    "title": f"Review {n:05d}",
                    "service": "Libraries",
                    "outcomes": ["Better outcomes"],
                    "level": "operational",
                    "lead_commissioner_id": rng.choice(officers),
                    "portfolio_holder_id": rng.choice(councillors),
                    "status": ReviewStatus.OPEN.value,
                    "status_reason": None,
                    "created_by": "bench",
                    "created_at": created,
                    "updated_at": created,
                }
            )
            # The current stage is due anywhere from 30 working days ago to 60 ahead.
            done = rng.randint(0, 3)
            due = TODAY + timedelta(days=rng.randint(-40, 80))
            stages = []
            for position, definition in enumerate(cycle.stages):
                stage_due = due + timedelta(days=30 * (position - done))
                stages.append(
                    {
                        "name": definition.name,
                        "position": position,
                        "owner_id": rng.choice(officers),
                        "due_date": stage_due,
                        "started_at": created if position <= done else None,
                        "completed_at": created if position < done else None,
                        "checklist": [{"item": item, "done": False} for item in definition.checklist],
                        "completion_note": None,
                        "completed_by": None,
                    }
                )
            stage_rows.append(stages)
        with Session(database.engine) as session, session.begin():
            ReviewRepository.insert_many(session, review_rows, stage_rows)
    return time.perf_counter() - started


def timed(work):  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(label: str, url: str, reviews: int, repeat: int, seed_value: int) -> bool:
    database = open_database(url)
    try:
        print(f"\n== {label}: {reviews:,} open reviews x 4 stages")
        print(f"seeded in {seed(database, reviews, random.Random(seed_value)):.1f} s")
        platform = CountingPlatform()
        sweep = NudgeSweep(database, NudgePolicy(), [platform], clock=lambda: NOW)
        sweep.plan(NOW)  # warm up: imports, holidays, the connection pool
        gc.collect()
        plans = []
        for _ in range(repeat):
            seconds, (plan, _) = timed(lambda: sweep.plan(NOW))
            plans.append(seconds)
        seconds_pending, _ = timed(lambda: sweep.pending(plan.nudges, NOW))
        kinds = Counter(nudge.kind.value for nudge in plan.nudges)
        median = statistics.median(plans)
        print(
            f"plan one sweep            median {median:5.2f} s  max {max(plans):5.2f} s  ({repeat} runs) "
            f"-> {len(plan.nudges):,} messages due, {len(plan.held):,} held; ledger check {seconds_pending:.2f} s"
        )
        print("  by kind: " + ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items())))
        seconds, report = timed(lambda: sweep.run(NOW))
        print(
            f"plan + record one sweep   {seconds:5.2f} s  -> {report.queued:,} messages queued "
            f"({seconds / max(report.queued, 1) * 1000:.2f} ms each to write, claim and queue)"
        )
        seconds, again = timed(lambda: sweep.run(NOW + timedelta(minutes=5)))
        print(
            f"the next sweep (all queued) {seconds:5.2f} s  -> {again.queued} queued, "
            f"{again.claimed_elsewhere:,} already queued"
        )
        ok = median < TARGET_SECONDS
        print(f"target: plan under {TARGET_SECONDS:.0f} s -> {'met' if ok else 'NOT met'}")
        return ok
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument(
        "--postgres",
        default=os.environ.get("TEST_DATABASE_URL"),
        help="PostgreSQL URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args.reviews, args.repeat, args.seed)
    if args.postgres:
        with throwaway_schema(args.postgres) as url:
            run("PostgreSQL", url, args.reviews, args.repeat, args.seed)
    else:
        print("\n(PostgreSQL skipped: pass --postgres URL or set TEST_DATABASE_URL)")
    return 0


if __name__ == "__main__":
    configure_logging("WARNING")  # the figures go to standard output; warnings to standard error
    raise SystemExit(main())
