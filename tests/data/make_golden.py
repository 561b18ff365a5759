"""Regenerate ``golden_example.json``: the suggestions for ``examples/notes.csv`` with the shipped model.

Run after retraining (``python tests/data/make_golden.py``) and review the diff: a refactor must not
change it; a retrained model changes it on purpose.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from evidencenlp.suggest import Suggester

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parents[1] / "examples" / "notes.csv"


def golden(suggester: Suggester) -> list[dict]:
    """``[{"id", "suggestion"}]`` for every row of the bundled example (``None`` for a blank note)."""
    frame = pd.read_csv(EXAMPLE, dtype=str, keep_default_na=False)
    results = suggester.suggest_many(frame["text"].tolist())
    return [{"id": ident, "suggestion": None if r is None else r.to_dict()} for ident, r in zip(frame["id"], results)]


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "golden_example.json"
    out.write_text(json.dumps(golden(Suggester.load()), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {out}")
