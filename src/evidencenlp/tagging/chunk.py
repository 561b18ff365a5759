"""Tag one chunk of rows (either engine): suggestion columns added, counts kept, cells made storable.

:func:`tag_chunk` is what both engines run on a chunk (local, in this process or a worker process) or a
partition (a dask worker); :func:`normalise_for_parquet` makes the tagged rows storable as a part
(:func:`tag_rows` does both); :class:`TagSummary` holds what a run did, as counts only (no note text).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from evidencenlp.tagging.columns import chunk_columns
from evidencenlp.tagging.rows import FLAT_COLUMNS

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggester


@dataclass
class TagSummary:
    """What a tagging run did (no note text, only counts)."""

    output: Path
    rows: int = 0
    tagged: int = 0
    blank: int = 0
    needs_review: int = 0
    abstained: dict[str, int] = field(default_factory=dict)
    redactions: dict[str, int] = field(default_factory=dict)
    resumed_from_row: int = 0
    seconds: float = 0.0
    #: the workbook sheets read (an .xlsx input only)
    sheets: list[str] = field(default_factory=list)
    #: characters an .xlsx cannot hold, removed from the output
    removed_characters: int = 0
    #: characters that are not valid Unicode (lone surrogates in JSONL), replaced by U+FFFD, and their rows
    replaced_characters: int = 0
    rows_repaired: int = 0

    @property
    def rows_per_second(self) -> float:
        """Throughput of this run (rows processed in this run ÷ wall-clock seconds)."""
        done = self.rows - self.resumed_from_row
        return done / self.seconds if self.seconds > 0 else 0.0

    def add(self, counts: TagSummary) -> None:
        """Add the row, tagged, blank, review, abstention and redaction counts of ``counts`` (one chunk)."""
        self.rows += counts.rows
        self.tagged += counts.tagged
        self.blank += counts.blank
        self.needs_review += counts.needs_review
        for reason, n in counts.abstained.items():
            self.abstained[reason] = self.abstained.get(reason, 0) + n
        for kind, n in counts.redactions.items():
            self.redactions[kind] = self.redactions.get(kind, 0) + n


def note_text(v: Any) -> str | None:
    """A text cell as the note to tag: text as it is, bytes decoded as UTF-8, other values as text; None
    for a missing cell."""
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return str(v)


def tag_chunk(suggester: Suggester, frame: pd.DataFrame, text_column: str, redact: bool, prefix: str,
              summary: TagSummary, on_progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Add the suggestion columns to one chunk; blank notes keep empty columns. Updates ``summary``.

    With ``redact`` the text column is replaced by the redacted text the suggester returned.
    """
    raw = frame[text_column].tolist()
    texts = [note_text(v) for v in raw]
    built = chunk_columns(suggester, texts, progress=on_progress)
    summary.add(TagSummary(summary.output, rows=len(frame), tagged=built.tagged, blank=built.blank,
                           needs_review=built.needs_review, abstained=dict(built.abstained),
                           redactions=dict(built.redactions)))
    redacted_texts = built.texts
    out = frame.copy()
    if redact:
        out[text_column] = redacted_texts
    elif any(isinstance(v, bytes) for v in raw):
        out[text_column] = texts
    added = pd.DataFrame(built.columns, index=frame.index, columns=list(FLAT_COLUMNS))
    added["needs_review"] = added["needs_review"].astype("boolean")
    added.columns = [prefix + c for c in FLAT_COLUMNS]
    return pd.concat([out, added], axis=1)


def tag_rows(suggester: Suggester, frame: pd.DataFrame, text_column: str, redact: bool, prefix: str,
             on_progress: Callable[[int], None] | None = None) -> tuple[pd.DataFrame, TagSummary]:
    """One chunk (local), chunk of a worker process (``--jobs``) or partition (dask) tagged and made
    storable as a part: the rows (:func:`tag_chunk`, then :func:`normalise_for_parquet`) and their counts."""
    counts = TagSummary(output=Path(""))
    tagged = tag_chunk(suggester, frame, text_column, redact, prefix, counts, on_progress)
    return normalise_for_parquet(tagged), counts


def _list_like(v: Any) -> bool:
    return isinstance(v, (list, tuple)) or (hasattr(v, "tolist") and getattr(v, "ndim", 0) == 1)


def normalise_for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing types (possible in JSONL/XLSX) become text so a part can be stored.

    Columns of lists stay lists (so they round-trip to Parquet) when Arrow can store them; bytes
    that are UTF-8 become text; integers too big for 64 bits become text.
    """
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            present = [v for v in frame[col] if v is not None and not (isinstance(v, float) and v != v)]
            if present and all(_list_like(v) for v in present):
                values = [None if v is None or (isinstance(v, float) and v != v) else
                          (v.tolist() if hasattr(v, "tolist") else list(v)) for v in frame[col]]
                try:
                    pa.array(values)
                    frame[col] = values
                    continue
                except (pa.ArrowException, OverflowError, TypeError, ValueError):
                    pass
            if present and all(isinstance(v, bytes) for v in present):
                try:
                    frame[col] = [v.decode("utf-8") if isinstance(v, bytes) else None for v in frame[col]]
                    continue
                except UnicodeDecodeError:
                    pass
            kinds = {type(v) for v in present}
            too_big = int in kinds and any(isinstance(v, int) and not -(2**63) <= v < 2**63 for v in present)
            if len(kinds) > 1 or too_big or (kinds and not kinds <= {str, bool, int, float}):
                frame[col] = [None if v is None or (isinstance(v, float) and v != v) else
                              (json.dumps(v, ensure_ascii=False, default=str) if isinstance(v, (list, dict))
                               else v.decode("utf-8", errors="replace") if isinstance(v, bytes)
                               else str(v))
                              for v in frame[col]]
    frame.columns = [str(c) for c in frame.columns]
    return frame
