"""The framework index's similarity features (best similarity per statement, band and principle) are the
plain masked maxima, for a batch and for one note (issue 24: they are now gathered by sentence rows)."""

from __future__ import annotations

import numpy as np
import pytest


def _plain(sims: np.ndarray, masks: list[np.ndarray]) -> np.ndarray:
    out = np.full((sims.shape[0], len(masks)), -1.0, dtype=np.float32)
    for j, mask in enumerate(masks):
        if mask.any():
            out[:, j] = sims[:, mask].max(axis=1)
    return out


@pytest.mark.parametrize("notes", [1, 257])
def test_group_maxima_equal_the_masked_maxima(suggester, notes: int) -> None:
    index = suggester.index
    rng = np.random.default_rng(notes)
    vectors = rng.standard_normal((notes, index.vectors.shape[1])).astype(np.float32)
    sims = index.similarities(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    np.testing.assert_array_equal(index.statement_scores(sims),
                                  _plain(sims, [index.link[:, s] for s in range(len(index.statements))]))
    np.testing.assert_array_equal(index.band_scores(sims),
                                  _plain(sims, [index.band_of == b for b in range(len(index.taxonomy.bands))]))
    np.testing.assert_array_equal(index.principle_scores(sims),
                                  _plain(sims, [index.principle_of == p for p in range(len(index.principles))]))
