"""Nested leave-one-set-out choice of the decision rule of ``evidencenlp assess`` on unreviewed bundles (issue 21).

The shipped method reports the most probable rating over draws of confirmed decisions (the posterior's
mode). That mode leans to the middle bands: outstanding needs nearly every statement at 4 and inadequate
low scores everywhere, so with per-note uncertainty most draws land on good or requires improvement even
when most notes read outstanding or inadequate. This harness compares decision rules on the same
posteriors:

* ``mode``: the shipped rule (most probable rating; ties to the worse band);
* ``weighted``: a Bayes decision with band weights, the rating maximising ``weight[band] x P(band)``
  (``rating_rules.evidence.posterior_band_weights``; weights above 1 on the extreme bands make them
  cheaper to call), for the key questions and, with ``overall: posterior``, the overall rating from the
  overall posterior (``overall: key_questions``: the principles on the decided key question ratings);
* ``mean_percent``: the mean over the draws of the key question percentage, through the thresholds, and the
  limiter of that range applied when the median over the draws of the lowest statement score it sees
  calls for it; the overall rating from the principles on those ratings (``overall: key_questions``) or
  the posterior's most probable (``overall: posterior``);
* ``plugin``: each note's most probable calibrated band scored as if confirmed, the rules applied once;
* ``before``: the expected-score method (before the posterior work).

Each under several band calibrations (fitting options and location prior strength). Every set of bundles
is held out in turn (outer fold); the rule, its weights and the calibration are chosen on the other sets
alone, each of them held out in turn with a calibration fitted on the remaining ones (inner folds), by
the pooled inner (key question exact rate + overall exact rate), among the candidates whose inner count of
inadequate-overall bundles rated better than requires improvement is no more than the shipped rule's;
ties: more within one band, then the earlier candidate (the shipped rule first, smaller weights first).
The chosen candidate is then scored on the held-out set with a calibration fitted on the other sets.

    PYTHONPATH=src python experiments/assess_decision_nested.py --cache /tmp/rating5/sugg.pkl \
        --posteriors /tmp/rating5/post.pkl --out experiments/assess_decision_nested.json

No note text is printed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import pickle
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from assess_loso import SETS, load_cache, score  # experiments/ is the script's folder

import evidencenlp.assess.scoring as scoring_module
from evidencenlp.assess import AssessOptions, load_rules
from evidencenlp.assess.posterior import Posterior
from evidencenlp.assess.scoring import assess_location
from evidencenlp.evaluation.assessments import (
    NO_RATING,
    Bundle,
    confusion,
    fit_bundle_calibration,
    unreviewed_records,
)
from evidencenlp.fileio import write_text_atomic
from evidencenlp.frameworks.rules import RatingRules

#: calibration name -> (fit_bundle_calibration options, location_prior_strength)
CALIBRATIONS: dict[str, tuple[dict[str, Any], float | None]] = {
    "cal": ({}, 3.0), "cal_balance_0.5": ({"balance": 0.5}, 3.0), "cal_strength_10": ({}, 10.0),
    "cal_strength_30": ({}, 30.0), "cal_no_location": ({}, None), "cal_strength_10_balance_0.5": ({"balance": 0.5}, 10.0),
    "cal_balance_1": ({"balance": 1.0}, 3.0)}
#: the candidate families of a nested selection: every candidate; the calibrations with the shipped decision
#: (the most probable rating); the decision rules under the shipped calibration
FAMILIES: tuple[str, ...] = ("all", "calibration", "decision")
SHIPPED: dict[str, Any] = {"key_question_decision": "posterior", "serious_finding_scores_statement": True,
                           "overall_decision": "posterior", "posterior_placements": "weights",
                           "posterior_draws": 4000}
PLUGIN: dict[str, Any] = {**SHIPPED, "key_question_decision": "expected_score", "unreviewed_score": "most_probable",
                          "overall_decision": "key_question_ratings"}
BEFORE: dict[str, Any] = {**SHIPPED, "key_question_decision": "expected_score", "serious_finding_scores_statement": False,
                          "overall_decision": "key_question_ratings"}
#: the weights tried on the best band and on the worst band
BEST_WEIGHTS = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0)
WORST_WEIGHTS = (1.0, 1.25, 1.5, 2.0, 3.0)


@dataclass(frozen=True)
class Rated:
    """What one bundle's rules give under one calibration: the posteriors and the other methods' ratings."""

    bundle: Bundle
    kq_posterior: dict[str, dict[str, float] | None]
    kq_mode: dict[str, str]
    overall_posterior: dict[str, float] | None
    overall_mode: str
    plugin: tuple[dict[str, str], str]
    before: tuple[dict[str, str], str]
    #: per key question: the posterior's mean percentage and the share of draws of each lowest score
    mean_percent: dict[str, float] = field(default_factory=dict)
    lowest_score: dict[str, dict[int, float]] = field(default_factory=dict)


_LAST: dict[str, Posterior] = {}
_SAMPLE = scoring_module.sample_posterior


def _keep_posterior(*args: Any, **kwargs: Any) -> Posterior:
    """``sample_posterior``, keeping the last result (assess_location shows only its probabilities)."""
    _LAST["posterior"] = _SAMPLE(*args, **kwargs)
    return _LAST["posterior"]


scoring_module.sample_posterior = _keep_posterior  # type: ignore[assignment]


def _ratings(loc: Any) -> tuple[dict[str, str], str]:
    return ({k: v.rating or NO_RATING for k, v in loc.key_questions.items()}, loc.overall.rating or NO_RATING)


def rate_set(data: dict[str, list[Any]], version: str, base: RatingRules, cal_name: str, train: list[str],
             target: str) -> list[Rated]:
    """Every bundle of ``target`` rated with a calibration fitted on ``train``'s notes."""
    cal_opts, strength = CALIBRATIONS[cal_name]
    cal = fit_bundle_calibration(data, train, base, version, balance=float(cal_opts.get("balance", 0.0)))
    out = []
    rules = {k: replace(base, evidence=replace(base.evidence, **v, location_prior_strength=strength))
             for k, v in (("shipped", SHIPPED), ("plugin", PLUGIN), ("before", BEFORE))}
    opts = AssessOptions(use_encoder=False)
    for bundle, suggestions in data[target]:
        got = {}
        for k, r in rules.items():
            _LAST.clear()
            got[k] = assess_location(bundle.id, unreviewed_records(bundle, suggestions, r), r, opts, cal)
            if k == "shipped":
                post = _LAST.get("posterior")
        s = got["shipped"]
        out.append(Rated(bundle, {k: v.posterior for k, v in s.key_questions.items()}, _ratings(s)[0],
                         s.overall.posterior, _ratings(s)[1], _ratings(got["plugin"]), _ratings(got["before"]),
                         dict(post.mean_percent) if post else {}, dict(post.lowest_score) if post else {}))
    return out


