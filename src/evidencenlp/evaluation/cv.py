"""Cross-validation, fixed splits and scoring of labelled files, with baselines side by side.

Three ways to get an :class:`Evaluation`:

- :func:`cross_validate`: stratified (by SAF statement, else key question) k-fold on the labelled
  notes, GROUPED by near-duplicate groups so near-duplicates never straddle folds. Framework-derived
  examples join every training fold (minus any near-duplicate of that fold's test notes) and are
  never tested. Every model sees the same folds.
- :func:`fixed_split`: train on one labelled table, test on another (near-duplicates of test
  notes are dropped from training, and counted).
- :func:`score_labelled`: score given (shipped) heads on a labelled table; the trainable baselines
  are fitted on the usual training data (framework examples + corpus).

Out-of-fold predictions are pooled over folds and every metric is computed once on the pool;
accuracy and macro-F1 are also reported per fold (mean ± sd). Tasks: key_question, statement,
evidence_category, band — and ``polarity`` when the table has a ``polarity`` column (derived from
the band probabilities: P(good) + P(outstanding) vs the rest).
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedGroupKFold

from evidencenlp.classifier import EvidenceClassifier
from evidencenlp.defaults import DEFAULT_FOLDS
from evidencenlp.encoder import Embedder, encode_cached
from evidencenlp.errors import DataError
from evidencenlp.evaluation import metrics as M
from evidencenlp.evaluation.baselines import (
    MODEL_NAMES,
    MODEL_TITLES,
    Predictions,
    category_texts,
    make_models,
    task_classes,
)
from evidencenlp.heads import DEFAULT_C
from evidencenlp.matching import FrameworkIndex
from evidencenlp.paths import cache_dir
from evidencenlp.sources import NEAR_DUPLICATE, near_duplicate_groups
from evidencenlp.sources.corpus import data_hash
from evidencenlp.taxonomy import TASKS

POLARITY = "polarity"
POLARITY_CLASSES: list[str] = ["negative", "positive"]
BREAKDOWN_COLUMNS: tuple[str, ...] = ("service", "evidence_category")

N_BINS = 10

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


# -- embeddings ---------------------------------------------------------------------------------

def embed(texts: Sequence[str], name: str = "training", progress: Callable[[int, int], None] | None = None,
          cache: Path | None = None, embedder: Embedder | None = None) -> np.ndarray:
    """Embeddings ``(len(texts), 384)`` with ``embedder`` (default: torch) cached exactly like
    :func:`evidencenlp.encoder.encode_cached` (same file names, so a cache written by ``train`` is
    reused), reporting ``progress(done, total)`` while encoding."""
    texts = list(texts)
    done = [0]

    def step(n: int) -> None:
        done[0] += n
        if progress is not None:
            progress(done[0], len(texts))

    return encode_cached(texts, cache or cache_dir(), name, progress=step, embedder=embedder)


# -- results ------------------------------------------------------------------------------------

@dataclass
class TaskResult:
    """Every figure of one model on one task, over ``n`` labelled test rows (pooled over folds).

    ``labels`` orders ``confusion`` (``(len(labels), len(labels))``, rows = true) and ``per_class``.
    ``macro_f1`` averages over every label seen in truth or prediction (as sklearn), ``macro_f1_true``
    only over labels present in the truth (they differ when a model predicts a class the test data
    never has, e.g. well-led on patient feedback). ``top3`` is set for the statement task;
    ``qwk``/``within_one`` for band.
    """

    task: str
    n: int
    accuracy: float
    macro_f1: float
    labels: list[str]
    confusion: np.ndarray
    per_class: list[M.ClassScore]
    ece: float
    reliability: list[M.ReliabilityBin]
    selective: list[M.CoveragePoint]
    fold_accuracy: list[float] = field(default_factory=list)
    fold_macro_f1: list[float] = field(default_factory=list)
    top3: float | None = None
    qwk: float | None = None
    within_one: float | None = None
    macro_f1_true: float = math.nan

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``nan`` → ``None``)."""
        return _clean({
            "task": self.task, "n": self.n, "accuracy": self.accuracy, "macro_f1": self.macro_f1,
            "macro_f1_true_labels": self.macro_f1_true,
            "fold_accuracy": self.fold_accuracy, "fold_macro_f1": self.fold_macro_f1,
            "top3_accuracy": self.top3, "qwk": self.qwk, "within_one": self.within_one, "ece": self.ece,
            "labels": self.labels, "confusion": self.confusion.tolist(),
            "per_class": [c.to_dict() for c in self.per_class],
            "reliability": [b.to_dict() for b in self.reliability],
            "selective_accuracy": [p.to_dict() for p in self.selective],
        })


