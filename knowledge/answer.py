"""Turning retrieved passages into an answer a council officer can trust.

The default answer is extractive: the sentence(s) or table row that answer the
question, quoted from the best passage, with citations. No model, key or
network is needed. When a chat model is configured it may write the answer
instead, from the same passages only, and must cite them; anything else falls
back to the extractive answer.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import structlog

from knowledge import fitted
from knowledge.models import Answer, AnswerKind, Chunk, Citation, PassageKind
from knowledge.ranking import Judge, TopicModel, judge_values
from knowledge.retrieve import SUBSECTION_NUMBER, Hit, QueryAnalysis, referenced_subsections, states
from knowledge.roles import split_responsibilities
from knowledge.tokens import terms

log = structlog.get_logger(__name__)

MAX_ANSWER_CHARS = 700
MAX_LIST_ITEMS = 8
CITATIONS = 3
UNSURE_EXCERPTS = 2

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z‘'\"(])|\n+")
_CLAUSE_LINE = re.compile(r"^\s*\(([0-9]{1,3}[A-Z]{0,2}|[a-z]{1,4})\)\s")
_ROMAN = re.compile(r"^(?:i|ii|iii|iv|v|vi|vii|viii|ix|x|xi|xii)$")
_LEADS_IN = ("—", "–", ":", "-")
_CONTINUES = re.compile(r"^(?:they|this|these|it|he|she|that|such|with this|as well)\b", re.IGNORECASE)


def classify(score: float, on_topic: float = 1.0, dense: bool = True) -> AnswerKind:
    """Answered, unsure or not covered, at the thresholds fitted with the judge and the topic model.

    ``score`` is the judge's probability that the quoted passage answers; ``on_topic`` the topic
    model's that the question is about something the guidance covers at all.
    """
    answered_at = fitted.ANSWERED_AT if dense else fitted.ANSWERED_AT_KEYWORD
    topic_at = fitted.ON_TOPIC_AT if dense else fitted.ON_TOPIC_AT_KEYWORD
    if on_topic < topic_at:
        return AnswerKind.NOT_FOUND  # about something the guidance does not cover at all
    return AnswerKind.ANSWERED if score >= answered_at else AnswerKind.UNSURE


def citations_for(hits: Sequence[Hit]) -> list[Citation]:
    """The passages quoted, best first; each one's score is its likelihood relative to the best (1.0)."""
    top = hits[0].score if hits else 0.0
    return [
        Citation(
            source=h.chunk.source,
            section=h.chunk.section_label,
            text=h.chunk.text,
            score=math.exp(min(0.0, h.score - top)),
            link=h.chunk.link,
        )
        for h in hits[:CITATIONS]
    ]


def suggestions_for(hits: Sequence[Hit], limit: int = 3) -> list[str]:
    """Topics near the question, named by their place in the guidance ("The commissioning cycle > Plan")."""
    seen: dict[str, None] = {}
    for hit in hits:
        chunk = hit.chunk
        path = chunk.section[-2:] if chunk.section else (chunk.meta.get("title", ""),)
        label = " > ".join(p for p in path if p)
        if len(label) > 100:
            label = path[-1]  # a long heading path: its last heading alone names the place
        if label and len(label) <= 100:
            seen.setdefault(label, None)
        if len(seen) >= limit:
            break
    return list(seen)


def _overlap(question_terms: set[str], text: str) -> float:
    found = set(terms(text))
    return len(found & question_terms) / (len(question_terms) or 1)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _clip(text: str) -> str:
    if len(text) <= MAX_ANSWER_CHARS:
        return text
    cut = text[:MAX_ANSWER_CHARS].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


def extract(analysis: QueryAnalysis, chunk: Chunk, *, whole_clauses: bool = True) -> str:
    """The part of a passage that answers the question.

    ``whole_clauses``: a lettered clause is quoted with all the clauses its lead-in introduces, when
    they fit; without it, with its lead-in alone (the core of the answer, which the judge weighs).
    """
    wanted = set(analysis.terms)
    if chunk.kind is PassageKind.TABLE_ROW and chunk.meta.get("cells"):
        return _from_row(analysis, chunk, wanted)
    if chunk.kind is PassageKind.LIST and _CLAUSE_LINE.match(chunk.text):
        return _clip(_from_clauses(analysis, chunk.text, wanted, whole_clauses))
    if chunk.kind is PassageKind.LIST:
        lines = chunk.text.split("\n")
        intro = [line for line in lines if not line.startswith("• ")]
        items = [line for line in lines if line.startswith("• ")]
        shown = items[:MAX_LIST_ITEMS]
        more = len(items) - len(shown)
        body = intro[-1:] + shown + ([f"…and {more} more."] if more > 0 else [])
        return _clip("\n".join(body))
    return _clip(_best_sentences(analysis, chunk.text, wanted))


