"""Fit the passage ranker, the answer judge and its thresholds on the development question sets.

Writes ``knowledge/fitted.py``. Nothing is tuned by hand: the ranker's weights
minimise a listwise loss (the passages that hold a question's key phrase
against all its candidates), the judge is a logistic regression of "the
quoted passage answers the question" on what the best passage looks like, and
the two thresholds are read off the judge's scores on the fitting sets.

Fitting sets: dev_questions (starter corpus), dev_corpus_questions and
dev_unanswerable (asked of both corpora). dev_variants is never fitted on:
it is the check. The script also reports leave-one-corpus-out figures (fit on
the starter corpus, test on the dev corpus, and the reverse).

    .venv/bin/python bench/fit_ranking.py [--write] [-v]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from qa import CORPORA, SHARED, Question, contains_key, load_sets, make_kb  # noqa: E402

from knowledge.answer import answer_passages, extract  # noqa: E402
from knowledge.ranking import FEATURES, JUDGE_FEATURES, TOPIC_FEATURES, judge_values  # noqa: E402
from knowledge.retrieve import Hit  # noqa: E402

L2_RANKER = 0.002
L2_JUDGE = 0.2
REFUSED_AT_MOST = 0.01  # share of answerable questions that may be called "not covered"
CONFIDENT_UNANSWERABLE_AT_MOST = 0.08
VERBOSE = "-v" in sys.argv  # share of unanswerable questions that may be answered confidently


@dataclass
class Item:
    question: Question
    set_name: str
    rows: np.ndarray  # candidates × FEATURES
    labels: np.ndarray  # candidate holds a key phrase
    hits: list  # (chunk, dense) per candidate
    analysis: object
    similarity: object


def collect(dense: bool, sets: dict[str, list[Question]], tmp: Path) -> list[Item]:
    items: list[Item] = []
    for corpus in sorted({q.corpus for qs in sets.values() for q in qs}):
        kb = make_kb(tmp / f"{corpus}-{dense}", SHARED / "models" / "all-MiniLM-L6-v2" if dense else tmp / "none")
        kb.index([CORPORA[corpus]])
        kb.ensure_ready()
        retriever = kb._snapshot.retriever  # noqa: SLF001 - a development tool looking inside
        for name, questions in sets.items():
            for question in questions:
                if question.corpus != corpus:
                    continue
                analysis, candidates = retriever.candidates(question.q)
                if candidates is None:
                    continue
                chunks = [retriever.chunks[i] for i in candidates.order]
                labels = np.array(
                    [question.answerable and contains_key(c.text, question.keys) for c in chunks], dtype=float
                )
                hits = [
                    (c, candidates.dense.get(i) if dense else None)
                    for c, i in zip(chunks, candidates.order, strict=True)
                ]
                items.append(Item(question, name, candidates.rows, labels, hits, analysis, retriever.similarity))
    return items


def fit_ranker(items: list[Item], dims: list[int], steps: int = 3000) -> np.ndarray:
    """Listwise softmax loss with an L2 penalty, by Adam."""
    usable = [it for it in items if it.labels.any()]
    w = np.zeros(len(FEATURES))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    mask = np.zeros(len(FEATURES))
    mask[dims] = 1.0
    for step in range(1, steps + 1):
        grad = L2_RANKER * w * mask
        for it in usable:
            z = it.rows @ w
            p = np.exp(z - z.max())
            p /= p.sum()
            positive = p * it.labels
            grad += it.rows.T @ (p - positive / positive.sum()) / len(usable)
        grad *= mask
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def order_of(rows: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Candidates best first, as the retriever orders them (an exact definition of the term asked about first)."""
    scores = rows @ w
    exact = rows[:, FEATURES.index("defines")] >= 1.0
    return np.lexsort((-scores, ~exact))


def ranked_hits(item: Item, w: np.ndarray) -> list[Hit]:
    scores = item.rows @ w
    order = order_of(item.rows, w)
    return [
        Hit(
            chunk=item.hits[n][0],
            score=float(scores[n]),
            dense=item.hits[n][1],
            features=dict(zip(FEATURES, map(float, item.rows[n]), strict=False)),
        )
        for n in order[:10]
    ]


def judge_rows(items: list[Item], w: np.ndarray, dense: bool) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for it in items:
        quotable = answer_passages(ranked_hits(it, w))
        if not quotable:
            rows.append([0.0] * len(JUDGE_FEATURES))
            labels.append(0.0)
            continue
        best = quotable[0]
        quoted = extract(it.analysis, best.chunk)
        core = extract(it.analysis, best.chunk, whole_clauses=False)  # what the service's judge weighs
        answer_dense = it.similarity(it.analysis, core) if dense else 0.0
        values = judge_values([h.score for h in quotable], best.features, answer_dense, it.analysis.unknown_share)
        rows.append([values[name] for name in JUDGE_FEATURES])
        right = it.question.answerable and (
            contains_key(best.chunk.text, it.question.keys) or contains_key(quoted, it.question.keys)
        )
        labels.append(float(right))
    return np.array(rows), np.array(labels)


