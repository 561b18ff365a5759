"""Nested leave-one-set-out test of a band adapter fitted on labelled bundle notes (issue 21).

The adapter is a multinomial logistic regression whose inputs are the shipped band head's log probabilities,
the note's suggested key question (one-hot) and its sentence embedding (the shipped encoder, times
``scale``), with L2 strength ``1/C``. Its outputs replace the calibrated probabilities; the location
adaptation (reference mix: the adapter's training band mix) and the posterior ratings are as shipped.

Per held-out set: every candidate (the shipped calibration and each (C, scale) adapter) is scored on the
other four sets by inner leave-one-set-out (fitted on three, rated on the fourth), the best by (overall
exact, key questions exact) is chosen, refitted on the four and applied to the held-out set. Also reported:
each candidate's plain leave-one-set-out figures and the note-level confusion. No note text is printed.

    PYTHONPATH=src:experiments python experiments/band_adapter_nested.py --cache /tmp/rating5/sugg.pkl \
        --embeddings /tmp/rating6/emb.npz --out experiments/band_adapter_nested.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from assess_loso import SETS, load_cache, rate, score

from evidencenlp.assess import load_rules
from evidencenlp.assess.bands import BandCalibration
from evidencenlp.evaluation.assessments import fit_bundle_calibration, unreviewed_records

CS = (0.1, 1.0)
SCALES = (3.0, 10.0)
CANDIDATES: list[str] = ["shipped"] + [f"adapter_C{c}_s{s:g}" for c in CS for s in SCALES]


def note_table(data: dict[str, list[Any]], emb: dict[str, np.ndarray], rules: Any) -> dict[str, dict[str, Any]]:
    """Per folder: the notes the tool placed (band_notes' rule): log probs, kq index, embedding, label, keys."""
    bands, kqs = rules.taxonomy.bands, list(rules.taxonomy.key_questions)
    out = {}
    for folder in SETS.values():
        lp, kq, ev, y, keys = [], [], [], [], []
        for bundle, sugg in data[folder]:
            for note, s in zip(bundle.notes, sugg):
                if s is not None and s.band is not None and s.band.probabilities and s.statement is not None:
                    lp.append(np.log(np.maximum([float(s.band.probabilities.get(b, 0.0)) for b in bands], 1e-6)))
                    kq.append(kqs.index(rules.taxonomy.key_question_of(s.statement.label)))
                    ev.append(emb[f"{folder}|{bundle.id}|{note.id}"])
                    y.append(bands.index(note.band))
                    keys.append((bundle.id, note.id))
        out[folder] = {"lp": np.array(lp), "kq": np.eye(len(kqs))[kq], "emb": np.array(ev), "y": np.array(y),
                       "keys": keys}
    return out


def features(t: dict[str, Any], scale: float) -> np.ndarray:
    parts = [t["lp"], t["kq"]] + ([scale * t["emb"]] if scale > 0 else [])
    return np.hstack(parts)


def fit_adapter(notes: dict[str, dict[str, Any]], folders: list[str], c: float, scale: float) -> tuple[Any, np.ndarray]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([features(notes[f], scale) for f in folders])
    y = np.concatenate([notes[f]["y"] for f in folders])
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    prior = np.bincount(y, minlength=4) / len(y)
    return model, prior


def identity(bands: tuple[str, ...], prior: np.ndarray) -> BandCalibration:
    n = len(bands)
    return BandCalibration(tuple(bands), tuple(tuple(float(i == j) for j in range(n)) for i in range(n)),
                           (0.0,) * n, tuple(float(v) for v in prior), "any", "adapter", 0)


class Method:
    """One fitted method: the shipped calibration or an adapter, applied to a folder's bundles."""

    def __init__(self, name: str, data: Any, notes: Any, train: list[str], version: str, rules: Any):
        self.name, self.rules, self.notes = name, rules, notes
        if name == "shipped":
            self.cal = fit_bundle_calibration(data, train, rules, version)
            self.model = None
        else:
            c, s = name.removeprefix("adapter_C").split("_s")
            self.model, prior = fit_adapter(notes, train, float(c), float(s))
            self.scale = float(s)
            self.cal = identity(tuple(rules.taxonomy.bands), prior)

    def note_probs(self, folder: str) -> np.ndarray:
        t = self.notes[folder]
        if self.model is None:
            kqs = list(self.rules.taxonomy.key_questions)
            return np.array([self.cal.calibrate(np.exp(lp), kqs[int(k.argmax())]) for lp, k in zip(t["lp"], t["kq"])])
        return np.asarray(self.model.predict_proba(features(t, self.scale)))

    def rate_folder(self, data: Any, folder: str) -> list[tuple[Any, dict[str, str], str]]:
        bands = self.rules.taxonomy.bands
        new = {}
        if self.model is not None:
            probs = self.note_probs(folder)
            new = {k: tuple((b, float(v)) for b, v in zip(bands, p)) for k, p in zip(self.notes[folder]["keys"], probs)}
        rows = []
        for bundle, sugg in data[folder]:
            recs = unreviewed_records(bundle, sugg, self.rules)
            if new:
                recs = [replace(r, band_probabilities=new[(bundle.id, r.note)]) if (bundle.id, r.note) in new else r
                        for r in recs]
            rows.append((bundle, *rate(bundle, recs, self.rules, self.cal)))
        return rows


def confusion(y: np.ndarray, probs: np.ndarray) -> list[list[int]]:
    pred = probs.argmax(axis=1)
    return [[int(((y == i) & (pred == j)).sum()) for j in range(4)] for i in range(4)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--embeddings", type=Path, required=True)
    parser.add_argument("--candidates", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data, version = load_cache(args.cache)
    z = np.load(args.embeddings, allow_pickle=False)
    emb = dict(zip(z["keys"].tolist(), z["vectors"]))
    rules = load_rules()[2]
    notes = note_table(data, emb, rules)
    names = args.candidates.split(",") if args.candidates else CANDIDATES
    folders = list(SETS.values())
    report: dict[str, Any] = {"model_version": version, "candidates": names, "outer": {}, "inner": {}, "chosen": {},
                              "note_confusion": {}}
    t0 = time.time()
    # plain leave-one-set-out of every candidate (the outer figures)
    outer_rows: dict[str, dict[str, list[Any]]] = {n: {} for n in names}
    for name in names:
        conf = np.zeros((4, 4), dtype=int)
        for short, held in SETS.items():
            m = Method(name, data, notes, [f for f in folders if f != held], version, rules)
            outer_rows[name][short] = m.rate_folder(data, held)
            conf += np.array(confusion(notes[held]["y"], m.note_probs(held)))
        report["note_confusion"][name] = conf.tolist()
        per = {s: score(r, rules) for s, r in outer_rows[name].items()}
        pooled = score([x for r in outer_rows[name].values() for x in r], rules)
        report["outer"][name] = {"held_out": per, "pooled": pooled}
        print(f"{name:22s} kq {pooled['kq_exact']} w1 {pooled['kq_within_one']} overall {pooled['overall_exact']} "
              f"I>RI {len(pooled['inadequate_better_than_ri'])} | "
              + " ".join(f"{s}:{v['kq_exact']}/{v['overall_exact']}" for s, v in per.items())
              + f" | O->O {conf[0, 0]}/{conf[0].sum()} I->I {conf[3, 3]}/{conf[3].sum()} acc {np.trace(conf)}/{conf.sum()}"
              f" [{time.time() - t0:.0f}s]", flush=True)
    # nested: choose on the other sets by inner leave-one-set-out
    for short, held in SETS.items():
        rest = [f for f in folders if f != held]
        scores = {}
        for name in names:
            rows = []
            for other in rest:
                m = Method(name, data, notes, [f for f in rest if f != other], version, rules)
                rows += m.rate_folder(data, other)
            s = score(rows, rules)
            scores[name] = [s["overall_exact"], s["kq_exact"], s["kq_within_one"]]
        chosen = max(names, key=lambda n: (scores[n][:2], -names.index(n)))
        report["inner"][short], report["chosen"][short] = scores, chosen
        print(f"held out {short}: chosen {chosen} inner {scores[chosen]} (shipped {scores.get('shipped')}) "
              f"[{time.time() - t0:.0f}s]", flush=True)
    nested_rows = [x for s in SETS for x in outer_rows[report["chosen"][s]][s]]
    report["nested"] = {"pooled": score(nested_rows, rules),
                        "held_out": {s: score(outer_rows[report["chosen"][s]][s], rules) for s in SETS}}
    p = report["nested"]["pooled"]
    print(f"NESTED kq {p['kq_exact']}/{p['kq_n']} w1 {p['kq_within_one']} overall {p['overall_exact']}/{p['bundles']} "
          f"I>RI {len(p['inadequate_better_than_ri'])} chosen {report['chosen']}", flush=True)
    if args.out is not None:
        tmp = args.out.with_suffix(".tmp")
        tmp.write_text(json.dumps(report, indent=1, default=str) + "\n", encoding="utf-8")
        tmp.replace(args.out)


if __name__ == "__main__":
    main()
