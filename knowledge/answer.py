"""Turning retrieved passages into an answer a council officer can trust.

The default answer is extractive: the sentence(s) or table row that answer the
question, quoted from the best passage, with citations. No model, key or
network is needed. When a chat model is configured it may write the answer
instead, from the same passages only, and must cite them; anything else falls
back to the extractive answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from bot.logging import event
from knowledge.models import Answer, AnswerKind, Chunk, Citation, PassageKind
from knowledge.retrieve import Hit, QueryAnalysis
from knowledge.roles import split_responsibilities
from knowledge.tokens import terms

log = logging.getLogger(__name__)

ANSWERED_AT = 0.42
UNSURE_AT = 0.3
MAX_ANSWER_CHARS = 700
MAX_LIST_ITEMS = 8
CITATIONS = 3
CLOSE_MEANING = 0.45  # a cosine similarity at which a passage plainly means what was asked

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z‘'\"(])|\n+")
_CONTINUES = re.compile(r"^(?:they|this|these|it|he|she|that|such|with this|as well)\b", re.IGNORECASE)


def confidence(hit: Hit | None, answer_similarity: float | None = None, unknown_share: float = 0.0) -> float:
    """How sure we are that the top passage answers the question, from 0 to 1.

    Word coverage says the passage talks about what was asked; vector similarity
    says it means something close. Either alone is easy to fool. A long table
    row or paragraph can mean much more than the one sentence that answers, so
    the similarity of the quoted answer itself counts too.
    """
    if hit is None:
        return 0.0
    if hit.dense is None:
        score = 0.9 * hit.coverage
        similarity = 0.0
    else:
        similarity = max(hit.dense, answer_similarity or 0.0)
        semantic = min(1.0, max(0.0, (similarity - 0.3) / 0.35))
        score = 0.6 * hit.coverage + 0.4 * semantic
    if similarity < CLOSE_MEANING:
        # "When does the tip open on Sundays?" matches "open" and "council" but rests on
        # words the guidance never uses: that is a question it does not cover.
        score *= 1.0 - unknown_share
    return round(score, 3)


def classify(score: float) -> AnswerKind:
    if score >= ANSWERED_AT:
        return AnswerKind.ANSWERED
    if score >= UNSURE_AT:
        return AnswerKind.UNSURE
    return AnswerKind.NOT_FOUND


def citations_for(hits: Sequence[Hit]) -> list[Citation]:
    top = hits[0].score if hits else 1.0
    return [
        Citation(source=h.chunk.source, section=h.chunk.section_label, text=h.chunk.text, score=h.score / top)
        for h in hits[:CITATIONS]
    ]


def suggestions_for(hits: Sequence[Hit], limit: int = 3) -> list[str]:
    """Topics near the question, named by their place in the guidance ("The commissioning cycle > Plan")."""
    seen: dict[str, None] = {}
    for hit in hits:
        chunk = hit.chunk
        path = chunk.section[-2:] if chunk.section else (chunk.meta.get("title", ""),)
        label = " > ".join(p for p in path if p)
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


def extract(analysis: QueryAnalysis, chunk: Chunk) -> str:
    """The part of a passage that answers the question."""
    wanted = set(analysis.terms)
    if chunk.kind is PassageKind.TABLE_ROW and chunk.meta.get("cells"):
        return _from_row(analysis, chunk, wanted)
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
    parts = [p.rstrip(".") for cell in cells[1:] for p in split_responsibilities(cell)]
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


def _best_sentences(analysis: QueryAnalysis, text: str, wanted: set[str]) -> str:
    sentences = _sentences(text)
    if len(sentences) <= 2:
        return " ".join(sentences)
    definition = analysis.definition_term
    scores = []
    for i, sentence in enumerate(sentences):
        score = _overlap(wanted, sentence)
        if definition and sentence.lower().lstrip("‘'\"").startswith(definition):
            score += 1.0
        scores.append((score, -i))
    best = -max(scores)[1]
    chosen = [best]
    # A short sentence, or one whose successor carries it on ("They ..."), needs the next one.
    if best + 1 < len(sentences) and (len(sentences[best].split()) < 12 or _CONTINUES.match(sentences[best + 1])):
        chosen.append(best + 1)
    return " ".join(sentences[i] for i in chosen)


def extractive_answer(
    question: str,
    analysis: QueryAnalysis,
    hits: Sequence[Hit],
    similarity: Callable[[QueryAnalysis, str], float] | None = None,
) -> Answer:
    """Quote the part of the best passage that answers; ``similarity`` compares its meaning with the question's."""
    if not hits:
        return Answer(
            question=question,
            text="I couldn't find anything in the guidance about that.",
            citations=[],
            confidence=0.0,
            kind=AnswerKind.NOT_FOUND,
        )
    quoted = extract(analysis, hits[0].chunk)
    answer_similarity = similarity(analysis, quoted) if similarity and hits[0].dense is not None else None
    score = confidence(hits[0], answer_similarity, analysis.unknown_share)
    kind = classify(score)
    if kind is AnswerKind.NOT_FOUND:
        topics = suggestions_for(hits)
        text = "I couldn't find an answer to that in the guidance, so I won't guess."
        if topics:
            text += " The nearest topics it covers are: " + "; ".join(topics) + "."
        return Answer(question, text, [], score, kind, suggestions=topics)
    if kind is AnswerKind.UNSURE:
        quoted = "I'm not sure the guidance answers this exactly. The closest passage says:\n" + quoted
    # A clear answer needs no list of other topics; an unsure one points to where else to look.
    related = suggestions_for(hits[1:]) if kind is AnswerKind.UNSURE else []
    return Answer(question, quoted, citations_for(hits), score, kind, suggestions=related)


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
            event(log, "llm_answer_timeout", logging.WARNING, model=self.name, seconds=self.timeout)
            return fallback
        except Exception as exc:
            event(log, "llm_answer_failed", logging.WARNING, model=self.name, error=type(exc).__name__)
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
