"""The checks of a tagging run that need no model: paths and options, the header, the cells.

Both engines run them before anything is created; the CLI runs :func:`check_tag_input` before it
loads the models, so a mistake is reported in about a second. Messages name the file, row and
column, never note text.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import (
    XLSX_CELL_LIMIT,
    check_readable,
    iter_chunks,
    require_column,
    sniff_delimiter,
    table_format,
)
from evidencenlp.tagging.parts import check_output
from evidencenlp.tagging.rows import FLAT_COLUMNS


def check_paths(input_path: Path, output: Path, delimiter: str | None, sheet: str | None) -> None:
    """Checks of the paths and reading options (no model, no rows read)."""
    in_fmt = table_format(input_path)
    table_format(output)
    check_readable(input_path)
    if not output.parent.is_dir():
        raise InputFileError(f"{output}: the folder {output.parent} does not exist")
    if input_path.resolve() == output.resolve():
        raise InputFileError(f"{output}: the output must not be the input file")
    if delimiter is not None and (len(delimiter) != 1 or delimiter in "\"\r\n"):
        raise InputFileError(f"--delimiter must be one character other than a quote or newline; got {delimiter!r}")
    if sheet is not None and in_fmt != "xlsx":
        raise InputFileError(f"{input_path}: --sheet applies to .xlsx input only")


def check_columns(path: Path, frame: pd.DataFrame, text_column: str, prefix: str,
                  delimiter: str | None = None, encoding: str = "utf-8") -> None:
    """The header of ``frame`` (the first chunk of ``path``) has ``text_column`` (else: a hint when the file
    seems to use another separator) and no column that an added column (``prefix`` + name) would overwrite."""
    columns = [str(c) for c in frame.columns]
    fmt = table_format(path)
    if text_column not in columns and fmt in ("csv", "tsv"):
        used = delimiter or ("\t" if fmt == "tsv" else ",")
        seen = sniff_delimiter(path, encoding)
        if seen is not None and seen != used and (len(columns) == 1 or delimiter is None):
            shown = "tab" if seen == "\t" else seen
            raise InputFileError(f"{path}: no column {text_column!r}: the file seems to be {shown}-separated; "
                                 f"pass --delimiter {seen!r}")
    require_column(path, columns, text_column)
    clash = sorted(set(columns) & {prefix + c for c in FLAT_COLUMNS})
    if clash:
        raise InputFileError(f"{path}: already has column(s) {', '.join(clash)} that tagging would overwrite; "
                             "pass --prefix (e.g. --prefix suggested_) to name the new columns differently")


def check_text_cells(path: Path, frame: pd.DataFrame, text_column: str) -> None:
    """Refuse a text column holding lists/objects or bytes that are not UTF-8 (error names row and column)."""
    for row, v in zip(frame.index, frame[text_column].tolist()):
        if isinstance(v, (list, dict, tuple)) or (hasattr(v, "tolist") and getattr(v, "ndim", 0) >= 1):
            raise InputFileError(f"{path}: data row {int(row) + 1}, column {text_column!r}: holds a "
                                 f"{'list' if not isinstance(v, dict) else 'JSON object'}, not text; "
                                 "the text column must hold one note per row")
        if isinstance(v, bytes):
            try:
                v.decode("utf-8")
            except UnicodeDecodeError:
                raise InputFileError(f"{path}: data row {int(row) + 1}, column {text_column!r}: binary value "
                                     "that is not UTF-8 text") from None


def check_xlsx_lengths(path: Path, output: Path, frame: pd.DataFrame) -> None:
    """Refuse an .xlsx output for a row holding more text than an Excel cell (before tagging it)."""
    for col in frame.columns:
        for row, v in zip(frame.index, frame[col].tolist()):
            if isinstance(v, str) and len(v) > XLSX_CELL_LIMIT:
                raise InputFileError(f"{output}: {path} data row {int(row) + 1}, column {str(col)!r} holds "
                                     f"{len(v):,} characters, more than an Excel cell holds ({XLSX_CELL_LIMIT:,}); "
                                     "nothing is cut silently — write .parquet or .csv instead")


def check_chunk(path: Path, output: Path, frame: pd.DataFrame, text_column: str) -> None:
    """The cell checks of one chunk before it is tagged: text cells, and cell lengths for an .xlsx output."""
    check_text_cells(path, frame, text_column)
    if table_format(output) == "xlsx":
        check_xlsx_lengths(path, output, frame)


def check_tag_input(input_path: Path, output: Path, text_column: str, prefix: str = "", encoding: str = "utf-8",
                    delimiter: str | None = None, sheet: str | None = None, resume: bool = False,
                    force: bool = False) -> None:
    """Everything about a ``tag`` run that can be checked without the model, in about a second.

    Paths and options, the output and an interrupted run's parts (``--force``/``--resume``), and the
    header: the text column is there and no added column would overwrite one. The CLI calls this
    before loading the suggester, so a mistake is reported at once; the engines check again.
    """
    check_paths(input_path, output, delimiter, sheet)
    check_output(output, resume, force)
    try:
        first = next(iter(iter_chunks(input_path, chunk_rows=1, encoding=encoding, delimiter=delimiter,
                                      sheet=sheet)), None)
    except RecursionError:
        raise InputFileError(f"{input_path}: a value is nested too deeply to read") from None
    if first is not None:
        check_columns(input_path, first, text_column, prefix, delimiter, encoding)
