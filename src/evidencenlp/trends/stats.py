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
  ``max(R_w, w·R̄_b)`` (``volume="rise"``, the count test: a rise in the location's other comments
  raises the expectation, so a volume rise alone is no alarm, while the complaints themselves are not
  in the reference and so cannot dilute it), or ``w·Ȳ_b`` (``volume="none"``, a plain count test);
* **national factor** ``φ = max(1, (O + k)/(E + k))``: observed over expected at the *other* locations
  in the same window, shrunk by ``k`` pseudo-events, applied when their rise is clear (z > 1.645): a
  rise seen everywhere explains a local rise;
* **over-dispersion** ``D ≥ 1``: the Pearson χ²/df of the same model over the history before the
  tested periods, pooled over every series of the family (shrinkage across locations), with ``d0``
  prior degrees of freedom at 1 (quasi-Poisson);
* counts: **z** = the Poisson signed-root deviance of ``y`` against ``μ`` (continuity-corrected) ÷ ``√(D + μ·Var(log μ̂))``,
  where ``Var(log μ̂)`` carries the baseline's, the reference's and the national factor's uncertainty;
  one-sided normal p-values; shares (``ratio``): Fisher's exact test of the window against the baseline
  (its negatives × φ), every count divided by ``D`` (exact for small cells, where a normal
  approximation over-alerts).

Several windows (default the latest 1 and 2 periods) are combined by Simes' rule, ``p = min_i(W·p_(i)/i)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

Z95 = 1.959963984540054
#: how the expected count follows the reference count (see the module docstring)
VOLUME_MODES: tuple[str, ...] = ("rise", "ratio", "none")


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


def simes(p: np.ndarray) -> np.ndarray:
    """Simes' combination along the last axis: ``min_i(W·p_(i)/i)`` (valid under positive dependence)."""
    arr = np.sort(np.asarray(p, dtype=float), axis=-1)
    w = arr.shape[-1]
    return np.min(arr * w / np.arange(1, w + 1), axis=-1)


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


def _national(eligible: np.ndarray, observed: np.ndarray, expected: np.ndarray, d: float,
              prior: float, gate: float = 1.6448536269514722) -> tuple[np.ndarray, np.ndarray]:
    """The national factor (≥ 1) from the *other* locations and the variance of its log.

    ``φ̂ = (O + k)/(E + k)`` over the other locations' eligible cells, applied only when the others' rise
    is itself clear (one-sided z above ``gate``, 5% under no change: a noisy neighbour costs little power)
    and never below 1 (a fall elsewhere does not make a steady location stand out).
    """
    obs = np.where(eligible, observed, 0.0)
    exp = np.where(eligible, expected, 0.0)
    others_o = obs.sum(axis=0, keepdims=True) - obs
    others_e = exp.sum(axis=0, keepdims=True) - exp
    var_log = d * (others_o + 1) / (others_o + prior) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.log((others_o + prior) / (others_e + prior))
        rise_z = (others_o - others_e) / np.sqrt(d * np.maximum(others_e, 1e-9))
    phi = np.where((others_e > 0) & (rise_z > gate), np.exp(np.maximum(raw, 0.0)), 1.0)
    return phi, np.where(phi > 1, var_log, 0.0)


def _signed_root_deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Poisson signed-root deviance of ``y`` against ``mu`` with a continuity correction of ½ towards ``mu``
    (accurate in the tails where a normal or square-root approximation is not)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        yc = np.where(y > mu, np.maximum(y - 0.5, mu), np.minimum(y + 0.5, mu))
        term = np.where(yc > 0, yc * np.log(yc / mu), 0.0) - (yc - mu)
        return np.sign(yc - mu) * np.sqrt(np.maximum(2 * term, 0.0))


def surveillance_test(target: np.ndarray, reference: np.ndarray, *, windows: Sequence[int] = (1, 2),
                      baseline: int | None = 12, min_baseline_periods: int = 2, volume: str = "rise",
                      national: bool = True, national_prior: float = 10.0, pseudo_events: float = 1.0,
                      history: int | None = None, prior_df: float = 10.0) -> SurveillanceResult:
    """Test every location × group × period for a rise (and a fall) in ``target`` against its past.

    ``target`` and ``reference`` are non-negative integer arrays ``(L, G, P)``. ``history`` is how many
    leading periods estimate the over-dispersion (default: all). See the module docstring for the model.
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
    d = dispersion(y, r, y.shape[-1] if history is None else history, volume, prior_df)
    active = ((y + r) > 0).astype(np.int64)
    results = []
    for w in windows:
        yw = span_sum(y, 0, w).astype(float)
        rw = span_sum(r, 0, w).astype(float)
        yb = span_sum(y, w, baseline).astype(float)
        rb = span_sum(r, w, baseline).astype(float)
        nb = span_sum(active, w, baseline)
        if volume == "ratio":  # binomial: the share y/(y+r) against the baseline share
            m, mb = yw + rw, yb + rb
            pooled = np.clip(yb.sum(axis=0, keepdims=True) / np.maximum(mb.sum(axis=0, keepdims=True), 1), 1e-3, 1 - 1e-3)
            share = (yb + pseudo_events * pooled) / (mb + pseudo_events)
            mu0 = m * share
            eligible = (nb >= min_baseline_periods) & (m > 0)
        else:  # counts: the baseline mean count, following the reference upwards (rise) or not (none)
            mu0 = w * (yb + pseudo_events) / np.maximum(nb, 1)
            var_log = d / (yb + pseudo_events)
            if volume == "rise":
                expected_ref = w * rb / np.maximum(nb, 1)
                factor = np.maximum(1.0, rw / np.maximum(expected_ref, 1e-9))
                mu0 = mu0 * factor
                # the factor's own noise, but never more than its distance from 1 (smooth at the floor)
                var_log = var_log + np.minimum(1 / np.maximum(rw, 1) + 1 / np.maximum(rb, 1), np.log(factor) ** 2)
            eligible = (nb >= min_baseline_periods) & ((yw + rw) > 0)
        phi, var_phi = (_national(eligible, yw, mu0, d, national_prior) if national and y.shape[0] > 1
                        else (np.ones_like(mu0), np.zeros_like(mu0)))
        with np.errstate(invalid="ignore", divide="ignore"):
            if volume == "ratio":  # Fisher's exact test against the baseline (its odds × φ), counts ÷ D
                p1 = np.minimum(share * phi, 0.995)  # φ is a ratio of counts: applied to the share
                mu = m * p1
                odds_factor = p1 / (1 - p1) / (share / (1 - share))
                ya, ra = np.round(yw / d), np.round(rw / d)
                yba, rba = np.round(yb * odds_factor / d), np.round(rb / d)
                total, neg, drawn = ya + ra + yba + rba, ya + yba, ya + ra
                p_up = stats.hypergeom.sf(ya - 1, total, neg, drawn)
                p_down = stats.hypergeom.cdf(ya, total, neg, drawn)
                z = np.where(p_up <= 0.5, stats.norm.isf(np.clip(p_up, 1e-300, 1.0)),
                             np.where(p_down < 0.5, stats.norm.ppf(np.clip(p_down, 1e-300, 1.0)), 0.0))
            else:
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
    p_worse = np.where(eligible, simes(worse), np.nan)
    p_better = np.where(eligible, simes(better), np.nan)
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
