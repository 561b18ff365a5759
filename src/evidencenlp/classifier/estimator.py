"""The classify stage: :class:`EvidenceClassifier`, a plain scikit-learn estimator that owns every head.

It maps notes (texts, with their encoder embeddings) to calibrated probabilities for each task:
key question, quality statement, evidence category, band, and the King's Fund principles. Inside:

- per task a :class:`~evidencenlp.heads.LinearHead` (calibrated multinomial logistic regression) on
  ``[embedding | similarity to the framework sentences | wording cues]``;
- for the tasks in ``text_tasks`` a TF-IDF :class:`~evidencenlp.heads.TextHead`, averaged with the
  embedding head;
- one joint key question × statement distribution, ``P(s) ∝ (p_st(s) · p_kq(kq(s)))^(1/T)`` with the
  key question as its marginal; the suggestion is its most probable statement and that statement's key
  question (:func:`~evidencenlp.classifier.joint.decide`), so every display ranks from one distribution;
- a :class:`~evidencenlp.heads.MultiLabelHead` for the principles.

It does no I/O of its own: the embeddings and the framework index (which holds the embedder) are
passed in; the joint maths live in :mod:`~evidencenlp.classifier.joint`, the review thresholds in
:mod:`~evidencenlp.classifier.thresholds`, saving and loading in :mod:`~evidencenlp.classifier.persistence`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import Interval, StrOptions

from evidencenlp.classifier.joint import (
    agree_with_direction,
    align,
    decide,
    direction_confidence,
    fit_joint_temperature,
    joint,
    softmax,
    statement_ranking,
)
from evidencenlp.classifier.names import DIRECTION_TASK, PRINCIPLES_TASK, REVIEW_KEY
from evidencenlp.classifier.risk import RiskModel, risk_features
from evidencenlp.classifier.thresholds import DEFAULT_THRESHOLDS
from evidencenlp.cues import cue_features, negated_adverse_counts, with_markers
from evidencenlp.defaults import BACKENDS
from evidencenlp.encoder.base import EMBEDDING_DIM, SPACES
from evidencenlp.errors import DataError, ModelError
from evidencenlp.frameworks.index import FrameworkIndex
from evidencenlp.frameworks.taxonomy import TASKS, Taxonomy
from evidencenlp.heads import DEFAULT_C, LinearHead, MultiLabelHead, SharedCounts, TextHead
from evidencenlp.sources.corpus import data_hash

#: rows whose ``origin`` starts with this are public feedback (the router's positive class)
FEEDBACK_ORIGIN = "phase1"
FEEDBACK, INSPECTION = "feedback", "inspection"
#: tasks that get a second, inspection-only expert mixed in by the router
ROUTED_TASKS: tuple[str, ...] = ("key_question", "statement", DIRECTION_TASK)


def _base(name: str) -> str:
    """The task of an expert's name: ``key_question@inspection`` -> ``key_question``."""
    return name.split("@")[0]


def _text_key(task: str, analyzer: str) -> str:
    """Name of a TF-IDF head: ``band`` (word, the historical name) or ``band@char_wb``."""
    return task if analyzer == "word" else f"{task}@{analyzer}"


#: rows whose ``origin`` starts with this are framework sentences (training-only; never used to calibrate)
FRAMEWORK_ORIGIN = "framework"
#: the tasks a ``text_tasks`` / ``char_tasks`` parameter may name
TEXT_HEAD_TASKS: tuple[str, ...] = (*TASKS, DIRECTION_TASK)


def source_sample_weights(origin: Sequence[str], source_weights: Sequence[tuple[str, float]]) -> np.ndarray:
    """Sample weight ``(n,)`` of each row from its ``origin``: the weight of the first ``(prefix, weight)`` of
    ``source_weights`` whose prefix starts the origin, else 1."""
    out = np.ones(len(origin), dtype=np.float64)
    for i, o in enumerate(origin):
        for prefix, weight in source_weights:
            if str(o).startswith(prefix):
                out[i] = float(weight)
                break
    return out


def with_source_weight(source_weights: Sequence[tuple[str, float]], prefix: str,
                       weight: float) -> tuple[tuple[str, float], ...]:
    """``source_weights`` with the weight of rows whose origin starts ``prefix`` set to ``weight``: any earlier
    entry for that prefix is dropped (the first match wins in :func:`source_sample_weights`), the new one goes last."""
    return (*[(p, w) for p, w in source_weights if p != prefix], (prefix, float(weight)))


def _check_tasks(name: str, value: Sequence[str]) -> None:
    unknown = [t for t in value if t not in TEXT_HEAD_TASKS]
    if unknown:
        raise ValueError(f"The {name!r} parameter of EvidenceClassifier names unknown task(s) "
                         f"{', '.join(map(repr, unknown))}; expected some of {', '.join(TEXT_HEAD_TASKS)}.")


def _check_prefixes(name: str, value: Sequence[Any]) -> None:
    bad = [p for p in value if not isinstance(p, str) or not p]
    if bad:
        raise ValueError(f"The {name!r} parameter of EvidenceClassifier must be non-empty origin prefixes (strings); "
                         f"got {', '.join(map(repr, bad))}.")
    feedback = [p for p in value if p.startswith(FEEDBACK_ORIGIN) or FEEDBACK_ORIGIN.startswith(p)]
    if feedback:  # public feedback would be taken out of the expert it is routed to
        raise ValueError(f"The {name!r} parameter of EvidenceClassifier cannot name public feedback (origins "
                         f"starting {FEEDBACK_ORIGIN!r}): got {', '.join(map(repr, feedback))}.")


