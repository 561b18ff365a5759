"""Labels inspectors confirmed or corrected in a review database, as training rows.

Read through :func:`evidencenlp.review.in_force.decisions_in_force` on a read-only connection: training
never opens the review store for writing, so it neither migrates nor locks an inspector's database.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.review.in_force import decisions_in_force, open_read_only
from evidencenlp.sources.corpus import CORPUS_COLUMNS


def decision_rows(db_path: Path | str) -> pd.DataFrame:
    """The confirmed decisions in force of a review database as corpus rows with ``origin="decisions"``.

    In: the database path. Out: one row per confirmed or corrected note, the corpus columns
    (``note_id`` is the file's id, else ``assessment/file#row``) plus ``origin``. Raises
    :class:`DataError` when it holds no confirmed decision.
    """
    with open_read_only(db_path) as conn:
        confirmed = [n for n in decisions_in_force(conn) if n.confirmed]
    if not confirmed:
        raise DataError(f"{db_path}: no confirmed decisions to learn from")
    records = [{"note_id": n.source_id or f"{n.assessment}/{n.source_file}#{n.source_row}", "text": n.text,
                "key_question": n.key_question, "statement": n.statement, "evidence_category": n.evidence_category,
                "band": n.band, "principles": ";".join(n.principles), "service": n.service or n.service_type or ""}
               for n in confirmed]
    return pd.DataFrame(records, columns=list(CORPUS_COLUMNS), dtype=str).assign(origin="decisions")
