"""Split a table into row partitions that another process can read on its own (``tag --engine dask``).

A :class:`Partition` is a range of data rows. For CSV/TSV and JSONL it also holds the byte range of
those rows in the file, so a worker reads only its own bytes; a Parquet partition is a row range read
from the row groups that hold it. CSV record boundaries are found with a real CSV parse: a quoted
note may hold newlines, so neither a byte block nor a line is a row.

:func:`plan_partitions` reads every CSV partition once exactly as a worker will
(:func:`read_partition`) and checks the rows add up to the count of the single-process reader
(:func:`evidencenlp.tabular.iter_chunks`), so the partitions hold the same rows, in the same order,
with the same index (the 0-based data row number). Messages name the file, rows and bytes, never a cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import (
    is_wide_encoding,
    object_frame,
    parse_jsonl_line,
    parser_message,
    python_encoding,
    resolve_encoding,
    separator,
    table_format,
)

#: input formats a partitioned run reads (an .xlsx workbook cannot be read by row range)
PARTITIONED_FORMATS: tuple[str, ...] = ("csv", "tsv", "jsonl", "parquet")

_LONE_CR = re.compile(rb"(?<=\r)(?!\n)")


@dataclass(frozen=True)
class TableSource:
    """Where and how to read the input table; small and picklable, sent with every partition."""

    #: absolute path (a worker on another machine needs the same path)
    path: str
    #: ``csv``, ``tsv``, ``jsonl`` or ``parquet``
    fmt: str
    #: size in bytes when the run was planned (a worker refuses a file that changed)
    size: int
    #: the columns of the whole table, in order (JSONL: the union of keys over every line)
    columns: tuple[str, ...]
    encoding: str = "utf-8"
    delimiter: str | None = None
    #: CSV/TSV: the byte offset where the header record ends and the data starts
    header_end: int = 0


@dataclass(frozen=True)
class Partition:
    """One range of data rows: ``rows`` rows from 0-based data row ``row_start``."""

    number: int
    row_start: int
    rows: int
    #: CSV/TSV/JSONL: the bytes ``[byte_start, byte_end)`` of the file that hold these rows
    byte_start: int = 0
    byte_end: int = 0
    #: JSONL: the file line number of ``byte_start`` (for messages that name a line)
    first_line: int = 1

    @property
    def row_end(self) -> int:
        """One past the last data row (0-based)."""
        return self.row_start + self.rows

    def describe(self) -> str:
        """``data rows A–B`` (1-based, as in every other message)."""
        return f"data rows {self.row_start + 1}–{self.row_end}"


def require_partitioned(path: Path) -> str:
    """The format of ``path``; refuses one that cannot be read by row range (.xlsx) with what to do instead."""
    fmt = table_format(path)
    if fmt not in PARTITIONED_FORMATS:
        raise InputFileError(f"{path}: --engine dask reads .csv, .tsv, .jsonl and .parquet input, not .{fmt}; "
                             "tag it with the default --engine local, or save it as .csv first")
    return fmt


def require_byte_splittable(path: Path, encoding: str = "utf-8") -> None:
    """Refuse a UTF-16/32 text file (named by ``--encoding`` or by its byte-order mark) with what to do.

    Partitions of a text file are byte ranges found by splitting at line ends; in UTF-16 a line end is
    two bytes and a byte ``\\n`` may be half of another character, so such a file is not split.
    """
    if table_format(path) == "parquet":
        return
    used = resolve_encoding(path, encoding)
    if is_wide_encoding(used):
        raise InputFileError(f"{path}: --engine dask cannot split {used.upper()} text into partitions; tag it with "
                             "the default --engine local, or save it as UTF-8 first")


def make_source(path: Path, columns: list[str], encoding: str = "utf-8",
                delimiter: str | None = None) -> TableSource:
    """The :class:`TableSource` of ``path`` (an existing file of a partitioned format, not UTF-16/32)."""
    fmt = require_partitioned(path)
    require_byte_splittable(path, encoding)
    return TableSource(path=str(path.resolve()), fmt=fmt, size=path.stat().st_size,
                       columns=tuple(str(c) for c in columns), encoding=encoding, delimiter=delimiter)


def plan_partitions(source: TableSource, partition_rows: int, expected_rows: int) -> tuple[TableSource, list[Partition]]:
    """Split ``source`` into partitions of at most ``partition_rows`` rows (blank CSV lines are not rows).

    ``expected_rows`` is the row count of the single-process reader; the partitions must add up to it.
    Returns the source (for CSV with its header end filled in) and the partitions, none of them empty.
    """
    if partition_rows < 1:
        raise InputFileError(f"the partition size must be at least 1 row; got {partition_rows}")
    if source.fmt in ("csv", "tsv"):
        source, parts = _plan_csv(source, partition_rows)
    elif source.fmt == "jsonl":
        parts = _plan_jsonl(source, partition_rows)
    else:
        parts = [Partition(k, start, min(partition_rows, expected_rows - start))
                 for k, start in enumerate(range(0, expected_rows, partition_rows))]
    found = sum(p.rows for p in parts)
    if found != expected_rows:
        raise InputFileError(f"{source.path}: cannot split the file into partitions at row boundaries ({found:,} "
                             f"rows found by row range, {expected_rows:,} by the file reader); tag it with the "
                             "default --engine local")
    return source, parts


# -- CSV / TSV -------------------------------------------------------------------------------------


def _decoded_lines(path: Path, encoding: str, position: list[int]) -> Iterator[str]:
    """The file's lines as text (``\\n``, ``\\r\\n`` or a lone ``\\r`` ends one), keeping ``position[0]``
    at the byte offset just after the last line yielded."""
    decoder = codecs.getincrementaldecoder(python_encoding(encoding))()
    with path.open("rb") as fh:
        for raw in fh:
            for piece in _LONE_CR.split(raw):
                if not piece:
                    continue
                try:
                    text = decoder.decode(piece)
                except UnicodeDecodeError as exc:
                    raise InputFileError(f"{path}: cannot decode as {encoding} (invalid byte at byte "
                                         f"{position[0] + exc.start}); save the file as UTF-8 or pass "
                                         "--encoding (e.g. cp1252)") from None
                position[0] += len(piece)
                yield text


def csv_record_ends(path: Path, encoding: str, sep: str) -> Iterator[tuple[int, bool]]:
    """For every CSV record, header first: the byte offset where it ends, and whether it is a blank line.

    A real CSV parse (the same ``csv`` reader :func:`evidencenlp.tabular.iter_chunks` checks the file
    with), so a newline inside a quoted field never ends a record.
    """
    csv.field_size_limit(1 << 30)
    position = [0]
    reader = csv.reader(_decoded_lines(path, encoding, position), delimiter=sep, strict=False)
    try:
        for record in reader:  # the reader asks for no line past the end of the record it returns
            yield position[0], not record
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a valid CSV file (line {reader.line_num}: {exc})") from None


def _csv_ranges(source: TableSource, partition_rows: int) -> tuple[int, list[tuple[int, int]]]:
    """The header's end and byte ranges of about ``partition_rows`` CSV records each (blank lines not counted)."""
    ends = csv_record_ends(Path(source.path), source.encoding, separator(source.fmt, source.delimiter))
    header_end = next(ends, (source.size, True))[0]
    ranges: list[tuple[int, int]] = []
    start, count = header_end, 0
    for end, blank in ends:
        count += not blank
        if count >= partition_rows:
            ranges.append((start, end))
            start, count = end, 0
    if source.size > start:  # the last records, and any bytes after the last record end
        ranges.append((start, source.size))
    return header_end, ranges


