"""scikit-learn heads on note features, saved as plain arrays + JSON (nothing executes on load).

A :class:`LinearHead` is a multinomial logistic regression on standardised features with a
temperature fitted on out-of-fold logits, so its probabilities are calibrated. A
:class:`MultiLabelHead` is one binary logistic regression per label (for the King's Fund
principles). Both follow scikit-learn's ``fit`` / ``predict`` / ``predict_proba`` conventions and
export their parameters as numpy arrays.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold

from evidencenlp.defaults import DEFAULT_C


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _check_X(X: np.ndarray, n_features: int | None = None) -> np.ndarray:
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"expected a 2-D feature array (n_samples, n_features); got shape {X.shape}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"expected {n_features} features per sample; got {X.shape[1]}")
    if not np.isfinite(X).all():
        raise ValueError("features contain NaN or infinite values")
    return X


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """Temperature ``T`` minimising the negative log-likelihood of ``softmax(logits / T)``.

    ``logits`` is ``(n_samples, n_classes)``; ``y`` holds class indices. Returns T in [0.05, 20].
    """

    def nll(t: float) -> float:
        p = _softmax(logits / t)
        return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())

    return float(minimize_scalar(nll, bounds=(0.05, 20.0), method="bounded").x)


@dataclass
class _StandardisedLinear:
    """Parameters shared by the heads: standardisation and a linear map to one logit per class."""

    C: float = DEFAULT_C
    classes_: list[str] = field(default_factory=list)
    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None
    mean_: np.ndarray | None = None
    scale_: np.ndarray | None = None

    def _standardise_fit(self, X: np.ndarray) -> np.ndarray:
        self.mean_ = X.mean(axis=0)
        self.scale_ = X.std(axis=0) + 1e-6
        return (X - self.mean_) / self.scale_

    def _logits(self, X: np.ndarray) -> np.ndarray:
        if self.coef_ is None:
            raise ValueError("this head is not fitted yet")
        X = _check_X(X, self.coef_.shape[1])
        return ((X - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The fitted parameters as named arrays (for ``np.savez``)."""
        assert self.coef_ is not None and self.intercept_ is not None
        assert self.mean_ is not None and self.scale_ is not None
        return {f"{prefix}.coef": self.coef_, f"{prefix}.intercept": self.intercept_,
                f"{prefix}.mean": self.mean_, f"{prefix}.scale": self.scale_}

    def _set_arrays(self, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]) -> None:
        self.classes_ = [str(c) for c in meta["classes"]]
        self.coef_ = arrays[f"{prefix}.coef"]
        self.intercept_ = arrays[f"{prefix}.intercept"]
        self.mean_ = arrays[f"{prefix}.mean"]
        self.scale_ = arrays[f"{prefix}.scale"]
        if self.coef_.shape[0] != len(self.classes_):
            raise ValueError(f"head {prefix}: {self.coef_.shape[0]} weight rows for {len(self.classes_)} classes")


