"""EvidenceClassifier: a scikit-learn estimator in the full sense, with a safe save format."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from evidencenlp.classifier import EvidenceClassifier
from evidencenlp.errors import DataError, ModelError
from evidencenlp.taxonomy import TASKS


@pytest.fixture(scope="module")
def small_training(suggester):
    """200 corpus notes (every key question and band) with their embeddings."""
    from evidencenlp import encoder
    from evidencenlp.training_data import load_corpus

    corpus = load_corpus(statements=suggester.index.statements).sample(160, random_state=0).reset_index(drop=True)
    vectors = encoder.encode(corpus["text"].tolist())
    return corpus, vectors


@pytest.fixture(scope="module")
def fitted(suggester, small_training) -> EvidenceClassifier:
    corpus, vectors = small_training
    # a light configuration (no character heads): these tests are about the estimator's conventions
    clf = EvidenceClassifier(C=0.05, char_tasks=()).bind_index(suggester.index)
    return clf.fit(corpus["text"].tolist(), corpus, embeddings=vectors, origin=corpus["origin"].tolist())


def test_parameters_follow_scikit_learn_conventions() -> None:
    clf = EvidenceClassifier(C=0.3, cues=False)
    params = clf.get_params()
    assert params["C"] == 0.3 and params["cues"] is False and params["frameworks"] is None
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == params
    copy.set_params(C=2.0, text_tasks=("band",))
    assert copy.C == 2.0 and clf.C == 0.3 and copy.text_tasks == ("band",)
    assert not hasattr(clone(clf), "heads_")  # clone copies parameters, never fitted state


def test_unfitted_classifier_raises_not_fitted(tmp_path: Path) -> None:
    clf = EvidenceClassifier()
    with pytest.raises(NotFittedError):
        clf.predict(["Call bell ignored for 20 minutes"], embeddings=np.zeros((1, 384), dtype=np.float32))
    with pytest.raises(NotFittedError):
        clf.save(tmp_path)


def test_fit_predict_shapes_and_the_statement_lies_in_the_key_question(fitted, small_training) -> None:
    corpus, vectors = small_training
    proba = fitted.predict_proba(corpus["text"].tolist()[:30], embeddings=vectors[:30])
    taxonomy = fitted.taxonomy_
    for task in TASKS:
        assert proba[task].shape == (30, len(taxonomy.labels(task)))
        assert np.allclose(proba[task].sum(axis=1), 1.0)
    labels = fitted.predict(corpus["text"].tolist()[:30], embeddings=vectors[:30])
    assert list(labels.columns) == list(TASKS)
    # the key question is the marginal of the joint statement distribution: they never disagree
    assert all(taxonomy.key_question_of(s) == k for s, k in zip(labels["statement"], labels["key_question"]))
    # it learned something: better than chance on its own training notes
    assert (labels["key_question"].to_numpy() == corpus["key_question"].to_numpy()[:30]).mean() > 0.5


def test_fit_refuses_labels_outside_the_framework(suggester, small_training) -> None:
    corpus, vectors = small_training
    bad = corpus.copy()
    bad.loc[0, "band"] = "excellent"
    with pytest.raises(DataError, match="band: labels not in the framework"):
        EvidenceClassifier().bind_index(suggester.index).fit(bad["text"].tolist(), bad, embeddings=vectors,
                                                             origin=bad["origin"].tolist())
    with pytest.raises(DataError, match="texts but y has"):
        EvidenceClassifier().fit(["a", "b"], corpus.head(3))


def test_save_load_round_trip_without_pickle(fitted, small_training, tmp_path: Path, suggester) -> None:
    corpus, vectors = small_training
    fitted.metrics_ = {"holdout": {"key_question": {"accuracy": 0.5, "macro_f1": 0.4, "n": 10}}}
    fitted.save(tmp_path)
    with np.load(tmp_path / "heads.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype != object for k in npz.files)
    meta = json.loads((tmp_path / "heads.json").read_text())
    assert meta["params"]["C"] == 0.05 and meta["taxonomy"]["bands"][0] == fitted.taxonomy_.bands[0]
    assert {"encoder", "frameworks", "training_data", "metrics", "thresholds"} <= set(meta)
    assert len(meta["training_data"]["sha256"]) == 64
    loaded = EvidenceClassifier.load(tmp_path, index=suggester.index)
    assert loaded.model_version == fitted.model_version and loaded.get_params() == fitted.get_params()
    texts = corpus["text"].tolist()[:20]
    a, b = fitted.predict_proba(texts, embeddings=vectors[:20]), loaded.predict_proba(texts, embeddings=vectors[:20])
    assert all(np.allclose(a[t], b[t]) for t in a)


def test_load_refuses_other_encoder_and_missing_files(fitted, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="run `evidencenlp train`"):
        EvidenceClassifier.load(tmp_path / "nothing-here")
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "heads.json").read_text())
    meta["encoder"] = "some/other-model"
    (tmp_path / "heads.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="trained on encoder 'some/other-model'"):
        EvidenceClassifier.load(tmp_path)


def test_shipped_classifier_loads_and_has_full_provenance(suggester) -> None:
    clf = suggester.classifier
    assert isinstance(clf, EvidenceClassifier)
    desc = clf.describe()
    assert desc["model_version"].startswith("heads-") and "C" in desc["params"]
    assert clone(clf).get_params() == clf.get_params()
    out = clf.predict(pd.Series(["Staff did not answer the call bell for 20 minutes."]).tolist())
    assert set(out.columns) == set(TASKS)


def test_shipped_review_thresholds_were_chosen_on_held_out_data_for_the_targets(suggester) -> None:
    clf = suggester.classifier
    review = clf.metrics_["review"]
    assert review["targets"] == {"kq_error": 0.10, "direction_error": 0.03}
    assert clf.thresholds_["key_question"] == pytest.approx(review["key_question"])
    assert clf.thresholds_["direction"] == pytest.approx(review["direction"])
    overall = review["all"]
    assert overall["kq_error_unflagged"] <= 0.10 + 1e-9 and overall["direction_error_unflagged"] <= 0.03 + 1e-9
    assert 0 < overall["coverage"] < 1 and review["held_out_rows"] >= 500


def test_needs_review_follows_the_thresholds(suggester) -> None:
    clf = clone(suggester.classifier)  # parameters only; reuse the fitted object for the rule itself
    fitted = suggester.classifier
    band = np.array([[0.05, 0.05, 0.45, 0.45]])
    t = fitted.thresholds_
    assert fitted.needs_review(t["key_question"] - 0.01, 1.0, 1.0)
    confident_kq = min(1.0, t["key_question"] + 0.01)
    assert fitted.needs_review(confident_kq, 1.0, 1.0, {"band": band}, 0) == (0.9 < t["direction"])
    assert fitted.needs_review(1.0, 1.0, 1.0, {"band": np.array([[0.3, 0.2, 0.3, 0.2]])}, 0)  # direction 0.5
    assert clf.get_params() == fitted.get_params()


@pytest.mark.parametrize(("params", "message"), [
    ({"ensemble": "average"}, "'ensemble' parameter of EvidenceClassifier must be a str among"),
    ({"C": 0}, "'C' parameter of EvidenceClassifier must be a float in the range"),
    ({"backend": "cuda"}, "'backend' parameter of EvidenceClassifier must be a str among"),
    ({"text_tasks": ("band", "mood")}, "'text_tasks' parameter of EvidenceClassifier names unknown task"),
    ({"source_weights": (("framework", -1.0),)}, "'source_weights' parameter of EvidenceClassifier must be pairs"),
])
def test_invalid_parameters_are_refused_at_fit_never_silently_used(params, message) -> None:
    """scikit-learn's convention: ``__init__`` stores, ``fit`` validates; an unknown ensemble never averages."""
    clf = EvidenceClassifier(**params)
    assert clf.get_params()[next(iter(params))] == next(iter(params.values()))  # stored unchanged
    with pytest.raises(ValueError, match=message):
        clf.fit(["a note"], pd.DataFrame({"key_question": ["safe"]}))


