"""The assessment's result types: typed dataclasses with ``to_dict()`` (the JSON contract).

``Assessment.to_dict()`` is ``{"indicative", "rules", "source", "locations": [{"location",
"key_questions": {kq: {"rating", "score", "limited_by", "statements", …}}, "overall": {"rating", …}}]}``.
Bands are ids from the framework data; a rating is ``None`` where there is no scored evidence.
No note text is ever part of these objects' dictionaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from evidencenlp.assess.records import EvidenceRecord

INDICATIVE = ("Indicative, for the inspector's judgement: computed from evidence notes with the published "
              "rating rules; it is not a CQC rating and nothing is rated automatically.")


@dataclass(frozen=True)
class AssessOptions:
    """The documented knobs of an assessment.

    Attributes:
        min_notes: a statement with fewer notes is ``insufficient_evidence`` and not scored (default 1:
            one note is evidence).
        min_weight: the weight at which a statement counts in full in its key question's percentage; below
            it, the statement counts in proportion to its weight (None: the framework data's
            ``statement_full_weight``, 1.0 = one confirmed note; an unreviewed suggestion weighs its confidence).
        regulation_breach: the inspector found a breach of regulations (caps the overall rating where
            the framework's overall principles say so). Never inferred from notes.
        use_encoder: pick the "what would make this outstanding" descriptor by similarity to the
            statement's notes (False: the first outstanding descriptor of the first linked topic).
        met_similarity: an outstanding descriptor counts as already met when a note suggested or
            confirmed outstanding in the statement has at least this cosine similarity to it.
        band_calibration: calibrate the suggestions' band probabilities with the models folder's
            ``band_calibration.json`` (when it was fitted for the band head there) and adapt them to each
            location's band mix (:mod:`evidencenlp.assess.bands`); False: the head's probabilities as they are.
    """

    min_notes: int = 1
    min_weight: float | None = None
    regulation_breach: bool = False
    use_encoder: bool = True
    met_similarity: float = 0.6
    band_calibration: bool = True

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"min_notes": self.min_notes, "min_weight": self.min_weight,
                "regulation_breach": self.regulation_breach, "use_encoder": self.use_encoder,
                "met_similarity": self.met_similarity, "band_calibration": self.band_calibration}


#: a statement whose notes weigh no more than this is not scored
NO_WEIGHT = 1e-9


def statement_is_scored(n_notes: Any, weight: Any, options: AssessOptions) -> Any:
    """The one eligibility rule of a statement: scored when it has at least ``options.min_notes`` notes and
    its notes weigh more than nothing.

    In: the number of notes and their total weight, as numbers (one statement) or numpy arrays of the same
    shape (the posterior's draws x statements). Out: a bool, or a bool array.
    """
    return (n_notes >= options.min_notes) & (weight > NO_WEIGHT)


@dataclass(frozen=True)
class OutstandingHint:
    """The nearest unmet outstanding descriptor of a v6 topic linked to a statement scored good."""

    topic: str
    topic_title: str
    descriptor: str
    similarity: float | None
    method: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"framework_topic": self.topic, "topic_title": self.topic_title, "descriptor": self.descriptor,
                "similarity": None if self.similarity is None else round(self.similarity, 4), "method": self.method}


@dataclass
class StatementAssessment:
    """One quality statement: its notes, band distribution, indicative score and the rule behind it."""

    statement: str
    title: str
    key_question: str
    notes: list[EvidenceRecord]
    band_weights: dict[str, float]
    evidence_categories: dict[str, int]
    mean_score: float
    score: int | None
    band: str | None
    rule: str
    insufficient_evidence: bool
    insufficient_reason: str | None = None
    what_would_make_outstanding: OutstandingHint | None = None
    #: the share of a full statement this one counts for in the key question's percentage (0-1)
    credibility: float = 0.0
    #: notes that are serious findings (confirmed, or confidently suggested, in the worst band)
    serious_findings: tuple[str, ...] = ()

    @property
    def total_weight(self) -> float:
        """Sum of the notes' weights."""
        return sum(self.band_weights.values())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (note ids and rows, never text)."""
        total = self.total_weight
        return {
            "statement": self.statement, "title": self.title, "score": self.score, "band": self.band,
            "insufficient_evidence": self.insufficient_evidence, "insufficient_reason": self.insufficient_reason,
            "counts_as": round(self.credibility, 4), "thin": 0 < self.credibility < 1,
            "serious_findings": list(self.serious_findings), "rule": self.rule, "n_notes": len(self.notes), "total_weight": round(total, 4),
            "confirmed_notes": sum(1 for n in self.notes if n.confirmed),
            "mean_score": round(self.mean_score, 4),
            "band_weights": {b: round(w, 4) for b, w in self.band_weights.items()},
            "band_distribution": {b: round(w / total, 4) if total else 0.0 for b, w in self.band_weights.items()},
            "evidence_categories": dict(self.evidence_categories),
            "notes": [n.to_dict() for n in self.notes],
            "what_would_make_outstanding": (self.what_would_make_outstanding.to_dict()
                                            if self.what_would_make_outstanding else None),
        }


@dataclass(frozen=True)
class NoteChange:
    """One note whose band would change in a sensitivity path."""

    note: str
    statement: str
    from_band: str
    to_band: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"note": self.note, "statement": self.statement, "from": self.from_band, "to": self.to_band}


@dataclass(frozen=True)
class SensitivityPath:
    """The fewest notes (greedy search) whose band change moves a key question rating one way."""

    direction: str
    notes: int | None
    to_rating: str | None
    changes: tuple[NoteChange, ...] = ()
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"direction": self.direction, "notes": self.notes, "to_rating": self.to_rating,
                "changes": [c.to_dict() for c in self.changes], "reason": self.reason}


@dataclass(frozen=True)
class Sensitivity:
    """How many notes would have to change band to move the rating up and down."""

    up: SensitivityPath
    down: SensitivityPath
    method: str = ("greedy search: one note at a time, the change (to the best band going up, the worst going "
                   "down) that moves the rating, else the one that moves the scores furthest; an upper bound "
                   "on the fewest notes")

    def line(self) -> str:
        """E.g. ``2 notes up to outstanding; 1 note down to requires_improvement``."""
        def one(p: SensitivityPath) -> str:
            if p.notes is None:
                return f"{p.direction}: {p.reason}"
            return f"{p.notes} note{'s' if p.notes != 1 else ''} {p.direction} to {p.to_rating}"
        return f"{one(self.up)}; {one(self.down)}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"up": self.up.to_dict(), "down": self.down.to_dict(), "line": self.line(), "method": self.method}


@dataclass(frozen=True)
class PrincipleEvidence:
    """A King's Fund principle evidenced by notes of a key question rated good or outstanding."""

    principle: str
    title: str
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"principle": self.principle, "title": self.title, "notes": list(self.notes)}


@dataclass
class KeyQuestionAssessment:
    """One key question: percentage, rating from the thresholds, limiter, and the evidence behind it."""

    key_question: str
    title: str
    rating: str | None
    range_rating: str | None
    score: int | None
    percent_exact: float | None
    limited_by: dict[str, Any] | None
    statements: list[StatementAssessment]
    statements_without_evidence: list[str]
    rules_applied: list[str]
    sensitivity: Sensitivity | None = None
    principles: list[PrincipleEvidence] = field(default_factory=list)
    #: the notes' total confidence weight; ``thin`` when below the framework's ``key_question_thin_weight``
    evidence_weight: float = 0.0
    thin: bool = False
    #: how the rating was reached (statements in full, or all notes with thin statements weighted)
    basis: str = ""
    #: why there is no rating (what is missing); None when rated
    no_rating_reason: str | None = None
    #: with ``key_question_decision: posterior``: the probability of each rating (and ``no_rating``) over the draws
    posterior: dict[str, float] | None = None
    #: the rating the expected scores give (the rules applied once), kept when the posterior decides
    expected_score_rating: str | None = None
    #: what ``score``, ``percent_exact`` and ``range_rating`` were computed by: ``rules`` (the rules applied
    #: once, which gave ``rating``) or ``expected_score`` (the posterior decided the rating; the percentage is
    #: the expected-score computation's, kept for reference)
    score_describes: str = "rules"
    #: when the posterior decided another rating than the expected-score computation: that computation's
    #: rating, score, percent_exact, range_rating and limited_by (None otherwise)
    expected_score: dict[str, Any] | None = None
    #: with the posterior: the share of its draws whose rating a limiter lowered
    limited_share: float | None = None
    #: why there are no sensitivity paths for a rated key question (None when they are shown)
    sensitivity_omitted: str | None = None

    @property
    def scored(self) -> list[StatementAssessment]:
        """The statements with a score (enough evidence)."""
        return [s for s in self.statements if s.score is not None]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: ``rating``, ``score`` (whole percent), ``limited_by``, ``statements`` and more."""
        return {
            "rating": self.rating, "score": self.score, "limited_by": self.limited_by,
            "range_rating": self.range_rating, "thin": self.thin, "evidence_weight": round(self.evidence_weight, 4),
            "basis": self.basis, "no_rating_reason": self.no_rating_reason,
            "rating_probability": (round(self.posterior.get(self.rating, 0.0), 4)
                                   if self.posterior is not None and self.rating is not None else None),
            "posterior": ({k: round(v, 4) for k, v in self.posterior.items()} if self.posterior is not None
                          else None),
            "expected_score_rating": self.expected_score_rating,
            "score_describes": self.score_describes, "expected_score": self.expected_score,
            "limited_share_of_draws": None if self.limited_share is None else round(self.limited_share, 4),
            "statements_with_evidence": [s.statement for s in self.statements],
            "serious_findings": [{"statement": s.statement, "notes": list(s.serious_findings)}
                                 for s in self.statements if s.serious_findings],
            "percent_exact": None if self.percent_exact is None else round(self.percent_exact, 4),
            "title": self.title,
            "statements": [s.to_dict() for s in self.statements],
            "statements_scored": [s.statement for s in self.scored],
            "insufficient_statements": [s.statement for s in self.statements if s.insufficient_evidence],
            "statements_without_evidence": list(self.statements_without_evidence),
            "notes": [n.note for s in self.statements for n in s.notes],
            "rules_applied": list(self.rules_applied),
            "sensitivity": self.sensitivity.to_dict() if self.sensitivity else None,
            "sensitivity_omitted": self.sensitivity_omitted,
            "principles": [p.to_dict() for p in self.principles],
        }


@dataclass
class OverallAssessment:
    """The overall rating from the key question ratings and the framework's overall principles."""

    rating: str | None
    principle: dict[str, Any] | None
    counts: dict[str, int]
    rated_key_questions: list[str]
    unrated_key_questions: list[str]
    regulation_breach: bool
    capped_from: str | None
    rules_applied: list[str]
    #: with unrated key questions: the overall rating if they were all rated best / worst
    possible_range: dict[str, str | None] | None = None
    #: True when a key question is unrated or rated from thin evidence; the reasons say which
    provisional: bool = False
    provisional_reasons: list[str] = field(default_factory=list)
    #: the probability of each overall rating over the posterior draws (None: not computed)
    posterior: dict[str, float] | None = None
    #: the rating the principles give on the key question ratings (differs from ``rating`` only when the
    #: framework's ``overall_decision`` is ``posterior`` and the most probable overall rating is another)
    from_key_question_ratings: str | None = None
    #: what ``principle``, ``counts``, ``capped_from`` and ``possible_range`` describe: ``rating`` (the principles
    #: gave it) or ``from_key_question_ratings`` (the posterior decided another overall rating)
    principle_describes: str = "rating"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"rating": self.rating, "possible_range": self.possible_range, "principle": self.principle,
                "from_key_question_ratings": self.from_key_question_ratings,
                "principle_describes": self.principle_describes,
                "rating_probability": (round(self.posterior.get(self.rating, 0.0), 4)
                                       if self.posterior is not None and self.rating is not None else None),
                "posterior": ({k: round(v, 4) for k, v in self.posterior.items()} if self.posterior is not None
                              else None),
                "counts": dict(self.counts),
                "rated_key_questions": list(self.rated_key_questions),
                "unrated_key_questions": list(self.unrated_key_questions),
                "partial": bool(self.unrated_key_questions) and self.rating is not None,
                "provisional": self.provisional, "provisional_reasons": list(self.provisional_reasons),
                "regulation_breach": self.regulation_breach, "capped_from": self.capped_from,
                "rules_applied": list(self.rules_applied)}


@dataclass
class LocationAssessment:
    """Everything assessed for one location."""

    location: str
    key_questions: dict[str, KeyQuestionAssessment]
    overall: OverallAssessment
    n_notes: int
    n_confirmed: int
    services: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"location": self.location, "indicative": INDICATIVE, "n_notes": self.n_notes,
                "confirmed_notes": self.n_confirmed, "services": dict(self.services),
                "key_questions": {k: v.to_dict() for k, v in self.key_questions.items()},
                "overall": self.overall.to_dict()}


@dataclass
class Assessment:
    """The assessment of every location in an input, with the rules and options that produced it."""

    locations: list[LocationAssessment]
    rules: dict[str, Any]
    source: dict[str, Any]
    #: id -> human title of every label (for tables and the report; not part of ``to_dict``)
    titles: dict[str, str] = field(default_factory=dict, repr=False)

    def location(self, name: str) -> LocationAssessment:
        """The assessment of one location; KeyError when absent."""
        for loc in self.locations:
            if loc.location == name:
                return loc
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract (see ``docs/assess.md``)."""
        return {"indicative": INDICATIVE, "rules": self.rules, "source": self.source,
                "locations": [loc.to_dict() for loc in self.locations]}
