"""The review risk model and threshold choice: fitted on synthetic held-out rows where one feature says
whether the suggestion is right; targets met on rows never seen; saved and read back; old models read."""

from __future__ import annotations

import json

import numpy as np
import pytest

from evidencenlp.classifier import RISK_FEATURES, RiskModel, choose_thresholds
from evidencenlp.classifier.risk import DIRECTION_INPUTS, KQ_INPUTS
from evidencenlp.classifier.thresholds import error_bound

KQ_TARGET, DIR_TARGET = 0.10, 0.03


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features ``(n, len(RISK_FEATURES))`` of noise except ``kq_top`` and ``direction_head_conf``, which
    set the chance that the key question (about 65% right overall) and the direction (about 84%) are
    right; a fifth of the rows have no key question label."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, len(RISK_FEATURES)))
    kq_top = rng.uniform(0.4, 1.0, n)
    head = rng.uniform(0.7, 1.0, n)
    X[:, RISK_FEATURES.index("kq_top")] = kq_top
    X[:, RISK_FEATURES.index("direction_head_conf")] = head
    kq_ok = (rng.uniform(size=n) < np.clip(1.35 * kq_top - 0.3, 0.02, 0.995)).astype(float)
    dir_ok = (rng.uniform(size=n) < np.clip(2.2 * head - 1.1 + 0.09, 0.5, 0.999)).astype(float)
    kq_ok[rng.uniform(size=n) < 0.2] = np.nan
    return X, kq_ok, dir_ok


def test_thresholds_chosen_on_crossfitted_confidences_meet_the_targets_on_new_rows() -> None:
    X, kq_ok, dir_ok = synthetic(6000, seed=1)
    fit_rows, new_rows = np.arange(3000), np.arange(3000, 6000)
    conf = np.zeros((3000, 2))
    for part in np.array_split(np.random.default_rng(0).permutation(3000), 5):  # cross-fitted, as train does
        rest = np.setdiff1d(fit_rows, part)
        conf[part] = np.column_stack(RiskModel.fit(X[rest], kq_ok[rest], dir_ok[rest]).confidence(X[part]))
    choice = choose_thresholds(conf[:, 0], kq_ok[fit_rows], conf[:, 1], dir_ok[fit_rows], KQ_TARGET, DIR_TARGET)
    model = RiskModel.fit(X[fit_rows], kq_ok[fit_rows], dir_ok[fit_rows])
    k, d = model.confidence(X[new_rows])
    keep = (k >= choice.key_question) & (d >= choice.direction)
    kq_new, dir_new = kq_ok[new_rows][keep], dir_ok[new_rows][keep]
    assert np.nanmean(1 - kq_new) <= KQ_TARGET + 0.02  # a small allowance for sampling: 3,000 new rows
    assert np.nanmean(1 - dir_new) <= DIR_TARGET + 0.01
    assert np.nanmean(1 - kq_ok[new_rows]) > KQ_TARGET + 0.1  # without flagging the targets are missed
    assert 0.1 < keep.mean() < 0.95
    # the model learnt from the informative features only
    assert model.kq_inputs == KQ_INPUTS and model.direction_inputs == DIRECTION_INPUTS
    assert model.kq_coef[0] > 0 and model.direction_coef[0] > 0


def test_a_model_on_every_feature_ranks_by_the_informative_one() -> None:
    X, kq_ok, dir_ok = synthetic(3000, seed=2)
    model = RiskModel.fit(X, kq_ok, dir_ok, kq_inputs=RISK_FEATURES, direction_inputs=RISK_FEATURES)
    kq_weights = np.abs(model.kq_coef)
    assert kq_weights.argmax() == RISK_FEATURES.index("kq_top")
    assert np.abs(model.direction_coef).argmax() == RISK_FEATURES.index("direction_head_conf")


def test_a_stricter_level_never_keeps_more_notes() -> None:
    X, kq_ok, dir_ok = synthetic(2000, seed=3)
    k, d = RiskModel.fit(X, kq_ok, dir_ok).confidence(X)
    plain = choose_thresholds(k, kq_ok, d, dir_ok, KQ_TARGET, DIR_TARGET)
    strict = choose_thresholds(k, kq_ok, d, dir_ok, KQ_TARGET, DIR_TARGET, level=0.9)
    assert strict.coverage <= plain.coverage
    assert strict.direction_error <= DIR_TARGET and strict.kq_error <= KQ_TARGET
    assert error_bound(3, 100, 0.0) == pytest.approx(0.03)
    assert error_bound(3, 100, 0.9) > 0.03 and error_bound(0, 0, 0.9) == 0.0


def test_round_trip_through_json_gives_the_same_confidences() -> None:
    X, kq_ok, dir_ok = synthetic(1000, seed=4)
    model = RiskModel.fit(X, kq_ok, dir_ok)
    back = RiskModel.from_dict(json.loads(json.dumps(model.to_dict())))
    assert back.kq_inputs == model.kq_inputs and back.direction_inputs == model.direction_inputs
    for a, b in zip(model.confidence(X), back.confidence(X)):
        np.testing.assert_allclose(a, b)


def test_a_model_saved_before_inputs_were_chosen_uses_every_feature() -> None:
    """A ``heads.json`` risk entry of the older format (no ``kq_inputs``): ten weights per model."""
    rng = np.random.default_rng(5)
    d = len(RISK_FEATURES)
    old = {"features": list(RISK_FEATURES), "mean": rng.normal(size=d).tolist(), "scale": (1 + rng.uniform(size=d)).tolist(),
           "kq_coef": rng.normal(size=d).tolist(), "kq_intercept": 0.3,
           "direction_coef": rng.normal(size=d).tolist(), "direction_intercept": -0.2}
    model = RiskModel.from_dict(old)
    assert model.kq_inputs == RISK_FEATURES and model.direction_inputs == RISK_FEATURES
    X = rng.normal(size=(7, d))
    Z = (X - np.array(old["mean"])) / np.array(old["scale"])
    k, dd = model.confidence(X)
    np.testing.assert_allclose(k, 1 / (1 + np.exp(-(Z @ np.array(old["kq_coef"]) + 0.3))))
    np.testing.assert_allclose(dd, 1 / (1 + np.exp(-(Z @ np.array(old["direction_coef"]) - 0.2))))


