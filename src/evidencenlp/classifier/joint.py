"""The maths between the heads: aligning label columns, the joint key question × statement distribution and
its temperature, the one decision every display shows, and making the band agree with the direction head.

All functions are pure: arrays in, arrays out (rows are notes).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar


def direction_confidence(band: np.ndarray) -> np.ndarray:
    """``(n,)`` probability of the more likely direction: max(P(better half), P(worse half)) of ``band`` (best first)."""
    half = band.shape[1] // 2
    pos = band[:, :half].sum(axis=1)
    return np.maximum(pos, band.sum(axis=1) - pos)


def agree_with_direction(band: np.ndarray, positive: np.ndarray) -> np.ndarray:
    """Rescale band probabilities ``(n, n_bands)`` (best first) so their better half sums to ``positive`` ``(n,)``.

    Within each half the band head's proportions are kept; the direction head decides how much mass
    each half gets. Returns a new array whose rows sum to 1.
    """
    half = band.shape[1] // 2
    out = band.astype(np.float64).copy()
    pos = np.clip(out[:, :half].sum(axis=1), 1e-9, None)
    neg = np.clip(out[:, half:].sum(axis=1), 1e-9, None)
    out[:, :half] *= (positive / pos)[:, None]
    out[:, half:] *= ((1.0 - positive) / neg)[:, None]
    return out / out.sum(axis=1, keepdims=True)


def align(proba: np.ndarray, classes: Sequence[str], order: Sequence[str]) -> np.ndarray:
    """Reorder probability columns from ``classes`` to ``order``; classes a head never saw get 0.

    ``proba`` is ``(n, len(classes))``; the result is ``(n, len(order))``.
    """
    out = np.zeros((proba.shape[0], len(order)), dtype=np.float64)
    where = {c: i for i, c in enumerate(classes)}
    for j, name in enumerate(order):
        if name in where:
            out[:, j] = proba[:, where[name]]
    return out


def joint(statement: np.ndarray, key_question: np.ndarray, statement_kq: Sequence[str],
          key_questions: Sequence[str], temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Joint statement probabilities and the key-question marginal.

    ``statement`` is ``(n, S)`` in the order of ``statement_kq`` (the key question of each statement);
    ``key_question`` is ``(n, K)`` in ``key_questions`` order. Returns ``(n, S)`` and ``(n, K)``.
    """
    kq_col = np.array([list(key_questions).index(k) for k in statement_kq])
    logp = np.log(np.clip(statement, 1e-12, None)) + np.log(np.clip(key_question[:, kq_col], 1e-12, None))
    logp /= temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)
    marginal = np.stack([p[:, kq_col == k].sum(axis=1) for k in range(len(key_questions))], axis=1)
    return p, marginal


def statement_ranking(statement: np.ndarray, k: int = 3) -> np.ndarray:
    """Column indices ``(n, k)`` of the ``k`` most probable statements per row of the joint ``(n, S)``, most
    probable first (ties broken by framework order). Column 0 is the suggested statement."""
    return np.argsort(-np.asarray(statement), axis=1, kind="stable")[:, :k]


def decide(statement: np.ndarray, statement_kq: Sequence[str], key_questions: Sequence[str]) -> tuple[np.ndarray,
                                                                                                   np.ndarray]:
    """The suggestion of each row: ``(statement index, key question index)``, each ``(n,)``.

    One distribution decides and is displayed: the suggested statement is the most probable statement of
    the joint key question × statement distribution ``(n, S)``, and the suggested key question is that
    statement's. So the suggestion is always first among the statements shown, and always lies within the
    key question shown. (The key question's own score is its marginal; where another key question has
    more mass spread over several statements, the most probable single statement still decides.)
    """
    st = statement_ranking(statement, 1)[:, 0]
    kq_col = np.array([list(key_questions).index(k) for k in statement_kq])
    return st, kq_col[st]


def fit_joint_temperature(statement: np.ndarray, key_question: np.ndarray, statement_kq: Sequence[str],
                          key_questions: Sequence[str], y: np.ndarray) -> float:
    """Temperature in [0.2, 10] minimising the NLL of true statement indices ``y`` under :func:`joint`."""

    def nll(t: float) -> float:
        p, _ = joint(statement, key_question, statement_kq, key_questions, t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    return float(minimize_scalar(nll, bounds=(0.2, 10.0), method="bounded").x)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of logits ``(n, k)``."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
