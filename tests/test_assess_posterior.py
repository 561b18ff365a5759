"""`assess` posterior ratings: the published rules applied to draws of confirmed decisions (issue 21).

Fast: hand-made records, no encoder, no band calibration (the probabilities are the tests' own).
"""

from __future__ import annotations

import inspect
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evidencenlp.assess import AssessOptions, assess_records, load_rules
from evidencenlp.assess.posterior import UNRATED, sample_posterior
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.assess.scoring import assess_key_question, assess_overall
from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import load_framework_set
from evidencenlp.frameworks.rules import EvidencePolicy, RatingRules
from evidencenlp.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parents[1]
RAW = AssessOptions(use_encoder=False, band_calibration=False)


def confirmed(tax: Taxonomy, statement: str, band: str, note: str) -> EvidenceRecord:
    return EvidenceRecord(note=note, row=1, location="L", key_question=tax.key_question_of(statement),
                          statement=statement, band=band, weight=1.0, source="accepted")


def suggested(tax: Taxonomy, statement: str, probs: dict[str, float], note: str, weight: float = 1.0,
              primary: bool = True) -> EvidenceRecord:
    full = {b: probs.get(b, 0.0) for b in tax.bands}
    return EvidenceRecord(note=note, row=1, location="L", key_question=tax.key_question_of(statement),
                          statement=statement, band=max(full, key=lambda b: full[b]), weight=weight,
                          band_probabilities=tuple(full.items()), primary=primary)


def expected_score_rules(rules: RatingRules, **policy: object) -> RatingRules:
    return replace(rules, evidence=replace(rules.evidence, key_question_decision="expected_score", **policy))


def random_location(tax: Taxonomy, seed: int, certain_suggestions: bool, weigh_one: bool = False) -> list[EvidenceRecord]:
    """1-4 notes on a random subset of every key question's statements, random bands (and weights, unless
    ``weigh_one``)."""
    rng = np.random.default_rng(seed)
    out = []
    for kq in tax.key_questions:
        for st in tax.statements_of(kq):
            if rng.random() < 0.5:
                continue
            for j in range(int(rng.integers(1, 5))):
                band = tax.bands[int(rng.choice(len(tax.bands), p=[0.15, 0.45, 0.25, 0.15]))]
                note = f"{st}-{j}"
                weight = float(rng.uniform(0.2, 1.0))
                if certain_suggestions:
                    out.append(suggested(tax, st, {band: 1.0}, note, weight=1.0 if weigh_one else weight))
                else:
                    out.append(confirmed(tax, st, band, note))
    return out


@pytest.mark.parametrize("placements", ["weights", "sample"])
@pytest.mark.parametrize("min_notes", [1, 2])
@pytest.mark.parametrize("certain_suggestions", [False, True])
@pytest.mark.parametrize("scores_statement", [False, True])
def test_draws_without_uncertainty_give_the_rules_rating_with_certainty(
        rules: RatingRules, tax: Taxonomy, certain_suggestions: bool, scores_statement: bool, min_notes: int,
        placements: str) -> None:
    """The vectorised rules of the draws are the scalar rules: with nothing uncertain (confirmed notes, or
    suggestions certain of their band keeping their weights; with ``sample`` placements, weighing 1 so that
    every draw places them) every draw is the published rating, under the same options (``min_notes``)."""
    base = expected_score_rules(rules, serious_finding_scores_statement=scores_statement)
    options = replace(RAW, min_notes=min_notes)
    for seed in range(12):
        records = random_location(tax, seed, certain_suggestions, weigh_one=placements == "sample")
        post = sample_posterior(records, base, 1.0, draws=20, seed=seed, placements=placements, options=options)
        kqs = {kq: assess_key_question(kq, [r for r in records if r.key_question == kq], base, options)
               for kq in tax.key_questions}
        for kq, assessed in kqs.items():
            want = assessed.rating or UNRATED
            assert post.key_questions[kq][want] == 1.0, (seed, kq, want, post.key_questions[kq])
        overall = assess_overall(kqs, base, options).rating
        assert post.overall[overall or UNRATED] == 1.0, (seed, overall, post.overall)


