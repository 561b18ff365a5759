"""Assessment bundles as training rows: the labelled notes of hand-rated bundle folders.

A bundle (``evidencenlp.evaluation.assessments``: one JSON file of notes, each with key question,
statement, evidence category and band, and the ratings decided from them) is written for measuring
``assess``; its notes are also labelled inspection evidence in all four bands, the kind the phase-1
comments and the corpus have least of. In: folders of ``*.json`` bundles. Out: one row per note with the
corpus columns and ``origin`` ``bundle:<folder>/<bundle id>`` (so ``source_weights`` can weigh them). They
are training rows only: the held-out figures of ``train`` and its review thresholds are measured on the
other sources (:data:`evidencenlp.training.TRAIN_ONLY_ORIGINS`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from evidencenlp.errors import DataError, InputFileError

#: the origin prefix of bundle notes (``bundle:<folder>/<bundle id>``)
BUNDLE_ORIGIN = "bundle"


def bundle_rows(folders: Sequence[Path]) -> pd.DataFrame:
    """The notes of every bundle in ``folders`` as training rows (corpus columns, ``origin``, ``direction``).

    Training data must be whole: raises :class:`DataError` naming the folder when it is not a folder of
    bundles (or is empty, or is given twice, which would count its notes twice), and naming the file, note
    and field of the first bundle that cannot be read (with how many could not), never note text.
    """
    from evidencenlp.assess import load_rules
    from evidencenlp.evaluation.assessments import read_bundles

    seen: set[Path] = set()
    for folder in folders:
        resolved = Path(folder).resolve()
        if resolved in seen:
            raise DataError(f"{folder}: this folder of assessment bundles is given twice (its notes would be "
                            "trained on twice)")
        seen.add(resolved)
    rules = load_rules()[2]
    rows: list[dict[str, str]] = []
    for folder in folders:
        try:
            bundles, bad = read_bundles(Path(folder), rules)
        except InputFileError as exc:
            raise DataError(f"assessment bundles for training: {exc}") from None
        if bad:
            raise DataError(f"assessment bundles for training: {folder}: {len(bad)} bundle(s) cannot be read; "
                            f"first: {bad[0]}")
        for b in bundles:
            for note in b.notes:
                rows.append({"note_id": f"{b.id}/{note.id}", "text": note.text, "key_question": note.key_question,
                             "statement": note.statement, "evidence_category": note.evidence_category,
                             "band": note.band, "principles": "", "service": b.service_type,
                             "origin": f"{BUNDLE_ORIGIN}:{Path(folder).name}/{b.id}", "direction": ""})
    return pd.DataFrame(rows, columns=["note_id", "text", "key_question", "statement", "evidence_category", "band",
                                       "principles", "service", "origin", "direction"])