def weighted_choice(probs: dict[str, float], weights: dict[str, float], order: tuple[str, ...]) -> str | None:
    """The band maximising weight x probability among the bands with probability (ties: the worse band)."""
    rated = [(weights.get(b, 1.0) * probs.get(b, 0.0), i, b) for i, b in enumerate(order) if probs.get(b, 0.0) > 0]
    return max(rated)[2] if rated else None


def mean_percent_choice(mean: float, lowest: dict[int, float], rules: RatingRules) -> str:
    """The thresholds on the mean percentage, then that range's limiter when the median lowest score calls for it."""
    band = rules.percent_band(mean).band
    total = 0.0
    median = rules.max_score + 1
    for score_value in sorted(lowest):
        total += lowest[score_value]
        if total >= 0.5:
            median = score_value
            break
    limiter = rules.limiter_for(band, [median] if median <= rules.max_score else [])
    return limiter.limit_to if limiter is not None else band


@dataclass(frozen=True)
class Candidate:
    """A decision rule and the calibration it uses."""

    calibration: str
    rule: str  # mode | weighted | mean_percent | plugin | before
    best: float = 1.0
    worst: float = 1.0
    overall: str = "posterior"  # posterior | key_questions

    @property
    def name(self) -> str:
        if self.rule == "weighted":
            return f"{self.calibration}:weighted_best{self.best:g}_worst{self.worst:g}_overall_{self.overall}"
        if self.rule == "mean_percent":
            return f"{self.calibration}:mean_percent_overall_{self.overall}"
        return f"{self.calibration}:{self.rule}"


