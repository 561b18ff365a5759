"""The heads' input features, built the same way for training and for prediction."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evidencenlp.cues import cue_features
from evidencenlp.matching import FrameworkIndex


def head_features(index: FrameworkIndex, vectors: np.ndarray, texts: Sequence[str], similarity: bool = True,
                  cues: bool = True, sims: np.ndarray | None = None) -> np.ndarray:
    """``[embedding | similarity features | wording cues]`` → float32 ``(n, 384 + …)``.

    ``vectors`` are the L2-normalised embeddings ``(n, 384)`` of ``texts`` (the redacted notes);
    ``sims`` their similarities to the framework sentences, if already computed.
    """
    parts = [vectors]
    if similarity:
        parts.append(index.features(vectors, sims))
    if cues:
        parts.append(cue_features(texts))
    return np.hstack(parts).astype(np.float32)
