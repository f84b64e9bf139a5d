"""Words for keyword search: lower-cased, stop words removed, stemmed (English).

Besides the usual stop words, the verbs people use to frame a question
("what does X involve", "what happens in", "what does it mean") are dropped:
they say what kind of answer is wanted, not what it is about.
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

_WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")
_stemmer = Stemmer.Stemmer("english")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "s",
        "t",
        "don",
        "shall",
        "may",
        "might",
        "must",
        "let",
        "lets",
        "us",
        "whose",
        "tell",
        "explain",
        "please",
        "describe",
        "involve",
        "involves",
        "involved",
        "happen",
        "happens",
        "happening",
        "mean",
        "means",
        "meant",
        "include",
        "includes",
        "included",
        "cover",
        "covers",
        "say",
        "says",
        "said",
        "know",
        "like",
        "get",
        "gets",
        "go",
        "goes",
    ]
)


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer.stemWord(word))


_stem = stem


def words(text: str) -> list[str]:
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


def terms(text: str) -> list[str]:
    """Stemmed content words, in order, duplicates kept (what BM25 counts)."""
    return [_stem(w.split("'")[0]) for w in words(text) if w not in STOP_WORDS and w.split("'")[0] not in STOP_WORDS]


def term_set(text: str) -> set[str]:
    return set(terms(text))