def _plan_csv(source: TableSource, partition_rows: int) -> tuple[TableSource, list[Partition]]:
    header_end, ranges = _csv_ranges(source, partition_rows)
    source = TableSource(source.path, source.fmt, source.size, source.columns, source.encoding,
                         source.delimiter, header_end)
    parts: list[Partition] = []
    row = 0
    for start, end in ranges:
        n = len(_read_csv_bytes(source, start, end))  # exactly as the worker will read it
        if n:
            parts.append(Partition(len(parts), row, n, start, end))
            row += n
    return source, parts


def _read_csv_bytes(source: TableSource, start: int, end: int) -> pd.DataFrame:
    """The rows in bytes ``[start, end)``, parsed with the header exactly as ``iter_chunks`` parses the file."""
    with open(source.path, "rb") as fh:
        header = fh.read(source.header_end)
        fh.seek(start)
        body = fh.read(end - start)
    try:
        frame = pd.read_csv(io.BytesIO(header + body), sep=separator(source.fmt, source.delimiter), dtype=str,
                            keep_default_na=False, na_filter=False, encoding=python_encoding(source.encoding),
                            on_bad_lines="error", engine="c")
    except UnicodeDecodeError:
        raise InputFileError(f"{source.path}: bytes {start}–{end}: cannot decode as {source.encoding}; pass "
                             "--encoding") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputFileError(f"{source.path}: cannot split the file into partitions at bytes {start}–{end} "
                             f"({parser_message(exc)}); tag it with the default --engine local") from None
    if tuple(str(c) for c in frame.columns) != source.columns:
        raise InputFileError(f"{source.path}: the header read for bytes {start}–{end} differs from the file's; "
                             "tag it with the default --engine local")
    return frame


