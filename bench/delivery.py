"""Benchmark: the durable work queue and the nudge sweep's ledger, on SQLite and PostgreSQL.

1. **Queue throughput**: answers stored (as the Slack listener stores them, one insert each) and then
   claimed, posted to the fake Slack Web API on loopback (chat.postMessage with the work's metadata) and
   marked done by the queue's workers, in many channels at once. Prints the store time per answer (it sits
   inside Slack's three-second acknowledgement) and work items per second through claim -> send -> done.
2. **Nudge sweep at 10,000 reviews** (the seeding of ``bench/nudges.py``): plan, then plan + record, where
   recording is what a scheduler's sweep does after planning: write each message, claim it in the ledger
   and store the work of sending it in the work queue (one transaction a chunk; the queue's workers send
   later, so no platform is timed), and, in the same run on the same rows, the floor: one bulk
   ``INSERT ... ON CONFLICT DO NOTHING`` of the ledger rows the sweep wrote. Targets: plan + record within
   2 s on SQLite and 4 s on PostgreSQL, recording within 10x the floor.

PostgreSQL runs when ``--postgres URL`` or ``TEST_DATABASE_URL`` is given (in a throwaway schema).

    .venv/bin/python bench/delivery.py [--answers 1000] [--channels 250] [--reviews 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
from nudges import NOW, CountingPlatform, seed  # noqa: E402
from pg_schema import throwaway_schema  # noqa: E402

from bot.logging import configure_logging  # noqa: E402
from handlers.slack.answers import ANSWER_KIND, SlackAnswerWork, delivery_client  # noqa: E402
from handlers.slack.context import ChannelPacer  # noqa: E402
from storage.db import Database, open_database  # noqa: E402
from storage.models import NotificationLedger  # noqa: E402
from storage.work_queue import WorkQueue, work_queue_depth  # noqa: E402
from tests.slack.fake_slack import BOT_TOKEN, FakeSlack  # noqa: E402
from workflows.delivery import NudgeSweep  # noqa: E402
from workflows.nudge_types import NudgePolicy  # noqa: E402
from workflows.replies import Reply  # noqa: E402
from workflows.work_runner import WorkRunner  # noqa: E402

SWEEP_TARGETS = {"sqlite": 2.0, "postgresql": 4.0}
FLOOR_RATIO = 10.0


def queue_throughput(database: Database, answers: int, channels: int, threads: int) -> None:
    fake = FakeSlack().start()
    queue = WorkQueue(database)
    runner = WorkRunner(queue, threads=threads, lease=timedelta(seconds=30), poll_seconds=0.2)
    work = SlackAnswerWork(
        delivery_client(BOT_TOKEN, fake.api_url),
        lambda payload: [Reply(f"The answer to {payload['text']}")],
        ChannelPacer().next_turn,
    )
    runner.handles(ANSWER_KIND, work)
    try:
        started = time.perf_counter()
        for n in range(answers):
            channel = f"C{n % channels:08d}"
            payload = {"team_id": "T0", "channel": channel, "text": f"question {n}", "thread_ts": f"{n}.000001"}
            queue.enqueue(ANSWER_KIND, f"slack:T0:{channel}", payload, f"slack:EvBENCH{n}")
        stored = time.perf_counter() - started
        started = time.perf_counter()
        runner.start()
        while True:
            depth = work_queue_depth(database)
            if depth["ready"] + depth["leased"] == 0:
                break
            time.sleep(0.05)
        drained = time.perf_counter() - started
    finally:
        runner.stop(grace_seconds=5)
        fake.stop()
    posted = len(fake.calls_to("chat.postMessage"))
    print(
        f"store one answer (inside the ack)  {stored / answers * 1000:6.2f} ms each ({answers:,} answers)\n"
        f"claim -> post -> done              {answers / drained:6.0f} work items/s "
        f"({answers:,} answers in {channels:,} channels, {threads} threads, {drained:.1f} s; {posted:,} posts, "
        f"{depth['done']:,} done, {depth['failed']} failed)"
    )


def nudge_sweep(database: Database, reviews: int) -> bool:
    print(f"seeded {reviews:,} open reviews x 4 stages in {seed(database, reviews, random.Random(11)):.1f} s")
    sweep = NudgeSweep(database, NudgePolicy(), [CountingPlatform()], clock=lambda: NOW)
    sweep.plan(NOW)  # warm up: imports, holidays, the connection pool
    gc.collect()
    plan_seconds, _ = timed(lambda: sweep.plan(NOW))
    total, report = timed(lambda: sweep.run(NOW))
    record = max(total - report.plan_seconds, 1e-9)
    floor = bulk_floor(database)
    target = SWEEP_TARGETS.get(database.dialect, 2.0)
    ratio = record / floor
    print(
        f"plan one sweep                     {plan_seconds:6.2f} s\n"
        f"plan + record one sweep            {total:6.2f} s -> {report.queued:,} messages queued "
        f"(record {record:.2f} s, {record / max(report.queued, 1) * 1000:.3f} ms a message)\n"
        f"bulk INSERT ... ON CONFLICT floor  {floor:6.3f} s for the same rows -> recording is {ratio:.1f}x the floor"
    )
    met = total <= target and ratio <= FLOOR_RATIO
    print(f"targets: plan + record <= {target:.0f} s, <= {FLOOR_RATIO:.0f}x floor -> {'met' if met else 'NOT met'}")
    return met


def bulk_floor(database: Database) -> float:
    """Time one bulk insert of the rows the sweep wrote, after taking them out again."""
    table: sa.Table = NotificationLedger.__table__  # type: ignore[attr-defined]
    with database.engine.begin() as connection:
        rows = [dict(row) for row in connection.execute(sa.select(table)).mappings()]
        connection.execute(table.delete())
    for row in rows:
        row.pop("id")
    insert = (sqlite.insert if database.dialect == "sqlite" else postgresql.insert)(table)
    statement = insert.on_conflict_do_nothing(index_elements=["dedupe_key"])
    started = time.perf_counter()
    with database.engine.begin() as connection:
        connection.execute(statement, rows)  # batched into multi-row INSERTs by SQLAlchemy ("insertmanyvalues")
    return time.perf_counter() - started


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def run(label: str, url: str, args: argparse.Namespace) -> bool:
    print(f"\n== {label}")
    database = open_database(url)
    try:
        queue_throughput(database, args.answers, args.channels, args.threads)
    finally:
        database.dispose()
    database = open_database(url)
    try:
        return nudge_sweep(database, args.reviews)
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--answers", type=int, default=1000)
    parser.add_argument("--channels", type=int, default=250)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"), help="a PostgreSQL URL")
    args = parser.parse_args(argv)
    met = True
    with tempfile.TemporaryDirectory() as folder:
        met &= run("SQLite", f"sqlite:///{Path(folder) / 'bench.db'}", args)
    if args.postgres:
        with throwaway_schema(args.postgres) as url:
            met &= run("PostgreSQL", url, args)
    else:
        print("\n(PostgreSQL skipped: pass --postgres URL or set TEST_DATABASE_URL)")
    return 0 if met else 1


if __name__ == "__main__":
    configure_logging("WARNING")  # the figures go to standard output; warnings to standard error
    raise SystemExit(main())