@dataclass
class Evaluation:
    """The outcome of one evaluation run: every model on every task, plus breakdowns.

    ``results[model][task]`` is a :class:`TaskResult`; ``breakdowns[column][task]`` is a list of
    ``{"value", "n", model: accuracy, …}`` rows (one per value of ``service`` / ``evidence_category``).
    """

    mode: str
    description: str
    data: dict[str, Any]
    models: list[str]
    tasks: list[str]
    results: dict[str, dict[str, TaskResult]]
    breakdowns: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of everything (no note text)."""
        return _clean({
            "mode": self.mode, "description": self.description, "data": self.data, "models": self.models,
            "model_titles": {m: MODEL_TITLES.get(m, m) for m in self.models}, "tasks": self.tasks,
            "results": {m: {t: r.to_dict() for t, r in tasks.items()} for m, tasks in self.results.items()},
            "breakdowns": self.breakdowns, "notes": self.notes,
        })

    def summary_rows(self) -> list[tuple[str, str, dict[str, float | None]]]:
        """``(task, metric, {model: value})`` rows of the headline figures, in display order."""
        rows = []
        for task in self.tasks:
            metrics = [("accuracy", "accuracy"), ("macro-F1", "macro_f1")]
            if any(abs(r[task].macro_f1 - r[task].macro_f1_true) > 1e-9 for r in self.results.values()
                   if task in r and not math.isnan(r[task].macro_f1_true)):
                metrics.append(("macro-F1 (true classes)", "macro_f1_true"))
            if task == "statement":
                metrics.append(("top-3 accuracy", "top3"))
            if task == "band":
                metrics += [("QWK", "qwk"), ("within-one", "within_one")]
            metrics.append(("ECE", "ece"))
            for label, attr in metrics:
                values = {}
                for m in self.models:
                    r = self.results.get(m, {}).get(task)
                    v = getattr(r, attr) if r is not None else None
                    values[m] = None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
                rows.append((task, label, values))
        return rows

    def markdown(self) -> list[str]:
        """Markdown table lines: one row per task × metric, one column per model (for the model card)."""
        n = {t: next((r[t].n for r in self.results.values() if t in r), 0) for t in self.tasks}
        head = "| task | metric | " + " | ".join(MODEL_TITLES.get(m, m) for m in self.models) + " |"
        lines = [head, "|---|---|" + "---|" * len(self.models)]
        for task, metric, values in self.summary_rows():
            cells = []
            best = _best(metric, values)
            for m in self.models:
                v = values[m]
                text = "–" if v is None else f"{v:.3f}"
                cells.append(f"**{text}**" if m == best and v is not None else text)
            lines.append(f"| {task} (n={n[task]}) | {metric} | " + " | ".join(cells) + " |")
        return lines


def _best(metric: str, values: dict[str, float | None]) -> str | None:
    present = {m: v for m, v in values.items() if v is not None}
    if not present:
        return None
    return (min if metric == "ECE" else max)(present, key=present.__getitem__)


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    if isinstance(obj, (np.floating, float)):
        return None if math.isnan(float(obj)) else round(float(obj), 6)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


# -- scoring --------------------------------------------------------------------------------------

def with_polarity(pred: Predictions) -> Predictions:
    """Add a ``polarity`` task: P(positive) = P(better half of the bands), e.g. P(good) + P(outstanding).

    Band classes are in the taxonomy's order, best first, so the better half is the first half.
    """
    band = pred.proba["band"]
    cols = pred.classes["band"]
    pos = band[:, : len(cols) // 2].sum(axis=1)
    total = band.sum(axis=1)
    neg = np.where(total > 0, total - pos, 0.5)
    pos = np.where(total > 0, pos, 0.5)
    classes = dict(pred.classes, polarity=list(POLARITY_CLASSES))
    polarity = np.stack([neg, pos], axis=1)
    labels = dict(pred.labels)
    if "band" in labels:  # no band suggested (the tool abstained): no direction either
        top = np.asarray(POLARITY_CLASSES, dtype=object)[polarity.argmax(axis=1)]
        labels[POLARITY] = np.where(labels["band"] == "", "", top).astype(object)
    return Predictions(pred.model, classes, dict(pred.proba, polarity=polarity), labels)


def tasks_of(frame: pd.DataFrame) -> list[str]:
    """The tasks with at least one labelled row in ``frame``, in display order."""
    tasks = [t for t in (*TASKS, POLARITY) if t in frame.columns and (frame[t].fillna("").astype(str) != "").any()]
    return tasks


def score_task(task: str, y_true: np.ndarray, proba: np.ndarray, classes: list[str],
               folds: np.ndarray | None = None, predicted: np.ndarray | None = None) -> TaskResult:
    """All metrics of one task from true labels ``(n,)`` and probabilities ``(n, len(classes))``.

    ``predicted`` ``(n,)`` is the label the model suggests when it is not simply the most probable
    column (see :class:`~evidencenlp.evaluation.baselines.Predictions`); confidence is its probability.
    """
    if predicted is None:
        pred = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] if len(proba) else np.zeros(0, dtype=object)
        conf, correct = M.top_label(proba, classes, y_true) if len(proba) else (np.zeros(0), np.zeros(0, dtype=bool))
    else:
        pred = np.asarray(predicted, dtype=object)
        col = {c: i for i, c in enumerate(classes)}
        conf = np.array([proba[i, col[p]] if p in col else 0.0 for i, p in enumerate(pred)], dtype=float)
        correct = pred == y_true
    present = set(y_true) | set(pred)
    labels = [c for c in classes if c in present] + sorted(present - set(classes))
    conf = np.clip(conf, 0.0, 1.0)
    fold_acc, fold_f1 = [], []
    if folds is not None and len(set(folds.tolist())) > 1:
        for k in sorted(set(folds.tolist())):
            m = folds == k
            if m.any():
                fold_acc.append(M.accuracy(y_true[m], pred[m]))
                fold_f1.append(M.macro_f1(y_true[m], pred[m]))
    result = TaskResult(
        task=task, n=len(y_true), accuracy=M.accuracy(y_true, pred), macro_f1=M.macro_f1(y_true, pred),
        labels=labels, confusion=M.confusion_matrix(y_true, pred, labels),
        per_class=M.per_class_scores(y_true, pred, labels), ece=M.expected_calibration_error(conf, correct, N_BINS),
        reliability=M.reliability_bins(conf, correct, N_BINS), selective=M.selective_accuracy(conf, correct),
        fold_accuracy=fold_acc, fold_macro_f1=fold_f1,
        macro_f1_true=M.macro_f1(y_true, pred, labels=[c for c in labels if c in set(y_true)]),
    )
    if task == "statement":
        result.top3 = M.top_k_accuracy(y_true, proba, classes, k=3)
    if task == "band":
        ok = np.isin(y_true, classes) & np.isin(pred, classes)  # band classes are ordinal (best first)
        result.qwk = M.quadratic_weighted_kappa(y_true[ok], pred[ok], order=classes)
        result.within_one = M.within_one_accuracy(y_true[ok], pred[ok], order=classes)
    return result


def score_predictions(frame: pd.DataFrame, predictions: dict[str, Predictions], folds: np.ndarray | None = None,
                      tasks: Sequence[str] | None = None) -> tuple[dict[str, dict[str, TaskResult]],
                                                                  dict[str, dict[str, list[dict[str, Any]]]]]:
    """Score each model's predictions (rows aligned with ``frame``) on every task; also breakdowns.

    Returns ``(results[model][task], breakdowns[column][task])``.
    """
    tasks = list(tasks or tasks_of(frame))
    results: dict[str, dict[str, TaskResult]] = {}
    for name, pred in predictions.items():
        if POLARITY in tasks and POLARITY not in pred.proba:
            pred = predictions[name] = with_polarity(pred)
        results[name] = {}
        for task in tasks:
            mask = (frame[task].fillna("").astype(str) != "").to_numpy()
            y = frame.loc[mask, task].astype(str).to_numpy(dtype=object)
            results[name][task] = score_task(task, y, pred.proba[task][mask], pred.classes[task],
                                             None if folds is None else folds[mask],
                                             pred.labels[task][mask] if task in pred.labels else None)
    breakdowns: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for column in BREAKDOWN_COLUMNS:
        if column not in frame.columns:
            continue
        values = frame[column].fillna("").astype(str)
        if not (values != "").any():
            continue
        breakdowns[column] = {}
        for task in tasks:
            if task == column:
                continue
            rows = []
            labelled = (frame[task].fillna("").astype(str) != "").to_numpy()
            for value in sorted(v for v in values.unique() if v):
                m = labelled & (values == value).to_numpy()
                if not m.any():
                    continue
                row: dict[str, Any] = {"value": value, "n": int(m.sum())}
                y = frame.loc[m, task].astype(str).to_numpy(dtype=object)
                for name, pred in predictions.items():
                    row[name] = M.accuracy(y, pred.predicted(task)[m])
                rows.append(row)
            breakdowns[column][task] = rows
    return results, breakdowns


# -- the three ways of evaluating -------------------------------------------------------------------

def _strata(frame: pd.DataFrame) -> np.ndarray:
    st = frame["statement"].fillna("").astype(str)
    kq = frame["key_question"].fillna("").astype(str)
    return np.where(st != "", st, np.where(kq != "", kq, "_")).astype(object)


def _check_columns(frame: pd.DataFrame, what: str) -> None:
    missing = [c for c in ("text", "key_question", "statement") if c not in frame.columns]
    if missing:
        raise DataError(f"{what}: missing column(s) {', '.join(missing)}; columns found: {', '.join(frame.columns)}")
    if not any((frame[t].fillna("").astype(str) != "").any() for t in TASKS if t in frame.columns):
        raise DataError(f"{what}: no labelled rows (every one of {', '.join(TASKS)} is empty)")


def _fit_predict(models: dict[str, Any], train: pd.DataFrame, train_vecs: np.ndarray, test: pd.DataFrame,
                 test_vecs: np.ndarray, log: Log, where: str) -> dict[str, Predictions]:
    out = {}
    texts = test["text"].astype(str).tolist()
    for name, model in models.items():
        log(f"{where}: fitting {MODEL_TITLES.get(name, name)} …")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.fit(train, train_vecs)
            out[name] = model.predict(texts, test_vecs)
    return out


@dataclass(frozen=True)
class Fold:
    """One fold: corpus row indices to train on / test on, and which extra rows may join training."""

    train: np.ndarray
    test: np.ndarray
    keep_extra: np.ndarray  # bool (n_extra,)


@dataclass(frozen=True)
class FoldPlan:
    """The folds of a grouped CV. ``corpus_groups`` ``(n,)`` / ``extra_groups`` ``(m,)`` are
    near-duplicate group ids shared across both; ``fold_of`` ``(n,)`` is each corpus row's test fold."""

    folds: list[Fold]
    corpus_groups: np.ndarray
    extra_groups: np.ndarray
    fold_of: np.ndarray

    @property
    def n_groups(self) -> int:
        """Number of near-duplicate groups among the corpus rows."""
        return len(set(self.corpus_groups.tolist()))


