"""The ``torch`` backend: the packaged sentence-transformers model on CPU (the reference; the shipped
heads learned on it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evidencenlp.encoder.base import DEFAULT_BATCH_SIZE, EMBEDDING_DIM, RECIPES, SPACES, force_offline, model_path

_lock = threading.Lock()
_model: Any = None


def get_model() -> Any:
    """The process-wide SentenceTransformer, loaded on first use from site-packages (CPU)."""
    global _model
    with _lock:
        if _model is None:
            force_offline()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            _model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
        return _model


class TorchEmbedder:
    """The packaged sentence-transformers model on CPU; the model is loaded at the first :meth:`encode`."""

    backend = "torch"
    space = SPACES["torch"]
    recipe = RECIPES["torch"]

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts`` → float32 ``(len(texts), 384)``, rows L2-normalised; ``progress(n)`` after each batch."""
        if len(texts) == 0:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        model = get_model()
        if progress is None:
            out = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
            return np.asarray(out, dtype=np.float32)
        # longest first, as sentence-transformers orders one call: batches of similar length pad little
        # (batches in file order padded every short note to its batch's longest: ~1.5x slower on mixed notes)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            vectors[rows] = model.encode([texts[i] for i in rows], batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
            progress(len(rows))
        return vectors
