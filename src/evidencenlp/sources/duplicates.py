"""Near-duplicate groups of source rows: rows this similar stay on one side of every split."""

from __future__ import annotations

import numpy as np

#: cosine at or above which two rows count as near-duplicates
NEAR_DUPLICATE = 0.92


def near_duplicate_groups(vectors: np.ndarray, threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """Group id per row: rows linked by cosine ≥ ``threshold`` (transitively) share a group."""
    n = len(vectors)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    for start in range(0, n, 1024):
        sims = vectors[start:start + 1024] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows + start, cols):
            if r < c:
                a, b = find(int(r)), find(int(c))
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(n)])