def plan_folds(corpus: pd.DataFrame, corpus_vectors: np.ndarray, extra_vectors: np.ndarray | None = None,
               folds: int = DEFAULT_FOLDS, seed: int = 0, threshold: float = NEAR_DUPLICATE) -> FoldPlan:
    """StratifiedGroupKFold of ``corpus`` (strata: statement, else key question) over near-duplicate
    groups computed on corpus + extra rows together; an extra row is kept out of a fold's training
    when its group has a test note of that fold."""
    n = len(corpus)
    if extra_vectors is None:
        extra_vectors = np.zeros((0, corpus_vectors.shape[1]), dtype=np.float32)
    groups = near_duplicate_groups(np.vstack([corpus_vectors, extra_vectors]), threshold)
    g_corpus, g_extra = groups[:n], groups[n:]
    n_groups = len(set(g_corpus.tolist()))
    if folds < 2 or folds > n_groups:
        raise DataError(f"cannot make {folds} folds from {n} notes in {n_groups} near-duplicate groups; "
                        f"use --folds between 2 and {max(2, n_groups)}")
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'least populated class has only 1 member' for rare statements
        splits = list(splitter.split(np.zeros(n), _strata(corpus.reset_index(drop=True)), g_corpus))
    fold_of = np.full(n, -1)
    out = []
    for k, (tr, te) in enumerate(splits):
        fold_of[te] = k
        out.append(Fold(tr, te, ~np.isin(g_extra, g_corpus[te])))
    return FoldPlan(out, g_corpus, g_extra, fold_of)


