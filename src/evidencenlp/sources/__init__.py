"""The data sources read by training and evaluation alike: the hand-written corpus and the framework
examples (:mod:`~evidencenlp.sources.corpus`), real NHS feedback (:mod:`~evidencenlp.sources.phase1`),
CQC inspection paragraphs (:mod:`~evidencenlp.sources.inspection`), review decisions
(:mod:`~evidencenlp.sources.decisions`), near-duplicate groups (:mod:`~evidencenlp.sources.duplicates`)
and :func:`gather`, which reads the selected ones into one frame."""

from evidencenlp.sources.duplicates import NEAR_DUPLICATE, near_duplicate_groups
from evidencenlp.sources.gather import SourceSelection, gather
from evidencenlp.sources.inspection import inspection_examples, inspection_path

__all__ = ["NEAR_DUPLICATE", "SourceSelection", "gather", "inspection_examples", "inspection_path",
           "near_duplicate_groups"]
