"""The low-level heads (evidencenlp.heads): scikit-learn conventions, calibration, array round trips."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from evidencenlp.heads import LinearHead, MultiLabelHead, TextHead, fit_temperature


def _toy(n: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    X = rng.normal(size=(n, 5)) + np.eye(3, 5)[y] * 2.0
    return X.astype(np.float32), np.array(["a", "b", "c"])[y]


def test_fit_predict_shapes_and_accuracy() -> None:
    X, y = _toy()
    head = LinearHead(C=1.0).fit(X[:200], y[:200])
    proba = head.predict_proba(X[200:])
    assert proba.shape == (100, 3) and np.allclose(proba.sum(axis=1), 1)
    assert head.classes_ == ["a", "b", "c"]
    assert (head.predict(X[200:]) == y[200:]).mean() > 0.8
    with pytest.raises(ValueError, match="expected 5 features"):
        head.predict_proba(X[:, :4])
    with pytest.raises(ValueError, match="at least two classes"):
        LinearHead().fit(X[:10], ["a"] * 10)


def test_temperature_recovers_overconfidence() -> None:
    rng = np.random.default_rng(1)
    true_logits = rng.normal(size=(2000, 4))
    p = np.exp(true_logits) / np.exp(true_logits).sum(1, keepdims=True)
    y = np.array([rng.choice(4, p=row) for row in p])
    assert abs(fit_temperature(true_logits * 3.0, y) - 3.0) < 0.4  # logits 3x too sharp -> T≈3


def test_heads_round_trip_as_plain_arrays() -> None:
    X, y = _toy()
    head = LinearHead(C=1.0).fit(X, y)
    again = LinearHead.from_arrays(head.to_arrays("h"), "h", json.loads(json.dumps(head.meta())))
    assert np.allclose(again.predict_proba(X), head.predict_proba(X))
    ml = MultiLabelHead(C=1.0, min_positive=2).fit(X, [[v] if v != "c" else [] for v in y], ["a", "b"])
    ml_again = MultiLabelHead.from_arrays(ml.to_arrays("p"), "p", ml.meta())
    assert np.allclose(ml_again.predict_proba(X), ml.predict_proba(X))
    assert all(a.dtype != object for a in [*head.to_arrays("h").values(), *ml.to_arrays("p").values()])


def test_shipped_model_provenance(repo: Path) -> None:
    meta = json.loads((repo / "models" / "heads.json").read_text())
    assert meta["encoder"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert len(meta["training_data"]["sha256"]) == 64
    assert set(meta["frameworks"]) >= {"cqc-saf-2023", "cqc-pcc-v6-draft", "cqc-kloe-healthcare-2018", "crosswalk"}
    assert "holdout" in meta["metrics"]
    assert (repo / "models" / "MODEL_CARD.md").read_text().count("## ") >= 3


def test_text_head_matches_sklearn_tfidf_and_round_trips() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["no staff came for 20 minutes", "staff always came quickly", "records were not signed",
             "records signed and audited monthly", "call bell not answered", "call bell answered at once"] * 5
    y = ["bad", "good", "bad", "good", "bad", "good"] * 5
    head = TextHead().fit(texts, y)
    expected = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode").fit(texts)
    new = ["staff came quickly but records not signed", "café"]
    assert np.allclose(head.transform(new).toarray(), expected.transform(new).toarray())
    proba = head.predict_proba(["nobody came, bell not answered"])
    assert head.classes_[int(proba.argmax())] == "bad" and np.isclose(proba.sum(), 1)
    again = TextHead.from_arrays(head.to_arrays("t"), "t", head.meta())
    assert np.allclose(again.predict_proba(new), head.predict_proba(new))
    assert head.to_arrays("t")["t.vocabulary"].dtype.kind == "U"  # plain strings, savable without pickle
