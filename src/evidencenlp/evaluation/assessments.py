"""Agreement of ``evidencenlp assess`` with assessment bundles rated by hand from the published rules.

A *bundle* is one JSON file: a service's notes, each with the labels its author meant
(``key_question``, ``statement``, ``band``, ``evidence_category``), and the key question and overall
ratings the author decided from those notes by the published rules, before the tool was run::

    {"id": "b01", "service_type": "care_home", "location": "...", "style": "...",
     "notes": [{"id": "n01", "text": "...", "evidence_category": "...", "key_question": "safe",
                "statement": "safe.safeguarding", "band": "good"}, ...],
     "expected": {"key_questions": {"safe": "good", ..., "well-led": "no_rating"},
                  "overall": "good", "overall_provisional": false},
     "rationale": {...}}

Each bundle is rated three ways, through the public library API only:

* ``unreviewed`` — the tool's suggestions for the notes (nothing confirmed; each weighs its confidence);
* ``reviewed`` — the bundle's labels as an inspector's confirmed decisions (accepted where they equal
  the suggestion, corrected otherwise);
* ``baseline`` — the confidence-weighted majority band of the suggestions per key question, and the
  overall rating from the published principles on those.

Reported: exact and within-one-band agreement per key question and overall, confusion tables, the
bundles rated inadequate by hand that come out better than requires improvement, and key questions
with notes but neither a rating nor a stated reason. No note text is ever part of the result.

>>> result = evaluate_assessments("tests/data/assessment_dev")       # doctest: +SKIP
>>> result.summary["unreviewed"]["key_questions"]["exact"]            # doctest: +SKIP
0.8
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidencenlp.assess import AssessOptions, EvidenceRecord, assess_records, load_rules
from evidencenlp.assess.bands import BandCalibration, fit_band_calibration, shipped_band_calibration
from evidencenlp.assess.records import records_from_suggestion, suggestion_confidence
from evidencenlp.frameworks.rules import RatingRules

# bundle files are read by their data source; re-exported here, where bundles are rated
from evidencenlp.sources.bundles import NO_RATING as NO_RATING
from evidencenlp.sources.bundles import NOTE_FIELDS as NOTE_FIELDS
from evidencenlp.sources.bundles import Bundle as Bundle
from evidencenlp.sources.bundles import BundleNote as BundleNote
from evidencenlp.sources.bundles import read_bundle as read_bundle
from evidencenlp.sources.bundles import read_bundles as read_bundles
from evidencenlp.sources.bundles import trained_on

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggester, Suggestion

MODES: tuple[str, ...] = ("unreviewed", "reviewed", "baseline")


# -- the three ways of rating a bundle -----------------------------------------------------------------


def unreviewed_records(bundle: Bundle, suggestions: Sequence[Suggestion | None], rules: RatingRules
                       ) -> list[EvidenceRecord]:
    """The tool's suggestions as records, as ``assess`` makes them from a raw table (abstentions left out).

    Each note is placed on its likely statements, each placement weighing its statement's probability.
    """
    kq_of = dict(zip(rules.taxonomy.statements, rules.taxonomy.statement_kq))
    out: list[EvidenceRecord] = []
    for row, (note, s) in enumerate(zip(bundle.notes, suggestions), start=1):
        if s is not None:
            out += records_from_suggestion(s, note.id, row, bundle.id, kq_of, bundle.service_type)
    return out


def reviewed_records(bundle: Bundle, suggestions: Sequence[Suggestion | None]) -> list[EvidenceRecord]:
    """The bundle's labels as confirmed decisions: accepted where the suggestion agrees, else corrected."""
    out = []
    for row, (note, s) in enumerate(zip(bundle.notes, suggestions), start=1):
        same = (s is not None and s.statement is not None and s.band is not None
                and (s.statement.label, s.band.label) == (note.statement, note.band))
        principles = tuple(p.label for p in s.principles) if same and s is not None else ()
        out.append(EvidenceRecord(note=note.id, row=row, location=bundle.id, key_question=note.key_question,
                                  statement=note.statement, band=note.band, weight=1.0,
                                  source="accepted" if same else "corrected",
                                  evidence_category=note.evidence_category, service=bundle.service_type,
                                  principles=principles))
    return out


