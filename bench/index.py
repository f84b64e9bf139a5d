"""Indexing and start-up cost at growing sizes of guidance: is the work in proportion to the change?

For each size (copies of ../shared/eval/dev_corpus, each made distinct), in a fresh data folder:

- first index of the whole folder;
- the same folder again, unchanged;
- one file changed, then indexed again;
- start-up: a new process loading the index and answering one question;

each as a process of its own, timed with its peak memory (GNU time). Then the growth between sizes.

    .venv/bin/python bench/index.py [--sizes 1,10,100] [--dense]

Keyword-only by default (no embedding model), the setting of the start-up target; ``--dense`` embeds too
(much slower at 100×: every passage is embedded once).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

from qa import CORPORA, SHARED, distinct_copies  # noqa: E402

STARTUP = (
    "from bot.config import load_settings\n"
    "from knowledge.service import open_knowledge\n"
    "kb = open_knowledge(load_settings().for_knowledge())\n"
    "kb.ask('Who must a best value authority consult?')\n"
)


def measure(args: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float]:
    """(wall seconds, peak MB) of one process."""
    report = cwd / "time.txt"
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%e %M", "-o", str(report), *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr.decode(errors='replace')[-2000:]}")
    seconds, kilobytes = report.read_text().split()[-2:]
    return float(seconds), int(kilobytes) / 1024


def run_size(copies: int, dense: bool, tmp: Path) -> dict[str, tuple[float, float]]:
    corpus = tmp / f"corpus-{copies}"
    distinct_copies(CORPORA["dev_corpus"], corpus, copies)
    data = tmp / f"data-{copies}"
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "DATA_DIR": str(data),
        "STARTER_PACK": "off",
        "LOG_LEVEL": "ERROR",
        "EMBEDDING_MODEL_DIR": str(SHARED / "models" / "all-MiniLM-L6-v2") if dense else str(tmp / "no-model"),
    }
    index = [sys.executable, "-m", "bot", "index", str(corpus)]
    figures = {"first index": measure(index, env, tmp), "unchanged": measure(index, env, tmp)}
    changed = sorted(corpus.rglob("*.md"))[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\nThe review board meets every month.\n", "utf-8")
    figures["one file changed"] = measure(index, env, tmp)
    figures["start-up + 1 answer"] = measure([sys.executable, "-c", STARTUP], env, tmp)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,10,100", help="comma-separated numbers of copies of the dev corpus")
    parser.add_argument("--dense", action="store_true", help="embed passages too (slow at 100×)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    results: dict[int, dict[str, tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for copies in sizes:
            results[copies] = run_size(copies, args.dense, Path(tmp))
            print(f"{copies}× done", file=sys.stderr)
    steps = list(next(iter(results.values())))
    mode = "keyword and meaning" if args.dense else "keyword only"
    print(f"\nIndexing the dev corpus at growing sizes ({mode}); seconds and peak MB of each process")
    header = f"{'step':22}" + "".join(f"{f'{c}×':>20}" for c in sizes)
    if len(sizes) > 1:
        header += "".join(f"{f'{a}×→{b}× time':>16}" for a, b in zip(sizes, sizes[1:], strict=False))
    print(header)
    for step in steps:
        line = f"{step:22}" + "".join(f"{results[c][step][0]:>9.2f} s {results[c][step][1]:>6.0f} MB" for c in sizes)
        for a, b in zip(sizes, sizes[1:], strict=False):
            line += f"{results[b][step][0] / max(results[a][step][0], 1e-9):>15.1f}×"
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
