"""Evaluation metrics as pure numpy functions (no model, no I/O).

Conventions:

- ``y_true`` / ``y_pred`` are 1-D sequences of string labels of equal length ``n``.
- ``proba`` is a float array ``(n, n_classes)`` whose columns follow a given ``classes`` list.
- ``confidence`` is a float array ``(n,)`` in [0, 1] (the top-label probability) and ``correct`` a
  bool array ``(n,)`` (whether the top label was right).
- Every function returns ``nan`` (or empty results) for empty input rather than raising, so a task
  without labelled rows in some slice simply shows as missing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

#: labels as a sequence of str or a numpy array of them
LabelArray = Sequence[str] | np.ndarray

#: the ordinal order of the rating bands, worst first (used by QWK and within-one accuracy)
#: coverages at which selective accuracy is reported: 10 %, 20 %, …, 100 %
DEFAULT_COVERAGES: tuple[float, ...] = tuple(round(0.1 * i, 1) for i in range(1, 11))


def _arr(values: Sequence[str] | np.ndarray) -> np.ndarray:
    return np.asarray(list(values), dtype=object)


def _check_pair(y_true: LabelArray, y_pred: LabelArray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _arr(y_true), _arr(y_pred)
    if len(a) != len(b):
        raise ValueError(f"y_true has {len(a)} labels but y_pred has {len(b)}")
    return a, b


def label_order(y_true: LabelArray, y_pred: LabelArray, labels: Sequence[str] | None = None) -> list[str]:
    """``labels`` if given, else the sorted union of labels seen in ``y_true`` and ``y_pred``."""
    if labels is not None:
        return list(labels)
    return sorted({str(v) for v in (*list(y_true), *list(y_pred))})


def accuracy(y_true: LabelArray, y_pred: LabelArray) -> float:
    """Fraction of positions where the labels agree; ``nan`` for empty input."""
    a, b = _check_pair(y_true, y_pred)
    return float(np.mean(a == b)) if len(a) else math.nan


def confusion_matrix(y_true: LabelArray, y_pred: LabelArray, labels: Sequence[str] | None = None) -> np.ndarray:
    """Counts ``(n_labels, n_labels)``: row = true label, column = predicted label, in ``labels`` order.

    Pairs whose true or predicted label is not in ``labels`` are not counted.
    """
    a, b = _check_pair(y_true, y_pred)
    order = label_order(a, b, labels)
    pos = {lab: i for i, lab in enumerate(order)}
    cm = np.zeros((len(order), len(order)), dtype=np.int64)
    for t, p in zip(a, b):
        if t in pos and p in pos:
            cm[pos[t], pos[p]] += 1
    return cm


@dataclass(frozen=True)
class ClassScore:
    """Precision, recall, F1 and support (number of true rows) of one class."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def per_class_scores(y_true: LabelArray, y_pred: LabelArray,
                     labels: Sequence[str] | None = None) -> list[ClassScore]:
    """Precision/recall/F1/support per class in ``labels`` order (0 where undefined, as sklearn's
    ``zero_division=0``)."""
    a, b = _check_pair(y_true, y_pred)
    order = label_order(a, b, labels)
    out = []
    for lab in order:
        tp = int(np.sum((a == lab) & (b == lab)))
        n_pred = int(np.sum(b == lab))
        n_true = int(np.sum(a == lab))
        p = tp / n_pred if n_pred else 0.0
        r = tp / n_true if n_true else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out.append(ClassScore(str(lab), p, r, f, n_true))
    return out


def macro_f1(y_true: LabelArray, y_pred: LabelArray, labels: Sequence[str] | None = None) -> float:
    """Unweighted mean F1 over ``labels`` (default: every label in ``y_true`` ∪ ``y_pred``, as sklearn)."""
    a, b = _check_pair(y_true, y_pred)
    if not len(a):
        return math.nan
    scores = per_class_scores(a, b, labels)
    return float(np.mean([s.f1 for s in scores])) if scores else math.nan


def top_k_accuracy(y_true: LabelArray, proba: np.ndarray, classes: Sequence[str], k: int = 3) -> float:
    """Fraction of rows whose true label is among the ``k`` most probable columns of ``proba``.

    ``proba`` is ``(n, n_classes)`` with columns in ``classes`` order; a true label that is not a
    column counts as a miss. Ties are broken by column order (stable sort).
    """
    a = _arr(y_true)
    proba = np.asarray(proba, dtype=float)
    if proba.shape != (len(a), len(classes)):
        raise ValueError(f"proba has shape {proba.shape}; expected ({len(a)}, {len(classes)})")
    if not len(a):
        return math.nan
    pos = {c: i for i, c in enumerate(classes)}
    top = np.argsort(-proba, axis=1, kind="stable")[:, :k]
    hits = [pos.get(t, -1) in row for t, row in zip(a, top)]
    return float(np.mean(hits))


def _ordinal(values: np.ndarray, order: Sequence[str]) -> np.ndarray:
    pos = {lab: i for i, lab in enumerate(order)}
    unknown = sorted({str(v) for v in values if v not in pos})
    if unknown:
        raise ValueError(f"labels {unknown} are not in the ordinal order {list(order)}")
    return np.array([pos[v] for v in values], dtype=np.int64)


