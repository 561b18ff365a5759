"""Gather training rows from the sources a run names: one frame with the corpus columns and ``origin``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evidencenlp.frameworks.index import FrameworkIndex
from evidencenlp.frameworks.taxonomy import TASKS
from evidencenlp.sources.corpus import framework_examples, load_corpus, load_labelled
from evidencenlp.sources.inspection import inspection_examples


@dataclass(frozen=True)
class SourceSelection:
    """Which sources to read: the hand-written corpus, the framework examples, extra labelled files,
    a phase-1 feedback file (and the lowest mapping confidence used), the inspection paragraphs, a
    review database's decisions and folders of assessment bundles (their labelled notes)."""

    corpus: bool = True
    framework_examples: bool = True
    data: tuple[Path, ...] = ()
    phase1: Path | None = None
    phase1_min_confidence: str = "medium"
    inspection: bool = False
    decisions: Path | None = None
    bundles: tuple[Path, ...] = ()


def gather(selection: SourceSelection, index: FrameworkIndex) -> pd.DataFrame:
    """All rows (corpus columns + ``origin``, ``direction``, ``group``; blanks as ``""``) of the selected sources."""
    parts = []
    if selection.framework_examples:
        parts.append(framework_examples(index.frameworks, index.crosswalk))
    if selection.corpus:
        parts.append(load_corpus(statements=index.statements))
    for path in selection.data:
        frame = load_labelled(path, statements=index.statements)
        frame["origin"] = f"data:{path.name}"
        parts.append(frame)
    if selection.phase1 is not None:
        from evidencenlp.sources.phase1 import load_mapping, training_rows
        from evidencenlp.tabular import read_table

        parts.append(training_rows(read_table(selection.phase1), load_mapping(statements=index.statements),
                                   min_confidence=selection.phase1_min_confidence))
    if selection.inspection:
        parts.append(inspection_examples())
    if selection.decisions is not None:
        from evidencenlp.sources.decisions import decision_rows

        parts.append(decision_rows(selection.decisions))
    if selection.bundles:
        from evidencenlp.sources.bundles import bundle_rows

        parts.append(bundle_rows(selection.bundles))
    frame = pd.concat(parts, ignore_index=True)
    for col in (*TASKS, "principles", "origin", "direction", "group"):
        if col not in frame:
            frame[col] = ""
        frame[col] = frame[col].fillna("").astype(str)
    return frame
