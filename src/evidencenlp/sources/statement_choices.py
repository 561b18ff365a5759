"""Which SAF statement a shared framework sentence teaches: ``training/framework_statement_choices.csv``.

A v6 band descriptor, a KLOE rating characteristic or a KLOE prompt is evidence for the SAF statements the
crosswalk links its topic / KLOE to. With one link it teaches that statement; with several it taught none,
which left 16 statements with their "we statement" as their only framework sentence. The choices file names,
for each such sentence, the one linked statement *of the sentence's own key question* whose "we statement" is
nearest to it in the encoder (cosine). It is derived data, written by ``python
training/make_framework_examples.py`` and committed so it can be read and corrected by hand; training reads it
and never needs the encoder for it.

Columns: ``framework,item,kind,text,statement,cosine``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.paths import training_dir

if TYPE_CHECKING:
    from evidencenlp.frameworks.index import FrameworkIndex

STATEMENT_CHOICES_FILE = "framework_statement_choices.csv"
CHOICE_COLUMNS: tuple[str, ...] = ("framework", "item", "kind", "text", "statement", "cosine")
#: kinds of framework sentence that are evidence for the statements their topic / KLOE is linked to
CHOSEN_KINDS: tuple[str, ...] = ("descriptor", "rating", "prompt")

ChoiceKey = tuple[str, str, str, str]


def choose_statements(index: FrameworkIndex) -> pd.DataFrame:
    """The choices file's rows for ``index``: every sentence of :data:`CHOSEN_KINDS` whose topic / KLOE the
    crosswalk links to two or more statements, at least one of them of the sentence's key question, with the
    nearest such statement (cosine of the sentence to the statement's title and "we statement")."""
    we = {t.item: i for i, t in enumerate(index.texts) if t.kind == "quality_statement"}
    kq_of = dict(zip(index.taxonomy.statements, index.taxonomy.statement_kq))
    rows = []
    for i, t in enumerate(index.texts):
        if t.kind not in CHOSEN_KINDS:
            continue
        linked = index.crosswalk.saf_for(t.framework, t.item)
        own = [s for s in linked if s in we and kq_of.get(s) == t.key_question]
        if len(linked) < 2 or not own:
            continue
        cos = [float(index.vectors[i] @ index.vectors[we[s]]) for s in own]
        best = int(np.argmax(cos))
        rows.append({"framework": t.framework, "item": t.item, "kind": t.kind, "text": t.text,
                     "statement": own[best], "cosine": f"{cos[best]:.4f}"})
    return pd.DataFrame(rows, columns=list(CHOICE_COLUMNS))


def load_statement_choices(path: Path | None = None) -> dict[ChoiceKey, str]:
    """``(framework, item, kind, text) -> statement`` from the choices file (``{}`` when there is none).

    Raises :class:`DataError` naming the file when it cannot be read or lacks a column.
    """
    path = path or training_dir() / STATEMENT_CHOICES_FILE
    if not path.is_file():
        return {}
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read the framework statement choices ({type(exc).__name__})") from exc
    missing = [c for c in CHOICE_COLUMNS if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}")
    return {(r.framework, r.item, r.kind, r.text): r.statement for r in frame.itertuples(index=False)}


__all__ = ["CHOICE_COLUMNS", "CHOSEN_KINDS", "STATEMENT_CHOICES_FILE", "choose_statements",
           "load_statement_choices"]