def test_the_mean_percentage_and_lowest_score_of_certain_draws_are_the_rules_own(rules: RatingRules,
                                                                              tax: Taxonomy) -> None:
    """With nothing uncertain every draw is the scalar computation: the posterior's mean percentage is the key
    question's percentage, and its lowest score (the limiters' view) is in every draw the lowest score of the
    statements counting in full; a key question without a rating has neither."""
    base = expected_score_rules(rules)
    for seed in range(8):
        records = random_location(tax, seed, certain_suggestions=False)
        post = sample_posterior(records, base, 1.0, draws=10, seed=seed, options=RAW)
        for kq in tax.key_questions:
            assessed = assess_key_question(kq, [r for r in records if r.key_question == kq], base, RAW)
            if assessed.rating is None:
                assert kq not in post.mean_percent and kq not in post.lowest_score
                continue
            assert post.mean_percent[kq] == pytest.approx(assessed.percent_exact), (seed, kq)
            full = [s.score for s in assessed.statements if s.score is not None and s.credibility >= 1]
            assert post.lowest_score[kq] == {min(full, default=base.max_score + 1): 1.0}, (seed, kq)
    mixed = [suggested(tax, st, {"good": 0.5, "inadequate": 0.5}, f"m{i}") for i, st in
             enumerate(tax.statements_of("safe")[:3])]
    post = sample_posterior(mixed, base, 1.0, draws=400, seed=1, options=RAW)
    assert sum(post.lowest_score["safe"].values()) == pytest.approx(1.0)
    assert 25 < post.mean_percent["safe"] < 75  # between all inadequate and all good


def test_the_posterior_scores_only_the_statements_assess_statement_scores(tax: Taxonomy) -> None:
    """``min_notes`` applies to the draws as to the expected scores: a statement holding one likely-inadequate
    note is not scored with ``min_notes=2``, so it neither lowers nor rates its key question in any draw."""
    sts = tax.statements_of("safe")
    good = [confirmed(tax, st, "good", f"g{i}{j}") for i, st in enumerate(sts[1:4]) for j in range(2)]
    doubt = suggested(tax, sts[0], {"inadequate": 0.9, "good": 0.1}, "doubt")
    two = replace(RAW, min_notes=2)
    kq = assess_records([*good, doubt], two).locations[0].key_questions["safe"]
    assert kq.expected_score_rating == "good" and kq.score == 75
    assert kq.rating == "good" and kq.posterior is not None and kq.posterior["good"] == 1.0
    # with one note enough, the same note is scored and limits the key question in most draws
    one = assess_records([*good, doubt], RAW).locations[0].key_questions["safe"]
    assert one.rating == "requires_improvement"
    # a key question whose every statement is below min_notes has no rating, in the draws too
    alone = [doubt, *[confirmed(tax, st, "good", f"c{i}{j}") for i, st in enumerate(tax.statements_of("caring")[:3])
                      for j in range(2)]]
    loc = assess_records(alone, two).locations[0]
    assert loc.key_questions["safe"].rating is None
    post = sample_posterior(alone, load_rules()[2], 1.0, draws=200, seed=0, options=two)
    assert post.key_questions["safe"][UNRATED] == 1.0
    assert loc.overall.rated_key_questions == ["caring"]
    assert loc.overall.rating == loc.overall.from_key_question_ratings


def test_probabilities_sum_to_one_and_repeat_with_the_seed(rules: RatingRules, tax: Taxonomy) -> None:
    sts = tax.statements_of("safe")
    records = [suggested(tax, st, {"good": 0.5, "requires_improvement": 0.3, "inadequate": 0.2}, f"n{i}{j}")
               for i, st in enumerate(sts[:4]) for j in range(2)]
    a = sample_posterior(records, rules, 1.0, draws=300, seed=7)
    b = sample_posterior(records, rules, 1.0, draws=300, seed=7)
    c = sample_posterior(records, rules, 1.0, draws=300, seed=8)
    assert a == b
    for post in (a, c):
        for probs in [*post.key_questions.values(), post.overall]:
            assert sum(probs.values()) == pytest.approx(1.0)
            assert all(0.0 <= p <= 1.0 for p in probs.values())
    assert a.key_questions["caring"] == {**dict.fromkeys(tax.bands, 0.0), UNRATED: 1.0}  # no notes: never rated
    assert a.key_questions["safe"][UNRATED] == 0.0
    assert a.key_questions["safe"] != c.key_questions["safe"]  # another seed, other draws (same shape)


