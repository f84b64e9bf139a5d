"""Answer quality and speed on the shared guidance corpus.

Indexes ../shared/corpus into a fresh data folder, answers every question in
../shared/eval/dev_questions.jsonl and prints hit@1, hit@3, latency and
indexing time. A hit: the answer or the first (or any of the first three)
citations contains one of the question's key phrases.

    .venv/bin/python bench/qa.py [--corpus DIR] [--questions FILE] [--model-dir DIR] [--lexical-only] [-v]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402

SHARED = REPO.parent / "shared"


def contains_key(text: str, keys: list[str]) -> bool:
    lowered = " ".join(text.lower().split())
    return any(" ".join(k.lower().split()) in lowered for k in keys)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus")
    parser.add_argument("--questions", type=Path, default=SHARED / "eval" / "dev_questions.jsonl")
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models" / "all-MiniLM-L6-v2")
    parser.add_argument("--lexical-only", action="store_true", help="run without the embedding model")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each miss")
    args = parser.parse_args()

    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            embedding_model_dir=args.model_dir if not args.lexical_only else Path(tmp) / "no-model",
            log_level="ERROR",
            _env_file=None,  # type: ignore[call-arg]
        )
        kb = KnowledgeBase(settings)
        started = time.perf_counter()
        first = kb.index([args.corpus])
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = kb.index([args.corpus])
        reindex_seconds = time.perf_counter() - started

        for warm in questions[:3]:
            kb.ask(warm["q"])
        hit1 = hit3 = 0
        latencies = []
        kinds: dict[str, int] = {}
        for item in questions:
            started = time.perf_counter()
            answer = kb.ask(item["q"])
            latencies.append(time.perf_counter() - started)
            kinds[answer.kind.value] = kinds.get(answer.kind.value, 0) + 1
            keys = item["key"]
            texts = [c.text for c in answer.citations]
            at1 = contains_key(answer.text, keys) or (texts and contains_key(texts[0], keys))
            at3 = at1 or any(contains_key(t, keys) for t in texts[:3])
            hit1 += bool(at1)
            hit3 += bool(at3)
            if args.verbose and not at1:
                print(f"MISS {item['id']} {item['q']}\n  -> [{answer.kind.value} {answer.confidence}] {answer.text[:160]!r}")
                if answer.citations:
                    print(f"     cited {answer.citations[0].source} / {answer.citations[0].section}")
        n = len(questions)
        latencies.sort()
        p95 = latencies[min(n - 1, int(round(0.95 * (n - 1))))]
        print(f"questions            {n}")
        print(f"dense retrieval      {'on' if kb.dense_enabled else 'off (keyword only)'}")
        print(f"hit@1                {hit1 / n:.2f}")
        print(f"hit@3                {hit3 / n:.2f}")
        print(f"answer kinds         {', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))}")
        print(f"median s/question    {statistics.median(latencies):.4f}")
        print(f"p95 s/question       {p95:.4f}")
        print(f"index s (first)      {first_seconds:.2f}  ({len(first.added)} files, {first.passages} passages)")
        print(f"re-index s (same)    {reindex_seconds:.3f}  ({len(again.unchanged)} unchanged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
