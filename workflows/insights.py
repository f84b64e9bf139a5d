"""Guidance insights: where the guidance falls short, read from the answer log.

For the people who own the guidance (``GUIDANCE_OWNERS``):

- questions it did not cover, or answered unsure, grouped by similar meaning with a count per group;
- answers officers rated not helpful, with their comments;
- the documents and sections cited most, and those never cited;
- how many questions were asked each week.

Grouping uses the knowledge base's own embedding model when meaning search is on (cosine similarity of
the questions' vectors) and falls back to the overlap of the questions' search words when it is off.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import IO, Any

import numpy as np

from knowledge.tokens import term_set
from storage.answer_log import AnswerRecord
from workflows.csv_safety import safe_csv_writer

__all__ = [
    "CitedCount",
    "GuidanceInsights",
    "QuestionGroup",
    "UnhelpfulAnswer",
    "build_insights",
    "group_questions",
    "insights_text",
    "write_insights_csv",
]

# Two questions are "the same gap" at or above these similarities: MiniLM cosine of the questions, or (meaning
# search off) the Jaccard overlap of their stemmed search words. Each is the best-F1 threshold on the eval sets'
# rewordings (29 reworded questions against the one each rewords, 1,653 pairs of different questions); at them
# 66% / 55% of rewordings are grouped and 15 / 3 pairs of different questions are. bench/insights.py prints it.
SAME_MEANING_COSINE = 0.65
SAME_WORDS_JACCARD = 0.35
GAP_KINDS = ("not_covered", "unsure")
TOP = 10

Embedder = Callable[[list[str]], Any]


@dataclass(frozen=True)
class QuestionGroup:
    example: str  # the question asked most often in the group (the first asked, on a tie)
    count: int
    questions: list[str]
    kinds: dict[str, int]


@dataclass(frozen=True)
class UnhelpfulAnswer:
    question: str
    kind: str
    comment: str | None
    asked_at: str
    sources: list[str]


@dataclass(frozen=True)
class CitedCount:
    source: str
    section: str
    count: int


@dataclass(frozen=True)
class GuidanceInsights:
    since: str | None
    answers: int
    by_kind: dict[str, int]
    helpful: int
    not_helpful: int
    gaps: list[QuestionGroup]
    unhelpful: list[UnhelpfulAnswer]
    documents_most_cited: list[CitedCount]
    sections_most_cited: list[CitedCount]
    documents_never_cited: list[str]
    sections_never_cited: list[CitedCount]
    per_week: dict[str, int]
    grouped_by: str = "meaning"
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# --- grouping ---------------------------------------------------------------------------------


def group_questions(questions: Sequence[str], embed: Embedder | None) -> tuple[list[list[int]], str]:
    """Indexes of ``questions`` in groups of similar meaning (each group in asking order), and how they were
    compared. Greedy: each question joins the group whose first question it is most like, if like enough. The same
    question asked again is compared (and embedded) once."""
    keys = [" ".join(q.casefold().split()) for q in questions]
    distinct = list(dict.fromkeys(keys))
    grouped, how = _group_distinct(distinct, embed)
    group_of = {key: number for number, members in enumerate(grouped) for key in (distinct[i] for i in members)}
    groups: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(group_of[key], []).append(index)
    return list(groups.values()), how


def _group_distinct(questions: list[str], embed: Embedder | None) -> tuple[list[list[int]], str]:
    if not questions:
        return [], "meaning" if embed is not None else "words"
    if embed is not None:
        try:
            vectors = np.asarray(embed(list(questions)), dtype=np.float32)
        except Exception:  # noqa: BLE001 - an embedding failure falls back to words rather than losing the report
            vectors = None
        if vectors is not None:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            return _greedy_vectors(vectors / np.where(norms == 0, 1.0, norms)), "meaning"
    words = [term_set(q) for q in questions]

    def overlap(i: int, j: int) -> float:
        union = words[i] | words[j]
        return len(words[i] & words[j]) / len(union) if union else 0.0

    return _greedy(len(questions), overlap, SAME_WORDS_JACCARD), "words"


def _greedy_vectors(unit: np.ndarray) -> list[list[int]]:
    """The greedy grouping with cosine similarity, each question against every group's first at once."""
    groups: list[list[int]] = []
    leaders = np.empty((0, unit.shape[1]), dtype=unit.dtype)
    for index in range(len(unit)):
        if len(groups):
            scores = leaders @ unit[index]
            best = int(np.argmax(scores))
            if scores[best] >= SAME_MEANING_COSINE:
                groups[best].append(index)
                continue
        groups.append([index])
        leaders = np.vstack([leaders, unit[index]])
    return groups


def _greedy(count: int, similarity: Callable[[int, int], float], threshold: float) -> list[list[int]]:
    groups: list[list[int]] = []
    for index in range(count):
        best, best_score = None, threshold
        for group in groups:
            score = similarity(index, group[0])
            if score >= best_score:
                best, best_score = group, score
        if best is None:
            groups.append([index])
        else:
            best.append(index)
    return groups


# --- the report ----------------------------------------------------------------------------------


def _week(day: datetime) -> str:
    monday = day.date() - timedelta(days=day.weekday())
    return monday.isoformat()


