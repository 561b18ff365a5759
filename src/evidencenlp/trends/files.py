"""Files in, summary out: read a raw or tagged table (raw tables are tagged first, redacted) and summarise it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import check_readable, iter_chunks, require_column, table_format
from evidencenlp.taxonomy import Taxonomy, default_taxonomy
from evidencenlp.trends.config import SummaryConfig
from evidencenlp.trends.summary import Summary, normalise_frame, summarise_frame


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


def _local_tagger(suggester_factory: Callable[[], Any] | None) -> Callable[..., Any]:
    """:func:`evidencenlp.tagging.tag_file` with a Suggester built now (redacting)."""
    from evidencenlp.tagging import tag_file

    if suggester_factory is None:
        from evidencenlp.suggest import Suggester

        suggester_factory = Suggester.load
    return partial(tag_file, suggester_factory(), redact=True)


def summarise_file(path: Path, config: SummaryConfig | None = None, *, text_column: str = "text",
                   location_column: str | None = "location", date_column: str = "date", prefix: str = "",
                   encoding: str = "utf-8", taxonomy: Taxonomy | None = None,
                   suggester_factory: Callable[[], Any] | None = None,
                   on_tagging: Callable[[], None] | None = None,
                   on_rows: Callable[[int], None] | None = None,
                   tagger: Callable[..., Any] | None = None) -> Summary:
    """Summarise a raw or tagged table.

    A raw table (no ``key_question``/``statement``/``band`` columns) is first tagged with
    :func:`evidencenlp.tagging.tag_file` (streaming, redacted) into a temporary Parquet file;
    ``suggester_factory`` builds the :class:`~evidencenlp.suggest.Suggester` only then.
    ``on_tagging`` is called once before tagging starts; ``on_rows`` after each tagged chunk.
    ``tagger``, when given, tags instead of ``tag_file`` (e.g. on a dask cluster, see
    :func:`evidencenlp.engine.tag_file_dask`): it is called as ``tagger(path, output, text_column,
    prefix=…, encoding=…, on_rows=…)`` and must redact.
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
    if on_tagging is not None:
        on_tagging()
    if tagger is None:
        tagger = _local_tagger(suggester_factory)
    with tempfile.TemporaryDirectory(prefix="evidencenlp-summarise-") as tmp:
        tagged = Path(tmp) / "tagged.parquet"
        tagger(path, tagged, text_column, prefix=prefix, encoding=encoding, on_rows=on_rows)
        data = read_tagged(tagged, taxonomy, location_column=location_column, date_column=date_column,
                           text_column=text_column, prefix=prefix)
    return summarise_frame(data, taxonomy, config, source=str(path))
