"""Scoring passages and judging answers with weights fitted on the development question sets.

Two small linear models, both fitted by ``bench/fit_ranking.py`` and stored in
:mod:`knowledge.fitted` with the figures of the fit:

- the **ranker** scores each candidate passage from its signals (``FEATURES``);
- the **judge** turns what the best passage looks like into a probability that
  it answers the question (the answer's confidence), from ``JUDGE_FEATURES``.

There is one set of weights for keyword and meaning search together and one
for keyword search alone (when no embedding model is installed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from knowledge import fitted

# What is known about each candidate passage, in this order.
FEATURES = (
    "bm25",  # keyword score, relative to the best candidate's
    "bm25_rank",  # 1 / (1 + place in the keyword ranking)
    "dense",  # cosine similarity of meaning
    "dense_rank",  # 1 / (1 + place in the meaning ranking)
    "dense_norm",  # similarity scaled to 0..1 between this question's least and most similar candidates
    "cover",  # share of the question's weighted words in the passage or its headings
    "cover_text",  # the same, in the passage's own text
    "cover_context",  # the same, only in its headings and document title
    "cover_path",  # share of the question's weighted words its headings and document title hold
    "section",  # the best keyword-and-meaning strength of any candidate in the passage's section
    "phrase",  # share of the question's word pairs the passage keeps together
    "sentence",  # the most of the question's weighted words any one sentence of the passage holds
    "first",  # the passage opens its section (the main rule before its exceptions)
    "typed",  # the question asks for a time or an amount and the passage states one ("within 3 working days")
    "untyped",  # the question asks for a time or an amount and the passage states none
    "defines",  # the passage defines the term asked about ("X means ...", "X – ...")
    "topic",  # share of the question that the passage's own heading is ("the Deliver stage")
    "named",  # the question names the passage's own heading in full
    "topic_asked",  # "what is X / what does X involve" and the passage's own heading is X (in full)
    "role",  # the passage is the directory entry of the role asked about
    "fragment",  # a heading-like scrap, never an answer
    "length",  # log of the passage's length in words
)

# What is known about a question's best passage, for the confidence.
JUDGE_FEATURES = (
    "score",  # the ranker's score of the best passage
    "margin",  # how far ahead of the second passage it is
    "cover",
    "cover_text",
    "dense",
    "answer_dense",  # meaning similarity of the quoted sentence itself
    "unknown",  # share of the question's weight on words the guidance never uses
    "defines",
    "role",
    "typed",
    "untyped",
)


# What is known about a question as a whole, for telling questions about the guidance from others.
TOPIC_FEATURES = (
    "dense",  # the closest any passage comes in meaning
    "unknown",  # share of the question's weight on words the guidance never uses
    "cover",  # the most of the question's weighted words any passage holds
    "sentence",  # the most any one sentence holds
)


@dataclass(frozen=True)
class Ranker:
    weights: tuple[float, ...]

    @classmethod
    def fitted(cls, dense: bool) -> Ranker:
        weights = fitted.RANKER_DENSE if dense else fitted.RANKER_KEYWORD
        return cls(tuple(float(weights.get(name, 0.0)) for name in FEATURES))

    def score(self, rows: np.ndarray) -> np.ndarray:
        return rows @ np.asarray(self.weights, dtype=np.float64) if len(rows) else np.zeros(0)


@dataclass(frozen=True)
class Judge:
    weights: tuple[float, ...]
    bias: float

    @classmethod
    def fitted(cls, dense: bool) -> Judge:
        table = fitted.JUDGE_DENSE if dense else fitted.JUDGE_KEYWORD
        return cls(tuple(float(table.get(name, 0.0)) for name in JUDGE_FEATURES), float(table["bias"]))

    def probability(self, values: Mapping[str, float]) -> float:
        pairs = zip(self.weights, JUDGE_FEATURES, strict=True)
        z = self.bias + sum(w * float(values.get(name, 0.0)) for w, name in pairs)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True)
class TopicModel:
    """The probability that a question is about something the guidance covers at all."""

    weights: tuple[float, ...]
    bias: float

    @classmethod
    def fitted(cls, dense: bool) -> TopicModel:
        table = fitted.TOPIC_DENSE if dense else fitted.TOPIC_KEYWORD
        return cls(tuple(float(table.get(name, 0.0)) for name in TOPIC_FEATURES), float(table["bias"]))

    def probability(self, values: Mapping[str, float]) -> float:
        pairs = zip(self.weights, TOPIC_FEATURES, strict=True)
        z = self.bias + sum(w * float(values.get(name, 0.0)) for w, name in pairs)
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


def topic_values(rows: np.ndarray, dense: Mapping[int, float], unknown: float) -> dict[str, float]:
    """The topic model's inputs, from every candidate's signals."""
    if not len(rows):
        return {"dense": 0.0, "unknown": unknown, "cover": 0.0, "sentence": 0.0}
    return {
        "dense": max(dense.values(), default=0.0),
        "unknown": unknown,
        "cover": float(rows[:, FEATURES.index("cover")].max()),
        "sentence": float(rows[:, FEATURES.index("sentence")].max()),
    }


def judge_values(
    scores: Sequence[float], top: Mapping[str, float], answer_dense: float, unknown: float
) -> dict[str, float]:
    """The judge's inputs for a question whose candidates scored ``scores`` (best first)."""
    first = scores[0] if scores else 0.0
    second = scores[1] if len(scores) > 1 else first - 1.0
    return {
        "score": first,
        "margin": first - second,
        "cover": top.get("cover", 0.0),
        "cover_text": top.get("cover_text", 0.0),
        "dense": top.get("dense", 0.0),
        "answer_dense": answer_dense,
        "unknown": unknown,
        "defines": top.get("defines", 0.0),
        "role": top.get("role", 0.0),
        "typed": top.get("typed", 0.0),
        "untyped": top.get("untyped", 0.0),
    }
