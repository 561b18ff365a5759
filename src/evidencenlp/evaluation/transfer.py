"""Transfer tests: train on some sources, test on one never seen (leave one trust out; inspection reports).

Real users run the tool on feedback from trusts it never saw and on inspectors' own writing, so the
figures that count are measured on a source held out whole:

- **leave one trust out** (pxtextmining phase 1): for each trust, train on the other two trusts'
  comments plus the corpus and framework examples, test on that trust's comments;
- **inspection reports**: train on everything else, test on paragraphs of published CQC inspection
  reports (training/inspection/cqc_reports.csv).

Each fold reports the classifier beside a TF-IDF + linear SVM trained on the same rows, a TF-IDF +
SVM trained on the held-in trusts' comments only, and zero-shot cosine, with 95% bootstrap intervals.
Metrics: key question macro-F1 over the key questions present in the test set, accuracy, and band
direction accuracy on comments whose criticality is clear. No note text is printed.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.classifier import DIRECTION_TASK, EvidenceClassifier, decide
from evidencenlp.evaluation.baselines import TfidfSvmModel, ZeroShotModel, task_classes
from evidencenlp.matching import FrameworkIndex

Log = Callable[[str], None]
MODELS: tuple[str, ...] = ("classifier", "tfidf_svm_same_rows", "tfidf_svm_feedback_only", "zero_shot")
TITLES: dict[str, str] = {"classifier": "evidencenlp classifier", "tfidf_svm_same_rows": "TF-IDF+SVM (same rows)",
                          "tfidf_svm_feedback_only": "TF-IDF+SVM (feedback only)", "zero_shot": "zero-shot cosine"}
N_BOOTSTRAP = 1000


@dataclass
class Metric:
    """A figure with its 95% bootstrap interval."""

    value: float
    low: float
    high: float
    n: int

    def to_dict(self) -> dict[str, Any]:
        """``{value, low, high, n}`` rounded to 4 places."""
        return {"value": round(self.value, 4), "low": round(self.low, 4), "high": round(self.high, 4), "n": self.n}


@dataclass
class FoldResult:
    """One held-out source: per model, ``kq_macro_f1``, ``kq_accuracy`` and ``direction_accuracy``."""

    name: str
    n_train: int
    n_test: int
    metrics: dict[str, dict[str, Metric]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"fold": self.name, "n_train": self.n_train, "n_test": self.n_test,
                "metrics": {m: {k: v.to_dict() for k, v in ms.items()} for m, ms in self.metrics.items()}}


@dataclass
class TransferResult:
    """All folds of a transfer test and their mean (with a bootstrap interval over all folds' rows)."""

    kind: str
    description: str
    folds: list[FoldResult]
    mean: dict[str, dict[str, Metric]]
    params: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {"kind": self.kind, "description": self.description, "params": self.params,
                "folds": [f.to_dict() for f in self.folds],
                "mean": {m: {k: v.to_dict() for k, v in ms.items()} for m, ms in self.mean.items()}}


def _macro_f1(y: np.ndarray, p: np.ndarray, labels: Sequence[str]) -> float:
    """Macro-F1 over ``labels`` (as scikit-learn's, zero_division=0), computed with bincounts: the
    bootstrap calls it thousands of times."""
    index = {label: i for i, label in enumerate(labels)}
    k = len(labels)
    yi = np.array([index.get(v, k) for v in y])
    pi = np.array([index.get(v, k) for v in p])
    tp = np.bincount(yi[yi == pi], minlength=k + 1)[:k].astype(float)
    support = np.bincount(yi, minlength=k + 1)[:k].astype(float)
    predicted = np.bincount(pi, minlength=k + 1)[:k].astype(float)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros(k), where=denom > 0)
    return float(f1.mean()) if k else float("nan")


