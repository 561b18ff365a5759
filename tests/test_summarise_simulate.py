"""The power simulation's stream builder on a small hand-made label pool (no encoder, no phase-1 file)."""

from __future__ import annotations

import numpy as np
import pandas as pd

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
