"""Fit the heads on labelled data and measure them on a held-out split.

The held-out split is grouped: near-duplicate notes (cosine ≥ :data:`NEAR_DUPLICATE`) share a group
and never straddle train and test. Framework-derived examples are always training-only: figures
are measured on hand-written (or user) notes only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from evidencenlp.classifier import EvidenceClassifier
from evidencenlp.encoder import Embedder, encode_cached, load_embedder
from evidencenlp.errors import DataError
from evidencenlp.matching import FrameworkIndex
from evidencenlp.paths import cache_dir
from evidencenlp.sources import (
    NEAR_DUPLICATE,
    SourceSelection,
    gather,
    inspection_path,
    near_duplicate_groups,
)
from evidencenlp.sources.bundles import BUNDLE_ORIGIN, check_bundle_folders, folder_sha256
from evidencenlp.taxonomy import TASKS


def embed_texts(texts: list[str], cache: Path | None = None, embedder: Embedder | None = None) -> np.ndarray:
    """Embeddings ``(n, 384)`` of training texts with ``embedder`` (default: torch), cached on disk by content."""
    return encode_cached(texts, cache or cache_dir(), "training", embedder=embedder)


@dataclass(frozen=True)
class TaskScore:
    """Held-out accuracy and macro-F1 for one task, over ``n`` labelled test rows."""

    task: str
    accuracy: float
    macro_f1: float
    n: int


def score_classifier(classifier: EvidenceClassifier, frame: pd.DataFrame, vectors: np.ndarray) -> list[TaskScore]:
    """Accuracy and macro-F1 of each task on the labelled rows of ``frame`` (embeddings ``(n, 384)``)."""
    predicted = classifier.predict(frame["text"].astype(str).tolist(), embeddings=vectors)
    scores = []
    for task in TASKS:
        mask = (frame[task].fillna("").astype(str) != "").to_numpy()
        if mask.sum() == 0:
            continue
        y, p = frame.loc[mask, task].to_numpy(), predicted[task].to_numpy()[mask]
        scores.append(TaskScore(task, float(accuracy_score(y, p)), float(f1_score(y, p, average="macro")),
                                int(mask.sum())))
    return scores


#: origins that only ever train: framework sentences and assessment bundle notes (the held-out figures and the
#: review thresholds are measured on the corpus, phase-1 comments and the other sources, as without them)
TRAIN_ONLY_ORIGINS: tuple[str, ...] = ("framework", BUNDLE_ORIGIN)


def holdout_split(frame: pd.DataFrame, vectors: np.ndarray, test_fraction: float = 0.2,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/test masks: test only from rows whose origin is not in :data:`TRAIN_ONLY_ORIGINS`,
    stratified by statement, grouped (near-duplicates on one side)."""
    evaluable = ~frame["origin"].str.startswith(TRAIN_ONLY_ORIGINS).to_numpy()
    groups = near_duplicate_groups(vectors)
    strata = frame["statement"].where(frame["statement"] != "", frame["key_question"]).to_numpy()
    n_splits = max(2, round(1 / test_fraction))
    idx = np.flatnonzero(evaluable)
    test = np.zeros(len(frame), dtype=bool)
    splitter = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    _, test_idx = next(splitter.split(idx, strata[idx], groups[idx]))
    test[idx[test_idx]] = True
    # keep any near-duplicate of a test row (e.g. a framework sentence) out of training
    test_groups = set(groups[test])
    train = ~test & ~np.isin(groups, list(test_groups))
    return train, test


