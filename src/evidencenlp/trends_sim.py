"""Simulated feedback series to measure the change detector of :mod:`evidencenlp.trends`.

Three scenarios, each replicated with a seeded generator:

* ``steady`` — every location × key question keeps its own negative share in every period;
  any alert is a false alarm;
* ``national`` — every location's negative odds rise by the same factor in the last period:
  a national change, so an alert is a false alarm too;
* ``local`` — one location × key question's odds rise by ``odds_ratio`` in the last period;
  detecting it (direction ``worse``) is a hit, any other alert is a false alarm.

Used by ``bench/summarise_bench.py`` and the tests; nothing here touches real data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from evidencenlp.trends import bh_qvalues, change_tests


@dataclass(frozen=True)
class SimulationSetup:
    """Shape of a simulated series: ``locations`` × ``groups`` (key questions) × ``periods``,
    Poisson(``mean_n``) comments per cell, baseline negative shares drawn uniformly in ``share_range``."""

    locations: int = 8
    groups: int = 5
    periods: int = 12
    mean_n: float = 15.0
    share_range: tuple[float, float] = (0.1, 0.4)
    odds_ratio: float = 4.0
    fdr: float = 0.05
    min_n: int = 5
    recent_periods: int | None = 3
    mid_p: bool = False


@dataclass
class DetectorRates:
    """Rates over ``replicates`` simulated series of one scenario.

    ``any_alert_rate``: share of series with at least one (false, for steady/national) alert;
    ``false_alerts_per_series``: mean number of alerts other than the injected one;
    ``detection_rate``: share of ``local`` series where the injected cell was flagged ``worse``
    (None for other scenarios); ``tests_per_series``: mean BH family size.
    """

    scenario: str
    replicates: int
    any_alert_rate: float
    false_alerts_per_series: float
    detection_rate: float | None
    tests_per_series: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def _odds_shift(p: np.ndarray, ratio: float) -> np.ndarray:
    odds = p / (1 - p) * ratio
    return odds / (1 + odds)


def simulate(rng: np.random.Generator, setup: SimulationSetup, scenario: str) -> tuple[np.ndarray, np.ndarray]:
    """One series: integer arrays ``(n, negative)`` of shape (locations, groups, periods).

    In the ``local`` scenario the shifted cell is location 0, group 0, last period.
    """
    if scenario not in ("steady", "national", "local"):
        raise ValueError(f"unknown scenario {scenario!r}")
    shape = (setup.locations, setup.groups, setup.periods)
    share = rng.uniform(*setup.share_range, size=shape[:2])[:, :, None].repeat(setup.periods, axis=2)
    if scenario == "national":
        share[:, :, -1] = _odds_shift(share[:, :, -1], setup.odds_ratio)
    elif scenario == "local":
        share[0, 0, -1] = _odds_shift(share[0, 0, -1], setup.odds_ratio)
    n = rng.poisson(setup.mean_n, size=shape)
    x = rng.binomial(n, share)
    return n, x


def alerts_of(n: np.ndarray, x: np.ndarray, setup: SimulationSetup) -> list[tuple[int, int, int, str]]:
    """The alerts (location, group, period, direction) the detector raises on one series."""
    res = change_tests(n, x, min_n=setup.min_n, recent_periods=setup.recent_periods, mid_p=setup.mid_p)
    idx = np.nonzero(res.tested)
    p = np.concatenate([res.p_worse[idx], res.p_better[idx]])
    q = bh_qvalues(p)
    cells = list(zip(*idx))
    out = []
    for k, qv in enumerate(q):
        if qv <= setup.fdr:
            li, gi, pi = cells[k % len(cells)]
            out.append((int(li), int(gi), int(pi), "worse" if k < len(cells) else "better"))
    return out


def detector_rates(scenario: str, replicates: int = 200, setup: SimulationSetup | None = None,
                   seed: int = 20240601) -> DetectorRates:
    """Run ``replicates`` series of ``scenario`` through the detector and summarise the outcomes."""
    setup = setup or SimulationSetup()
    rng = np.random.default_rng(seed)
    any_alert = hits = false_alerts = tests = 0
    target = (0, 0, setup.periods - 1, "worse")
    for _ in range(replicates):
        n, x = simulate(rng, setup, scenario)
        alerts = alerts_of(n, x, setup)
        tests += 2 * int(change_tests(n, x, min_n=setup.min_n, recent_periods=setup.recent_periods, mid_p=setup.mid_p).tested.sum())
        hit = scenario == "local" and target in alerts
        hits += int(hit)
        false = len(alerts) - int(hit)
        false_alerts += false
        any_alert += int(false > 0)
    return DetectorRates(scenario=scenario, replicates=replicates, any_alert_rate=any_alert / replicates,
                         false_alerts_per_series=false_alerts / replicates,
                         detection_rate=hits / replicates if scenario == "local" else None,
                         tests_per_series=tests / replicates)