def _from_row(analysis: QueryAnalysis, chunk: Chunk, wanted: set[str]) -> str:
    cells = chunk.meta["cells"]
    headers = chunk.meta.get("headers") or []
    label = cells[0]
    split = chunk.meta.get("parts") or [split_responsibilities(cell) for cell in cells]
    parts = [p.rstrip(".") for cell_parts in split[1:] for p in cell_parts]
    if not parts:
        return chunk.text
    if analysis.is_who and not analysis.roles_mentioned:
        scored = sorted(((_overlap(wanted, p), i) for i, p in enumerate(parts)), reverse=True)
        best = [i for score, i in scored if score > 0 and score >= scored[0][0] * 0.6][:2] or [scored[0][1]]
        chosen = [parts[i] for i in sorted(best)]
        return _clip(f"{label}: {'; '.join(chosen)}.")
    if len(headers) > 2:
        return _clip(chunk.text)
    return _clip(f"{label}: {'; '.join(parts)}.")


def _line_score(analysis: QueryAnalysis, wanted: set[str], line: str) -> float:
    """How well one sentence or clause answers: the question's words it holds, and the kind of answer asked for."""
    score = _overlap(wanted, line)
    definition = analysis.definition_term
    lowered = line.lower().lstrip("‘'\"“(0123456789) ")
    if definition and (
        lowered.startswith(definition) or f"“{definition}”" in line.lower() or f'"{definition}"' in line.lower()
    ):
        score += 1.0
    if analysis.answer_type and states(analysis.answer_type, line):
        score += 0.5
    return score


def _from_clauses(analysis: QueryAnalysis, text: str, wanted: set[str], whole_clauses: bool = True) -> str:
    """The clause that answers, with the opening words it completes or the sub-clauses it introduces."""
    lines = [line for line in text.split("\n") if line.strip()]
    best = max(range(len(lines)), key=lambda i: (_line_score(analysis, wanted, lines[i]), -i))
    depth = _clause_depth(lines[best])
    chosen = [best]
    if lines[best].rstrip().endswith(_LEADS_IN):
        # "(2) ... must comply unless it considers that doing so—" needs its "(a) ... (b) ...".
        following = [i for i in range(best + 1, len(lines)) if _clause_depth(lines[i]) > depth]
        chosen.extend(following[:MAX_LIST_ITEMS])
    elif depth > 0:
        # "(b) ..." means nothing without the words it completes, and "must— (a) ..., or (b) ..." is
        # misquoted by one alternative alone: the lead is quoted with all its clauses when they fit.
        lead = next((i for i in range(best - 1, -1, -1) if _clause_depth(lines[i]) < depth), None)
        if lead is not None:
            lead_depth = _clause_depth(lines[lead])
            end = next((i for i in range(lead + 1, len(lines)) if _clause_depth(lines[i]) <= lead_depth), len(lines))
            whole = list(range(lead, end))
            fits = sum(len(lines[i]) + 1 for i in whole) <= MAX_ANSWER_CHARS and len(whole) <= MAX_LIST_ITEMS + 1
            chosen = whole if fits and whole_clauses else [lead, best]
    return "\n".join(lines[i] for i in sorted(set(chosen)))


def _clause_depth(line: str) -> int:
    match = _CLAUSE_LINE.match(line)
    if not match:
        return 9  # an unnumbered line inside a clause continues it
    marker = match.group(1)
    if marker[0].isdigit():
        return 0
    return 2 if _ROMAN.match(marker) and marker not in ("i", "v", "x") else 1


def _best_sentences(analysis: QueryAnalysis, text: str, wanted: set[str]) -> str:
    sentences = _sentences(text)
    if len(sentences) <= 2:
        return " ".join(sentences)
    scores = [(_line_score(analysis, wanted, sentence), -i) for i, sentence in enumerate(sentences)]
    best = -max(scores)[1]
    chosen = [best]
    # A short sentence, or one whose successor carries it on ("They ..."), needs the next one.
    if best + 1 < len(sentences) and (len(sentences[best].split()) < 12 or _CONTINUES.match(sentences[best + 1])):
        chosen.append(best + 1)
    return " ".join(sentences[i] for i in chosen)


