"""Re-exports of :mod:`evidencenlp.sources.corpus` (the corpus and the framework examples live there now)."""

from evidencenlp.defaults import SERVICES
from evidencenlp.sources.corpus import (
    CORPUS_COLUMNS,
    DIRECTION_PATTERNS_FILE,
    LABEL_COLUMNS,
    corpus_files,
    data_hash,
    direction_patterns,
    framework_examples,
    load_corpus,
    load_labelled,
    validate_labelled,
)

__all__ = ["CORPUS_COLUMNS", "DIRECTION_PATTERNS_FILE", "LABEL_COLUMNS", "SERVICES", "corpus_files", "data_hash",
           "direction_patterns", "framework_examples", "load_corpus", "load_labelled", "validate_labelled"]
