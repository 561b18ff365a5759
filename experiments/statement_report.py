"""Where statements fail: per-statement figures and the most frequent confusions from an evaluation's JSON.

    evidencenlp evaluate --train-phase1 …/text_data.csv --format json > cv.json
    python experiments/statement_report.py cv.json [--phase1 …/text_data.csv]

Prints (markdown) per statement: corpus notes, framework sentences and feedback comments that teach it,
precision, recall and F1 of the trained heads; then the 15 most frequent confusions (true -> predicted)
and whether the two statements share a key question. Nothing here prints note text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("evaluation", type=Path)
    ap.add_argument("--phase1", type=Path, default=None)
    ap.add_argument("--model", default="heads")
    args = ap.parse_args()

    from evidencenlp.encoder import load_embedder
    from evidencenlp.evaluation.run import EvaluationOptions, cv_training
    from evidencenlp.frameworks import load_framework_set

    ev = json.loads(args.evaluation.read_text(encoding="utf-8"))
    res = ev["results"][args.model]["statement"]
    index = load_framework_set().index(load_embedder("torch"))
    fw, corpus = cv_training(index, EvaluationOptions(train_phase1=args.phase1))
    counts = {}
    for name, frame in (("corpus", corpus), ("framework", fw[fw["origin"].str.startswith("framework")]),
                        ("feedback", fw[fw["origin"].str.startswith("phase1")])):
        counts[name] = frame["statement"].fillna("").astype(str).value_counts()
    per = sorted(res["per_class"], key=lambda c: c["f1"])
    print(f"statement accuracy {res['accuracy']:.3f}, macro-F1 {res['macro_f1']:.3f}, "
          f"top-3 {res['top3_accuracy']:.3f} (n={res['n']})\n")
    print("| statement | corpus notes | framework sentences | feedback comments | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for c in per:
        lab = c["label"]
        n = [int(counts[k].get(lab, 0)) for k in ("corpus", "framework", "feedback")]
        print(f"| {lab} | {n[0]} | {n[1]} | {n[2]} | {c['precision']:.2f} | {c['recall']:.2f} | {c['f1']:.2f} |")
    labels = res["labels"]
    conf = np.asarray(res["confusion"])
    np.fill_diagonal(conf, 0)
    order = np.dstack(np.unravel_index(np.argsort(-conf, axis=None), conf.shape))[0][:15]
    kq_of = dict(zip(index.taxonomy.statements, index.taxonomy.statement_kq))
    print("\n| true statement | suggested instead | notes | same key question |\n|---|---|---|---|")
    for i, j in order:
        if conf[i, j] == 0:
            break
        same = kq_of.get(labels[i]) == kq_of.get(labels[j])
        print(f"| {labels[i]} | {labels[j]} | {conf[i, j]} | {'yes' if same else 'no'} |")


if __name__ == "__main__":
    main()
