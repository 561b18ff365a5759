"""The power simulation's stream builder on a small hand-made label pool (no encoder, no phase-1 file)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.trends import simulate as sim

TAX = default_taxonomy()


def _pool() -> sim.LabelPool:
    """Two trusts; per trust 40 comments the tool tags negative about the first key question (coded so
    too), 40 coded negative about it that the tool tags positive about the second, 120 others."""
    kq0, kq1 = TAX.key_questions[:2]
    neg, pos = TAX.negative_bands[0], TAX.positive_bands[0]
    rows = []
    for org in ("Trust A", "Trust B"):
        rows += [(org, kq0, "negative", kq0, TAX.statements_of(kq0)[0], neg)] * 40
        rows += [(org, kq0, "negative", kq1, TAX.statements_of(kq1)[0], pos)] * 40
        rows += [(org, "", "", kq1, TAX.statements_of(kq1)[0], pos)] * 120
    frame = pd.DataFrame(rows, columns=["organization", "true_key_question", "true_polarity", "key_question",
                                        "statement", "band"])
    return sim.label_pool(frame, TAX)


def test_injected_complaints_are_counted_by_tag_or_as_meant() -> None:
    pool = _pool()
    kq0 = TAX.key_questions[0]
    rises = {}
    for inject in ("tagged", "true"):
        setup = sim.StreamSetup(locations=2, per_month=100, key_question=kq0, inject=inject)
        rng = np.random.default_rng(1)
        c = sim.simulate_counts(rng, pool, TAX, setup, "x3 sustained")
        base, late = c.x_kq[0, 0, :-2].mean(), c.x_kq[0, 0, -2:].mean()
        assert c.x_kq[1, 0, -2:].mean() < 2 * c.x_kq[1, 0, :-2].mean()  # the other location is steady
        rises[inject] = late / base
    # counted as meant: ×3; coders' negatives, half of which the tool tags elsewhere: ×(1 + 2 × ½) = ×2
    assert rises["tagged"] > 2.6 and 1.6 < rises["true"] < 2.4


def test_measure_counts_false_alerts_per_tested_location_month() -> None:
    pool = _pool()
    setup = sim.StreamSetup(locations=2, per_month=60, key_question=TAX.key_questions[0])
    always = sim.Detector(lambda counts: [(1, len(counts.periods) - 1, None)], recent=1)
    rate, = sim.measure(pool, TAX, setup, {"always": always}, ["null"], runs=3)
    assert rate.detected is None and rate.false_per_100 == 50.0  # 1 false alert per run over 2 location-months


def _poisson_counts(rng: np.random.Generator, locations: int = 3, months: int = 12, other: float = 28.0,
                    rate: tuple[float, ...] = (12.0, 4.0, 3.0, 2.0, 1.0),
                    rise: dict[int, float] | None = None) -> sim.Counts:
    """Counts of a synthetic stream: per location and month, Poisson negatives about each key question
    (``rate``, the first ×``rise[month]`` at location 0) and Poisson(``other``) non-negative comments."""
    kqs = TAX.key_questions
    lam = np.zeros((locations, len(kqs), months))
    lam[:, :len(rate), :] = np.asarray(rate)[None, :, None]
    for month, factor in (rise or {}).items():
        lam[0, 0, month] *= factor
    x_kq = rng.poisson(lam)
    other_n = rng.poisson(other, size=(locations, months))
    x_all = x_kq.sum(axis=1)
    n_kq = x_kq + rng.poisson(2.0, size=x_kq.shape)
    shape_st = (locations, len(TAX.statements), months)
    return sim.Counts(locations=[f"L{i}" for i in range(locations)], periods=[f"M{t + 1:02d}" for t in range(months)],
                      key_questions=list(kqs), statements=list(TAX.statements), statement_kq=list(TAX.statement_kq),
                      n_all=x_all + other_n, x_all=x_all, n_kq=n_kq, x_kq=x_kq,
                      n_st=np.zeros(shape_st, np.int64), x_st=np.zeros(shape_st, np.int64))


def test_cut_keeps_the_stream_as_it_stood() -> None:
    counts = _poisson_counts(np.random.default_rng(2))
    early = sim.cut(counts, 11)
    assert early.periods == counts.periods[:11] and early.x_kq.shape[-1] == 11 and early.n_all.shape == (3, 11)
    np.testing.assert_array_equal(early.x_kq, counts.x_kq[..., :11])
    assert counts.x_kq.shape[-1] == 12  # the original is untouched


def test_the_monthly_report_finds_a_rise_that_only_month_11_showed() -> None:
    from evidencenlp.trends.config import SummaryConfig

    config = SummaryConfig()
    kq = TAX.key_questions[0]
    latest, monitor = sim.family_detector(config), sim.monitor_detector(config, months=2)
    assert latest.recent == 1 and monitor.recent == 2
    found_early = found_late = 0
    for seed in range(5):
        # month 11: ×2.5 negatives about the first key question at location 0; month 12: none about it
        counts = _poisson_counts(np.random.default_rng(seed), rise={10: 2.5, 11: 0.0})
        late = [a for a in latest.detect(counts) if a[0] == 0 and a[2] in (kq, None)]
        early = [a for a in monitor.detect(counts) if a[0] == 0 and a[2] in (kq, None) and a[1] == 10]
        found_late += bool(late)
        found_early += bool(early)
        assert all(a[1] == 11 for a in latest.detect(counts))  # the report at month 12 tests month 12 only
    assert found_early >= 4 and found_late <= 1


@pytest.mark.slow
def test_the_family_stays_under_its_fdr_on_null_streams() -> None:
    from evidencenlp.trends.alerts import run_family
    from evidencenlp.trends.config import SummaryConfig

    rng = np.random.default_rng(11)
    runs = 150
    # under the complete null every alert is false: BH's FDR is then the chance of any alert at all
    any_alert = sum(bool([t for t in run_family(_poisson_counts(rng), SummaryConfig()).alerts if t.stage == 1])
                    for _ in range(runs))
    assert any_alert / runs <= 0.05 + 2 * np.sqrt(0.05 * 0.95 / runs)
