"""Paragraphs of published CQC inspection reports (OGL v3.0; ``training/inspection/cqc_reports.csv``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidencenlp.paths import training_dir
from evidencenlp.tabular import read_table


def inspection_path() -> Path:
    """The inspection paragraphs file inside the training folder."""
    return training_dir() / "inspection" / "cqc_reports.csv"


def inspection_examples() -> pd.DataFrame:
    """Paragraphs of published CQC inspection reports (OGL v3.0; ``training/inspection/cqc_reports.csv``)
    as training rows: key question from the section, band from the section's rating where shown."""
    raw = read_table(inspection_path()).fillna("").astype(str)
    return pd.DataFrame({"note_id": [f"cqc:{loc}:{i}" for i, loc in enumerate(raw["location_id"])],
                         "text": raw["text"], "key_question": raw["key_question"], "statement": "",
                         "evidence_category": "", "band": raw["band"], "principles": "", "service": "",
                         "origin": "inspection:" + raw["location_id"], "direction": "",
                         "group": raw["location_id"]})