def test_a_likely_serious_finding_limits_with_its_probability(rules: RatingRules, tax: Taxonomy) -> None:
    """One suggestion among confirmed good notes: the key question is limited in about P(inadequate) of the
    draws, and its most probable rating follows that probability."""
    sts = tax.statements_of("responsive")
    good = [confirmed(tax, st, "good", f"g{i}{j}") for i, st in enumerate(sts[:4]) for j in range(3)]
    for p_bad, rating in ((0.25, "good"), (0.75, "requires_improvement")):
        doubt = suggested(tax, sts[0], {"inadequate": p_bad, "good": 1 - p_bad}, "doubt")
        post = sample_posterior([*good, doubt], rules, 1.0, draws=2000, seed=0, placements="weights")
        assert post.key_questions["responsive"]["requires_improvement"] == pytest.approx(p_bad, abs=0.04)
        assert post.limited["responsive"] == pytest.approx(p_bad, abs=0.04)
        assert post.most_probable("responsive", tax.bands)[0] == rating


def test_one_confirmed_inadequate_note_among_good_suggestions_is_limited(tax: Taxonomy) -> None:
    sts = tax.statements_of("safe")
    good = [suggested(tax, st, {"good": 0.9, "outstanding": 0.1}, f"g{i}{j}") for i, st in enumerate(sts[:4])
            for j in range(3)]
    records = [*good, confirmed(tax, sts[1], "inadequate", "bad")]
    kq = assess_records(records, RAW).locations[0].key_questions["safe"]
    assert kq.rating == "requires_improvement" and kq.posterior is not None
    assert kq.posterior["requires_improvement"] == 1.0  # the confirmed finding is in every draw
    assert kq.to_dict()["rating_probability"] == 1.0
    without = assess_records(good, RAW).locations[0].key_questions["safe"]
    assert without.rating == "good"


def test_many_probably_inadequate_suggestions_reach_inadequate(rules: RatingRules, tax: Taxonomy) -> None:
    """Each note is more likely requires improvement than inadequate, so the expected scores (1.55) round to 2
    and the key question is requires improvement; but a statement with two such notes holds at least one
    finding in 70% of the draws, which pulls it to 1, and most draws rate the key question inadequate."""
    sts = tax.statements_of("safe")
    records = [suggested(tax, st, {"inadequate": 0.45, "requires_improvement": 0.55}, f"n{i}{j}")
               for i, st in enumerate(sts[:4]) for j in range(2)]
    kq = assess_records(records, RAW).locations[0].key_questions["safe"]
    assert kq.expected_score_rating == "requires_improvement"
    assert kq.rating == "inadequate" and kq.posterior is not None and kq.posterior["inadequate"] > 0.5
    old = expected_score_rules(rules)
    alone = assess_key_question("safe", records, old, RAW)
    assert alone.rating == "requires_improvement"


def test_the_output_says_how_each_rating_was_judged(tax: Taxonomy) -> None:
    records = [suggested(tax, st, {"good": 0.6, "requires_improvement": 0.4}, f"{kq}{i}")
               for kq in tax.key_questions for i, st in enumerate(tax.statements_of(kq)[:3])]
    result = assess_records(records, RAW)
    out = result.to_dict()
    assert out["rules"]["evidence"]["key_question_decision"] == "posterior"
    loc = out["locations"][0]
    for kq in loc["key_questions"].values():
        assert kq["posterior"] is not None and sum(kq["posterior"].values()) == pytest.approx(1.0, abs=1e-3)
        assert kq["rating_probability"] == kq["posterior"][kq["rating"]]
        assert kq["expected_score_rating"] is not None
        assert any("draws" in line for line in kq["rules_applied"]) and "draws" in kq["basis"]
    overall = loc["overall"]
    assert overall["posterior"] is not None and overall["rating_probability"] == overall["posterior"][overall["rating"]]
    assert overall["from_key_question_ratings"] is not None
    assert any("draws" in line for line in overall["rules_applied"])
    # the most probable overall rating, which need not be the principles on the most probable key questions
    best = max(overall["posterior"], key=lambda b: overall["posterior"][b])
    assert overall["rating"] == best


def test_all_confirmed_notes_use_the_published_rule_alone(tax: Taxonomy) -> None:
    records = [confirmed(tax, st, "good", f"{kq}{i}") for kq in tax.key_questions
               for i, st in enumerate(tax.statements_of(kq)[:2])]
    loc = assess_records(records, RAW).locations[0]
    assert all(kq.posterior is None for kq in loc.key_questions.values()) and loc.overall.posterior is None
    assert loc.overall.rating == "good"
    # a tagged table's suggestion knows only its own band's probability: nothing to draw, no posterior either
    tagged = [replace(r, source="suggestion", weight=0.8, band_probabilities=((r.band, 0.7),)) for r in records]
    loc = assess_records(tagged, RAW).locations[0]
    assert all(kq.posterior is None for kq in loc.key_questions.values()) and loc.overall.rating == "good"