def baseline_records(bundle: Bundle, suggestions: Sequence[Suggestion | None], rules: RatingRules
                     ) -> list[EvidenceRecord]:
    """Each suggestion on its suggested statement only, weighing its confidence (the lowest of its key
    question, statement and band probabilities): the input of the plain baseline."""
    kq_of = dict(zip(rules.taxonomy.statements, rules.taxonomy.statement_kq))
    out = []
    for row, (note, s) in enumerate(zip(bundle.notes, suggestions), start=1):
        found = records_from_suggestion(s, note.id, row, bundle.id, kq_of, bundle.service_type) if s else []
        if s is not None and found and s.key_question and s.statement and s.band:
            out.append(replace(found[0], weight=suggestion_confidence(s.key_question.score, s.statement.score,
                                                                      s.band.score)))
    return out


def baseline_ratings(records: Sequence[EvidenceRecord], rules: RatingRules) -> tuple[dict[str, str], str]:
    """Weighted majority band per key question over the primary records (ties to the worse band); overall by
    the principles."""
    tax = rules.taxonomy
    ratings: dict[str, str] = {}
    for kq in tax.key_questions:
        weights: dict[str, float] = {}
        for r in records:
            if r.key_question == kq and r.primary:
                weights[r.band] = weights.get(r.band, 0.0) + r.weight
        ratings[kq] = (max(weights, key=lambda b: (weights[b], -rules.band_rank(b))) if weights else NO_RATING)
    overall = rules.overall_rating([r for r in ratings.values() if r != NO_RATING])
    return ratings, overall.rating if overall else NO_RATING


@dataclass
class BundleResult:
    """One bundle's expected and obtained ratings in each mode (ids and labels only)."""

    id: str
    service_type: str
    n_notes: int
    notes_per_key_question: dict[str, int]
    expected: dict[str, str]
    expected_overall: str
    expected_provisional: bool | None
    got: dict[str, dict[str, str]] = field(default_factory=dict)
    overall: dict[str, str] = field(default_factory=dict)
    provisional: dict[str, bool] = field(default_factory=dict)
    #: key questions with notes (by the bundle's labels) that got neither a rating nor a stated reason
    unexplained: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "service_type": self.service_type, "n_notes": self.n_notes,
                "notes_per_key_question": dict(self.notes_per_key_question),
                "expected": {"key_questions": dict(self.expected), "overall": self.expected_overall,
                             "overall_provisional": self.expected_provisional},
                **{mode: {"key_questions": dict(self.got[mode]), "overall": self.overall[mode],
                          "overall_provisional": self.provisional.get(mode),
                          "unexplained_no_rating": list(self.unexplained.get(mode, []))}
                   for mode in self.got}}


def rate_bundle(bundle: Bundle, suggestions: Sequence[Suggestion | None], rules: RatingRules,
                options: AssessOptions, frameworks_dir: Path | None = None,
                calibration: BandCalibration | None = None) -> BundleResult:
    """Rate one bundle in the three modes from its notes' suggestions (``calibration``: instead of the
    models folder's band calibration)."""
    counts = Counter(n.key_question for n in bundle.notes)
    result = BundleResult(bundle.id, bundle.service_type, len(bundle.notes),
                          {kq: counts.get(kq, 0) for kq in rules.taxonomy.key_questions}, dict(bundle.expected),
                          bundle.expected_overall, bundle.expected_provisional)
    unreviewed = unreviewed_records(bundle, suggestions, rules)
    for mode, records in (("unreviewed", unreviewed), ("reviewed", reviewed_records(bundle, suggestions))):
        loc = assess_records(records, options, frameworks_dir, locations=[bundle.id],
                             calibration=calibration).locations[0]
        result.got[mode] = {k: v.rating or NO_RATING for k, v in loc.key_questions.items()}
        result.overall[mode] = loc.overall.rating or NO_RATING
        result.provisional[mode] = loc.overall.provisional
        result.unexplained[mode] = [k for k, v in loc.key_questions.items()
                                    if counts.get(k, 0) and v.rating is None and not v.no_rating_reason]
    result.got["baseline"], result.overall["baseline"] = baseline_ratings(
        baseline_records(bundle, suggestions, rules), rules)
    return result


