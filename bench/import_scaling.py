"""Does importing reviews slow down as the database grows? (It did: the same-title check compared
``lower(title)`` for every review, unindexed.) Imports 2,000 reviews (8,000 rows) into an empty database
and into one that already holds 25,000, and prints both times.

    .venv/bin/python bench/import_scaling.py [--existing 25000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from reviews import SERVICES, seed  # noqa: E402

from bot.logging import configure_logging  # noqa: E402
from storage.db import open_database  # noqa: E402
from workflows.cycle import load_cycle  # noqa: E402
from workflows.importexport import COLUMNS, import_reviews_csv  # noqa: E402
from workflows.reviews import Actor, ReviewService  # noqa: E402

IMPORTED = 2_000


def csv_for(count: int) -> bytes:
    lines = [",".join(COLUMNS)]
    for n in range(count):
        service = SERVICES[n % len(SERVICES)]
        for stage, due in (
            ("Analyse", "2030-01-29"),
            ("Plan", "2030-02-26"),
            ("Do", "2030-05-28"),
            ("Review", "2030-07-30"),
        ):
            lines.append(
                f"Imported review {n:05d},{service},operational,officer001@council.gov.uk,cllr01@council.gov.uk,"
                f"{stage},officer002@council.gov.uk,{due}"
            )
    return ("\n".join(lines) + "\n").encode()


def timed_import(url: str, existing: int) -> float:
    database = open_database(url)
    try:
        seed(database, existing, officers=50, councillors=10, rng=random.Random(1))
        service = ReviewService(database, load_cycle(), timezone="Europe/London")
        data = csv_for(IMPORTED)
        started = time.perf_counter()
        import_reviews_csv(data, service, Actor.system("bench"))
        return time.perf_counter() - started
    finally:
        database.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--existing", type=int, default=25_000)
    parser.add_argument("--postgres", help="a PostgreSQL URL (its database is filled; use a scratch one)")
    args = parser.parse_args()
    configure_logging("WARNING", "text")
    with tempfile.TemporaryDirectory() as scratch:
        for existing in (0, args.existing):
            url = args.postgres or f"sqlite:///{Path(scratch) / f'bench-{existing}.db'}"
            seconds = timed_import(url, existing)
            print(
                f"import of {IMPORTED:,} reviews ({IMPORTED * 4:,} rows) with {existing:,} already stored: "
                f"{seconds:.1f} s"
            )


if __name__ == "__main__":
    main()
