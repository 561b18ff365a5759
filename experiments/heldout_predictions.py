"""Held-out predictions of the heads on ``train``'s grouped split, saved for studying the review policy.

Fits the classifier exactly as ``evidencenlp train`` does on its training split (with the parameters
given) and saves, for each held-out note: every probability array, the router's probability, the
note's length and its highest similarity to a framework sentence, its labels and origin.

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
    args = ap.parse_args()

    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.encoder import load_embedder
    from evidencenlp.frameworks import load_framework_set
    from evidencenlp.training import TrainingOptions, embed_texts, holdout_split, training_frame

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
    cols = {c: held[c].fillna("").astype(str).to_numpy() for c in
            ("key_question", "statement", "band", "direction", "origin", "evidence_category")}
    np.savez(args.out, **{f"p_{k}": v for k, v in out.proba.items()}, router=router,
             length=held["text"].astype(str).str.len().to_numpy(), sims_max=out.sims.max(axis=1),
             **{f"y_{k}": v for k, v in cols.items()})
    np.save(str(args.out).replace(".npz", "_sims.npy"), out.sims.astype(np.float32))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
