"""The local engine: stream chunks of a table through one Suggester in this process, or through the
worker processes of a :class:`~evidencenlp.tagging.pool.ChunkPool` (``tag --jobs N``).

Each finished chunk is saved as a part (:mod:`evidencenlp.tagging.parts`); ``resume=True`` carries
on after the last finished part, so no row is repeated or lost. Everything that can be checked is
checked before the parts folder is created, so a failed first attempt leaves nothing behind. No
message ever contains note text: only file, row number and column.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import DEFAULT_CHUNK_ROWS, ReadReport, iter_chunks, table_format, xlsx_sheets
from evidencenlp.tagging.checks import check_chunk, check_columns, check_paths
from evidencenlp.tagging.chunk import TagSummary
from evidencenlp.tagging.parts import (
    LiveAssembly,
    clean_stale_temp_files,
    finish_output,
    finished_parts,
    make_manifest,
    open_parts,
    parts_dir,
    save_part,
    saved_rows,
)
from evidencenlp.tagging.pool import ChunkPool, InProcess

if TYPE_CHECKING:  # only for annotations: importing this module stays light (no torch)
    from evidencenlp.suggest import Suggester


def tag_file(suggester: Suggester | ChunkPool, input_path: Path, output: Path, text_column: str,
             chunk_rows: int = DEFAULT_CHUNK_ROWS, resume: bool = False, force: bool = False,
             redact: bool = True, prefix: str = "", encoding: str = "utf-8",
             on_rows: Callable[[int], None] | None = None,
             on_progress: Callable[[int], None] | None = None, delimiter: str | None = None,
             sheet: str | None = None) -> TagSummary:
    """Tag every row of ``input_path`` into ``output`` (same or another supported format) with a loaded
    ``suggester``, or with the worker processes of a started :class:`~evidencenlp.tagging.pool.ChunkPool`.

    Keeps every input column and the row order, adds :data:`~evidencenlp.tagging.rows.FLAT_COLUMNS`
    (with ``prefix``), and replaces the text column by its redacted form unless ``redact`` is False
    (``redact`` must be what the suggester was loaded with; :func:`evidencenlp.tagging.tag` takes both
    from one :class:`~evidencenlp.tagging.spec.SuggesterSpec`; a pool takes it from its spec). ``on_rows``
    is called with the number of rows finished after each chunk (each saved part); ``on_progress`` with
    the number of notes encoded after each encoder batch (for a live bar; with a pool, after each
    chunk). ``delimiter`` overrides the CSV separator; ``sheet`` reads one sheet of a workbook (default:
    all). A pool writes the same parts, in the same order, as one process.
    """
    check_paths(input_path, output, delimiter, sheet)
    sheets = xlsx_sheets(input_path, sheet) if table_format(input_path) == "xlsx" else []
    clean_stale_temp_files(output)
    tagger = suggester if isinstance(suggester, ChunkPool) else InProcess(suggester, redact, on_progress)
    manifest = make_manifest(input_path, text_column, chunk_rows, tagger.redact, prefix, tagger.model_version,
                             tagger.evidence_category, delimiter, sheet, encoding)
    saved = open_parts(output, manifest, resume, force, engine="local")
    folder = parts_dir(output)
    parts = saved_rows(folder) if saved is not None else {}
    done = sum(parts.values())
    summary = TagSummary(output=output, rows=done, resumed_from_row=done, sheets=sheets)
    started = time.perf_counter()
    part_no = len(parts)
    read = _Read()
    live = LiveAssembly(output)  # the output is written as the parts come in, not all at the end
    try:
        for part in finished_parts(folder) if saved is not None else []:
            live.add(part)
        chunks = _checked_chunks(input_path, output, text_column, prefix, chunk_rows, encoding, done, delimiter,
                                 sheet, read)
        for chunk, tagged, counts in tagger.tag_in_order(chunks, text_column, prefix):
            summary.add(counts)
            live.add(save_part(output, manifest, part_no, tagged, source=input_path,
                               rows=f"rows {int(chunk.index[0]) + 1}–{int(chunk.index[-1]) + 1}"))
            part_no += 1
            if on_rows is not None:
                on_rows(len(chunk))
    except RecursionError:
        live.abort()
        raise InputFileError(f"{input_path}: a value is nested too deeply to read") from None
    except BaseException:
        live.abort()
        raise
    if read.seen == 0 and done == 0:
        live.abort()
        raise InputFileError(f"{input_path}: the file has a header but no rows")
    if not folder.exists():  # resumed with every row already done, yet the folder is gone
        live.abort()
        raise InputFileError(f"{output}: there are no tagged rows to write")
    summary.replaced_characters = read.repaired.replaced_characters
    summary.rows_repaired = read.repaired.rows_repaired
    return finish_output(input_path, output, summary, started, live)


@dataclass
class _Read:
    """What reading the input found: rows read (after ``skip_rows``) and the characters repaired."""

    seen: int = 0
    repaired: ReadReport = field(default_factory=ReadReport)


def _checked_chunks(input_path: Path, output: Path, text_column: str, prefix: str, chunk_rows: int, encoding: str,
                    skip_rows: int, delimiter: str | None, sheet: str | None, read: _Read) -> Iterator[pd.DataFrame]:
    """The non-empty chunks of the input after ``skip_rows``, each checked (header with the first, cells)."""
    checked = False
    for chunk in iter_chunks(input_path, chunk_rows=chunk_rows, encoding=encoding, skip_rows=skip_rows,
                             delimiter=delimiter, sheet=sheet, report=read.repaired):
        if not checked:
            check_columns(input_path, chunk, text_column, prefix, delimiter, encoding)
            checked = True
        if chunk.empty:
            continue
        read.seen += len(chunk)
        check_chunk(input_path, output, chunk, text_column)
        yield chunk
