"""The one lazy way to build a :class:`~evidencenlp.suggest.Suggester`: :class:`SuggesterSpec`.

A spec is small, hashable and (without an ``embedder``) picklable: the CLI hands ``spec.load`` to
whatever needs a suggester only when there are notes to tag, a dask worker loads it once per process
(:func:`worker_suggester`), and the tagging run reads ``redact`` from it — the only place that says
whether notes are redacted. Importing this module stays light (no torch).
"""

from __future__ import annotations

import gc
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from evidencenlp.encoder import Embedder
    from evidencenlp.suggest import Suggester


@dataclass(frozen=True)
class SuggesterSpec:
    """What it takes to build a Suggester: the models, redaction, a fixed evidence category, the encoder.

    ``models`` is a folder of trained heads (``None``: the packaged model; the dask engine makes it
    absolute, as a worker may run in another folder). ``frameworks`` is a folder of framework files (``None``: the packaged ones). ``backend``
    names the encoder (:data:`evidencenlp.encoder.BACKENDS`) unless an ``embedder`` already chosen is
    given (it then decides the backend; leave it ``None`` for a spec sent to dask workers). The spec is
    also the key of the per-process cache of :func:`worker_suggester`.
    """

    models: Path | None = None
    redact: bool = True
    evidence_category: str | None = None
    backend: str = "torch"
    frameworks: Path | None = None
    embedder: Embedder | None = None
    #: pool several topics per note in batch tagging (off: the ``topics`` column holds the main
    #: suggestion only, and tagging skips segmenting and encoding each note's clauses)
    topics: bool = True

    def load(self) -> Suggester:
        """Build the Suggester this spec describes (slow: frameworks, index, classifier)."""
        from evidencenlp.suggest import Suggester

        suggester = Suggester.load(models=self.models, frameworks=self.frameworks, redact=self.redact,
                                   evidence_category=self.evidence_category, backend=self.backend,
                                   embedder=self.embedder)
        suggester.tag_topics = self.topics
        return suggester


_SUGGESTERS: dict[SuggesterSpec, Suggester] = {}
_LOAD_LOCK = threading.Lock()
#: a made-up note that makes a new Suggester load its encoder and text pipeline before real work
WARM_UP_NOTE = "Warm-up note: the call bell was answered within two minutes."


def worker_suggester(spec: SuggesterSpec) -> Suggester:
    """The Suggester of ``spec`` in this process (a dask worker, the API): loaded and warmed on first use,
    then reused.

    After loading, :func:`gc.freeze` moves the long-lived model objects out of the garbage
    collector's reach: later collections, and the worker's exit when the cluster closes, stay fast.
    """
    with _LOAD_LOCK:
        suggester = _SUGGESTERS.get(spec)
        if suggester is None:
            suggester = spec.load()
            suggester.suggest_many([WARM_UP_NOTE], sentences=False, evidence=False)
            gc.freeze()
            _SUGGESTERS[spec] = suggester
        return suggester


def warm_up(spec: SuggesterSpec) -> str:
    """Load this worker's Suggester (once per process); return its model version."""
    return worker_suggester(spec).model_version
