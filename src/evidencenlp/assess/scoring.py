"""Score statements, rate key questions, find the sensitivity and the overall rating of one location.

Statement score (indicative): the confidence-weighted mean of the notes' band scores, rounded to the
nearest score; an exact half goes to the LOWER score (a concern is not averaged away). A statement
with fewer than ``min_notes`` notes, or whose weights sum below ``min_weight``, is
``insufficient_evidence`` and is not scored.

Key question: sum of statement scores / (max score × statements scored) × 100, rounded half up to a
whole percent, then the framework's thresholds and limiters (:mod:`evidencenlp.assess.rules`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

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
)
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.assess.rules import Limiter, RangeResult, RatingRules

STATEMENT_RULE = ("statement score = confidence-weighted mean of the notes' band scores, rounded to the nearest "
                  "score, an exact half to the lower score")


def statement_score(mean: float) -> int:
    """Nearest integer score, an exact half rounded DOWN (2.5 → 2): ``ceil(mean - 0.5)``."""
    return int(math.ceil(mean - 0.5 - 1e-9))


def assess_statement(statement: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                     options: AssessOptions) -> StatementAssessment:
    """Band distribution, categories, indicative score and the rule that produced it, for one statement."""
    tax = rules.taxonomy
    weights = {b: 0.0 for b in tax.bands}
    for r in records:
        weights[r.band] += r.weight
    total = sum(weights.values())
    mean = sum(w * tax.band_score(b) for b, w in weights.items()) / total if total > 0 else 0.0
    categories = Counter(r.evidence_category for r in records if r.evidence_category)
    reason = None
    if len(records) < options.min_notes:
        reason = f"{len(records)} note(s), fewer than the {options.min_notes} needed (--min-notes)"
    elif total < options.min_weight - 1e-9:
        reason = (f"confidence weight {total:.2f}, below the {options.min_weight:g} needed (--min-weight; a "
                  "confirmed note weighs 1, a suggestion its confidence)")
    if reason is not None:
        return StatementAssessment(statement, tax.title(statement), tax.key_question_of(statement), list(records),
                                   weights, dict(categories), mean, None, None,
                                   f"insufficient evidence: {reason}; not scored", True, reason)
    score = statement_score(mean)
    rule = (f"{STATEMENT_RULE}: mean {mean:.2f} over {len(records)} notes (weight {total:.2f}) -> {score} "
            f"({rules.score_band(score)})")
    return StatementAssessment(statement, tax.title(statement), tax.key_question_of(statement), list(records),
                               weights, dict(categories), mean, score, rules.score_band(score), rule, False)


@dataclass(frozen=True)
class KQRating:
    """The rating of a key question from its statement scores."""

    rating: str | None
    range: RangeResult | None
    limiter: Limiter | None
    exact: float | None


def rate_scores(scores: Sequence[int], rules: RatingRules) -> KQRating:
    """Percentage, threshold band and limiter for a key question's statement scores."""
    if not scores:
        return KQRating(None, None, None, None)
    exact = sum(scores) / (rules.max_score * len(scores)) * 100
    rng = rules.percent_band(exact)
    limiter = rules.limiter_for(rng.band, scores)
    return KQRating(limiter.limit_to if limiter else rng.band, rng, limiter, exact)


def assess_key_question(key_question: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                        options: AssessOptions) -> KeyQuestionAssessment:
    """Score every statement of a key question with evidence, then rate the key question."""
    tax = rules.taxonomy
    by_statement: dict[str, list[EvidenceRecord]] = {}
    for r in records:
        by_statement.setdefault(r.statement, []).append(r)
    order = tax.statements_of(key_question)
    statements = [assess_statement(s, by_statement[s], rules, options) for s in order if s in by_statement]
    without = [s for s in order if s not in by_statement]
    scores = [s.score for s in statements if s.score is not None]
    result = rate_scores(scores, rules)
    applied = [STATEMENT_RULE + "."]
    limited_by = None
    if result.range is None:
        applied.append("no statement has enough evidence to be scored: no rating")
    else:
        applied.append(f"percentage = sum of scores {sum(scores)} / ({rules.max_score} x {len(scores)} statements "
                       f"scored) x 100 = {result.exact:.2f}% -> {result.range.rounded}% (rounded half up)")
        applied.append(f"threshold {result.range.threshold.describe()} -> {result.range.band}")
        if result.limiter is not None:
            low = [s.statement for s in statements if s.score is not None and s.score <= result.limiter.at_most]
            limited_by = {**result.limiter.to_dict(), "from": result.range.band, "to": result.limiter.limit_to,
                          "statements": low}
            applied.append(f"limiter: {result.limiter.description} ({', '.join(low)}) -> {result.limiter.limit_to}")
        else:
            applied.append("no limiter applies")
    kq = KeyQuestionAssessment(
        key_question=key_question, title=tax.title(key_question), rating=result.rating,
        range_rating=result.range.band if result.range else None,
        score=result.range.rounded if result.range else None, percent_exact=result.exact,
        limited_by=limited_by, statements=statements, statements_without_evidence=without, rules_applied=applied)
    if result.rating is not None:
        kq.sensitivity = sensitivity(statements, rules, result.rating)
        if result.rating in tax.positive_bands:  # good or outstanding: the better half of the bands
            kq.principles = principles_evidenced(records, rules)
    return kq