def candidates(family: str = "all") -> list[Candidate]:
    """The shipped rule first, then the others (smaller weights first)."""
    if family == "calibration":
        return [Candidate(cal, "mode") for cal in CALIBRATIONS]
    out = []
    for cal in CALIBRATIONS if family == "all" else ("cal",):
        out.append(Candidate(cal, "mode"))
        out += [Candidate(cal, "weighted", b, w, o) for o in ("posterior", "key_questions")
                for b, w in itertools.product(BEST_WEIGHTS, WORST_WEIGHTS) if (b, w, o) != (1.0, 1.0, "posterior")]
        out += [Candidate(cal, "mean_percent", overall=o) for o in ("key_questions", "posterior")]
        out += [Candidate(cal, "plugin"), Candidate(cal, "before")]
    return out


def decide(c: Candidate, r: Rated, rules: RatingRules) -> tuple[dict[str, str], str]:
    """Key question and overall ratings of one bundle under candidate ``c``."""
    if c.rule == "plugin":
        return r.plugin
    if c.rule == "before":
        return r.before
    if c.rule == "mode":
        return r.kq_mode, r.overall_mode
    bands = tuple(rules.taxonomy.bands)
    weights = {bands[0]: c.best, bands[-1]: c.worst}
    kq = {}
    for k, mode in r.kq_mode.items():
        post = r.kq_posterior.get(k)
        if post is None or mode == NO_RATING:
            kq[k] = mode
        elif c.rule == "mean_percent":
            kq[k] = mean_percent_choice(r.mean_percent[k], r.lowest_score[k], rules) if k in r.mean_percent else mode
        else:
            kq[k] = weighted_choice(post, weights, bands) or mode
    if c.overall == "posterior":
        overall = (weighted_choice(r.overall_posterior, weights, bands) or r.overall_mode
                   if r.overall_posterior is not None else r.overall_mode)
    else:
        stand_in = rules.evidence.unrated_key_question_counts_as or bands[-1]
        got = [v for v in kq.values() if v != NO_RATING]
        res = rules.overall_rating([*got, *[stand_in] * (len(kq) - len(got))]) if got else None
        overall = res.rating if res is not None else NO_RATING
    return kq, overall


def apply(c: Candidate, rated: list[Rated], rules: RatingRules) -> list[tuple[Bundle, dict[str, str], str]]:
    return [(r.bundle, *decide(c, r, rules)) for r in rated]


def objective(s: dict[str, Any]) -> tuple[float, int]:
    return (s["kq_exact"] / s["kq_n"] + s["overall_exact"] / s["bundles"], s["kq_within_one"])