def _origins(frame: pd.DataFrame) -> str:
    """``framework 2484, phase1 6490`` — the kinds of rows by the part of ``origin`` before the first colon."""
    if "origin" not in frame or not len(frame):
        return "none"
    kinds = frame["origin"].fillna("").astype(str).str.split(":").str[0].value_counts()
    return ", ".join(f"{k or 'other'} {v:,}" for k, v in kinds.items())


def cross_validate(corpus: pd.DataFrame, corpus_vectors: np.ndarray, index: FrameworkIndex,
                   extra: pd.DataFrame | None = None, extra_vectors: np.ndarray | None = None,
                   folds: int = DEFAULT_FOLDS, seed: int = 0, models: Sequence[str] = MODEL_NAMES,
                   category_vectors: np.ndarray | None = None, n_jobs: int | None = None,
                   C: float = DEFAULT_C, log: Log = _quiet, params: dict[str, Any] | None = None) -> Evaluation:
    """Grouped, stratified k-fold CV of every model on ``corpus`` (``n`` rows, vectors ``(n, 384)``).

    ``extra`` (framework examples, vectors ``(m, 384)``) is added to every training fold, except
    rows that are near-duplicates (cosine ≥ 0.92) of one of that fold's test notes. Folds run in
    ``n_jobs`` processes (default: one per CPU core, at most ``folds``).
    """
    _check_columns(corpus, "corpus")
    corpus = corpus.reset_index(drop=True)
    n = len(corpus)
    if extra is None or extra_vectors is None:
        extra, extra_vectors = corpus.iloc[:0], np.zeros((0, corpus_vectors.shape[1]), dtype=np.float32)
    extra = extra.reset_index(drop=True)
    log("grouping near-duplicates …")
    plan = plan_folds(corpus, corpus_vectors, extra_vectors, folds, seed)
    g_corpus, n_groups = plan.corpus_groups, plan.n_groups
    splits = [(f.train, f.test) for f in plan.folds]
    fold_of = plan.fold_of
    dropped = int(sum((~f.keep_extra).sum() for f in plan.folds))
    jobs = [(k, f.train, f.test, f.keep_extra) for k, f in enumerate(plan.folds)]
    n_jobs = max(1, min(n_jobs or (os.cpu_count() or 1), folds))
    if "zero_shot" in models and category_vectors is None:  # embed once here, not in every worker
        category_vectors = encode_cached(category_texts(index), cache_dir(), "evidence-categories", embedder=index.embedder)
    log(f"fitting {len(models)} model(s) on {folds} folds ({n_jobs} in parallel) …")

    def run(job: tuple[int, np.ndarray, np.ndarray, np.ndarray]) -> dict[str, Predictions]:
        _, tr, te, keep_extra = job
        train = pd.concat([extra[keep_extra], corpus.iloc[tr]], ignore_index=True)
        train_vecs = np.vstack([extra_vectors[keep_extra], corpus_vectors[tr]])
        fitted = make_models(index, models, category_vectors=category_vectors, C=C, params=params)
        return _fit_predict(fitted, train, train_vecs, corpus.iloc[te], corpus_vectors[te], _quiet, "")

    per_model: dict[str, list[Predictions]] = {m: [] for m in models}
    order: list[np.ndarray] = []
    if n_jobs == 1:
        outputs = (run(job) for job in jobs)
    else:
        from joblib import Parallel, delayed

        outputs = Parallel(n_jobs=n_jobs, backend="loky", return_as="generator")(delayed(run)(job) for job in jobs)
    for (k, _, te, _), preds in zip(jobs, outputs):
        log(f"fold {k + 1}/{folds} done")
        for name, p in preds.items():
            per_model[name].append(p)
        order.append(te)
    test_rows = np.concatenate(order)
    test = corpus.iloc[test_rows].reset_index(drop=True)
    pooled = {m: Predictions.concat(parts) for m, parts in per_model.items()}
    fold_ids = fold_of[test_rows]
    results, breakdowns = score_predictions(test, pooled, fold_ids)
    multi = int(sum(1 for g in set(g_corpus.tolist()) if (g_corpus == g).sum() > 1))
    description = (
        f"{folds}-fold cross-validation (seed {seed}) on {n} labelled notes, stratified by SAF statement "
        f"(key question where no statement) and grouped so near-duplicates (cosine ≥ {NEAR_DUPLICATE}) never "
        f"straddle folds ({n_groups} groups, {multi} with more than one note). "
        f"{len(extra)} other rows ({_origins(extra)}) join every training fold (never tested; "
        f"{dropped} fold-exclusions of rows near-duplicating a test note). "
        f"Figures are pooled over the out-of-fold predictions; every model sees the same folds."
    )
    data = {"rows": n, "sha256": data_hash(corpus), "folds": folds, "seed": seed, "groups": n_groups, "heads_C": C,
            "heads_params": {k: v for k, v in (params or {}).items() if k != "frameworks"},
            "framework_examples": len(extra),
            "fold_sizes": [len(te) for _, te in splits],
            "origins": {str(k): int(v) for k, v in corpus.get("origin", pd.Series(dtype=str)).value_counts().items()}}
    return Evaluation("cv", description, data, list(models), tasks_of(test), results, breakdowns)


