"""The sentence-embedding model behind dense retrieval.

By default this is all-MiniLM-L6-v2 as an ONNX model in Chroma's folder layout
(``<dir>/onnx/model.onnx`` and its tokenizer). ``EMBEDDING_MODEL_DIR`` points
at a local copy, which is what offline council servers use; without it,
Chroma's own default model is used, which Chroma downloads on first use. When
neither can be loaded the assistant says so once and answers with keyword
search alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import structlog

log = structlog.get_logger(__name__)

REQUIRED_FILES = ("model.onnx", "tokenizer.json", "config.json", "vocab.txt")
MAX_TOKENS = 256  # what all-MiniLM-L6-v2 was trained on
# Texts per model call are limited by padded tokens, not by count: the model's working memory grows with
# texts x tokens, so 8 full-length passages or 64 short questions go together (measured: about 360 MB at
# most for the model and its working memory, against 1 GB for 32 full-length passages).
TOKEN_BUDGET = 8 * MAX_TOKENS


class EmbeddingUnavailable(RuntimeError):
    """No embedding model could be loaded; retrieval falls back to keywords only."""


class LocalMiniLM:
    """all-MiniLM-L6-v2 sentence vectors from a local ONNX model folder, with onnxruntime and its tokenizer.

    Texts are grouped by length and each group is padded only to its longest
    text (padding is masked out, so the vectors are the same as padding to 256
    tokens, at a fraction of the cost for short guidance passages and
    questions). Mean-pooled over real tokens and L2-normalised, as
    sentence-transformers does.
    """

    def __init__(self, model_dir: Path) -> None:
        # lazy: onnxruntime takes a quarter of a second to load; keyword-only search never needs it.
        import onnxruntime
        from tokenizers import Tokenizer

        onnx_dir = Path(model_dir) / "onnx"
        self.tokenizer = Tokenizer.from_file(str(onnx_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()  # the file asks for a fixed 128; each group is padded to its longest below
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # Graph optimisation unpacks the model's quantised weights once (about 80 MB more) instead of on every
        # call: a question embeds in about 10 ms rather than 50.
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Memory patterns keep a plan per input shape, and shapes vary with every group of texts.
        options.enable_mem_pattern = False
        self.session = onnxruntime.InferenceSession(
            str(onnx_dir / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )

    def __call__(self, documents: list[str]) -> np.ndarray:
        if not documents:
            return np.zeros((0, 384), dtype=np.float32)
        token_ids = [e.ids for e in self.tokenizer.encode_batch(documents)]
        vectors = np.zeros((len(documents), 384), dtype=np.float32)
        for group in _groups([len(ids) for ids in token_ids]):
            vectors[group] = self._embed([token_ids[i] for i in group])
        return vectors

    def _embed(self, token_ids: list[list[int]]) -> np.ndarray:
        longest = max(len(ids) for ids in token_ids)
        input_ids = np.zeros((len(token_ids), longest), dtype=np.int64)  # 0 is [PAD]
        attention_mask = np.zeros_like(input_ids)
        for row, ids in enumerate(token_ids):
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
        output: np.ndarray = self.session.run(
            None,
            {"input_ids": input_ids, "attention_mask": attention_mask, "token_type_ids": np.zeros_like(input_ids)},
        )[0]
        mask = attention_mask[..., None].astype(np.float32)
        pooled: np.ndarray = (output * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)


def _groups(lengths: list[int], budget: int = TOKEN_BUDGET) -> list[list[int]]:
    """Positions grouped shortest first so that each group's size times its longest text stays within budget."""
    groups: list[list[int]] = []
    current: list[int] = []
    for position in sorted(range(len(lengths)), key=lambda i: lengths[i]):
        if current and (len(current) + 1) * lengths[position] > budget:
            groups.append(current)
            current = []
        current.append(position)
    if current:
        groups.append(current)
    return groups


def _missing_files(model_dir: Path) -> list[str]:
    onnx_dir = model_dir / "onnx"
    return [name for name in REQUIRED_FILES if not (onnx_dir / name).is_file()]


def load_embedding_function(model_dir: Path | None) -> tuple[Any, str]:
    """Return (embedding function, model identity) or raise :class:`EmbeddingUnavailable`."""
    try:
        if model_dir is not None:
            model_dir = Path(model_dir).expanduser().resolve()
            missing = _missing_files(model_dir)
            if missing:
                raise EmbeddingUnavailable(f"the embedding model folder {model_dir} is missing {', '.join(missing)}")
            function: Any = LocalMiniLM(model_dir)
            identity = f"all-MiniLM-L6-v2@{model_dir}"
        else:
            # lazy: Chroma takes about a second to import; only a server with no local copy of the model needs
            # Chroma's own copy of it (downloaded on first use).
            from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

            function = ONNXMiniLM_L6_V2(preferred_providers=["CPUExecutionProvider"])
            identity = "all-MiniLM-L6-v2@chroma-default"
        # Load now, so that a broken model is found at start-up rather than on a user's question.
        vectors = function(["commissioning"])
        if len(vectors) != 1 or len(vectors[0]) == 0:
            raise EmbeddingUnavailable("the embedding model returned no vector")
        return function, identity
    except EmbeddingUnavailable:
        raise
    except Exception as exc:  # any failure to load means keyword-only search, not a crash
        raise EmbeddingUnavailable(f"the embedding model could not be loaded ({type(exc).__name__}: {exc})") from exc


def describe_fallback(reason: str) -> None:
    log.warning(
        "embedding_model_unavailable",
        reason=reason,
        effect="answering with keyword search only; set EMBEDDING_MODEL_DIR to a local all-MiniLM-L6-v2 copy",
    )
