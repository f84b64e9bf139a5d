"""Hybrid retrieval: keyword and meaning candidates, scored on what a good answer looks like.

A question is first rewritten the way the guidance would put it (spelling
corrected against the guidance's own words, abbreviations spelt out; see
:mod:`knowledge.lexicon`). Candidates come from BM25 over stemmed words and
from MiniLM vectors in Chroma. Each candidate is then described by a handful
of signals (:mod:`knowledge.ranking`): how strongly each search found it, how
much of the question's weighted vocabulary it and its headings contain,
whether it keeps the question's phrases together, whether it defines the term
asked about or is the directory entry of the role asked about, and whether it
is only a heading-like fragment. A linear model whose weights were fitted on
the development question sets turns the signals into one score.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from knowledge.chunker import DEFINES_SENTENCE, SECTION_NUMBER, normalise_term
from knowledge.lexical import LexicalIndex
from knowledge.lexicon import Lexicon, Rewrite
from knowledge.models import Chunk
from knowledge.ranking import FEATURES, Ranker, topic_values
from knowledge.roles import RoleDirectory, role_key
from knowledge.tokens import terms
from knowledge.vectors import VectorStore

CANDIDATES = 40

_WHO = re.compile(
    r"(?i)^\s*(?:and\s+)?(?:who|whose|whom|which\s+(?:role|person|people|officer|body|group|team|function|committee)s?)\b"
)
_ROLE_OF = re.compile(
    r"(?i)\b(?:what\s+(?:does|do|should|must|can)\s+(?:a|an|the)?\s*.+?\s+do\b|role\s+of|roles?\s+(?:does|do)|responsib\w*|"
    r"'s\s+role|job\s+of|'s\s+job|duties)"
)
_DEFINITION = re.compile(
    r"(?i)^\s*(?:what\s+(?:is|are|'s)\s+(?:meant\s+by\s+)?|define\s+|definition\s+of\s+|meaning\s+of\s+|"
    r"what\s+does\s+(?=.+\bmean\b)|how\s+(?:does|do)\s+.+?\s+define\s+)(?:an?\s+|the\s+)?(?P<term>.+?)(?:\s+mean)?\s*\??\s*$"
)
# "light touch contract?", "ITIL service definition": a bare term asks what it is.
_BARE_TERM = re.compile(
    r"(?i)^\s*(?:an?\s+|the\s+)?(?P<term>[\w'’&/ -]{2,60}?)(?:\s+(?:definition|meaning))?\s*\??\s*$"
)
_ASKS_TOPIC = re.compile(
    r"(?i)^\s*(?:what|which)\s+(?:is|are|does|do)\s+.+?\b(?:involve[sd]?|about|cover[s]?|include[s]?|entail[s]?|consist\s+of)\s*\??\s*$|"
    r"^\s*(?:tell\s+me\s+about|explain|describe)\s+"
)
_WHO_IS = re.compile(r"(?i)^\s*who\s+(?:is|are)\s+(?P<rest>.+?)\s*\??\s*$")
# What kind of answer a question wants, and how a passage states one.
_ASKS_TIME = re.compile(
    r"(?i)^\s*(?:(?:and|so|but)\s+)?(?:how\s+(?:long|often|soon|quickly|fast|frequently|many\s+(?:days|weeks|months|years|times))|"
    r"when\b|by\s+when|until\s+when|what\s+(?:is\s+the\s+)?(?:deadline|date|time\s*(?:limit|scale|frame)|period)|"
    r"within\s+what)|\b(?:deadline|how\s+long|how\s+often|how\s+quickly|time\s*limit)\b"
)
_ASKS_AMOUNT = re.compile(
    r"(?i)\bhow\s+(?:much|many)\b|\bwhat\s+(?:is\s+the\s+)?(?:minimum|maximum|threshold|amount|number|percentage|"
    r"proportion|value|cost|fee|price|score|limit)\b|\b(?:minimum|maximum|threshold)\b"
)
_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
    r"ninety|hundred)"
)
_STATES_TIME = re.compile(
    rf"(?i)\b(?:\d+|{_NUMBER_WORDS}|a|an|each|every|per)\s+(?:working\s+|calendar\s+|clear\s+)?(?:days?|weeks?|months?|years?|hours?|"
    r"quarters?|sprints?)\b|\b(?:annually|yearly|monthly|weekly|daily|fortnightly|quarterly|once|twice)\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)?\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)\b|"
    r"\b(?:january|february|march|april|june|july|august|september|october|november|december)\s+\d{4}\b"
)
_STATES_AMOUNT = re.compile(rf"(?i)[£$€]\s?\d|\b\d[\d,.]*\s*(?:%|per\s*cent|percent)|\b\d[\d,]*\b|\b{_NUMBER_WORDS}\b")


def states(answer_type: str, text: str) -> bool:
    """Whether a text states a time ("within 3 working days") or an amount ("£5 million"), as asked."""
    return bool((_STATES_TIME if answer_type == "time" else _STATES_AMOUNT).search(text))


# A numbered subsection ("(3) A person who ...") and the subsections of its own section it refers to
# ("... under subsection (1) or (2)", "subsections (1) to (4)").
SUBSECTION_NUMBER = re.compile(r"^[\s•-]*\((?P<number>[0-9]{1,3}[A-Z]{0,2})\)\s")
_REFERENCE = re.compile(
    r"(?i)\bsubsections?\s+(?P<refs>\(\w{1,4}\)(?:\(\w{1,4}\))*(?:\s*(?:,|and|or|to)\s*\(\w{1,4}\)(?:\(\w{1,4}\))*)*)"
)
_REFERENCE_RANGE = re.compile(r"\((?P<low>[0-9]{1,3})\)\s*to\s*\((?P<high>[0-9]{1,3})\)")
_REFERENCE_NUMBER = re.compile(r"(?:^|[\s,])\((?P<number>[0-9]{1,3}[A-Z]{0,2})\)")


def referenced_subsections(text: str) -> frozenset[str]:
    """The subsection numbers a passage refers to ("under subsection (1) or (2)" → {"1", "2"})."""
    found: set[str] = set()
    for match in _REFERENCE.finditer(text):
        refs = match.group("refs")
        found.update(m.group("number") for m in _REFERENCE_NUMBER.finditer(" " + refs))
        for span in _REFERENCE_RANGE.finditer(refs):
            low, high = int(span.group("low")), int(span.group("high"))
            if 0 < high - low <= 20:
                found.update(str(n) for n in range(low, high + 1))
    return frozenset(found)


_SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+(?=[A-Z(‘'\"“])|\n+")
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
    answer_type: str | None = None  # "time" or "amount" when the question asks for one
    asks_topic: bool = False  # "What is X?", "What does X involve?", "What is X about?"
    rewrite: Rewrite | None = None
    search_text: str = ""  # the question as searched (spelling corrected, abbreviations spelt out)
    # What the question as a whole looks like (ranking.TOPIC_FEATURES).
    topic: dict[str, float] = field(default_factory=dict)


@dataclass
class Hit:
    chunk: Chunk
    score: float
    lexical: float = 0.0
    dense: float | None = None
    coverage: float = 0.0
    features: dict[str, float] = field(default_factory=dict)


def analyse(question: str, roles: RoleDirectory, lexicon: Lexicon | None = None) -> QueryAnalysis:
    rewrite = lexicon.rewrite(question) if lexicon is not None else None
    text = rewrite.text if rewrite is not None else question
    definition = _DEFINITION.match(text)
    term = None
    if definition and not _ROLE_OF.search(text):
        # "the management world in the four worlds model" is about "the management world".
        term = normalise_term(
            re.split(r"(?i)\s+(?:in|for|within|of|under|during|about)\s+", definition.group("term"))[0]
        )
    elif len(question.split()) <= 5 and (bare := _BARE_TERM.match(question)) and not _WHO.match(question):
        term = normalise_term(bare.group("term"))
    mentioned_roles = roles.mentioned_in(text)
    mentioned = [r.chunk_id for r in mentioned_roles]
    who_is = _WHO_IS.match(text)
    names_role = bool(
        who_is and mentioned_roles and role_key(who_is.group("rest")) in roles.keys_of(mentioned_roles[0])
    )
    return QueryAnalysis(
        question=question,
        terms=terms(text),
        is_who=bool(_WHO.match(text)),
        asks_about_role=bool(_ROLE_OF.search(text)),
        definition_term=term,
        roles_mentioned=mentioned,
        names_role=names_role,
        asks_topic=bool(term or _ASKS_TOPIC.match(text)),
        answer_type="time" if _ASKS_TIME.search(text) else "amount" if _ASKS_AMOUNT.search(text) else None,
        rewrite=rewrite,
        search_text=text,
    )


@dataclass(frozen=True)
class PassageFacts:
    """What retrieval needs to know about one passage, worked out when a question first makes it a candidate."""

    sequence: tuple[str, ...]  # its search words in order: heading path, then its own text
    all_terms: frozenset[str]
    text_terms: frozenset[str]  # in its own text
    path_terms: frozenset[str]  # in its document title and heading path
    context_terms: frozenset[str]  # only in the title and headings, not its text
    heading_terms: frozenset[str]  # in its own heading (without the section number)
    sentences: tuple[frozenset[str], ...]  # each sentence's words
    states: tuple[bool, bool]  # it states a time; it states an amount
    length: int  # words in its text


class PassageIndex:
    """The passages one index version holds, and what retrieval needs to know about them.

    Built from the stored search words (nothing is read again at start-up); the facts a question's scoring
    needs about a passage are worked out the first time it is a candidate and kept.
    """

    def __init__(self, chunks: Sequence[Chunk], words: Sequence[str], context_counts: Sequence[int]) -> None:
        self.chunks = list(chunks)
        self._words = list(words)
        self._context_counts = list(context_counts)
        self.by_id = {c.chunk_id: i for i, c in enumerate(self.chunks)}
        self.idf: dict[str, float] = {}
        self.unknown_idf = math.log(2)
        self.fragments = [bool(c.meta.get("fragment")) for c in self.chunks]
        sections: dict[tuple[str, tuple[str, ...]], int] = {}
        self.section_ids = [sections.setdefault((c.source_key, c.section), len(sections)) for c in self.chunks]
        self.opens_section = [i == 0 or self.section_ids[i] != self.section_ids[i - 1] for i in range(len(self.chunks))]
        self._facts: dict[int, PassageFacts] = {}
        # Defined term → passages defining it; each defined term's words → passages, for partial matches.
        self.definitions: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self.definitions_by_word: dict[str, list[tuple[int, str, float, frozenset[str]]]] = defaultdict(list)
        words_of: dict[str, frozenset[str]] = {}
        for index, chunk in enumerate(self.chunks):
            for defined, strength in chunk.meta.get("defines", {}).items():
                self.definitions[defined].append((index, strength))
                defined_terms = words_of.get(defined)
                if defined_terms is None:
                    defined_terms = words_of[defined] = frozenset(terms(defined))
                for word in defined_terms:
                    self.definitions_by_word[word].append((index, defined, strength, defined_terms))

    def sequences(self) -> list[list[str]]:
        """Every passage's search words, for building the keyword index."""
        return [w.split() for w in self._words]

    def weigh(self, document_frequency: dict[str, int]) -> None:
        """Inverse document frequency of every word, from the keyword index's own counts."""
        total = max(1, len(self.chunks))
        self.idf = {t: math.log(1 + total / df) for t, df in document_frequency.items() if df}
        # A word the guidance never uses weighs as much as its rarest words do, no more.
        self.unknown_idf = max(self.idf.values(), default=math.log(1 + total))

    def facts(self, index: int) -> PassageFacts:
        found = self._facts.get(index)
        if found is None:
            chunk = self.chunks[index]
            sequence = tuple(self._words[index].split())
            split = self._context_counts[index]
            text_terms = frozenset(sequence[split:])
            path_terms = frozenset(sequence[:split])
            heading = frozenset(terms(SECTION_NUMBER.sub("", chunk.section[-1]))) if chunk.section else frozenset()
            sentences = tuple(frozenset(terms(p)) for p in _SENTENCE_SPLIT.split(chunk.text) if p.strip())
            found = PassageFacts(
                sequence=sequence,
                all_terms=frozenset(sequence),
                text_terms=text_terms,
                path_terms=path_terms,
                context_terms=path_terms - text_terms,
                heading_terms=heading,
                sentences=sentences,
                states=(states("time", chunk.text), states("amount", chunk.text)),
                length=len(chunk.text.split()),
            )
            if len(self._facts) > 100_000:
                self._facts.clear()
            self._facts[index] = found
        return found

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unknown_idf)

    def coverage(self, wanted: dict[str, float], have: Set[str]) -> float:
        total = sum(wanted.values())
        return sum(w for t, w in wanted.items() if t in have) / total if total else 0.0


