"""spaCy is imported without the torch import thinc makes on its own, and nothing else changes: the
sentences are the same, and torch still imports for whoever asks for it. Each case runs in a fresh
interpreter (an import is once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

TEXT = "Staff were kind. NHS No. 943 476 5919 was on the form! Was the call bell answered? Yes"

_SCRIPT = """
import json, sys
torch_first = sys.argv[1] == "torch-first"
if torch_first:
    import torch
if sys.argv[1] == "own":  # a process evidencenlp runs for itself (tag and its workers)
    from evidencenlp.spacy_import import use_in_this_process
    use_in_this_process()
from evidencenlp.sentences import segmenter
from evidencenlp.text import pipeline
found = {"segmenter": [s.text for s in segmenter()(sys.argv[2]).sents],
         "pipeline": [s.text for s in pipeline()(sys.argv[2]).sents]}
import thinc.compat  # after spaCy, which imported it
found.update(torch_loaded="torch" in sys.modules, thinc_has_torch=thinc.compat.has_torch)
if not torch_first:
    import torch  # whoever needs torch later still gets it
    found["torch_later"] = torch.ones(1).item() == 1.0
print(json.dumps(found))
"""


def _run(mode: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode, TEXT], capture_output=True, text=True, env=env,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_spacy_loads_without_torch_and_splits_sentences_as_with_it() -> None:
    pytest.importorskip("torch")
    without, with_torch, library = _run("own"), _run("torch-first"), _run("library")
    assert without["torch_loaded"] is False and without["thinc_has_torch"] is False
    assert without["torch_later"] is True
    assert with_torch["thinc_has_torch"] is True  # torch already there: spaCy imported as usual
    assert without["segmenter"] == with_torch["segmenter"] and without["pipeline"] == with_torch["pipeline"]
    assert len(without["segmenter"]) >= 3  # type: ignore[arg-type]
    # imported as a library into someone else's program, thinc keeps torch (spacy-transformers,
    # thinc's PyTorch wrapper would otherwise find torch missing for the rest of the process)
    assert library["thinc_has_torch"] is True
    assert library["segmenter"] == without["segmenter"]
