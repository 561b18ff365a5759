"""The ``torch`` backend: the packaged sentence-transformers model on CPU (the reference; the shipped
heads learned on it)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from evidencenlp.encoder.base import (
    DEFAULT_BATCH_SIZE,
    EMBEDDING_DIM,
    RECIPES,
    SPACES,
    force_offline,
    model_path,
    normalise,
)
from evidencenlp.encoder.spans import Span, span_buffers, span_weights

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

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Embed ``texts`` once and pool each of their ``spans`` from the same pass
        (:class:`evidencenlp.encoder.spans.SpanEmbedder`): the model's own mean pooling and L2 norm, over
        the tokens wholly inside the span and the text's ``[CLS]`` and ``[SEP]`` (which the whole text's
        mean includes too). Returns the texts' vectors ``(n, 384)``, the spans' ``(m, 384)`` and which
        spans were pooled ``(m,)`` (not: beyond the truncated window, or holding no token; zero rows).

        The texts' vectors are those of :meth:`encode` (the same tokenizer call, forward pass and
        modules, batches of ``batch_size`` longest first).
        """
        import torch

        first, notes, vectors, pooled = span_buffers(len(texts), spans)
        if len(texts) == 0:
            return notes, vectors, pooled
        model = get_model()
        tokenizer, window = model.tokenizer, int(model.max_seq_length)
        # the tokens the model adds around every text (not [UNK], which stands for a character of the text)
        special_ids = np.asarray(sorted({i for i in (tokenizer.cls_token_id, tokenizer.sep_token_id,
                                                     tokenizer.pad_token_id) if i is not None}))
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for start in range(0, len(texts), batch_size):
                rows = order[start:start + batch_size]
                features = tokenizer([texts[i] for i in rows], padding=True, truncation="longest_first",
                                     max_length=window, return_tensors="pt", return_offsets_mapping=True)
                offsets = features.pop("offset_mapping").numpy()
                out = model(dict(features))
                notes[rows] = out["sentence_embedding"].numpy()
                tokens = out["token_embeddings"].numpy()
                mask = features["attention_mask"].numpy().astype(bool)
                ids = features["input_ids"].numpy()
                for r, i in enumerate(rows):
                    if first[i + 1] == first[i]:
                        continue
                    live = mask[r]
                    special = np.isin(ids[r][live], special_ids)
                    # truncated when the window is full: its last real token ends where the window ends
                    truncated = int(live.sum()) >= window
                    window_end = int(offsets[r][live][~special][-1, 1]) if truncated and (~special).any() else None
                    weights, ok = span_weights(offsets[r][live], special, spans[i], window_end)
                    sums = weights @ tokens[r][live]
                    sums /= np.maximum(weights.sum(axis=1, keepdims=True), 1.0)
                    vectors[first[i]:first[i + 1]] = normalise(sums)
                    pooled[first[i]:first[i + 1]] = ok
                if progress is not None:
                    progress(len(rows))
        return notes, vectors, pooled