@dataclass
class LinearHead(_StandardisedLinear):
    """Calibrated multinomial logistic regression.

    After :meth:`fit`: ``classes_`` (n_classes,), ``coef_`` (n_classes, n_features), ``intercept_``
    (n_classes,), ``mean_``/``scale_`` (n_features,) for standardisation, ``temperature_`` (scalar).
    """

    calibrate: bool = True
    random_state: int = 0
    temperature_: float = 1.0
    oof_logits_: np.ndarray | None = field(default=None, repr=False)

    def _model(self) -> LogisticRegression:
        return LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced")

    def fit(self, X: np.ndarray, y: Sequence[str], calibration_mask: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None) -> LinearHead:
        """Fit on features ``X`` ``(n_samples, n_features)`` and string labels ``y`` ``(n_samples,)``.

        The temperature is fitted on out-of-fold logits of the rows where ``calibration_mask`` is
        True (default: all rows) — e.g. real notes rather than framework sentences. The out-of-fold
        logits stay available as ``oof_logits_`` ``(n_samples, n_classes)`` (not saved).
        """
        X = _check_X(X)
        labels = np.asarray(y, dtype=object)
        if len(labels) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(labels)} labels")
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError(f"need at least two classes to fit a head; got {classes}")
        Z = self._standardise_fit(X)
        model = self._model().fit(Z, labels, sample_weight=sample_weight)
        self.classes_ = [str(c) for c in model.classes_]
        self.coef_ = model.coef_.astype(np.float32)
        self.intercept_ = model.intercept_.astype(np.float32)
        if len(self.classes_) == 2:  # sklearn stores one row for binary problems
            self.coef_ = np.vstack([-self.coef_, self.coef_]) / 2
            self.intercept_ = np.array([-self.intercept_[0], self.intercept_[0]], dtype=np.float32) / 2
        self.temperature_ = (self._fit_temperature(Z, labels, calibration_mask, sample_weight)
                             if self.calibrate else 1.0)
        return self

    def _fit_temperature(self, Z: np.ndarray, y: np.ndarray, mask: np.ndarray | None,
                         sample_weight: np.ndarray | None = None) -> float:
        counts = np.unique(y, return_counts=True)[1]
        n_splits = int(min(5, counts.min()))
        if n_splits < 2:
            return 1.0
        logits = np.zeros((len(y), len(self.classes_)), dtype=np.float64)
        folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=self.random_state)
        for train, test in folds.split(Z, y):
            w = None if sample_weight is None else sample_weight[train]
            m = self._model().fit(Z[train], y[train], sample_weight=w)
            decision = m.decision_function(Z[test])
            if decision.ndim == 1:
                decision = np.stack([-decision, decision], axis=1) / 2
            cols = [self.classes_.index(str(c)) for c in m.classes_]
            block = np.full((len(test), len(self.classes_)), -1e4)
            block[:, cols] = decision
            logits[test] = block
        self.oof_logits_ = logits
        index = {c: i for i, c in enumerate(self.classes_)}
        rows = np.ones(len(y), dtype=bool) if mask is None or mask.sum() < 50 else np.asarray(mask, dtype=bool)
        return fit_temperature(logits[rows], np.array([index[str(v)] for v in y[rows]]))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """Uncalibrated logits ``(n_samples, n_classes)``."""
        return self._logits(X)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities ``(n_samples, n_classes)`` in ``classes_`` order."""
        return _softmax(self.decision_function(X) / self.temperature_)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable label per sample, ``(n_samples,)`` of str."""
        return np.array(self.classes_, dtype=object)[self.predict_proba(X).argmax(axis=1)]

    def meta(self) -> dict[str, object]:
        """JSON-serialisable description: classes, temperature, regularisation."""
        return {"type": "linear", "classes": self.classes_, "temperature": self.temperature_, "C": self.C}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]) -> LinearHead:
        """Rebuild a fitted head from :meth:`to_arrays` output and :meth:`meta`."""
        head = cls(C=float(meta.get("C", DEFAULT_C)))
        head._set_arrays(arrays, prefix, meta)
        head.temperature_ = float(meta["temperature"])
        return head


