"""Import spaCy without the torch import that thinc makes on its own (1–1.5 s of CPU per process).

spaCy imports thinc, and ``thinc.compat`` tries ``import torch`` unconditionally, only to learn
whether torch is there. evidencenlp's spaCy pipelines (a blank English pipeline with the rule-based
sentencizer and our own components) never use torch through thinc, so a process that has not
imported torch for its own reasons (the static backend; every ``tag --jobs N`` worker) need not pay
for it. :func:`import_spacy` imports spaCy with a finder that refuses ``torch`` to ``thinc.compat``
alone (any other importer, in any thread, still gets torch), so thinc records that torch is
absent. When torch is already imported nothing changes. Takes nothing, returns the spaCy module.

thinc keeps that answer for the life of the process, so torch would stay unusable *through thinc*
(spacy-transformers, thinc's PyTorch wrapper) even after torch is imported. The finder is therefore
used only in processes evidencenlp runs for itself — the ``tag`` command and its workers call
:func:`use_in_this_process` — never when evidencenlp is imported as a library into someone else's
program.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
from collections.abc import Sequence
from types import ModuleType

__all__ = ["import_spacy", "use_in_this_process"]

_LOCK = threading.Lock()
#: the module whose ``import torch`` is refused
_PROBE_MODULE = "thinc.compat"
#: whether this process is one evidencenlp runs for itself (see :func:`use_in_this_process`)
_ENABLED = False


def use_in_this_process() -> None:
    """Let :func:`import_spacy` skip thinc's torch import in this process (a process evidencenlp runs
    for itself: the ``tag`` command, its worker processes)."""
    global _ENABLED
    _ENABLED = True


class _NoTorchForThinc(importlib.abc.MetaPathFinder):
    """Refuses ``torch`` (and its submodules) when ``thinc.compat`` is the module importing it."""

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != "torch" and not fullname.startswith("torch."):
            return None
        frame = sys._getframe(1)
        while frame is not None:  # the importer's frame is above the import machinery's own frames
            if frame.f_globals.get("__name__") == _PROBE_MODULE:
                raise ModuleNotFoundError(f"No module named {fullname!r} (not needed by evidencenlp's spaCy "
                                          "pipelines)", name=fullname)
            frame = frame.f_back  # type: ignore[assignment]
        return None


def import_spacy() -> ModuleType:
    """The ``spacy`` module, imported (on first call) without thinc importing torch when
    :func:`use_in_this_process` was called and torch is not already imported (otherwise as usual)."""
    if "spacy" in sys.modules and "thinc.compat" in sys.modules:
        return sys.modules["spacy"]
    with _LOCK:
        if not _ENABLED or "torch" in sys.modules or "thinc.compat" in sys.modules:
            import spacy

            return spacy
        finder = _NoTorchForThinc()
        sys.meta_path.insert(0, finder)
        try:
            import spacy
        finally:
            sys.meta_path.remove(finder)
        return spacy
