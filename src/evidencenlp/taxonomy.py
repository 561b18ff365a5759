"""The label space: re-exported from :mod:`evidencenlp.frameworks.taxonomy` (its home), where
:class:`Taxonomy` is built from the framework data; :func:`default_taxonomy` comes from the folder's
:class:`~evidencenlp.frameworks.FrameworkSet`."""

from evidencenlp.frameworks.ids import SAF_ID
from evidencenlp.frameworks.set import default_taxonomy
from evidencenlp.frameworks.taxonomy import (
    DIRECTIONS,
    PUBLISHED_BANDS,
    PUBLISHED_KEY_QUESTIONS,
    TASKS,
    Taxonomy,
    check_labels,
)

__all__ = ["DIRECTIONS", "PUBLISHED_BANDS", "PUBLISHED_KEY_QUESTIONS", "SAF_ID", "TASKS", "Taxonomy", "check_labels",
           "default_taxonomy"]
