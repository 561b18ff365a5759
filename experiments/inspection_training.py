"""Does training on the CQC inspection-report paragraphs help on inspectors' writing the model never saw?

    python experiments/inspection_training.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv

Issue 14 (item 4) asks to use the report paragraphs in ``training/inspection/`` to test transfer first
(``evidencenlp evaluate --transfer inspection``) "and to train where it helps". Test: the paragraphs
split into ``--folds`` groups by location (a location's paragraphs never straddle train and test);
for each fold the shipped classifier configuration is fitted on what ``evidencenlp train --phase1``
uses (corpus, framework-derived rows, phase-1 comments) **without** and **with** the other folds'
inspection paragraphs, and scored on the held-out locations' paragraphs (key question macro-F1 over 5
key questions, pooled over folds, 95% bootstrap intervals). Writes ``models/inspection_training.json``;
prints no note text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.evaluation.cv import embed
from evidencenlp.evaluation.run import load_index, shipped_params
from evidencenlp.evaluation.transfer import predict_all_models, score
from evidencenlp.sources.inspection import inspection_examples
from evidencenlp.training import TrainingOptions, training_frame

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--folds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "models" / "inspection_training.json")
    args = ap.parse_args()

    index = load_index()
    params = shipped_params()
    base = training_frame(TrainingOptions(corpus=True, framework_examples=True, phase1=args.phase1), index)
    base_vecs = embed(base["text"].tolist(), name="training")
    paragraphs = inspection_examples()
    par_vecs = embed(paragraphs["text"].tolist(), name="inspection")
    locations = np.array(sorted(set(paragraphs["group"])))
    rng = np.random.default_rng(args.seed)
    fold_of_location = dict(zip(rng.permutation(locations), np.arange(len(locations)) % args.folds))
    fold = paragraphs["group"].map(fold_of_location).to_numpy()
    predictions: dict[str, np.ndarray] = {"without": np.empty(len(paragraphs), dtype=object),
                                          "with": np.empty(len(paragraphs), dtype=object)}

    def say(message: str) -> None:
        print(message, flush=True)

    for k in range(args.folds):
        test_rows, train_rows = np.flatnonzero(fold == k), np.flatnonzero(fold != k)
        test = paragraphs.iloc[test_rows].reset_index(drop=True)
        say(f"fold {k + 1}/{args.folds}: {len(test_rows)} test paragraphs from "
            f"{len(set(test['group']))} locations")
        for name in ("without", "with"):
            if name == "with":
                train = pd.concat([base, paragraphs.iloc[train_rows]], ignore_index=True)
                vecs = np.vstack([base_vecs, par_vecs[train_rows]])
            else:
                train, vecs = base, base_vecs
            preds = predict_all_models(train, vecs, test, par_vecs[test_rows], index, params, None, say,
                                       baselines=False)
            predictions[name][test_rows] = preds["classifier"][0]
    results: dict[str, Any] = {"test": f"{len(paragraphs)} CQC inspection report paragraphs from {len(locations)} "
                                       f"locations, {args.folds} folds grouped by location (seed {args.seed})",
                               "key_question_macro_f1": {}}
    for name, kq in predictions.items():
        m = score(paragraphs, kq, None, seed=args.seed)
        results["key_question_macro_f1"][name] = m["kq_macro_f1"].to_dict()
        results.setdefault("key_question_accuracy", {})[name] = m["kq_accuracy"].to_dict()
        f1 = m["kq_macro_f1"]
        say(f"{name} inspection paragraphs in training: key question macro-F1 {f1.value:.3f} "
            f"[{f1.low:.3f}, {f1.high:.3f}], accuracy {m['kq_accuracy'].value:.3f}")
    gain = (results["key_question_macro_f1"]["with"]["value"] - results["key_question_macro_f1"]["without"]["value"])
    results["gain"] = round(gain, 4)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    say(f"gain {gain:+.3f}; wrote {args.out}")


if __name__ == "__main__":
    main()
