"""The rating rules, read from the framework data (``rating_rules`` of the primary framework).

Nothing here lists bands, key questions or thresholds: :class:`RatingRules` is built from
``frameworks/cqc-saf-2023.yaml`` (or a sector framework of the same shape) and answers three
questions: which band a key question percentage falls in, which limiter (if any) caps it, and which
overall-rating principle applies to a set of key question ratings.

Scores between the published whole-percent bands (e.g. 62.5 % or 87.5 %) are rounded half up to a
whole percent *before* the thresholds are applied (62.5 → 63 → good; 87.5 → 88 → outstanding); the
band is the one with the highest ``min_percent`` not above the rounded value, so an edited rule file
can never leave a gap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks.files import Framework
from evidencenlp.frameworks.taxonomy import Taxonomy

#: how a percentage between whole-percent thresholds is treated (stated in every output's ``rules``)
ROUNDING_RULE = ("the key question percentage is rounded half up to a whole percent before the thresholds "
                 "are applied (62.5% -> 63%, 87.5% -> 88%)")


def round_half_up(value: float) -> int:
    """Round to the nearest integer, halves upwards (62.5 → 63), unlike Python's banker's ``round``."""
    return int(math.floor(value + 0.5 + 1e-9))


@dataclass(frozen=True)
class Threshold:
    """A key question band and its percentage range (``max_percent`` None = up to 100)."""

    band: str
    min_percent: float
    max_percent: float | None = None

    def describe(self) -> str:
        """E.g. ``good: 63-87%``."""
        upper = f"-{_num(self.max_percent)}%" if self.max_percent is not None else "% or more"
        return f"{self.band}: {_num(self.min_percent)}{upper}"


@dataclass(frozen=True)
class Limiter:
    """In the ``when_band`` range with any statement scored ``<= at_most``, the rating is ``limit_to``."""

    when_band: str
    at_most: int
    limit_to: str
    description: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"when_band": self.when_band, "any_statement_score_at_most": self.at_most,
                "limit_to": self.limit_to, "description": self.description}


@dataclass(frozen=True)
class OverallPrinciple:
    """One overall-rating principle: ``rating`` when every ``min_count`` and ``max_count`` holds."""

    position: int
    rating: str
    min_count: Mapping[str, int] = field(default_factory=dict)
    max_count: Mapping[str, int] = field(default_factory=dict)
    cap_if_regulation_breach: str | None = None
    description: str = ""

    def matches(self, counts: Mapping[str, int]) -> bool:
        """True when the key question rating counts satisfy every condition of this principle."""
        return (all(counts.get(b, 0) >= n for b, n in self.min_count.items())
                and all(counts.get(b, 0) <= n for b, n in self.max_count.items()))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"position": self.position, "rating": self.rating, "min_count": dict(self.min_count),
                "max_count": dict(self.max_count), "cap_if_regulation_breach": self.cap_if_regulation_breach,
                "description": self.description}


@dataclass(frozen=True)
class EvidencePolicy:
    """How the evidence an assessment really has is weighed (``rating_rules.evidence`` of the framework data).

    The published rules assume every statement is scored; this policy says how thin evidence counts.
    A framework without the block gets the defaults below (the SAF file states the same values).
    """

    statement_full_weight: float = 1.0
    key_question_thin_weight: float = 3.0
    serious_finding_band: str | None = None
    serious_finding_min_confidence: float = 0.6
    serious_finding_expected_count: float = 1.0
    serious_finding_counts_as_score: int = 1
    unrated_key_question_counts_as: str | None = None
    #: how an unreviewed suggestion's band becomes a score: ``expected`` (its probabilities times the band
    #: scores) or ``most_probable`` (the score of its most probable band)
    unreviewed_score: str = "most_probable"
    #: notes' worth of the reference band mix that anchors a location's own mix (None: no adaptation)
    location_prior_strength: float | None = None
    #: how a key question with unreviewed suggestions is rated: ``expected_score`` (each suggestion scores its
    #: expected score, the rules applied once) or ``posterior`` (the most probable rating over draws of
    #: confirmed decisions from the suggestions' probabilities, the rules applied to each draw)
    key_question_decision: str = "expected_score"
    #: how the overall rating is reached under ``posterior``: ``key_question_ratings`` (the principles on the
    #: most probable key question ratings) or ``posterior`` (the most probable overall rating over the draws)
    overall_decision: str = "key_question_ratings"
    #: a statement with a serious finding also scores ``serious_finding_counts_as_score`` in the percentage
    #: (False: only the limiters see it)
    serious_finding_scores_statement: bool = False
    #: the validated values (the SAF file states the same): 4000 draws, placements keeping their weights
    posterior_draws: int = 4000
    posterior_seed: int = 0
    #: ``weights`` (every placement keeps its probability as its weight) or ``sample`` (each draw places a
    #: suggestion on one of its likely statements, weighing 1)
    posterior_placements: str = "weights"
    description: str = ""
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"statement_full_weight": self.statement_full_weight,
                "key_question_thin_weight": self.key_question_thin_weight,
                "serious_finding_band": self.serious_finding_band,
                "serious_finding_min_confidence": self.serious_finding_min_confidence,
                "serious_finding_expected_count": self.serious_finding_expected_count,
                "serious_finding_counts_as_score": self.serious_finding_counts_as_score,
                "unrated_key_question_counts_as": self.unrated_key_question_counts_as,
                "unreviewed_score": self.unreviewed_score, "location_prior_strength": self.location_prior_strength,
                "key_question_decision": self.key_question_decision, "overall_decision": self.overall_decision,
                "serious_finding_scores_statement": self.serious_finding_scores_statement,
                "posterior_draws": self.posterior_draws, "posterior_seed": self.posterior_seed,
                "posterior_placements": self.posterior_placements,
                "description": self.description, "source": self.source}


@dataclass(frozen=True)
class RangeResult:
    """The band a percentage falls in, and the numbers that produced it."""

    percent: float
    rounded: int
    band: str
    threshold: Threshold


@dataclass(frozen=True)
class OverallResult:
    """The overall rating, the principle that produced it and any cap applied."""

    rating: str
    principle: OverallPrinciple
    counts: dict[str, int]
    capped_from: str | None = None


@dataclass(frozen=True)
class RatingRules:
    """The scoring and rating rules of one framework, with its taxonomy (bands best-first)."""

    framework: str
    version: str
    source: str
    taxonomy: Taxonomy
    statement_scores: Mapping[int, str]
    thresholds: tuple[Threshold, ...]
    limiters: tuple[Limiter, ...]
    overall: tuple[OverallPrinciple, ...]
    evidence: EvidencePolicy = field(default_factory=EvidencePolicy)

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_framework(cls, framework: Framework, taxonomy: Taxonomy) -> RatingRules:
        """Read ``rating_rules`` from a loaded framework; errors name the file and the bad field."""
        rules = framework.data.get("rating_rules")
        where = f"{framework.path}: rating_rules"
        if not isinstance(rules, dict):
            raise FrameworkError(f"{framework.path}: the framework has no rating_rules; `assess` needs them")
        bands = set(taxonomy.bands)

        def band(value: Any, field_name: str) -> str:
            if value not in bands:
                raise FrameworkError(f"{where}.{field_name}: expected one of {', '.join(taxonomy.bands)}; "
                                     f"got {value!r}")
            return str(value)

        scores = {int(s["score"]): band(s["band"], "statement_scores") for s in rules.get("statement_scores") or []}
        if not scores:
            scores = {taxonomy.band_score(b): b for b in taxonomy.bands}
        thresholds = tuple(sorted((Threshold(band(t["band"], "key_question_thresholds"), float(t["min_percent"]),
                                             None if t.get("max_percent") is None else float(t["max_percent"]))
                                   for t in rules.get("key_question_thresholds") or []),
                                  key=lambda t: t.min_percent))
        if not thresholds:
            raise FrameworkError(f"{where}.key_question_thresholds: at least one threshold is needed")
        limiters = tuple(Limiter(band(lim["when_band"], "limiters"), int(lim["any_statement_score_at_most"]),
                                 band(lim["limit_to"], "limiters"), str(lim.get("description", "")))
                         for lim in rules.get("limiters") or [])
        overall = tuple(
            OverallPrinciple(i + 1, band(p["rating"], "overall"),
                             {band(k, "overall.min_count"): int(v) for k, v in (p.get("min_count") or {}).items()},
                             {band(k, "overall.max_count"): int(v) for k, v in (p.get("max_count") or {}).items()},
                             band(p["cap_if_regulation_breach"], "overall") if p.get("cap_if_regulation_breach")
                             else None,
                             str(p.get("description", "")))
            for i, p in enumerate(rules.get("overall") or []))
        return cls(framework=framework.id, version=framework.version, source=str(rules.get("source", "")),
                   taxonomy=taxonomy, statement_scores=scores, thresholds=thresholds, limiters=limiters,
                   overall=overall, evidence=_evidence_policy(rules.get("evidence") or {}, taxonomy, where, band))

    # -- the rules ------------------------------------------------------------------------------

    @property
    def max_score(self) -> int:
        """The highest statement score (4 for the SAF)."""
        return max(self.statement_scores)

    def score_band(self, score: int) -> str:
        """The band a statement score stands for (4 → outstanding)."""
        return self.statement_scores.get(score) or self.taxonomy.band_for_score(score)

    def band_rank(self, band: str | None) -> int:
        """Higher is better: the band's position counted from the worst (None → -1)."""
        if band is None:
            return -1
        return len(self.taxonomy.bands) - 1 - self.taxonomy.bands.index(band)

    def percent_band(self, percent: float) -> RangeResult:
        """The band whose threshold range holds ``percent`` after rounding half up to a whole percent."""
        rounded = round_half_up(percent)
        chosen = self.thresholds[0]
        for t in self.thresholds:
            if t.min_percent <= rounded:
                chosen = t
        return RangeResult(percent, rounded, chosen.band, chosen)

    def limiter_for(self, range_band: str, scores: Iterable[int]) -> Limiter | None:
        """The first limiter (in data order) whose range is ``range_band`` and that a statement score triggers.

        Limiters are applied once, to the band of the percentage range, as the framework data states
        them (a 1 in the outstanding range is limited to good, by the outstanding-range limiter).
        """
        low = min(scores, default=None)
        if low is None:
            return None
        return next((lim for lim in self.limiters if lim.when_band == range_band and low <= lim.at_most), None)

    def overall_rating(self, ratings: Iterable[str], regulation_breach: bool = False) -> OverallResult | None:
        """Apply the overall principles in order to the key question ratings; None when there are none."""
        counts = Counter(ratings)
        if not counts:
            return None
        full = {b: counts.get(b, 0) for b in self.taxonomy.bands}
        for principle in self.overall:
            if principle.matches(full):
                cap = principle.cap_if_regulation_breach if regulation_breach else None
                if cap is not None and self.band_rank(cap) < self.band_rank(principle.rating):
                    return OverallResult(cap, principle, full, capped_from=principle.rating)
                return OverallResult(principle.rating, principle, full)
        # no principle matched (an edited rule file without a catch-all): the worst rating present
        worst = min(counts, key=self.band_rank)
        fallback = OverallPrinciple(len(self.overall) + 1, worst,
                                    description="No overall principle matched: the worst key question rating.")
        return OverallResult(worst, fallback, full)

    def to_dict(self) -> dict[str, Any]:
        """The rules as data, for the ``rules`` block of every output."""
        return {
            "framework": self.framework, "version": self.version, "source": self.source,
            "statement_scores": {str(k): v for k, v in sorted(self.statement_scores.items(), reverse=True)},
            "key_question_thresholds": [t.describe() for t in reversed(self.thresholds)],
            "rounding": ROUNDING_RULE,
            "limiters": [lim.to_dict() for lim in self.limiters],
            "limiter_application": "each limiter is checked against the band of the rounded percentage range, "
                                   "in data order; the first that applies sets the rating (applied once)",
            "overall": [p.to_dict() for p in self.overall],
            "overall_application": "principles are tried in data order; the first whose counts hold gives the "
                                   "overall rating; a key question without a rating counts as "
                                   f"{self.evidence.unrated_key_question_counts_as} (never as if it were fine) and "
                                   "makes the overall rating provisional",
            "evidence": self.evidence.to_dict(),
        }


