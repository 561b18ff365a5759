"""Read and write tables (.csv, .tsv, .xlsx, .jsonl, .parquet) in chunks, and write outputs atomically.

Readers yield :class:`pandas.DataFrame` chunks so memory stays flat however many rows there are.
CSV/TSV values are read as text so they round-trip exactly ("007" stays "007"). Every problem is
raised as :class:`InputFileError` naming the file and, where known, the row and column.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.defaults import DEFAULT_CHUNK_ROWS
from evidencenlp.errors import InputFileError

FORMATS: dict[str, str] = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl",
                           ".ndjson": "jsonl", ".parquet": "parquet"}


def table_format(path: Path) -> str:
    """The format of ``path`` by its extension; an error lists the supported ones."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputFileError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; "
                             f"expected one of {', '.join(sorted(set(FORMATS)))}")
    return fmt


def check_readable(path: Path) -> None:
    """Raise :class:`InputFileError` unless ``path`` is an existing, readable file."""
    if not path.exists():
        raise InputFileError(f"{path}: file not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a file")
    if not os.access(path, os.R_OK):
        raise InputFileError(f"{path}: permission denied")


def _decode_error(path: Path, exc: UnicodeDecodeError, encoding: str) -> InputFileError:
    return InputFileError(f"{path}: cannot decode as {encoding} (invalid byte 0x{exc.object[exc.start]:02x} at "
                          f"byte {exc.start}); save the file as UTF-8 or pass --encoding (e.g. cp1252)")


def count_rows(path: Path, encoding: str = "utf-8") -> int | None:
    """Number of data rows (header excluded), or None when it cannot be known cheaply."""
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt == "jsonl":
            with path.open("rb") as fh:
                return sum(1 for line in fh if line.strip())
        if fmt in ("csv", "tsv"):
            with path.open(encoding=encoding, newline="", errors="replace") as fh:
                return max(0, sum(1 for _ in csv.reader(fh, delimiter="\t" if fmt == "tsv" else ",")) - 1)
    except Exception:
        return None
    return None