def _with_siblings(
    analysis: QueryAnalysis,
    quotable: Sequence[Hit],
    quoted: str,
    neighbours: Callable[[Chunk], list[Chunk]] | None = None,
) -> str:
    """The quoted subsection with the numbered subsections beside it that were also retrieved.

    Legislation puts each subsection in its own passage, and the answer is often the one next to
    the best match ("(2) ... must lend it unless" then "(3) A depot that refuses must say why ...").
    When the next-best passages are adjacent numbered subsections of the same section, the short
    run of them is quoted in document order, as long as it stays within the answer budget. A
    retrieved subsection further on that refers back to a quoted one ("under subsection (1)") is
    quoted too, its referring clause only, when it fits.
    """
    best = quotable[0].chunk
    if not _numbered(best.text):
        return quoted
    run = {best.position: quoted}
    quoted_numbers = _subsection_numbers(best.text)
    # A neighbour the index holds is taken only if it answers at least as well as the best subsection.
    best_score = _line_score(analysis, set(analysis.terms), best.text)
    nearby = [
        c
        for c in (neighbours(best) if neighbours else [])
        if _line_score(analysis, set(analysis.terms), c.text) >= best_score
    ]
    for chunk in [h.chunk for h in quotable[1:CITATIONS]] + nearby:
        if chunk.source_key != best.source_key or chunk.section != best.section or not _numbered(chunk.text):
            continue
        if chunk.position in run or min(abs(chunk.position - p) for p in run) != 1:
            continue  # only a subsection next to one already quoted keeps the run unbroken
        extra = extract(analysis, chunk)
        if sum(len(t) + 1 for t in run.values()) + len(extra) > MAX_ANSWER_CHARS:
            break
        run[chunk.position] = extra
        quoted_numbers |= _subsection_numbers(chunk.text)
    # A retrieved subsection that refers back to a quoted one ("(5) A depot that refuses a request under
    # subsection (2) must say why in writing") says what follows from it.
    for chunk in [h.chunk for h in quotable[1:]]:
        if chunk.position in run or chunk.source_key != best.source_key or chunk.section != best.section:
            continue
        if not _numbered(chunk.text) or not quoted_numbers & referenced_subsections(chunk.text):
            continue
        extra = _referring_clause(chunk.text, quoted_numbers)
        if sum(len(t) + 1 for t in run.values()) + len(extra) <= MAX_ANSWER_CHARS:
            run[chunk.position] = extra
    return "\n".join(run[p] for p in sorted(run))


def _subsection_numbers(text: str) -> set[str]:
    """The numbers of the subsections a passage holds ("(3) ...\n(4) ..." → {"3", "4"})."""
    return {m.group("number") for line in text.split("\n") if (m := SUBSECTION_NUMBER.match(line))}


def _referring_clause(text: str, numbers: set[str]) -> str:
    """The numbered clause of a passage that refers to one of the subsections ``numbers``, with its sub-clauses."""
    lines = [line for line in text.split("\n") if line.strip()]
    start = next(
        (i for i, line in enumerate(lines) if _clause_depth(line) == 0 and numbers & referenced_subsections(line)), 0
    )
    end = next((i for i in range(start + 1, len(lines)) if _clause_depth(lines[i]) == 0), len(lines))
    return "\n".join(lines[start:end])


def _numbered(text: str) -> bool:
    match = _CLAUSE_LINE.match(text.lstrip("- •"))
    return bool(match and match.group(1)[0].isdigit())


def answer_passages(hits: Sequence[Hit]) -> list[Hit]:
    """The hits that can be quoted: a heading-like fragment is never an answer."""
    return [h for h in hits if not h.chunk.meta.get("fragment")]


