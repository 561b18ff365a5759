"""Out-of-fold probabilities of the heads on the corpus CV (the folds of ``evidencenlp evaluate --train-phase1``).

Writes an ``.npz`` with, per corpus note (in corpus order): the routed key-question ensemble before the
joint, the routed statement ensemble before the joint, the joint statement distribution, the band, the
direction and the category probabilities, and the fold of each note. Used to study the statement head,
the joint decision and the review thresholds without refitting everything for each idea.

    python experiments/statement_cv.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv \
        --out /tmp/oof.npz [--params '{"C": 0.01}']

Nothing here prints note text.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--params", default="{}", help="JSON of EvidenceClassifier parameters over the shipped ones")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()

    from joblib import Parallel, delayed

    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.evaluation.cv import embed, plan_folds
    from evidencenlp.evaluation.run import (
        EvaluationOptions,
        cv_training,
        load_index,
        shipped_params,
    )

    index = load_index()
    fw, corpus = cv_training(index, EvaluationOptions(train_phase1=args.phase1))
    both = pd.concat([fw, corpus], ignore_index=True)
    vecs = embed(both["text"].tolist(), name="training")
    n_fw = len(fw)
    cvecs, fvecs = vecs[n_fw:], vecs[:n_fw]
    plan = plan_folds(corpus, cvecs, fvecs, 5, 0)
    params = shipped_params()
    for k, v in json.loads(args.params).items():
        params[k] = tuple(v) if isinstance(v, list) and k != "source_weights" else v
    if "source_weights" in params:
        params["source_weights"] = tuple((str(p), float(w)) for p, w in params["source_weights"])

    def run(k: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        f = plan.folds[k]
        train = pd.concat([fw[f.keep_extra], corpus.iloc[f.train]], ignore_index=True)
        tv = np.vstack([fvecs[f.keep_extra], cvecs[f.train]])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf = EvidenceClassifier(**params).bind_index(index)
            clf.fit(train["text"].astype(str).tolist(), train, embeddings=tv,
                    origin=train["origin"].fillna("").astype(str).tolist())
        test = corpus.iloc[f.test]
        texts = test["text"].astype(str).tolist()
        out = clf.predict_all(texts, cvecs[f.test])
        from evidencenlp.heads import SharedCounts

        feats = clf.features(texts, cvecs[f.test], out.sims)
        ti = SharedCounts(clf._text_inputs(texts))
        res = {f"p_{t}": v for t, v in out.proba.items()}
        res["raw_key_question"] = clf._task_proba("key_question", feats, ti)
        res["raw_statement"] = clf._task_proba("statement", feats, ti)
        res["router"] = clf.router_head_.predict_proba(feats)[:, clf.router_head_.classes_.index("feedback")] \
            if clf.router_head_ is not None else np.zeros(len(texts))
        res["sims_max"] = out.sims.max(axis=1)
        return f.test, res

    parts = Parallel(n_jobs=args.jobs, backend="loky")(delayed(run)(k) for k in range(5))
    n = len(corpus)
    merged: dict[str, np.ndarray] = {}
    for te, res in parts:
        for key, v in res.items():
            if key not in merged:
                merged[key] = np.zeros((n, *v.shape[1:]))
            merged[key][te] = v
    merged["fold"] = plan.fold_of
    t = index.taxonomy
    np.savez(args.out, **merged, statements=np.array(t.statements), key_questions=np.array(t.key_questions),
             statement_kq=np.array(t.statement_kq), bands=np.array(t.bands),
             y_key_question=corpus["key_question"].fillna("").astype(str).to_numpy(),
             y_statement=corpus["statement"].fillna("").astype(str).to_numpy(),
             y_band=corpus["band"].fillna("").astype(str).to_numpy(),
             y_category=corpus["evidence_category"].fillna("").astype(str).to_numpy(),
             length=corpus["text"].astype(str).str.len().to_numpy())
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