def principles_evidenced(records: Sequence[EvidenceRecord], rules: RatingRules) -> list[PrincipleEvidence]:
    """The King's Fund principles the notes evidence, each with its notes (principles in framework order)."""
    notes: dict[str, list[str]] = {}
    for r in records:
        for p in r.principles:
            notes.setdefault(p, []).append(r.note)
    tax = rules.taxonomy
    return [PrincipleEvidence(p, tax.title(p), tuple(dict.fromkeys(notes[p]))) for p in tax.principles if p in notes]


# -- sensitivity --------------------------------------------------------------------------------


def _path(statements: Sequence[StatementAssessment], rules: RatingRules, current: str, up: bool) -> SensitivityPath:
    direction = "up" if up else "down"
    tax = rules.taxonomy
    target_band = tax.bands[0] if up else tax.bands[-1]
    if current == target_band:
        return SensitivityPath(direction, None, None, reason=f"already {current}")
    scored = [s for s in statements if s.score is not None]
    target_score = tax.band_score(target_band)
    # per statement: running weighted sum and total weight, and the notes not yet changed
    sums = {s.statement: sum(n.weight * tax.band_score(n.band) for n in s.notes) for s in scored}
    totals = {s.statement: sum(n.weight for n in s.notes) for s in scored}
    pending = {s.statement: [n for n in s.notes if n.band != target_band] for s in scored}
    changes: list[NoteChange] = []
    rank_now = rules.band_rank(current)
    sign = 1 if up else -1
    while True:
        best: tuple[tuple[float, ...], str, EvidenceRecord] | None = None
        for st, notes in pending.items():
            if not notes or totals[st] <= 0:
                continue
            # the note of this statement whose change moves the weighted sum furthest
            note = max(notes, key=lambda n: n.weight * abs(target_score - tax.band_score(n.band)))
            trial = dict(sums)
            trial[st] += note.weight * (target_score - tax.band_score(note.band))
            scores = [statement_score(trial[x] / totals[x]) for x in sums]
            res = rate_scores(scores, rules)
            key = (sign * rules.band_rank(res.rating), sign * min(scores), sign * (res.range.rounded if res.range else 0),
                   sign * sum(trial[x] / totals[x] for x in sums))
            if best is None or key > best[0]:
                best = (key, st, note)
        if best is None:
            return SensitivityPath(direction, None, None, tuple(changes),
                                   reason=f"changing the band of every note of the scored statements does not move "
                                          f"the rating {direction}")
        _, st, note = best
        sums[st] += note.weight * (target_score - tax.band_score(note.band))
        pending[st].remove(note)
        changes.append(NoteChange(note.note, st, note.band, target_band))
        rating = rate_scores([statement_score(sums[x] / totals[x]) for x in sums], rules).rating
        if sign * rules.band_rank(rating) > sign * rank_now:
            return SensitivityPath(direction, len(changes), rating, tuple(changes))


def sensitivity(statements: Sequence[StatementAssessment], rules: RatingRules, current: str) -> Sensitivity:
    """Greedy search, both ways, for the fewest notes whose band change moves the key question rating."""
    return Sensitivity(_path(statements, rules, current, up=True), _path(statements, rules, current, up=False))


# -- overall and one location -------------------------------------------------------------------


def assess_overall(kqs: Mapping[str, KeyQuestionAssessment], rules: RatingRules,
                   options: AssessOptions) -> OverallAssessment:
    """The framework's overall principles, in order, over the key questions that have a rating."""
    rated = [k for k, v in kqs.items() if v.rating is not None]
    unrated = [k for k, v in kqs.items() if v.rating is None]
    result = rules.overall_rating(ratings_of(kqs), options.regulation_breach)
    if result is None:
        return OverallAssessment(None, None, {b: 0 for b in rules.taxonomy.bands}, [], unrated,
                                 options.regulation_breach, None, ["no key question has a rating: no overall rating"])
    applied = [f"principle {result.principle.position}: {result.principle.description}"]
    bounds = None
    if unrated:  # what the overall rating could be once the unrated key questions are rated
        best = rules.overall_rating([*ratings_of(kqs), *[rules.taxonomy.bands[0]] * len(unrated)],
                                    options.regulation_breach)
        worst = rules.overall_rating([*ratings_of(kqs), *[rules.taxonomy.bands[-1]] * len(unrated)],
                                     options.regulation_breach)
        bounds = {"best": best.rating if best else None, "worst": worst.rating if worst else None}
    if result.capped_from:
        applied.append(f"regulation breach recorded by the inspector: capped from {result.capped_from} to "
                       f"{result.rating}")
    if unrated:
        applied.append(f"partial: {len(unrated)} key question(s) without a rating ({', '.join(unrated)}) are not "
                       f"counted; once rated, the overall rating could be from {bounds['worst'] if bounds else None} "
                       f"to {bounds['best'] if bounds else None}")
    return OverallAssessment(result.rating, result.principle.to_dict(), result.counts, rated, unrated,
                             options.regulation_breach, result.capped_from, applied, bounds)


def ratings_of(kqs: Mapping[str, KeyQuestionAssessment]) -> list[str]:
    """The ratings of the key questions that have one."""
    return [v.rating for v in kqs.values() if v.rating is not None]


def assess_location(location: str, records: Sequence[EvidenceRecord], rules: RatingRules,
                    options: AssessOptions) -> LocationAssessment:
    """Every key question of the framework and the overall rating, for one location's records."""
    tax = rules.taxonomy
    kqs = {kq: assess_key_question(kq, [r for r in records if r.key_question == kq], rules, options)
           for kq in tax.key_questions}
    services = Counter(r.service for r in records if r.service)
    return LocationAssessment(location, kqs, assess_overall(kqs, rules, options), len(records),
                              sum(1 for r in records if r.confirmed), dict(services))