def test_origins_and_weights_are_fit_parameters_and_the_index_is_passed_in(small_training, suggester) -> None:
    corpus, vectors = small_training
    texts = corpus["text"].tolist()
    with pytest.raises(DataError, match="pass the origins as fit"):  # never read from string prefixes in y
        EvidenceClassifier(char_tasks=()).fit(texts, corpus, embeddings=vectors, index=suggester.index)
    with pytest.raises(ModelError, match="no framework index"):  # the estimator loads nothing itself
        EvidenceClassifier(char_tasks=()).fit(texts, corpus.drop(columns="origin"), embeddings=vectors)
    light = {"C": 0.05, "char_tasks": (), "text_tasks": (), "calibrate": False, "direction": False, "router": False}
    labels = corpus.drop(columns="origin")
    even = EvidenceClassifier(**light).fit(texts, labels, embeddings=vectors, index=suggester.index,
                                           sample_weight=np.ones(len(texts)))
    skewed = EvidenceClassifier(**light).fit(texts, labels, embeddings=vectors, index=suggester.index,
                                             sample_weight=np.where(np.arange(len(texts)) % 2 == 0, 5.0, 0.2))
    assert not np.allclose(even.heads_["band"].coef_, skewed.heads_["band"].coef_)  # the weights were used
    with pytest.raises(DataError, match="sample_weight must be"):
        EvidenceClassifier(**light).fit(texts, labels, embeddings=vectors, index=suggester.index,
                                        sample_weight=np.ones(3))