# -- agreement -------------------------------------------------------------------------------------------


def _distance(a: str, b: str, rules: RatingRules) -> int | None:
    if NO_RATING in (a, b):
        return 0 if a == b else None
    return abs(rules.band_rank(a) - rules.band_rank(b))


def agreement(pairs: Sequence[tuple[str, str]], rules: RatingRules) -> dict[str, Any]:
    """Exact and within-one-band agreement of (expected, obtained) pairs, with counts."""
    distances = [_distance(e, g, rules) for e, g in pairs]
    n = len(pairs)
    exact = sum(1 for d in distances if d == 0)
    within = sum(1 for d in distances if d is not None and d <= 1)
    return {"n": n, "exact": exact / n if n else None, "within_one": within / n if n else None,
            "exact_count": exact, "within_one_count": within}


def confusion(pairs: Sequence[tuple[str, str]], rules: RatingRules) -> dict[str, dict[str, int]]:
    """Expected (rows) by obtained (columns), over the bands best-first and ``no_rating``."""
    labels = (*rules.taxonomy.bands, NO_RATING)
    table = {e: dict.fromkeys(labels, 0) for e in labels}
    for e, g in pairs:
        table[e][g] += 1
    return table


@dataclass
class AssessmentEvaluation:
    """Agreement per mode over every bundle, and each bundle's ratings."""

    bundles: list[BundleResult]
    summary: dict[str, dict[str, Any]]
    problems: list[str]
    options: dict[str, Any]
    model: str
    #: why these bundles are the model's own training data ("" when they are not): the figures are then in-sample
    in_sample: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (no note text)."""
        return {"model": self.model, "in_sample": self.in_sample, "options": self.options,
                "problems": list(self.problems),
                "n_bundles": len(self.bundles), "summary": self.summary,
                "bundles": [b.to_dict() for b in self.bundles]}


def summarise(results: Sequence[BundleResult], rules: RatingRules) -> dict[str, dict[str, Any]]:
    """Per mode: agreement per key question and overall, confusion tables and the safety checks."""
    tax = rules.taxonomy
    worst, second = tax.bands[-1], tax.bands[-2]
    out: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        kq_pairs = [(b.expected[kq], b.got[mode][kq]) for b in results for kq in tax.key_questions]
        overall_pairs = [(b.expected_overall, b.overall[mode]) for b in results]
        too_kind = [b.id for b in results if b.expected_overall == worst and b.overall[mode] != NO_RATING
                    and rules.band_rank(b.overall[mode]) > rules.band_rank(second)]
        out[mode] = {
            "key_questions": agreement(kq_pairs, rules),
            "per_key_question": {kq: agreement([(b.expected[kq], b.got[mode][kq]) for b in results], rules)
                                 for kq in tax.key_questions},
            "overall": agreement(overall_pairs, rules),
            "confusion_key_questions": confusion(kq_pairs, rules),
            "confusion_overall": confusion(overall_pairs, rules),
            "inadequate_rated_better_than_requires_improvement": too_kind,
            "key_questions_with_notes_unrated_without_reason": sum(len(b.unexplained.get(mode, [])) for b in results),
            "key_questions_with_notes_unrated": sum(1 for b in results for kq in tax.key_questions
                                                    if b.notes_per_key_question[kq] and b.got[mode][kq] == NO_RATING),
        }
        if mode != "baseline":
            known = [b for b in results if b.expected_provisional is not None]
            out[mode]["provisional_agreement"] = (
                sum(1 for b in known if b.provisional[mode] == b.expected_provisional) / len(known) if known else None)
    return out


def band_notes(bundle: Bundle, suggestions: Sequence[Suggestion | None], rules: RatingRules
               ) -> tuple[list[list[float]], list[str], list[str]]:
    """The band head's probabilities (``rules.taxonomy.bands`` order), the labelled band and the suggested key
    question of each note the tool did not abstain on: the data a
    :class:`~evidencenlp.assess.bands.BandCalibration` is fitted on."""
    probs, labels, kqs = [], [], []
    for note, s in zip(bundle.notes, suggestions):
        if s is not None and s.band is not None and s.band.probabilities and s.statement is not None:
            probs.append([float(s.band.probabilities.get(b, 0.0)) for b in rules.taxonomy.bands])
            labels.append(note.band)
            kqs.append(rules.taxonomy.key_question_of(s.statement.label))
    return probs, labels, kqs


def fit_bundle_calibration(data: Mapping[str, Sequence[tuple[Bundle, Sequence[Suggestion | None]]]],
                           folders: Sequence[str], rules: RatingRules, model_version: str,
                           by_key_question: bool = True, balance: float = 0.0) -> BandCalibration:
    """A band calibration fitted on the labelled notes (:func:`band_notes`) of the bundles of ``folders``;
    ``data`` maps a folder to its ``(bundle, suggestions)`` pairs. ``by_key_question`` adds the offsets per
    key question, ``balance`` is :func:`~evidencenlp.assess.bands.fit_band_calibration`'s."""
    probs: list[list[float]] = []
    labels: list[str] = []
    kqs: list[str] = []
    for folder in folders:
        for bundle, suggestions in data[folder]:
            p, y, k = band_notes(bundle, suggestions, rules)
            probs += p
            labels += y
            kqs += k
    return fit_band_calibration(probs, labels, rules.taxonomy.bands, model_version,
                                "the labelled notes of the assessment bundles in " + ", ".join(folders),
                                key_questions=kqs if by_key_question else None, balance=balance)


