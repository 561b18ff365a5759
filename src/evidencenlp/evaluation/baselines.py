"""The model under test (the trained heads) and the baselines it is compared with.

Every model has ``fit(frame, vectors)`` and ``predict(texts, vectors) -> Predictions``, where
``frame`` has the corpus columns (``''`` = missing label), ``texts`` is a list of ``n`` notes and
``vectors`` their encoder embeddings ``(n, 384)``. :class:`Predictions` holds, per task, a
probability array ``(n, n_classes)`` whose columns follow the canonical class order of
:func:`task_classes` (so every model is scored on the same label space).

Models:

- ``heads``: :class:`~evidencenlp.classifier.EvidenceClassifier` (key question and statement joint).
- ``majority``: the most frequent training label; its probabilities are the training class
  frequencies (so top-3 = the three most frequent labels).
- ``tfidf_svm``: TF-IDF (word 1–2-grams) + LinearSVC per task; confidence = softmax of the
  decision values / a temperature fitted on 3-fold out-of-fold decision values (the same
  temperature scaling the heads use; sklearn's sigmoid CalibratedClassifierCV was ~10× slower
  and is one-vs-rest).
- ``zero_shot``: cosine similarity to framework text with the same encoder: statement = best
  statement similarity, key question = the best statement's key question, band = best band
  descriptor, evidence category = cosine to the SAF evidence-category descriptions. Its scores
  become probabilities through a softmax with a temperature (fitted on the training fold when
  one exists; the argmax, and so accuracy, does not depend on it).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC

from evidencenlp.classifier import EvidenceClassifier, decide

#: the names of the models, in the order they are shown (the model under test first)
from evidencenlp.defaults import MODEL_NAMES, MODEL_TITLES
from evidencenlp.encoder import encode_cached
from evidencenlp.heads import DEFAULT_C, fit_temperature
from evidencenlp.matching import FrameworkIndex
from evidencenlp.paths import cache_dir
from evidencenlp.taxonomy import TASKS

DEFAULT_ZERO_SHOT_TEMPERATURE = 0.05


def task_classes(index: FrameworkIndex) -> dict[str, list[str]]:
    """Canonical class order per task (the taxonomy's): key questions, statements, categories, bands."""
    return {task: list(index.taxonomy.labels(task)) for task in TASKS}


@dataclass
class Predictions:
    """Per-task probabilities of one model on ``n`` notes.

    ``proba[task]`` is ``(n, len(classes[task]))``; rows sum to 1 (or to 0 when the model has no
    opinion on that task, e.g. a head missing from an old bundle). ``labels[task]`` ``(n,)``, when
    given, is the label the model suggests where it is not simply the most probable column (the
    classifier's key question is its suggested statement's: see ``evidencenlp.classifier.decide``).
    """

    model: str
    classes: dict[str, list[str]]
    proba: dict[str, np.ndarray] = field(default_factory=dict)
    labels: dict[str, np.ndarray] = field(default_factory=dict)

    def predicted(self, task: str) -> np.ndarray:
        """The suggested label per row ``(n,)`` of str: ``labels[task]``, else the top column."""
        if task in self.labels:
            return self.labels[task]
        return np.asarray(self.classes[task], dtype=object)[self.proba[task].argmax(axis=1)]

    def take(self, rows: np.ndarray) -> Predictions:
        """The predictions of a subset of rows (index array or boolean mask)."""
        return Predictions(self.model, self.classes, {t: p[rows] for t, p in self.proba.items()},
                           {t: v[rows] for t, v in self.labels.items()})

    @staticmethod
    def concat(parts: Sequence[Predictions]) -> Predictions:
        """Stack several predictions of the same model row-wise (e.g. the folds of a CV)."""
        first = parts[0]
        return Predictions(first.model, first.classes,
                           {t: np.vstack([p.proba[t] for p in parts]) for t in first.proba},
                           {t: np.concatenate([p.labels[t] for p in parts]) for t in first.labels})


def _reorder(proba: np.ndarray, model_classes: Sequence[str], canonical: Sequence[str]) -> np.ndarray:
    """Columns of ``proba`` (in ``model_classes`` order) moved to ``canonical`` order; unknown → 0."""
    out = np.zeros((proba.shape[0], len(canonical)))
    pos = {c: i for i, c in enumerate(canonical)}
    for j, c in enumerate(model_classes):
        if c in pos:
            out[:, pos[c]] = proba[:, j]
    return out


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _labelled(frame: pd.DataFrame, task: str) -> np.ndarray:
    return (frame[task].fillna("").astype(str) != "").to_numpy()


class HeadsModel:
    """The project's :class:`EvidenceClassifier`, fitted per fold (or given already fitted)."""

    name = "heads"

    def __init__(self, index: FrameworkIndex, classifier: EvidenceClassifier | None = None,
                 C: float = DEFAULT_C, params: dict[str, Any] | None = None) -> None:
        self.index = index
        self.classifier = classifier
        self.C = C
        self.params = dict(params) if params else {"C": C}

    def fit(self, frame: pd.DataFrame, vectors: np.ndarray) -> HeadsModel:
        """Fit every head on ``frame`` (corpus columns) and its embeddings ``(n, 384)``."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf = EvidenceClassifier(**self.params).bind_index(self.index)
            self.classifier = clf.fit(frame["text"].astype(str).tolist(), frame, embeddings=vectors,
                                      origin=_origins(frame))
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> Predictions:
        """Probabilities of the joint key question/statement and the other heads."""
        if self.classifier is None:
            raise ValueError("the heads are not fitted")
        proba = self.classifier.bind_index(self.index).predict_proba(list(texts), embeddings=vectors)
        st, kq = decide(proba["statement"], self.index.taxonomy.statement_kq, self.index.taxonomy.key_questions)
        labels = {"statement": np.asarray(self.index.taxonomy.statements, dtype=object)[st],
                  "key_question": np.asarray(self.index.taxonomy.key_questions, dtype=object)[kq]}
        return Predictions(self.name, task_classes(self.index), {task: proba[task] for task in TASKS}, labels)


class MajorityModel:
    """Predicts the most frequent training label; probabilities = training class frequencies."""

    name = "majority"

    def __init__(self, classes: dict[str, list[str]]) -> None:
        self.classes = classes
        self.prior: dict[str, np.ndarray] = {}

    def fit(self, frame: pd.DataFrame, vectors: np.ndarray | None = None) -> MajorityModel:
        """Count labels per task over the rows of ``frame`` that carry them."""
        for task, classes in self.classes.items():
            counts = frame.loc[_labelled(frame, task), task].value_counts()
            prior = np.array([counts.get(c, 0) for c in classes], dtype=float)
            # tiny tie-break by class order so argmax is deterministic
            self.prior[task] = prior / prior.sum() if prior.sum() else np.full(len(classes), 1 / len(classes))
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> Predictions:
        """The same prior for every row."""
        n = len(texts)
        return Predictions(self.name, self.classes, {t: np.tile(p, (n, 1)) for t, p in self.prior.items()})


class TfidfSvmModel:
    """TF-IDF (word 1–2-grams, sublinear tf) + LinearSVC per task; probabilities are a softmax of the
    decision values divided by a temperature fitted on 3-fold out-of-fold decision values."""

    name = "tfidf_svm"

    def __init__(self, classes: dict[str, list[str]], C: float = 0.5, calibration_folds: int = 3,
                 seed: int = 0) -> None:
        self.classes = classes
        self.C = C
        self.calibration_folds = calibration_folds
        self.seed = seed
        self.pipelines: dict[str, Pipeline] = {}
        self.temperature: dict[str, float] = {}
        self.constant: dict[str, str] = {}

    def _svc(self) -> LinearSVC:
        return LinearSVC(C=self.C, class_weight="balanced", random_state=self.seed)

    @staticmethod
    def _logits(clf: LinearSVC, X) -> np.ndarray:
        d = clf.decision_function(X)
        return np.stack([-d, d], axis=1) / 2 if d.ndim == 1 else d

    def _fit_temperature(self, X, y: np.ndarray, classes: list[str]) -> float:
        smallest = int(np.unique(y, return_counts=True)[1].min())
        folds = min(self.calibration_folds, smallest)
        if folds < 2:
            return 1.0
        logits = np.full((len(y), len(classes)), -1e4)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=self.seed).split(np.zeros(len(y)), y):
            clf = self._svc().fit(X[tr], y[tr])
            cols = [classes.index(str(c)) for c in clf.classes_]
            logits[np.ix_(te, cols)] = self._logits(clf, X[te])
        return fit_temperature(logits, np.array([classes.index(v) for v in y]))

    def fit(self, frame: pd.DataFrame, vectors: np.ndarray | None = None) -> TfidfSvmModel:
        """Fit one pipeline per task on the rows that carry its label, then its temperature."""
        for task in self.classes:
            mask = _labelled(frame, task)
            y = frame.loc[mask, task].astype(str).to_numpy()
            texts = frame.loc[mask, "text"].astype(str).tolist()
            if len(set(y)) < 2:
                if len(y):
                    self.constant[task] = str(y[0])
                continue
            pipe = Pipeline([("tfidf", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1,
                                                       strip_accents="unicode")),
                             ("svm", self._svc())])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pipe.fit(texts, y)
                X = pipe.named_steps["tfidf"].transform(texts)
                self.temperature[task] = self._fit_temperature(X, y, [str(c) for c in pipe.named_steps["svm"].classes_])
            self.pipelines[task] = pipe
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray | None = None) -> Predictions:
        """Temperature-scaled softmax of the SVM decision values, per task."""
        out = {}
        for task, classes in self.classes.items():
            pipe = self.pipelines.get(task)
            if pipe is None:
                proba = np.zeros((len(texts), len(classes)))
                if task in self.constant and self.constant[task] in classes:
                    proba[:, classes.index(self.constant[task])] = 1.0
                out[task] = proba
                continue
            svm = pipe.named_steps["svm"]
            logits = self._logits(svm, pipe.named_steps["tfidf"].transform(list(texts)))
            out[task] = _reorder(_softmax(logits / self.temperature[task]), [str(c) for c in svm.classes_], classes)
        return Predictions(self.name, self.classes, out)


def category_texts(index: FrameworkIndex) -> list[str]:
    """``"title. description"`` of each evidence category, in the taxonomy's order."""
    primary = index.frameworks[index.taxonomy.framework]
    by_id = {c["id"]: f"{c['title']}. {c.get('description', '')}".strip()
             for c in primary.section("evidence_categories")}
    return [by_id.get(c, c.replace("_", " ")) for c in index.taxonomy.categories]


def _origins(frame: pd.DataFrame) -> list[str] | None:
    """The ``origin`` column of a training frame as the classifier's ``origin`` fit parameter (None: none)."""
    return frame["origin"].fillna("").astype(str).tolist() if "origin" in frame else None


class ZeroShotModel:
    """Cosine similarity to framework text with the same encoder (no labelled notes needed)."""

    name = "zero_shot"

    def __init__(self, index: FrameworkIndex, category_vectors: np.ndarray | None = None,
                 temperature: float = DEFAULT_ZERO_SHOT_TEMPERATURE) -> None:
        self.index = index
        self.classes = task_classes(index)
        if category_vectors is None:
            category_vectors = encode_cached(category_texts(index), cache_dir(), "evidence-categories", embedder=index.embedder)
        self.category_vectors = category_vectors
        self.temperature = {t: temperature for t in self.classes}

    def scores(self, vectors: np.ndarray) -> dict[str, np.ndarray]:
        """Raw cosine scores per task ``(n, n_classes)`` in canonical class order."""
        sims = self.index.similarities(vectors)
        st = self.index.statement_scores(sims)
        return {"key_question": self.index.key_question_scores(st), "statement": st,
                "evidence_category": vectors @ self.category_vectors.T, "band": self.index.band_scores(sims)}

    def fit(self, frame: pd.DataFrame, vectors: np.ndarray) -> ZeroShotModel:
        """Fit only the softmax temperature per task on labelled non-framework rows (argmax unchanged)."""
        keep = ~frame["origin"].fillna("").astype(str).str.startswith("framework").to_numpy() \
            if "origin" in frame.columns else np.ones(len(frame), dtype=bool)
        scores = self.scores(vectors[keep])
        sub = frame[keep]
        for task, classes in self.classes.items():
            mask = _labelled(sub, task) & sub[task].isin(classes).to_numpy()
            if mask.sum() >= 10:
                y = np.array([classes.index(v) for v in sub.loc[mask, task]])
                self.temperature[task] = fit_temperature(scores[task][mask].astype(np.float64), y)
        return self

    def predict(self, texts: Sequence[str], vectors: np.ndarray) -> Predictions:
        """Softmax of cosine scores / temperature, per task."""
        return Predictions(self.name, self.classes,
                           {t: _softmax(s.astype(np.float64) / self.temperature[t]) for t, s in self.scores(vectors).items()})


def make_models(index: FrameworkIndex, names: Sequence[str] = MODEL_NAMES,
                classifier: EvidenceClassifier | None = None,
                category_vectors: np.ndarray | None = None, C: float = DEFAULT_C,
                params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fresh (unfitted, except a given ``classifier``) models by name, in ``names`` order."""
    classes = task_classes(index)
    factories = {
        "heads": lambda: HeadsModel(index, classifier, C=C, params=params),
        "majority": lambda: MajorityModel(classes),
        "tfidf_svm": lambda: TfidfSvmModel(classes),
        "zero_shot": lambda: ZeroShotModel(index, category_vectors),
    }
    unknown = [n for n in names if n not in factories]
    if unknown:
        raise ValueError(f"unknown model(s) {unknown}; expected some of {list(factories)}")
    return {n: factories[n]() for n in names}


__all__ = ["MODEL_NAMES", "MODEL_TITLES", "TASKS", "HeadsModel", "MajorityModel", "Predictions", "TfidfSvmModel",
           "ZeroShotModel", "category_texts", "make_models", "task_classes"]