def build_insights(
    entries: Sequence[AnswerRecord],
    catalogue: Iterable[tuple[str, str]] = (),
    *,
    embed: Embedder | None = None,
    since: date | None = None,
) -> GuidanceInsights:
    """The insights for ``entries`` (the answer log since ``since``); ``catalogue`` is every (document, section)
    in the guidance now, for what is never cited."""
    gaps = [e for e in entries if e.kind in GAP_KINDS]
    groups, grouped_by = group_questions([e.question for e in gaps], embed)
    gap_groups = []
    for members in groups:
        asked = [gaps[i].question for i in members]
        most = Counter(q.casefold() for q in asked).most_common(1)[0][0]
        example = next(q for q in asked if q.casefold() == most)
        gap_groups.append(
            QuestionGroup(example, len(members), asked, dict(Counter(gaps[i].kind for i in members).most_common()))
        )
    gap_groups.sort(key=lambda g: -g.count)  # stable: equal counts stay in the order first asked

    documents: Counter[str] = Counter()
    sections: Counter[tuple[str, str]] = Counter()
    for entry in entries:
        # A document counts once per answer, however many of its passages the answer quoted.
        documents.update({c.source for c in entry.citations})
        sections.update({(c.source, c.section) for c in entry.citations})
    known = list(dict.fromkeys(catalogue))
    known_documents = list(dict.fromkeys(source for source, _ in known))

    unhelpful = [
        UnhelpfulAnswer(
            e.question,
            e.kind,
            e.comment,
            e.asked_at.isoformat(timespec="minutes"),
            list(dict.fromkeys(c.source for c in e.citations)),
        )
        for e in entries
        if e.rating == "not_helpful"
    ]
    return GuidanceInsights(
        since=since.isoformat() if since else None,
        answers=len(entries),
        by_kind=dict(Counter(e.kind for e in entries).most_common()),
        helpful=sum(e.rating == "helpful" for e in entries),
        not_helpful=len(unhelpful),
        gaps=gap_groups,
        unhelpful=list(reversed(unhelpful)),  # newest first
        documents_most_cited=[CitedCount(s, "", n) for s, n in documents.most_common(TOP)],
        sections_most_cited=[CitedCount(s, sec, n) for (s, sec), n in sections.most_common(TOP)],
        documents_never_cited=[d for d in known_documents if d not in documents],
        sections_never_cited=[CitedCount(s, sec, 0) for s, sec in known if (s, sec) not in sections and sec],
        per_week=dict(sorted(Counter(_week(e.asked_at) for e in entries).items())),
        grouped_by=grouped_by,
    )


# --- as text and CSV ---------------------------------------------------------------------------


def insights_text(insights: GuidanceInsights, limit: int = TOP) -> str:
    """The report as plain text (the terminal, and the body of the chat cards)."""
    period = f"since {insights.since}" if insights.since else "in the answer log"
    covered = insights.by_kind.get("answered", 0)
    lines = [
        f"Guidance insights {period}: {insights.answers} question{'s' if insights.answers != 1 else ''}, "
        f"{covered} answered, {insights.by_kind.get('unsure', 0)} unsure, "
        f"{insights.by_kind.get('not_covered', 0)} not covered; rated helpful {insights.helpful}, "
        f"not helpful {insights.not_helpful}.",
    ]
    if insights.gaps:
        lines.append("")
        lines.append("Questions the guidance did not answer well (similar questions grouped):")
        for group in insights.gaps[:limit]:
            kinds = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in group.kinds.items())
            lines.append(f"  {group.count}× “{group.example}” ({kinds})")
    if insights.unhelpful:
        lines.append("")
        lines.append("Answers rated not helpful:")
        for item in insights.unhelpful[:limit]:
            comment = f" — “{item.comment}”" if item.comment else ""
            lines.append(f"  {item.asked_at[:10]} “{item.question}”{comment}")
    if insights.documents_most_cited:
        lines.append("")
        lines.append("Documents cited most:")
        lines.extend(f"  {c.count}× {c.source}" for c in insights.documents_most_cited[:limit])
    if insights.documents_never_cited:
        lines.append("")
        lines.append(f"Documents never cited ({len(insights.documents_never_cited)}):")
        lines.extend(f"  {d}" for d in insights.documents_never_cited[:limit])
    if insights.sections_never_cited:
        lines.append(f"Sections never cited: {len(insights.sections_never_cited)}.")
    if insights.per_week:
        lines.append("")
        lines.append("Questions per week: " + ", ".join(f"{w} {n}" for w, n in insights.per_week.items()))
    return "\n".join(lines)


def write_insights_csv(insights: GuidanceInsights, out: IO[str]) -> int:
    """One row per finding: ``section, item, count, detail``; returns the rows written."""
    # Questions and comments are typed by officers: a formula in one must not run when the file is opened.
    writer = safe_csv_writer(out)
    writer.writerow(["section", "item", "count", "detail"])
    rows: list[list[Any]] = []
    rows += [["not covered or unsure", g.example, g.count, " | ".join(g.questions)] for g in insights.gaps]
    rows += [["rated not helpful", u.question, 1, u.comment or ""] for u in insights.unhelpful]
    rows += [["document cited", c.source, c.count, ""] for c in insights.documents_most_cited]
    rows += [["section cited", c.source, c.count, c.section] for c in insights.sections_most_cited]
    rows += [["document never cited", d, 0, ""] for d in insights.documents_never_cited]
    rows += [["section never cited", c.source, 0, c.section] for c in insights.sections_never_cited]
    rows += [["questions per week", week, n, ""] for week, n in insights.per_week.items()]
    writer.writerows(rows)
    return len(rows)
