"""Every metric against small cases computed by hand (the working is in the comments)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evidencenlp.evaluation import metrics as M


def test_accuracy_and_empty() -> None:
    assert M.accuracy(["a", "b", "a", "c"], ["a", "a", "a", "c"]) == 0.75
    assert math.isnan(M.accuracy([], []))
    with pytest.raises(ValueError):
        M.accuracy(["a"], ["a", "b"])


# y_true = a a b b c ; y_pred = a b b b a
#   a: tp 1, predicted 2, true 2 -> P 1/2, R 1/2, F1 1/2
#   b: tp 2, predicted 3, true 2 -> P 2/3, R 1,   F1 2·(2/3)/(5/3) = 0.8
#   c: tp 0, predicted 0, true 1 -> P 0,   R 0,   F1 0
#   macro-F1 = (0.5 + 0.8 + 0) / 3 = 0.4333…
Y_TRUE = ["a", "a", "b", "b", "c"]
Y_PRED = ["a", "b", "b", "b", "a"]


def test_per_class_scores_by_hand() -> None:
    scores = {s.label: s for s in M.per_class_scores(Y_TRUE, Y_PRED)}
    assert scores["a"].precision == pytest.approx(0.5) and scores["a"].recall == pytest.approx(0.5)
    assert scores["a"].f1 == pytest.approx(0.5) and scores["a"].support == 2
    assert scores["b"].precision == pytest.approx(2 / 3) and scores["b"].recall == pytest.approx(1.0)
    assert scores["b"].f1 == pytest.approx(0.8)
    assert (scores["c"].precision, scores["c"].recall, scores["c"].f1, scores["c"].support) == (0.0, 0.0, 0.0, 1)


def test_macro_f1_by_hand_and_label_set() -> None:
    assert M.macro_f1(Y_TRUE, Y_PRED) == pytest.approx(1.3 / 3)
    # an explicit label list adds a never-seen class with F1 0: (0.5 + 0.8 + 0 + 0) / 4
    assert M.macro_f1(Y_TRUE, Y_PRED, labels=["a", "b", "c", "d"]) == pytest.approx(1.3 / 4)
    assert M.macro_f1(["x", "y"], ["x", "y"]) == 1.0


def test_confusion_matrix_with_label_order() -> None:
    cm = M.confusion_matrix(Y_TRUE, Y_PRED, labels=["a", "b", "c"])
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 0]]  # rows = true, columns = predicted
    reordered = M.confusion_matrix(Y_TRUE, Y_PRED, labels=["c", "b", "a"])
    assert reordered.tolist() == [[0, 0, 1], [0, 2, 0], [0, 1, 1]]
    assert int(cm.sum()) == 5


def test_top_k_accuracy_by_hand() -> None:
    classes = ["w", "x", "y", "z"]
    proba = np.array([
        [0.1, 0.2, 0.3, 0.4],       # true w: top-3 is z, y, x -> miss
        [0.4, 0.3, 0.2, 0.1],       # true y: top-3 is w, x, y -> hit
        [0.25, 0.25, 0.25, 0.25],   # true z: ties broken by column order -> w, x, y -> miss
        [0.7, 0.1, 0.1, 0.1],       # true label not a column -> miss
    ])
    assert M.top_k_accuracy(["w", "y", "z", "q"], proba, classes, k=3) == pytest.approx(0.25)
    # top-1: z hit, x miss (w), w hit (tie -> first column), x miss (w)
    assert M.top_k_accuracy(["z", "x", "w", "x"], proba, classes, k=1) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        M.top_k_accuracy(["w"], proba, classes)


def test_quadratic_weighted_kappa_3x3_by_hand() -> None:
    # order low < mid < high; O (rows true) = [[1,1,0],[0,1,1],[0,0,2]], n = 6
    # row sums 2,2,2; column sums 1,2,3 -> E row i = [1/3, 2/3, 1]
    # W = (i-j)²/4 = [[0,.25,1],[.25,0,.25],[1,.25,0]]
    # Σ W·O = .25 + .25 = 0.5 ; Σ W·E = 7/6 + 1/3 + 1/2 = 2  -> QWK = 1 - 0.5/2 = 0.75
    order = ("low", "mid", "high")
    y_true = ["low", "low", "mid", "mid", "high", "high"]
    y_pred = ["low", "mid", "mid", "high", "high", "high"]
    assert M.quadratic_weighted_kappa(y_true, y_pred, order) == pytest.approx(0.75)
    assert M.quadratic_weighted_kappa(y_true, y_true, order) == pytest.approx(1.0)
    assert M.quadratic_weighted_kappa(["low"] * 3, ["low"] * 3, order) == 1.0  # no expected disagreement
    with pytest.raises(ValueError):
        M.quadratic_weighted_kappa(["low"], ["bogus"], order)


def test_qwk_matches_sklearn_on_bands() -> None:
    from sklearn.metrics import cohen_kappa_score

    from evidencenlp.taxonomy import default_taxonomy

    bands = list(default_taxonomy().bands)
    rng = np.random.default_rng(0)
    a = rng.choice(bands, 50)
    b = np.where(rng.random(50) < 0.6, a, rng.choice(bands, 50))
    expected = cohen_kappa_score(a, b, labels=bands, weights="quadratic")
    assert M.quadratic_weighted_kappa(a, b, bands) == pytest.approx(expected)


def test_within_one_accuracy_band_order() -> None:
    # ranks: inadequate 0, requires_improvement 1, good 2, outstanding 3
    y_true = ["inadequate", "good", "outstanding", "requires_improvement", "good"]
    y_pred = ["good", "good", "requires_improvement", "outstanding", "outstanding"]
    # |0-2|=2 no, |2-2|=0 yes, |3-1|=2 no, |1-3|=2 no, |2-3|=1 yes -> 2/5
    order = ["inadequate", "requires_improvement", "good", "outstanding"]
    assert M.within_one_accuracy(y_true, y_pred, order) == pytest.approx(0.4)


def test_cohen_kappa_by_hand() -> None:
    # both yes 4, A yes/B no 1, A no/B yes 2, both no 3: p_o = 0.7
    # A yes 5/10, B yes 6/10: p_e = .5·.6 + .5·.4 = 0.5 -> kappa = (0.7-0.5)/(1-0.5) = 0.4
    a = ["yes"] * 4 + ["yes"] + ["no"] * 2 + ["no"] * 3
    b = ["yes"] * 4 + ["no"] + ["yes"] * 2 + ["no"] * 3
    assert M.cohen_kappa(a, b) == pytest.approx(0.4)
    assert M.cohen_kappa(["x", "x"], ["x", "x"]) == 1.0
    assert M.cohen_kappa(["x", "y"], ["y", "x"]) == pytest.approx(-1.0)
    assert math.isnan(M.cohen_kappa([], []))


def test_ece_of_four_predictions_by_hand() -> None:
    # bins of width 0.1: .95 -> bin 9, .85 -> bin 8, .65 and .62 -> bin 6
    # bin 9: |1 - .95| · 1/4 = .0125 ; bin 8: |0 - .85| · 1/4 = .2125 ; bin 6: |.5 - .635| · 2/4 = .0675
    conf = np.array([0.95, 0.85, 0.65, 0.62])
    correct = np.array([True, False, True, False])
    assert M.expected_calibration_error(conf, correct, n_bins=10) == pytest.approx(0.2925)
    bins = M.reliability_bins(conf, correct, n_bins=10)
    assert len(bins) == 10 and [b.count for b in bins] == [0, 0, 0, 0, 0, 0, 2, 0, 1, 1]
    assert bins[6].mean_confidence == pytest.approx(0.635) and bins[6].accuracy == pytest.approx(0.5)
    assert math.isnan(bins[0].accuracy)
    assert (bins[6].lower, bins[6].upper) == pytest.approx((0.6, 0.7))


def test_ece_edges() -> None:
    # confidence 1.0 goes in the last bin; perfectly calibrated -> 0
    assert M.expected_calibration_error(np.array([1.0, 1.0]), np.array([True, True])) == 0.0
    assert M.reliability_bins(np.array([1.0]), np.array([True]), n_bins=4)[-1].count == 1
    assert math.isnan(M.expected_calibration_error(np.zeros(0), np.zeros(0, dtype=bool)))
    with pytest.raises(ValueError):
        M.expected_calibration_error(np.array([1.5]), np.array([True]))


def test_selective_accuracy_curve_by_hand() -> None:
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    correct = np.array([1, 1, 0, 1, 0, 1, 0, 0, 1, 0], dtype=bool)
    perm = np.random.default_rng(1).permutation(10)  # input order must not matter
    curve = M.selective_accuracy(conf[perm], correct[perm])
    # keep the k most confident: cumulative correct 1,2,2,3,3,4,4,4,5,5 over k = 1..10
    expected = [1 / 1, 2 / 2, 2 / 3, 3 / 4, 3 / 5, 4 / 6, 4 / 7, 4 / 8, 5 / 9, 5 / 10]
    assert [p.n_kept for p in curve] == list(range(1, 11))
    assert [p.coverage for p in curve] == pytest.approx([0.1 * i for i in range(1, 11)])
    assert [p.accuracy for p in curve] == pytest.approx(expected)
    assert curve[2].threshold == pytest.approx(0.7)
    assert M.selective_accuracy(np.zeros(0), np.zeros(0, dtype=bool)) == []


def test_top_label() -> None:
    conf, correct = M.top_label(np.array([[0.2, 0.8], [0.6, 0.4]]), ["a", "b"], ["b", "b"])
    assert conf.tolist() == [0.8, 0.6] and correct.tolist() == [True, False]