def test_a_statement_with_a_confirmed_finding_scores_one(tax: Taxonomy) -> None:
    """"One serious finding may pull a statement to 1" (the bundle writers' rule), as framework data."""
    sts = tax.statements_of("well-led")
    records = [confirmed(tax, sts[0], "good", "a"), confirmed(tax, sts[0], "good", "b"),
               confirmed(tax, sts[0], "inadequate", "c")]
    st = assess_records(records, RAW).locations[0].key_questions["well-led"].statements[0]
    assert st.mean_score == pytest.approx(7 / 3) and st.score == 1 and st.serious_findings == ("c",)


def test_posterior_policy_is_framework_data_with_clear_errors(tmp_path: Path, tax: Taxonomy) -> None:
    folder = tmp_path / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    saf = folder / "cqc-saf-2023.yaml"
    text = saf.read_text(encoding="utf-8")
    saf.write_text(text.replace("key_question_decision: posterior", "key_question_decision: expected_score")
                   .replace("overall_decision: posterior", "overall_decision: key_question_ratings"), encoding="utf-8")
    sts = tax.statements_of("safe")
    records = [suggested(tax, st, {"inadequate": 0.45, "requires_improvement": 0.55}, f"n{i}{j}")
               for i, st in enumerate(sts[:4]) for j in range(2)]
    kq = assess_records(records, RAW, frameworks_dir=folder).locations[0].key_questions["safe"]
    assert kq.rating == "requires_improvement" and kq.posterior is None
    saf.write_text(text.replace("posterior_placements: weights", "posterior_placements: everywhere"),
                   encoding="utf-8")
    with pytest.raises(FrameworkError) as err:
        load_framework_set(folder)
    assert "posterior_placements" in str(err.value)


def test_an_overall_posterior_without_key_question_draws_is_refused(tmp_path: Path) -> None:
    """``overall_decision: posterior`` needs the draws that only ``key_question_decision: posterior`` makes: the
    rules are refused with one line naming the field, never silently ignored."""
    folder = tmp_path / "frameworks"
    shutil.copytree(REPO / "frameworks", folder)
    saf = folder / "cqc-saf-2023.yaml"
    text = saf.read_text(encoding="utf-8")
    assert "overall_decision: posterior" in text
    saf.write_text(text.replace("key_question_decision: posterior", "key_question_decision: expected_score"),
                   encoding="utf-8")
    with pytest.raises(FrameworkError) as err:
        _ = load_framework_set(folder).rules
    message = str(err.value)
    assert "overall_decision" in message and "key_question_decision" in message and "\n" not in message


def test_code_defaults_are_the_shipped_posterior_policy(rules: RatingRules) -> None:
    """A framework without the evidence block gets the validated values the SAF file states."""
    default = EvidencePolicy()
    shipped = rules.evidence
    assert (default.posterior_draws, default.posterior_placements) == (
        shipped.posterior_draws, shipped.posterior_placements)
    signature = inspect.signature(sample_posterior).parameters
    assert signature["draws"].default == shipped.posterior_draws
    assert signature["placements"].default == shipped.posterior_placements


def uncertain_location(tax: Taxonomy, seed: int) -> list[EvidenceRecord]:
    """2-3 unreviewed suggestions on most statements, each unsure between two neighbouring bands."""
    rng = np.random.default_rng(seed)
    out = []
    for kq in tax.key_questions:
        for st in tax.statements_of(kq):
            if rng.random() < 0.3:
                continue
            for j in range(int(rng.integers(2, 4))):
                b = int(rng.integers(0, len(tax.bands) - 1))
                p = float(rng.uniform(0.3, 0.7))
                out.append(suggested(tax, st, {tax.bands[b]: p, tax.bands[b + 1]: 1 - p}, f"{st}-{j}",
                                     weight=float(rng.uniform(0.5, 1.0))))
    return out