def extractive_answer(
    question: str,
    analysis: QueryAnalysis,
    hits: Sequence[Hit],
    similarity: Callable[[QueryAnalysis, str], float] | None = None,
    judge: Judge | None = None,
    neighbours: Callable[[Chunk], list[Chunk]] | None = None,
) -> Answer:
    """Quote the part of the best passage that answers; ``similarity`` compares its meaning with the question's."""
    quotable = answer_passages(hits)
    if not quotable:
        return Answer(
            question=question,
            text="I couldn't find anything in the guidance about that.",
            citations=[],
            confidence=0.0,
            kind=AnswerKind.NOT_FOUND,
        )
    best = quotable[0]
    dense = best.dense is not None
    answer_dense = (
        similarity(analysis, extract(analysis, best.chunk, whole_clauses=False)) if similarity and dense else 0.0
    )
    quoted = extract(analysis, best.chunk)
    judge = judge or Judge.fitted(dense=dense)
    values = judge_values([h.score for h in quotable], best.features, answer_dense, analysis.unknown_share)
    score = round(judge.probability(values), 3)
    on_topic = TopicModel.fitted(dense=dense).probability(analysis.topic) if analysis.topic else 1.0
    kind = classify(score, on_topic, dense)
    # Confidence is judged on the best passage alone; the quote then takes in its retrieved neighbours.
    quoted = _with_siblings(analysis, quotable, quoted, neighbours)
    if kind is AnswerKind.NOT_FOUND:
        topics = suggestions_for(hits)
        text = "I couldn't find an answer to that in the guidance, so I won't guess."
        if topics:
            text += " The nearest topics it covers are: " + "; ".join(topics) + "."
        return Answer(question, text, [], score, kind, suggestions=topics)
    if kind is AnswerKind.UNSURE:
        # Unsure which passage answers: show the two likeliest, numbered as their citations are.
        excerpts = [quoted] + [extract(analysis, h.chunk) for h in quotable[1:UNSURE_EXCERPTS]]
        if len(excerpts) > 1:
            quoted = "I'm not sure the guidance answers this exactly. The closest passages say:\n" + "\n".join(
                f"[{n}] {excerpt}" for n, excerpt in enumerate(excerpts, 1)
            )
        else:
            quoted = "I'm not sure the guidance answers this exactly. The closest passage says:\n" + quoted
    # A clear answer needs no list of other topics; an unsure one points to where else to look.
    related = suggestions_for(quotable[1:]) if kind is AnswerKind.UNSURE else []
    return Answer(question, quoted, citations_for(quotable), score, kind, suggestions=related)


class ModelAnswerer:
    """Optional written answers from a chat model, grounded on the retrieved passages only."""

    SYSTEM = (
        "You answer questions from UK council staff about commissioning, using ONLY the numbered "
        "guidance passages provided. Answer in at most three sentences of plain English. After each "
        "claim, cite the passage it comes from as [1], [2] and so on. If the passages do not answer "
        "the question, reply exactly: NOT IN GUIDANCE"
    )

    def __init__(self, model: Any, name: str, timeout_seconds: float) -> None:
        self.model = model
        self.name = name
        self.timeout = timeout_seconds
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="llm")

    def answer(self, question: str, analysis: QueryAnalysis, hits: Sequence[Hit], fallback: Answer) -> Answer:
        if not hits or fallback.kind is AnswerKind.NOT_FOUND:
            return fallback
        passages = hits[:CITATIONS]
        numbered = "\n\n".join(
            f"[{n}] ({h.chunk.source} — {h.chunk.section_label or 'untitled section'})\n{h.chunk.text}"
            for n, h in enumerate(passages, start=1)
        )
        messages = [
            ("system", self.SYSTEM),
            ("human", f"Passages:\n{numbered}\n\nQuestion: {question}"),
        ]
        try:
            reply = self._pool.submit(self.model.invoke, messages).result(timeout=self.timeout)
        except FutureTimeout:
            log.warning("llm_answer_timeout", model=self.name, seconds=self.timeout)
            return fallback
        except Exception as exc:
            log.warning("llm_answer_failed", model=self.name, error=type(exc).__name__)
            return fallback
        text = str(getattr(reply, "content", reply) or "").strip()
        cited = sorted({int(n) for n in re.findall(r"\[(\d+)\]", text) if 1 <= int(n) <= len(passages)})
        if not text or "NOT IN GUIDANCE" in text or not cited:
            # An answer that cites nothing is not grounded: use the quoted passage instead.
            return fallback
        citations = citations_for(hits)
        ordered = [citations[n - 1] for n in cited] + [c for i, c in enumerate(citations, 1) if i not in cited]
        return Answer(
            question=question,
            text=_clip(text),
            citations=ordered,
            confidence=fallback.confidence,
            kind=fallback.kind,
            suggestions=fallback.suggestions,
            written_by=self.name,
        )