def _bootstrap(values: Callable[[np.ndarray], float], n: int, rng: np.random.Generator,
               strata: np.ndarray | None = None) -> tuple[float, float]:
    """2.5% and 97.5% percentiles of ``values(indices)`` over resamples (within ``strata`` when given)."""
    stats = []
    groups = [np.arange(n)] if strata is None else [np.flatnonzero(strata == s) for s in np.unique(strata)]
    for _ in range(N_BOOTSTRAP):
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        stats.append(values(idx))
    return float(np.percentile(stats, 2.5)), float(np.percentile(stats, 97.5))


def score(frame: pd.DataFrame, kq_pred: np.ndarray, direction_pred: np.ndarray | None, seed: int = 0,
          strata: np.ndarray | None = None) -> dict[str, Metric]:
    """Key question macro-F1 / accuracy and direction accuracy with 95% bootstrap intervals.

    ``frame`` has ``key_question`` and (optionally) ``direction`` columns (``""`` = unknown);
    ``kq_pred`` / ``direction_pred`` are ``(n,)`` predicted labels aligned with it.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, Metric] = {}
    kq_rows = np.flatnonzero(frame["key_question"].to_numpy() != "")
    if len(kq_rows):
        y = frame["key_question"].to_numpy()[kq_rows]
        p = np.asarray(kq_pred)[kq_rows]
        labels = sorted(set(y))
        s = None if strata is None else strata[kq_rows]
        f1 = _macro_f1(y, p, labels)
        lo, hi = _bootstrap(lambda i: _macro_f1(y[i], p[i], labels), len(y), rng, s)
        out["kq_macro_f1"] = Metric(f1, lo, hi, len(y))
        acc = float((y == p).mean())
        lo, hi = _bootstrap(lambda i: float((y[i] == p[i]).mean()), len(y), rng, s)
        out["kq_accuracy"] = Metric(acc, lo, hi, len(y))
    if direction_pred is not None and "direction" in frame:
        d_rows = np.flatnonzero(frame["direction"].to_numpy() != "")
        if len(d_rows):
            y = frame["direction"].to_numpy()[d_rows]
            p = np.asarray(direction_pred)[d_rows]
            s = None if strata is None else strata[d_rows]
            acc = float((y == p).mean())
            lo, hi = _bootstrap(lambda i: float((y[i] == p[i]).mean()), len(y), rng, s)
            out["direction_accuracy"] = Metric(acc, lo, hi, len(y))
    return out


def _direction_from_band(band_proba: np.ndarray) -> np.ndarray:
    half = band_proba.shape[1] // 2
    return np.where(band_proba[:, :half].sum(axis=1) > 0.5, "positive", "negative")


def fit_classifier(train: pd.DataFrame, train_vecs: np.ndarray, index: FrameworkIndex,
                   params: dict[str, Any]) -> EvidenceClassifier:
    """The classifier with ``params`` fitted on ``train`` (corpus columns + ``origin``) and its vectors."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = EvidenceClassifier(**params).bind_index(index)
        clf.fit(train["text"].astype(str).tolist(), train, embeddings=train_vecs,
                origin=train["origin"].fillna("").astype(str).tolist() if "origin" in train else None)
    return clf


def fit_tfidf_svm(rows: pd.DataFrame, index: FrameworkIndex) -> TfidfSvmModel:
    """The TF-IDF + linear SVM baseline (key question and band) fitted on ``rows``; a row's
    ``direction`` stands for a band at the end of its half when it has no band."""
    taxonomy = index.taxonomy
    classes = {t: c for t, c in task_classes(index).items() if t in ("key_question", "band")}
    dir_rows = rows.assign(band=rows.get("direction", pd.Series([""] * len(rows), index=rows.index))
                           .map({"positive": taxonomy.positive_bands[-1], "negative": taxonomy.negative_bands[0]})
                           .fillna("").where(rows["band"] == "", rows["band"]))
    return TfidfSvmModel(classes).fit(dir_rows)


