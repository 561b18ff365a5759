"""Transfer-test scoring, review thresholds, the band/direction agreement and phase-1 training rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import f1_score

from evidencenlp.classifier import agree_with_direction, choose_thresholds, direction_confidence
from evidencenlp.evaluation.transfer import _macro_f1, score


def test_fast_macro_f1_equals_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    labels = ["safe", "effective", "caring", "responsive"]
    y = rng.choice(labels, 300)
    p = np.where(rng.random(300) < 0.6, y, rng.choice(labels + ["well-led"], 300))
    assert _macro_f1(y, p, labels) == pytest.approx(f1_score(y, p, labels=labels, average="macro", zero_division=0))


def test_score_gives_intervals_that_contain_the_value() -> None:
    rng = np.random.default_rng(1)
    y = rng.choice(["safe", "caring"], 200)
    frame = pd.DataFrame({"key_question": y, "direction": rng.choice(["positive", "negative", ""], 200)})
    pred = np.where(rng.random(200) < 0.8, y, "safe")
    out = score(frame, pred, frame["direction"].replace("", "positive").to_numpy())
    m = out["kq_macro_f1"]
    assert m.low <= m.value <= m.high and m.n == 200
    assert 0 < out["direction_accuracy"].value <= 1


def test_agree_with_direction_moves_mass_between_halves_only() -> None:
    band = np.array([[0.1, 0.5, 0.3, 0.1], [0.25, 0.25, 0.25, 0.25]])
    out = agree_with_direction(band, np.array([0.2, 0.9]))
    assert np.allclose(out.sum(axis=1), 1)
    assert np.allclose(out[:, :2].sum(axis=1), [0.2, 0.9])
    assert out[0, 1] / out[0, 0] == pytest.approx(5.0)  # proportions within a half are kept
    assert np.allclose(direction_confidence(out), [0.8, 0.9])


def test_choose_thresholds_meets_the_targets_with_most_coverage() -> None:
    rng = np.random.default_rng(2)
    n = 4000
    kq_conf = rng.random(n)
    kq_ok = (rng.random(n) < 0.5 + 0.5 * kq_conf).astype(float)  # more confident, more often right
    dir_conf = 0.5 + 0.5 * rng.random(n)
    dir_ok = (rng.random(n) < dir_conf).astype(float)
    dir_ok[rng.random(n) < 0.2] = np.nan  # some notes have no direction label
    choice = choose_thresholds(kq_conf, kq_ok, dir_conf, dir_ok, kq_target=0.10, direction_target=0.03)
    keep = (kq_conf >= choice.key_question) & (dir_conf >= choice.direction)
    assert 1 - kq_ok[keep].mean() <= 0.10
    assert 1 - np.nanmean(dir_ok[keep]) <= 0.03
    assert 0 < choice.coverage == pytest.approx(keep.mean())
    stricter = choose_thresholds(kq_conf, kq_ok, dir_conf, dir_ok, kq_target=0.05, direction_target=0.01)
    assert stricter.coverage <= choice.coverage


def test_phase1_training_rows_keep_trust_and_direction(tmp_path) -> None:
    from evidencenlp.evaluation.phase1 import load_mapping, training_rows

    raw = pd.DataFrame({
        "feedback": ["Waited four hours in A&E", "Lovely nurses", "nothing to add", "Medication came late"],
        "subcategory": ["Time spent waiting for first appt/referral/service", "Attitude Of Staff",
                        "Nothing to improve", "Medication"],
        "criticality": ["-4", "4", "3", "-1"], "organization": ["Trust A", "Trust B", "Trust B", "Trust C"],
    })
    rows = training_rows(raw, load_mapping())
    assert set(rows["group"]) <= {"Trust A", "Trust B", "Trust C"}
    by_text = rows.set_index("text")
    assert by_text.loc["Waited four hours in A&E", "direction"] == "negative"
    assert by_text.loc["Lovely nurses", "key_question"] == "caring"
    assert by_text.loc["nothing to add", "key_question"] == ""  # no key question, but its direction teaches
    assert by_text.loc["nothing to add", "direction"] == "positive"
    assert by_text.loc["Medication came late", "direction"] == ""  # -1 is too mild to call
    assert (rows["evidence_category"] == "").all() and (rows["band"] == "").all()
