"""The frameworks: load and validate framework files once, and everything derived from them.

- :mod:`~evidencenlp.frameworks.files`: read and validate a framework file (:class:`Framework`, its
  matchable :class:`FrameworkText` sentences);
- :mod:`~evidencenlp.frameworks.crosswalk`: SAF statements ↔ v6 topics ↔ KLOEs;
- :mod:`~evidencenlp.frameworks.taxonomy`: the label space (no other module lists labels);
- :mod:`~evidencenlp.frameworks.index`: the framework sentences embedded by an Embedder;
- :mod:`~evidencenlp.frameworks.set`: :class:`FrameworkSet`, all of the above for one folder, loaded
  once under one cache rule (:mod:`~evidencenlp.frameworks.stamp`).
"""

from evidencenlp.frameworks.crosswalk import Crosswalk, CrosswalkRow, load_crosswalk
from evidencenlp.frameworks.files import (
    Framework,
    FrameworkText,
    framework_files,
    load_framework_file,
    load_frameworks,
    read_document,
    validate_document,
)
from evidencenlp.frameworks.ids import CROSSWALK_FILE, KLOE_ID, MAX_ERRORS_SHOWN, PRINCIPLES_ID, SAF_ID, V6_ID
from evidencenlp.frameworks.index import FrameworkIndex, Match
from evidencenlp.frameworks.rules import RatingRules
from evidencenlp.frameworks.set import FrameworkSet, default_taxonomy, load_framework_set, read_framework_set
from evidencenlp.frameworks.taxonomy import TASKS, Taxonomy

__all__ = ["CROSSWALK_FILE", "KLOE_ID", "MAX_ERRORS_SHOWN", "PRINCIPLES_ID", "SAF_ID", "TASKS", "V6_ID", "Crosswalk",
           "CrosswalkRow", "Framework", "FrameworkIndex", "RatingRules", "FrameworkSet", "FrameworkText", "Match", "Taxonomy",
           "default_taxonomy", "framework_files", "load_crosswalk", "load_framework_file", "load_framework_set",
           "load_frameworks", "read_document", "read_framework_set", "validate_document"]
