"""Do heads trained with bundle notes make ``evidencenlp assess`` rate an unseen bundle set better? (issues 21, 23)

Leave one set out over the nine seen bundle sets (A, C, D, E, F, G, H, I, dev; seven before H and I were seen). For each held-out set S the
classifier is trained exactly as the shipped one (``evidencenlp train --phase1 …``: the same training
frame, parameters and embedding cache; the refit on everything, without the held-out split figures)
plus the labelled notes of the other sets (weight 1.0, origin ``bundle:<folder>/<bundle>`` as in
``statement_bundle_data.py``), less any bundle note that is a near-duplicate (cosine ≥ 0.92, transitively)
of one of S's notes. S's notes are then suggested with that classifier and S's bundles rated (unreviewed)
with the library (``assess_loso.rate``), in these variants:

* ``shipped_loso``: the shipped model's suggestions, band calibration fitted on the other sets;
* ``bundle_heads_nocal``: the fold's heads, no band calibration;
* ``bundle_heads_cal``: the fold's heads, band calibration fitted on the other sets' fold
  predictions. Small leak: each other set T was predicted by the heads that held T out but were trained
  with S's notes, so S's labels reach S's calibration through T's band probabilities (not directly);
* ``bundle_heads_cal_nokq``: as ``bundle_heads_cal`` without the per key question offsets.

A control trains once with no bundle notes through the same code path and compares its suggestions on
one set with the shipped model's (key question, statement, band per note, and the model version).

    PYTHONPATH=src nice -n 19 python experiments/assess_bundle_heads_loso.py \\
        --phase1 ../shared/data/pxtextmining-phase1/text_data.csv [--only control|folds|rate] [--weights 0.5 2] \\
        [--work /tmp/bandloso] [--shipped /tmp/s29/decomp_sugg.pkl] [--out experiments/assess_bundle_heads_loso.json]

Fold suggestions are cached as pickles in ``--work`` (never in the repository); a progress line per fold
goes to ``--work``/progress.log. Prints figures only, never note text.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from assess_loso import SHIPPED, rate  # experiments/ is the script's folder
from band_calibration import bundle_suggestions, trained_on

from evidencenlp.assess import AssessOptions, load_rules
from evidencenlp.assess.bands import BandCalibration
from evidencenlp.assess.scoring import assess_location
from evidencenlp.classifier import EvidenceClassifier, with_source_weight
from evidencenlp.evaluation.assessments import (
    NO_RATING,
    Bundle,
    agreement,
    fit_bundle_calibration,
    read_bundles,
    unreviewed_records,
)
from evidencenlp.evaluation.cv import embed
from evidencenlp.evaluation.run import load_index, shipped_params
from evidencenlp.fileio import write_text_atomic
from evidencenlp.frameworks.index import FrameworkIndex
from evidencenlp.frameworks.rules import RatingRules
from evidencenlp.frameworks.taxonomy import Taxonomy
from evidencenlp.sources import NEAR_DUPLICATE, near_duplicate_groups
from evidencenlp.sources.bundles import BUNDLE_ORIGIN, bundle_rows
from evidencenlp.training import TrainingOptions, embed_texts, training_frame

ROOT = Path(__file__).resolve().parents[1]
SETS: dict[str, str] = {"A": "evaluation/assessment_bundles", "C": "evaluation/assessment_bundles_c",
                        "D": "evaluation/assessment_bundles_d", "E": "evaluation/assessment_bundles_e",
                        "F": "evaluation/assessment_bundles_f", "G": "evaluation/assessment_bundles_g",
                        "H": "evaluation/assessment_bundles_h", "I": "evaluation/assessment_bundles_i",
                        "dev": "tests/data/assessment_dev"}
BUNDLE_WEIGHT = 1.0
VARIANTS: tuple[str, ...] = ("shipped_loso", "bundle_heads_nocal", "bundle_heads_cal", "bundle_heads_cal_nokq")
LEAK = ("bundle_heads_cal: the calibration for held-out set S is fitted on the other sets' fold predictions; "
        "each other set T was predicted by heads that did not see T but were trained with S's labelled notes, "
        "so S's labels reach S's calibration indirectly (through T's band probabilities)")

Data = dict[str, list[tuple[Bundle, list[Any]]]]


class Run:
    """The training frame, its embeddings, the framework index and the bundle notes, loaded once."""

    def __init__(self, phase1: Path, work: Path) -> None:
        self.work = work
        self.index: FrameworkIndex = load_index()
        self.frame = training_frame(TrainingOptions(phase1=phase1), self.index)
        # the cache `evidencenlp train` writes and reads (encode_cached, name "training")
        self.vectors = embed_texts(self.frame["text"].tolist(), embedder=self.index.embedder)
        self.params = shipped_params()
        self.bundles: dict[str, pd.DataFrame] = {}
        self.bundle_vecs: dict[str, np.ndarray] = {}
        for short, folder in SETS.items():
            rows = bundle_rows([ROOT / folder])  # a bundle that cannot be read stops the run (DataError)
            self.bundles[short] = rows
            self.bundle_vecs[short] = embed(rows["text"].tolist(), name="bundle-notes")

    def log(self, message: str) -> None:
        """Print ``message`` and append it to the progress log (figures only)."""
        print(message, flush=True)
        with (self.work / "progress.log").open("a", encoding="utf-8") as fh:
            fh.write(f"{time.strftime('%H:%M:%S')} {message}\n")

    def extra_rows(self, held: str) -> tuple[pd.DataFrame, np.ndarray, dict[str, int]]:
        """The other sets' notes as training rows, less near-duplicates of ``held``'s notes."""
        others = [s for s in SETS if s != held]
        rows = pd.concat([self.bundles[s] for s in others], ignore_index=True)
        vecs = np.vstack([self.bundle_vecs[s] for s in others])
        test = self.bundle_vecs[held]
        groups = near_duplicate_groups(np.vstack([vecs, test]), NEAR_DUPLICATE)
        keep = ~np.isin(groups[:len(rows)], groups[len(rows):])
        counts = {"bundle_notes_other_sets": len(rows), "dropped_near_duplicates_of_held_out": int((~keep).sum()),
                  "bundle_notes_used": int(keep.sum())}
        return rows[keep].assign(group="").reset_index(drop=True), vecs[keep], counts

    def fit(self, extra: pd.DataFrame | None, extra_vecs: np.ndarray | None, weight: float = BUNDLE_WEIGHT
            ) -> EvidenceClassifier:
        """The refit of :func:`evidencenlp.training.train` on the training frame (+ ``extra`` rows).

        As ``train``: ``EvidenceClassifier(**params).bind_index(index).fit(texts, frame, embeddings, origin)``;
        ``weight`` is the bundle notes' sample weight. The held-out split (its figures, review thresholds and risk model) is skipped: they set only
        ``needs_review`` and the explanations' weak-match mark, which the ratings do not read.
        """
        params = dict(self.params)
        frame, vecs = self.frame, self.vectors
        if extra is not None and extra_vecs is not None and len(extra):
            frame = pd.concat([frame, extra], ignore_index=True)
            vecs = np.vstack([vecs, extra_vecs])
            # the shipped parameters may weigh the bundle notes already: replace that weight
            params["source_weights"] = with_source_weight(params.get("source_weights", ()), BUNDLE_ORIGIN, weight)
        clf = EvidenceClassifier(**params).bind_index(self.index)
        return clf.fit(frame["text"].tolist(), frame, embeddings=vecs, origin=frame["origin"].tolist())

    def suggest(self, clf: EvidenceClassifier, folder: str) -> tuple[list[tuple[Bundle, list[Any]]], str]:
        """``[(bundle, suggestions)]`` of one folder with ``clf`` (as ``band_calibration.bundle_suggestions``)."""
        from evidencenlp.suggest import Suggester

        suggester = Suggester(self.index, clf)
        bundles, _ = read_bundles(ROOT / folder, load_rules()[2])
        return ([(b, suggester.suggest_many([n.text for n in b.notes], sentences=False, evidence=False))
                 for b in bundles], str(suggester.model_version))


def cached(path: Path, make: Any) -> Any:
    """The pickle at ``path``, made with ``make()`` when absent (written atomically)."""
    if path.is_file():
        with path.open("rb") as fh:
            return pickle.load(fh)
    value = make()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(value, fh)
    tmp.replace(path)
    return value


def note_figures(items: list[tuple[Bundle, list[Any]]], taxonomy: Taxonomy,
                 calibration: BandCalibration | None = None) -> dict[str, Any]:
    """Per-note agreement of the suggestions with the writers' labels (an abstention counts as wrong); with a
    ``calibration``, also the band accuracy of the calibrated probabilities' most probable band (what the
    ratings use; the key question offset is that of the suggested statement's key question)."""
    n = kq = st = band = abstained = cal_band = 0
    bands: Counter[str] = Counter()  # "writer's band>suggested band"
    for bundle, suggestions in items:
        for note, s in zip(bundle.notes, suggestions):
            n += 1
            if s is None or s.statement is None or s.band is None or s.key_question is None:
                abstained += 1
                continue
            kq += s.key_question.label == note.key_question
            st += s.statement.label == note.statement
            band += s.band.label == note.band
            bands[f"{note.band}>{s.band.label}"] += 1
            if calibration is not None:
                probs = [float(s.band.probabilities.get(b, 0.0)) for b in taxonomy.bands]
                calibrated = calibration.calibrate(probs, taxonomy.key_question_of(s.statement.label))
                cal_band += taxonomy.bands[int(np.argmax(calibrated))] == note.band
    return {"notes": n, "abstained": abstained, "key_question_correct": kq, "statement_correct": st,
            "band_correct": band, "key_question_accuracy": round(kq / n, 4), "statement_accuracy": round(st / n, 4),
            "band_accuracy": round(band / n, 4), "band_confusion": dict(sorted(bands.items())),
            **({"calibrated_band_correct": cal_band, "calibrated_band_accuracy": round(cal_band / n, 4)}
               if calibration is not None else {})}


