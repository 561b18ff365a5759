"""Indicative service ratings from evidence notes, with the published rules read from the framework data.

Inspectors rate services, not notes. This package gathers the notes of each location (suggested by the
tool, or confirmed and corrected by inspectors in a review store), scores each quality statement 1-4,
turns the scores into a key question percentage and rating with the framework's thresholds and
limiters, and the key question ratings into an overall rating with the framework's principles. Every
rating names its notes and the rules applied, and says it is indicative, for the inspector's judgement.

>>> from evidencenlp.assess import assess_file, assess_store     # doctest: +SKIP
>>> a = assess_file("tagged.csv", location_column="location")   # doctest: +SKIP
>>> a.to_dict()["locations"][0]["key_questions"]["safe"]["rating"]  # doctest: +SKIP
'requires_improvement'
>>> assess_store("review.sqlite", "Riverside visit")             # doctest: +SKIP

Modules: the rules as data are :mod:`~evidencenlp.frameworks.rules` (held by the FrameworkSet); :mod:`~evidencenlp.assess.records`
(one placed note), :mod:`~evidencenlp.assess.sources` (tables and the review store),
:mod:`~evidencenlp.assess.scoring`, :mod:`~evidencenlp.assess.outstanding`,
:mod:`~evidencenlp.assess.model` (result types) and :mod:`~evidencenlp.assess.report` (HTML).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from evidencenlp.assess.bands import BandCalibration, shipped_band_calibration
from evidencenlp.assess.model import INDICATIVE, Assessment, AssessOptions, LocationAssessment
from evidencenlp.assess.outstanding import add_hints
from evidencenlp.assess.records import EvidenceRecord, group_by_location, record_from_suggestion
from evidencenlp.assess.scoring import KEY_QUESTION_RULE, STATEMENT_RULE, assess_location
from evidencenlp.assess.sources import LoadSummary, load_store, load_table
from evidencenlp.frameworks import Crosswalk, Framework, load_framework_set
from evidencenlp.frameworks.rules import RatingRules
from evidencenlp.taxonomy import Taxonomy

if TYPE_CHECKING:
    from evidencenlp.encoder.base import Embedder
    from evidencenlp.suggest import Suggester

__all__ = ["INDICATIVE", "AssessOptions", "Assessment", "EvidenceRecord", "LocationAssessment", "RatingRules",
           "assess_file", "assess_records", "assess_store", "load_rules", "record_from_suggestion"]


_Loaded = tuple[dict[str, Framework], Taxonomy, RatingRules, Crosswalk | None]


def load_rules(frameworks_dir: Path | None = None) -> _Loaded:
    """Frameworks, taxonomy, rating rules and crosswalk (None when the folder has none: the hints are optional)
    of a folder, from its :class:`~evidencenlp.frameworks.FrameworkSet` (read once, until a file changes)."""
    fs = load_framework_set(frameworks_dir)
    return fs.frameworks, fs.taxonomy, fs.rules, fs.optional_crosswalk


def _rules_block(rules: RatingRules, options: AssessOptions, calibration: BandCalibration | None) -> dict[str, Any]:
    full = options.min_weight if options.min_weight is not None else rules.evidence.statement_full_weight
    return {**rules.to_dict(), "statement_score": STATEMENT_RULE,
            "band_calibration": calibration.describe() if calibration is not None else None,
            "insufficient_evidence": (f"a statement with fewer than {options.min_notes} note(s) is not scored; one "
                                      "confirmed or corrected note is evidence on its own (weight 1); an unreviewed "
                                      "suggestion weighs its confidence, the lowest of its key question, statement "
                                      f"and band probabilities; a statement counts in full from weight {full:g} and "
                                      "in proportion to its weight below that"),
            "key_question_percent": KEY_QUESTION_RULE,
            "options": options.to_dict()}


def assess_records(records: Sequence[EvidenceRecord], options: AssessOptions | None = None,
                   frameworks_dir: Path | None = None, source: dict[str, Any] | None = None,
                   locations: Sequence[str] | None = None, embedder: Embedder | None = None,
                   calibration: BandCalibration | None = None) -> Assessment:
    """Assess records grouped by location with the rules of the frameworks in ``frameworks_dir``.

    ``locations`` fixes the order (and includes locations with no records); default: first appearance.
    ``embedder`` picks the "what would make this outstanding" descriptors (default: the torch one).
    ``calibration`` replaces the models folder's band calibration (used when ``options.band_calibration``).
    """
    options = options or AssessOptions()
    frameworks, taxonomy, rules, crosswalk = load_rules(frameworks_dir)
    if not options.band_calibration:
        calibration = None
    elif calibration is None:
        calibration = shipped_band_calibration()
    grouped = group_by_location(records)
    names = list(locations) if locations is not None else list(grouped)
    result = []
    good_score = max((s for s in rules.statement_scores if s < rules.max_score), default=rules.max_score)
    for name in names:
        loc = assess_location(name, grouped.get(name, []), rules, options, calibration)
        statements = [s for kq in loc.key_questions.values() for s in kq.statements]
        add_hints(statements, frameworks, crosswalk, good_score, rules.score_band(rules.max_score), options,
                  embedder)
        result.append(loc)
    return Assessment(result, _rules_block(rules, options, calibration), source or {}, dict(taxonomy.titles))


def assess_file(path: Path | str, text_column: str = "text", location_column: str | None = None,
                service_column: str | None = None, id_column: str | None = None, prefix: str = "",
                encoding: str = "utf-8", options: AssessOptions | None = None, frameworks_dir: Path | None = None,
                suggester: Suggester | Callable[[], Suggester] | None = None,
                on_progress: Callable[[int], None] | None = None, embedder: Embedder | None = None) -> Assessment:
    """Assess a notes table: reuse the columns of ``evidencenlp tag`` output, or tag raw notes.

    Raw notes need a ``suggester`` (or a function that loads one); by default ``Suggester.load()``
    with the same frameworks folder is used.
    """
    if suggester is None:
        suggester = _default_suggester(frameworks_dir)
    taxonomy = load_rules(frameworks_dir)[1]
    records, summary = load_table(Path(path), taxonomy, text_column=text_column, location_column=location_column,
                                  service_column=service_column, id_column=id_column, prefix=prefix,
                                  encoding=encoding, suggester=suggester, on_progress=on_progress)
    return assess_records(records, options, frameworks_dir, _source(summary, "table"), summary.locations, embedder)


def assess_store(db_path: Path | str, assessment: str | None = None, options: AssessOptions | None = None,
                 frameworks_dir: Path | None = None, embedder: Embedder | None = None) -> Assessment:
    """Assess a review store (read-only): one location per assessment (``assessment`` names one).

    The decision in force on a note (:func:`evidencenlp.review.in_force.decisions_in_force`), when
    accepted or corrected, counts with weight 1; otherwise the note's latest suggestion counts with its
    confidence. The review page's live indicative rating calls this same function.
    """
    taxonomy = load_rules(frameworks_dir)[1]
    records, summary = load_store(Path(db_path), taxonomy, assessment)
    return assess_records(records, options, frameworks_dir, _source(summary, "review store"), summary.locations,
                          embedder)


def _default_suggester(frameworks_dir: Path | None) -> Callable[[], Suggester]:
    def load() -> Suggester:
        from evidencenlp.suggest import Suggester as _Suggester

        return _Suggester.load(frameworks=frameworks_dir)
    return load


def _source(summary: LoadSummary, kind: str) -> dict[str, Any]:
    return {"kind": kind, **summary.to_dict()}
