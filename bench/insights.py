"""How well the insights group questions that mean the same thing, and how long grouping takes.

Positive pairs: each reworded question in ``../shared/eval/dev_variants.jsonl`` (typos, abbreviations,
colloquial, very short, long rambling) with the question it rewords. Negative pairs: two different questions
from the question sets. For each way of comparing (MiniLM cosine, the guidance's own embedding model; the
Jaccard overlap of stemmed search words, used when meaning search is off) it prints how many positives and
negatives each threshold puts together, the threshold with the best F1, and what the thresholds in
``workflows/insights.py`` give. Then the time to group 1,000 logged questions both ways.

    .venv/bin/python bench/insights.py [--model DIR]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.embeddings import load_embedding_function  # noqa: E402
from knowledge.tokens import term_set  # noqa: E402
from workflows.insights import SAME_MEANING_COSINE, SAME_WORDS_JACCARD, group_questions  # noqa: E402

EVAL = Path(__file__).resolve().parents[2] / "shared" / "eval"
MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / "all-MiniLM-L6-v2"


def load(name: str) -> list[dict[str, str]]:
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


def pairs() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    questions = {q["id"]: q["q"] for name in ("dev_questions.jsonl", "dev_corpus_questions.jsonl") for q in load(name)}
    positives = []
    for variant in load("dev_variants.jsonl"):
        base = variant["base"].removeprefix("seed:")
        if base in questions:
            positives.append((variant["q"], questions[base]))
    negatives = list(itertools.combinations(sorted(set(questions.values())), 2))
    return positives, negatives


def report(name: str, score: Callable[[str, str], float], used: float, positives, negatives) -> None:  # type: ignore[no-untyped-def]
    pos = np.array([score(a, b) for a, b in positives])
    neg = np.array([score(a, b) for a, b in negatives])
    best = (0.0, 0.0)
    print(f"\n{name}: {len(pos)} paraphrase pairs, {len(neg)} pairs of different questions")
    print("  threshold  paraphrases together  different questions together  F1")
    for threshold in np.arange(0.2, 0.85, 0.05):
        together, wrong = float((pos >= threshold).mean()), int((neg >= threshold).sum())
        precision = (pos >= threshold).sum() / max(1, (pos >= threshold).sum() + wrong)
        f1 = 2 * precision * together / max(1e-9, precision + together)
        best = max(best, (f1, float(threshold)))
        mark = "  <- workflows/insights.py" if abs(threshold - used) < 0.025 else ""
        print(f"  {threshold:9.2f}  {together:20.0%}  {wrong:28d}  {f1:.2f}{mark}")
    print(f"  best F1 {best[0]:.2f} at {best[1]:.2f}; in use: {used}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=MODEL)
    args = parser.parse_args(argv)
    positives, negatives = pairs()
    embed, _ = load_embedding_function(args.model)
    texts = sorted({t for pair in positives + negatives for t in pair})
    vectors = dict(zip(texts, np.asarray(embed(texts)), strict=True))

    def cosine(a: str, b: str) -> float:
        va, vb = vectors[a], vectors[b]
        return float(va @ vb / (np.linalg.norm(va) * np.linalg.norm(vb)))

    def jaccard(a: str, b: str) -> float:
        wa, wb = term_set(a), term_set(b)
        return len(wa & wb) / len(wa | wb) if wa | wb else 0.0

    report("meaning (MiniLM cosine)", cosine, SAME_MEANING_COSINE, positives, negatives)
    report("shared words (Jaccard of search words)", jaccard, SAME_WORDS_JACCARD, positives, negatives)

    logged = [texts[i % len(texts)] for i in range(1000)]
    for label, embedder in (("meaning", embed), ("words", None)):
        start = time.perf_counter()
        groups, _ = group_questions(logged, embedder)
        print(
            f"\ngrouping 1,000 logged questions by {label}: {time.perf_counter() - start:.2f} s, {len(groups)} groups"
        )


if __name__ == "__main__":
    main()