def iter_chunks(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8",
                skip_rows: int = 0) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` as DataFrames of at most ``chunk_rows`` rows, skipping ``skip_rows`` first.

    The index of each chunk is the 0-based data row number in the file.
    """
    check_readable(path)
    fmt = table_format(path)
    reader = {"csv": _iter_csv, "tsv": _iter_csv, "jsonl": _iter_jsonl, "parquet": _iter_parquet,
              "xlsx": _iter_xlsx}[fmt]
    yield from reader(path, chunk_rows, encoding, skip_rows, fmt)


def _iter_csv(path: Path, chunk_rows: int, encoding: str, skip_rows: int, fmt: str) -> Iterator[pd.DataFrame]:
    sep = "\t" if fmt == "tsv" else ","
    enc = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        reader = pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                             chunksize=chunk_rows, encoding=enc, skiprows=range(1, skip_rows + 1),
                             on_bad_lines="error", engine="c")
        start = skip_rows
        for chunk in reader:
            chunk.index = range(start, start + len(chunk))
            start += len(chunk)
            yield chunk
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc, encoding) from None
    except pd.errors.EmptyDataError:
        raise InputFileError(f"{path}: the file is empty (expected a header row with column names)") from None
    except pd.errors.ParserError as exc:
        raise InputFileError(f"{path}: not a valid {fmt.upper()} file: {exc}") from None


def _iter_jsonl(path: Path, chunk_rows: int, encoding: str, skip_rows: int, fmt: str) -> Iterator[pd.DataFrame]:
    rows: list[dict[str, Any]] = []
    index: list[int] = []
    n = 0
    try:
        with path.open(encoding=encoding) as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                if n < skip_rows:
                    n += 1
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputFileError(f"{path}: line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
                if not isinstance(obj, dict):
                    raise InputFileError(f"{path}: line {lineno}: expected a JSON object per line; "
                                         f"got {type(obj).__name__}")
                rows.append(obj)
                index.append(n)
                n += 1
                if len(rows) >= chunk_rows:
                    yield pd.DataFrame(rows, index=index)
                    rows, index = [], []
    except UnicodeDecodeError as exc:
        raise _decode_error(path, exc, encoding) from None
    if rows:
        yield pd.DataFrame(rows, index=index)
    elif n == 0:
        raise InputFileError(f"{path}: the file has no rows (expected one JSON object per line)")


def _iter_parquet(path: Path, chunk_rows: int, encoding: str, skip_rows: int, fmt: str) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        start = 0
        for batch in pf.iter_batches(batch_size=chunk_rows):
            end = start + batch.num_rows
            if end > skip_rows:
                frame = batch.to_pandas()
                frame.index = range(start, end)
                yield frame.loc[max(start, skip_rows):]
            start = end
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({exc})") from None


def _iter_xlsx(path: Path, chunk_rows: int, encoding: str, skip_rows: int, fmt: str) -> Iterator[pd.DataFrame]:
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable Excel .xlsx file ({type(exc).__name__}: {exc})") from None
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None)
        if header is None:
            raise InputFileError(f"{path}: the first sheet is empty (expected a header row)")
        columns = [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]
        buf: list[tuple[Any, ...]] = []
        index: list[int] = []
        n = 0
        for values in rows:
            if all(v is None for v in values):
                continue
            if n >= skip_rows:
                buf.append(tuple(values) + (None,) * (len(columns) - len(values)))
                index.append(n)
            n += 1
            if len(buf) >= chunk_rows:
                yield _xlsx_frame(buf, columns, index)
                buf, index = [], []
        if buf:
            yield _xlsx_frame(buf, columns, index)
    finally:
        wb.close()


def _xlsx_frame(rows: list[tuple[Any, ...]], columns: list[str], index: list[int]) -> pd.DataFrame:
    return pd.DataFrame([r[: len(columns)] for r in rows], columns=columns, index=index).infer_objects()


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a whole (small) table into memory; for large files use :func:`iter_chunks`."""
    chunks = list(iter_chunks(path, chunk_rows=50_000, encoding=encoding))
    if not chunks:
        raise InputFileError(f"{path}: the file has a header but no rows")
    return pd.concat(chunks)


def require_column(path: Path, columns: list[str], name: str) -> None:
    """Raise a clear error listing the columns found when ``name`` is not among ``columns``."""
    if name not in columns:
        found = ", ".join(repr(c) for c in columns) or "(none)"
        raise InputFileError(f"{path}: no column {name!r}; columns found: {found}")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` in the format given by its extension, atomically."""
    fmt = table_format(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        _write_frame(frame, tmp, fmt)
        tmp.replace(path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _write_frame(frame: pd.DataFrame, path: Path, fmt: str) -> None:
    if fmt in ("csv", "tsv"):
        frame.to_csv(path, index=False, sep="\t" if fmt == "tsv" else ",", encoding="utf-8")
    elif fmt == "jsonl":
        with path.open("w", encoding="utf-8") as fh:
            for record in frame.to_dict(orient="records"):
                fh.write(json.dumps(_jsonable(record), ensure_ascii=False) + "\n")
    elif fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "xlsx":
        frame.to_excel(path, index=False, engine="openpyxl")


def _is_missing(v: Any) -> bool:
    """True for None, NaN, pd.NA and NaT (but never for lists or other containers)."""
    if v is None:
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, (list, dict, tuple, set)) else False
    except (TypeError, ValueError):
        return False


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in record.items():
        if _is_missing(v):
            out[k] = None
        elif hasattr(v, "isoformat"):
            out[k] = v.isoformat()
        elif hasattr(v, "item"):
            out[k] = v.item()
        else:
            out[k] = v
    return out


class ChunkedWriter:
    """Stream DataFrame chunks into one output file of any supported format, then publish it atomically.

    Rows go to a hidden temporary file beside ``path``; :meth:`close` renames it into place, so a
    reader never sees a half-written output. :meth:`abort` removes the temporary file.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = table_format(path)
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.writing")
        self._fh: io.TextIOBase | None = None
        self._parquet = None
        self._schema = None
        self._xlsx = None
        self._sheet = None
        self._header_written = False

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (columns must be the same for every call)."""
        if self.fmt in ("csv", "tsv"):
            if self._fh is None:
                self._fh = self.tmp.open("w", encoding="utf-8", newline="")
            frame.to_csv(self._fh, index=False, header=not self._header_written,
                         sep="\t" if self.fmt == "tsv" else ",")
        elif self.fmt == "jsonl":
            if self._fh is None:
                self._fh = self.tmp.open("w", encoding="utf-8")
            for record in frame.to_dict(orient="records"):
                self._fh.write(json.dumps(_jsonable(record), ensure_ascii=False) + "\n")
        elif self.fmt == "parquet":
            self._write_parquet(frame)
        else:
            self._write_xlsx(frame)
        self._header_written = True

    def _write_parquet(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False, schema=self._schema)
        if self._parquet is None:
            self._schema = table.schema
            self._parquet = pq.ParquetWriter(self.tmp, self._schema)
        self._parquet.write_table(table)

    def _write_xlsx(self, frame: pd.DataFrame) -> None:
        if self._xlsx is None:
            from openpyxl import Workbook

            self._xlsx = Workbook(write_only=True)
            self._sheet = self._xlsx.create_sheet()
            self._sheet.append([str(c) for c in frame.columns])
        for values in frame.itertuples(index=False, name=None):
            self._sheet.append([_excel_value(v) for v in values])

    def close(self) -> None:
        """Finish the file and move it to its final name (atomic rename)."""
        if not self._header_written:
            raise InputFileError(f"{self.path}: nothing to write")
        if self._fh is not None:
            self._fh.close()
        if self._parquet is not None:
            self._parquet.close()
        if self._xlsx is not None:
            self._xlsx.save(self.tmp)
        self.tmp.replace(self.path)

    def abort(self) -> None:
        """Discard the partial output."""
        for handle in (self._fh, self._parquet):
            try:
                if handle is not None:
                    handle.close()
            except Exception:
                pass
        if self.tmp.exists():
            self.tmp.unlink()


def _excel_value(v: Any) -> Any:
    if _is_missing(v):
        return None
    if hasattr(v, "item"):
        return v.item()
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    return v