@dataclass(frozen=True)
class TrainingOptions:
    """What to train on and how; validated on construction (like SetFit's training arguments).

    Attributes:
        data: extra labelled files with the corpus columns.
        include_decisions: a review database whose confirmed labels join the training data.
        phase1: a pxtextmining phase-1 file (real NHS feedback, read where it is, never copied):
            its comments are mapped through ``training/phase1_mapping.yaml`` to key questions and
            statements, and their criticality teaches the band's direction.
        phase1_min_confidence: the lowest mapping confidence used (low, medium, high).
        inspection: add the paragraphs of CQC inspection reports (``training/inspection/``).
        bundles: folders of hand-rated assessment bundles whose labelled notes join the training rows
            (training only: never in the held-out split).
        corpus: use the hand-written corpus (``training/corpus/*.csv``).
        framework_examples: use the framework-derived sentences.
        params: keyword arguments for :class:`EvidenceClassifier` (e.g. ``{"C": 0.01}``).
        seed: seed of the grouped held-out split.
        test_fraction: share of evaluable notes held out for the figures printed before the refit.
    """

    data: tuple[Path, ...] = ()
    include_decisions: Path | None = None
    corpus: bool = True
    framework_examples: bool = True
    phase1: Path | None = None
    phase1_min_confidence: str = "medium"
    inspection: bool = False
    bundles: tuple[Path, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    test_fraction: float = 0.2

    def __post_init__(self) -> None:
        if not 0.05 <= self.test_fraction <= 0.5:
            raise DataError(f"test_fraction must be between 0.05 and 0.5; got {self.test_fraction}")
        unknown = set(self.params) - set(EvidenceClassifier().get_params())
        if unknown:
            raise DataError(f"unknown classifier parameter(s) {', '.join(sorted(unknown))}; expected some of "
                            f"{', '.join(sorted(EvidenceClassifier().get_params()))}")
        if self.phase1_min_confidence not in ("low", "medium", "high"):
            raise DataError(f"phase1_min_confidence must be low, medium or high; got {self.phase1_min_confidence!r}")
        if self.phase1 is not None and not Path(self.phase1).is_file():
            raise DataError(f"{self.phase1}: file not found (the pxtextmining phase-1 file, e.g. "
                            "../shared/data/pxtextmining-phase1/text_data.csv)")
        check_bundle_folders(self.bundles, "--bundles")
        if not (self.corpus or self.framework_examples or self.data or self.include_decisions or self.phase1
                or self.bundles):
            raise DataError("no training data: use the corpus or the framework examples, or give data files")

    def sources(self) -> SourceSelection:
        """The sources these options name."""
        return SourceSelection(corpus=self.corpus, framework_examples=self.framework_examples, data=self.data,
                               phase1=self.phase1, phase1_min_confidence=self.phase1_min_confidence,
                               inspection=self.inspection, decisions=self.include_decisions,
                               bundles=tuple(Path(b) for b in self.bundles))


@dataclass
class TrainingResult:
    """The refitted classifier and the held-out figures measured before the refit."""

    classifier: EvidenceClassifier
    heldout: list[TaskScore]
    split: str
    rows: int
    heldout_before_decisions: list[TaskScore] | None = None


def as_metrics(scores: list[TaskScore]) -> dict[str, dict[str, float | int]]:
    """Task → {accuracy, macro_f1, n}, as stored beside the model and read by the model card."""
    return {s.task: {"accuracy": round(s.accuracy, 4), "macro_f1": round(s.macro_f1, 4), "n": s.n} for s in scores}


def training_frame(options: TrainingOptions, index: FrameworkIndex) -> pd.DataFrame:
    """All training rows (corpus columns + ``origin``) from the sources ``options`` names (see :func:`sources.gather`)."""
    return gather(options.sources(), index)


def train(options: TrainingOptions | None = None, index: FrameworkIndex | None = None,
          log: Callable[[str], None] | None = None) -> TrainingResult:
    """Train an :class:`EvidenceClassifier`: held-out figures on a grouped split, then a refit on everything.

    Returns the refitted classifier (its ``metrics_`` hold the held-out figures) and the figures.
    Nothing is saved: call ``result.classifier.save(folder)``.
    """
    options = options or TrainingOptions()
    say = log or (lambda _msg: None)
    if index is None:
        from evidencenlp.frameworks import load_framework_set

        index = load_framework_set().index(load_embedder(options.params.get("backend", "torch")))
    frame = training_frame(options, index)
    say(f"embedding {len(frame):,} training texts …")
    vectors = embed_texts(frame["text"].tolist(), embedder=index.embedder)

    def fit(mask: np.ndarray) -> EvidenceClassifier:
        clf = EvidenceClassifier(**options.params).bind_index(index)
        return clf.fit(frame["text"][mask].tolist(), frame[mask], embeddings=vectors[mask],
                       origin=frame["origin"][mask].tolist())

    train_mask, test_mask = holdout_split(frame, vectors, test_fraction=options.test_fraction, seed=options.seed)
    split = (f"grouped held-out split (seed {options.seed}): {int(test_mask.sum())} non-framework notes for "
             f"testing, {int(train_mask.sum())} rows for training; near-duplicates (cosine ≥ {NEAR_DUPLICATE}) "
             "kept on one side")
    say(f"fitting on the training split ({split}) …")
    heldout_clf = fit(train_mask)
    heldout = score_classifier(heldout_clf, frame[test_mask], vectors[test_mask])
    review = review_thresholds(heldout_clf, frame[test_mask], vectors[test_mask])
    before = None
    if options.include_decisions is not None:
        no_decisions = train_mask & (frame["origin"] != "decisions").to_numpy()
        before = score_classifier(fit(no_decisions), frame[test_mask], vectors[test_mask])
    say("refitting on all data …")
    classifier = fit(np.ones(len(frame), dtype=bool))
    classifier.metrics_ = {"holdout": {"split": split, **as_metrics(heldout)}, "review": review}
    classifier.training_data_["sources"] = source_provenance(options, frame)
    classifier.risk_ = heldout_clf.risk_  # fitted on the held-out predictions by review_thresholds
    review["weak_match"] = labelled_weak_match(index, frame, vectors)
    classifier.thresholds_.update({"key_question": review["key_question"], "direction": review["direction"],
                                   "statement": 0.0, "band": 0.0, "weak_match": review["weak_match"]})
    if before is not None:
        classifier.metrics_["holdout_before_decisions"] = as_metrics(before)
    return TrainingResult(classifier, heldout, split, len(frame), before)


def _correctness(classifier: EvidenceClassifier, test: pd.DataFrame,
                 proba: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Whether each held-out suggestion's key question and band direction are right (``nan`` = no label)."""
    from evidencenlp.classifier import decide

    taxonomy = classifier.taxonomy_
    _, kq_idx = decide(proba["statement"], taxonomy.statement_kq, taxonomy.key_questions)
    kq_pred = np.asarray(taxonomy.key_questions, dtype=object)[kq_idx]
    kq_true = test["key_question"].fillna("").astype(str).to_numpy()
    kq_ok = np.where(kq_true != "", (kq_pred == kq_true).astype(float), np.nan)
    half = len(taxonomy.bands) // 2
    dir_pred = np.where(proba["band"][:, :half].sum(axis=1) >= 0.5, "positive", "negative")
    given = test["direction"].fillna("").astype(str) if "direction" in test else pd.Series([""] * len(test))
    derived = test["band"].fillna("").astype(str).map(lambda b: taxonomy.direction_of(b) if b else "")
    dir_true = given.where(given != "", derived).to_numpy()
    dir_ok = np.where(dir_true != "", (dir_pred == dir_true).astype(float), np.nan)
    return kq_ok, dir_ok


def _rates(keep: np.ndarray, kq_ok: np.ndarray, dir_ok: np.ndarray, rows: np.ndarray) -> dict[str, Any]:
    k, d = rows & keep & ~np.isnan(kq_ok), rows & keep & ~np.isnan(dir_ok)
    return {"rows": int(rows.sum()), "coverage": round(float(keep[rows].mean()), 4),
            "kq_error_unflagged": round(1 - float(kq_ok[k].mean()), 4) if k.any() else None,
            "direction_error_unflagged": round(1 - float(dir_ok[d].mean()), 4) if d.any() else None,
            "kq_error_all": round(1 - float(np.nanmean(kq_ok[rows])), 4) if (~np.isnan(kq_ok[rows])).any() else None,
            "direction_error_all": round(1 - float(np.nanmean(dir_ok[rows])), 4)
            if (~np.isnan(dir_ok[rows])).any() else None}


def review_thresholds(classifier: EvidenceClassifier, test: pd.DataFrame, vectors: np.ndarray,
                      kq_target: float = 0.10, direction_target: float = 0.03, folds: int = 5,
                      seed: int = 0) -> dict[str, Any]:
    """Fit the review risk model and choose ``needs_review`` thresholds on held-out rows for the stated targets.

    Among held-out notes *not* flagged, the key question may be wrong in at most ``kq_target`` and
    the band's direction in at most ``direction_target``. Notes the suggester abstains on (no content,
    not English: :func:`evidencenlp.abstain.abstention_reasons`) are never rated, so they take no part:
    the risk model and thresholds are fitted, and coverage is counted, on the notes it rates. The risk
    model (:class:`~evidencenlp.classifier.risk.RiskModel`) is fitted on their held-out predictions;
    the thresholds are chosen on its cross-fitted confidences (``folds`` folds grouped by near-duplicate
    group: each row scored by a risk model that never saw it), and ``classifier.risk_`` is set to the
    model fitted on every rated held-out row.

    Returns the thresholds, the targets and, per source (hand-written corpus, real feedback, all),
    coverage and error rates at them; ``nested`` (each fold's thresholds and risk model chosen on the
    other folds only — an honest estimate of what the choice gives on new notes) and ``plain`` (the same
    nested estimate with the key question's and the band direction's own probabilities, the rule before
    the risk model); ``abstained_rows`` and ``nested_coverage_with_abstained`` (abstained notes counted
    as flagged).
    """
    from sklearn.model_selection import GroupKFold, KFold

    from evidencenlp.abstain import abstention_reasons
    from evidencenlp.classifier import RISK_FEATURES, RiskModel, choose_thresholds
    from evidencenlp.sources import near_duplicate_groups

    texts = test["text"].astype(str).tolist()
    rated = np.array([r is None for r in abstention_reasons(texts)], dtype=bool)
    test, vectors = test[rated].reset_index(drop=True), np.asarray(vectors)[rated]
    texts = [t for t, r in zip(texts, rated) if r]
    out = classifier.predict_all(texts, vectors)
    kq_ok, dir_ok = _correctness(classifier, test, out.proba)
    X = classifier.risk_inputs(texts, classifier.features(texts, vectors, out.sims), out.sims, out.proba)
    plain = X[:, [RISK_FEATURES.index("kq_top"), RISK_FEATURES.index("direction_conf")]]
    groups = near_duplicate_groups(vectors)

    fold_kind = ("grouped by near-duplicate group" if len(set(groups.tolist())) >= 2
                 else "by row (the rated held-out notes form a single near-duplicate group)")

    def split(rows: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
        k = min(folds, len(set(groups[rows].tolist())))
        if k >= 2:
            return list(GroupKFold(k, shuffle=True, random_state=seed).split(rows, groups=groups[rows]))
        # every note is in one near-duplicate group: folds by row, so that no threshold is chosen on
        # confidences of a model that saw the note
        k = min(folds, len(rows))
        if k < 2:
            raise DataError(f"review thresholds need at least 2 rated held-out notes; got {len(rows)}")
        return list(KFold(k, shuffle=True, random_state=seed).split(rows))

    def crossfitted(rows: np.ndarray) -> np.ndarray:
        conf = np.zeros((len(rows), 2))
        for tr, te in split(rows):
            conf[te] = np.column_stack(RiskModel.fit(X[rows[tr]], kq_ok[rows[tr]], dir_ok[rows[tr]])
                                       .confidence(X[rows[te]]))
        return conf

    everything = np.arange(len(X))
    crossfit = crossfitted(everything)
    choice = choose_thresholds(crossfit[:, 0], kq_ok, crossfit[:, 1], dir_ok, kq_target, direction_target)
    classifier.risk_ = RiskModel.fit(X, kq_ok, dir_ok)

    def nested(conf_of: Any) -> np.ndarray:
        keep = np.zeros(len(X), dtype=bool)
        for tr, te in split(everything):
            conf_tr, conf_te = conf_of(tr, te)
            c = choose_thresholds(conf_tr[:, 0], kq_ok[tr], conf_tr[:, 1], dir_ok[tr], kq_target, direction_target)
            keep[te] = (conf_te[:, 0] >= c.key_question) & (conf_te[:, 1] >= c.direction)
        return keep

    def risk_conf(tr: np.ndarray, te: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # thresholds chosen on cross-fitted confidences inside the training folds
        return crossfitted(tr), np.column_stack(RiskModel.fit(X[tr], kq_ok[tr], dir_ok[tr]).confidence(X[te]))

    origin = test["origin"].fillna("").astype(str).to_numpy() if "origin" in test else np.array([""] * len(test))
    risk = classifier.risk_
    report: dict[str, Any] = {"key_question": choice.key_question, "direction": choice.direction,
                              "method": (f"risk model (classifier.risk): P(key question right) from {list(risk.kq_inputs)}, "
                                         f"P(direction right) from {list(risk.direction_inputs)}; notes the suggester "
                                         "abstains on left out"),
                              "targets": {"kq_error": kq_target, "direction_error": direction_target},
                              "held_out_rows": int(len(rated)), "rated_rows": int(rated.sum()),
                              "abstained_rows": int((~rated).sum()), "folds": fold_kind}
    keep = (crossfit[:, 0] >= choice.key_question) & (crossfit[:, 1] >= choice.direction)
    sources = (("all", np.ones(len(test), dtype=bool)),
               ("corpus", np.char.startswith(origin.astype(str), "corpus")),
               ("real_feedback", np.char.startswith(origin.astype(str), "phase1")))
    for name, rows in sources:
        if rows.any():
            report[name] = _rates(keep, kq_ok, dir_ok, rows)
    honest = nested(risk_conf)
    before = nested(lambda tr, te: (plain[tr], plain[te]))
    report["nested"] = {name: _rates(honest, kq_ok, dir_ok, rows) for name, rows in sources if rows.any()}
    report["plain"] = {name: _rates(before, kq_ok, dir_ok, rows) for name, rows in sources if rows.any()}
    report["nested_coverage_with_abstained"] = round(float(honest.sum()) / max(1, len(rated)), 4)
    report["weak_match_heldout"] = weak_match_threshold(classifier, out, test)
    return report


def labelled_weak_match(index: FrameworkIndex, frame: pd.DataFrame, vectors: np.ndarray,
                        quantile: float = 0.1) -> float:
    """The weak-match threshold from the labelled notes with a statement and a band (the corpus and any
    assessment bundle notes or labelled data files; framework sentences excluded; all of them, not a held-out
    split): the ``quantile`` of the similarity of each note to the explanation of its own labelled statement
    and band (see :func:`evidencenlp.explain.weak_threshold_from_labels`)."""
    from evidencenlp.explain import weak_threshold_from_labels

    rows = ((frame["statement"].fillna("") != "") & (frame["band"].fillna("") != "")
            & ~frame["origin"].fillna("").astype(str).str.startswith("framework")).to_numpy()
    if not rows.any():
        return weak_threshold_from_labels(index, np.zeros((0, len(index.texts))), [], [], quantile)
    sims = index.similarities(vectors[rows])
    return round(weak_threshold_from_labels(index, sims, frame.loc[rows, "statement"].tolist(),
                                            frame.loc[rows, "band"].tolist(), quantile), 4)


def weak_match_threshold(classifier: EvidenceClassifier, out: Any, test: pd.DataFrame) -> float:
    """The similarity under which the explanation's statement is usually wrong, on held-out notes with a statement
    (see :func:`evidencenlp.explain.choose_weak_threshold`)."""
    from evidencenlp.explain import choose_weak_threshold, explaining_match

    truth = test["statement"].fillna("").astype(str).to_numpy()
    sims, correct = [], []
    for row in np.flatnonzero(truth != ""):
        _, (st, _) = out.suggestion(row, classifier.taxonomy_.statement_kq)
        band, _ = out.top("band", row)
        m = explaining_match(classifier.index, out.sims[row], st, band)
        if m is not None:
            sims.append(m.similarity)
            correct.append(st == truth[row])
    return round(choose_weak_threshold(np.array(sims), np.array(correct)), 4)


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_provenance(options: TrainingOptions, frame: pd.DataFrame) -> dict[str, Any]:
    """What each training source contributed (row counts, files' SHA-256) for the model card."""
    origin = frame["origin"].fillna("").astype(str)
    kinds = origin.str.split(":").str[0]
    out: dict[str, Any] = {kind: {"rows": int(n)} for kind, n in kinds.value_counts().items()}
    if options.phase1 is not None and "phase1" in out:
        rows = frame[kinds == "phase1"]
        out["phase1"].update({
            "file": Path(options.phase1).name, "sha256": _file_sha256(Path(options.phase1)),
            "min_confidence": options.phase1_min_confidence,
            "with_key_question": int((rows["key_question"] != "").sum()),
            "with_statement": int((rows["statement"] != "").sum()),
            "with_direction": int((rows["direction"] != "").sum()),
            "by_trust": {str(k): int(v) for k, v in rows["group"].value_counts().items()},
            "citation": "The-Strategy-Unit/pxtextmining, datasets/phase_1 (real NHS Friends and Family Test comments)",
        })
    if options.inspection and "inspection" in out:
        path = inspection_path()
        out["inspection"].update({"file": "training/inspection/cqc_reports.csv", "sha256": _file_sha256(path),
                                  "licence": "Open Government Licence v3.0 (CQC inspection reports)"})
    if options.bundles and BUNDLE_ORIGIN in out:
        rows = frame[kinds == BUNDLE_ORIGIN]
        out[BUNDLE_ORIGIN].update({
            "folders": {str(Path(f)): int(rows["origin"].str.startswith(f"{BUNDLE_ORIGIN}:{Path(f).name}/").sum())
                        for f in options.bundles},
            "bundles": int(rows["origin"].nunique()),
            "sha256": {str(Path(f)): folder_sha256(Path(f)) for f in options.bundles},
            "note": "hand-rated assessment bundles written for evaluating `assess` (training rows only)"})
    return out
