"""Hybrid retrieval: keyword and meaning rankings, plus what the question's shape says, fused.

Each signal produces a ranking of passages; reciprocal-rank fusion combines
them, so no signal's raw scores need calibrating against another's:

- BM25 over stemmed words (exact terms: "section 151", "Publica Board");
- MiniLM vectors (paraphrase: "who signs off sourcing" ~ "makes strategic sourcing decisions");
- roles: a question naming a role ("What does a portfolio holder do?") or asking
  "who ..." favours the role directory's rows;
- definitions: "What is an output?" favours passages that define that term.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from knowledge.chunker import DEFINES_LINE, DEFINES_SENTENCE, normalise_term
from knowledge.index import LexicalIndex, VectorStore
from knowledge.models import Chunk
from knowledge.roles import RoleDirectory, role_key
from knowledge.tokens import term_set, terms

CANDIDATES = 30
LEXICAL_WEIGHT = 0.5
# What the question's shape adds, on the same 0..1 scale as words and meaning.
ROLE_NAMED_BONUS = 0.5  # "What does a portfolio holder do?": that role's row
ROLE_WHO_BONUS = 0.3  # "Who ...?": role rows, scaled by how well they match
DEFINITION_BONUS = 0.6  # "What is an output?": passages defining "output"
TOPIC_BONUS = 0.8  # "the Deliver stage": passages under that heading, scaled by its share of the question

_WHO = re.compile(r"(?i)^\s*(?:and\s+)?(?:who|whose|whom|which\s+(?:role|person|people|officer|body|group|team|function|committee)s?)\b")
_ROLE_OF = re.compile(
    r"(?i)\b(?:what\s+(?:does|do|should|must|can)\s+(?:a|an|the)?\s*.+?\s+do\b|role\s+of|roles?\s+(?:does|do)|responsib\w*|"
    r"'s\s+role|job\s+of|duties)"
)
_DEFINITION = re.compile(
    r"(?i)^\s*(?:what\s+(?:is|are|'s)\s+(?:meant\s+by\s+)?|define\s+|definition\s+of\s+|meaning\s+of\s+|"
    r"what\s+does\s+(?=.+\bmean\b))(?:an?\s+|the\s+)?(?P<term>.+?)(?:\s+mean)?\s*\??\s*$"
)
_WHO_IS = re.compile(r"(?i)^\s*who\s+(?:is|are)\s+(?P<rest>.+?)\s*\??\s*$")
_FOLLOW_UP = re.compile(r"(?i)\b(?:it|they|them|their|this|that|those|these|he|she|his|her|its|there)\b")


@dataclass
class QueryAnalysis:
    question: str
    terms: list[str]
    is_who: bool
    asks_about_role: bool
    definition_term: str | None
    roles_mentioned: list[str] = field(default_factory=list)
    names_role: bool = False  # "Who is the lead commissioner?"
    vector: Any = None  # the question's embedding, when dense retrieval is on
    unknown_share: float = 0.0  # how much of the question rests on words the guidance never uses


@dataclass
class Hit:
    chunk: Chunk
    score: float
    lexical: float = 0.0
    dense: float | None = None
    coverage: float = 0.0


def analyse(question: str, roles: RoleDirectory) -> QueryAnalysis:
    definition = _DEFINITION.match(question)
    term = None
    if definition and not _ROLE_OF.search(question):
        # "the management world in the four worlds model" is about "the management world".
        term = normalise_term(re.split(r"(?i)\s+(?:in|for|within|of|under|during|about)\s+", definition.group("term"))[0])
    mentioned_roles = roles.mentioned_in(question)
    mentioned = [r.chunk_id for r in mentioned_roles]
    who_is = _WHO_IS.match(question)
    names_role = bool(who_is and mentioned_roles and role_key(who_is.group("rest")) == role_key(mentioned_roles[0].name))
    return QueryAnalysis(
        question=question,
        terms=terms(question),
        is_who=bool(_WHO.match(question)),
        asks_about_role=bool(_ROLE_OF.search(question)) or bool(mentioned and not term),
        definition_term=term,
        roles_mentioned=mentioned,
        names_role=names_role,
    )


class Retriever:
    def __init__(self, chunks: Sequence[Chunk], lexical: LexicalIndex, vectors: VectorStore | None, roles: RoleDirectory) -> None:
        self.chunks = list(chunks)
        self.lexical = lexical
        self.vectors = vectors
        self.roles = roles
        self._by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self._term_sets = [term_set(f"{c.section_label} {c.text}") for c in self.chunks]
        document_frequency = Counter(t for s in self._term_sets for t in s)
        total = max(1, len(self.chunks))
        self._idf = {t: math.log(1 + total / df) for t, df in document_frequency.items()}
        # A word the guidance never uses counts double: a question built on such words
        # ("the tip on Sundays") is probably about something the guidance does not cover.
        self._default_idf = 2 * math.log(1 + total)
        self._role_chunks = {r.chunk_id for r in roles.roles}
        # Per passage, worked out once rather than on every question: the words of its own
        # heading and of its whole heading path, and the words of each term it defines.
        self._headings = [(term_set(c.section[-1]), term_set(" ".join(c.section))) if c.section else None
                          for c in self.chunks]
        self._definitions = [
            [(defined, strength, term_set(defined)) for defined, strength in c.meta.get("defines", {}).items()]
            for c in self.chunks
        ]

    def similarity(self, analysis: QueryAnalysis, text: str) -> float:
        """Cosine similarity between the question and a text (both vectors are normalised)."""
        if self.vectors is None or analysis.vector is None:
            return 0.0
        return float(analysis.vector @ self.vectors.embed([text])[0])

    def idf(self, term: str) -> float:
        return self._idf.get(term, self._default_idf)

    def coverage(self, query_terms: Sequence[str], index: int) -> float:
        """Share of the question's (idf-weighted) content words that the passage contains."""
        wanted = set(query_terms)
        if not wanted:
            return 0.0
        have = self._term_sets[index]
        total = sum(self.idf(t) for t in wanted)
        return sum(self.idf(t) for t in wanted if t in have) / total if total else 0.0

    def search(self, question: str, k: int = 5, history: Sequence[str] = ()) -> tuple[QueryAnalysis, list[Hit]]:
        analysis = analyse(question, self.roles)
        query_text = question
        if history and (_FOLLOW_UP.search(question) or len(analysis.terms) <= 2):
            # A follow-up ("and what do they do in a review?") borrows its subject from the question before.
            query_text = f"{history[-1]} {question}"
            analysis.terms = terms(query_text)
            if not analysis.roles_mentioned:
                analysis.roles_mentioned = [r.chunk_id for r in self.roles.mentioned_in(history[-1])]
        if not self.chunks or not analysis.terms and self.vectors is None:
            return analysis, []
        weights = {t: self.idf(t) for t in set(analysis.terms)}
        if weights:
            unknown = sum(w for t, w in weights.items() if t not in self._idf)
            analysis.unknown_share = unknown / sum(weights.values())

        lexical_scores = dict(self.lexical.search(analysis.terms, CANDIDATES))
        dense_scores: dict[int, float] = {}
        if self.vectors is not None:
            vector = analysis.vector = self.vectors.embed([query_text])[0]
            for chunk_id, similarity in self.vectors.search(vector, CANDIDATES):
                index = self._by_id.get(chunk_id)
                if index is not None:
                    dense_scores[index] = similarity

        # Each signal is scaled to 0..1 over this question's candidates and added up.
        # Scores, not ranks: a passage far ahead on words and meaning keeps its lead
        # (rank fusion would make first and second place almost equal).
        fused: dict[int, float] = {}
        top_lexical = max(lexical_scores.values(), default=0.0)
        lexical_weight = LEXICAL_WEIGHT if dense_scores else 1.0
        if top_lexical > 0:
            for index, score in lexical_scores.items():
                fused[index] = lexical_weight * score / top_lexical
        if dense_scores:
            high, low = max(dense_scores.values()), min(dense_scores.values())
            spread = (high - low) or 1.0
            for index, similarity in dense_scores.items():
                fused[index] = fused.get(index, 0.0) + (1 - LEXICAL_WEIGHT) * (similarity - low) / spread

        candidates = set(fused)
        role_bonus = self._role_bonus(analysis, candidates)
        definition_bonus, defined_exactly = self._definition_bonus(analysis)
        bonuses = [role_bonus, definition_bonus]
        if not role_bonus:
            bonuses.append(self._topic_bonus(analysis, candidates))
        for bonus in bonuses:
            for index, value in bonus.items():
                fused[index] = fused.get(index, 0.0) + value

        # When the guidance defines the very term asked about, that definition is the answer.
        order = sorted(fused, key=lambda i: (i not in defined_exactly, -fused[i]))[:k]
        hits = [
            Hit(
                chunk=self.chunks[i],
                score=fused[i],
                lexical=lexical_scores.get(i, 0.0),
                dense=dense_scores.get(i) if self.vectors is not None else None,
                coverage=self.coverage(analysis.terms, i),
            )
            for i in order
        ]
        return analysis, hits

    def _role_bonus(self, analysis: QueryAnalysis, candidates: set[int]) -> dict[int, float]:
        # "What does a portfolio holder do?" and "Who is the section 151 officer?" ask about the
        # role named; "Who advises the portfolio holder?" asks for a different one.
        if analysis.roles_mentioned and (analysis.asks_about_role and not analysis.is_who or analysis.names_role):
            named = [self._by_id[c] for c in analysis.roles_mentioned if c in self._by_id]
            return {index: ROLE_NAMED_BONUS / (n + 1) for n, index in enumerate(named)}
        if analysis.is_who:
            # "Who ..." is answered by a role: favour the role rows among the candidates,
            # best matched first.
            rows = [i for i in candidates if self.chunks[i].chunk_id in self._role_chunks]
            return {i: ROLE_WHO_BONUS * self.coverage(analysis.terms, i) for i in rows}
        return {}

    def _topic_bonus(self, analysis: QueryAnalysis, candidates: set[int]) -> dict[int, float]:
        """Candidates whose own heading the question names ("What does the Deliver stage involve?")."""
        wanted = set(analysis.terms)
        total = sum(self.idf(t) for t in wanted)
        if not total:
            return {}
        bonus: dict[int, float] = {}
        for index in candidates:
            headings = self._headings[index]
            if headings is None:
                continue
            heading, path = headings
            if heading and heading <= wanted:
                bonus[index] = TOPIC_BONUS * sum(self.idf(t) for t in path & wanted) / total
        return bonus

    def _definition_bonus(self, analysis: QueryAnalysis) -> tuple[dict[int, float], set[int]]:
        """Passages defining the term asked about, and those that define it exactly and explicitly."""
        term = analysis.definition_term
        wanted = term_set(term) if term else set()
        if not wanted:
            return {}, set()
        weight_total = sum(self.idf(t) for t in wanted)
        bonus: dict[int, float] = {}
        exact: set[int] = set()
        for index, definitions in enumerate(self._definitions):
            best = 0.0
            for defined, strength, defined_terms in definitions:
                if defined == term:
                    best = max(best, strength)
                    if strength >= DEFINES_SENTENCE:
                        exact.add(index)
                    continue
                if defined_terms and defined_terms <= wanted:
                    # "Plan" answers "the Plan stage" in part: scale by how much of the term it covers.
                    share = sum(self.idf(t) for t in defined_terms) / weight_total
                    best = max(best, strength * share)
            if best > 0:
                bonus[index] = DEFINITION_BONUS * best / DEFINES_LINE
        return bonus, exact