# -- JSONL -----------------------------------------------------------------------------------------


def _jsonl_text(path: Path, lineno: int, raw: bytes, encoding: str) -> str:
    """One line decoded as :func:`evidencenlp.tabular.iter_chunks` decodes it (a BOM only on line 1)."""
    enc = python_encoding(encoding)
    try:
        return raw.decode(enc if lineno == 1 else encoding if enc != "utf-8-sig" else "utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError(f"{path}: line {lineno}: cannot decode as {encoding} (invalid byte "
                             f"0x{exc.object[exc.start]:02x}); save the file as UTF-8 or pass --encoding") from None
    except LookupError:
        raise InputFileError(f"{path}: unknown text encoding {encoding!r}") from None


def _plan_jsonl(source: TableSource, partition_rows: int) -> list[Partition]:
    path = Path(source.path)
    parts: list[Partition] = []
    start, first_line, rows, offset, row = 0, 1, 0, 0, 0
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            offset += len(raw)
            rows += bool(_jsonl_text(path, lineno, raw, source.encoding).strip())
            if rows >= partition_rows:
                parts.append(Partition(len(parts), row, rows, start, offset, first_line))
                row += rows
                start, first_line, rows = offset, lineno + 1, 0
    if rows:
        parts.append(Partition(len(parts), row, rows, start, source.size, first_line))
    return parts


def _read_jsonl(source: TableSource, part: Partition) -> pd.DataFrame:
    path = Path(source.path)
    with path.open("rb") as fh:
        fh.seek(part.byte_start)
        body = fh.read(part.byte_end - part.byte_start)
    records: list[list[Any]] = []
    for lineno, raw in enumerate(io.BytesIO(body), start=part.first_line):
        line = _jsonl_text(path, lineno, raw, source.encoding)
        if line.strip():
            obj = parse_jsonl_line(path, lineno, line)
            records.append([obj.get(k) for k in source.columns])
    if not records:
        return pd.DataFrame(columns=list(source.columns), dtype=object)
    return object_frame(records, list(source.columns), list(range(part.row_start, part.row_start + len(records))))


# -- Parquet ---------------------------------------------------------------------------------------


def _read_parquet(source: TableSource, part: Partition) -> pd.DataFrame:
    """Rows ``[row_start, row_end)``, streamed from only the row groups that hold them."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(source.path)
        groups, first, pos = [], -1, 0
        for g in range(pf.metadata.num_row_groups):
            n = pf.metadata.row_group(g).num_rows
            if pos < part.row_end and pos + n > part.row_start:
                first = pos if first < 0 else first
                groups.append(g)
            pos += n
        batches = []
        for batch in pf.iter_batches(batch_size=min(part.rows, 65_536), row_groups=groups):
            lo, hi = max(part.row_start - first, 0), min(part.row_end - first, batch.num_rows)
            if hi > lo:
                batches.append(batch.slice(lo, hi - lo))
            first += batch.num_rows
            if first >= part.row_end:
                break
        table = pa.Table.from_batches(batches, schema=pf.schema_arrow)
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{source.path}: not a readable Parquet file ({type(exc).__name__})") from None
    return table.to_pandas()


# -- every format ----------------------------------------------------------------------------------


def _check_unchanged(source: TableSource) -> None:
    try:
        size = os.stat(source.path).st_size
    except FileNotFoundError:
        raise InputFileError(f"{source.path}: not found where the partition is read; with --scheduler the input "
                             "must be at the same path on a filesystem every dask worker sees") from None
    if size != source.size:
        raise InputFileError(f"{source.path}: the file changed while it was being tagged (or the dask workers see "
                             "another file at this path); run again with --force")


def read_partition(source: TableSource, part: Partition) -> pd.DataFrame:
    """The rows of ``part`` as :func:`evidencenlp.tabular.iter_chunks` yields them, indexed by data row number.

    Runs on a worker: the input is read by path. Refuses a file that changed since it was planned.
    """
    _check_unchanged(source)
    if source.fmt in ("csv", "tsv"):
        frame = _read_csv_bytes(source, part.byte_start, part.byte_end)
    elif source.fmt == "jsonl":
        frame = _read_jsonl(source, part)
    else:
        frame = _read_parquet(source, part)
    if len(frame) != part.rows:
        raise InputFileError(f"{source.path}: {part.describe()}: read {len(frame):,} rows, expected {part.rows:,}: "
                             "the file changed while it was being tagged; run again with --force")
    frame.index = range(part.row_start, part.row_end)
    return frame
