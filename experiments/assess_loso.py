"""Leave-one-set-out agreement of ``evidencenlp assess`` variants on the assessment bundle sets (issue 21).

Each set of bundles is held out in turn: the band calibration is refitted on the labelled notes of the
other sets only, and the held-out set's bundles are rated from the tool's suggestions (unreviewed) and
from their labels as confirmed decisions (reviewed), with each method variant. Reported per held-out
set and pooled over every bundle: key questions exact and within one band, overall exact, and the
inadequate-overall bundles rated better than requires improvement. A variant is a set of
``rating_rules.evidence`` values (the rules as data) and the calibration's fitting options; nothing is
fitted on the held-out set.

    PYTHONPATH=src python experiments/assess_loso.py --cache /tmp/sugg.pkl [--variants before,shipped] \
        [--nested] [--out experiments/assess_loso.json]

The suggestions come from the shipped model (``Suggester.load()``), cached in ``--cache`` (the format of
``experiments/band_calibration.py``). No note text is printed.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from band_calibration import bundle_suggestions  # experiments/ is the script's folder

from evidencenlp.assess import AssessOptions, load_rules
from evidencenlp.assess.bands import BandCalibration
from evidencenlp.assess.scoring import assess_location
from evidencenlp.evaluation.assessments import (
    NO_RATING,
    Bundle,
    agreement,
    fit_bundle_calibration,
    reviewed_records,
    unreviewed_records,
)
from evidencenlp.fileio import write_text_atomic
from evidencenlp.frameworks.rules import RatingRules

SETS: dict[str, str] = {"A": "evaluation/assessment_bundles", "C": "evaluation/assessment_bundles_c",
                        "D": "evaluation/assessment_bundles_d", "E": "evaluation/assessment_bundles_e",
                        "dev": "tests/data/assessment_dev"}

#: the method before issue 21's posterior work: expected scores, the rules applied once, a serious finding seen by
#: the limiters only
BEFORE: dict[str, Any] = {"key_question_decision": "expected_score", "serious_finding_scores_statement": False,
                          "overall_decision": "key_question_ratings", "posterior_placements": "weights",
                          "posterior_draws": 400, "location_prior_strength": 3.0}
#: the shipped method (frameworks/cqc-saf-2023.yaml rating_rules.evidence)
SHIPPED: dict[str, Any] = {"key_question_decision": "posterior", "serious_finding_scores_statement": True,
                           "overall_decision": "posterior", "posterior_placements": "weights",
                           "posterior_draws": 4000, "location_prior_strength": 3.0}
POSTERIOR: dict[str, Any] = {**BEFORE, "key_question_decision": "posterior"}

#: name -> (rating_rules.evidence values, calibration fitting options); every variant states the whole policy
VARIANTS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "before": (BEFORE, {}),
    "before_no_calibration": (BEFORE, {"off": True}),
    "before_strength_0": ({**BEFORE, "location_prior_strength": 0.0}, {}),
    "before_strength_10": ({**BEFORE, "location_prior_strength": 10.0}, {}),
    "before_balanced_0.5": (BEFORE, {"balance": 0.5}),
    "before_balanced_1": (BEFORE, {"balance": 1.0}),
    "before_serious_scores_statement": ({**BEFORE, "serious_finding_scores_statement": True}, {}),
    "posterior_sample": ({**POSTERIOR, "posterior_placements": "sample"}, {}),
    "posterior_weights": (POSTERIOR, {}),
    "posterior_sample_overall": ({**POSTERIOR, "posterior_placements": "sample", "overall_decision": "posterior"}, {}),
    "posterior_weights_overall": ({**POSTERIOR, "overall_decision": "posterior"}, {}),
    "posterior_weights_strength_0": ({**POSTERIOR, "location_prior_strength": 0.0}, {}),
    "posterior_weights_balanced_0.5": (POSTERIOR, {"balance": 0.5}),
    "shipped": (SHIPPED, {}),
    "shipped_seed_1": ({**SHIPPED, "posterior_seed": 1}, {}),
    "shipped_seed_2": ({**SHIPPED, "posterior_seed": 2}, {}),
    "shipped_1000_draws": ({**SHIPPED, "posterior_draws": 1000}, {}),
    "shipped_1000_draws_seed_1": ({**SHIPPED, "posterior_draws": 1000, "posterior_seed": 1}, {}),
    "shipped_1000_draws_seed_2": ({**SHIPPED, "posterior_draws": 1000, "posterior_seed": 2}, {}),
    "shipped_400_draws": ({**SHIPPED, "posterior_draws": 400}, {}),
    "shipped_strength_0": ({**SHIPPED, "location_prior_strength": 0.0}, {}),
    "shipped_strength_10": ({**SHIPPED, "location_prior_strength": 10.0}, {}),
    "shipped_balanced_0.5": (SHIPPED, {"balance": 0.5}),
    "shipped_balanced_1": (SHIPPED, {"balance": 1.0}),
    "shipped_sample": ({**SHIPPED, "posterior_placements": "sample"}, {}),
    "shipped_kq_overall": ({**SHIPPED, "overall_decision": "key_question_ratings"}, {}),
}
#: the variants whose per-bundle ratings are written to the JSON
DETAILED: tuple[str, ...] = ("before", "shipped")
#: the candidates of the nested selection (--nested without --variants)
NESTED: tuple[str, ...] = ("before", "before_strength_10", "before_balanced_0.5", "before_serious_scores_statement",
                           "posterior_weights", "posterior_weights_overall", "shipped", "shipped_strength_10",
                           "shipped_balanced_0.5", "shipped_sample", "shipped_kq_overall")


def load_cache(path: Path) -> tuple[dict[str, list[Any]], str]:
    """The cached ``({folder: [(bundle, suggestions)]}, model_version)``; made with the shipped model if absent."""
    return bundle_suggestions(list(SETS.values()), path)


def fit(data: dict[str, list[Any]], folders: list[str], version: str, rules: RatingRules,
        options: dict[str, Any]) -> BandCalibration | None:
    """The calibration fitted on the notes of ``folders`` (None when the variant has none)."""
    if options.get("off"):
        return None
    return fit_bundle_calibration(data, folders, rules, version, balance=float(options.get("balance", 0.0)))


def rate(bundle: Bundle, records: list[Any], rules: RatingRules, calibration: BandCalibration | None
         ) -> tuple[dict[str, str], str]:
    """Key question and overall ratings of one bundle (the library's scoring, without the hints)."""
    loc = assess_location(bundle.id, records, rules, AssessOptions(use_encoder=False), calibration)
    return ({k: v.rating or NO_RATING for k, v in loc.key_questions.items()}, loc.overall.rating or NO_RATING)


def score(rows: list[tuple[Bundle, dict[str, str], str]], rules: RatingRules) -> dict[str, Any]:
    """Agreement of rated bundles with their expected ratings."""
    tax = rules.taxonomy
    kq = agreement([(b.expected[k], got[k]) for b, got, _ in rows for k in tax.key_questions], rules)
    overall = agreement([(b.expected_overall, o) for b, _, o in rows], rules)
    worst, second = tax.bands[-1], tax.bands[-2]
    too_kind = [b.id for b, _, o in rows if b.expected_overall == worst and o != NO_RATING
                and rules.band_rank(o) > rules.band_rank(second)]
    return {"kq_exact": kq["exact_count"], "kq_within_one": kq["within_one_count"], "kq_n": kq["n"],
            "overall_exact": overall["exact_count"], "overall_within_one": overall["within_one_count"],
            "bundles": overall["n"], "inadequate_better_than_ri": too_kind}


def run_variant(name: str, data: dict[str, list[Any]], version: str, base: RatingRules) -> dict[str, Any]:
    """Leave-one-set-out figures of one variant, per held-out set and pooled."""
    overrides, cal_options = VARIANTS[name]
    rules = replace(base, evidence=replace(base.evidence, **overrides))
    out: dict[str, Any] = {"evidence": overrides, "calibration": cal_options, "held_out": {}}
    pooled: list[Any] = []
    pooled_reviewed: list[Any] = []
    for short, held in SETS.items():
        train = [f for f in SETS.values() if f != held]
        cal = fit(data, train, version, rules, cal_options)
        rows, reviewed = [], []
        for bundle, suggestions in data[held]:
            rows.append((bundle, *rate(bundle, unreviewed_records(bundle, suggestions, rules), rules, cal)))
            reviewed.append((bundle, *rate(bundle, reviewed_records(bundle, suggestions), rules, cal)))
        out["held_out"][short] = {"unreviewed": score(rows, rules), "reviewed": score(reviewed, rules)}
        if name in DETAILED:  # each bundle's key question ratings then the overall, expected and obtained
            out["held_out"][short]["bundles"] = {
                b.id: {"expected": ",".join([*(b.expected[k] for k in rules.taxonomy.key_questions), b.expected_overall]),
                       "got": ",".join([*(g[k] for k in rules.taxonomy.key_questions), o])} for b, g, o in rows}
        pooled += rows
        pooled_reviewed += reviewed
    out["pooled"] = {"unreviewed": score(pooled, rules), "reviewed": score(pooled_reviewed, rules)}
    return out


def nested(names: list[str], data: dict[str, list[Any]], version: str, base: RatingRules,
           outer: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Nested leave-one-set-out: for each held-out set, the variant chosen on the other sets alone.

    Each candidate is scored on every other set with a calibration fitted without that set and without the
    held-out one; the best by (overall exact, key questions exact) is chosen and its figures on the held-out
    set (from ``outer``, the plain leave-one-set-out run) are kept. The pooled result is an honest figure
    for "choose a variant by cross-validation", the selection itself included.
    """
    chosen: dict[str, str] = {}
    inner: dict[str, dict[str, list[int]]] = {}
    for short, held in SETS.items():
        scores: dict[str, list[int]] = {}
        for name in names:
            overrides, cal_options = VARIANTS[name]
            rules = replace(base, evidence=replace(base.evidence, **overrides))
            rows = []
            for other in SETS.values():
                if other == held:
                    continue
                train = [f for f in SETS.values() if f not in (held, other)]
                cal = fit(data, train, version, rules, cal_options)
                rows += [(b, *rate(b, unreviewed_records(b, s, rules), rules, cal)) for b, s in data[other]]
            got = score(rows, rules)
            scores[name] = [got["overall_exact"], got["kq_exact"]]
        chosen[short] = max(names, key=lambda n: (scores[n], -names.index(n)))
        inner[short] = scores
    pooled = {k: sum(outer[chosen[s]]["held_out"][s]["unreviewed"][k] for s in SETS)
              for k in ("kq_exact", "kq_within_one", "kq_n", "overall_exact", "bundles")}
    return {"candidates": names, "chosen": chosen, "inner_scores": inner, "pooled": pooled}


def line(name: str, result: dict[str, Any]) -> str:
    """One table row: pooled and per held-out set."""
    p = result["pooled"]["unreviewed"]
    r = result["pooled"]["reviewed"]
    per = " ".join(f"{k}:{v['unreviewed']['kq_exact']}/{v['unreviewed']['overall_exact']}"
                   for k, v in result["held_out"].items())
    return (f"{name:26s} kq {p['kq_exact']}/{p['kq_n']} ({p['kq_exact'] / p['kq_n']:.3f}) within1 "
            f"{p['kq_within_one']}/{p['kq_n']} ({p['kq_within_one'] / p['kq_n']:.3f}) overall {p['overall_exact']}/"
            f"{p['bundles']} ({p['overall_exact'] / p['bundles']:.3f}) I>RI {len(p['inadequate_better_than_ri'])} | "
            f"reviewed kq {r['kq_exact']} overall {r['overall_exact']} | {per}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="pickle of the suggestions (made if absent)")
    parser.add_argument("--variants", default=None, help="comma-separated names (default: every variant; with "
                        "--nested, the nested candidates)")
    parser.add_argument("--out", type=Path, default=None, help="write every figure as JSON here")
    parser.add_argument("--nested", action="store_true",
                        help="also choose among the variants inside each fold (nested leave-one-set-out)")
    args = parser.parse_args()
    data, version = load_cache(args.cache)
    missing = [f for f in SETS.values() if f not in data]
    if missing:
        raise SystemExit(f"{args.cache}: no suggestions for {', '.join(missing)}; delete it to make it again")
    base = load_rules()[2]
    report: dict[str, Any] = {"model_version": version, "sets": SETS, "variants": {}}
    names = args.variants.split(",") if args.variants else list(NESTED if args.nested else VARIANTS)
    unknown = [n for n in names if n not in VARIANTS]
    if unknown:
        raise SystemExit(f"unknown variant(s): {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
    for name in names:
        report["variants"][name] = run_variant(name, data, version, base)
        print(line(name, report["variants"][name]), flush=True)
    if args.nested:
        report["nested"] = nested(names, data, version, base, report["variants"])
        p = report["nested"]["pooled"]
        print(f"nested selection: chosen {report['nested']['chosen']}; kq {p['kq_exact']}/{p['kq_n']} within1 "
              f"{p['kq_within_one']}/{p['kq_n']} overall {p['overall_exact']}/{p['bundles']}")
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