def _evidence_policy(doc: Mapping[str, Any], taxonomy: Taxonomy, where: str, band: Any) -> EvidencePolicy:
    """The ``evidence`` block, defaults filled in from the taxonomy (worst band; the band above it)."""
    if not isinstance(doc, Mapping):
        raise FrameworkError(f"{where}.evidence: expected a mapping")
    default = EvidencePolicy()

    def number(name: str, fallback: float) -> float:
        value = doc.get(name, fallback)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise FrameworkError(f"{where}.evidence.{name}: expected a number; got {value!r}") from None
        if number < 0:
            raise FrameworkError(f"{where}.evidence.{name}: expected a number >= 0; got {value!r}")
        return number

    worst, second = taxonomy.bands[-1], taxonomy.bands[-2] if len(taxonomy.bands) > 1 else taxonomy.bands[-1]
    full = number("statement_full_weight", default.statement_full_weight)
    if full <= 0:
        raise FrameworkError(f"{where}.evidence.statement_full_weight: expected a number > 0; got {full:g}")
    unreviewed = str(doc.get("unreviewed_score", default.unreviewed_score))
    if unreviewed not in ("expected", "most_probable"):
        raise FrameworkError(f"{where}.evidence.unreviewed_score: expected 'expected' or 'most_probable'; "
                             f"got {unreviewed!r}")
    strength = number("location_prior_strength", 0.0) if doc.get("location_prior_strength") is not None else None

    def choice(name: str, allowed: tuple[str, ...], fallback: str) -> str:
        value = str(doc.get(name, fallback))
        if value not in allowed:
            raise FrameworkError(f"{where}.evidence.{name}: expected one of {', '.join(allowed)}; got {value!r}")
        return value

    kq_decision = choice("key_question_decision", ("expected_score", "posterior"), default.key_question_decision)
    overall_decision = choice("overall_decision", ("key_question_ratings", "posterior"), default.overall_decision)
    if overall_decision == "posterior" and kq_decision != "posterior":
        raise FrameworkError(f"{where}.evidence.overall_decision: 'posterior' needs key_question_decision: "
                             f"posterior (the draws are made only then); got key_question_decision: {kq_decision!r}")
    draws = int(number("posterior_draws", default.posterior_draws))
    if draws < 1:
        raise FrameworkError(f"{where}.evidence.posterior_draws: expected a whole number >= 1; got {draws}")
    return EvidencePolicy(
        statement_full_weight=full,
        key_question_thin_weight=number("key_question_thin_weight", default.key_question_thin_weight),
        serious_finding_band=band(doc.get("serious_finding_band", worst), "evidence.serious_finding_band"),
        serious_finding_min_confidence=number("serious_finding_min_confidence",
                                              default.serious_finding_min_confidence),
        serious_finding_expected_count=number("serious_finding_expected_count",
                                              default.serious_finding_expected_count),
        serious_finding_counts_as_score=int(number("serious_finding_counts_as_score",
                                                   taxonomy.band_score(worst))),
        unrated_key_question_counts_as=band(doc.get("unrated_key_question_counts_as", second),
                                            "evidence.unrated_key_question_counts_as"),
        unreviewed_score=unreviewed, location_prior_strength=strength,
        key_question_decision=kq_decision, overall_decision=overall_decision,
        serious_finding_scores_statement=bool(doc.get("serious_finding_scores_statement", False)),
        posterior_draws=draws, posterior_seed=int(number("posterior_seed", default.posterior_seed)),
        posterior_placements=choice("posterior_placements", ("sample", "weights"), default.posterior_placements),
        description=str(doc.get("description", "")), source=str(doc.get("source", "")))


def _num(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else str(value)
