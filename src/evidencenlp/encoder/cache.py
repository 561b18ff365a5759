"""Embeddings cached on disk by content: the same texts with the same encoder are embedded once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from evidencenlp.encoder.base import EMBEDDING_DIM, ENCODER_NAME, RECIPES, Embedder, check_backend


def fingerprint(texts: Sequence[str], backend: str = "torch") -> str:
    """A short stable hash of a list of texts together with the encoder (and backend) name (cache key part)."""
    digest = hashlib.sha256(ENCODER_NAME.encode())
    if check_backend(backend) != "torch":
        digest.update(f"|backend={backend}|{RECIPES[backend]}".encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:16]


def encode_cached(texts: Sequence[str], cache_dir: Path, name: str, embedder: Embedder,
                  progress: Callable[[int], None] | None = None) -> np.ndarray:
    """Embed ``texts`` with ``embedder``, reusing ``cache_dir/name-<hash>.npy`` when the same texts were
    embedded before.

    The cache key covers the encoder, its backend and every text, so a changed framework version or text
    gives a new file. The file is plain ``.npy`` (loaded with ``allow_pickle=False``) and written
    atomically; a read-only cache folder is not an error (the texts are embedded again next time).
    ``progress`` is passed to ``embedder.encode`` when the texts have to be embedded.
    """
    path = cache_dir / f"{name}-{fingerprint(texts, embedder.backend)}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(texts), EMBEDDING_DIM):
                return cached
        except (OSError, ValueError):
            pass  # a corrupt cache file is rebuilt below
    vectors = embedder.encode(texts, progress=progress)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache is not an error: we just recompute next time
    return vectors