def _check_source_weights(value: Sequence[Any]) -> None:
    for item in value:
        if (not isinstance(item, (tuple, list)) or len(item) != 2 or not isinstance(item[0], str)
                or not isinstance(item[1], Real) or not 0 <= float(item[1])):
            raise ValueError("The 'source_weights' parameter of EvidenceClassifier must be pairs (origin prefix, "
                             f"weight >= 0); got {item!r}.")


@dataclass(frozen=True)
class ClassifierOutput:
    """Per-note probability arrays from one batch (rows are notes; columns follow ``classes``)."""

    proba: dict[str, np.ndarray]
    classes: dict[str, tuple[str, ...]]
    sims: np.ndarray  # (n, n_framework_sentences): cosine to each framework sentence

    def top(self, task: str, row: int) -> tuple[str, float]:
        """The most probable label of ``task`` for one row and its probability."""
        p = self.proba[task][row]
        j = int(p.argmax())
        return self.classes[task][j], float(p[j])

    def statement_within(self, key_question: str, row: int, statement_kq: Sequence[str]) -> tuple[str, float]:
        """The most probable statement *of* ``key_question`` for one row and its (joint) probability."""
        p = self.proba["statement"][row]
        cols = np.flatnonzero(np.asarray(statement_kq) == key_question)
        j = int(cols[int(p[cols].argmax())])
        return self.classes["statement"][j], float(p[j])

    def suggestion(self, row: int, statement_kq: Sequence[str]) -> tuple[tuple[str, float], tuple[str, float]]:
        """``((key question, its marginal probability), (statement, its joint probability))`` of one row.

        The statement is the most probable of the joint distribution and the key question is its own
        (see :func:`~evidencenlp.classifier.joint.decide`): what every display and ``evaluate`` show.
        """
        st, kq = decide(self.proba["statement"][row:row + 1], statement_kq, self.classes["key_question"])
        s, k = int(st[0]), int(kq[0])
        return ((self.classes["key_question"][k], float(self.proba["key_question"][row, k])),
                (self.classes["statement"][s], float(self.proba["statement"][row, s])))

    def statement_top(self, row: int, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable statements of one row with their joint probabilities, the suggestion first."""
        cols = statement_ranking(self.proba["statement"][row:row + 1], k)[0]
        return [(self.classes["statement"][j], float(self.proba["statement"][row, j])) for j in cols]


class EvidenceClassifier(BaseEstimator):
    """Calibrated heads for key question, statement, evidence category, band and principles.

    Parameters (stored unchanged, as scikit-learn expects; see :meth:`get_params`):
        C: inverse L2 strength of the logistic-regression heads on the embedding features.
        statement_C: the same for the statement heads (``None``: ``C``); with about 40 notes per statement
            they are better served by a weaker penalty than the key-question heads.
        text_C: inverse strength of the TF-IDF linear-SVM heads.
        text_tasks: tasks whose embedding head is combined with a word TF-IDF head.
        char_tasks: tasks that also get a character 2-5-gram TF-IDF head (robust to typos).
        direction: also learn the band's direction (positive / negative) from every row that has one
            (real feedback's polarity as well as bands), and make the band distribution agree with it.
        ensemble: ``"mean"`` averages a task's components; ``"oof"`` learns their weights (a grid on
            the simplex, step 0.1) from out-of-fold probabilities of the non-framework rows, by macro-F1.
        router: when the training data mixes public feedback (``origin`` starting ``phase1``) with
            inspection notes, learn key question, statement and direction twice — on all rows and on the
            inspection rows only — and a router (logistic regression: is this note public feedback?)
            whose probability mixes the two experts. One model cannot serve both registers well:
            trained on everything, feedback drowns the inspection notes.
        source_weights: ``((origin prefix, weight), …)``: sample weight of rows whose ``origin`` starts
            with the prefix (first match wins; other rows weigh 1), e.g. ``(("framework", 0.1),)``.
        inspection_only: origin prefixes whose rows teach the routed tasks (key question, statement, direction) only
            through the inspection expert, never the all-rows expert that public feedback is routed to
            (default ``("bundle",)``: hand-rated assessment bundle notes are inspection-style text; in the
            all-rows expert they cost leave-one-trust-out key question and direction). Without a router
            they teach as every other row. Every other task learns from them as usual.
        similarity_features: add the cosine-to-framework features (per statement, key question,
            band and principle) to the embedding.
        cues: add the negated-adverse-event wording cue (:mod:`evidencenlp.cues`).
        calibrate: fit temperatures on out-of-fold logits (else T = 1).
        random_state: seed of the calibration folds.
        frameworks: folder of framework files whose label space and sentences the heads use
            (``None``: the packaged frameworks).

    Fitted attributes: ``taxonomy_`` (the label space), ``classes_`` (task → labels),
    ``heads_``, ``text_heads_``, ``principles_head_``, ``joint_temperature_``, ``thresholds_``,
    ``frameworks_version_``, ``training_data_``, ``metrics_``.

    >>> clf = EvidenceClassifier(C=0.01)                               # doctest: +SKIP
    >>> clf.fit(texts, labels).predict(["Call bell ignored 20 min"])   # doctest: +SKIP
    """

    taxonomy_: Taxonomy
    classes_: dict[str, tuple[str, ...]]
    heads_: dict[str, LinearHead]
    text_heads_: dict[str, TextHead]
    principles_head_: MultiLabelHead | None
    weights_: dict[str, list[float]]
    router_head_: LinearHead | None
    direction_mix_: float
    joint_temperature_: float
    thresholds_: dict[str, float]
    risk_: RiskModel | None
    frameworks_version_: dict[str, str]
    training_data_: dict[str, Any]
    metrics_: dict[str, Any]
    encoder_: str

    #: scikit-learn's declarative parameter validation (checked by :meth:`fit`, see ``BaseEstimator``)
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "C": [Interval(Real, 0, None, closed="neither")],
        "text_C": [Interval(Real, 0, None, closed="neither")],
        "text_tasks": [tuple, list],
        "char_tasks": [tuple, list],
        "direction": ["boolean"],
        "ensemble": [StrOptions({"oof", "mean"})],
        "source_weights": [tuple, list],
        "inspection_only": [tuple, list],
        "router": ["boolean"],
        "similarity_features": ["boolean"],
        "cues": ["boolean"],
        "calibrate": ["boolean"],
        "random_state": [Interval(Integral, 0, None, closed="left")],
        "statement_C": [Interval(Real, 0, None, closed="neither"), None],
        "frameworks": [str, Path, None],
        "backend": [StrOptions(set(BACKENDS))],
    }

    def __init__(self, C: float = DEFAULT_C, text_C: float = 0.5,
                 text_tasks: tuple[str, ...] = ("key_question", "statement", "evidence_category", "band", "direction"),
                 char_tasks: tuple[str, ...] = ("key_question", "direction"),
                 direction: bool = True,
                 ensemble: str = "oof",
                 source_weights: tuple[tuple[str, float], ...] = (("framework", 0.3),),
                 router: bool = True,
                 inspection_only: tuple[str, ...] = ("bundle",),
                 similarity_features: bool = True, cues: bool = True, calibrate: bool = True,
                 random_state: int = 0, frameworks: str | None = None, backend: str = "torch",
                 statement_C: float | None = None) -> None:
        self.C = C
        self.text_C = text_C
        self.text_tasks = text_tasks
        self.char_tasks = char_tasks
        self.direction = direction
        self.ensemble = ensemble
        self.source_weights = source_weights
        self.router = router
        self.inspection_only = inspection_only
        self.similarity_features = similarity_features
        self.cues = cues
        self.calibrate = calibrate
        self.random_state = random_state
        self.statement_C = statement_C
        self.frameworks = frameworks
        self.backend = backend

    # -- the framework index (not a parameter: built from ``frameworks`` or bound by the Suggester) --

    def validate_params(self) -> None:
        """Raise ``ValueError`` (scikit-learn's ``InvalidParameterError``) naming any invalid parameter."""
        self._validate_params()
        _check_tasks("text_tasks", self.text_tasks)
        _check_tasks("char_tasks", self.char_tasks)
        _check_source_weights(self.source_weights)
        _check_prefixes("inspection_only", self.inspection_only)

    def bind_index(self, index: FrameworkIndex) -> EvidenceClassifier:
        """Use this framework index (with its embedder) for features and explanations. Returns self."""
        self._index = index
        return self

    @property
    def index(self) -> FrameworkIndex:
        """The framework index passed to :meth:`fit` or :meth:`bind_index` (the estimator never loads one)."""
        index = getattr(self, "_index", None)
        if index is None:
            raise ModelError("this EvidenceClassifier has no framework index: pass fit(..., index=…) or call "
                             "bind_index(load_framework_set(folder).index(embedder))")
        return index

    def check_fitted(self) -> None:
        """Raise ``NotFittedError`` unless the heads were fitted or loaded."""
        if not hasattr(self, "heads_"):
            raise NotFittedError("this EvidenceClassifier is not fitted yet: call fit() or EvidenceClassifier.load()")

    # -- features ------------------------------------------------------------------------------

    def _embed(self, texts: Sequence[str], embeddings: np.ndarray | None) -> np.ndarray:
        if embeddings is None:  # the embedder the bound framework index was embedded with
            return self.index.embedder.encode(list(texts))
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.shape != (len(texts), EMBEDDING_DIM):
            raise ValueError(f"embeddings must be ({len(texts)}, {EMBEDDING_DIM}); got {embeddings.shape}")
        return embeddings

    def features(self, texts: Sequence[str], embeddings: np.ndarray, sims: np.ndarray | None = None,
                 cue_counts: Sequence[int] | None = None) -> np.ndarray:
        """Head input ``[embedding | similarity features | wording cues]``: float32 ``(n, 384 + …)``.

        ``embeddings`` are the L2-normalised encoder vectors ``(n, 384)`` of ``texts``; ``sims`` their
        cosines to the framework sentences (from :meth:`FrameworkIndex.similarities`), if computed;
        ``cue_counts`` their :func:`~evidencenlp.cues.negated_adverse_counts`, if counted.
        """
        parts = [embeddings]
        if self.similarity_features:
            parts.append(self.index.features(embeddings, sims))
        if self.cues:
            parts.append(cue_features(texts, cue_counts))
        return np.hstack(parts).astype(np.float32)

    def _text_inputs(self, texts: Sequence[str], cue_counts: Sequence[int] | None = None) -> list[str]:
        return with_markers(texts, cue_counts) if self.cues else list(texts)

    # -- fit -----------------------------------------------------------------------------------

    def fit(self, X: Sequence[str], y: pd.DataFrame, *, embeddings: np.ndarray | None = None,
            index: FrameworkIndex | None = None, origin: Sequence[str] | None = None,
            sample_weight: Sequence[float] | np.ndarray | None = None) -> EvidenceClassifier:
        """Fit every head on the rows that carry its label.

        ``X``: ``n`` note texts (redacted). ``y``: a frame of ``n`` rows with the task columns
        (``key_question``, ``statement``, ``evidence_category``, ``band``; ``""`` = unknown), and
        optionally ``principles`` (``;``-separated) and ``direction``.
        ``embeddings``: their encoder vectors ``(n, 384)`` (default: embedded by the index's embedder).
        ``index``: the framework index (default: the one bound by :meth:`bind_index`).
        ``origin``: ``n`` source names (e.g. ``corpus:file.csv``, ``framework:…``, ``phase1:…``): rows from
        ``framework`` sources are training-only sentences (temperatures are fitted on the other rows),
        ``phase1`` rows are public feedback (the router's positive class), rows of the ``inspection_only``
        prefixes stay out of the routed tasks' all-rows expert, and the part before ``:`` groups rows for
        the direction mix. ``sample_weight``: ``n`` weights (default: from ``origin`` by
        the ``source_weights`` parameter). Raises ``ValueError`` for an invalid parameter and
        :class:`DataError` for inconsistent inputs.
        """
        self.validate_params()
        texts = [str(t) for t in X]
        if len(y) != len(texts):
            raise DataError(f"X has {len(texts)} texts but y has {len(y)} rows")
        if origin is None and "origin" in y:
            raise DataError("y has an 'origin' column: pass the origins as fit(..., origin=...) (they are no "
                            "longer read from y)")
        if index is not None:
            self.bind_index(index)
        labels = y.reset_index(drop=True)
        for task in TASKS:
            labels[task] = labels[task].fillna("").astype(str) if task in labels else ""
        vectors = self._embed(texts, embeddings)
        index = self.index
        taxonomy = index.taxonomy
        features = self.features(texts, vectors)
        sources = pd.Series([""] * len(texts) if origin is None else [str(o) for o in origin], dtype=object)
        if len(sources) != len(texts):
            raise DataError(f"X has {len(texts)} texts but origin has {len(sources)} values")
        notes = ~sources.str.startswith(FRAMEWORK_ORIGIN).to_numpy()
        if sample_weight is None:
            weights = source_sample_weights(sources.tolist(), self.source_weights)
        else:
            weights = np.asarray(sample_weight, dtype=np.float64)
            if weights.shape != (len(texts),) or not np.isfinite(weights).all() or (weights < 0).any():
                raise DataError(f"sample_weight must be {len(texts)} finite weights >= 0; got shape {weights.shape}")
        tasks = list(TASKS)
        if self.direction:
            labels["direction"] = self._direction_labels(labels, taxonomy)
            tasks.append(DIRECTION_TASK)
        feedback = sources.str.startswith(FEEDBACK_ORIGIN).to_numpy()
        # every task is learned on all rows; with the router, the routed tasks (key question, statement, direction)
        # also get an "inspection" expert learned without the real-feedback rows, and their all-rows expert leaves
        # out the rows of the ``inspection_only`` origins (see the class docstring)
        experts = [(task, np.ones(len(texts), dtype=bool)) for task in tasks]
        if self.router and feedback.any() and (~feedback).any():
            only = sources.str.startswith(tuple(self.inspection_only)).to_numpy() if self.inspection_only else \
                np.zeros(len(texts), dtype=bool)
            experts = [(task, ~only if task in ROUTED_TASKS else rows) for task, rows in experts]
            experts += [(f"{task}@{INSPECTION}", ~feedback) for task in ROUTED_TASKS if task in tasks]
        heads: dict[str, LinearHead] = {}
        masks: dict[str, np.ndarray] = {}
        for name, rows in experts:
            task = _base(name)
            mask = (labels[task] != "").to_numpy() & rows
            unknown = set(labels.loc[mask, task]) - set(taxonomy.labels(task))
            if unknown:
                raise DataError(f"{task}: labels not in the framework's label space: {', '.join(sorted(unknown)[:5])}")
            if (name in ROUTED_TASKS and self.inspection_only and labels.loc[mask, task].nunique() < 2
                    and labels.loc[(labels[task] != "").to_numpy(), task].nunique() >= 2):
                raise DataError(f"{task}: fewer than two labels are left for the all-rows expert once the rows of "
                                f"the inspection_only origins {tuple(self.inspection_only)!r} are left out; "
                                "add labelled rows of other origins or pass inspection_only=()")
            if mask.sum() == 0 or labels.loc[mask, task].nunique() < 2:
                raise DataError(f"the training data has fewer than two {task} labels; cannot train that head")
            C = self.statement_C if task == "statement" and self.statement_C is not None else self.C
            heads[name] = LinearHead(C=C, calibrate=self.calibrate, random_state=self.random_state).fit(
                features[mask], labels.loc[mask, task].tolist(), calibration_mask=notes[mask],
                sample_weight=weights[mask])
            masks[name] = mask
        head_texts = np.array(self._text_inputs(texts), dtype=object)
        text_heads: dict[str, TextHead] = {}
        for name, _rows in experts:
            task = _base(name)
            for analyzer, wanted in (("word", self.text_tasks), ("char_wb", self.char_tasks)):
                if task in wanted:
                    m = masks[name]
                    text_heads[_text_key(name, analyzer)] = TextHead(
                        C=self.text_C, random_state=self.random_state, analyzer=analyzer,
                        min_df=1 if analyzer == "word" else 2).fit(
                        head_texts[m], labels.loc[m, task].tolist(), calibration_mask=notes[m],
                        sample_weight=weights[m])
        self.router_head_ = None
        if any(name.endswith(f"@{INSPECTION}") for name in heads):
            kind = np.where(feedback, FEEDBACK, INSPECTION)
            self.router_head_ = LinearHead(C=self.C, calibrate=self.calibrate, random_state=self.random_state).fit(
                features, kind.tolist())
        self.text_heads_ = text_heads
        principles = [[p for p in str(v).split(";") if p] for v in labels.get("principles", [""] * len(texts))]
        self.principles_head_ = (MultiLabelHead(C=self.C).fit(features, principles, list(taxonomy.principles))
                                 if taxonomy.principles else None)
        self.heads_ = heads
        self.taxonomy_ = taxonomy
        self.classes_ = {task: taxonomy.labels(task) for task in (*tasks, PRINCIPLES_TASK)}
        self.weights_ = {name: self._ensemble_weights(name, labels, masks[name], notes) for name, _ in experts}
        self.joint_temperature_ = self._fit_joint_temperature(labels, masks, notes)
        self.direction_mix_ = (self._fit_direction_mix(labels, masks, sources, features, list(head_texts))
                               if DIRECTION_TASK in heads else 1.0)
        self.thresholds_ = dict(DEFAULT_THRESHOLDS)
        self.risk_ = None  # fitted on held-out predictions by evidencenlp.training (see classifier.risk)
        self.frameworks_version_ = index.version
        self.encoder_ = SPACES[self.backend]
        self.training_data_ = {"sha256": data_hash(labels.assign(text=texts)), "rows": len(texts),
                               "origins": {str(k): int(v) for k, v in sources.value_counts().items()}}
        self.metrics_ = {}
        fitted: list[LinearHead | TextHead] = [*heads.values(), *text_heads.values()]
        for head in fitted:
            head.oof_logits_ = None  # large and only needed while fitting
        return self

    @staticmethod
    def _direction_labels(labels: pd.DataFrame, taxonomy: Taxonomy) -> pd.Series:
        """``direction`` where given (e.g. real feedback's polarity), else derived from the band."""
        given = labels["direction"].fillna("").astype(str) if "direction" in labels else pd.Series([""] * len(labels))
        derived = labels["band"].map(lambda b: taxonomy.direction_of(b) if b in taxonomy.bands else "")
        return given.where(given != "", derived)

    def components(self, task: str) -> list[str]:
        """The components of a task's ensemble, in a fixed order: embedding, then word, then char."""
        return ["embedding"] + [a for a in ("word", "char_wb") if _text_key(task, a) in self.text_heads_]

    def _component_oof(self, task: str, component: str) -> np.ndarray:
        order = self.taxonomy_.labels(_base(task))
        head: LinearHead | TextHead = (self.heads_[task] if component == "embedding"
                                       else self.text_heads_[_text_key(task, component)])
        assert head.oof_logits_ is not None
        return align(softmax(head.oof_logits_ / head.temperature_), head.classes_, order)

    def _ensemble_weights(self, task: str, labels: pd.DataFrame, mask: np.ndarray, notes: np.ndarray) -> list[float]:
        """Weights of the task's components (sum 1): equal, or learned out of fold (``ensemble="oof"``)."""
        names = self.components(task)
        if len(names) == 1:
            return [1.0]
        if self.ensemble != "oof" or any((self.heads_[task] if n == "embedding" else
                                          self.text_heads_[_text_key(task, n)]).oof_logits_ is None for n in names):
            return [1.0 / len(names)] * len(names)
        from sklearn.metrics import f1_score

        rows = notes[mask]
        if rows.sum() < 50:
            rows = np.ones(int(mask.sum()), dtype=bool)
        oof = [self._component_oof(task, n)[rows] for n in names]
        order = self.taxonomy_.labels(_base(task))
        y = labels.loc[mask, _base(task)].to_numpy()[rows]
        best, best_score = [1.0 / len(names)] * len(names), -1.0
        steps = np.round(np.arange(0, 1.0001, 0.1), 1)
        for w in itertools.product(steps, repeat=len(names)):
            if abs(sum(w) - 1.0) > 1e-6:
                continue
            p = sum(wi * pi for wi, pi in zip(w, oof))
            score = f1_score(y, np.asarray(order, dtype=object)[p.argmax(axis=1)], average="macro")
            if score > best_score + 1e-9:
                best, best_score = [float(x) for x in w], float(score)
        return best

    def _task_proba(self, task: str, features: np.ndarray, text_inputs: Sequence[str] | SharedCounts,
                    feedback: np.ndarray | None = None) -> np.ndarray:
        """The task's ensemble of calibrated probabilities ``(n, n_labels)`` in taxonomy order.

        With a router, a routed task mixes its two experts: ``r · all-rows expert + (1 − r) · inspection
        expert``, where ``r`` is the router's probability that the note is public feedback
        (:meth:`feedback_share`; ``feedback`` when it is already computed for these ``features``).
        """
        expert = f"{task}@{INSPECTION}"
        router = getattr(self, "router_head_", None)
        if router is not None and expert in self.heads_:
            share = self.feedback_share(features) if feedback is None else feedback
            assert share is not None  # there is a router
            r = share[:, None]
            return r * self._expert_proba(task, features, text_inputs) + (1 - r) * self._expert_proba(
                expert, features, text_inputs)
        return self._expert_proba(task, features, text_inputs)

    def _expert_proba(self, task: str, features: np.ndarray, text_inputs: Sequence[str] | SharedCounts) -> np.ndarray:
        order = self.taxonomy_.labels(_base(task))
        weights = self.weights_.get(task) or [1.0]
        total = np.zeros((features.shape[0], len(order)))
        for name, w in zip(self.components(task), weights):
            if w == 0:
                continue
            if name == "embedding":
                head = self.heads_[task]
                total += w * align(head.predict_proba(features), head.classes_, order)
            else:
                text_head = self.text_heads_[_text_key(task, name)]
                total += w * align(text_head.predict_proba(text_inputs), text_head.classes_, order)
        return total

    def _fit_direction_mix(self, labels: pd.DataFrame, masks: dict[str, np.ndarray], origin: pd.Series,
                           features: np.ndarray, text_inputs: list[str]) -> float:
        """Weight ``w`` of the direction head against the band head's own direction: the band is made to
        agree with ``w · P_direction(positive) + (1 − w) · P_band(better half)``.

        Chosen on rows with a known direction that are not framework sentences, by the mean over
        sources (the part of ``origin`` before ``:``, e.g. ``corpus``, ``phase1``) of direction
        accuracy, so that the large feedback source does not drown the inspection-note register.
        Both inputs are out of sample: out-of-fold for rows a head was trained on, plain predictions
        for rows it never saw (e.g. feedback rows for the band head). The rows are those the all-rows direction
        expert learned from, so with a router the ``inspection_only`` rows do not vote.
        """
        rows = np.flatnonzero(masks[DIRECTION_TASK] & ~origin.str.startswith(FRAMEWORK_ORIGIN).to_numpy())
        if len(rows) < 50 or any(self.heads_[t].oof_logits_ is None for t in (DIRECTION_TASK, "band")):
            # too few rows, or no out-of-fold predictions (calibrate=False, or a label with a single row): the
            # direction head decides
            return 1.0
        dir_mask = np.flatnonzero(masks[DIRECTION_TASK])
        dir_oof = sum(w * self._component_oof(DIRECTION_TASK, n) for n, w in
                      zip(self.components(DIRECTION_TASK), self.weights_[DIRECTION_TASK]))
        position = {r: i for i, r in enumerate(dir_mask)}
        p_dir = np.array([np.asarray(dir_oof)[position[r], 0] for r in rows])
        half = len(self.taxonomy_.bands) // 2
        band_rows = np.flatnonzero(masks["band"])
        band_pos_of = {r: i for i, r in enumerate(band_rows)}
        band_oof = sum(w * self._component_oof("band", n) for n, w in
                       zip(self.components("band"), self.weights_["band"]))
        unseen = [r for r in rows if r not in band_pos_of]
        band_unseen = (self._task_proba("band", features[unseen], [text_inputs[r] for r in unseen])
                       if unseen else np.zeros((0, len(self.taxonomy_.bands))))
        unseen_at = {r: i for i, r in enumerate(unseen)}
        p_band = np.array([np.asarray(band_oof)[band_pos_of[r], :half].sum() if r in band_pos_of
                           else band_unseen[unseen_at[r], :half].sum() for r in rows])
        truth = labels["direction"].to_numpy()[rows] == "positive"
        source = origin.to_numpy()[rows].astype(str)
        source = np.array([s.split(":")[0] for s in source])
        best, best_score = 1.0, -1.0
        for w in np.round(np.arange(0, 1.0001, 0.1), 1):
            correct = ((w * p_dir + (1 - w) * p_band) > 0.5) == truth
            score = float(np.mean([correct[source == s].mean() for s in np.unique(source)]))
            if score > best_score + 1e-9:
                best, best_score = float(w), score
        return best

    def _fit_joint_temperature(self, labels: pd.DataFrame, masks: dict[str, np.ndarray], notes: np.ndarray) -> float:
        """The joint temperature, fitted on out-of-fold predictions of notes (not framework sentences)."""
        kq_head, st_head = self.heads_["key_question"], self.heads_["statement"]
        if kq_head.oof_logits_ is None or st_head.oof_logits_ is None:
            return 1.0
        kq_rows, st_rows = np.flatnonzero(masks["key_question"]), np.flatnonzero(masks["statement"])
        position = {row: i for i, row in enumerate(kq_rows)}
        use = np.array([row in position and notes[row] for row in st_rows])
        if use.sum() < 50:
            use = np.array([row in position for row in st_rows])
        if use.sum() < 10:
            return 1.0
        t = self.taxonomy_
        st_oof = sum(w * self._component_oof("statement", n) for n, w in
                     zip(self.components("statement"), self.weights_["statement"]))
        st = np.asarray(st_oof)[use]
        kq_oof = sum(w * self._component_oof("key_question", n) for n, w in
                     zip(self.components("key_question"), self.weights_["key_question"]))
        kq = np.asarray(kq_oof)[[position[r] for r in st_rows[use]]]
        y = np.array([t.statements.index(s) for s in labels["statement"].to_numpy()[st_rows[use]]])
        return fit_joint_temperature(st, kq, t.statement_kq, t.key_questions, y)

    # -- predict -------------------------------------------------------------------------------

    def predict_all(self, X: Sequence[str], embeddings: np.ndarray | None = None,
                    sims: np.ndarray | None = None) -> ClassifierOutput:
        """Probabilities of every task for ``n`` notes, plus their framework similarities.

        ``proba[task]`` is ``(n, len(classes_[task]))`` in ``classes_`` (framework) order; key question
        and statement come from the joint distribution; ``principles`` are independent probabilities.
        """
        self.check_fitted()
        texts = [str(t) for t in X]
        vectors = self._embed(texts, embeddings)
        t = self.taxonomy_
        sims = self.index.similarities(vectors) if sims is None else sims
        cue_counts = negated_adverse_counts(texts) if self.cues else None  # for the features and the text inputs
        features = self.features(texts, vectors, sims, cue_counts)
        heads = self.heads_
        text_inputs = SharedCounts(self._text_inputs(texts, cue_counts) if self.text_heads_ else texts)
        feedback = self.feedback_share(features)  # once: every routed task and the risk inputs use it
        kq = self._task_proba("key_question", features, text_inputs, feedback)
        st = self._task_proba("statement", features, text_inputs, feedback)
        statement, kq_marginal = joint(st, kq, t.statement_kq, t.key_questions, self.joint_temperature_)
        proba = {"key_question": kq_marginal, "statement": statement,
                 "evidence_category": self._task_proba("evidence_category", features, text_inputs, feedback)}
        band = self._task_proba("band", features, text_inputs, feedback)
        if DIRECTION_TASK in heads:
            direction = self._task_proba(DIRECTION_TASK, features, text_inputs, feedback)
            proba[DIRECTION_TASK] = direction
            half = band.shape[1] // 2
            mix = getattr(self, "direction_mix_", 1.0)
            band = agree_with_direction(band, mix * direction[:, 0] + (1 - mix) * band[:, :half].sum(axis=1))
        proba["band"] = band
        proba[PRINCIPLES_TASK] = (
            align(self.principles_head_.predict_proba(features), self.principles_head_.classes_, t.principles)
            if self.principles_head_ is not None else np.zeros((len(texts), len(t.principles))))
        proba[REVIEW_KEY] = self.review_confidence(proba, self.risk_inputs(texts, features, sims, proba, feedback))
        return ClassifierOutput(proba=proba, classes=dict(self.classes_), sims=sims)

    def feedback_share(self, features: np.ndarray) -> np.ndarray | None:
        """The router's probability ``(n,)`` that each of the notes with these head ``features`` is public
        feedback (``None`` without a router)."""
        router = getattr(self, "router_head_", None)
        if router is None:
            return None
        return router.predict_proba(features)[:, router.classes_.index(FEEDBACK)]

    def risk_inputs(self, texts: Sequence[str], features: np.ndarray, sims: np.ndarray,
                    proba: Mapping[str, np.ndarray], feedback: np.ndarray | None = None) -> np.ndarray:
        """The review risk model's features ``(n, d)`` of ``n`` notes (see :func:`~evidencenlp.classifier.risk.risk_features`);
        ``feedback``: :meth:`feedback_share` of ``features`` when it is already computed."""
        if feedback is None:
            feedback = self.feedback_share(features)
        if feedback is None:
            feedback = np.zeros(len(texts))
        sims_max = sims.max(axis=1) if sims.size else np.zeros(len(texts))
        _, kq_index = decide(proba["statement"], self.taxonomy_.statement_kq, self.classes_["key_question"])
        return risk_features(proba, np.array([len(x) for x in texts]), feedback, sims_max, kq_index)

    def review_confidence(self, proba: Mapping[str, np.ndarray], risk_inputs: np.ndarray) -> np.ndarray:
        """``(n, 2)``: the confidence that the key question and that the band direction are right — from the
        risk model when one was fitted, else the key question's probability and the direction's."""
        risk = getattr(self, "risk_", None)
        if risk is not None:
            kq_ok, dir_ok = risk.confidence(risk_inputs)
            return np.column_stack([kq_ok, dir_ok])
        return np.column_stack([risk_inputs[:, 0], direction_confidence(proba["band"])])  # the suggested kq's probability

    def predict_proba(self, X: Sequence[str], *, embeddings: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Task → calibrated probabilities ``(n, n_classes)`` in ``classes_[task]`` order."""
        return self.predict_all(X, embeddings).proba

    def predict(self, X: Sequence[str], *, embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """The most probable label per task: a frame of ``n`` rows with one column per task."""
        out = self.predict_all(X, embeddings)
        frame = pd.DataFrame({task: np.asarray(out.classes[task], dtype=object)[out.proba[task].argmax(axis=1)]
                              for task in TASKS})
        st, kq = decide(out.proba["statement"], self.taxonomy_.statement_kq, out.classes["key_question"])
        frame["statement"] = np.asarray(out.classes["statement"], dtype=object)[st]
        frame["key_question"] = np.asarray(out.classes["key_question"], dtype=object)[kq]
        return frame

    def needs_review(self, kq: float, statement: float, band: float,
                     proba: Mapping[str, np.ndarray] | None = None, row: int = 0) -> bool:
        """True when the calibrated risk is too high.

        Flagged when the confidence that the key question is right, or that the band's direction
        (better half vs worse half of the bands) is right, is below its threshold. With ``proba`` from
        :meth:`predict_all` these confidences are its ``review`` column pair (the risk model's, see
        :mod:`~evidencenlp.classifier.risk`); without it, ``kq`` is used. Thresholds of the older kind
        (statement, band) apply when set above 0. ``thresholds_`` are chosen on held-out data for a
        stated target by :func:`choose_thresholds`.
        """
        t = self.thresholds_
        if statement < t["statement"] or band < t["band"]:
            return True
        if proba is not None and REVIEW_KEY in proba:  # the risk model's confidences (or the plain ones)
            kq_ok, dir_ok = (float(x) for x in proba[REVIEW_KEY][row])
            return bool(kq_ok < t["key_question"] or dir_ok < t.get("direction", 0.0))
        if kq < t["key_question"]:
            return True
        if proba is not None and t.get("direction", 0.0) > 0:
            return bool(direction_confidence(proba["band"][row:row + 1])[0] < t["direction"])
        return False

    def needs_review_rows(self, kq: np.ndarray, statement: np.ndarray, band: np.ndarray,
                          proba: Mapping[str, np.ndarray], rows: np.ndarray) -> np.ndarray:
        """:meth:`needs_review` of many rows at once: ``kq``, ``statement`` and ``band`` are the suggested
        labels' scores ``(n,)`` of the rows ``rows`` of ``proba`` (:meth:`predict_all`); bool ``(n,)``."""
        t = self.thresholds_
        flagged = (statement < t["statement"]) | (band < t["band"])
        if REVIEW_KEY in proba:
            review = proba[REVIEW_KEY][rows]
            return np.asarray(flagged | (review[:, 0] < t["key_question"]) | (review[:, 1] < t.get("direction", 0.0)))
        flagged |= kq < t["key_question"]
        if t.get("direction", 0.0) > 0:
            flagged |= direction_confidence(proba["band"][rows]) < t["direction"]
        return np.asarray(flagged)

    # -- provenance ----------------------------------------------------------------------------

    @property
    def model_version(self) -> str:
        """A short id that changes whenever the weights, frameworks or training data change."""
        self.check_fitted()
        digest = hashlib.sha256()
        for task in sorted(self.heads_):
            digest.update(np.ascontiguousarray(self.heads_[task].coef_).tobytes())
            digest.update(np.ascontiguousarray(self.heads_[task].intercept_).tobytes())
        if self.principles_head_ is not None:
            digest.update(np.ascontiguousarray(self.principles_head_.coef_).tobytes())
        for task in sorted(self.text_heads_):
            digest.update(np.ascontiguousarray(self.text_heads_[task].coef_).tobytes())
        router = getattr(self, "router_head_", None)
        if router is not None and router.coef_ is not None:
            digest.update(np.ascontiguousarray(router.coef_).tobytes())
        settings: list[Any] = [self.frameworks_version_, self.training_data_.get("sha256"), self.joint_temperature_,
                               self.similarity_features, self.cues,
                               {t: round(h.temperature_, 8) for t, h in self.heads_.items()}]
        if self.ensemble != "mean" or self.direction:
            settings.append(self.weights_)
            settings.append(getattr(self, "direction_mix_", 1.0))
        digest.update(json.dumps(settings, sort_keys=True).encode())
        return f"heads-{digest.hexdigest()[:12]}"

    def check_frameworks(self, index: FrameworkIndex) -> None:
        """Raise :class:`ModelError` when the loaded frameworks differ from those the heads were trained on."""
        self.check_fitted()
        stale = {k: v for k, v in self.frameworks_version_.items() if index.version.get(k) not in (None, v)}
        if stale:
            now = {k: index.version.get(k) for k in stale}
            raise ModelError(f"the heads were trained on framework versions {stale}, but the frameworks "
                             f"loaded are {now}; retrain with `evidencenlp train`")
        if index.taxonomy.statements != self.taxonomy_.statements:
            raise ModelError("the heads were trained on another set of quality statements than the frameworks "
                             "loaded; retrain with `evidencenlp train`")

    # -- save / load ---------------------------------------------------------------------------

    def save(self, directory: Path | str) -> Path:
        """Write ``heads.npz`` and ``heads.json`` into ``directory`` atomically; returns the folder
        (see :func:`evidencenlp.classifier.persistence.save_classifier`)."""
        from evidencenlp.classifier.persistence import save_classifier

        return save_classifier(self, directory)

    @classmethod
    def load(cls, directory: Path | str | None = None, index: FrameworkIndex | None = None) -> EvidenceClassifier:
        """Read a classifier written by :meth:`save` (default: the packaged model), bound to ``index`` if given
        (see :func:`evidencenlp.classifier.persistence.load_classifier`)."""
        from evidencenlp.classifier.persistence import load_classifier

        return load_classifier(cls, directory, index)

    def describe(self) -> Mapping[str, Any]:
        """Provenance for model cards and ``--version`` output: params, encoder, data, metrics."""
        self.check_fitted()
        return {"model_version": self.model_version, "encoder": self.encoder_, "params": self.get_params(),
                "frameworks": self.frameworks_version_, "training_data": self.training_data_,
                "metrics": self.metrics_, "thresholds": self.thresholds_}
