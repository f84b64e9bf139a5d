"""Benchmark: backing up and restoring the database at council scale (10,000 reviews by default).

Seeds a fresh database as ``bench/reviews.py`` does, then times the logical copy ``commissioning-bot backup``
writes (:func:`storage.backup.dump_database`) and loading it into an empty database (``restore``), and prints
the rows, the size of the compressed archive and peak memory. SQLite always; PostgreSQL too with ``--postgres
URL`` or ``TEST_DATABASE_URL`` (in throwaway schemas, dropped afterwards).

    .venv/bin/python bench/backup.py [--reviews 10000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pg_schema import throwaway_schema  # noqa: E402

from bench.reviews import seed  # noqa: E402
from bot.logging import configure_logging  # noqa: E402
from storage.backup import dump_database, restore_database  # noqa: E402
from storage.db import open_database  # noqa: E402


def run(label: str, source_url: str, target_url: str, reviews: int, work: Path) -> None:
    source = open_database(source_url)
    seed(source, reviews, officers=400, councillors=60, rng=random.Random(7))
    started = time.perf_counter()
    tables = dump_database(source, work / "dump")
    dumped = time.perf_counter() - started
    archive = work / "backup.tar.gz"
    with tarfile.open(archive, "w:gz") as out:
        out.add(work / "dump", arcname="database")
    target = open_database(target_url, migrate=False)
    started = time.perf_counter()
    restore_database(target, work / "dump")
    restored = time.perf_counter() - started
    rows = sum(tables.values())
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"{label}: {reviews:,} reviews, {rows:,} rows; backup {dumped:.1f} s, restore {restored:.1f} s, "
        f"archive {archive.stat().st_size / 1_048_576:.1f} MB; peak memory {peak_mb:.0f} MB"
    )
    source.dispose()
    target.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("TEST_DATABASE_URL"))
    args = parser.parse_args(argv)
    configure_logging("WARNING", "text")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        (work / "sqlite").mkdir()
        run(
            "SQLite",
            f"sqlite:///{work / 'source.db'}",
            f"sqlite:///{work / 'target.db'}",
            args.reviews,
            work / "sqlite",
        )
        if args.postgres:
            with throwaway_schema(args.postgres) as source, throwaway_schema(args.postgres) as target:
                (work / "postgres").mkdir()
                run("PostgreSQL", source, target, args.reviews, work / "postgres")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
