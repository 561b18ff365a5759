"""Labels inspectors confirmed or corrected in a review database, as training rows (read-only)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.review.store import confirmed_labels


def decision_rows(db_path: Path | str) -> pd.DataFrame:
    """The decisions in force of a review database as corpus rows with ``origin="decisions"``.

    Raises :class:`DataError` when it holds no confirmed decision.
    """
    decisions = confirmed_labels(db_path)
    if decisions.empty:
        raise DataError(f"{db_path}: no confirmed decisions to learn from")
    return decisions.assign(origin="decisions")
