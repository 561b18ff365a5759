"""Fit the heads on labelled data and measure them on a held-out split.

The held-out split is grouped: near-duplicate notes (cosine ≥ :data:`NEAR_DUPLICATE`) share a group
and never straddle train and test. Framework-derived examples are always training-only: figures
are measured on hand-written (or user) notes only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedGroupKFold

from evidencenlp import encoder
from evidencenlp.bundle import TASKS, TEXT_TASKS, HeadBundle
from evidencenlp.combine import align, fit_joint_temperature
from evidencenlp.frameworks import EVIDENCE_CATEGORIES, KEY_QUESTIONS
from evidencenlp.cues import with_markers
from evidencenlp.features import head_features
from evidencenlp.heads import DEFAULT_C, LinearHead, MultiLabelHead, TextHead
from evidencenlp.matching import FrameworkIndex
from evidencenlp.paths import cache_dir
from evidencenlp.training_data import data_hash

NEAR_DUPLICATE = 0.92
#: add the negated-adverse-event cue (evidencenlp.cues) to the heads' input
USE_CUES = True


def embed_texts(texts: list[str], cache: Path | None = None) -> np.ndarray:
    """Embeddings of training texts, cached on disk by content."""
    return encoder.encode_cached(texts, cache or cache_dir(), "training")


def near_duplicate_groups(vectors: np.ndarray, threshold: float = NEAR_DUPLICATE) -> np.ndarray:
    """Group id per row: rows linked by cosine ≥ ``threshold`` (transitively) share a group."""
    n = len(vectors)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return int(i)

    for start in range(0, n, 1024):
        sims = vectors[start:start + 1024] @ vectors.T
        rows, cols = np.nonzero(sims >= threshold)
        for r, c in zip(rows + start, cols):
            if r < c:
                a, b = find(r), find(c)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return np.array([find(i) for i in range(n)])


def fit_bundle(frame: pd.DataFrame, vectors: np.ndarray, index: FrameworkIndex, C: float = DEFAULT_C,
               use_similarity_features: bool = True, use_cues: bool = USE_CUES) -> HeadBundle:
    """Fit one head per task on the rows that carry its label, plus the principles head.

    ``frame`` has the corpus columns; ``vectors`` its embeddings ``(len(frame), 384)``.
    """
    texts = frame["text"].astype(str).tolist()
    X = head_features(index, vectors, texts, similarity=use_similarity_features, cues=use_cues)
    notes = ~frame["origin"].astype(str).str.startswith("framework").to_numpy()  # calibrate on notes
    heads, masks = {}, {}
    for task in TASKS:
        mask = (frame[task] != "").to_numpy()
        if mask.sum() == 0 or frame.loc[mask, task].nunique() < 2:
            raise ValueError(f"the training data has fewer than two {task} labels; cannot train that head")
        heads[task] = LinearHead(C=C).fit(X[mask], frame.loc[mask, task].tolist(), calibration_mask=notes[mask])
        masks[task] = mask
    head_texts = np.array(with_markers(texts) if use_cues else texts, dtype=object)
    text_heads = {task: TextHead().fit(head_texts[masks[task]], frame.loc[masks[task], task].tolist(),
                                       calibration_mask=notes[masks[task]])
                  for task in TEXT_TASKS}
    labels = [[p for p in str(v).split(";") if p] for v in frame["principles"]]
    principles = MultiLabelHead(C=C).fit(X, labels, index.principles) if index.principles else None
    return HeadBundle(heads=heads, principles=principles, frameworks=index.version,
                      use_similarity_features=use_similarity_features, use_cues=use_cues,
                      joint_temperature=_joint_temperature(frame, heads, masks, notes, index),
                      text_heads=text_heads,
                      training_data={"sha256": data_hash(frame), "rows": int(len(frame)),
                                     "origins": {str(k): int(v) for k, v in frame["origin"].value_counts().items()}})


def _oof_proba(head: LinearHead) -> np.ndarray:
    z = head.oof_logits_ / head.temperature_
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _joint_temperature(frame: pd.DataFrame, heads: dict[str, LinearHead], masks: dict[str, np.ndarray],
                       notes: np.ndarray, index: FrameworkIndex) -> float:
    """Fit the joint key-question × statement temperature on out-of-fold predictions of notes."""
    kq_head, st_head = heads["key_question"], heads["statement"]
    if kq_head.oof_logits_ is None or st_head.oof_logits_ is None:
        return 1.0
    kq_rows, st_rows = np.flatnonzero(masks["key_question"]), np.flatnonzero(masks["statement"])
    position = {row: i for i, row in enumerate(kq_rows)}
    use = np.array([row in position and notes[row] for row in st_rows])
    if use.sum() < 50:
        use = np.array([row in position for row in st_rows])
    if use.sum() < 10:
        return 1.0
    st = align(_oof_proba(st_head), st_head.classes_, index.statements)[use]
    kq = align(_oof_proba(kq_head), kq_head.classes_, KEY_QUESTIONS)[[position[r] for r in st_rows[use]]]
    y = np.array([index.statements.index(s) for s in frame["statement"].to_numpy()[st_rows[use]]])
    return fit_joint_temperature(st, kq, index.statement_kq, y)


@dataclass(frozen=True)
class TaskScore:
    """Held-out accuracy and macro-F1 for one task, over ``n`` labelled test rows."""

    task: str
    accuracy: float
    macro_f1: float
    n: int


def score_bundle(bundle: HeadBundle, frame: pd.DataFrame, vectors: np.ndarray, index: FrameworkIndex) -> list[TaskScore]:
    """Accuracy and macro-F1 of each head on labelled rows (joint key question/statement as in suggest)."""
    from evidencenlp.suggest import Suggester

    preds = Suggester(index, bundle).probabilities(frame["text"].astype(str).tolist(), vectors)
    predicted = {
        "key_question": np.array(["safe", "effective", "caring", "responsive", "well-led"])[preds.kq.argmax(1)],
        "statement": np.array(index.statements)[preds.statement.argmax(1)],
        "evidence_category": np.array(EVIDENCE_CATEGORIES)[preds.category.argmax(1)],
        "band": np.array(["outstanding", "good", "requires_improvement", "inadequate"])[preds.band.argmax(1)],
    }
    scores = []
    for task in TASKS:
        mask = (frame[task] != "").to_numpy()
        if mask.sum() == 0:
            continue
        y, p = frame.loc[mask, task].to_numpy(), predicted[task][mask]
        scores.append(TaskScore(task, float(accuracy_score(y, p)), float(f1_score(y, p, average="macro")),
                                int(mask.sum())))
    return scores


def holdout_split(frame: pd.DataFrame, vectors: np.ndarray, test_fraction: float = 0.2,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Boolean train/test masks: test only from non-framework rows, stratified by statement, grouped."""
    evaluable = ~frame["origin"].str.startswith("framework").to_numpy()
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
