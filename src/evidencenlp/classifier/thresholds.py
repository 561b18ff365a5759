"""The review thresholds: below them a suggestion says ``needs_review`` instead of a confident guess."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: below these calibrated probabilities a suggestion says needs_review instead of a confident guess
DEFAULT_THRESHOLDS: dict[str, float] = {"key_question": 0.5, "statement": 0.3, "band": 0.45,
                                        "evidence_category": 0.0, "principles": 0.5}


@dataclass(frozen=True)
class ThresholdChoice:
    """Review thresholds chosen on held-out predictions, with what they give there."""

    key_question: float
    direction: float
    coverage: float
    kq_error: float
    direction_error: float
    n_kq: int
    n_direction: int

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready, rounded."""
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in self.__dict__.items()}


def error_bound(wrong: float, n: int, level: float) -> float:
    """The error rate of ``wrong`` out of ``n`` (0 when ``n`` is 0) or, with ``level`` > 0, its one-sided
    Jeffreys upper bound at that level (the ``level`` quantile of Beta(wrong + ½, n − wrong + ½))."""
    if n == 0:
        return 0.0
    if level <= 0:
        return wrong / n
    from scipy.stats import beta

    return float(beta.ppf(level, wrong + 0.5, n - wrong + 0.5))


def choose_thresholds(kq_conf: np.ndarray, kq_correct: np.ndarray, dir_conf: np.ndarray, dir_correct: np.ndarray,
                      kq_target: float = 0.10, direction_target: float = 0.03, level: float = 0.0) -> ThresholdChoice:
    """The pair of thresholds with the largest coverage such that, among notes not flagged, the key
    question is wrong in at most ``kq_target`` and the direction in at most ``direction_target``.

    Inputs are ``(n,)`` held-out arrays: confidences, and whether the suggestion was right
    (``nan`` where the note has no such label). A note is flagged when either confidence is below
    its threshold. Candidate thresholds are the quantiles 0, 0.02, …, 0.98 of each confidence.
    With ``level`` > 0 the errors' one-sided upper bounds at that level (:func:`error_bound`) must
    meet the targets, so that thresholds chosen on a few hundred notes still meet them on new notes;
    the reported errors are the plain rates.
    """
    kq_conf, dir_conf = np.asarray(kq_conf, float), np.asarray(dir_conf, float)
    kq_ok, dir_ok = np.asarray(kq_correct, float), np.asarray(dir_correct, float)
    has_kq, has_dir = ~np.isnan(kq_ok), ~np.isnan(dir_ok)
    grid = np.linspace(0, 0.98, 50)
    kq_cands = np.unique(np.quantile(kq_conf, grid))
    dir_cands = np.unique(np.quantile(dir_conf, grid))
    best: ThresholdChoice | None = None
    for tk in kq_cands:
        keep_k = kq_conf >= tk
        for td in dir_cands:
            keep = keep_k & (dir_conf >= td)
            nk, nd = int((keep & has_kq).sum()), int((keep & has_dir).sum())
            k_wrong = float(nk - kq_ok[keep & has_kq].sum()) if nk else 0.0
            d_wrong = float(nd - dir_ok[keep & has_dir].sum()) if nd else 0.0
            k_err, d_err = (k_wrong / nk if nk else 0.0), (d_wrong / nd if nd else 0.0)
            if level > 0 and (error_bound(k_wrong, nk, level) > kq_target
                              or error_bound(d_wrong, nd, level) > direction_target):
                continue
            if k_err > kq_target or d_err > direction_target:
                continue
            coverage = float(keep.mean())
            if best is None or coverage > best.coverage:
                best = ThresholdChoice(float(tk), float(td), coverage, k_err, d_err, nk, nd)
    if best is None:  # nothing meets the target: flag everything
        return ThresholdChoice(1.01, 1.01, 0.0, 0.0, 0.0, 0, 0)
    return best