def fixed_split(train: pd.DataFrame, train_vectors: np.ndarray, test: pd.DataFrame, test_vectors: np.ndarray,
                index: FrameworkIndex, extra: pd.DataFrame | None = None, extra_vectors: np.ndarray | None = None,
                models: Sequence[str] = MODEL_NAMES, category_vectors: np.ndarray | None = None,
                train_name: str = "train", test_name: str = "test", C: float = DEFAULT_C,
                log: Log = _quiet) -> Evaluation:
    """Fit every model on ``train`` (+ ``extra``) and score on ``test``; near-duplicates of test
    notes are removed from the training data first (and counted in the description)."""
    _check_columns(train, train_name)
    _check_columns(test, test_name)
    train, test = train.reset_index(drop=True), test.reset_index(drop=True)
    if extra is not None and extra_vectors is not None and len(extra):
        train = pd.concat([extra.reset_index(drop=True), train], ignore_index=True)
        train_vectors = np.vstack([extra_vectors, train_vectors])
    log("grouping near-duplicates …")
    groups = near_duplicate_groups(np.vstack([train_vectors, test_vectors]))
    g_train, g_test = groups[: len(train)], groups[len(train):]
    keep = ~np.isin(g_train, g_test)
    dropped = int((~keep).sum())
    fitted = make_models(index, models, category_vectors=category_vectors, C=C)
    preds = _fit_predict(fitted, train[keep].reset_index(drop=True), train_vectors[keep], test, test_vectors, log,
                         "fixed split")
    results, breakdowns = score_predictions(test, preds)
    n_extra = 0 if extra is None else len(extra)
    description = (f"fixed split: trained on {train_name} ({len(train) - n_extra} notes"
                   + (f" + {n_extra} framework-derived sentences" if n_extra else "")
                   + f"), tested on {test_name} ({len(test)} notes); {dropped} training rows that were "
                   f"near-duplicates (cosine ≥ {NEAR_DUPLICATE}) of a test note were removed first.")
    data = {"rows": len(test), "sha256": data_hash(test), "train_rows": int(keep.sum()),
            "train_sha256": data_hash(train[keep]), "removed_near_duplicates": dropped}
    return Evaluation("fixed", description, data, list(models), tasks_of(test), results, breakdowns)