def agree_notes(a: list[tuple[Bundle, list[Any]]], b: list[tuple[Bundle, list[Any]]]) -> dict[str, int]:
    """How many notes' suggested key question, statement and band are the same in ``a`` and ``b``."""
    out = {"notes": 0, "key_question": 0, "statement": 0, "band": 0, "band_probabilities_max_abs_diff_x1e6": 0}
    worst = 0.0
    for (ba, sa), (bb, sb) in zip(a, b, strict=True):
        assert ba.id == bb.id
        for x, y in zip(sa, sb, strict=True):
            out["notes"] += 1
            if x is None or y is None or x.statement is None or y.statement is None:
                same = (x is None) == (y is None)
                out["key_question"] += same
                out["statement"] += same
                out["band"] += same
                continue
            assert x.key_question is not None and y.key_question is not None and x.band and y.band
            out["key_question"] += x.key_question.label == y.key_question.label
            out["statement"] += x.statement.label == y.statement.label
            out["band"] += x.band.label == y.band.label
            worst = max(worst, *(abs(p - y.band.probabilities.get(k, 0.0)) for k, p in x.band.probabilities.items()))
    out["band_probabilities_max_abs_diff_x1e6"] = round(worst * 1e6)
    return out


def rate_set(items: list[tuple[Bundle, list[Any]]], rules: RatingRules, calibration: BandCalibration | None
             ) -> dict[str, Any]:
    """Unreviewed key question and overall agreement of one set's bundles, and the key questions with notes
    (by the writers' labels) left unrated without a reason, as ``evaluate --assessments`` counts them."""
    tax = rules.taxonomy
    rows, unexplained = [], 0
    for bundle, suggestions in items:
        records = unreviewed_records(bundle, suggestions, rules)
        got, overall = rate(bundle, records, rules, calibration)
        rows.append((bundle, got, overall))
        loc = assess_location(bundle.id, records, rules, AssessOptions(use_encoder=False), calibration)
        with_notes = {n.key_question for n in bundle.notes}
        unexplained += sum(1 for k, v in loc.key_questions.items()
                           if k in with_notes and v.rating is None and not v.no_rating_reason)
    kq = agreement([(b.expected[k], g[k]) for b, g, _ in rows for k in tax.key_questions], rules)
    ov = agreement([(b.expected_overall, o) for b, _, o in rows], rules)
    worst, second = tax.bands[-1], tax.bands[-2]
    too_kind = [b.id for b, _, o in rows if b.expected_overall == worst and o != NO_RATING
                and rules.band_rank(o) > rules.band_rank(second)]
    kq_conf = Counter(f"{b.expected[k]}>{g[k]}" for b, g, _ in rows for k in tax.key_questions)
    ov_conf = Counter(f"{b.expected_overall}>{o}" for b, _, o in rows)
    return {"kq_exact": kq["exact_count"], "kq_within_one": kq["within_one_count"], "kq_n": kq["n"],
            "overall_exact": ov["exact_count"], "overall_within_one": ov["within_one_count"], "bundles": ov["n"],
            "inadequate_better_than_ri": too_kind, "kq_with_notes_unrated_without_reason": unexplained,
            "kq_confusion": dict(sorted(kq_conf.items())), "overall_confusion": dict(sorted(ov_conf.items())),
            # per bundle: key questions exact, overall exact (for the paired comparison)
            "per_bundle": {b.id: [sum(g[k] == b.expected[k] for k in tax.key_questions), int(o == b.expected_overall)]
                           for b, g, o in rows}}