def evaluate_assessments(folder: Path | str, suggester: Suggester | Callable[[], Suggester] | None = None,
                         options: AssessOptions | None = None, frameworks_dir: Path | None = None,
                         on_bundle: Callable[[str], None] | None = None,
                         calibration: BandCalibration | None = None) -> AssessmentEvaluation:
    """Rate every bundle of ``folder`` in the three modes and measure agreement with the hand ratings.

    ``suggester`` (or a function that loads one) defaults to ``Suggester.load()`` (the torch
    encoder). ``on_bundle`` is called with each bundle id once it is rated. ``calibration`` replaces
    the models folder's band calibration, which is used only when it was fitted for the suggester's
    band head (``options.band_calibration`` False: none).
    """
    options = options or AssessOptions(use_encoder=False)
    rules = load_rules(frameworks_dir)[2]
    bundles, problems = read_bundles(Path(folder), rules)
    if suggester is None:
        from evidencenlp.suggest import Suggester as _Suggester

        active = _Suggester.load(frameworks=frameworks_dir)
    else:
        active = suggester() if callable(suggester) and not hasattr(suggester, "suggest_many") else suggester  # type: ignore[assignment]
    if calibration is None and options.band_calibration:
        # the models folder's calibration only for suggestions of the band head it was fitted for
        found = shipped_band_calibration()
        if found is not None and found.model_version == str(getattr(active, "model_version", "")):
            calibration = found
        else:
            options = replace(options, band_calibration=False)
    results = []
    for bundle in bundles:
        suggestions = active.suggest_many([n.text for n in bundle.notes], sentences=False, evidence=False)
        results.append(rate_bundle(bundle, suggestions, rules, options, frameworks_dir, calibration))
        if on_bundle is not None:
            on_bundle(bundle.id)
    used = {**options.to_dict(), "band_calibration_data": calibration.describe() if calibration else None}
    classifier = getattr(active, "classifier", None)
    in_sample = trained_on(Path(folder), getattr(classifier, "training_data_", None) or {})
    return AssessmentEvaluation(results, summarise(results, rules) if results else {}, problems, used,
                                str(getattr(active, "model_version", "")), in_sample)
