"""The review risk model: how likely a suggestion's key question and band direction are right.

The heads' own probabilities are calibrated on average, but the chance that a suggestion is right also
depends on things a single probability does not see: how far the best key question is ahead of the
next, whether the direction head and the band head agree, whether the note reads like public feedback
or an inspection note (the router), its length and how close it is to any framework sentence. The
risk model is two small logistic regressions — P(key question right) and P(direction right) — each on
its own inputs (a subset of :data:`RISK_FEATURES`), fitted on held-out predictions (never on the rows
the heads learned from), and the ``needs_review`` thresholds are chosen on their outputs
(:func:`~evidencenlp.classifier.thresholds.choose_thresholds`).

The inputs used by default (:data:`KQ_INPUTS`, :data:`DIRECTION_INPUTS`) are the suggested key
question's probability and the direction head's confidence: on ``train``'s held-out notes, scored
nested (``experiments/trust_coverage.py``), every richer input set tried (all ten features, margins,
agreement with the nearest training notes or with the note's clauses, gradient boosting,
interactions) flagged as many notes or more at the same targets. A model saved before the inputs
were chosen per model (no ``kq_inputs`` stored) uses all of :data:`RISK_FEATURES` for both.

Arrays in, arrays out; the fitted model is a handful of numbers stored in ``heads.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

#: the features, in order (see :func:`risk_features`)
RISK_FEATURES: tuple[str, ...] = ("kq_top", "kq_margin", "kq_entropy", "statement_top", "direction_conf",
                                  "direction_head_conf", "heads_agree", "feedback", "log_length",
                                  "max_similarity")


#: the key question model's inputs by default (see the module docstring)
KQ_INPUTS: tuple[str, ...] = ("kq_top",)
#: the direction model's inputs by default
DIRECTION_INPUTS: tuple[str, ...] = ("direction_head_conf",)


def _entropy(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1.0)
    return -(q * np.log(q)).sum(axis=1)


def risk_features(proba: Mapping[str, np.ndarray], lengths: np.ndarray, feedback: np.ndarray,
                  max_similarity: np.ndarray, kq_index: np.ndarray | None = None) -> np.ndarray:
    """``(n, len(RISK_FEATURES))`` features of ``n`` notes.

    ``proba``: the classifier's probabilities (``key_question``, ``statement``, ``band`` best first and,
    when present, ``direction`` positive first); ``lengths``: characters per note; ``feedback``: the
    router's probability that the note is public feedback (0 without a router); ``max_similarity``:
    each note's highest cosine to a framework sentence; ``kq_index``: the suggested key question's column
    per note (default: the most probable).
    """
    kq = np.asarray(proba["key_question"], float)
    rows = np.arange(len(kq))
    chosen = kq.argmax(axis=1) if kq_index is None else np.asarray(kq_index)
    others = kq.copy()
    others[rows, chosen] = -np.inf
    top2 = np.column_stack([kq[rows, chosen], others.max(axis=1)])
    band = np.asarray(proba["band"], float)
    half = band.shape[1] // 2
    band_pos = band[:, :half].sum(axis=1)
    direction_conf = np.maximum(band_pos, 1 - band_pos)
    if "direction" in proba:
        head_pos = np.asarray(proba["direction"], float)[:, 0]
    else:
        head_pos = band_pos
    head_conf = np.maximum(head_pos, 1 - head_pos)
    agree = ((head_pos >= 0.5) == (band_pos >= 0.5)).astype(float)
    return np.column_stack([top2[:, 0], top2[:, 0] - top2[:, 1], _entropy(kq),
                            np.asarray(proba["statement"], float).max(axis=1), direction_conf, head_conf, agree,
                            np.asarray(feedback, float), np.log1p(np.asarray(lengths, float)),
                            np.asarray(max_similarity, float)])


def _columns(names: tuple[str, ...]) -> list[int]:
    unknown = [n for n in names if n not in RISK_FEATURES]
    if unknown or not names:
        raise ValueError(f"risk model inputs {list(names)}: expected a non-empty subset of {list(RISK_FEATURES)}")
    return [RISK_FEATURES.index(n) for n in names]


@dataclass(frozen=True)
class RiskModel:
    """Two logistic regressions on standardised :data:`RISK_FEATURES` columns: P(key question right) on
    ``kq_inputs`` (``kq_coef`` one weight each) and P(direction right) on ``direction_inputs``.
    ``mean`` and ``scale`` are over all of :data:`RISK_FEATURES`."""

    mean: np.ndarray
    scale: np.ndarray
    kq_coef: np.ndarray
    kq_intercept: float
    direction_coef: np.ndarray
    direction_intercept: float
    kq_inputs: tuple[str, ...] = RISK_FEATURES
    direction_inputs: tuple[str, ...] = RISK_FEATURES

    def __post_init__(self) -> None:
        for names, coef in ((self.kq_inputs, self.kq_coef), (self.direction_inputs, self.direction_coef)):
            if len(_columns(names)) != len(coef):
                raise ValueError(f"risk model: {len(coef)} weights for the inputs {list(names)}")

    @classmethod
    def fit(cls, X: np.ndarray, kq_correct: np.ndarray, direction_correct: np.ndarray, C: float = 1.0,
            kq_inputs: tuple[str, ...] = KQ_INPUTS, direction_inputs: tuple[str, ...] = DIRECTION_INPUTS) -> RiskModel:
        """Fit on held-out features ``(n, len(RISK_FEATURES))`` and whether each suggestion's key question
        and direction were right (``(n,)`` each, ``nan`` = no label); each model on its own inputs."""
        from sklearn.linear_model import LogisticRegression

        X = np.asarray(X, float)
        mean, scale = X.mean(axis=0), X.std(axis=0) + 1e-6
        Z = (X - mean) / scale
        parts = []
        for ok, names in ((np.asarray(kq_correct, float), kq_inputs),
                          (np.asarray(direction_correct, float), direction_inputs)):
            cols = _columns(names)
            has = ~np.isnan(ok)
            y = ok[has].astype(int)
            if has.sum() < 20 or len(set(y.tolist())) < 2:  # nothing to learn: a constant
                parts.append((np.zeros(len(cols)), float(np.log((y.mean() + 1e-3) / (1 - y.mean() + 1e-3)))
                              if has.any() else 0.0))
                continue
            lr = LogisticRegression(C=C, max_iter=1000).fit(Z[has][:, cols], y)
            parts.append((lr.coef_[0].copy(), float(lr.intercept_[0])))
        (kc, ki), (dc, di) = parts
        return cls(mean, scale, kc, ki, dc, di, tuple(kq_inputs), tuple(direction_inputs))

    def confidence(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(P(key question right), P(direction right))``, each ``(n,)``, of features ``(n, len(RISK_FEATURES))``."""
        Z = (np.asarray(X, float) - self.mean) / self.scale
        return (1 / (1 + np.exp(-(Z[:, _columns(self.kq_inputs)] @ self.kq_coef + self.kq_intercept))),
                1 / (1 + np.exp(-(Z[:, _columns(self.direction_inputs)] @ self.direction_coef
                                  + self.direction_intercept))))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready (stored in ``heads.json``)."""
        return {"features": list(RISK_FEATURES), "mean": self.mean.tolist(), "scale": self.scale.tolist(),
                "kq_inputs": list(self.kq_inputs), "kq_coef": self.kq_coef.tolist(), "kq_intercept": self.kq_intercept,
                "direction_inputs": list(self.direction_inputs), "direction_coef": self.direction_coef.tolist(),
                "direction_intercept": self.direction_intercept}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RiskModel:
        """Read :meth:`to_dict`; raises ``ValueError`` when the features differ from :data:`RISK_FEATURES` or
        the weights do not match the inputs. Without ``kq_inputs`` / ``direction_inputs`` (a model saved
        before they were chosen per model) both models use every feature."""
        if tuple(d.get("features") or ()) != RISK_FEATURES:
            raise ValueError(f"risk model features {d.get('features')} differ from {list(RISK_FEATURES)}")
        return cls(np.asarray(d["mean"], float), np.asarray(d["scale"], float), np.asarray(d["kq_coef"], float),
                   float(d["kq_intercept"]), np.asarray(d["direction_coef"], float), float(d["direction_intercept"]),
                   tuple(d.get("kq_inputs") or RISK_FEATURES), tuple(d.get("direction_inputs") or RISK_FEATURES))
