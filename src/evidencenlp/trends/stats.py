"""The statistics of trend alerts: intervals, false discovery control and the surveillance test.

Everything works on integer arrays of shape ``(L, G, P)``: locations × groups (the site, key
questions or statements) × consecutive periods, oldest first. A *series* is one location × group.

The surveillance test (:func:`surveillance_test`) asks, for every series and period, whether the
*target* count ``y`` (e.g. negative comments about a key question) in the latest ``w`` periods (a
window ending at the period: evidence accumulated over months) is higher than the location's own past
allows, given a *reference* count ``r`` in the same periods (the location's other comments):

* **expected** = the baseline odds ``θ = (Y_b + a)/(R_b + a/θ̄)`` (the previous ``baseline`` periods
  before the window, shrunk towards the odds pooled over every location ``θ̄`` by ``a`` pseudo-events)
  times the window's reference ``R_w`` (``volume="ratio"``, a share or rate test), or times
  ``w·R̄_b`` × the location's volume shift (``volume="rise"``, the count test: a rise in the location's
  other comments raises the expectation, so a volume rise alone is no alarm, while the complaints
  themselves are not in the reference and so cannot dilute it), or ``w·Ȳ_b`` (``volume="none"``, a plain
  count test);
* **shifts, averaged over whether they happened** (:func:`shift_posterior`): the volume shift (log of
  ``R_w/(w·R̄_b)``) and the **national shift** (log of the median over the *other* locations of their
  observed over expected in the same window; share tests, by default, the median of their *log* odds
  ratios, on the odds scale: :data:`NATIONAL_ESTIMATES`)
  are each an estimate with a known variance; a spike-and-slab prior (no shift, or a half-normal rise)
  gives the posterior probability of a shift and the mean and variance of its size (for the count
  test's national shift, the prior probability is learnt per period from every location's estimate
  in every topic: :func:`estimated_shift_prior`; or, ``national_prior="others"``, for each location from
  the other locations' own rises: :func:`others_shift_prior`). The expectation is
  multiplied by ``exp(mean)`` and the variance joins the test's: noise near 0 barely moves either, a
  clear shift is allowed for in full, and the doubt about whether there was one widens the test
  smoothly (no gate for the noise to fall either side of); a fall never lowers an expectation;
* **over-dispersion** ``D ≥ 1``: the Pearson χ²/df of the same model over the history before the
  tested periods, pooled over every series of the family (shrinkage across locations), with ``d0``
  prior degrees of freedom at 1 (quasi-Poisson);
* counts: **z** = the Poisson signed-root deviance of ``y`` against ``μ`` (continuity-corrected) ÷ ``√(D + μ·Var(log μ̂))``,
  where ``Var(log μ̂)`` carries the baseline's uncertainty and the two shifts' posterior variances;
  one-sided normal p-values; shares (``ratio``): Fisher's exact test of the window against the baseline
  (its negatives × φ), every count divided by ``D`` (exact for small cells, where a normal
  approximation over-alerts).

Several windows (default the latest 1 and 2 periods) are combined by Simes' rule, ``p = min_i(W·p_(i)/i)``,
or its weighted form (:func:`simes` with ``window_weights``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054
#: how the expected count follows the reference count (see the module docstring)
VOLUME_MODES: tuple[str, ...] = ("rise", "ratio", "none")
#: the continuity correction of the count test's signed-root deviance (½: conservative, like an exact test)
CONTINUITY = 0.5
#: the default prior of a shift: the probability that there is one, and the standard deviation of its
#: half-normal size on the log scale (1: rises up to about ×e are unremarkable)
SHIFT_PRIOR_PROB = 0.5
SHIFT_PRIOR_SD = 1.0
#: the prior (probability, sd) of a national shift in a window: agnostic (even odds), as the other
#: locations are the only evidence of one
NATIONAL_PRIOR: tuple[float, float] = (SHIFT_PRIOR_PROB, SHIFT_PRIOR_SD)
#: the prior (probability, sd) of a rise in a location's volume in a window: uncommon (one window in ten),
#: and its own comments measure it well, so a real doubling is still allowed for in full
VOLUME_PRIOR: tuple[float, float] = (0.1, SHIFT_PRIOR_SD)
#: where the count tests' prior probability of a national shift is learnt (``SummaryConfig.national_prior``):
#: ``"estimates"`` — per window from every location's national estimate (:func:`estimated_shift_prior`; a
#: local rise leaks into it), ``"others"`` — from the other locations' own rises (:func:`others_shift_prior`)
NATIONAL_PRIOR_SOURCES: tuple[str, ...] = ("others", "estimates")
#: a Beta(a, b) hyperprior on that probability (pseudo-shifts, pseudo-non-shifts; Beta(1, 1) is uniform):
#: with two other locations × a few topics the EM alone can collapse to nothing when a real shift is noisy
OTHERS_PRIOR_PSEUDO: tuple[float, float] = (1.0, 1.0)
#: how the count tests estimate the national shift from the other locations (``SummaryConfig.national_estimate``):
#: ``"median"`` — the median of their observed ÷ expected (with two others: their mean, pulled by one local
#: bump); ``"logmedian"`` — the median of their *log* shifts (with two others: the mean of the logs, so a
#: closing location's fall offsets another's bump instead of being floored near 0); ``"random"`` — a random-effects (DerSimonian–Laird) mean of their log shifts whose variance grows
#: with their disagreement τ² (:func:`random_effects_others`); ``"min"`` — the smallest of their log shifts
#: (every other location must have moved); ``"most"`` — the median's size, but the probability of a national
#: shift is that most of the other locations rose, each judged on its own counts (:func:`most_others_rose`);
#: ``"share-logmedian"`` — the share tests take the median of the others' log odds ratios, the count tests
#: the median of their ratios
NATIONAL_ESTIMATES: tuple[str, ...] = ("median", "logmedian", "random", "min", "most", "share-logmedian")


def wilson_interval(negative: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float],
                    z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (default 95%) for proportions ``negative / n``, element-wise; NaN where ``n == 0``."""
    x = np.asarray(negative, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
        lo = np.where(m > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(m > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


def bh_qvalues(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of a 1-D array (empty in, empty out)."""
    arr = np.asarray(p, dtype=float)
    if arr.size == 0:
        return arr
    return np.asarray(stats.false_discovery_control(arr, method="bh"))


def weighted_bh_qvalues(p: np.ndarray | Sequence[float], weights: np.ndarray | Sequence[float]) -> np.ndarray:
    """Weighted Benjamini–Hochberg (Genovese, Roeder & Wasserman 2006): the q-values of ``p / w`` with the
    weights rescaled to average 1, so the false discovery rate stays controlled when the weights do not
    depend on the tested counts (here: each test's expected count from its baseline). Equal weights: plain BH."""
    arr = np.asarray(p, dtype=float)
    if arr.size == 0:
        return arr
    w = np.asarray(weights, dtype=float)
    if w.shape != arr.shape or not np.all(np.isfinite(w)) or np.any(w < 0) or w.sum() <= 0:
        raise ValueError("weights must be non-negative, finite and one per p-value, not all zero")
    w = w * (w.size / w.sum())
    with np.errstate(divide="ignore"):
        scaled = np.where(w > 0, arr / w, np.inf)
    return np.minimum(bh_qvalues(np.minimum(scaled, 1.0)), 1.0)


def simes(p: np.ndarray, weights: Sequence[float] | None = None) -> np.ndarray:
    """Simes' combination along the last axis: ``min_i(W·p_(i)/i)`` (valid under positive dependence).

    With ``weights`` (one per entry of the last axis, non-negative, rescaled to sum to 1): the weighted
    Simes test of Benjamini & Hochberg (1997), ``min_i(p_(i) / Σ_{j≤i} w_(j))`` with the weights taken
    in the order of the sorted p-values; equal weights give the plain rule."""
    arr = np.asarray(p, dtype=float)
    n = arr.shape[-1]
    if weights is None:
        return np.min(np.sort(arr, axis=-1) * n / np.arange(1, n + 1), axis=-1)
    w = np.asarray(weights, dtype=float)
    if w.shape != (n,) or np.any(w < 0) or not np.isfinite(w).all() or w.sum() <= 0:
        raise ValueError("simes weights must be non-negative, finite and one per p-value, not all zero")
    order = np.argsort(arr, axis=-1, kind="stable")
    cum = np.cumsum((w / w.sum())[order], axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cum > 0, np.take_along_axis(arr, order, axis=-1) / cum, np.inf)
    return np.minimum(np.min(ratio, axis=-1), 1.0)


def span_sum(a: np.ndarray, end_lag: int, length: int | None) -> np.ndarray:
    """For every period ``t`` (last axis): the sum of ``a`` over periods ``t-end_lag-length+1 … t-end_lag``
    (clipped at the first period; ``length=None``: every period up to ``t-end_lag``)."""
    p = a.shape[-1]
    cum = np.concatenate([np.zeros_like(a[..., :1]), np.cumsum(a, axis=-1)], axis=-1)  # cum[i] = sum a[:i]
    t = np.arange(p)
    hi = np.clip(t - end_lag + 1, 0, p)
    lo = np.zeros(p, dtype=int) if length is None else np.clip(t - end_lag - length + 1, 0, p)
    return cum[..., hi] - cum[..., lo]


@dataclass
class WindowTest:
    """One window length's test for every cell ``(L, G, P)``: counts behind it, expected, z and p.

    ``observed`` target count in the window; ``reference`` the reference count in the window;
    ``expected`` the expected target count; ``baseline_target``/``baseline_reference`` the sums over
    the baseline periods; ``baseline_periods`` how many baseline periods had comments; ``national``
    the national factor applied (1 = none); ``p_worse``/``p_better`` one-sided p-values.
    """

    window: int
    observed: np.ndarray
    reference: np.ndarray
    expected: np.ndarray
    baseline_target: np.ndarray
    baseline_reference: np.ndarray
    baseline_periods: np.ndarray
    national: np.ndarray
    z: np.ndarray
    p_worse: np.ndarray
    p_better: np.ndarray


@dataclass
class SurveillanceResult:
    """:func:`surveillance_test` over every window, and the windows combined.

    ``eligible`` marks cells with a usable baseline; ``p_worse``/``p_better`` are the Simes
    combination over ``windows``; ``best`` the index (into ``windows``) of the window with the
    smallest p for a rise; ``dispersion`` the pooled over-dispersion ``D`` used.
    """

    windows: list[WindowTest]
    eligible: np.ndarray
    p_worse: np.ndarray
    p_better: np.ndarray
    best: np.ndarray
    dispersion: float


def dispersion(target: np.ndarray, reference: np.ndarray, history: int, volume: str, prior_df: float = 10.0) -> float:
    """Pooled Pearson χ²/df of the null model over the first ``history`` periods (1 when fewer than 2).

    Count modes (``rise``, ``none``): each series' own mean count over its periods with comments is the
    fitted value (Poisson variance). ``ratio``: each series' own share ``y/(y+r)`` (binomial variance).
    ``prior_df`` degrees of freedom at D = 1 shrink a short history towards the plain model.
    """
    if history < 2:
        return 1.0
    y = target[..., :history].astype(float)
    r = reference[..., :history].astype(float)
    m = y + r
    active = m > 0
    if volume == "ratio":
        share = y.sum(axis=-1, keepdims=True) / np.maximum(m.sum(axis=-1, keepdims=True), 1)
        mu = share * m
        var = mu * (1 - share)
    else:
        months = active.sum(axis=-1, keepdims=True)
        mu = np.where(active, y.sum(axis=-1, keepdims=True) / np.maximum(months, 1), 0.0)
        var = mu
    use = active & (var > 0)
    series = int((use.sum(axis=-1) > 0).sum())
    cells = int(use.sum())
    chi2 = float((((y - mu) ** 2) / np.where(use, var, 1.0))[use].sum()) if cells else 0.0
    return max(1.0, (chi2 + prior_df) / (max(cells - series, 0) + prior_df))


def _log_bayes_factor(est: np.ndarray, s2: np.ndarray, t2: float) -> np.ndarray:
    """log of slab over spike marginal likelihoods of ``est``: ``2·N(est; 0, s2+t2)·Φ(a)`` (half-normal
    slab, ``a`` the slab posterior mean over its sd) against ``N(est; 0, s2)``."""
    a = est * np.sqrt(t2 / (s2 * (t2 + s2)))
    return (np.log(2.0) + stats.norm.logcdf(a) - 0.5 * np.log((s2 + t2) / s2)
            - 0.5 * est * est * (1 / (s2 + t2) - 1 / s2))


def shift_posterior(estimate: np.ndarray, variance: np.ndarray,
                    prior_prob: float | np.ndarray = SHIFT_PRIOR_PROB,
                    prior_sd: float = SHIFT_PRIOR_SD) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mean and variance of an upward shift ``η ≥ 0`` on the log scale, averaged over whether it exists.

    In: ``estimate`` of ``η`` (e.g. the log of the other locations' observed over expected) with its
    sampling ``variance`` (element-wise arrays). The prior is a spike and slab: no shift (``η = 0``) with
    probability ``1 − prior_prob`` (a number, or an array broadcast against ``estimate``), else
    ``η ~ half-normal(prior_sd)`` (a rise only: a fall elsewhere never lowers an expectation). Out:
    ``(E[η], Var[η])`` — the probability of a shift ``P`` (from the Bayes factor of the two priors) times
    the slab's truncated-normal posterior, and the variance of the mixture ``P·v + P(1−P)·m²``. Noise
    (``estimate`` within a standard error or two of 0) gives a small ``P``, so it barely moves the
    expectation; a clear shift is allowed for in full with its uncertainty, and the
    uncertainty about *whether* there was one widens the test smoothly (no gate to fall either side of).
    """
    est = np.asarray(estimate, dtype=float)
    s2 = np.maximum(np.asarray(variance, dtype=float), 1e-12)
    t2 = prior_sd * prior_sd
    post_var = t2 * s2 / (t2 + s2)
    post_sd = np.sqrt(post_var)
    m = est * t2 / (t2 + s2)
    a = m / post_sd
    log_bf = _log_bayes_factor(est, s2, t2)
    prob = 1 / (1 + (1 - prior_prob) / prior_prob * np.exp(-np.clip(log_bf, -700, 700)))
    mills = np.exp(stats.norm.logpdf(a) - stats.norm.logcdf(a))  # φ(a)/Φ(a)
    slab_mean = m + post_sd * mills
    slab_var = post_var * np.maximum(1 - a * mills - mills * mills, 0.0)
    mean = prob * slab_mean
    return mean, prob * slab_var + prob * (1 - prob) * slab_mean * slab_mean


def _others_median(ratio: np.ndarray, use: np.ndarray) -> np.ndarray:
    """For every location (axis 0): the median of ``ratio`` over the *other* locations where ``use``
    (NaN where no other location is usable)."""
    out = np.full(ratio.shape, np.nan)
    vals = np.where(use, ratio, np.nan)
    for li in range(ratio.shape[0]):
        others = np.delete(vals, li, axis=0)
        if others.shape[0]:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                out[li] = np.nanmedian(others, axis=0)
    return out


def random_effects_others(est: np.ndarray, var: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every location (axis 0): the DerSimonian–Laird random-effects mean of the *other* locations'
    log shifts ``est`` (where ``use``) and its variance ``1/Σ 1/(v_k + τ²)``.

    τ² is the between-location variance beyond the sampling variances ``var`` (moment estimate, ≥ 0): when
    the others agree (a shift common to all) it is near 0 and the mean is as precise as their pooled counts;
    when only some of them moved (one with its own bump, one closing) it is large, so the estimate is
    uncertain and the spike-and-slab doubts it. Out: arrays shaped like ``est``; NaN mean where no other
    location is usable (one other: its own estimate and variance)."""
    w = np.where(use, 1.0 / np.maximum(var, 1e-12), 0.0)
    x = np.where(use, est, 0.0)
    sw = w.sum(axis=0, keepdims=True) - w
    swx = (w * x).sum(axis=0, keepdims=True) - w * x
    sww = (w * w).sum(axis=0, keepdims=True) - w * w
    swxx = (w * x * x).sum(axis=0, keepdims=True) - w * x * x
    n = use.sum(axis=0, keepdims=True) - use.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_fe = swx / sw
        q = np.maximum(swxx - sw * mean_fe * mean_fe, 0.0)  # Cochran's Q over the others
        tau2 = np.where(n >= 2, np.maximum((q - (n - 1)) / np.maximum(sw - sww / sw, 1e-12), 0.0), 0.0)
    mean = np.full(est.shape, np.nan)
    out_var = np.full(est.shape, np.inf)
    for li in range(est.shape[0]):
        rest = [k for k in range(est.shape[0]) if k != li]
        if not rest:
            continue
        wr = np.where(use[rest], 1.0 / (np.maximum(var[rest], 1e-12) + tau2[li]), 0.0)
        total = wr.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean[li] = np.where(total > 0, (wr * x[rest]).sum(axis=0) / total, np.nan)
            out_var[li] = np.where(total > 0, 1.0 / total, np.inf)
    return mean, out_var


def shift_probability(estimate: np.ndarray, variance: np.ndarray,
                      prior_prob: float | np.ndarray = SHIFT_PRIOR_PROB, prior_sd: float = SHIFT_PRIOR_SD) -> np.ndarray:
    """The posterior probability of an upward shift under :func:`shift_posterior`'s spike-and-slab prior."""
    log_bf = _log_bayes_factor(np.asarray(estimate, dtype=float), np.maximum(np.asarray(variance, dtype=float), 1e-12),
                               prior_sd * prior_sd)
    return np.asarray(1 / (1 + (1 - prior_prob) / prior_prob * np.exp(-np.clip(log_bf, -700, 700))))


def most_others_rose(prob: np.ndarray, use: np.ndarray) -> np.ndarray:
    """For every location (axis 0): the probability that more than half of the *other* usable locations rose,
    each with its own probability ``prob`` (independent; the Poisson-binomial tail). With two others: both
    rose; one other: it rose. 0 where no other location is usable."""
    out = np.zeros(prob.shape)
    for li in range(prob.shape[0]):
        rest = [k for k in range(prob.shape[0]) if k != li]
        ps = np.where(use[rest], prob[rest], 0.0)
        n = use[rest].sum(axis=0)
        dist = np.zeros((len(rest) + 1, *prob.shape[1:]))  # dist[j] = P(j of the others rose)
        dist[0] = 1.0
        for k in range(len(rest)):
            dist[1:] = dist[1:] * (1 - ps[k]) + dist[:-1] * ps[k]
            dist[0] = dist[0] * (1 - ps[k])
        j = np.arange(len(rest) + 1).reshape(-1, *([1] * (prob.ndim - 1)))
        out[li] = np.where(n > 0, np.where(j > n / 2, dist, 0.0).sum(axis=0), 0.0)
    return out


def _most_posterior(est: np.ndarray, var_est: np.ndarray, own_est: np.ndarray, own_var: np.ndarray,
                    own_use: np.ndarray, prior: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of the national log shift when it must be seen at most of the other locations:
    the probability is :func:`most_others_rose` (each other location's own probability of a rise under
    ``prior``), the size the slab posterior of the pooled estimate ``est``."""
    p = most_others_rose(shift_probability(own_est, own_var, prior, NATIONAL_PRIOR[1]), own_use)
    slab_mean, slab_var = shift_posterior(est, var_est, 1.0, NATIONAL_PRIOR[1])
    return p * slab_mean, p * slab_var + p * (1 - p) * slab_mean * slab_mean


def _others_min(est: np.ndarray, var: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every location (axis 0): the smallest of the *other* locations' log shifts where ``use`` and
    that location's variance (NaN and inf where none is usable)."""
    mean = np.full(est.shape, np.nan)
    out_var = np.full(est.shape, np.inf)
    vals = np.where(use, est, np.inf)
    for li in range(est.shape[0]):
        rest = [k for k in range(est.shape[0]) if k != li]
        if not rest:
            continue
        k = np.argmin(vals[rest], axis=0)
        lowest = np.take_along_axis(vals[rest], k[None], axis=0)[0]
        ok = np.isfinite(lowest)
        mean[li] = np.where(ok, lowest, np.nan)
        out_var[li] = np.where(ok, np.take_along_axis(var[rest], k[None], axis=0)[0], np.inf)
    return mean, out_var


def national_factor(eligible: np.ndarray, observed: np.ndarray, expected: np.ndarray, d: float,
                    var_log_expected: np.ndarray | None = None,
                    prior_from: str = "estimates", estimate: str = "median") -> tuple[np.ndarray, np.ndarray]:
    """The national shift of every cell, seen at the *other* locations: mean and variance of its log (≥ 0).

    The estimate is the log of the median over the other locations of their ``(O + ½)/(E + ½)`` (observed
    over expected in the same window and group; robust to one other location with its own burst), with
    variance ``D/O`` of the others' pooled count (× π/2 for a median of three or more) plus that of their
    pooled expectation (``var_log_expected``: each location's variance of ``log E``, weighted by ``E²``); it
    is averaged over whether there was a shift at all (:func:`shift_posterior`), the prior probability of a
    shift learnt per period (shrinkage across locations and topics): ``prior_from="others"`` from the
    other locations' own rises in every group (:func:`others_shift_prior`), ``"estimates"`` from every
    location's national estimate (:func:`estimated_shift_prior`). 0 and 0 where no other location can tell.
    ``estimate`` (:data:`NATIONAL_ESTIMATES`) replaces the median by a random-effects mean over the others
    (:func:`random_effects_others`) or by their smallest shift.
    """
    if estimate not in NATIONAL_ESTIMATES:
        raise ValueError(f"estimate must be one of {', '.join(NATIONAL_ESTIMATES)}; got {estimate!r}")
    obs = np.where(eligible, observed, 0.0)
    exp_ = np.where(eligible, expected, 0.0)
    vexp = np.zeros_like(exp_) if var_log_expected is None else np.where(eligible, var_log_expected, 0.0) * exp_ ** 2
    others_e = exp_.sum(axis=0, keepdims=True) - exp_
    others_v = vexp.sum(axis=0, keepdims=True) - vexp
    obs_sum = obs.sum(axis=0, keepdims=True)
    others_o = obs_sum - obs
    others_n = eligible.sum(axis=0, keepdims=True) - eligible.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (observed + 0.5) / (expected + 0.5)
    med = _others_median(ratio, eligible & (expected > 0))
    usable = np.isfinite(med) & (others_n > 0)
    var_est = (d / np.maximum(others_o, 1.0) * np.where(others_n >= 3, np.pi / 2, 1.0)
               + others_v / np.maximum(others_e, 1e-9) ** 2)
    est = np.log(np.where(usable, med, 1.0))
    if estimate == "logmedian":
        med_log = _others_median(np.log(ratio), eligible & (expected > 0))
        est = np.where(usable, med_log, 0.0)
    elif estimate not in ("median", "most"):
        own_est, own_var, own_use = own_shift(eligible, observed, expected, d, var_log_expected)
        pooled, var_est = (random_effects_others if estimate == "random" else _others_min)(own_est, own_var, own_use)
        usable = np.isfinite(pooled) & np.isfinite(var_est)
        est = np.where(usable, pooled, 0.0)
        var_est = np.where(usable, var_est, 1.0)
    if prior_from == "others":
        prior = others_shift_prior(*own_shift(eligible, observed, expected, d, var_log_expected))
    else:
        prior = estimated_shift_prior(est, var_est, usable)
    if estimate == "most":
        mean, var = _most_posterior(est, var_est, *own_shift(eligible, observed, expected, d, var_log_expected), prior)
    else:
        mean, var = shift_posterior(est, var_est, prior, NATIONAL_PRIOR[1])
    return np.where(usable, mean, 0.0), np.where(usable, var, 0.0)


def own_shift(eligible: np.ndarray, observed: np.ndarray, expected: np.ndarray, d: float,
              var_log_expected: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each cell's own rise: ``log((O+½)/(E+½))``, its variance ``D/O + Var(log E)`` and where it is usable."""
    use = eligible & (expected > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        est = np.log(np.where(use, (observed + 0.5) / (expected + 0.5), 1.0))
    var = d / np.maximum(np.where(eligible, observed, 0.0), 1.0) + (
        0.0 if var_log_expected is None else np.where(eligible, var_log_expected, 0.0))
    return est, var, use


def others_shift_prior(own_est: np.ndarray, own_var: np.ndarray, usable: np.ndarray) -> np.ndarray:
    """The probability of a national shift for each location's test in each period, learnt from the
    *other* locations' own rises only (:func:`estimated_shift_prior` over every group of the other
    locations, leaving the tested one out). In: each location's own log observed-over-expected
    ``own_est`` (L, G, P), its variance and where it is ``usable``. Out: shape (L, 1, P).

    Why leave the location out: the national *estimate* of a location is the median of the others'
    rises, so a rise at one location shows in its neighbours' estimates; learning the prior from those
    estimates lets a purely local rise raise the prior that then explains it away. From the others' own
    counts, a local rise at location 0 says nothing about location 0's prior, while a real national
    shift (every location rising) still gives every location a large one."""
    out = np.empty((own_est.shape[0], 1, own_est.shape[-1]))
    for li in range(own_est.shape[0]):
        rest = [k for k in range(own_est.shape[0]) if k != li]
        if not rest:
            out[li] = NATIONAL_PRIOR[0]
            continue
        out[li] = estimated_shift_prior(own_est[rest], own_var[rest], usable[rest], pseudo=OTHERS_PRIOR_PSEUDO)[0]
    return out


def estimated_shift_prior(est: np.ndarray, var: np.ndarray, usable: np.ndarray, iterations: int = 30,
                          pseudo: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """The probability of a national shift in each period (last axis), estimated from every location and
    group of that period (empirical Bayes: EM for the spike-and-slab mixing proportion, started at the
    agnostic :data:`NATIONAL_PRIOR` and kept within [0.01, 0.99]). In: the log-shift estimates ``est`` of
    shape (L, G, P), their variances and where they are ``usable``. Out: shape (1, 1, P). A period where
    the other locations show no shift in any topic gets a small prior, so noise in one topic's estimate
    barely moves its expectation; a period with shifts in several places keeps a large one."""
    prob = np.full((1, 1, est.shape[-1]), NATIONAL_PRIOR[0])
    bf = np.exp(np.clip(_log_bayes_factor(est, np.maximum(var, 1e-12), NATIONAL_PRIOR[1] ** 2), -700, 700))
    n = np.maximum(usable.sum(axis=(0, 1), keepdims=True), 1)
    for _ in range(iterations):
        post = prob * bf / (prob * bf + 1 - prob)
        prob = np.clip((np.where(usable, post, 0.0).sum(axis=(0, 1), keepdims=True) + pseudo[0])
                       / (n + pseudo[0] + pseudo[1]), 0.01, 0.99)
    return prob


def national_odds_ratio(eligible: np.ndarray, yw: np.ndarray, rw: np.ndarray, yb: np.ndarray, rb: np.ndarray,
                        d: float, estimate: str = "median") -> tuple[np.ndarray, np.ndarray]:
    """The national shift for share tests, on the log-odds scale: mean and variance (≥ 0), from the median
    over the other locations of their window-against-baseline odds ratio
    ``((y+½)/(r+½)) / ((Y_b+½)/(R_b+½))`` (variance ``D·(1/O + 1/R)`` of the others' window, × π/2 for a
    median of three or more), averaged over whether there was a shift (:func:`shift_posterior`). ``estimate``
    (:data:`NATIONAL_ESTIMATES`): the median of the odds ratios, of their logs, a random-effects mean of the
    others' log odds ratios (each with variance ``D·(1/y + 1/r + 1/Y_b + 1/R_b)``) or their smallest."""
    obs = np.where(eligible, yw, 0.0)
    ref = np.where(eligible, rw, 0.0)
    others_o = obs.sum(axis=0, keepdims=True) - obs
    others_r = ref.sum(axis=0, keepdims=True) - ref
    others_n = eligible.sum(axis=0, keepdims=True) - eligible.astype(int)
    with np.errstate(divide="ignore", invalid="ignore"):
        odds_ratio = ((yw + 0.5) / (rw + 0.5)) / ((yb + 0.5) / (rb + 0.5))
    med = _others_median(odds_ratio, eligible)
    usable = np.isfinite(med) & (others_n > 0)
    var_est = d * (1 / np.maximum(others_o, 1.0) + 1 / np.maximum(others_r, 1.0)) * np.where(others_n >= 3, np.pi / 2, 1.0)
    est = np.log(np.where(usable, med, 1.0))
    if estimate == "logmedian":
        est = np.where(usable, _others_median(np.log(odds_ratio), eligible), 0.0)
    own_var = d * (1 / np.maximum(yw, 1.0) + 1 / np.maximum(rw, 1.0) + 1 / np.maximum(yb, 1.0)
                   + 1 / np.maximum(rb, 1.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        own_est = np.where(eligible, np.log(odds_ratio), 0.0)
    if estimate == "most":
        mean, var = _most_posterior(est, var_est, own_est, own_var, eligible, NATIONAL_PRIOR[0])
        return np.where(usable, mean, 0.0), np.where(usable, var, 0.0)
    if estimate in ("random", "min"):
        pooled, pooled_var = (random_effects_others if estimate == "random" else _others_min)(own_est, own_var, eligible)
        usable = np.isfinite(pooled) & np.isfinite(pooled_var)
        est, var_est = np.where(usable, pooled, 0.0), np.where(usable, pooled_var, 1.0)
    elif estimate not in ("median", "logmedian"):
        raise ValueError(f"estimate must be one of {', '.join(NATIONAL_ESTIMATES)}; got {estimate!r}")
    mean, var = shift_posterior(est, var_est, *NATIONAL_PRIOR)
    return np.where(usable, mean, 0.0), np.where(usable, var, 0.0)


def volume_shift(rw: np.ndarray, rb: np.ndarray, nb: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """How much a location's expected count rises with its volume: mean and variance of the log factor (≥ 0).

    The estimate is ``log(R_w / (w·R̄_b))`` — the window's reference count (the location's other comments)
    over its baseline mean — with variance ``1/R_w + 1/R_b``, averaged over whether the volume rose at all
    (:func:`shift_posterior`): under steady volume the reference's month-to-month noise (±18% at 30
    comments) is independent of the negatives and barely moves the expectation, while a doubled volume
    raises it by the doubling, its uncertainty carried in the test's variance."""
    with np.errstate(divide="ignore", invalid="ignore"):
        expected_ref = w * rb / np.maximum(nb, 1)
        log_ratio = np.log(np.maximum(rw, 0.5) / np.maximum(expected_ref, 0.5))
        var = 1 / np.maximum(rw, 1) + 1 / np.maximum(rb, 1)
    return shift_posterior(log_ratio, var, *VOLUME_PRIOR)


def _signed_root_deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Poisson signed-root deviance of ``y`` against ``mu`` with a continuity correction of ½ towards ``mu``
    (accurate in the tails where a normal or square-root approximation is not)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        yc = np.where(y > mu, np.maximum(y - CONTINUITY, mu), np.minimum(y + CONTINUITY, mu))
        term = np.where(yc > 0, yc * np.log(yc / mu), 0.0) - (yc - mu)
        return np.sign(yc - mu) * np.sqrt(np.maximum(2 * term, 0.0))


def _count_expectation(yw: np.ndarray, rw: np.ndarray, yb: np.ndarray, rb: np.ndarray, nb: np.ndarray, w: int,
                       pseudo_events: float, volume: str, d: float, min_baseline_periods: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the window-``w`` and baseline sums: the count's expectation before any national shift (following
    the volume upwards for ``rise``), the variance of its log, and where the test is eligible (see
    :func:`surveillance_test`)."""
    mu0 = w * (yb + pseudo_events) / np.maximum(nb, 1)
    var_log = d / (yb + pseudo_events)
    if volume == "rise":
        log_vol, var_vol = volume_shift(rw, rb, nb, w)
        mu0, var_log = mu0 * np.exp(log_vol), var_log + var_vol
    return mu0, var_log, (nb >= min_baseline_periods) & ((yw + rw) > 0)


def surveillance_test(target: np.ndarray, reference: np.ndarray, *, windows: Sequence[int] = (1, 2),
                      baseline: int | None = 12, min_baseline_periods: int = 2, volume: str = "rise",
                      national: bool = True, pseudo_events: float = 1.0,
                      history: int | None = None, prior_df: float = 10.0,
                      window_weights: Sequence[float] | None = None,
                      national_prior: str = "estimates", national_estimate: str = "median") -> SurveillanceResult:
    """Test every location × group × period for a rise (and a fall) in ``target`` against its past.

    ``target`` and ``reference`` are non-negative integer arrays ``(L, G, P)``. ``history`` is how many
    leading periods estimate the over-dispersion (default: all); ``window_weights`` (one per window) make
    the windows' combination a weighted Simes test (:func:`simes`); ``national_prior`` is where the count
    tests learn the prior of a national shift (:data:`NATIONAL_PRIOR_SOURCES`), ``national_estimate`` how they
    estimate the shift from the other locations (:data:`NATIONAL_ESTIMATES`). See the module docstring.
    """
    y = np.asarray(target, dtype=np.int64)
    r = np.asarray(reference, dtype=np.int64)
    if y.shape != r.shape or y.ndim != 3:
        raise ValueError("target and reference must be integer arrays of the same shape (locations, groups, periods)")
    if (y < 0).any() or (r < 0).any():
        raise ValueError("counts must be non-negative")
    if volume not in VOLUME_MODES:
        raise ValueError(f"volume must be one of {', '.join(VOLUME_MODES)}; got {volume!r}")
    if not windows or min(windows) < 1:
        raise ValueError("windows must be positive period counts")
    if national_prior not in NATIONAL_PRIOR_SOURCES:
        raise ValueError(f"national_prior must be one of {', '.join(NATIONAL_PRIOR_SOURCES)}; got {national_prior!r}")
    if national_estimate not in NATIONAL_ESTIMATES:
        raise ValueError(f"national_estimate must be one of {', '.join(NATIONAL_ESTIMATES)}; got {national_estimate!r}")
    split = national_estimate == "share-logmedian"
    share_estimate, count_estimate = ("logmedian", "median") if split else (national_estimate, national_estimate)
    d = dispersion(y, r, y.shape[-1] if history is None else history, volume, prior_df)
    active = ((y + r) > 0).astype(np.int64)
    several = national and y.shape[0] > 1
    results = []
    for w in windows:
        yw = span_sum(y, 0, w).astype(float)
        rw = span_sum(r, 0, w).astype(float)
        yb = span_sum(y, w, baseline).astype(float)
        rb = span_sum(r, w, baseline).astype(float)
        nb = span_sum(active, w, baseline)
        with np.errstate(invalid="ignore", divide="ignore"):
            if volume == "ratio":  # Fisher's exact test of the window's share against the baseline's, counts ÷ D
                m, mb = yw + rw, yb + rb
                pooled = np.clip(yb.sum(axis=0, keepdims=True) / np.maximum(mb.sum(axis=0, keepdims=True), 1),
                                 1e-3, 1 - 1e-3)
                share = (yb + pseudo_events * pooled) / (mb + pseudo_events)
                eligible = (nb >= min_baseline_periods) & (m > 0)
                log_odds, var_odds = (national_odds_ratio(eligible, yw, rw, yb, rb, d, share_estimate) if several
                                      else (np.zeros_like(share), np.zeros_like(share)))
                odds = np.exp(log_odds)
                p1 = share * odds / (1 - share + share * odds)  # the national rise, on the odds scale
                phi = p1 / share
                mu = m * p1
                # the national odds ratio's own noise widens the test like extra over-dispersion
                d_eff = d + mu * (1 - p1) * var_odds
                ya, ra = np.round(yw / d_eff), np.round(rw / d_eff)
                yba, rba = np.round(yb * odds / d_eff), np.round(rb / d_eff)
                total, neg, drawn = ya + ra + yba + rba, ya + yba, ya + ra
                p_up = stats.hypergeom.sf(ya - 1, total, neg, drawn)
                p_down = stats.hypergeom.cdf(ya, total, neg, drawn)
                z = np.where(p_up <= 0.5, stats.norm.isf(np.clip(p_up, 1e-300, 1.0)),
                             np.where(p_down < 0.5, stats.norm.ppf(np.clip(p_down, 1e-300, 1.0)), 0.0))
            else:  # counts: the baseline mean count, following the reference upwards (rise) or not (none)
                mu0, var_log, eligible = _count_expectation(yw, rw, yb, rb, nb, w, pseudo_events, volume, d,
                                                            min_baseline_periods)
                log_phi, var_phi = (national_factor(eligible, yw, mu0, d, var_log, national_prior, count_estimate)
                                    if several
                                    else (np.zeros_like(mu0), np.zeros_like(mu0)))
                phi = np.exp(log_phi)
                mu = mu0 * phi
                z = _signed_root_deviance(yw, mu) / np.sqrt(d + mu * (var_log + var_phi))
                p_up, p_down = stats.norm.sf(z), stats.norm.cdf(z)
        z = np.where(eligible, z, np.nan)
        results.append(WindowTest(window=w, observed=yw.astype(np.int64), reference=rw.astype(np.int64), expected=mu,
                                  baseline_target=yb.astype(np.int64), baseline_reference=rb.astype(np.int64),
                                  baseline_periods=nb, national=phi, z=z,
                                  p_worse=np.where(eligible, p_up, np.nan), p_better=np.where(eligible, p_down, np.nan)))
    eligible = ~np.isnan(results[0].z)  # the first window's test defines eligibility
    worse = np.stack([np.where(np.isnan(res.p_worse), 1.0, res.p_worse) for res in results], axis=-1)
    better = np.stack([np.where(np.isnan(res.p_better), 1.0, res.p_better) for res in results], axis=-1)
    p_worse = np.where(eligible, simes(worse, window_weights), np.nan)
    p_better = np.where(eligible, simes(better, window_weights), np.nan)
    return SurveillanceResult(windows=results, eligible=eligible, p_worse=p_worse, p_better=p_better,
                              best=np.argmin(worse, axis=-1), dispersion=d)


def poisson_baseline_test(counts: np.ndarray, baseline: int = 8) -> np.ndarray:
    """The plain reference test: each period's count against the sum of the previous ``baseline``
    periods, exact conditional Poisson test (``y | y + S ~ Binomial(y + S, 1/(baseline+1))``), one-sided
    for a rise; NaN where fewer than ``baseline`` earlier periods exist."""
    y = np.asarray(counts, dtype=np.int64)
    s = span_sum(y, 1, baseline)
    p = stats.binom.sf(y - 1, y + s, 1.0 / (baseline + 1))
    p[..., :baseline] = np.nan
    return p