def pool(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts summed over sets, with the shares."""
    out: dict[str, Any] = {}
    for part in parts:
        for k, v in part.items():
            if k == "per_bundle":
                continue
            if isinstance(v, list):
                out[k] = out.get(k, []) + v
            elif isinstance(v, dict):
                out[k] = dict(sorted((Counter(out.get(k, {})) + Counter(v)).items()))
            elif not k.endswith("_accuracy"):
                out[k] = out.get(k, 0) + v
    if "kq_n" in out:
        out["kq_exact_share"] = round(out["kq_exact"] / out["kq_n"], 4)
        out["kq_within_one_share"] = round(out["kq_within_one"] / out["kq_n"], 4)
        out["overall_exact_share"] = round(out["overall_exact"] / out["bundles"], 4)
        out["overall_within_one_share"] = round(out["overall_within_one"] / out["bundles"], 4)
    if "notes" in out:
        for task in ("key_question", "statement", "band", "calibrated_band"):
            if f"{task}_correct" not in out:
                continue
            out[f"{task}_accuracy"] = round(out[f"{task}_correct"] / out["notes"], 4)
    return out


def variant_figures(name: str, rules: RatingRules, shipped: Data, shipped_version: str,
                    folds: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One variant's figures per held-out set (ratings and note-level) and pooled over the sets."""
    fold_data: Data = {SETS[s]: f["items"] for s, f in folds.items()}
    per: dict[str, Any] = {}
    for short, folder in SETS.items():
        if short not in folds:
            continue
        others = [SETS[s] for s in folds if s != short]
        cal: BandCalibration | None
        if name == "shipped_loso":
            items = shipped[folder]
            cal = fit_bundle_calibration(shipped, [SETS[s] for s in SETS if s != short], rules, shipped_version)
        elif name == "bundle_heads_nocal":
            items, cal = fold_data[folder], None
        else:
            items = fold_data[folder]
            cal = fit_bundle_calibration(fold_data, others, rules, folds[short]["model_version"],
                                         by_key_question=name != "bundle_heads_cal_nokq")
        per[short] = {"ratings": rate_set(items, rules, cal), "notes": note_figures(items, rules.taxonomy, cal)}
    return {"held_out": per, "pooled": {"ratings": pool([p["ratings"] for p in per.values()]),
                                        "notes": pool([p["notes"] for p in per.values()])}}


def paired(variant: dict[str, Any], baseline: dict[str, Any], draws: int = 10000, seed: int = 0
           ) -> dict[str, Any]:
    """Difference variant - baseline in key questions exact and overall exact, with a 95% bootstrap interval
    over bundles (resampled within each held-out set) and the bundles whose overall rating changed."""
    diffs = []
    changed = {"overall_right_only_in_variant": 0, "overall_right_only_in_baseline": 0}
    for short, held in variant["held_out"].items():
        a, b = held["ratings"]["per_bundle"], baseline["held_out"][short]["ratings"]["per_bundle"]
        rows = np.array([[a[i][0] - b[i][0], a[i][1] - b[i][1]] for i in sorted(a)], dtype=float)
        diffs.append(rows)
        changed["overall_right_only_in_variant"] += int((rows[:, 1] > 0).sum())
        changed["overall_right_only_in_baseline"] += int((rows[:, 1] < 0).sum())
    rng = np.random.default_rng(seed)
    boot = np.zeros((draws, 2))
    for rows in diffs:  # stratified: each set keeps its number of bundles
        boot += rows[rng.integers(0, len(rows), size=(draws, len(rows)))].sum(axis=1)
    total = np.vstack(diffs).sum(axis=0)
    low, high = np.percentile(boot, [2.5, 97.5], axis=0)
    return {"kq_exact_diff": int(total[0]), "kq_exact_diff_95": [int(low[0]), int(high[0])],
            "overall_exact_diff": int(total[1]), "overall_exact_diff_95": [int(low[1]), int(high[1])], **changed,
            "bootstrap": f"{draws} resamples of bundles within each held-out set, seed {seed}"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--work", type=Path, default=Path("/tmp/bandloso"))
    ap.add_argument("--shipped", type=Path, default=Path("/tmp/s29/decomp_sugg.pkl"))
    ap.add_argument("--control-set", default="A", choices=list(SETS))
    ap.add_argument("--only", choices=("control", "folds", "rate"), default=None)
    ap.add_argument("--weights", type=float, nargs="*", default=[],
                    help="other sample weights of the bundle notes to train folds with (exploratory)")
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2],
                    help="posterior seeds (rating_rules.evidence.posterior_seed) to re-rate with besides the shipped 0")
    ap.add_argument("--out", type=Path, default=ROOT / "experiments" / "assess_bundle_heads_loso.json")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    shipped, shipped_version = bundle_suggestions(list(SETS.values()), args.shipped)
    missing = [f for f in SETS.values() if f not in shipped]
    if missing:
        raise SystemExit(f"{args.shipped}: no suggestions for {', '.join(missing)}")
    if trained_on(list(SETS.values()), shipped_version):  # e.g. no --shipped cache: the models folder's heads
        raise SystemExit(f"the suggestions are {shipped_version}'s, trained on these sets' notes: shipped_loso and the "
                         "control need heads trained without bundle notes (heads-09df109422e0): give --shipped PKL "
                         "of their suggestions")
    report: dict[str, Any] = {"sets": SETS, "shipped_model_version": shipped_version, "bundle_weight": BUNDLE_WEIGHT,
                              "leak": LEAK}
    run: Run | None = None

    def get_run() -> Run:
        nonlocal run
        if run is None:
            run = Run(args.phase1, args.work)
        return run

    # the control: no bundle notes, through the same code path
    def control() -> dict[str, Any]:
        r = get_run()
        t0 = time.time()
        clf = r.fit(None, None)
        fit_s = time.time() - t0
        items, version = r.suggest(clf, SETS[args.control_set])
        r.log(f"control: fit {fit_s:.0f} s, total {time.time() - t0:.0f} s, model {version} "
              f"(shipped {shipped_version})")
        return {"items": items, "model_version": version, "fit_seconds": round(fit_s),
                "seconds": round(time.time() - t0), "training_rows": len(r.frame)}

    if args.only in (None, "control") or (args.only == "rate" and (args.work / "control.pkl").is_file()):
        c = cached(args.work / "control.pkl", control)
        agree = agree_notes(c["items"], shipped[SETS[args.control_set]])
        report["control"] = {"set": args.control_set, "model_version": c["model_version"],
                             "same_model_version_as_shipped": c["model_version"] == shipped_version,
                             "training_rows": c["training_rows"], "fit_seconds": c["fit_seconds"],
                             "agreement_with_shipped": agree}
        print(f"control on {args.control_set}: model {c['model_version']} (shipped {shipped_version}); agree "
              f"kq {agree['key_question']}/{agree['notes']} statement {agree['statement']}/{agree['notes']} "
              f"band {agree['band']}/{agree['notes']}; max band probability diff "
              f"{agree['band_probabilities_max_abs_diff_x1e6']}e-6", flush=True)

    def make_folds(weight: float) -> dict[str, dict[str, Any]]:
        """Each held-out set's fold (cached): suggestions of heads trained with the other sets' notes at ``weight``."""
        out: dict[str, dict[str, Any]] = {}
        tag = "" if weight == BUNDLE_WEIGHT else f"_w{weight:g}"
        for short, folder in SETS.items():
            path = args.work / f"fold_{short}{tag}.pkl"
            if args.only == "rate" and not path.is_file():
                continue

            def make(short: str = short, folder: str = folder) -> dict[str, Any]:
                r = get_run()
                t0 = time.time()
                extra, extra_vecs, counts = r.extra_rows(short)
                clf = r.fit(extra, extra_vecs, weight)
                fit_s = time.time() - t0
                items, version = r.suggest(clf, folder)
                r.log(f"fold {short}{tag}: {counts['bundle_notes_used']} bundle notes (weight {weight:g}; "
                      f"{counts['dropped_near_duplicates_of_held_out']} near-duplicates dropped), fit {fit_s:.0f} s, "
                      f"total {time.time() - t0:.0f} s, model {version}")
                return {"items": items, "model_version": version, "fit_seconds": round(fit_s),
                        "seconds": round(time.time() - t0), **counts}

            out[short] = cached(path, make)
        return out

    folds: dict[str, dict[str, Any]] = {}
    by_weight: dict[float, dict[str, dict[str, Any]]] = {}
    if args.only in (None, "folds", "rate"):
        folds = make_folds(BUNDLE_WEIGHT)
        for weight in args.weights:
            by_weight[weight] = make_folds(weight)
    if args.only in ("control", "folds"):
        return

    base = load_rules()[2]
    rules = replace(base, evidence=replace(base.evidence, **SHIPPED))
    report["rules_evidence"] = rules.evidence.to_dict()
    report["folds"] = {s: {k: v for k, v in f.items() if k != "items"} for s, f in folds.items()}
    report["variants"] = {}
    for name in VARIANTS:
        report["variants"][name] = variant_figures(name, rules, shipped, shipped_version, folds)
        p, n = report["variants"][name]["pooled"]["ratings"], report["variants"][name]["pooled"]["notes"]
        print(f"{name:22s} kq {p['kq_exact']}/{p['kq_n']} ({p['kq_exact_share']:.3f}) within1 "
              f"{p['kq_within_one_share']:.3f} overall {p['overall_exact']}/{p['bundles']} "
              f"({p['overall_exact_share']:.3f}) I>RI {len(p['inadequate_better_than_ri'])} unexplained "
              f"{p['kq_with_notes_unrated_without_reason']} | notes band {n['band_accuracy']:.3f} kq "
              f"{n['key_question_accuracy']:.3f} statement {n['statement_accuracy']:.3f} | "
              + " ".join(f"{s}:{v['ratings']['kq_exact']}/{v['ratings']['overall_exact']}"
                         for s, v in report["variants"][name]["held_out"].items()),
              flush=True)
    report["paired_vs_shipped_loso"] = {}
    for name in VARIANTS[1:]:
        d = paired(report["variants"][name], report["variants"]["shipped_loso"])
        report["paired_vs_shipped_loso"][name] = d
        print(f"{name:22s} vs shipped_loso: kq exact {d['kq_exact_diff']:+d} [{d['kq_exact_diff_95'][0]:+d}, "
              f"{d['kq_exact_diff_95'][1]:+d}], overall exact {d['overall_exact_diff']:+d} "
              f"[{d['overall_exact_diff_95'][0]:+d}, {d['overall_exact_diff_95'][1]:+d}] (right only here "
              f"{d['overall_right_only_in_variant']}, only in shipped_loso {d['overall_right_only_in_baseline']})",
              flush=True)
    if by_weight:  # exploratory: other weights of the bundle notes (chosen here, they would be tuned on the test)
        report["weight_sensitivity"] = {}
        for weight, wfolds in by_weight.items():
            got = {}
            for name in VARIANTS[1:]:
                fig = variant_figures(name, rules, shipped, shipped_version, wfolds)
                r, n = fig["pooled"]["ratings"], fig["pooled"]["notes"]
                d = paired(fig, report["variants"]["shipped_loso"])
                got[name] = {**{k: r[k] for k in ("kq_exact", "kq_within_one", "kq_n", "overall_exact", "bundles")},
                             "inadequate_better_than_ri": r["inadequate_better_than_ri"],
                             "notes": {k: n[k] for k in ("band_accuracy", "key_question_accuracy", "statement_accuracy")},
                             "paired_vs_shipped_loso": d}
                print(f"weight {weight:g} {name:22s} kq {r['kq_exact']}/{r['kq_n']} overall {r['overall_exact']}/"
                      f"{r['bundles']} | notes band {n['band_accuracy']:.3f} statement {n['statement_accuracy']:.3f} | "
                      f"vs shipped_loso kq {d['kq_exact_diff']:+d} {d['kq_exact_diff_95']} overall "
                      f"{d['overall_exact_diff']:+d} {d['overall_exact_diff_95']}", flush=True)
            report["weight_sensitivity"][f"{weight:g}"] = {
                "folds": {s: {k: v for k, v in f.items() if k != "items"} for s, f in wfolds.items()}, **got}
    if args.seeds:  # are the overall differences bigger than the posterior draws' own noise?
        report["posterior_seeds"] = {}
        for seed in args.seeds:
            seeded = replace(rules, evidence=replace(rules.evidence, posterior_seed=seed))
            got = {}
            for name in ("shipped_loso", "bundle_heads_cal", "bundle_heads_cal_nokq"):
                r = variant_figures(name, seeded, shipped, shipped_version, folds)["pooled"]["ratings"]
                got[name] = {k: r[k] for k in ("kq_exact", "kq_within_one", "kq_n", "overall_exact", "bundles")}
                print(f"seed {seed} {name:22s} kq {r['kq_exact']}/{r['kq_n']} overall {r['overall_exact']}/"
                      f"{r['bundles']}", flush=True)
            report["posterior_seeds"][str(seed)] = got
    write_text_atomic(args.out, json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
