"""Files in, summary out: read a raw or tagged table (raw tables are tagged first, redacted) and summarise it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import check_readable, iter_chunks, require_column, table_format
from evidencenlp.taxonomy import Taxonomy, default_taxonomy
from evidencenlp.trends.config import SummaryConfig
from evidencenlp.trends.summary import Summary, normalise_frame, summarise_frame

if TYPE_CHECKING:
    from evidencenlp.tagging import SuggesterSpec


def is_tagged(columns: Sequence[str], prefix: str = "") -> bool:
    """True when a table already carries the suggestion columns of ``evidencenlp tag``."""
    return all(prefix + c in columns for c in ("key_question", "statement", "band"))


def _header(path: Path, encoding: str) -> list[str]:
    for chunk in iter_chunks(path, chunk_rows=1, encoding=encoding):
        return [str(c) for c in chunk.columns]
    return []


def read_tagged(path: Path, taxonomy: Taxonomy, *, location_column: str | None, date_column: str,
                text_column: str | None, prefix: str = "", encoding: str = "utf-8",
                chunk_rows: int = 50_000) -> pd.DataFrame:
    """Read a tagged table chunk by chunk, keeping only the columns a summary needs (normalised)."""
    parts = []
    for chunk in iter_chunks(path, chunk_rows=chunk_rows, encoding=encoding):
        parts.append(normalise_frame(chunk, taxonomy, location_column=location_column, date_column=date_column,
                                     text_column=text_column, prefix=prefix, source=str(path),
                                     first_row=int(chunk.index[0]) + 1 if len(chunk) else 1))
    if not parts:
        raise InputFileError(f"{path}: the file has a header but no rows")
    return pd.concat(parts, ignore_index=True)


def summarise_file(path: Path, config: SummaryConfig | None = None, *, text_column: str = "text",
                   location_column: str | None = "location", date_column: str = "date", prefix: str = "",
                   encoding: str = "utf-8", taxonomy: Taxonomy | None = None,
                   suggester: SuggesterSpec | None = None, engine: str = "local",
                   scheduler: str | None = None, workers: int | None = None,
                   on_tagging: Callable[[], None] | None = None,
                   on_rows: Callable[[int], None] | None = None,
                   on_event: Callable[[str], None] | None = None) -> Summary:
    """Summarise a raw or tagged table.

    A raw table (no ``key_question``/``statement``/``band`` columns) is first tagged with
    :func:`evidencenlp.tagging.tag` (streaming, on ``engine`` "local" or "dask" with ``scheduler`` /
    ``workers``) into a temporary Parquet file, by the Suggester ``suggester`` describes (default: the
    packaged models), which must redact: the summary keeps example comments. ``on_tagging`` is called
    once before tagging starts, ``on_rows`` after each tagged chunk, ``on_event`` with one-line status
    messages (dask: cluster start-up).
    """
    config = config or SummaryConfig()
    taxonomy = taxonomy or default_taxonomy()
    path = Path(path)
    table_format(path)
    check_readable(path)
    columns = _header(path, encoding)
    require_column(path, columns, date_column)
    if location_column is not None:
        require_column(path, columns, location_column)
    if is_tagged(columns, prefix):
        data = read_tagged(path, taxonomy, location_column=location_column, date_column=date_column,
                           text_column=text_column, prefix=prefix, encoding=encoding)
        return summarise_frame(data, taxonomy, config, source=str(path))
    require_column(path, columns, text_column)
    from evidencenlp.tagging import SuggesterSpec, TagOptions, tag

    spec = suggester or SuggesterSpec()
    if not spec.redact:
        raise InputFileError("summarise keeps example comments, so it tags raw files with redaction: "
                             "use a SuggesterSpec with redact=True")
    if on_tagging is not None:
        on_tagging()
    with tempfile.TemporaryDirectory(prefix="evidencenlp-summarise-") as tmp:
        tagged = Path(tmp) / "tagged.parquet"
        options = TagOptions(text_column=text_column, prefix=prefix, encoding=encoding, scheduler=scheduler,
                             workers=workers)
        tag(path, tagged, options, spec, engine, on_rows=on_rows, on_event=on_event)
        data = read_tagged(tagged, taxonomy, location_column=location_column, date_column=date_column,
                           text_column=text_column, prefix=prefix)
    return summarise_frame(data, taxonomy, config, source=str(path))
