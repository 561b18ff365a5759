"""Fit the shipped band adapter (models/band_adapter.json) on the labelled notes of all five bundle sets.

The hyper-parameters are the candidate that ``experiments/band_adapter_nested.py`` ranks best by
leave-one-set-out over all five sets (overall exact, then key questions exact: the criterion its inner
folds use), and the nested figures are written beside them in the file. Embeddings: the ``.npz`` that
script reads (the shipped torch encoder, one row per note). No note text is printed or stored: the file
keeps a hash of the notes' labels and text hashes.

    PYTHONPATH=src:experiments python experiments/fit_band_adapter.py --cache /tmp/rating5/sugg.pkl \
        --embeddings /tmp/rating6/emb.npz --nested experiments/band_adapter_nested.json [--out models/band_adapter.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from assess_loso import SETS, load_cache

from evidencenlp.assess import load_rules
from evidencenlp.assess.band_adapter import ADAPTER_FILE, fit_band_adapter, save_band_adapter
from evidencenlp.encoder.base import ENCODER_NAME
from evidencenlp.paths import models_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--embeddings", type=Path, required=True)
    parser.add_argument("--nested", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data, version = load_cache(args.cache)
    report = json.loads(args.nested.read_text(encoding="utf-8"))
    if report["model_version"] != version:
        raise SystemExit(f"{args.nested}: made for {report['model_version']}, not {version}")
    z = np.load(args.embeddings, allow_pickle=False)
    emb = dict(zip(z["keys"].tolist(), z["vectors"]))
    rules = load_rules()[2]
    tax = rules.taxonomy
    adapters = [n for n in report["candidates"] if n != "shipped"]
    best = max(adapters, key=lambda n: (report["outer"][n]["pooled"]["overall_exact"],
                                        report["outer"][n]["pooled"]["kq_exact"], -adapters.index(n)))
    c, scale = (float(v) for v in best.removeprefix("adapter_C").split("_s"))
    probs, kqs, vectors, labels, texts = [], [], [], [], []
    for folder in SETS.values():
        for bundle, sugg in data[folder]:
            for note, s in zip(bundle.notes, sugg):
                if s is not None and s.band is not None and s.band.probabilities and s.statement is not None:
                    probs.append([float(s.band.probabilities.get(b, 0.0)) for b in tax.bands])
                    kqs.append(tax.key_question_of(s.statement.label))
                    vectors.append(emb[f"{folder}|{bundle.id}|{note.id}"])
                    labels.append(note.band)
                    texts.append(note.text)
    keys = ("kq_exact", "kq_within_one", "kq_n", "overall_exact", "bundles", "inadequate_better_than_ri")
    metrics = {"method": "nested leave-one-set-out over five bundle sets (experiments/band_adapter_nested.py)",
               "chosen_per_held_out_set": report["chosen"],
               "nested": {k: report["nested"]["pooled"][k] for k in keys},
               "shipped_calibration": {k: report["outer"]["shipped"]["pooled"][k] for k in keys},
               "loso_this_candidate": {k: report["outer"][best]["pooled"][k] for k in keys}}
    adapter = fit_band_adapter(np.array(probs), kqs, np.array(vectors), labels, texts, tax.bands, tax.key_questions,
                               version, ENCODER_NAME, "the labelled notes of the assessment bundles in "
                               + ", ".join(SETS.values()), c=c, scale=scale,
                               hyperparameters={"chosen_by": "leave-one-set-out over the five sets, best (overall "
                                                "exact, key questions exact) among " + ", ".join(adapters),
                                                "solver": "sklearn LogisticRegression lbfgs, L2"},
                               metrics=metrics)
    out = args.out or models_dir() / ADAPTER_FILE
    save_band_adapter(adapter, out)
    print(f"{out}: {best} on {adapter.n_notes} notes, hash {adapter.training_data_hash[:12]}")


if __name__ == "__main__":
    main()
