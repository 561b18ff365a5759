"""Held-out predictions of the heads on ``train``'s grouped split, saved for studying the review policy.

Fits the classifier exactly as ``evidencenlp train`` does on its training split (with the parameters
given) and saves, for each held-out note: every probability array, the router's probability, the
note's length and its highest similarity to a framework sentence, its labels, origin and group (trust
or location), the review risk model's inputs (``X``, :data:`~evidencenlp.classifier.RISK_FEATURES`),
whether its key question and direction are right (``kq_ok``, ``dir_ok``; ``nan`` = no label), its
near-duplicate group among the held-out notes (``nd_group``, as ``train`` groups), its ``--knn``
nearest training rows (``knn_sim``, ``knn_kq``, ``knn_dir``: their cosine and labels) and, with
``--clauses``, the key question and direction probabilities averaged over the note's clauses
(``clause_kq``, ``clause_dir``, ``clause_n``) and whether ``Suggester`` abstains on it (``abstained``:
no content, not English — it is then never rated, so never reaches the review thresholds) for studying the review policy offline
(``experiments/trust_coverage.py``).

    python experiments/heldout_predictions.py --phase1 …/text_data.csv --out /tmp/heldout.npz

Nothing here prints note text.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--params", default="{}")
    ap.add_argument("--knn", type=int, default=20, help="nearest training rows saved per held-out note")
    ap.add_argument("--clauses", action="store_true", help="also predict on each note's clauses (slower)")
    ap.add_argument("--review", type=Path, help="also write train's review report (review_thresholds) as JSON here")
    args = ap.parse_args()

    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.encoder import load_embedder
    from evidencenlp.frameworks import load_framework_set
    from evidencenlp.sources import near_duplicate_groups
    from evidencenlp.training import TrainingOptions, _correctness, embed_texts, holdout_split, training_frame

    options = TrainingOptions(phase1=args.phase1, params=json.loads(args.params))
    index = load_framework_set().index(load_embedder("torch"))
    frame = training_frame(options, index)
    vectors = embed_texts(frame["text"].tolist(), embedder=index.embedder)
    train, test = holdout_split(frame, vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = EvidenceClassifier(**options.params).bind_index(index)
        clf.fit(frame["text"][train].tolist(), frame[train], embeddings=vectors[train],
                origin=frame["origin"][train].tolist())
    held = frame[test].reset_index(drop=True)
    texts = held["text"].astype(str).tolist()
    out = clf.predict_all(texts, vectors[test])
    feats = clf.features(texts, vectors[test], out.sims)
    router = (clf.router_head_.predict_proba(feats)[:, clf.router_head_.classes_.index("feedback")]
              if clf.router_head_ is not None else np.zeros(len(texts)))
    cols = {c: held[c].fillna("").astype(str).to_numpy().astype(str) for c in
            ("key_question", "statement", "band", "direction", "origin", "evidence_category", "group")}
    X = clf.risk_inputs(texts, feats, out.sims, out.proba)
    from evidencenlp.abstain import abstention_reasons

    abstained = np.array([r is not None for r in abstention_reasons(texts)])  # Suggester never rates these
    kq_ok, dir_ok = _correctness(clf, held, out.proba)
    # nearest training rows (labels only) for kNN-agreement features
    trained = frame[train].reset_index(drop=True)
    tax = clf.taxonomy_
    t_dir = trained["direction"].fillna("").astype(str)
    t_dir = t_dir.where(t_dir != "", trained["band"].fillna("").astype(str).map(
        lambda b: tax.direction_of(b) if b else "")).to_numpy()
    sims_tr = vectors[test] @ vectors[train].T
    nn = np.argsort(-sims_tr, axis=1)[:, :args.knn]
    extra: dict[str, np.ndarray] = {
        "knn_sim": np.take_along_axis(sims_tr, nn, axis=1).astype(np.float32),
        "knn_kq": trained["key_question"].fillna("").astype(str).to_numpy().astype(str)[nn],
        "knn_dir": np.asarray(t_dir, dtype=str)[nn],
        "knn_origin": trained["origin"].fillna("").astype(str).to_numpy().astype(str)[nn]}
    if args.clauses:
        from evidencenlp.text import process_many
        from evidencenlp.topics import segments

        segs = [segments(p.sentences) for p in process_many(texts, redact=False)]
        flat = [s for ss in segs for s in ss]
        seg_out = clf.predict_all(flat, embed_texts(flat, embedder=index.embedder))
        kq_cols, dir_cols = out.proba["key_question"].shape[1], 1
        clause_kq, clause_dir = np.zeros((len(texts), kq_cols)), np.full((len(texts), dir_cols), np.nan)
        half = out.proba["band"].shape[1] // 2
        start = 0
        for i, ss in enumerate(segs):
            rows = slice(start, start + len(ss))
            start += len(ss)
            if ss:
                clause_kq[i] = seg_out.proba["key_question"][rows].mean(axis=0)
                clause_dir[i, 0] = seg_out.proba["band"][rows, :half].sum(axis=1).mean()
        extra.update(clause_kq=clause_kq, clause_dir=clause_dir[:, 0], clause_n=np.array([len(s) for s in segs]))
    np.savez(args.out, **{f"p_{k}": v for k, v in out.proba.items()}, router=router,
             length=held["text"].astype(str).str.len().to_numpy(), sims_max=out.sims.max(axis=1),
             X=X, abstained=abstained, kq_ok=kq_ok, dir_ok=dir_ok, nd_group=near_duplicate_groups(vectors[test]),
             kq_classes=np.asarray(clf.classes_["key_question"]),
             **{f"y_{k}": v for k, v in cols.items()}, **extra)
    np.save(str(args.out).replace(".npz", "_sims.npy"), out.sims.astype(np.float32))
    print(f"wrote {args.out}")
    if args.review is not None:
        from evidencenlp.training import review_thresholds

        report = review_thresholds(clf, held, vectors[test])
        args.review.write_text(json.dumps(report, indent=1))
        print(json.dumps({k: report[k] for k in ("key_question", "direction", "method", "held_out_rows",
                                                  "abstained_rows", "nested", "plain",
                                                  "nested_coverage_with_abstained")}, indent=1))


if __name__ == "__main__":
    main()