def fit_judge(x: np.ndarray, y: np.ndarray, dims: list[int], steps: int = 4000) -> tuple[np.ndarray, float]:
    mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
    z = (x - mean) / scale
    w = np.zeros(x.shape[1])
    b = 0.0
    mask = np.zeros(x.shape[1])
    mask[dims] = 1.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ w + b)))
        gw = (z.T @ (p - y) / len(y) + L2_JUDGE * w / len(y)) * mask
        gb = float((p - y).mean())
        w -= 0.5 * gw
        b -= 0.5 * gb
    # Back to the raw features' scale.
    raw = w / scale
    return raw, b - float((w * mean / scale).sum())


def probabilities(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return 1 / (1 + np.exp(-(x @ w + b)))


def thresholds(p: np.ndarray, answerable: np.ndarray) -> tuple[float, float]:
    """Refuse at most a few answerable questions; answer at most a few unanswerable ones confidently.

    ``p`` should be out-of-fold probabilities (each judged by a judge not fitted on its corpus), so
    the thresholds hold on guidance the judge has not seen.
    """
    pa = np.sort(p[answerable])
    pu = np.sort(p[~answerable])
    unsure_at = float(pa[int(np.floor(REFUSED_AT_MOST * len(pa)))]) if len(pa) else 0.05
    answered_at = (
        float(pu[min(len(pu) - 1, int(np.ceil((1 - CONFIDENT_UNANSWERABLE_AT_MOST) * len(pu))))]) if len(pu) else 0.5
    )
    answered_at = max(answered_at + 1e-3, unsure_at + 0.05)
    return round(answered_at, 3), round(max(0.005, min(unsure_at - 1e-3, answered_at - 0.05)), 3)


def hit_at_1(items: list[Item], w: np.ndarray) -> float:
    answerable = [it for it in items if it.question.answerable]
    good = 0
    for it in answerable:
        quotable = answer_passages(ranked_hits(it, w))
        good += bool(quotable and contains_key(quotable[0].chunk.text, it.question.keys))
    return good / max(1, len(answerable))


def report(
    label: str,
    items: list[Item],
    w: np.ndarray,
    jw: np.ndarray,
    jb: float,
    answered_at: float,
    unsure_at: float,
    dense: bool,
) -> None:
    x, y = judge_rows(items, w, dense)
    p = probabilities(x, jw, jb)
    answerable = np.array([it.question.answerable for it in items])
    refused = float(((p < unsure_at) & answerable).sum()) / max(1, answerable.sum())
    confident_wrong = float(((p >= answered_at) & ~answerable).sum()) / max(1, (~answerable).sum())
    brier = float(((p - y) ** 2).mean())
    print(
        f"  {label:42} hit@1 {hit_at_1(items, w):.2f}  refused {refused:.2f}  "
        f"unanswerable answered {confident_wrong:.2f}  brier {brier:.3f}  (n={len(items)})"
    )


def fit_all(items: list[Item], dense: bool) -> tuple[np.ndarray, np.ndarray, float, float, float]:
    """Ranker and judge on all of ``items``; thresholds from out-of-fold judgements (one corpus held out at a time)."""
    dims = [n for n, name in enumerate(FEATURES) if dense or not name.startswith("dense")]
    jdims = [n for n, name in enumerate(JUDGE_FEATURES) if dense or name not in ("dense", "answer_dense")]
    w = fit_ranker(items, dims)
    x, y = judge_rows(items, w, dense)
    jw, jb = fit_judge(x, y, jdims)
    corpora = sorted({it.question.corpus for it in items})
    out_of_fold = np.zeros(len(items))
    if len(corpora) > 1:
        for held in corpora:
            inside = [n for n, it in enumerate(items) if it.question.corpus != held]
            outside = [n for n, it in enumerate(items) if it.question.corpus == held]
            fold_w = fit_ranker([items[n] for n in inside], dims)
            fx, fy = judge_rows([items[n] for n in inside], fold_w, dense)
            fjw, fjb = fit_judge(fx, fy, jdims)
            ox, _ = judge_rows([items[n] for n in outside], fold_w, dense)
            out_of_fold[outside] = probabilities(ox, fjw, fjb)
    else:
        out_of_fold = probabilities(x, jw, jb)
    answerable = np.array([it.question.answerable for it in items])
    inside = probabilities(x, jw, jb)
    # In-sample judgements flatter the judge and out-of-fold ones (each fold fitted on one corpus
    # only) wrong it: the thresholds are the mean of the two.
    thresholds_in, thresholds_out = thresholds(inside, answerable), thresholds(out_of_fold, answerable)
    answered_at = round((thresholds_in[0] + thresholds_out[0]) / 2, 3)
    unsure_at = round(min((thresholds_in[1] + thresholds_out[1]) / 2, answered_at - 0.05), 3)
    if VERBOSE:
        for label, p in (("in sample", inside), ("out of fold", out_of_fold)):
            print(f"    {label:12} unanswerable: " + " ".join(f"{v:.2f}" for v in sorted(p[~answerable])[-8:]))
            print(f"    {label:12} answerable:   " + " ".join(f"{v:.2f}" for v in sorted(p[answerable])[:8]))
    return w, jw, jb, answered_at, unsure_at


def fit_topic(items: list[Item], dense: bool) -> tuple[np.ndarray, float, float]:
    """Questions about the guidance (answerable) against questions about something else (off-topic).

    Near misses are left out: they are about the guidance, only not answered by it. The threshold
    keeps every answerable fitting question on topic.
    """
    chosen = [it for it in items if it.question.answerable or it.question.kind == "offtopic"]
    x = np.array([[it.analysis.topic.get(name, 0.0) for name in TOPIC_FEATURES] for it in chosen])
    y = np.array([float(it.question.answerable) for it in chosen])
    dims = [n for n, name in enumerate(TOPIC_FEATURES) if dense or name != "dense"]
    w, b = fit_judge(x, y, dims)
    p = probabilities(x, w, b)
    # Halfway (in log-odds) between nearly all off-topic questions and nearly all answerable ones.
    low = float(np.quantile(p[y == 0], 0.95))
    high = float(np.sort(p[y == 1])[int(np.floor(REFUSED_AT_MOST * (y == 1).sum()))])

    def logit(v: float) -> float:
        v = min(max(v, 1e-6), 1 - 1e-6)
        return float(np.log(v / (1 - v)))

    on_topic_at = float(1 / (1 + np.exp(-(logit(low) + logit(high)) / 2)))
    caught = float((p[y == 0] < on_topic_at).mean())
    print(
        "  topic:  " + ", ".join(f"{n} {v:+.2f}" for n, v in zip(TOPIC_FEATURES, w, strict=True)) + f", bias {b:+.2f}; "
        f"off topic below {on_topic_at:.3f}: {caught:.0%} of off-topic questions"
    )
    return w, b, round(on_topic_at, 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="write knowledge/fitted.py")
    parser.add_argument(
        "-v", "--verbose", action="store_true", help="print the judge's probabilities near the thresholds"
    )
    args = parser.parse_args()
    sets = load_sets(None)
    check = {"dev_variants": sets.pop("dev_variants")}
    written: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for dense in (True, False):
            mode = "keyword and meaning" if dense else "keyword only"
            print(f"\n== {mode}")
            items = collect(dense, sets, Path(tmp))
            checks = collect(dense, check, Path(tmp))
            w, jw, jb, answered_at, unsure_at = fit_all(items, dense)
            print("  ranker: " + ", ".join(f"{n} {v:+.2f}" for n, v in zip(FEATURES, w, strict=False)))
            judge = ", ".join(f"{n} {v:+.2f}" for n, v in zip(JUDGE_FEATURES, jw, strict=True))
            print(f"  judge:  {judge}, bias {jb:+.2f}")
            print(f"  thresholds: answered at {answered_at}, unsure at {unsure_at}")
            report("fitted sets (in sample)", items, w, jw, jb, answered_at, unsure_at, dense)
            report("dev_variants (never fitted on)", checks, w, jw, jb, answered_at, unsure_at, dense)
            for held in CORPORA:
                train = [it for it in items if it.question.corpus != held]
                test = [it for it in items if it.question.corpus == held]
                tw, tjw, tjb, ta, tu = fit_all(train, dense)
                report(f"fit without {held}, test on {held}", test, tw, tjw, tjb, ta, tu, dense)
                report(
                    "  … and on its variants",
                    [c for c in checks if c.question.corpus == held],
                    tw,
                    tjw,
                    tjb,
                    ta,
                    tu,
                    dense,
                )
            tw_, tb_, topic_at = fit_topic(items, dense)
            key = "DENSE" if dense else "KEYWORD"
            written[f"TOPIC_{key}"] = {
                "bias": round(float(tb_), 4),
                **{n: round(float(v), 4) for n, v in zip(TOPIC_FEATURES, tw_, strict=False)},
            }
            written["ON_TOPIC_AT" if dense else "ON_TOPIC_AT_KEYWORD"] = topic_at
            written[f"RANKER_{key}"] = {n: round(float(v), 4) for n, v in zip(FEATURES, w, strict=False)}
            written[f"JUDGE_{key}"] = {
                "bias": round(float(jb), 4),
                **{n: round(float(v), 4) for n, v in zip(JUDGE_FEATURES, jw, strict=False)},
            }
            written["ANSWERED_AT" if dense else "ANSWERED_AT_KEYWORD"] = answered_at
    if args.write:
        lines = [
            '"""Weights for :mod:`knowledge.ranking`, written by ``bench/fit_ranking.py``. Do not edit by hand."""',
            "",
        ]
        for name, value in written.items():
            lines.append(f"{name} = {value!r}")
        (REPO / "knowledge" / "fitted.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print("\nwrote knowledge/fitted.py")
    return 0


if __name__ == "__main__":
    sys.exit(main())
