"""Combine the key-question and statement heads into one consistent, calibrated distribution.

P(statement s) ∝ (p_statement(s) · p_key_question(kq(s)))^(1/T), and P(key question k) is the sum of
P(s) over the statements of k — so the suggested statement always lies within the suggested key
question. T (the joint temperature) is fitted on out-of-fold predictions of real notes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize_scalar

from evidencenlp.frameworks import KEY_QUESTIONS


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
          temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Joint statement probabilities and the key-question marginal.

    ``statement`` is ``(n, S)`` in the order of ``statement_kq`` (the key question of each statement);
    ``key_question`` is ``(n, 5)`` in :data:`KEY_QUESTIONS` order. Returns ``(n, S)`` and ``(n, 5)``.
    """
    kq_col = np.array([KEY_QUESTIONS.index(k) for k in statement_kq])
    logp = (np.log(np.clip(statement, 1e-12, None)) + np.log(np.clip(key_question[:, kq_col], 1e-12, None)))
    logp /= temperature
    logp -= logp.max(axis=1, keepdims=True)
    p = np.exp(logp)
    p /= p.sum(axis=1, keepdims=True)
    marginal = np.stack([p[:, kq_col == k].sum(axis=1) for k in range(len(KEY_QUESTIONS))], axis=1)
    return p, marginal


def fit_joint_temperature(statement: np.ndarray, key_question: np.ndarray, statement_kq: Sequence[str],
                          y: np.ndarray) -> float:
    """Temperature in [0.2, 10] minimising the NLL of true statement indices ``y`` under :func:`joint`."""

    def nll(t: float) -> float:
        p, _ = joint(statement, key_question, statement_kq, t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    return float(minimize_scalar(nll, bounds=(0.2, 10.0), method="bounded").x)