def score_labelled(test: pd.DataFrame, test_vectors: np.ndarray, index: FrameworkIndex, bundle: EvidenceClassifier | None,
                   baseline_train: pd.DataFrame | None = None, baseline_vectors: np.ndarray | None = None,
                   models: Sequence[str] = MODEL_NAMES, category_vectors: np.ndarray | None = None,
                   test_name: str = "data", log: Log = _quiet, abstained: np.ndarray | None = None) -> Evaluation:
    """Score the given (shipped) heads on a labelled table; baselines that need training are fitted
    on ``baseline_train`` (typically framework examples + corpus) and skipped without it.
    ``abstained`` ``(n,)`` marks notes the tool gives no suggestion for (``tag`` leaves them empty): the
    heads' predictions there are empty labels, scored as misses, exactly as ``tag`` shows them."""
    _check_columns(test, test_name)
    test = test.reset_index(drop=True)
    names = [m for m in models if (m == "heads" and bundle is not None) or m == "zero_shot"
             or (m not in ("heads", "zero_shot") and baseline_train is not None)]
    fitted = make_models(index, names, classifier=bundle, category_vectors=category_vectors)
    texts = test["text"].astype(str).tolist()
    preds: dict[str, Predictions] = {}
    notes: list[str] = []
    overlap = 0
    if baseline_train is not None and baseline_vectors is not None and len(baseline_train):
        log("checking overlap with the training data …")
        overlap = _near_duplicates_of(test_vectors, baseline_vectors)
        if overlap:
            notes.append(f"{overlap} of the {len(test)} test notes are near-duplicates (cosine ≥ {NEAR_DUPLICATE}) "
                         "of training data: the shipped heads and baselines may have seen them.")
    for name, model in fitted.items():
        log(f"{test_name}: {MODEL_TITLES.get(name, name)} …")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if name != "heads" and baseline_train is not None:
                model.fit(baseline_train, baseline_vectors)
            preds[name] = model.predict(texts, test_vectors)
    if abstained is not None and abstained.any() and "heads" in preds:
        preds["heads"] = _without(preds["heads"], np.asarray(abstained, dtype=bool))
    results, breakdowns = score_predictions(test, preds)
    heads = (f"shipped heads {bundle.model_version} (trained on {bundle.training_data_.get('rows', '?')} rows, "
             f"sha256 {str(bundle.training_data_.get('sha256', '?'))[:12]}…)" if bundle is not None else "no heads")
    description = (f"{heads} scored on {test_name} ({len(test)} labelled notes); baselines fitted on "
                   + (f"{len(baseline_train)} rows (framework examples + corpus)" if baseline_train is not None
                      else "nothing (zero-shot only)")
                   + (f"; {overlap} test notes near-duplicate training data" if overlap else "") + ".")
    data = {"rows": len(test), "sha256": data_hash(test),
            "model_version": bundle.model_version if bundle is not None else None,
            "near_duplicates_of_training": overlap}
    return Evaluation("data", description, data, list(preds), tasks_of(test), results, breakdowns, notes)


def _without(pred: Predictions, rows: np.ndarray) -> Predictions:
    """``pred`` with no suggestion on ``rows`` (boolean ``(n,)``): empty labels, zero probabilities."""
    proba = {t: np.where(rows[:, None], 0.0, p) for t, p in pred.proba.items()}
    labels = {t: np.where(rows, "", pred.predicted(t)).astype(object) for t in pred.proba}
    return Predictions(pred.model, pred.classes, proba, labels)


def _near_duplicates_of(vectors: np.ndarray, reference: np.ndarray, threshold: float = NEAR_DUPLICATE) -> int:
    """How many rows of ``vectors`` have a cosine ≥ ``threshold`` with some row of ``reference``."""
    count = 0
    for start in range(0, len(vectors), 2048):
        sims = vectors[start:start + 2048] @ reference.T
        count += int((sims.max(axis=1) >= threshold).sum()) if sims.size else 0
    return count


__all__ = [
    "DEFAULT_FOLDS",
    "POLARITY",
    "Evaluation",
    "TaskResult",
    "cross_validate",
    "embed",
    "fixed_split",
    "score_labelled",
    "score_predictions",
    "score_task",
    "task_classes",
    "tasks_of",
    "with_polarity",
]