def quadratic_weighted_kappa(y_true: LabelArray, y_pred: LabelArray, order: Sequence[str]) -> float:
    """Cohen's kappa with quadratic weights ``w_ij = (i - j)² / (K - 1)²`` over the ordinal ``order``.

    ``1 - Σ w·O / Σ w·E`` with ``O`` the observed confusion matrix and ``E`` the outer product of its
    marginals scaled to ``n``. Returns ``nan`` for empty input, and 1.0 / 0.0 when the expected
    disagreement is zero (all rows one category) and the observed one is zero / non-zero.
    """
    a, b = _check_pair(y_true, y_pred)
    if not len(a):
        return math.nan
    k = len(order)
    ia, ib = _ordinal(a, order), _ordinal(b, order)
    observed = np.zeros((k, k))
    np.add.at(observed, (ia, ib), 1)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(a)
    i, j = np.indices((k, k))
    weights = (i - j) ** 2 / max(1, (k - 1) ** 2)
    denom = float((weights * expected).sum())
    num = float((weights * observed).sum())
    if denom == 0:
        return 1.0 if num == 0 else 0.0
    return 1.0 - num / denom


def within_one_accuracy(y_true: LabelArray, y_pred: LabelArray, order: Sequence[str]) -> float:
    """Fraction of rows whose predicted rank is at most one step from the true rank in ``order``."""
    a, b = _check_pair(y_true, y_pred)
    if not len(a):
        return math.nan
    return float(np.mean(np.abs(_ordinal(a, order) - _ordinal(b, order)) <= 1))


def cohen_kappa(a: Sequence[str], b: Sequence[str], labels: Sequence[str] | None = None) -> float:
    """Cohen's (unweighted) kappa between two raters: ``(p_o - p_e) / (1 - p_e)``.

    ``labels`` defaults to the union of both raters' labels. When ``p_e == 1`` (both raters always
    used the same single label) the result is 1.0 if they agree everywhere, else 0.0.
    """
    x, y = _check_pair(a, b)
    if not len(x):
        return math.nan
    cm = confusion_matrix(x, y, labels).astype(float)
    n = cm.sum()
    if n == 0:
        return math.nan
    p_o = np.trace(cm) / n
    p_e = float((cm.sum(axis=1) * cm.sum(axis=0)).sum() / n**2)
    if p_e >= 1.0:
        return 1.0 if p_o == 1.0 else 0.0
    return float((p_o - p_e) / (1 - p_e))


def top_label(proba: np.ndarray, classes: Sequence[str], y_true: LabelArray) -> tuple[np.ndarray, np.ndarray]:
    """``(confidence (n,), correct (n,) bool)`` of the argmax column of ``proba`` against ``y_true``."""
    proba = np.asarray(proba, dtype=float)
    if not len(proba):
        return np.zeros(0), np.zeros(0, dtype=bool)
    pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)]
    return proba.max(axis=1), pred == _arr(y_true)


def _check_conf(confidence: np.ndarray, correct: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = np.asarray(confidence, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    if c.shape != ok.shape or c.ndim != 1:
        raise ValueError(f"confidence {c.shape} and correct {ok.shape} must be 1-D of the same length")
    if len(c) and (np.nanmin(c) < 0 or np.nanmax(c) > 1 + 1e-9):
        raise ValueError("confidence must lie in [0, 1]")
    return c, ok


@dataclass(frozen=True)
class ReliabilityBin:
    """One equal-width confidence bin ``[lower, upper)`` (the last bin includes 1.0)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict (``nan`` for an empty bin's mean confidence and accuracy)."""
        return asdict(self)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> list[ReliabilityBin]:
    """Reliability-diagram data: ``n_bins`` equal-width bins over [0, 1] of the top-label confidence.

    A row with confidence ``c`` falls in bin ``min(floor(c · n_bins), n_bins - 1)``.
    """
    c, ok = _check_conf(confidence, correct)
    idx = np.minimum((c * n_bins).astype(int), n_bins - 1) if len(c) else np.zeros(0, dtype=int)
    bins = []
    for b in range(n_bins):
        m = idx == b
        n = int(m.sum())
        bins.append(ReliabilityBin(b / n_bins, (b + 1) / n_bins, n,
                                   float(c[m].mean()) if n else math.nan, float(ok[m].mean()) if n else math.nan))
    return bins


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, n_bins: int = 10) -> float:
    """Top-label ECE: ``Σ_b (n_b / n) · |accuracy_b - mean_confidence_b|`` over equal-width bins."""
    c, ok = _check_conf(confidence, correct)
    if not len(c):
        return math.nan
    total = 0.0
    for b in reliability_bins(c, ok, n_bins):
        if b.count:
            total += b.count / len(c) * abs(b.accuracy - b.mean_confidence)
    return float(total)


@dataclass(frozen=True)
class CoveragePoint:
    """Accuracy on the ``n_kept`` most confident rows (``coverage`` = n_kept / n)."""

    coverage: float
    n_kept: int
    accuracy: float
    threshold: float

    def to_dict(self) -> dict[str, object]:
        """JSON-ready dict."""
        return asdict(self)


def selective_accuracy(confidence: np.ndarray, correct: np.ndarray,
                       coverages: Sequence[float] = DEFAULT_COVERAGES) -> list[CoveragePoint]:
    """Accuracy when only the most confident ``coverage`` fraction of rows is answered.

    Rows are sorted by confidence, highest first (ties keep input order); at coverage ``c`` the
    first ``max(1, ceil(c · n))`` rows are kept. ``threshold`` is the lowest confidence kept.
    """
    c, ok = _check_conf(confidence, correct)
    if not len(c):
        return []
    order = np.argsort(-c, kind="stable")
    points = []
    for cov in coverages:
        k = max(1, math.ceil(round(cov * len(c), 9)))
        kept = order[:k]
        points.append(CoveragePoint(float(cov), int(k), float(ok[kept].mean()), float(c[kept].min())))
    return points