@dataclass
class _Signals:
    lexical: dict[int, float]
    dense: dict[int, float]
    definitions: dict[int, float]
    topics: dict[int, float]
    roles: dict[int, float]


@dataclass
class Candidates:
    order: list[int]  # passage indexes
    rows: np.ndarray  # one row of FEATURES per passage
    lexical: dict[int, float]
    dense: dict[int, float]


_COVER = FEATURES.index("cover")
_DEFINES = FEATURES.index("defines")


def _bigrams(sequence: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(sequence, sequence[1:], strict=False))


class Retriever:
    def __init__(
        self,
        passages: PassageIndex,
        lexical: LexicalIndex,
        vectors: VectorStore | None,
        roles: RoleDirectory,
        lexicon: Lexicon | None = None,
        ranker: Ranker | None = None,
    ) -> None:
        self.passages = passages
        self.chunks = passages.chunks
        self.lexical = lexical
        self.vectors = vectors
        self.roles = roles
        self.lexicon = lexicon
        self.ranker = ranker or Ranker.fitted(dense=vectors is not None)
        self._role_chunks = {r.chunk_id for r in roles.roles}

    # ------------------------------------------------------------- helpers
    def neighbours(self, chunk: Chunk) -> list[Chunk]:
        """The passages just before and after one, when they belong to the same section."""
        index = self.passages.by_id.get(chunk.chunk_id)
        if index is None:
            return []
        sections = self.passages.section_ids
        return [
            self.chunks[i]
            for i in (index - 1, index + 1)
            if 0 <= i < len(self.chunks) and sections[i] == sections[index]
        ]

    def similarity(self, analysis: QueryAnalysis, text: str) -> float:
        """Cosine similarity between the question and a text (both vectors are normalised)."""
        if self.vectors is None or analysis.vector is None:
            return 0.0
        return float(analysis.vector @ self.vectors.embed([text])[0])

    def idf(self, term: str) -> float:
        weight = self.passages.weight(term)
        if term not in self.passages.idf and self.lexicon is not None:
            weight *= self.lexicon.rarity(term)
        return weight

    def coverage(self, query_terms: Sequence[str], index: int) -> float:
        """Share of the question's (idf-weighted) content words that the passage or its headings contain."""
        wanted = {t: self.idf(t) for t in set(query_terms)}
        return self.passages.coverage(wanted, self.passages.facts(index).all_terms)

    # -------------------------------------------------------------- search
    def search(self, question: str, k: int = 5, history: Sequence[str] = ()) -> tuple[QueryAnalysis, list[Hit]]:
        analysis, candidates = self.candidates(question, history)
        if candidates is None:
            return analysis, []
        scores = self.ranker.score(candidates.rows)
        # When the guidance defines exactly the term asked about ("What is X?" and "“X” means ..."),
        # that definition is the answer, whatever else mentions X.
        exact = candidates.rows[:, _DEFINES] >= 1.0
        ranked = sorted(range(len(candidates.order)), key=lambda n: (not exact[n], -scores[n]))[:k]
        hits = []
        for n in ranked:
            index = candidates.order[n]
            hits.append(
                Hit(
                    chunk=self.chunks[index],
                    score=float(scores[n]),
                    lexical=candidates.lexical.get(index, 0.0),
                    dense=candidates.dense.get(index) if self.vectors is not None else None,
                    coverage=float(candidates.rows[n][_COVER]),
                    features=dict(zip(FEATURES, map(float, candidates.rows[n]), strict=False)),
                )
            )
        return analysis, hits

    def candidates(self, question: str, history: Sequence[str] = ()) -> tuple[QueryAnalysis, Candidates | None]:
        """The question's analysis and every candidate passage with its signals (before scoring)."""
        analysis = analyse(question, self.roles, self.lexicon)
        query_text = analysis.search_text
        if history and (_FOLLOW_UP.search(question) or len(analysis.terms) <= 2):
            # A follow-up ("and what do they do in a review?") borrows its subject from the question before.
            earlier = self.lexicon.rewrite(history[-1]).text if self.lexicon is not None else history[-1]
            query_text = f"{earlier} {query_text}"
            analysis.terms = terms(query_text)
            if not analysis.roles_mentioned:
                analysis.roles_mentioned = [r.chunk_id for r in self.roles.mentioned_in(earlier)]
        if not self.chunks or not analysis.terms and self.vectors is None:
            return analysis, None
        wanted = {t: self.idf(t) for t in set(analysis.terms)}
        if wanted:
            unknown = sum(w for t, w in wanted.items() if t not in self.passages.idf)
            analysis.unknown_share = unknown / sum(wanted.values())

        lexical_scores = dict(self.lexical.search(analysis.terms, CANDIDATES))
        dense_scores: dict[int, float] = {}
        if self.vectors is not None:
            vector = analysis.vector = self.vectors.embed([query_text])[0]
            for chunk_id, similarity in self.vectors.search(vector, CANDIDATES):
                index = self.passages.by_id.get(chunk_id)
                if index is not None:
                    dense_scores[index] = similarity

        definitions, topics = self._definitions(analysis)
        named_roles = self._named_roles(analysis)
        order = sorted(set(lexical_scores) | set(dense_scores) | set(definitions) | set(topics) | set(named_roles))
        if not order:
            return analysis, None
        signals = _Signals(lexical_scores, dense_scores, definitions, topics, named_roles)
        rows = self._features(analysis, wanted, order, signals)
        analysis.topic = topic_values(rows, dense_scores, analysis.unknown_share)
        return analysis, Candidates(order, rows, lexical_scores, dense_scores)

    def _features(
        self, analysis: QueryAnalysis, wanted: dict[str, float], order: list[int], signals: _Signals
    ) -> np.ndarray:
        passages = self.passages
        lexical_scores, dense_scores = signals.lexical, signals.dense
        top_lexical = max(lexical_scores.values(), default=0.0) or 1.0
        floor_dense = min(dense_scores.values(), default=0.0)
        dense_spread = (max(dense_scores.values(), default=0.0) - floor_dense) or 1.0
        lexical_rank = {index: n for n, index in enumerate(sorted(lexical_scores, key=lambda i: -lexical_scores[i]))}
        dense_rank = {index: n for n, index in enumerate(sorted(dense_scores, key=lambda i: -dense_scores[i]))}
        query_pairs = _bigrams(analysis.terms)
        # A section is as strong as its best passage: a clause whose section answers shares in that.
        section_best: dict[int, float] = {}
        for index in order:
            strength = lexical_scores.get(index, 0.0) / top_lexical + (
                dense_scores.get(index, floor_dense) if dense_scores else 0.0
            )
            key = passages.section_ids[index]
            section_best[key] = max(section_best.get(key, 0.0), strength)
        who_rows = analysis.is_who and not signals.roles
        rows = np.zeros((len(order), len(FEATURES)), dtype=np.float64)
        for n, index in enumerate(order):
            # Outside the meaning search's candidates: no closer than its weakest.
            dense = dense_scores.get(index, floor_dense) if dense_scores else 0.0
            facts = passages.facts(index)
            text_cover = passages.coverage(wanted, facts.text_terms)
            context_cover = passages.coverage(wanted, facts.context_terms)
            phrase = len(query_pairs & _bigrams(facts.sequence)) / len(query_pairs) if query_pairs else 0.0
            named = self._heading_named(wanted, index)
            stated = facts.states[0 if analysis.answer_type == "time" else 1] if analysis.answer_type else None
            role = signals.roles.get(index, 0.0)
            if who_rows and self.chunks[index].chunk_id in self._role_chunks:
                role = 0.5 * text_cover
            rows[n] = (
                lexical_scores.get(index, 0.0) / top_lexical,
                1.0 / (1 + lexical_rank[index]) if index in lexical_rank else 0.0,
                dense,
                1.0 / (1 + dense_rank[index]) if index in dense_rank else 0.0,
                (dense - floor_dense) / dense_spread,
                passages.coverage(wanted, facts.all_terms),
                text_cover,
                context_cover,
                passages.coverage(wanted, facts.path_terms),
                section_best[passages.section_ids[index]],
                phrase,
                max((passages.coverage(wanted, sentence) for sentence in facts.sentences), default=0.0),
                1.0 if passages.opens_section[index] else 0.0,
                1.0 if stated is True else 0.0,
                1.0 if stated is False else 0.0,
                signals.definitions.get(index, 0.0),
                max(signals.topics.get(index, 0.0), named),
                1.0 if named else 0.0,
                1.0 if analysis.asks_topic and (named or signals.topics.get(index, 0.0) >= 1.0) else 0.0,
                role,
                1.0 if passages.fragments[index] else 0.0,
                math.log1p(facts.length) / 5.0,
            )
        return rows

    def _heading_named(self, wanted: dict[str, float], index: int) -> float:
        """How much of the question is the passage's own heading, when the question names all of it."""
        heading = self.passages.facts(index).heading_terms
        if not heading or not heading <= wanted.keys():
            return 0.0
        total = sum(wanted.values())
        return sum(wanted[t] for t in heading) / total if total else 0.0

    def _named_roles(self, analysis: QueryAnalysis) -> dict[int, float]:
        # "What does a portfolio holder do?" and "Who is the section 151 officer?" ask about the
        # role named; "Who advises the portfolio holder?" asks for a different one.
        if analysis.roles_mentioned and (analysis.asks_about_role and not analysis.is_who or analysis.names_role):
            named = [self.passages.by_id[c] for c in analysis.roles_mentioned if c in self.passages.by_id]
            return {index: 1.0 / (n + 1) for n, index in enumerate(named)}
        return {}

    def _definitions(self, analysis: QueryAnalysis) -> tuple[dict[int, float], dict[int, float]]:
        """Passages defining the term asked about, and passages whose heading is that term.

        1 for exactly the term; a definition of part of it ("Plan" for "the Plan stage") counts
        in proportion to how much of the term it covers.
        """
        term = analysis.definition_term
        definitions: dict[int, float] = {}
        topics: dict[int, float] = {}
        if not term:
            return definitions, topics

        def note(index: int, strength: float, value: float) -> None:
            table = definitions if strength >= DEFINES_SENTENCE else topics
            table[index] = max(table.get(index, 0.0), value)

        for index, strength in self.passages.definitions.get(term, ()):
            note(index, strength, 1.0 if strength >= DEFINES_SENTENCE else 1.0)
        term_words = set(terms(term))
        total = sum(self.idf(t) for t in term_words)
        for word in term_words:
            for index, defined, strength, defined_terms in self.passages.definitions_by_word.get(word, ()):
                if defined == term or not defined_terms <= term_words:
                    continue
                note(index, strength, sum(self.idf(t) for t in defined_terms) / total)
        return definitions, topics