def test_inspection_only_rows_teach_routed_tasks_only_through_the_inspection_expert(small_training, suggester) -> None:
    """Bundle notes (inspection-style) stay out of the all-rows expert that public feedback is routed to; every
    other head, and the inspection expert, learns from them as before."""
    corpus, vectors = small_training
    texts = corpus["text"].tolist()
    labels = corpus.drop(columns="origin")
    n = len(texts)
    origin = ["phase1:trust"] * 60 + ["corpus:notes.csv"] * 50 + ["bundle:set/b1.json"] * (n - 110)
    light = {"C": 0.05, "char_tasks": (), "text_tasks": (), "calibrate": False, "direction": True, "router": True}
    kept = EvidenceClassifier(**light, inspection_only=()).fit(texts, labels, embeddings=vectors,
                                                                index=suggester.index, origin=origin)
    apart = EvidenceClassifier(**light, inspection_only=("bundle",)).fit(texts, labels, embeddings=vectors,
                                                                          index=suggester.index, origin=origin)
    for routed in ("key_question", "statement", "direction"):
        assert not np.allclose(kept.heads_[routed].coef_, apart.heads_[routed].coef_), routed
        assert np.allclose(kept.heads_[f"{routed}@inspection"].coef_, apart.heads_[f"{routed}@inspection"].coef_)
    for other in ("band", "evidence_category"):
        assert np.allclose(kept.heads_[other].coef_, apart.heads_[other].coef_), other
    # with no feedback rows there is no router, and the rows teach as every other row
    plain = ["corpus:notes.csv"] * 110 + ["bundle:set/b1.json"] * (n - 110)
    a = EvidenceClassifier(**light, inspection_only=()).fit(texts, labels, embeddings=vectors,
                                                             index=suggester.index, origin=plain)
    b = EvidenceClassifier(**light, inspection_only=("bundle",)).fit(texts, labels, embeddings=vectors,
                                                                      index=suggester.index, origin=plain)
    assert np.allclose(a.heads_["key_question"].coef_, b.heads_["key_question"].coef_)


def test_models_saved_before_inspection_only_existed_reload_with_the_rows_they_were_trained_on() -> None:
    from evidencenlp.classifier.persistence import params_from_meta

    assert params_from_meta({"params": {"C": 0.01}})["inspection_only"] == ()
    assert params_from_meta({"params": {"inspection_only": ["bundle"]}})["inspection_only"] == ("bundle",)
    assert EvidenceClassifier().inspection_only == ("bundle",)


def test_inspection_only_must_name_origin_prefixes() -> None:
    for bad in (("",), (1,), ("bundle", None)):
        with pytest.raises(ValueError, match="'inspection_only' parameter"):
            EvidenceClassifier(inspection_only=bad).validate_params()
    for feedback in (("phase1",), ("phase1:Trust A",), ("phase",)):  # would take feedback out of its own expert
        with pytest.raises(ValueError, match="cannot name public feedback"):
            EvidenceClassifier(inspection_only=feedback).validate_params()
    EvidenceClassifier(inspection_only=["bundle", "survey"]).validate_params()
    params = EvidenceClassifier(inspection_only=("bundle", "survey")).get_params()
    assert clone(EvidenceClassifier(**params)).inspection_only == ("bundle", "survey")


def test_a_routed_task_taught_only_by_inspection_only_rows_fails_clearly(small_training, suggester) -> None:
    corpus, vectors = small_training
    texts = corpus["text"].tolist()
    labels = corpus.drop(columns="origin").copy()
    n = len(texts)
    origin = ["phase1:trust"] * 60 + ["corpus:notes.csv"] * 50 + ["bundle:set/b1.json"] * (n - 110)
    labels.loc[:109, "statement"] = ""  # statements only on the bundle rows
    light = {"C": 0.05, "char_tasks": (), "text_tasks": (), "calibrate": False, "router": True}
    with pytest.raises(DataError, match="statement: fewer than two labels .* inspection_only"):
        EvidenceClassifier(**light).fit(texts, labels, embeddings=vectors, index=suggester.index, origin=origin)
    # the same rows without the parameter train every expert
    EvidenceClassifier(**light, inspection_only=()).fit(texts, labels, embeddings=vectors, index=suggester.index,
                                                        origin=origin)


