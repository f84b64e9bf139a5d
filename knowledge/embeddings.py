"""The sentence-embedding model behind dense retrieval.

By default this is all-MiniLM-L6-v2 as an ONNX model in Chroma's folder layout
(``<dir>/onnx/model.onnx`` and its tokenizer). ``EMBEDDING_MODEL_DIR`` points
at a local copy, which is what offline council servers use; without it,
Chroma's own default model is used, which Chroma downloads on first use. When
neither can be loaded the assistant says so once and answers with keyword
search alone.
"""

from __future__ import annotations

import logging
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from chromadb.utils.embedding_functions import ONNXMiniLM_L6_V2

from bot.logging import event

log = logging.getLogger(__name__)

REQUIRED_FILES = ("model.onnx", "tokenizer.json", "config.json", "vocab.txt")


class EmbeddingUnavailable(RuntimeError):
    """No embedding model could be loaded; retrieval falls back to keywords only."""


class LocalMiniLM(ONNXMiniLM_L6_V2):
    """Chroma's MiniLM embedding function, reading the model from a given folder.

    Chroma pads every text to 256 tokens; padding each batch only to its longest
    text gives identical vectors (padding is masked out) at a fraction of the cost
    for short guidance passages and questions.
    """

    def __init__(self, model_dir: Path) -> None:
        super().__init__(preferred_providers=["CPUExecutionProvider"])
        self.DOWNLOAD_PATH = Path(model_dir)

    @cached_property
    def tokenizer(self) -> Any:
        tokenizer = self.Tokenizer.from_file(str(Path(self.DOWNLOAD_PATH) / self.EXTRACTED_FOLDER_NAME / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=256)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        return tokenizer

    def _forward(self, documents: list[str], batch_size: int = 32) -> np.ndarray:
        batches = []
        for start in range(0, len(documents), batch_size):
            encoded = self.tokenizer.encode_batch(documents[start : start + batch_size])
            input_ids = np.array([e.ids for e in encoded], dtype=np.int64)
            attention_mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            output = self.model.run(
                None,
                {
                    "input_ids": input_ids,
                    "attention_mask": attention_mask,
                    "token_type_ids": np.zeros_like(input_ids),
                },
            )[0]
            # Mean-pool over real tokens only, then L2-normalise (sentence-transformers' recipe).
            mask = attention_mask[..., None].astype(np.float32)
            pooled = (output * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
            batches.append(self._normalize(pooled).astype(np.float32))
        return np.concatenate(batches) if batches else np.zeros((0, 384), dtype=np.float32)

    @staticmethod
    def name() -> str:
        return "onnx_mini_lm_l6_v2"


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
                raise EmbeddingUnavailable(
                    f"the embedding model folder {model_dir} is missing {', '.join(missing)}"
                )
            function: Any = LocalMiniLM(model_dir)
            identity = f"all-MiniLM-L6-v2@{model_dir}"
        else:
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
    event(
        log,
        "embedding_model_unavailable",
        logging.WARNING,
        reason=reason,
        effect="answering with keyword search only; set EMBEDDING_MODEL_DIR to a local all-MiniLM-L6-v2 copy",
    )