def test_nothing_shown_contradicts_a_rating_the_posterior_changed(tax: Taxonomy) -> None:
    """When the posterior's rating differs from the expected-score computation's, that computation's rating,
    range and limiter move to ``expected_score``, the percentage kept is labelled, the limiter is the draws'
    and no sensitivity path of the other model is shown (the reason is); the table and report render it."""
    from evidencenlp.assess.report import render_html
    from evidencenlp.cli.assess import _print_tables

    sts = tax.statements_of("safe")
    records = [suggested(tax, st, {"inadequate": 0.45, "requires_improvement": 0.55}, f"n{i}{j}")
               for i, st in enumerate(sts[:4]) for j in range(2)]
    result = assess_records(records, RAW)
    kq = result.locations[0].key_questions["safe"]
    assert (kq.rating, kq.expected_score_rating) == ("inadequate", "requires_improvement")
    assert kq.expected_score is not None and kq.expected_score["rating"] == "requires_improvement"
    assert kq.score == kq.expected_score["score"] and kq.score_describes == "expected_score"
    assert kq.range_rating is None
    assert f"the expected-score computation gives requires_improvement ({kq.score}%" in kq.basis
    assert kq.sensitivity is None and kq.sensitivity_omitted is not None
    assert "requires_improvement" in kq.sensitivity_omitted and "inadequate" in kq.sensitivity_omitted
    assert kq.limited_share is not None and kq.posterior is not None
    if kq.limited_by is not None:
        assert kq.limited_by["share_of_draws"] == pytest.approx(kq.limited_share, abs=1e-4)
        assert kq.limited_by.get("to", kq.rating) == kq.rating
    for line in kq.rules_applied:  # the expected-score lines that end in its rating are labelled
        if line.startswith(("threshold", "limiter", "no limiter", "percentage")):
            raise AssertionError(line)
    out = kq.to_dict()
    assert out["sensitivity"] is None and out["sensitivity_omitted"] and out["score_describes"] == "expected_score"
    html = render_html(result)
    assert "expected-score computation)" in html and "sensitivity search runs on the expected-score" in html
    _print_tables(result)  # renders without error


def test_changed_ratings_and_overall_principles_say_what_they_describe(tax: Taxonomy) -> None:
    """Over random unsure locations: every key question the posterior changed is described as above, one it
    kept says its sensitivity was found on the expected-score computation; an overall rating the posterior
    changed marks its principle as describing ``from_key_question_ratings``."""
    changed_kq = kept_kq = changed_overall = 0
    for seed in range(25):
        loc = assess_records(uncertain_location(tax, seed), RAW).locations[0]
        for kq in loc.key_questions.values():
            if kq.posterior is None or kq.rating is None:
                continue
            if kq.rating != kq.expected_score_rating:
                changed_kq += 1
                assert kq.sensitivity is None and kq.sensitivity_omitted and kq.expected_score is not None
                assert kq.range_rating is None and kq.score_describes == "expected_score"
                assert kq.limited_by is None or "from" not in kq.limited_by or kq.limited_by["to"] == kq.rating
            else:
                kept_kq += 1
                assert kq.expected_score is None and kq.sensitivity_omitted is None
                assert kq.sensitivity is not None and "expected-score computation" in kq.sensitivity.method
                assert "gives the same rating" in kq.basis
        overall = loc.overall
        if overall.rating != overall.from_key_question_ratings:
            changed_overall += 1
            assert overall.principle_describes == "from_key_question_ratings"
            assert overall.rules_applied[0].startswith(
                f"on the key question ratings (from_key_question_ratings: {overall.from_key_question_ratings})")
        else:
            assert overall.principle_describes == "rating"
    assert changed_kq and kept_kq, (changed_kq, kept_kq)


def test_an_overall_rating_the_posterior_changed_marks_its_principle(tax: Taxonomy) -> None:
    """Five key questions each good, with a 0.4 chance of a limiting finding: each is most probably good (the
    principles: good), but two or more are limited in about 0.66 of the draws, so the overall rating is
    requires improvement; the principle shown is marked as describing ``from_key_question_ratings``."""
    from evidencenlp.assess.report import render_html
    from evidencenlp.cli.assess import _print_tables

    records = []
    for kq in tax.key_questions:
        sts = tax.statements_of(kq)
        records += [confirmed(tax, st, "good", f"{kq}g{i}") for i, st in enumerate(sts[:3])]
        records.append(suggested(tax, sts[3], {"inadequate": 0.4, "good": 0.6}, f"{kq}d"))
    result = assess_records(records, RAW)
    loc = result.locations[0]
    assert {kq.rating for kq in loc.key_questions.values()} == {"good"}
    overall = loc.overall
    assert (overall.rating, overall.from_key_question_ratings) == ("requires_improvement", "good")
    out = overall.to_dict()
    assert out["principle_describes"] == "from_key_question_ratings" and out["principle"]["rating"] == "good"
    assert all(line.startswith("on the key question ratings (from_key_question_ratings: good)")
               for line in overall.rules_applied if "principle" in line and "draws" not in line)
    assert "(from_key_question_ratings: good)" in render_html(result)
    _print_tables(result)