def test_calibrated_fit_with_inspection_only_uses_out_of_fold_predictions_of_the_smaller_experts(
        small_training, suggester) -> None:
    """Temperatures, ensemble weights and the direction mix index out-of-fold predictions by the experts'
    rows; with the bundle rows left out of the all-rows experts they must still line up (no index error)."""
    corpus, vectors = small_training
    texts = corpus["text"].tolist()
    labels = corpus.drop(columns="origin").copy()
    n = len(texts)
    origin = ["phase1:trust"] * 60 + ["corpus:notes.csv"] * 50 + ["bundle:set/b1.json"] * (n - 110)
    # every statement needs two rows in each expert that learns it, else there are no out-of-fold predictions
    experts = [np.arange(n) < 110, np.arange(n) >= 60, np.ones(n, dtype=bool)]
    for _ in range(5):
        for rows in experts:
            counts = labels.loc[rows & (labels["statement"] != "").to_numpy(), "statement"].value_counts()
            labels.loc[labels["statement"].isin(set(counts[counts < 2].index)), "statement"] = ""
    clf = EvidenceClassifier(C=0.05, char_tasks=(), text_tasks=("key_question", "statement", "direction")).fit(
        texts, labels, embeddings=vectors, index=suggester.index, origin=origin)
    assert clf.heads_["statement"].coef_.shape[0] == labels.loc[:109, "statement"].replace("", np.nan).nunique()
    assert clf.joint_temperature_ != 1.0  # fitted on the all-rows experts' out-of-fold predictions
    assert all(abs(sum(w) - 1) < 1e-9 for w in clf.weights_.values())
    proba = clf.predict_proba(texts[:10], embeddings=vectors[:10])
    assert np.allclose(proba["statement"].sum(axis=1), 1.0)


def test_direction_mix_falls_back_when_the_band_head_has_no_out_of_fold_predictions(small_training, suggester) -> None:
    corpus, vectors = small_training
    labels = corpus.drop(columns="origin").copy()
    rare = np.flatnonzero(labels["band"].to_numpy() == labels["band"].value_counts().index[-1])
    labels.loc[rare[1:], "band"] = ""  # one row of that band: too few for out-of-fold folds
    clf = EvidenceClassifier(C=0.05, char_tasks=(), text_tasks=(), router=False).fit(
        corpus["text"].tolist(), labels, embeddings=vectors, index=suggester.index, origin=corpus["origin"].tolist())
    assert clf.heads_["direction"].temperature_ != 1.0 and clf.direction_mix_ == 1.0


def test_model_card_says_which_notes_teach_only_the_inspection_expert(small_training, suggester, tmp_path: Path) -> None:
    from evidencenlp.modelcard import write_model_card

    corpus, vectors = small_training
    texts = corpus["text"].tolist()
    labels = corpus.drop(columns="origin")
    n = len(texts)
    light = {"C": 0.05, "char_tasks": (), "text_tasks": (), "calibrate": False, "router": True}
    for origin, inspection_only, mentioned in (
            (["phase1:trust"] * 60 + ["corpus:notes.csv"] * 50 + ["bundle:set/b1.json"] * (n - 110), ("bundle",), True),
            (["phase1:trust"] * 60 + ["corpus:notes.csv"] * (n - 60), ("bundle",), False),  # no bundle rows
            (["phase1:trust"] * 60 + ["corpus:notes.csv"] * 50 + ["bundle:set/b1.json"] * (n - 110), (), False)):
        clf = EvidenceClassifier(**light, inspection_only=inspection_only).fit(
            texts, labels, embeddings=vectors, index=suggester.index, origin=origin)
        card = write_model_card(clf, tmp_path).read_text(encoding="utf-8")
        assert ("starts with `bundle` (`inspection_only`)" in card) is mentioned


def test_a_saved_model_without_inspection_only_loads_with_none(fitted, small_training, tmp_path: Path, suggester) -> None:
    """Through ``load`` (not only ``params_from_meta``): heads.json written before the parameter existed."""
    corpus, vectors = small_training
    fitted.save(tmp_path)
    meta_path = tmp_path / "heads.json"
    meta = json.loads(meta_path.read_text())
    assert meta["params"]["inspection_only"] == list(fitted.inspection_only)
    del meta["params"]["inspection_only"]
    meta_path.write_text(json.dumps(meta))
    loaded = EvidenceClassifier.load(tmp_path, index=suggester.index)
    assert loaded.inspection_only == () and loaded.model_version == fitted.model_version
    assert {k: v for k, v in loaded.get_params().items() if k != "inspection_only"} == \
        {k: v for k, v in fitted.get_params().items() if k != "inspection_only"}


def test_with_source_weight_replaces_the_weight_of_one_origin_prefix() -> None:
    from evidencenlp.classifier import source_sample_weights, with_source_weight

    weights = with_source_weight((("bundle", 1.0), ("framework", 0.3)), "bundle", 0.5)
    assert weights == (("framework", 0.3), ("bundle", 0.5))  # the earlier entry would win (first match): dropped
    assert source_sample_weights(["bundle:a/b1", "framework:x", "corpus:c"], weights).tolist() == [0.5, 0.3, 1.0]
    assert with_source_weight((), "bundle", 2) == (("bundle", 2.0),)
