"""Do the assessment bundles' labelled notes help statements when they join every CV training fold?

    python experiments/statement_bundle_data.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv \\
        --variant bundles-w1.0 --weight 1.0 [--statements S ...] [--transfer]

Issue 23. The corpus cross-validation of ``evidencenlp evaluate --train-phase1 … --only heads`` (same
folds, seed, hyper-parameters, framework sentences and phase-1 comments) with the notes of the assessment
bundles (``evaluation/assessment_bundles*``, ``tests/data/assessment_dev``: text, key question,
statement, evidence category, band each) added to ``extra``: they join every training fold and are never
tested; a bundle note is kept out of a fold when it is a near-duplicate (cosine ≥ 0.92, transitively) of
one of that fold's test notes, exactly as framework sentences and phase-1 comments are. Their ``origin``
is ``bundle:<folder>/<bundle id>``, so ``--weight`` sets their sample weight through the heads'
``source_weights`` (corpus notes weigh 1, framework sentences 0.3). ``--statements`` keeps only the
bundle notes of those statements. ``--variant none`` adds nothing (the shipped figure).

``--transfer`` also fits the classifier once on everything ``evidencenlp train --phase1`` uses (with the
variant's bundle notes, less any near-duplicate of a test paragraph) and scores it on the 318 CQC
inspection report paragraphs of ``training/inspection`` (key question macro-F1 with a 95% bootstrap
interval, as ``evaluate --transfer inspection``): a test that involves no bundle note.

Each run adds (or replaces) its variant in ``--out`` (default ``experiments/statement_bundle_data.json``),
written atomically. Prints figures and counts only, never note text.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.evaluation.cv import cross_validate, embed, plan_folds
from evidencenlp.evaluation.run import EvaluationOptions, cv_training, load_index, shipped_params
from evidencenlp.sources import NEAR_DUPLICATE, near_duplicate_groups
from evidencenlp.sources.bundles import BUNDLE_ORIGIN, bundle_rows

ROOT = Path(__file__).resolve().parents[1]
BUNDLE_DIRS = ("evaluation/assessment_bundles", "evaluation/assessment_bundles_c", "evaluation/assessment_bundles_d",
               "evaluation/assessment_bundles_e", "evaluation/assessment_bundles_f", "tests/data/assessment_dev")
WEAK = ("responsive.person-centred-care", "safe.safe-systems-pathways-transitions",
        "responsive.care-provision-integration-and-continuity",
        "effective.how-staff-teams-and-services-work-together", "caring.treating-people-as-individuals")
def task_figures(ev_dict: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of the heads and the F1 of every statement from an evaluation's ``to_dict()``."""
    r = ev_dict["results"]["heads"]
    per = {c["label"]: c["f1"] for c in r["statement"]["per_class"]}
    return {"statement_accuracy": r["statement"]["accuracy"], "statement_macro_f1": r["statement"]["macro_f1"],
            "statement_top3": r["statement"]["top3_accuracy"],
            "key_question_accuracy": r["key_question"]["accuracy"],
            "key_question_macro_f1": r["key_question"]["macro_f1"],
            "band_accuracy": r["band"]["accuracy"], "band_qwk": r["band"]["qwk"],
            "evidence_category_macro_f1": r["evidence_category"]["macro_f1"],
            "weak_statement_f1": {s: per.get(s) for s in WEAK}, "statement_f1": per}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--phase1", type=Path, required=True)
    ap.add_argument("--variant", required=True, help="name of the run in the output ('none': no bundle notes)")
    ap.add_argument("--weight", type=float, default=1.0, help="sample weight of the bundle notes")
    ap.add_argument("--statements", nargs="*", default=None, help="keep only bundle notes of these statements "
                    "('weak': the five weak statements)")
    ap.add_argument("--bundles", type=Path, nargs="*", default=[ROOT / d for d in BUNDLE_DIRS])
    ap.add_argument("--transfer", action="store_true", help="also score on the inspection report paragraphs")
    ap.add_argument("--skip-cv", action="store_true", help="only the transfer figure")
    ap.add_argument("--out", type=Path, default=ROOT / "experiments" / "statement_bundle_data.json")
    args = ap.parse_args()
    started = time.time()

    def say(message: str) -> None:
        print(message, flush=True)

    index = load_index()
    fw, corpus = cv_training(index, EvaluationOptions(train_phase1=args.phase1))
    assert fw is not None
    both = pd.concat([fw, corpus], ignore_index=True)
    vecs = embed(both["text"].tolist(), name="training")  # the cache `evaluate` and `train` share
    n_fw = len(fw)
    fw_vecs, corpus_vecs = vecs[:n_fw], vecs[n_fw:]
    params = shipped_params()
    run: dict[str, Any] = {"variant": args.variant, "weight": args.weight}

    extra, extra_vecs = fw, fw_vecs
    bundles = pd.DataFrame()
    bundle_vecs = np.zeros((0, vecs.shape[1]), dtype=np.float32)
    if args.variant != "none":
        bundles = bundle_rows(args.bundles)  # a bundle that cannot be read stops the run (DataError)
        run["bundle_notes_read"] = len(bundles)
        bundle_vecs = embed(bundles["text"].tolist(), name="bundle-notes")
        if args.statements:
            wanted = set(WEAK) if args.statements == ["weak"] else set(args.statements)
            keep = bundles["statement"].isin(wanted).to_numpy()
            bundles, bundle_vecs = bundles[keep].reset_index(drop=True), bundle_vecs[keep]
            run["statements"] = sorted(wanted)
        run["bundle_notes_used"] = len(bundles)
        extra = pd.concat([fw, bundles], ignore_index=True)
        extra_vecs = np.vstack([fw_vecs, bundle_vecs])
        params["source_weights"] = (*tuple(params.get("source_weights", ())), (BUNDLE_ORIGIN, float(args.weight)))
        say(f"{len(bundles):,} bundle notes join the training data (weight {args.weight})")
    run["params"] = {k: v for k, v in params.items() if k != "frameworks"}

    if not args.skip_cv:
        # how the bundle notes meet the folds: near-duplicates of corpus notes, per-fold exclusions,
        # and whether they change the fold assignment of the corpus (they can bridge two groups)
        plan = plan_folds(corpus, corpus_vecs, extra_vecs)
        if len(bundles):
            ref = plan_folds(corpus, corpus_vecs, fw_vecs)
            is_bundle = np.r_[np.zeros(n_fw, dtype=bool), np.ones(len(bundles), dtype=bool)]
            run["bundle_fold_exclusions"] = [int((~f.keep_extra[is_bundle]).sum()) for f in plan.folds]
            run["bundle_notes_near_duplicate_of_a_corpus_note"] = int(np.isin(plan.extra_groups[is_bundle],
                                                                             plan.corpus_groups).sum())
            run["corpus_fold_assignment_unchanged"] = bool((ref.fold_of == plan.fold_of).all())
            run["corpus_groups"] = {"without": ref.n_groups, "with": plan.n_groups}
            say(f"bundle notes kept out of a fold as near-duplicates of its test notes: "
                f"{run['bundle_fold_exclusions']} per fold; "
                f"{run['bundle_notes_near_duplicate_of_a_corpus_note']} near-duplicate some corpus note; "
                f"corpus folds unchanged: {run['corpus_fold_assignment_unchanged']}")
        t0 = time.time()
        ev = cross_validate(corpus, corpus_vecs, index, extra, extra_vecs, models=["heads"], n_jobs=1,
                            log=say, params=params)
        run["cv_seconds"] = round(time.time() - t0)
        run["cv_description"] = ev.description
        run["cv"] = task_figures(ev.to_dict())
        c = run["cv"]
        say(f"statement macro-F1 {c['statement_macro_f1']:.3f} top-3 {c['statement_top3']:.3f}; key question "
            f"macro-F1 {c['key_question_macro_f1']:.3f}; band {c['band_accuracy']:.3f} / QWK {c['band_qwk']:.3f}; "
            f"category macro-F1 {c['evidence_category_macro_f1']:.3f}; weak "
            + " · ".join(f"{c['weak_statement_f1'][s] or 0:.2f}" for s in WEAK))

    if args.transfer:
        from evidencenlp.evaluation.transfer import predict_all_models, score
        from evidencenlp.sources.inspection import inspection_examples
        from evidencenlp.training import TrainingOptions, training_frame

        base = training_frame(TrainingOptions(corpus=True, framework_examples=True, phase1=args.phase1), index)
        base_vecs = embed(base["text"].tolist(), name="training")
        paragraphs = inspection_examples()
        par_vecs = embed(paragraphs["text"].tolist(), name="inspection")
        train, train_vecs = base, base_vecs
        if len(bundles):
            groups = near_duplicate_groups(np.vstack([bundle_vecs, par_vecs]), NEAR_DUPLICATE)
            keep = ~np.isin(groups[:len(bundles)], groups[len(bundles):])
            run["transfer_bundle_notes_dropped_as_near_duplicates"] = int((~keep).sum())
            extra_rows = bundles[keep].assign(group="")
            train = pd.concat([base, extra_rows], ignore_index=True)
            train_vecs = np.vstack([base_vecs, bundle_vecs[keep]])
        t0 = time.time()
        preds = predict_all_models(train, train_vecs, paragraphs.reset_index(drop=True), par_vecs, index, params,
                                   None, say, baselines=False)
        m = score(paragraphs.reset_index(drop=True), preds["classifier"][0], None)
        run["transfer_seconds"] = round(time.time() - t0)
        run["transfer_inspection"] = {"paragraphs": len(paragraphs), "training_rows": len(train),
                                      "key_question_macro_f1": m["kq_macro_f1"].to_dict(),
                                      "key_question_accuracy": m["kq_accuracy"].to_dict()}
        f1 = m["kq_macro_f1"]
        say(f"inspection paragraphs: key question macro-F1 {f1.value:.3f} [{f1.low:.3f}, {f1.high:.3f}], "
            f"accuracy {m['kq_accuracy'].value:.3f}")

    run["seconds"] = round(time.time() - started)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {"runs": {}}
    old = results["runs"].get(args.variant, {})
    results["runs"][args.variant] = {**old, **run}
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(results, indent=1, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    tmp.replace(args.out)
    say(f"wrote {args.out} ({run['seconds']} s)")


if __name__ == "__main__":
    main()
