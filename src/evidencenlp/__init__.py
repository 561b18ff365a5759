"""evidencenlp: explainable suggestions that place health and care evidence against CQC's frameworks.

>>> from evidencenlp import Suggester          # doctest: +SKIP
>>> s = Suggester.load()                       # doctest: +SKIP
>>> s.suggest("Call bell rang for 9 minutes before staff came.").to_dict()  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_LAZY = {
    "Suggester": "evidencenlp.suggest",
    "Suggestion": "evidencenlp.suggest",
    "Label": "evidencenlp.suggest",
    "BandLabel": "evidencenlp.suggest",
    "SentenceSuggestion": "evidencenlp.suggest",
    "Framework": "evidencenlp.frameworks",
    "FrameworkText": "evidencenlp.frameworks",
    "load_frameworks": "evidencenlp.frameworks",
    "load_framework_file": "evidencenlp.frameworks",
    "load_crosswalk": "evidencenlp.frameworks",
    "FrameworkIndex": "evidencenlp.matching",
    "EvidenceClassifier": "evidencenlp.classifier",
    "Taxonomy": "evidencenlp.taxonomy",
    "default_taxonomy": "evidencenlp.taxonomy",
    "train": "evidencenlp.training",
    "TrainingOptions": "evidencenlp.training",
    "evaluate": "evidencenlp.evaluation.run",
    "EvaluationOptions": "evidencenlp.evaluation.run",
    "tag": "evidencenlp.tagging",
    "TagOptions": "evidencenlp.tagging",
    "tag_file": "evidencenlp.tagging",
    "TagSummary": "evidencenlp.tagging",
    "tag_file_dask": "evidencenlp.tagging",
    "SuggesterSpec": "evidencenlp.tagging",
    "process": "evidencenlp.text",
    "redact": "evidencenlp.text",
    "EvidenceNLPError": "evidencenlp.errors",
}

if TYPE_CHECKING:
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.errors import EvidenceNLPError
    from evidencenlp.evaluation.run import EvaluationOptions, evaluate
    from evidencenlp.frameworks import Framework, FrameworkText, load_crosswalk, load_framework_file, load_frameworks
    from evidencenlp.matching import FrameworkIndex
    from evidencenlp.suggest import BandLabel, Label, SentenceSuggestion, Suggester, Suggestion
    from evidencenlp.tagging import SuggesterSpec, TagOptions, TagSummary, tag, tag_file, tag_file_dask
    from evidencenlp.taxonomy import Taxonomy, default_taxonomy
    from evidencenlp.text import process, redact
    from evidencenlp.training import TrainingOptions, train


def __getattr__(name: str) -> Any:
    """Import public names lazily, so ``import evidencenlp`` stays fast (torch loads only when needed)."""
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'evidencenlp' has no attribute {name!r}")


__all__ = [
    "BandLabel",
    "EvidenceNLPError",
    "Framework",
    "FrameworkIndex",
    "FrameworkText",
    "EvaluationOptions",
    "EvidenceClassifier",
    "Taxonomy",
    "TrainingOptions",
    "default_taxonomy",
    "evaluate",
    "train",
    "Label",
    "SentenceSuggestion",
    "Suggester",
    "Suggestion",
    "SuggesterSpec",
    "TagOptions",
    "TagSummary",
    "load_crosswalk",
    "load_framework_file",
    "load_frameworks",
    "process",
    "redact",
    "tag",
    "tag_file",
    "tag_file_dask",
]