def nested(cands: list[Candidate], rated: dict[Any, list[Rated]], base: RatingRules, sets: list[str],
           outer: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Nested leave-one-set-out: for each held-out set, the candidate chosen on the inner folds (see the module)."""
    shipped = cands[0]
    chosen: dict[str, str] = {}
    inner_best: dict[str, Any] = {}
    selected_rows = []
    for held in sets:
        inner = {}
        for c in cands:
            rows = [row for o in sets if o != held
                    for row in apply(c, rated[(c.calibration, frozenset({held, o}), o)], base)]
            inner[c.name] = score(rows, base)
        guard = len(inner[shipped.name]["inadequate_better_than_ri"])
        allowed = [c for c in cands if len(inner[c.name]["inadequate_better_than_ri"]) <= guard]
        best = max(allowed, key=lambda c: (objective(inner[c.name]), -cands.index(c)))
        chosen[held] = best.name
        inner_best[held] = {"chosen": inner[best.name], "shipped": inner[shipped.name]}
        selected_rows += apply(best, rated[(best.calibration, frozenset({held}), held)], base)
    tax = base.taxonomy
    return {"candidates": len(cands), "chosen": chosen, "inner": inner_best,
            "held_out": {s: outer[chosen[s]]["held_out"][s] for s in sets}, "pooled": score(selected_rows, base),
            "confusion_key_questions": confusion(
                [(b.expected[k], g[k]) for b, g, _ in selected_rows for k in tax.key_questions], base),
            "confusion_overall": confusion([(b.expected_overall, o) for b, _, o in selected_rows], base)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, required=True, help="pickle of the suggestions (assess_loso.py's)")
    parser.add_argument("--posteriors", type=Path, required=True, help="pickle of the rated folds (made if absent)")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    data, version = load_cache(args.cache)
    base = load_rules()[2]
    sets = list(SETS)
    rated: dict[tuple[str, frozenset[str], str], list[Rated]] = {}
    if args.posteriors.is_file():
        with args.posteriors.open("rb") as fh:
            rated = pickle.load(fh)
    for cal in CALIBRATIONS:
        for held in sets:
            folds = [(frozenset({held}), held)] + [(frozenset({held, o}), o) for o in sets if o != held]
            for excluded, target in folds:
                key = (cal, excluded, target)
                if key in rated:
                    continue
                t = time.time()
                train = [SETS[s] for s in sets if s not in excluded]
                rated[key] = rate_set(data, version, base, cal, train, SETS[target])
                print(f"{cal} without {sorted(excluded)} -> {target}: {time.time() - t:.0f}s", flush=True)
                with args.posteriors.with_suffix(".tmp").open("wb") as fh:
                    pickle.dump(rated, fh)
                args.posteriors.with_suffix(".tmp").replace(args.posteriors)
    cands = candidates()
    shipped = cands[0]
    # plain leave-one-set-out figures of every candidate
    outer: dict[str, dict[str, Any]] = {}
    for c in cands:
        per = {s: score(apply(c, rated[(c.calibration, frozenset({s}), s)], base), base) for s in sets}
        rows = [row for s in sets for row in apply(c, rated[(c.calibration, frozenset({s}), s)], base)]
        outer[c.name] = {"held_out": per, "pooled": score(rows, base)}
    report: dict[str, Any] = {
        "model_version": version, "sets": SETS, "selection": __doc__.split("\n\n")[3], "nested": {},
        "shipped": outer[shipped.name], "plugin": outer[Candidate("cal", "plugin").name],
        "before": outer[Candidate("cal", "before").name],
        "candidates": {n: v["pooled"] for n, v in outer.items()}}
    rows = [row for s in sets for row in apply(shipped, rated[("cal", frozenset({s}), s)], base)]
    report["shipped"]["confusion_key_questions"] = confusion(
        [(b.expected[k], g[k]) for b, g, _ in rows for k in base.taxonomy.key_questions], base)
    report["shipped"]["confusion_overall"] = confusion([(b.expected_overall, o) for b, _, o in rows], base)
    for family in FAMILIES:
        report["nested"][family] = nested(candidates(family), rated, base, sets, outer)
    def show(name: str, per: dict[str, Any], pooled: dict[str, Any]) -> None:
        sets_text = " ".join(f"{s}:{v['kq_exact']}/{v['kq_n']},{v['kq_within_one']},{v['overall_exact']}/"
                             f"{v['bundles']},{len(v['inadequate_better_than_ri'])}" for s, v in per.items())
        print(f"{name:40s} kq {pooled['kq_exact']}/{pooled['kq_n']} ({pooled['kq_exact'] / pooled['kq_n']:.3f}) "
              f"within1 {pooled['kq_within_one']} ({pooled['kq_within_one'] / pooled['kq_n']:.3f}) overall "
              f"{pooled['overall_exact']}/{pooled['bundles']} ({pooled['overall_exact'] / pooled['bundles']:.3f}) "
              f"I>RI {len(pooled['inadequate_better_than_ri'])} | {sets_text}")

    for label, name in (("shipped (mode)", shipped.name), ("plugin", Candidate("cal", "plugin").name),
                        ("before", Candidate("cal", "before").name)):
        show(label, outer[name]["held_out"], outer[name]["pooled"])
    for family, got in report["nested"].items():
        show(f"nested selection ({family})", got["held_out"], got["pooled"])
        print("  chosen:", json.dumps(got["chosen"]))
    top = sorted(outer, key=lambda n: objective(outer[n]["pooled"]), reverse=True)[:10]
    for n in top:
        show(n, outer[n]["held_out"], outer[n]["pooled"])
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