@pytest.mark.parametrize("change", [{"kq_inputs": ["kq_top", "kq_margin"]}, {"direction_inputs": ["no_such_feature"]},
                                    {"features": ["kq_top"]}])
def test_inconsistent_risk_entries_are_refused(change: dict) -> None:
    X, kq_ok, dir_ok = synthetic(500, seed=6)
    entry = {**RiskModel.fit(X, kq_ok, dir_ok).to_dict(), **change}
    with pytest.raises(ValueError, match="risk model"):
        RiskModel.from_dict(entry)


@pytest.mark.slow
def test_review_thresholds_leave_out_the_notes_the_suggester_abstains_on(suggester, repo) -> None:
    """Placeholder answers are abstained on (never rated), so they neither count in coverage nor teach the
    risk model: the report with them equals the report without them, apart from the row counts."""
    import copy

    import pandas as pd

    from evidencenlp.training import review_thresholds

    notes = pd.read_csv(repo / "training" / "corpus" / "notes_a.csv", dtype=str).fillna("").head(160)
    notes = notes.assign(origin="corpus:notes_a")[["text", "key_question", "statement", "band", "origin"]]
    placeholders = pd.DataFrame({"text": ["Nothing", "N/A", "none", "Good"] * 10, "key_question": "",
                                 "statement": "", "band": "good", "origin": "phase1:Trust Z"})
    both = pd.concat([notes, placeholders], ignore_index=True)
    vectors = suggester.embedder.encode(both["text"].tolist())
    with_them = review_thresholds(copy.copy(suggester.classifier), both, vectors)
    without = review_thresholds(copy.copy(suggester.classifier), notes, vectors[:len(notes)])
    assert with_them["abstained_rows"] == len(placeholders) and without["abstained_rows"] == 0
    assert with_them["held_out_rows"] == len(both) and with_them["nested"]["all"]["rows"] == len(notes)
    assert "real_feedback" not in with_them["nested"]  # the placeholders were its only real comments
    for key in ("key_question", "direction", "all", "nested", "plain"):
        assert with_them[key] == without[key]
    assert with_them["nested_coverage_with_abstained"] == pytest.approx(
        without["nested"]["all"]["coverage"] * len(notes) / len(both), abs=1e-3)


@pytest.mark.slow
def test_a_classifier_saves_and_reloads_its_risk_model_and_predicts_with_it(suggester, tmp_path) -> None:
    """The risk entry of ``heads.json`` in the new format round-trips through save/load, and ``predict_all``'s
    review confidences are the risk model's on the classifier's own risk inputs."""
    import copy

    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.classifier.names import REVIEW_KEY

    X, kq_ok, dir_ok = synthetic(800, seed=7)
    clf = copy.copy(suggester.classifier)
    clf.risk_ = RiskModel.fit(X, kq_ok, dir_ok)
    clf.save(tmp_path)
    assert json.loads((tmp_path / "heads.json").read_text())["risk"]["kq_inputs"] == list(KQ_INPUTS)
    back = EvidenceClassifier.load(tmp_path, index=suggester.classifier.index)
    assert back.risk_ is not None and back.risk_.direction_inputs == DIRECTION_INPUTS
    texts = ["Staff did not answer the call bell for 20 minutes.", "The ward was clean and staff were kind."]
    vectors = suggester.embedder.encode(texts)
    out = back.predict_all(texts, vectors)
    inputs = back.risk_inputs(texts, back.features(texts, vectors, out.sims), out.sims, out.proba)
    np.testing.assert_allclose(out.proba[REVIEW_KEY], np.column_stack(clf.risk_.confidence(inputs)))


@pytest.mark.slow
def test_review_thresholds_fall_back_to_folds_by_row_when_every_note_is_one_near_duplicate_group(
        suggester, repo, monkeypatch) -> None:
    """With one near-duplicate group the thresholds are still chosen on cross-fitted confidences (folds
    by row, said in the report), never on all-zero confidences that would flag nothing or everything."""
    import copy

    import numpy as np
    import pandas as pd

    import evidencenlp.sources as sources
    from evidencenlp.training import review_thresholds

    notes = pd.read_csv(repo / "training" / "corpus" / "notes_a.csv", dtype=str).fillna("").head(120)
    notes = notes.assign(origin="corpus:notes_a")[["text", "key_question", "statement", "band", "origin"]]
    vectors = suggester.embedder.encode(notes["text"].tolist())
    grouped = review_thresholds(copy.copy(suggester.classifier), notes, vectors)
    monkeypatch.setattr(sources, "near_duplicate_groups", lambda v: np.zeros(len(v), dtype=int))
    one_group = review_thresholds(copy.copy(suggester.classifier), notes, vectors)
    assert grouped["folds"].startswith("grouped") and one_group["folds"].startswith("by row")
    assert one_group["rated_rows"] == len(notes)
    # without folds every note was judged by nothing: nested coverage 0 and thresholds of 0 or above 1
    assert one_group["nested"]["all"]["coverage"] > 0.0
    assert 0.0 < one_group["key_question"] <= 1.0 and 0.0 < one_group["direction"] <= 1.0
