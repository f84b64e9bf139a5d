"""Keyword search: BM25 over the stemmed words stored with each passage."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import bm25s
import numpy as np

# bm25s sets its own logger to DEBUG when imported, which would print a line for every re-index.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """BM25 (k1 1.2, b 0.75) over each passage's search words; built in memory from the stored words."""

    def __init__(self, sequences: Sequence[list[str]]) -> None:
        self._model: bm25s.BM25 | None = None
        self._vocab: dict[str, int] = {}
        self.document_frequency: dict[str, int] = {}
        corpus = [sequence or ["_"] for sequence in sequences]
        if corpus:
            model = bm25s.BM25(k1=1.2, b=0.75)
            model.index(corpus, show_progress=False)
            self._model = model
            self._vocab = model.vocab_dict
            # How many passages use each word, read off the index it has just built (one column per word).
            counts = np.diff(np.asarray(model.scores["indptr"]))
            self.document_frequency = {
                term: int(counts[column]) for term, column in self._vocab.items() if term and column < len(counts)
            }

    def search(self, query_terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        if self._model is None:
            return []
        known = [t for t in query_terms if t in self._vocab]
        if not known:
            return []
        scores = self._model.get_scores(known)
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