@dataclass
class MultiLabelHead(_StandardisedLinear):
    """One binary logistic regression per label; ``predict_proba`` gives independent probabilities.

    Labels with fewer than ``min_positive`` positive examples are not learned (always 0).
    """

    min_positive: int = 5

    def fit(self, X: np.ndarray, Y: Sequence[Sequence[str]], classes: Sequence[str]) -> MultiLabelHead:
        """Fit on ``X`` ``(n_samples, n_features)`` and, per sample, the list of its labels."""
        X = _check_X(X)
        self.classes_ = list(classes)
        Z = self._standardise_fit(X)
        self.coef_ = np.zeros((len(self.classes_), X.shape[1]), dtype=np.float32)
        self.intercept_ = np.full(len(self.classes_), -20.0, dtype=np.float32)
        for j, label in enumerate(self.classes_):
            y = np.array([label in labels for labels in Y])
            if y.sum() < self.min_positive or (~y).sum() < self.min_positive:
                continue
            m = LogisticRegression(C=self.C, max_iter=2000, class_weight="balanced").fit(Z, y)
            self.coef_[j] = m.coef_[0]
            self.intercept_[j] = m.intercept_[0]
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Independent probabilities ``(n_samples, n_labels)``."""
        z = self._logits(X)
        return 1.0 / (1.0 + np.exp(-np.clip(z, -50, 50)))

    def meta(self) -> dict[str, object]:
        """JSON-serialisable description."""
        return {"type": "multilabel", "classes": self.classes_, "C": self.C}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]) -> MultiLabelHead:
        """Rebuild from :meth:`to_arrays` and :meth:`meta`."""
        head = cls(C=float(meta.get("C", DEFAULT_C)))
        head._set_arrays(arrays, prefix, meta)
        return head


def _word_grams(vectoriser: Any, texts: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    """The word n-grams of every text, as ``vectoriser``'s analyzer gives them, for the whole batch at once.

    Each text is decoded, preprocessed and tokenised by the vectoriser's own functions; the n-grams
    (tokens joined by a space, as scikit-learn's ``_word_ngrams`` makes them) are then made across the
    batch's token list, keeping those within one text. Returns the text (row) of each gram and the grams:
    per text the same multiset of grams as ``vectoriser.build_analyzer()`` (in another order).
    """
    decode, preprocess, tokenise = vectoriser.decode, vectoriser.build_preprocessor(), vectoriser.build_tokenizer()
    tokens = [tokenise(preprocess(decode(doc))) for doc in texts]
    lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
    flat: list[str] = list(itertools.chain.from_iterable(tokens))
    text_of = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)
    min_n, max_n = vectoriser.ngram_range
    rows, grams = [], []
    for n in range(min_n, max_n + 1):
        if n == 1:
            rows.append(text_of)
            grams.extend(flat)
            continue
        starts = len(flat) - n + 1
        if starts <= 0:
            break
        within = text_of[:starts] == text_of[n - 1:]  # the n tokens from here belong to one text
        joined = map(" ".join, zip(*(flat[k:k + starts] for k in range(n))))
        grams.extend(itertools.compress(joined, within.tolist()))
        rows.append(text_of[:starts][within])
    return (np.concatenate(rows) if rows else np.zeros(0, dtype=np.int32)), grams


#: below this many grams (a note or a few), ids are given in Python: pandas' set-up costs more than the hashing
_SMALL_BATCH_GRAMS = 2048


def _factorize(grams: list[str]) -> tuple[np.ndarray, list[str]]:
    """Each gram's id (int32) in order of first appearance, and the distinct grams in that order (as
    ``pandas.factorize`` gives them; hashed in C for a large batch). An id only serves a look-up."""
    if len(grams) < _SMALL_BATCH_GRAMS:
        ids: dict[str, int] = {}
        codes = np.fromiter((ids.setdefault(g, len(ids)) for g in grams), dtype=np.int32, count=len(grams))
        return codes, list(ids)
    import pandas as pd

    found, uniques = pd.factorize(np.array(grams, dtype=object))
    return np.asarray(found).astype(np.int32, copy=False), list(uniques)


class SharedCounts:
    """One batch of texts whose n-gram analysis is done once per analyzer and shared by every :class:`TextHead`.

    Several heads (one per task, word and character) read the same texts; tokenising them once per
    analyzer, and giving each head only a column look-up, keeps the text heads from dominating the
    classify stage. Counts are exactly those of scikit-learn's ``CountVectorizer`` with the same settings.
    """

    def __init__(self, texts: Sequence[str]) -> None:
        self.texts = [str(t) for t in texts]
        self._analysed: dict[tuple[str, tuple[int, int]], tuple[np.ndarray, np.ndarray, list[str]]] = {}

    def __len__(self) -> int:
        return len(self.texts)

    def _analyse(self, analyzer: str, ngram_range: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Row of every n-gram occurrence, its id in this batch's own vocabulary, and that vocabulary."""
        key = (analyzer, ngram_range)
        if key not in self._analysed:
            from sklearn.feature_extraction.text import CountVectorizer

            vectoriser = CountVectorizer(ngram_range=ngram_range, analyzer=analyzer, strip_accents="unicode",
                                         lowercase=True)
            if analyzer == "word":
                rows, flat = _word_grams(vectoriser, self.texts)
            else:
                analyse = vectoriser.build_analyzer()
                grams = [analyse(doc) for doc in self.texts]
                lengths = np.fromiter(map(len, grams), dtype=np.int64, count=len(grams))
                rows = np.repeat(np.arange(len(self.texts), dtype=np.int32), lengths)
                flat = list(itertools.chain.from_iterable(grams))
            self._analysed[key] = (rows, *_factorize(flat))
        return self._analysed[key]

    def counts(self, analyzer: str, ngram_range: tuple[int, int], vocabulary: dict[str, int] | Any) -> Any:
        """Counts ``(n_texts, len(vocabulary))`` (scipy csr) of the terms in ``vocabulary``: a dict term → column,
        or a ``pandas.Index`` of the terms in column order (looked up in C)."""
        from scipy.sparse import csr_matrix

        rows, gids, terms = self._analyse(analyzer, ngram_range)
        if isinstance(vocabulary, dict):
            remap = np.fromiter((vocabulary.get(t, -1) for t in terms), dtype=np.int64, count=len(terms))
        else:
            import pandas as pd

            # an object Index of the terms: a plain list would first be inferred (as Arrow strings), which
            # costs more than the look-up itself for the few terms of one note
            looked_up = pd.Index(np.array(terms, dtype=object), dtype=object, copy=False)
            remap = vocabulary.get_indexer(looked_up).astype(np.int64, copy=False)
        cols = remap[gids] if len(gids) else np.zeros(0, dtype=np.int64)
        keep = cols >= 0
        at, cols = rows[keep], cols[keep]
        if len(at) > 1 and bool((at[1:] < at[:-1]).any()):  # grouped by n-gram order: put rows in order
            order = np.argsort(at, kind="stable")
            at, cols = at[order], cols[order]
        indptr = np.zeros(len(self.texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(at, minlength=len(self.texts)), out=indptr[1:])
        # straight to CSR (duplicates are summed where the counts are used, as a COO matrix would have them)
        return csr_matrix((np.ones(len(cols)), cols, indptr), shape=(len(self.texts), len(vocabulary)),
                          dtype=np.float64)


@dataclass
class TextHead:
    """TF-IDF (word 1–2-grams or character 2–5-grams within words; sublinear tf, accents stripped,
    l2-normalised) + linear SVM.

    Probabilities are a softmax of the decision values over a temperature fitted on out-of-fold
    decision values (kept as ``oof_logits_``, not saved). Everything is kept as arrays — the
    vocabulary (``n_terms``,), ``idf_`` (``n_terms``,), ``coef_`` (``n_classes, n_terms``),
    ``intercept_`` — so it saves without pickle.
    """

    C: float = 0.5
    random_state: int = 0
    analyzer: str = "word"
    min_df: int = 1
    classes_: list[str] = field(default_factory=list)
    vocabulary_: np.ndarray | None = None
    idf_: np.ndarray | None = None
    coef_: np.ndarray | None = None
    intercept_: np.ndarray | None = None
    temperature_: float = 1.0
    oof_logits_: np.ndarray | None = field(default=None, repr=False)
    _counter: Any = field(default=None, repr=False, compare=False)
    _vocab: Any = field(default=None, repr=False, compare=False)  # pandas.Index of the vocabulary
    _weights: Any = field(default=None, repr=False, compare=False)  # coef_.T as float64, C order

    @property
    def ngram_range(self) -> tuple[int, int]:
        """(1, 2) for words, (2, 5) for characters."""
        return (1, 2) if self.analyzer == "word" else (2, 5)

    def _count(self, texts: Sequence[str] | SharedCounts) -> Any:  # scipy.sparse matrix (n_texts, n_terms)
        from sklearn.feature_extraction.text import CountVectorizer

        if isinstance(texts, SharedCounts):
            if self._vocab is None:
                import pandas as pd

                assert self.vocabulary_ is not None
                self._vocab = pd.Index([str(t) for t in self.vocabulary_], dtype=object)
            return texts.counts(self.analyzer, self.ngram_range, self._vocab)
        if self._counter is None:
            assert self.vocabulary_ is not None
            vocab = {str(t): i for i, t in enumerate(self.vocabulary_)}
            self._counter = CountVectorizer(vocabulary=vocab, ngram_range=self.ngram_range, analyzer=self.analyzer,
                                            strip_accents="unicode", lowercase=True, dtype=np.float64)
        return self._counter.transform(list(texts))

    def transform(self, texts: Sequence[str] | SharedCounts) -> Any:  # scipy.sparse csr (n_texts, n_terms)
        """The TF-IDF matrix of ``texts`` exactly as sklearn's TfidfVectorizer(sublinear_tf=True) gives it."""
        from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

        assert self.idf_ is not None
        X = self._count(texts).tocsr()
        X.sum_duplicates()  # canonical: sorted column indices, no duplicates (as a product with diag(idf) leaves it)
        X.data = (1.0 + np.log(X.data)) * self.idf_[X.indices]
        inplace_csr_row_normalize_l2(X)  # what sklearn's normalize(norm="l2") runs, without its input checks
        return X

    def _svc(self) -> Any:
        from sklearn.svm import LinearSVC

        return LinearSVC(C=self.C, class_weight="balanced", random_state=self.random_state)

    @staticmethod
    def _decision(model: Any, X: Any) -> np.ndarray:
        d = model.decision_function(X)
        return np.stack([-d, d], axis=1) / 2 if d.ndim == 1 else d

    def fit(self, texts: Sequence[str], y: Sequence[str], calibration_mask: np.ndarray | None = None,
            sample_weight: np.ndarray | None = None) -> TextHead:
        """Fit on ``texts`` and string labels ``y``; temperature from 3-fold OOF decisions of masked rows."""
        from sklearn.feature_extraction.text import TfidfVectorizer

        labels = np.asarray(y, dtype=object)
        if len(set(labels)) < 2:
            raise ValueError("need at least two classes to fit a head")
        vec = TfidfVectorizer(ngram_range=self.ngram_range, analyzer=self.analyzer, sublinear_tf=True,
                              strip_accents="unicode", lowercase=True, min_df=self.min_df)
        vec.fit(list(texts))
        terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
        self.vocabulary_ = np.array(terms, dtype=str)
        self.idf_ = vec.idf_.astype(np.float64)
        self._counter = None
        self._vocab = None
        self._weights = None
        X = self.transform(texts)
        model = self._svc().fit(X, labels, sample_weight=sample_weight)
        self.classes_ = [str(c) for c in model.classes_]
        if len(self.classes_) == 2 and model.coef_.shape[0] == 1:
            self.coef_ = (np.vstack([-model.coef_, model.coef_]) / 2).astype(np.float32)
            self.intercept_ = (np.array([-model.intercept_[0], model.intercept_[0]]) / 2).astype(np.float32)
        else:
            self.coef_, self.intercept_ = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
        self.temperature_ = self._fit_temperature(X, labels, calibration_mask, sample_weight)
        return self

    def _fit_temperature(self, X: Any, y: np.ndarray, mask: np.ndarray | None,
                         sample_weight: np.ndarray | None = None) -> float:
        folds = int(min(3, np.unique(y, return_counts=True)[1].min()))
        if folds < 2:
            return 1.0
        logits = np.full((len(y), len(self.classes_)), -1e4)
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(np.zeros(len(y)), y):
            w = None if sample_weight is None else sample_weight[tr]
            m = self._svc().fit(X[tr], y[tr], sample_weight=w)
            cols = [self.classes_.index(str(c)) for c in m.classes_]
            logits[np.ix_(te, cols)] = self._decision(m, X[te])
        self.oof_logits_ = logits
        rows = np.ones(len(y), dtype=bool) if mask is None or mask.sum() < 50 else np.asarray(mask, dtype=bool)
        index = {c: i for i, c in enumerate(self.classes_)}
        return fit_temperature(logits[rows], np.array([index[str(v)] for v in y[rows]]))

    def decision_function(self, texts: Sequence[str] | SharedCounts) -> np.ndarray:
        """Uncalibrated decision values ``(n_texts, n_classes)``."""
        if self.coef_ is None:
            raise ValueError("this head is not fitted yet")
        X = self.transform(texts)
        if self._weights is None or self._weights.shape[0] != self.coef_.shape[1]:
            # what scipy makes of coef_.T at every product (float64, C order), made once: the same sums, and
            # no copy of the whole matrix per call (most of the cost of one note)
            self._weights = np.ascontiguousarray(self.coef_.T, dtype=np.float64)
        return np.asarray(X @ self._weights + self.intercept_)

    def predict_proba(self, texts: Sequence[str] | SharedCounts) -> np.ndarray:
        """Calibrated probabilities ``(n_texts, n_classes)`` in ``classes_`` order (texts, or shared counts)."""
        return _softmax(self.decision_function(texts) / self.temperature_)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """The fitted parameters (vocabulary included) as named arrays."""
        assert self.vocabulary_ is not None and self.idf_ is not None
        assert self.coef_ is not None and self.intercept_ is not None
        return {f"{prefix}.vocabulary": self.vocabulary_, f"{prefix}.idf": self.idf_,
                f"{prefix}.coef": self.coef_, f"{prefix}.intercept": self.intercept_}

    def meta(self) -> dict[str, object]:
        """JSON-serialisable description."""
        n_terms = 0 if self.vocabulary_ is None else len(self.vocabulary_)
        return {"type": "tfidf-linear-svm", "classes": self.classes_, "temperature": self.temperature_,
                "C": self.C, "analyzer": self.analyzer, "ngram_range": list(self.ngram_range), "min_df": self.min_df,
                "sublinear_tf": True, "n_terms": int(n_terms)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], prefix: str, meta: dict[str, Any]) -> TextHead:
        """Rebuild from :meth:`to_arrays` and :meth:`meta`."""
        head = cls(C=float(meta.get("C", 0.5)), analyzer=str(meta.get("analyzer", "word")),
                   min_df=int(meta.get("min_df", 1)))
        head.classes_ = [str(c) for c in meta["classes"]]
        head.temperature_ = float(meta["temperature"])
        head.vocabulary_ = arrays[f"{prefix}.vocabulary"]
        head.idf_ = arrays[f"{prefix}.idf"]
        head.coef_ = arrays[f"{prefix}.coef"]
        head.intercept_ = arrays[f"{prefix}.intercept"]
        if head.coef_.shape != (len(head.classes_), len(head.vocabulary_)):
            raise ValueError(f"head {prefix}: weights {head.coef_.shape} do not fit {len(head.classes_)} classes "
                             f"and {len(head.vocabulary_)} terms")
        return head