def trust_folds(feedback: pd.DataFrame, feedback_vecs: np.ndarray, base: pd.DataFrame, base_vecs: np.ndarray
                ) -> Iterator[tuple[str, pd.DataFrame, np.ndarray, pd.DataFrame, np.ndarray, pd.DataFrame]]:
    """The leave-one-trust-out folds: ``(trust, train, train vectors, test, test vectors, held-in feedback)``.

    ``train`` is ``base`` (corpus + framework, always trained on) plus the other trusts' comments;
    ``test`` is the held-out trust's comments (index reset).
    """
    for group in sorted(set(feedback["group"])):
        held = (feedback["group"] == group).to_numpy()
        train = pd.concat([base, feedback[~held]], ignore_index=True)
        train_vecs = np.vstack([base_vecs, feedback_vecs[~held]])
        yield (str(group), train, train_vecs, feedback[held].reset_index(drop=True), feedback_vecs[held],
               feedback[~held])


def predict_all_models(train: pd.DataFrame, train_vecs: np.ndarray, test: pd.DataFrame, test_vecs: np.ndarray,
                       index: FrameworkIndex, params: dict[str, Any], feedback_only: pd.DataFrame | None,
                       log: Log, baselines: bool = True) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Fit every model on the training rows; ``model -> (kq predictions, direction predictions)`` for test.

    ``baselines=False`` fits the classifier only (the TF-IDF + SVM and zero-shot baselines are skipped).
    """
    texts = test["text"].astype(str).tolist()
    out: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    taxonomy = index.taxonomy
    log("  fitting the classifier …")
    clf = fit_classifier(train, train_vecs, index, params)
    proba = clf.predict_proba(texts, embeddings=test_vecs)
    # the key question the tool suggests: its suggested statement's (evidencenlp.classifier.decide)
    _, kq_index = decide(proba["statement"], taxonomy.statement_kq, taxonomy.key_questions)
    kq = np.asarray(taxonomy.key_questions, dtype=object)[kq_index]
    direction = (np.where(proba[DIRECTION_TASK][:, 0] > 0.5, "positive", "negative") if DIRECTION_TASK in proba
                 else _direction_from_band(proba["band"]))
    out["classifier"] = (kq, direction)
    if not baselines:
        return out
    classes = {t: c for t, c in task_classes(index).items() if t in ("key_question", "band")}
    for name, rows in (("tfidf_svm_same_rows", train), ("tfidf_svm_feedback_only", feedback_only)):
        if rows is None or not len(rows):
            continue
        log(f"  fitting {TITLES[name]} …")
        pred = fit_tfidf_svm(rows, index).predict(texts)
        out[name] = (np.asarray(classes["key_question"], dtype=object)[pred.proba["key_question"].argmax(axis=1)],
                     _direction_from_band(pred.proba["band"]))
    zs = ZeroShotModel(index).predict(texts, test_vecs)
    out["zero_shot"] = (np.asarray(zs.classes["key_question"], dtype=object)[zs.proba["key_question"].argmax(axis=1)],
                        _direction_from_band(zs.proba["band"]))
    return out


def leave_one_group_out(feedback: pd.DataFrame, feedback_vecs: np.ndarray, base: pd.DataFrame,
                        base_vecs: np.ndarray, index: FrameworkIndex, params: dict[str, Any],
                        log: Log | None = None, seed: int = 0) -> TransferResult:
    """Leave one ``group`` (trust) of ``feedback`` out at a time; ``base`` (corpus + framework) always trains.

    ``feedback`` has the corpus columns + ``origin``, ``direction`` and ``group``; vectors ``(n, 384)``.
    """
    say = log or (lambda _m: None)
    folds: list[FoldResult] = []
    pooled: dict[str, list[tuple[np.ndarray, np.ndarray | None]]] = {}
    pooled_frames: list[pd.DataFrame] = []
    for group, train, train_vecs, test, test_vecs, held_in in trust_folds(feedback, feedback_vecs, base, base_vecs):
        say(f"fold: test on {group} ({len(test):,} comments), train on {len(train):,} rows")
        preds = predict_all_models(train, train_vecs, test, test_vecs, index, params, held_in, say)
        fold = FoldResult(str(group), len(train), len(test))
        for model, (kq, direction) in preds.items():
            fold.metrics[model] = score(test, kq, direction, seed=seed)
            pooled.setdefault(model, []).append((kq, direction))
        folds.append(fold)
        pooled_frames.append(test.assign(_fold=str(group)))
    return TransferResult("leave-one-trust-out",
                          f"train on the other trusts' comments + {len(base):,} corpus and framework rows; "
                          f"test on each trust's comments ({len(feedback):,} in all)",
                          folds, _mean(folds, pooled, pooled_frames, seed), dict(params))


def _mean(folds: list[FoldResult], pooled: dict[str, list[tuple[np.ndarray, np.ndarray | None]]],
          frames: list[pd.DataFrame], seed: int) -> dict[str, dict[str, Metric]]:
    """Mean of the per-fold figures, with an interval from resampling within every fold together."""
    frame = pd.concat(frames, ignore_index=True)
    strata = frame["_fold"].to_numpy()
    fold_ids = sorted(set(strata), key=list(dict.fromkeys(strata)).index)
    out: dict[str, dict[str, Metric]] = {}
    rng = np.random.default_rng(seed)
    for model, parts in pooled.items():
        kq = np.concatenate([p[0] for p in parts])
        direction = (np.concatenate([p[1] for p in parts]) if all(p[1] is not None for p in parts) else None)
        metrics: dict[str, Metric] = {}
        for key in ("kq_macro_f1", "kq_accuracy", "direction_accuracy"):
            values = [f.metrics[model][key].value for f in folds if key in f.metrics.get(model, {})]
            if not values:
                continue

            def fold_mean(idx: np.ndarray, key: str = key, kq: np.ndarray = kq,
                          direction: np.ndarray | None = direction) -> float:
                sub = frame.iloc[idx]
                got = []
                for fid in fold_ids:
                    rows = idx[sub["_fold"].to_numpy() == fid]
                    if not len(rows):
                        continue
                    part = frame.iloc[rows]
                    got.append(_metric(key, part, kq[rows], None if direction is None else direction[rows]))
                return float(np.nanmean(got))

            lo, hi = _bootstrap(fold_mean, len(frame), rng, strata) if N_BOOTSTRAP else (np.nan, np.nan)
            n = sum(f.metrics[model][key].n for f in folds if key in f.metrics.get(model, {}))
            metrics[key] = Metric(float(np.mean(values)), lo, hi, n)
        out[model] = metrics
    return out


def _metric(key: str, part: pd.DataFrame, kq: np.ndarray, direction: np.ndarray | None) -> float:
    if key == "direction_accuracy":
        rows = part["direction"].to_numpy() != ""
        return float((part["direction"].to_numpy()[rows] == direction[rows]).mean()) if rows.any() and \
            direction is not None else np.nan
    rows = part["key_question"].to_numpy() != ""
    y, p = part["key_question"].to_numpy()[rows], kq[rows]
    if not len(y):
        return np.nan
    if key == "kq_accuracy":
        return float((y == p).mean())
    return _macro_f1(y, p, sorted(set(y)))


def held_out_source(test: pd.DataFrame, test_vecs: np.ndarray, train: pd.DataFrame, train_vecs: np.ndarray,
                    index: FrameworkIndex, params: dict[str, Any], name: str, log: Log | None = None,
                    seed: int = 0) -> TransferResult:
    """Train on ``train``, test on a whole other source ``test`` (e.g. inspection reports)."""
    say = log or (lambda _m: None)
    say(f"held-out source {name}: {len(test):,} rows; training on {len(train):,}")
    feedback = train[train["origin"].astype(str).str.startswith("phase1")] if "origin" in train else None
    preds = predict_all_models(train, train_vecs, test.reset_index(drop=True), test_vecs, index, params, feedback, say)
    fold = FoldResult(name, len(train), len(test))
    for model, (kq, direction) in preds.items():
        fold.metrics[model] = score(test.reset_index(drop=True), kq, direction, seed=seed)
    return TransferResult("held-out-source", f"train on {len(train):,} rows of other sources; test on {name}",
                          [fold], dict(fold.metrics), dict(params))
