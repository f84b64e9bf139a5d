"""Answer quality, calibration and speed on every question set in ../shared/eval.

Each corpus is indexed into its own fresh data folder, every question of every
set is asked, and one table is printed with, per set:

- hit@1 / hit@3: the answer or the first (any of the first three) citations
  contains one of the question's key phrases;
- answered / unsure / not covered counts;
- for questions the guidance answers, how many were wrongly refused;
- for questions it does not answer, how many were rightly not answered
  confidently ("abstention right");
- calibration of the confidence score: Brier score against "this answer is
  right" (a confident answer to an unanswerable question is wrong), and a
  reliability table per set with ``-v``;
- median and p95 seconds per question;

beside a naive baseline measured in the same run: the documents split into
paragraphs at blank lines and ranked with plain BM25 (bm25s), first paragraph
taken as the answer.

    .venv/bin/python bench/qa.py [--sets a,b] [--lexical-only] [-v] [--scale N]

``--scale N`` also times questions against N distinct copies of the dev corpus
(about 250 passages each), the figure behind the speed target at 100×.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import bm25s  # noqa: E402
import docx  # noqa: E402
import Stemmer  # noqa: E402
from bs4 import BeautifulSoup  # noqa: E402
from pypdf import PdfReader  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bot.config import Settings  # noqa: E402
from knowledge.models import Answer, AnswerKind  # noqa: E402
from knowledge.service import KnowledgeBase  # noqa: E402

SHARED = REPO.parent / "shared"
EVAL = SHARED / "eval"
CORPORA = {"starter": SHARED / "corpus", "dev_corpus": EVAL / "dev_corpus"}


def normalise(text: str) -> str:
    text = text.lower().replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return " ".join(text.split())


def contains_key(text: str, keys: list[str]) -> bool:
    lowered = normalise(text)
    return any(normalise(k) in lowered for k in keys)


@dataclass
class Question:
    id: str
    q: str
    keys: list[str]
    corpus: str
    kind: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.keys)


@dataclass
class Result:
    question: Question
    at1: bool
    at3: bool
    kind: str
    confidence: float
    seconds: float
    baseline_at1: bool = False
    baseline_at3: bool = False
    answer: str = ""
    cited: str = ""

    @property
    def right(self) -> bool:
        """Whether a confident reader of this answer would be right to trust it."""
        return self.at1 if self.question.answerable else False


@dataclass
class SetReport:
    name: str
    results: list[Result] = field(default_factory=list)


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_sets(names: set[str] | None) -> dict[str, list[Question]]:
    sets: dict[str, list[Question]] = {}
    if not names or "dev_questions" in names:
        sets["dev_questions"] = [
            Question(d["id"], d["q"], d["key"], "starter") for d in _read_jsonl(EVAL / "dev_questions.jsonl")
        ]
    if not names or "dev_corpus_questions" in names:
        sets["dev_corpus_questions"] = [
            Question(d["id"], d["q"], d["key"], "dev_corpus") for d in _read_jsonl(EVAL / "dev_corpus_questions.jsonl")
        ]
    if not names or "dev_variants" in names:
        sets["dev_variants"] = [
            Question(d["id"], d["q"], d["key"], "dev_corpus" if d["base"].startswith("d3") else "starter", d["type"])
            for d in _read_jsonl(EVAL / "dev_variants.jsonl")
        ]
    if not names or "dev_unanswerable" in names:
        # "either": neither corpus answers them, so each is asked of both.
        rows = _read_jsonl(EVAL / "dev_unanswerable.jsonl")
        for corpus in CORPORA:
            sets[f"dev_unanswerable@{corpus}"] = [Question(d["id"], d["q"], [], corpus, d["type"]) for d in rows]
    return sets


# ----------------------------------------------------------------- baseline
def _plain_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        return "\n\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    if suffix == ".docx":
        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            parts.extend(" | ".join(c.text for c in row.cells) for row in table.rows)
        return "\n\n".join(parts)
    text = path.read_text(encoding="utf-8", errors="replace")
    if suffix in {".html", ".htm"}:
        return BeautifulSoup(text, "html.parser").get_text("\n")
    return text


class NaiveBaseline:
    """Paragraphs split at blank lines, ranked by plain BM25."""

    def __init__(self, corpus: Path) -> None:
        self.paragraphs = [
            " ".join(p.split())
            for path in sorted(corpus.rglob("*"))
            if path.is_file()
            and path.suffix.lower() in {".txt", ".md", ".html", ".pdf", ".docx"}
            and path.name != "SOURCES.md"
            for p in re.split(r"\n\s*\n", _plain_text(path))
            if p.strip()
        ]
        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self.model = bm25s.BM25()
        tokens = bm25s.tokenize(self.paragraphs, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self.model.index(tokens, show_progress=False)

    def top(self, question: str, k: int = 3) -> list[str]:
        tokens = self._bm25s.tokenize([question], stopwords="en", stemmer=self._stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        results, scores = self.model.retrieve(tokens, k=min(k, len(self.paragraphs)), show_progress=False)
        return [self.paragraphs[int(i)] for i, s in zip(results[0], scores[0], strict=False) if s > 0]


# ----------------------------------------------------------------- the product
def make_kb(data_dir: Path, model_dir: Path | None) -> KnowledgeBase:
    settings = Settings(
        data_dir=data_dir,
        embedding_model_dir=model_dir,
        log_level="ERROR",
        _env_file=None,  # type: ignore[call-arg]
    )
    return KnowledgeBase(settings.for_knowledge())


def judge(question: Question, answer: Answer) -> tuple[bool, bool]:
    if not question.answerable:
        return False, False
    texts = [c.text for c in answer.citations]
    at1 = answer.kind is not AnswerKind.NOT_FOUND and (
        contains_key(answer.text, question.keys) or bool(texts and contains_key(texts[0], question.keys))
    )
    at3 = at1 or any(contains_key(t, question.keys) for t in texts[:3])
    return at1, at3


def run_set(kb: KnowledgeBase, baseline: NaiveBaseline, questions: Iterable[Question]) -> list[Result]:
    results = []
    for question in questions:
        started = time.perf_counter()
        answer = kb.ask(question.q)
        seconds = time.perf_counter() - started
        at1, at3 = judge(question, answer)
        top = baseline.top(question.q)
        results.append(
            Result(
                question,
                at1,
                at3,
                answer.kind.value,
                answer.confidence,
                seconds,
                baseline_at1=bool(top and question.answerable and contains_key(top[0], question.keys)),
                baseline_at3=bool(question.answerable and any(contains_key(t, question.keys) for t in top)),
                answer=answer.text,
                cited=(f"{answer.citations[0].source} / {answer.citations[0].section}" if answer.citations else ""),
            )
        )
    return results


# ----------------------------------------------------------------- figures
def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else 0.0


def brier(results: list[Result]) -> float:
    return statistics.fmean((r.confidence - float(r.right)) ** 2 for r in results) if results else 0.0


BINS = [(0.0, 0.2), (0.2, 0.4), (0.4, 0.6), (0.6, 0.8), (0.8, 1.01)]


def reliability(results: list[Result]) -> list[tuple[str, int, float, float]]:
    rows = []
    for low, high in BINS:
        inside = [r for r in results if low <= r.confidence < high]
        if inside:
            rows.append(
                (
                    f"{low:.1f}-{min(high, 1.0):.1f}",
                    len(inside),
                    statistics.fmean(r.confidence for r in inside),
                    statistics.fmean(float(r.right) for r in inside),
                )
            )
    return rows


def summarise(name: str, results: list[Result]) -> dict[str, object]:
    n = len(results)
    answerable = [r for r in results if r.question.answerable]
    unanswerable = [r for r in results if not r.question.answerable]
    kinds = {k: sum(r.kind == k for r in results) for k in ("answered", "unsure", "not_found")}
    row: dict[str, object] = {"set": name, "n": n, **kinds}
    if answerable:
        row["hit@1"] = sum(r.at1 for r in answerable) / len(answerable)
        row["hit@3"] = sum(r.at3 for r in answerable) / len(answerable)
        row["refused"] = sum(r.kind == "not_found" for r in answerable)
        row["base@1"] = sum(r.baseline_at1 for r in answerable) / len(answerable)
        row["base@3"] = sum(r.baseline_at3 for r in answerable) / len(answerable)
    if unanswerable:
        row["abstained"] = sum(r.kind != "answered" for r in unanswerable)
    row["brier"] = brier(results)
    seconds = [r.seconds for r in results]
    row["p50"] = statistics.median(seconds) if seconds else 0.0
    row["p95"] = percentile(seconds, 0.95)
    return row


def print_table(rows: list[dict[str, object]]) -> None:
    header = [
        "set",
        "n",
        "hit@1",
        "hit@3",
        "base@1",
        "base@3",
        "answered",
        "unsure",
        "not_found",
        "refused",
        "abstained",
        "brier",
        "p50",
        "p95",
    ]

    def cell(row: dict[str, object], key: str) -> str:
        value = row.get(key, "")
        if value == "":
            return "—"
        if key in {"hit@1", "hit@3", "base@1", "base@3", "brier"}:
            return f"{value:.2f}"
        if key in {"p50", "p95"}:
            return f"{value * 1000:.0f} ms"
        if key == "abstained":
            return f"{value}/{row['n']}"
        return str(value)

    widths = [max(len(h), *(len(cell(r, h)) for r in rows)) for h in header]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=False)))
    for row in rows:
        print("  ".join(cell(row, h).ljust(w) for h, w in zip(header, widths, strict=False)))


# ----------------------------------------------------------------- scale
def distinct_copies(source: Path, target: Path, copies: int) -> None:
    """N copies of a corpus, each made distinct by renaming its files and the numbers in its text."""
    files = [p for p in sorted(source.rglob("*")) if p.is_file() and p.suffix.lower() in {".md", ".html", ".txt"}]
    for n in range(copies):
        folder = target / f"copy{n:03d}"
        folder.mkdir(parents=True)
        for path in files:
            text = path.read_text(encoding="utf-8", errors="replace")
            # Shift every number: the copies no longer share their dates, sections and amounts.
            text = re.sub(r"\d+", lambda m, shift=n * 7: str(int(m.group()) + shift), text)
            (folder / f"{path.stem}-{n:03d}{path.suffix}").write_text(text, encoding="utf-8")
        for path in sorted(source.rglob("*")):
            if path.is_file() and path.suffix.lower() in {".pdf", ".docx"}:
                shutil.copy(path, folder / f"{path.stem}-{n:03d}{path.suffix}")


def time_at_scale(copies: int, model_dir: Path | None, questions: list[Question]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        distinct_copies(CORPORA["dev_corpus"], corpus, copies)
        kb = make_kb(Path(tmp) / "data", model_dir)
        started = time.perf_counter()
        report = kb.index([corpus])
        print(
            f"\n{copies}× dev corpus: indexed {kb.stats()['passages']} passages"
            f" in {time.perf_counter() - started:.1f} s"
            f" ({len(report.skipped)} skipped)"
        )
        for q in questions[:3]:
            kb.ask(q.q)
        seconds = []
        for q in questions:
            started = time.perf_counter()
            kb.ask(q.q)
            seconds.append(time.perf_counter() - started)
        print(
            f"  per question: p50 {statistics.median(seconds) * 1000:.0f} ms,"
            f" p95 {percentile(seconds, 0.95) * 1000:.0f} ms"
            f" over {len(seconds)} questions"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", help="comma-separated set names (default: all)")
    parser.add_argument("--model-dir", type=Path, default=SHARED / "models" / "all-MiniLM-L6-v2")
    parser.add_argument("--lexical-only", action="store_true", help="run without the embedding model")
    parser.add_argument("-v", "--verbose", action="store_true", help="print each miss and the reliability tables")
    parser.add_argument(
        "--scale", type=int, default=0, help="also time questions at this many copies of the dev corpus"
    )
    parser.add_argument("--dump", type=Path, help="write every result as JSON lines to this file")
    args = parser.parse_args()

    model_dir = None if args.lexical_only else args.model_dir
    sets = load_sets(set(args.sets.split(",")) if args.sets else None)
    needed = {q.corpus for qs in sets.values() for q in qs}
    rows = []
    reports: dict[str, list[Result]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        kbs: dict[str, KnowledgeBase] = {}
        baselines: dict[str, NaiveBaseline] = {}
        for corpus in sorted(needed):
            kb = make_kb(Path(tmp) / corpus, model_dir if model_dir else Path(tmp) / "no-model")
            started = time.perf_counter()
            report = kb.index([CORPORA[corpus]])
            first = time.perf_counter() - started
            started = time.perf_counter()
            kb.index([CORPORA[corpus]])
            again = time.perf_counter() - started
            print(
                f"{corpus}: {len(report.added)} files, {kb.stats()['passages']} passages, "
                f"indexed in {first:.2f} s, unchanged re-index {again:.3f} s, "
                f"meaning search {'on' if kb.dense_enabled else 'off'}"
            )
            for skipped in report.skipped:
                print(f"  skipped {skipped.display}: {skipped.reason}")
            kb.ask("warm up")
            kbs[corpus] = kb
            baselines[corpus] = NaiveBaseline(CORPORA[corpus])
        print()
        for name, questions in sets.items():
            results: list[Result] = []
            for corpus in sorted({q.corpus for q in questions}):
                results.extend(run_set(kbs[corpus], baselines[corpus], [q for q in questions if q.corpus == corpus]))
            reports[name] = results
            rows.append(summarise(name, results))
        everything = [r for results in reports.values() for r in results]
        rows.append(summarise("all", everything))
        print_table(rows)
        print("\nCalibration: answers grouped by confidence; a calibrated score has 'right' close to 'mean'.")
        print(f"  {'set':28} " + "  ".join(f"{low:.1f}-{min(high, 1.0):.1f}".center(17) for low, high in BINS))
        print(f"  {'':28} " + "  ".join("n  mean  right".center(17) for _ in BINS))
        for name, results in [*reports.items(), ("all", [r for rs in reports.values() for r in rs])]:
            cells = {label: (count, mean, right) for label, count, mean, right in reliability(results)}
            line = []
            for low, high in BINS:
                found = cells.get(f"{low:.1f}-{min(high, 1.0):.1f}")
                line.append(f"{found[0]:3d} {found[1]:5.2f} {found[2]:5.2f}".center(17) if found else "—".center(17))
            print(f"  {name:28} " + "  ".join(line))
        if args.verbose:
            for results in reports.values():
                for r in results:
                    wrong = (r.question.answerable and not r.at1) or (
                        not r.question.answerable and r.kind == "answered"
                    )
                    if wrong:
                        print(f"  MISS {r.question.id} [{r.question.kind}] {r.question.q}")
                        print(f"     -> [{r.kind} {r.confidence:.2f}] {r.answer[:150]!r}")
                        if r.cited:
                            print(f"        cited {r.cited}")
        if args.dump:
            with args.dump.open("w", encoding="utf-8") as handle:
                for name, results in reports.items():
                    for r in results:
                        handle.write(
                            json.dumps(
                                {
                                    "set": name,
                                    "id": r.question.id,
                                    "at1": r.at1,
                                    "kind": r.kind,
                                    "confidence": r.confidence,
                                    "answerable": r.question.answerable,
                                }
                            )
                            + "\n"
                        )
    if args.scale:
        time_at_scale(args.scale, model_dir, sets.get("dev_corpus_questions") or next(iter(sets.values())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
