"""Score statements, rate key questions, find the sensitivity and the overall rating of one location.

Statement score (indicative): the confidence-weighted mean of the notes' scores, rounded to the
nearest score; an exact half goes to the LOWER score (a concern is not averaged away). A confirmed
note's score is its band's; an unreviewed suggestion's is, by the framework's ``unreviewed_score``,
its expected score (band probabilities, calibrated and adapted to the location by
:mod:`evidencenlp.assess.bands`, times the band scores) or its most probable band's. One note is
evidence: a statement with one confirmed note is scored (``min_notes`` raises the bar).

Key question: the published percentage (sum of statement scores / (max score x statements) x 100),
where each statement counts in full once its notes weigh the framework's ``statement_full_weight``
(one confirmed note) and in proportion to its weight below that; so a key question whose statements
are thin is still judged from all of its notes, and with confirmed notes the figure is exactly the
published one. Then the thresholds (rounded half up) and the limiters, over the statements that
count in full plus every *serious finding* (a confirmed, or confidently suggested, note in the worst
band), which counts as the lowest score: serious negative evidence is never averaged away.

Overall: the framework's principles over the five key question ratings, a key question without a
rating counting as ``unrated_key_question_counts_as`` (never as if it were fine); the overall rating
is provisional when any key question is unrated or rated from thin evidence.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from evidencenlp.assess.bands import BandCalibration, adapt_to_location, full_probabilities
from evidencenlp.assess.model import (
    AssessOptions,
    KeyQuestionAssessment,
    LocationAssessment,
    NoteChange,
    OverallAssessment,
    PrincipleEvidence,
    Sensitivity,
    SensitivityPath,
    StatementAssessment,
    statement_is_scored,
)
from evidencenlp.assess.posterior import UNRATED, Posterior, probabilities_text, sample_posterior, uncertain
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.frameworks.rules import EvidencePolicy, Limiter, RangeResult, RatingRules

STATEMENT_RULE = ("statement score = confidence-weighted mean of the notes' scores (a confirmed note: its band's; "
                  "an unreviewed suggestion: as rating_rules.evidence.unreviewed_score says), rounded to the "
                  "nearest score, an exact half to the lower score")
KEY_QUESTION_RULE = ("key question percentage = sum over statements of (score x counts_as) / (max score x sum of "
                     "counts_as) x 100, where counts_as = min(1, the statement's evidence weight / "
                     "statement_full_weight); with every statement counting in full this is the published sum of "
                     "scores / (max score x statements)")
EPS = 1e-9


def statement_score(mean: float) -> int:
    """Nearest integer score, an exact half rounded DOWN (2.5 → 2): ``ceil(mean - 0.5)``."""
    return int(math.ceil(mean - 0.5 - EPS))


def full_weight(rules: RatingRules, options: AssessOptions) -> float:
    """The evidence weight at which a statement counts in full (the option, else the framework data)."""
    return options.min_weight if options.min_weight is not None else rules.evidence.statement_full_weight


def counts_as(weight: float, full: float) -> float:
    """The share of a full statement that ``weight`` of evidence counts for (0-1)."""
    if full <= 0:
        return 1.0 if weight > 0 else 0.0
    return max(0.0, min(1.0, weight / full))


def note_score(record: EvidenceRecord, rules: RatingRules) -> float:
    """A note's score on its statement.

    A confirmed note (or one without probabilities over every band) scores its band. An unreviewed
    suggestion scores, when the policy's ``unreviewed_score`` is ``expected``, the sum of its band
    probabilities times the band scores (so an uncertain note pulls its statement only as far as the
    model believes it), else its most probable band's score.
    """
    tax = rules.taxonomy
    if record.confirmed or rules.evidence.unreviewed_score != "expected":
        return float(tax.band_score(record.band))
    probs = full_probabilities(record, tax.bands)
    if probs is None:
        return float(tax.band_score(record.band))
    return float(sum(float(p) * tax.band_score(b) for p, b in zip(probs, tax.bands)))


def serious_share(record: EvidenceRecord, policy: EvidencePolicy) -> float:
    """How much of one serious finding on its statement a note is: its weight x P(serious band).

    A confirmed note in the serious band is exactly 1; an unreviewed suggestion is the probability of
    its placement times the probability of the serious band (``band_probabilities``).
    """
    if policy.serious_finding_band is None:
        return 0.0
    return record.weight * record.band_probability(policy.serious_finding_band)


def serious_notes(records: Sequence[EvidenceRecord], policy: EvidencePolicy) -> tuple[str, ...]:
    """The notes that make a statement's serious finding (empty when it has none).

    A statement has one when a single note is a serious finding on its own (share at least
    ``serious_finding_min_confidence``: any confirmed note in the serious band) or when its notes together
    are expected to hold at least ``serious_finding_expected_count`` findings (the sum of the shares).
    Named: the notes serious on their own, else the largest shares that make up the expected count.
    """
    shares = [(serious_share(r, policy), r.note) for r in records]
    alone = [note for share, note in shares if share > EPS and share >= policy.serious_finding_min_confidence - EPS]
    if alone:
        return tuple(dict.fromkeys(alone))
    if sum(share for share, _ in shares) < policy.serious_finding_expected_count - EPS:
        return ()
    named: list[str] = []
    total = 0.0
    for share, note in sorted(shares, key=lambda x: -x[0]):
        if total >= policy.serious_finding_expected_count - EPS or share <= EPS:
            break
        named.append(note)
        total += share
    return tuple(dict.fromkeys(named))


def assess_statement(statement: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                     options: AssessOptions) -> StatementAssessment:
    """Band distribution, categories, indicative score, how much it counts and its serious findings."""
    tax = rules.taxonomy
    weights = {b: 0.0 for b in tax.bands}
    for r in records:
        weights[r.band] += r.weight
    total = sum(weights.values())
    mean = sum(r.weight * note_score(r, rules) for r in records) / total if total > 0 else 0.0
    categories = Counter(r.evidence_category for r in records if r.evidence_category)
    serious = serious_notes(records, rules.evidence)
    reason = None
    if not statement_is_scored(len(records), total, options):
        reason = (f"{len(records)} note(s), fewer than the {options.min_notes} needed (--min-notes)"
                  if len(records) < options.min_notes else "the notes' confidence weight is 0")
    if reason is not None:
        return StatementAssessment(statement, tax.title(statement), tax.key_question_of(statement), list(records),
                                   weights, dict(categories), mean, None, None,
                                   f"insufficient evidence: {reason}; not scored", True, reason)
    score = statement_score(mean)
    if serious and rules.evidence.serious_finding_scores_statement:
        score = min(score, rules.evidence.serious_finding_counts_as_score)
    share = counts_as(total, full_weight(rules, options))
    rule = (f"{STATEMENT_RULE}: mean {mean:.2f} over {len(records)} notes (weight {total:.2f}) -> {score} "
            f"({rules.score_band(score)}); counts as {share:.2f} of a statement")
    return StatementAssessment(statement, tax.title(statement), tax.key_question_of(statement), list(records),
                               weights, dict(categories), mean, score, rules.score_band(score), rule, False,
                               credibility=share, serious_findings=serious)


@dataclass(frozen=True)
class StatementEvidence:
    """What the key question rating needs of one statement: its score, share and serious finding."""

    statement: str
    score: int
    counts_as: float
    serious: bool = False


@dataclass(frozen=True)
class KQRating:
    """The rating of a key question from its statements."""

    rating: str | None
    range: RangeResult | None
    limiter: Limiter | None
    exact: float | None
    #: the statements that triggered the limiter
    low: tuple[str, ...] = ()


def rate_statements(items: Sequence[StatementEvidence], rules: RatingRules) -> KQRating:
    """Percentage (statements weighted by ``counts_as``), threshold band and limiter of a key question.

    The limiter sees the scores of the statements that count in full, and a serious finding as the
    policy's ``serious_finding_counts_as_score``.
    """
    items = [i for i in items if i.counts_as > EPS]
    if not items:
        return KQRating(None, None, None, None)
    share = sum(i.counts_as for i in items)
    exact = sum(i.score * i.counts_as for i in items) / (rules.max_score * share) * 100
    rng = rules.percent_band(exact)
    floor = rules.evidence.serious_finding_counts_as_score
    seen = {i.statement: min([i.score] if i.counts_as >= 1 - EPS else [], default=rules.max_score + 1)
            for i in items}
    for i in items:
        if i.serious:
            seen[i.statement] = min(seen[i.statement], floor)
    limiter = rules.limiter_for(rng.band, [v for v in seen.values() if v <= rules.max_score])
    low = tuple(st for st, v in seen.items() if limiter is not None and v <= limiter.at_most)
    return KQRating(limiter.limit_to if limiter else rng.band, rng, limiter, exact, low)


def rate_scores(scores: Sequence[int], rules: RatingRules) -> KQRating:
    """The published rule on whole statement scores (every statement counting in full)."""
    return rate_statements([StatementEvidence(f"s{i}", s, 1.0) for i, s in enumerate(scores)], rules)


def _evidence(statements: Sequence[StatementAssessment]) -> list[StatementEvidence]:
    return [StatementEvidence(s.statement, s.score, s.credibility, bool(s.serious_findings))
            for s in statements if s.score is not None]


def _no_rating_reason(records: Sequence[EvidenceRecord], statements: Sequence[StatementAssessment]) -> str:
    if not records:
        return "no notes were placed on this key question: evidence on any of its statements is needed"
    reasons = sorted({s.insufficient_reason for s in statements if s.insufficient_reason})
    return f"{len(records)} note(s), none usable: {'; '.join(reasons)}"


def assess_key_question(key_question: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                        options: AssessOptions) -> KeyQuestionAssessment:
    """Score every statement of a key question with evidence, then rate the key question from all of them."""
    tax = rules.taxonomy
    by_statement: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        by_statement.setdefault(r.statement, []).append(r)
    order = tax.statements_of(key_question)
    statements = [assess_statement(s, by_statement[s], rules, options) for s in order if s in by_statement]
    without = [s for s in order if s not in by_statement]
    evidence = _evidence(statements)
    result = rate_statements(evidence, rules)
    weight = sum(r.weight for r in records)
    thin = weight < rules.evidence.key_question_thin_weight - EPS
    partial = [e for e in evidence if e.counts_as < 1 - EPS]
    basis = ("every statement with evidence counts in full (the published rule)" if not partial else
             f"judged from all {len(records)} notes: {len(partial)} of {len(evidence)} statements have less than "
             f"a full statement's evidence ({full_weight(rules, options):g}) and count in proportion to it")
    applied = [STATEMENT_RULE + ".", KEY_QUESTION_RULE + "."]
    limited_by = None
    reason = None
    if result.range is None:
        reason = _no_rating_reason(records, statements)
        applied.append(f"no rating: {reason}")
    else:
        applied.append(f"percentage = {result.exact:.2f}% over {len(evidence)} statement(s) with evidence "
                       f"(counting as {sum(e.counts_as for e in evidence):.2f} statements) -> {result.range.rounded}% "
                       "(rounded half up)")
        applied.append(f"threshold {result.range.threshold.describe()} -> {result.range.band}")
        if result.limiter is not None:
            serious = [s.statement for s in statements if s.serious_findings and s.statement in result.low]
            limited_by = {**result.limiter.to_dict(), "from": result.range.band, "to": result.limiter.limit_to,
                          "statements": list(result.low), "serious_findings": serious}
            why = f" (serious findings: {', '.join(serious)})" if serious else ""
            applied.append(f"limiter: {result.limiter.description} ({', '.join(result.low)}){why} -> "
                           f"{result.limiter.limit_to}")
        else:
            applied.append("no limiter applies")
        if thin:
            applied.append(f"thin evidence: the notes weigh {weight:.2f}, below the "
                           f"{rules.evidence.key_question_thin_weight:g} of a firm rating")
    kq = KeyQuestionAssessment(
        key_question=key_question, title=tax.title(key_question), rating=result.rating,
        range_rating=result.range.band if result.range else None,
        score=result.range.rounded if result.range else None, percent_exact=result.exact,
        limited_by=limited_by, statements=statements, statements_without_evidence=without, rules_applied=applied,
        evidence_weight=weight, thin=thin and result.rating is not None, basis=basis if result.range else "",
        no_rating_reason=reason)
    if result.rating is not None:
        kq.sensitivity = sensitivity(statements, rules, result.rating, options)
        if result.rating in tax.positive_bands:  # good or outstanding: the better half of the bands
            kq.principles = principles_evidenced(records, rules)
    return kq


def principles_evidenced(records: Sequence[EvidenceRecord], rules: RatingRules) -> list[PrincipleEvidence]:
    """The King's Fund principles evidenced by notes in a positive band (good or outstanding), with their notes.

    Principles of outstanding care are evidence in that direction only: a principle attached to a
    requires-improvement or inadequate note is not counted.
    """
    tax = rules.taxonomy
    notes: dict[str, list[str]] = {}
    for r in records:
        if r.band not in tax.positive_bands:
            continue
        for p in r.principles:
            notes.setdefault(p, []).append(r.note)
    return [PrincipleEvidence(p, tax.title(p), tuple(dict.fromkeys(notes[p]))) for p in tax.principles if p in notes]


# -- sensitivity --------------------------------------------------------------------------------


def _path(statements: Sequence[StatementAssessment], rules: RatingRules, current: str, up: bool,
          options: AssessOptions) -> SensitivityPath:
    direction = "up" if up else "down"
    tax = rules.taxonomy
    target_band = tax.bands[0] if up else tax.bands[-1]
    if current == target_band:
        return SensitivityPath(direction, None, None, reason=f"already {current}")
    scored = [s for s in statements if s.score is not None]
    target_score = tax.band_score(target_band)
    policy = rules.evidence
    # per statement: running weighted sum, total weight, share, serious notes, and the notes not yet changed
    sums = {s.statement: sum(n.weight * note_score(n, rules) for n in s.notes) for s in scored}
    totals = {s.statement: sum(n.weight for n in s.notes) for s in scored}
    shares = {s.statement: s.credibility for s in scored}
    serious = {s.statement: {id(n): serious_share(n, policy) for n in s.notes} for s in scored}
    pending = {s.statement: [n for n in s.notes if abs(note_score(n, rules) - target_score) > EPS] for s in scored}
    changes: list[NoteChange] = []
    rank_now = rules.band_rank(current)
    sign = 1 if up else -1

    def serious_after(st: str, note: EvidenceRecord) -> dict[int, float]:
        # the changed note's band is taken as certain: its share is its weight in the serious band, else 0
        return {**serious[st], id(note): note.weight if target_band == policy.serious_finding_band else 0.0}

    def is_serious(marks: Mapping[int, float]) -> bool:
        return (max(marks.values(), default=0.0) >= max(policy.serious_finding_min_confidence, EPS) - EPS
                or sum(marks.values()) >= policy.serious_finding_expected_count - EPS)

    def rate(trial: Mapping[str, float], marks: Mapping[str, Mapping[int, float]]) -> tuple[KQRating, list[int]]:
        scores = {x: statement_score(trial[x] / totals[x]) for x in trial}
        items = [StatementEvidence(x, scores[x], shares[x], is_serious(marks[x])) for x in trial]
        return rate_statements(items, rules), list(scores.values())

    while True:
        best: tuple[tuple[float, ...], str, EvidenceRecord] | None = None
        for st, notes in pending.items():
            if not notes or totals[st] <= 0:
                continue
            # the note of this statement whose change moves the weighted sum furthest
            note = max(notes, key=lambda n: n.weight * abs(target_score - note_score(n, rules)))
            trial = dict(sums)
            trial[st] += note.weight * (target_score - note_score(note, rules))
            res, scores = rate(trial, {**serious, st: serious_after(st, note)})
            key = (sign * rules.band_rank(res.rating), sign * min(scores),
                   sign * (res.exact if res.exact is not None else 0.0),
                   sign * sum(trial[x] / totals[x] for x in sums))
            if best is None or key > best[0]:
                best = (key, st, note)
        if best is None:
            return SensitivityPath(direction, None, None, tuple(changes),
                                   reason=f"changing the band of every note of the scored statements does not move "
                                          f"the rating {direction}")
        _, st, note = best
        sums[st] += note.weight * (target_score - note_score(note, rules))
        serious[st] = serious_after(st, note)
        pending[st].remove(note)
        changes.append(NoteChange(note.note, st, note.band, target_band))
        rating = rate(sums, serious)[0].rating
        if sign * rules.band_rank(rating) > sign * rank_now:
            return SensitivityPath(direction, len(changes), rating, tuple(changes))


def sensitivity(statements: Sequence[StatementAssessment], rules: RatingRules, current: str,
                options: AssessOptions | None = None) -> Sensitivity:
    """Greedy search, both ways, for the fewest notes whose band change moves the key question rating."""
    options = options or AssessOptions()
    return Sensitivity(_path(statements, rules, current, True, options),
                       _path(statements, rules, current, False, options))


# -- overall and one location -------------------------------------------------------------------


def assess_overall(kqs: Mapping[str, KeyQuestionAssessment], rules: RatingRules,
                   options: AssessOptions) -> OverallAssessment:
    """The framework's overall principles over every key question; unrated ones count as the policy says.

    Provisional (with the reasons) when a key question is unrated or rated from thin evidence. No
    overall rating when no key question has one.
    """
    rated = [k for k, v in kqs.items() if v.rating is not None]
    unrated = [k for k, v in kqs.items() if v.rating is None]
    thin = [k for k, v in kqs.items() if v.rating is not None and v.thin]
    if not rated:
        return OverallAssessment(None, None, {b: 0 for b in rules.taxonomy.bands}, [], unrated,
                                 options.regulation_breach, None, ["no key question has a rating: no overall rating"],
                                 provisional=True, provisional_reasons=["no key question has a rating"])
    stand_in = rules.evidence.unrated_key_question_counts_as or rules.taxonomy.bands[-1]
    result = rules.overall_rating([*ratings_of(kqs), *[stand_in] * len(unrated)], options.regulation_breach)
    assert result is not None  # there are ratings
    applied = [f"principle {result.principle.position}: {result.principle.description}"]
    bounds = None
    reasons: list[str] = []
    if unrated:  # what the overall rating could be once the unrated key questions are rated
        best = rules.overall_rating([*ratings_of(kqs), *[rules.taxonomy.bands[0]] * len(unrated)],
                                    options.regulation_breach)
        worst = rules.overall_rating([*ratings_of(kqs), *[rules.taxonomy.bands[-1]] * len(unrated)],
                                     options.regulation_breach)
        bounds = {"best": best.rating if best else None, "worst": worst.rating if worst else None}
        applied.append(f"{len(unrated)} key question(s) without a rating ({', '.join(unrated)}) count as {stand_in}, "
                       "never as if they were fine; once rated, the overall rating could be from "
                       f"{bounds['worst']} to {bounds['best']}")
        reasons.append(f"no rating for {', '.join(unrated)} (" + "; ".join(
            f"{k}: {kqs[k].no_rating_reason}" for k in unrated) + ")")
    if thin:
        reasons.append(f"rated from thin evidence: {', '.join(thin)} (notes weigh less than "
                       f"{rules.evidence.key_question_thin_weight:g})")
    if result.capped_from:
        applied.append(f"regulation breach recorded by the inspector: capped from {result.capped_from} to "
                       f"{result.rating}")
    if reasons:
        applied.append("provisional: " + "; ".join(reasons))
    return OverallAssessment(result.rating, result.principle.to_dict(), result.counts, rated, unrated,
                             options.regulation_breach, result.capped_from, applied, bounds,
                             provisional=bool(reasons), provisional_reasons=reasons)


POSTERIOR_RULE = ("rating = the most probable over draws of confirmed decisions: each unreviewed note's band drawn "
                  "from its calibrated, location-adapted probabilities (and, with posterior_placements: sample, its "
                  "statement from its placements' probabilities), the published rules applied to each draw; "
                  "confirmed notes are the same in every draw")


#: how the lines of ``rules_applied`` that describe the expected-score computation's rating begin
EXPECTED_SCORE_LINES = ("percentage = ", "threshold ", "limiter: ", "no limiter applies")


def decide_by_posterior(kq: KeyQuestionAssessment, posterior: Posterior, rules: RatingRules,
                        options: AssessOptions) -> None:
    """Set a rated key question's rating to its most probable one over the draws (in place), saying so.

    A key question without a rating (no usable notes) keeps none. The percentage (``score``,
    ``percent_exact``) stays the expected-score computation's and ``score_describes`` says so. When the
    posterior gives another rating than that computation, nothing shown describes the other model: the
    computation's rating, range, limiter and score move to ``expected_score``; ``limited_by`` describes the
    draws (the share a limiter lowered); the sensitivity paths, a search on the expected-score computation,
    are omitted with the reason (``sensitivity_omitted``). When the ratings agree they are kept and say on
    which computation they were found.
    """
    probs = posterior.key_questions[kq.key_question]
    if kq.rating is None:
        return
    chosen, p = posterior.most_probable(kq.key_question, rules.taxonomy.bands)
    if chosen is None:
        return
    expected = kq.rating
    share = posterior.limited[kq.key_question]
    kq.posterior = dict(probs)
    kq.expected_score_rating = expected
    kq.limited_share = share
    kq.score_describes = "expected_score"
    unrated = probs.get(UNRATED, 0.0)
    kq.rules_applied.append(
        f"{POSTERIOR_RULE}: over {posterior.draws} draws (seed {posterior.seed}) {probabilities_text(probs)}; a "
        f"limiter lowered the rating in {share:.2f} of them -> most probable {chosen} "
        f"({p:.2f}{f' of all draws; {unrated:.2f} without a rating' if unrated > 0 else ''})")
    percent = f"{kq.score}%" if kq.score is not None else "no percentage"
    same = "the same rating" if chosen == expected else expected
    kq.basis = (f"posterior over {posterior.draws} draws: {chosen} (probability {p:.2f}); the expected-score "
                f"computation gives {same} ({percent}, the percentage shown): {kq.basis}")
    if chosen == expected:
        if kq.sensitivity is not None:
            kq.sensitivity = replace(kq.sensitivity, method=f"on the expected-score computation, which gives the "
                                                            f"same rating as the posterior: {kq.sensitivity.method}")
        return
    kq.rules_applied = [f"expected-score computation (not the rating shown): {line}" if line.startswith(
        EXPECTED_SCORE_LINES) else line for line in kq.rules_applied]
    kq.expected_score = {"rating": expected, "score": kq.score, "percent_exact": kq.percent_exact,
                         "range_rating": kq.range_rating, "limited_by": kq.limited_by}
    kq.range_rating = None
    kq.rating = chosen
    kq.limited_by = _posterior_limiter(kq.key_question, chosen, posterior)
    kq.sensitivity = None
    kq.sensitivity_omitted = (f"the rating is the posterior's ({chosen}); the sensitivity search runs on the "
                              f"expected-score computation, which gives {expected}, so its paths are not shown")
    kq.rules_applied.append(f"sensitivity: not shown ({kq.sensitivity_omitted})")
    kq.principles = (principles_evidenced([n for s in kq.statements for n in s.notes], rules)
                     if chosen in rules.taxonomy.positive_bands else [])


def _posterior_limiter(key_question: str, chosen: str, posterior: Posterior) -> dict[str, Any] | None:
    """``limited_by`` of a rating the posterior decided: None when no draw was limited; the range most often
    limited from (``from``/``to``) only when a limiter set the rating in most of the draws that gave it."""
    share = posterior.limited[key_question]
    if share <= 0:
        return None
    of_rating, from_band = posterior.limited_to.get(key_question, {}).get(chosen, (0.0, None))
    text = f"a limiter lowered the rating in {share:.2f} of the {posterior.draws} draws"
    out: dict[str, Any] = {"share_of_draws": round(share, 4), "draws": posterior.draws,
                           "share_of_draws_rated_so": round(of_rating, 4), "statements": [], "serious_findings": []}
    if from_band is not None and of_rating > 0.5:
        out.update({"from": from_band, "to": chosen})
        text += f" ({of_rating:.2f} of those rated {chosen} were lowered to it, most often from {from_band})"
    return {**out, "description": text}


def decide_overall_by_posterior(overall: OverallAssessment, chosen: str, p: float, posterior: Posterior) -> None:
    """Set the overall rating to the most probable over the draws (in place). When it differs from what the
    principles give on the key question ratings, ``principle_describes`` and every line of the principles'
    reasoning say they describe ``from_key_question_ratings``, not the rating."""
    given = overall.rating
    if chosen != given:
        overall.principle_describes = "from_key_question_ratings"
        overall.rules_applied = [line if line.startswith("provisional") else
                                 f"on the key question ratings (from_key_question_ratings: {given}): {line}"
                                 for line in overall.rules_applied]
    overall.rules_applied.append(
        f"overall = the most probable over {posterior.draws} draws of the notes' decisions (each rated by "
        f"the same rules): {probabilities_text(posterior.overall)} -> {chosen} ({p:.2f})"
        + (f"; the principles on the most probable key question ratings give {given}" if chosen != given else ""))
    overall.rating = chosen


def ratings_of(kqs: Mapping[str, KeyQuestionAssessment]) -> list[str]:
    """The ratings of the key questions that have one."""
    return [v.rating for v in kqs.values() if v.rating is not None]


def assess_location(location: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                    options: AssessOptions, calibration: BandCalibration | None = None) -> LocationAssessment:
    """Every key question of the framework and the overall rating, for one location's records.

    The suggestions' band probabilities are first calibrated (``calibration``, None: as they are) and
    adapted to the location's own band mix (``rules.evidence.location_prior_strength``; see
    :mod:`evidencenlp.assess.bands`); confirmed notes are never changed.
    """
    tax = rules.taxonomy
    policy = rules.evidence
    records = adapt_to_location(records, tax.bands, calibration, policy.location_prior_strength)
    kqs = {kq: assess_key_question(kq, [r for r in records if r.key_question == kq], rules, options)
           for kq in tax.key_questions}
    posterior = None
    if policy.key_question_decision == "posterior" and uncertain(records, tax.bands):
        posterior = sample_posterior(records, rules, full_weight(rules, options), policy.posterior_draws,
                                     policy.posterior_seed, policy.posterior_placements, options.regulation_breach,
                                     options)
        for assessed in kqs.values():
            decide_by_posterior(assessed, posterior, rules, options)
    overall = assess_overall(kqs, rules, options)
    overall.from_key_question_ratings = overall.rating
    if posterior is not None and overall.rating is not None:
        overall.posterior = dict(posterior.overall)
        chosen, p = posterior.most_probable(None, tax.bands)
        if policy.overall_decision == "posterior" and chosen is not None:
            decide_overall_by_posterior(overall, chosen, p, posterior)
    primary = [r for r in records if r.primary]  # a suggestion's further placements are not further notes
    return LocationAssessment(location, kqs, overall, len(primary),
                              sum(1 for r in primary if r.confirmed), dict(Counter(r.service for r in primary
                                                                                   if r.service)))
