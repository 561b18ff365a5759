"""Read and write tables (.csv, .tsv, .xlsx, .jsonl, .parquet) in chunks, and write outputs atomically.

Readers yield :class:`pandas.DataFrame` chunks so memory stays flat however many rows there are.
CSV/TSV values are read as text so they round-trip exactly ("007" stays "007"). Every problem is
raised as :class:`InputFileError` naming the file and, where known, the row and column — never a
cell value, since cells hold note text (a file without a header has data in its first row, so even
column names are only shown when they look like names).

Text that is not valid Unicode never stops a read: a lone surrogate (a JSON ``\\ud83d`` escape
without its pair, which no file encoding can hold) is replaced by U+FFFD and counted in a
:class:`ReadReport`. UTF-16 text (Excel's "Unicode Text") is read with ``--encoding utf-16``; a
UTF-16 byte-order mark is always honoured, and a file that looks like UTF-16 without one gets a hint.

Writers neutralise spreadsheet formulas in CSV/TSV/XLSX text cells (a leading ``'``) and never emit a
live Excel formula; Parquet and JSONL keep values exactly.
"""

from __future__ import annotations

import codecs
import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
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


@dataclass
class ReadReport:
    """What a read repaired (counts only): characters that are not valid Unicode, replaced by U+FFFD."""

    #: lone surrogates replaced by U+FFFD
    replaced_characters: int = 0
    #: data rows that held at least one of them
    rows_repaired: int = 0


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def repair_text(text: str) -> tuple[str, int]:
    """``text`` with every lone surrogate (not valid Unicode: it cannot be written in any encoding)
    replaced by U+FFFD, and how many were replaced. Any other text comes back unchanged."""
    return _LONE_SURROGATE.subn("\ufffd", text)


def _repair_value(value: Any) -> tuple[Any, int]:
    """A parsed JSON value with :func:`repair_text` applied to every string in it (keys too)."""
    if isinstance(value, str):
        return repair_text(value)
    if isinstance(value, list):
        total, out = 0, []
        for v in value:
            fixed, n = _repair_value(v)
            out.append(fixed)
            total += n
        return out, total
    if isinstance(value, dict):
        total, obj = 0, {}
        for k, v in value.items():
            key, n = repair_text(k) if isinstance(k, str) else (k, 0)
            fixed, m = _repair_value(v)
            obj[key] = fixed
            total += n + m
        return obj, total
    return value, 0


#: encodings whose code units are wider than a byte: lines cannot be split on the byte ``\n``
_WIDE = ("utf-16", "utf-32")


def _codec(encoding: str) -> str:
    """The codec's canonical name (``utf-16-le`` for ``UTF16LE``), or ``encoding`` when unknown."""
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding


def is_wide_encoding(encoding: str) -> bool:
    """True for UTF-16 and UTF-32 (any byte order): NUL bytes are normal there."""
    return _codec(encoding).startswith(_WIDE)


def _utf16_order(head: bytes) -> str | None:
    """``le`` or ``be`` when ``head`` (no byte-order mark) has the NUL pattern of mostly-ASCII UTF-16."""
    pairs = len(head) // 2
    if pairs < 2:
        return None
    even = sum(1 for i in range(0, 2 * pairs, 2) if head[i] == 0)
    odd = sum(1 for i in range(1, 2 * pairs, 2) if head[i] == 0)
    if odd >= 0.3 * pairs and even <= 0.02 * pairs:
        return "le"
    if even >= 0.3 * pairs and odd <= 0.02 * pairs:
        return "be"
    return None


def resolve_encoding(path: Path, encoding: str = "utf-8") -> str:
    """The encoding to read the text file ``path`` with, given the ``--encoding`` the user passed.

    A UTF-16 byte-order mark decides (``utf-16``: the mark gives the byte order and is dropped), since
    no other encoding reads such a file. ``utf-16`` without a mark gets its byte order from the NUL
    pattern of the first bytes (little-endian when unclear). Anything else is returned unchanged.
    """
    try:
        with path.open("rb") as fh:
            head = fh.read(1 << 16)
    except OSError:
        return encoding
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) and not head.startswith(b"\xff\xfe\x00\x00"):
        return "utf-16"
    if _codec(encoding) == "utf-16":
        return "utf-16-be" if _utf16_order(head) == "be" else "utf-16-le"
    return encoding


def _decode_error(path: Path, exc: UnicodeDecodeError, encoding: str) -> InputFileError:
    return InputFileError(f"{path}: cannot decode as {encoding} (invalid byte 0x{exc.object[exc.start]:02x} at "
                          f"byte {exc.start}); save the file as UTF-8 or pass --encoding (e.g. cp1252)")


#: files of at least this size are read through once per process for each whole-file pass below
#: (``tag`` checks an input before loading the model, again in the engine, then reads it): smaller
#: files are cheap to pass again, and could be rewritten with the same size within the clock's tick
_REMEMBER_FROM_BYTES = 1 << 20
#: what a whole-file pass found, by (what, path, size, modification and change time, options)
_PASSES: dict[tuple[object, ...], object] = {}


def _pass_key(path: Path, *what: object) -> tuple[object, ...] | None:
    """The key of a whole-file pass over ``path`` as it is now (None for a small or unreadable file)."""
    try:
        st = path.stat()
    except OSError:
        return None
    if st.st_size < _REMEMBER_FROM_BYTES:
        return None
    return (*what, str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def count_rows(path: Path, encoding: str = "utf-8", delimiter: str | None = None) -> int | None:
    """Number of data rows (header excluded), or None when it cannot be known cheaply (a large file that
    has not changed is counted once per process)."""
    key = _pass_key(path, "count_rows", encoding, delimiter)
    if key is not None and key in _PASSES:
        return _PASSES[key]  # type: ignore[return-value]
    rows = _count_rows(path, encoding, delimiter)
    if key is not None:
        _PASSES[key] = rows
    return rows


def _count_rows(path: Path, encoding: str, delimiter: str | None) -> int | None:
    fmt = table_format(path)
    try:
        if fmt != "parquet":
            encoding = resolve_encoding(path, encoding)
        if fmt == "jsonl" and is_wide_encoding(encoding):
            with path.open(encoding=encoding, errors="replace", newline="\n") as text:
                return sum(1 for line in text if line.strip())
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return int(pq.ParquetFile(path).metadata.num_rows)
        if fmt == "jsonl":
            with path.open("rb") as fh:
                return sum(1 for line in fh if line.strip())
        if fmt in ("csv", "tsv"):
            with path.open(encoding=encoding, newline="", errors="replace") as fh:
                return max(0, sum(1 for _ in csv.reader(fh, delimiter=separator(fmt, delimiter))) - 1)
    except Exception:
        return None
    return None


def iter_chunks(path: Path, chunk_rows: int = DEFAULT_CHUNK_ROWS, encoding: str = "utf-8",
                skip_rows: int = 0, delimiter: str | None = None,
                sheet: str | None = None, report: ReadReport | None = None) -> Iterator[pd.DataFrame]:
    """Yield the table at ``path`` as DataFrames of at most ``chunk_rows`` rows, skipping ``skip_rows`` first.

    The index of each chunk is the 0-based data row number in the file. The whole file is checked
    (CSV quoting, JSON syntax, duplicated columns, formulas without values) before the first chunk.
    ``delimiter`` overrides the CSV/TSV separator; ``sheet`` picks one sheet of a workbook (default:
    every sheet, with a ``sheet`` column when there are several). ``report``, when given, counts
    what the read repaired (lone surrogates in JSONL, replaced by U+FFFD) in the rows yielded.
    ``encoding`` is resolved with :func:`resolve_encoding` (a UTF-16 byte-order mark decides).
    """
    check_readable(path)
    fmt = table_format(path)
    if fmt in ("csv", "tsv", "jsonl"):
        encoding = resolve_encoding(path, encoding)
    if fmt in ("csv", "tsv"):
        yield from _iter_csv(path, chunk_rows, encoding, skip_rows, fmt, delimiter)
    elif fmt == "jsonl":
        yield from _iter_jsonl(path, chunk_rows, encoding, skip_rows, report)
    elif fmt == "parquet":
        yield from _iter_parquet(path, chunk_rows, skip_rows)
    else:
        yield from _iter_xlsx(path, chunk_rows, skip_rows, sheet)


def separator(fmt: str, delimiter: str | None) -> str:
    """The field separator of a ``csv``/``tsv`` table: ``delimiter`` when given, else ``,`` or tab."""
    return delimiter if delimiter else ("\t" if fmt == "tsv" else ",")


def python_encoding(encoding: str) -> str:
    """The codec to open text with: UTF-8 becomes ``utf-8-sig`` (a byte-order mark is dropped); others as given."""
    return "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding


def check_text_file(path: Path, fmt: str, encoding: str = "utf-8") -> None:
    """Refuse compressed, zipped or binary bytes given a text extension (.csv/.tsv/.jsonl).

    ``encoding`` is the one the file will be read with (after :func:`resolve_encoding`): with a
    UTF-16/32 one NUL bytes are expected; with any other, a UTF-16 file gets a hint naming the flag.
    """
    with path.open("rb") as fh:
        head = fh.read(1 << 16)
    kind = fmt.upper()
    wide = is_wide_encoding(encoding)
    if head.startswith(b"\x1f\x8b"):
        raise InputFileError(f"{path}: this looks like a gzip file, not {kind} text; decompress it first")
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        raise InputFileError(f"{path}: this looks like a zip file, not {kind} text (an Excel workbook is a zip "
                             "file too: name it .xlsx)")
    if wide:
        return
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # only a UTF-32 mark gets here (a UTF-16 one is read)
        raise InputFileError(f"{path}: this looks like UTF-32 text; save it as UTF-8 or pass --encoding utf-32")
    order = _utf16_order(head)
    if order is not None:
        raise InputFileError(f"{path}: this looks like UTF-16 text without a byte-order mark; pass --encoding "
                             f"utf-16-{order} (or save it as UTF-8)")
    if b"\x00" in head:
        raise InputFileError(f"{path}: contains NUL bytes: a binary file, not {kind} text")


def duplicated(names: list[str]) -> list[str]:
    """Names that occur more than once, in order of first repeat."""
    seen: set[str] = set()
    dups: list[str] = []
    for n in names:
        if n in seen and n not in dups:
            dups.append(n)
        seen.add(n)
    return dups


def _refuse_duplicates(path: Path, names: list[str]) -> None:
    dups = duplicated(names)
    if dups:
        shown = ", ".join(repr(d) if looks_like_name(d) else "(a column)" for d in dups)
        raise InputFileError(f"{path}: the header has duplicated column(s) {shown}; a second copy of a text "
                             "column would be written without redaction — rename or remove the duplicates")


_NAME = re.compile(r"^[^\W\d][\w .\-/()#%]{0,39}$")


def looks_like_name(name: object) -> bool:
    """True when a header cell looks like a column name rather than data (short, word-like, ≤ 5 words)."""
    text = str(name)
    return bool(_NAME.match(text)) and len(text.split()) <= 5


def _shape(text: str) -> str:
    return re.sub(r"(.)\1+", r"\1", re.sub(r"[^\W\d_]", "a", re.sub(r"\d", "9", text)))


def _order_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key that orders ``9`` before ``10`` and ``N9`` before ``N10`` (digit runs as numbers)."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.findall(r"\d+|\D+", text))


@dataclass
class _Suspect:
    """A record whose multi-line quoted field holds lines that start like rows (decided at the next record)."""

    line: int
    row: int
    lines: int
    low: str
    keys: list[str]


def _row_keys(value: str, sep: str, ncols: int, low: str) -> list[str]:
    """The first fields of the lines after the first of ``value`` that look like rows of this file.

    Such a line splits into at least ``ncols - 1`` fields (2 at least) and its first field has the shape
    of ``low`` — the key of the record the field opened in — and that shape holds a digit (an id, a
    number, a date: a column of words cannot be told from words). Note text rarely does both.
    """
    shape = _shape(low)
    if "9" not in shape:
        return []
    keys = []
    for line in value.splitlines()[1:]:
        fields = next(csv.reader([line], delimiter=sep), [])
        if len(fields) >= max(2, ncols - 1) and fields[0].strip() and _shape(fields[0]) == shape:
            keys.append(fields[0])
    return keys


def _next_key(a: tuple[tuple[int, int | str], ...], b: tuple[tuple[int, int | str], ...]) -> bool:
    """True when ``b`` is the key after ``a``: the same but for its last number, one higher (7 → 8, N0041 → N0042)."""
    numbers = [i for i, part in enumerate(a) if part[0] == 0]
    if len(a) != len(b) or not numbers:
        return False
    last = numbers[-1]
    return (a[:last] == b[:last] and a[last + 1:] == b[last + 1:] and b[last][0] == 0
            and int(b[last][1]) == int(a[last][1]) + 1)


def _swallows(suspect: _Suspect, high: str | None) -> bool:
    """True when the row-like keys of ``suspect`` continue its own key one by one, up to the next record's.

    A quote left open swallows the rows that follow it, so their keys run on from the opening record's
    key (``low``: 1 → 2, 3, …) and stop before the next real record's key (``high``: same shape, higher;
    or the end of the file). A properly closed comment whose lines merely look like rows (a pasted line,
    a list) almost never does: between the keys 5 and 6 of consecutive rows there is no room at all.
    Keys are compared as :func:`_order_key`; keys that are not such a sequence are never flagged.
    """
    chain = [_order_key(suspect.low), *(_order_key(k) for k in suspect.keys)]
    if not all(_next_key(a, b) for a, b in zip(chain, chain[1:])):
        return False
    if high is None:
        return True
    if _shape(high) != _shape(suspect.low):
        return False
    try:
        return chain[-1] < _order_key(high)
    except TypeError:  # parts of different kinds (a number against a word): not a sequence
        return False


def _scan_csv(path: Path, encoding: str, sep: str, fmt: str) -> None:
    """Check the whole CSV before reading it: the header, and no quote left open that swallows rows.

    Every record is parsed as CSV; a well-formed file is never refused. A quoted field that spans
    lines is refused only when the lines it holds look like the rows that should have followed
    (see :func:`_row_keys` and :func:`_swallows`): the sign of an opening quote that was never
    closed where it should have been, which would otherwise merge those rows into one note.
    """
    csv.field_size_limit(1 << 30)
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, strict=False)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise InputFileError(f"{path}: not a valid {fmt.upper()} file (line 1: {exc})") from None
        if header is None:
            return
        _refuse_duplicates(path, header)
        ncols = len(header)
        last_line = reader.line_num
        prev_first: str | None = None
        suspect: _Suspect | None = None
        row_no = 0
        while True:
            start = last_line + 1
            try:
                record = next(reader, None)
            except csv.Error as exc:
                raise InputFileError(f"{path}: not a valid {fmt.upper()} file (line {start}: {exc})") from None
            if record is not None and not record:  # a blank line is not a record
                last_line = reader.line_num
                continue
            if suspect is not None:
                if _swallows(suspect, record[0] if record else None):
                    raise InputFileError(
                        f"{path}: line {suspect.line} (data row {suspect.row}): a quoted field opened here runs "
                        f"over {suspect.lines} lines and swallows what look like {len(suspect.keys)} following "
                        "row(s) — an unterminated quote? Fix the quote and run again")
                suspect = None
            if record is None:
                break
            row_no += 1
            end = reader.line_num
            last_line = end
            if end > start:
                for i, value in enumerate(record):
                    if "\n" not in value and "\r" not in value:
                        continue
                    low = record[0] if i > 0 else prev_first
                    keys = _row_keys(value, sep, ncols, low) if low is not None else []
                    if keys and low is not None:
                        suspect = _Suspect(start, row_no, end - start + 1, low, keys)
                        break
            prev_first = record[0]


def _unterminated_quote(path: Path, encoding: str, sep: str) -> int | None:
    """The line where a quote opens that is never closed (strict csv parse), or None."""
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=sep, strict=True)
        start = 1
        try:
            for _ in reader:
                start = reader.line_num + 1
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return start
            return None
    return None


def sniff_delimiter(path: Path, encoding: str = "utf-8") -> str | None:
    """The separator a CSV seems to use (``;``, tab, ``|`` or ``,``), or None when unclear."""
    try:
        with path.open(encoding=python_encoding(resolve_encoding(path, encoding)), errors="replace",
                       newline="") as fh:
            sample = fh.read(1 << 16)
        return csv.Sniffer().sniff(sample, delimiters=",;\t|").delimiter
    except (csv.Error, OSError):
        return None


def _iter_csv(path: Path, chunk_rows: int, encoding: str, skip_rows: int, fmt: str,
              delimiter: str | None) -> Iterator[pd.DataFrame]:
    sep = separator(fmt, delimiter)
    enc = python_encoding(encoding)
    try:
        check_text_file(path, fmt, encoding)
        if path.stat().st_size == 0:
            raise pd.errors.EmptyDataError
        key = _pass_key(path, "csv checked", enc, sep, fmt)
        if key is None or key not in _PASSES:  # a large file that passed is not scanned again
            line = _unterminated_quote(path, enc, sep)
            if line is not None:
                raise InputFileError(f"{path}: line {line}: a quote opened here is never closed (it runs to the "
                                     "end of the file); fix the quote and run again")
            _scan_csv(path, enc, sep, fmt)
            if key is not None:
                _PASSES[key] = True
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
        raise InputFileError(f"{path}: not a valid {fmt.upper()} file: {parser_message(exc)}") from None
    except LookupError:
        raise InputFileError(f"{path}: unknown text encoding {encoding!r}") from None
    except csv.Error as exc:
        raise InputFileError(f"{path}: not a valid {fmt.upper()} file ({exc})") from None


def parser_message(exc: Exception) -> str:
    """pandas' parser message without any quoted cell content."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return re.sub(r"'[^']*'|\"[^\"]*\"", "'…'", text)[:200]


def _jsonl_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """(line number, text) of every non-blank line; numbers count ``\\n`` exactly as editors do."""
    if is_wide_encoding(encoding):
        yield from _wide_jsonl_lines(path, encoding)
        return
    enc = python_encoding(encoding)
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode(enc if lineno == 1 else encoding if enc != "utf-8-sig" else "utf-8")
            except UnicodeDecodeError as exc:
                raise InputFileError(f"{path}: line {lineno}: cannot decode as {encoding} (invalid byte "
                                     f"0x{exc.object[exc.start]:02x}); save the file as UTF-8 or pass "
                                     "--encoding") from None
            except LookupError:
                raise InputFileError(f"{path}: unknown text encoding {encoding!r}") from None
            if line.strip():
                yield lineno, line


def _wide_jsonl_lines(path: Path, encoding: str) -> Iterator[tuple[int, str]]:
    """:func:`_jsonl_lines` for UTF-16/32 text, decoded as a stream (a byte ``\\n`` is not a line end there)."""
    try:
        with path.open(encoding=encoding, newline="\n") as fh:
            lineno = 0
            for lineno, line in enumerate(fh, start=1):
                if line.strip():
                    yield lineno, line
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: line {lineno + 1}: cannot decode as {encoding}; save the file as UTF-8 or "
                             "pass the right --encoding") from None


def parse_jsonl_line(path: Path, lineno: int, line: str, report: ReadReport | None = None) -> dict[str, Any]:
    """One JSONL line as a dict; lone surrogates in its strings become U+FFFD (counted in ``report``)."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: line {lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from None
    except RecursionError:
        raise InputFileError(f"{path}: line {lineno}: the JSON is nested too deeply") from None
    if not isinstance(obj, dict):
        raise InputFileError(f"{path}: line {lineno}: expected a JSON object per line; got {type(obj).__name__}")
    if "\\u" in line.lower():  # a lone surrogate can only come from a \\uXXXX escape
        obj, replaced = _repair_value(obj)
        if replaced and report is not None:
            report.replaced_characters += replaced
            report.rows_repaired += 1
    return obj


def _iter_jsonl(path: Path, chunk_rows: int, encoding: str, skip_rows: int,
                report: ReadReport | None = None) -> Iterator[pd.DataFrame]:
    check_text_file(path, "jsonl", encoding)
    # first pass: every line valid, and the union of keys (a key first seen late must not be lost)
    keys: dict[str, None] = {}
    n = 0
    for lineno, line in _jsonl_lines(path, encoding):
        keys.update(dict.fromkeys(str(k) for k in parse_jsonl_line(path, lineno, line)))
        n += 1
    if n == 0:
        raise InputFileError(f"{path}: the file has no rows (expected one JSON object per line)")
    columns = list(keys)
    rows: list[list[Any]] = []
    index: list[int] = []
    i = 0
    for lineno, line in _jsonl_lines(path, encoding):
        if i >= skip_rows:
            obj = parse_jsonl_line(path, lineno, line, report)
            rows.append([obj.get(k) for k in columns])
            index.append(i)
            if len(rows) >= chunk_rows:
                yield object_frame(rows, columns, index)
                rows, index = [], []
        i += 1
    if rows:
        yield object_frame(rows, columns, index)


def object_frame(rows: list[list[Any]], columns: list[str], index: list[int]) -> pd.DataFrame:
    """A frame of ``rows`` (cells as read) with ``columns`` and ``index``; each column's type inferred."""
    frame = pd.DataFrame(rows, columns=columns, index=index, dtype=object)
    return frame.infer_objects()


def _iter_parquet(path: Path, chunk_rows: int, skip_rows: int) -> Iterator[pd.DataFrame]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
        names = [str(n) for n in pf.schema_arrow.names]
        _refuse_duplicates(path, names)
        start = 0
        for batch in pf.iter_batches(batch_size=chunk_rows):
            end = start + batch.num_rows
            if end > skip_rows:
                frame = batch.to_pandas()
                frame.index = range(start, end)
                yield frame.loc[max(start, skip_rows):]
            start = end
    except (pa.ArrowException, OSError) as exc:
        raise InputFileError(f"{path}: not a readable Parquet file ({type(exc).__name__})") from None


def xlsx_sheets(path: Path, sheet: str | None = None) -> list[str]:
    """The sheets ``tag`` reads: ``sheet`` when given (it must exist), else every sheet with a header."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable Excel .xlsx file ({type(exc).__name__})") from None
    try:
        names = list(wb.sheetnames)
        if sheet is not None:
            if sheet not in names:
                raise InputFileError(f"{path}: no sheet {sheet!r}; sheets: {', '.join(map(repr, names))}")
            return [sheet]
        chosen = [n for n in names if _first_row(wb[n]) is not None]
        if not chosen:
            raise InputFileError(f"{path}: every sheet is empty (expected a header row)")
        return chosen
    finally:
        wb.close()


def _first_row(ws: Any) -> tuple[Any, ...] | None:
    for values in ws.iter_rows(values_only=True):
        if any(v is not None for v in values):
            return tuple(values)
    return None


def _xlsx_columns(header: tuple[Any, ...]) -> list[str]:
    while header and header[-1] is None:
        header = header[:-1]
    return [str(h) if h is not None else f"column_{i + 1}" for i, h in enumerate(header)]


def _iter_xlsx(path: Path, chunk_rows: int, skip_rows: int, sheet: str | None) -> Iterator[pd.DataFrame]:
    from openpyxl import load_workbook

    names = xlsx_sheets(path, sheet)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
        wf = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:
        raise InputFileError(f"{path}: not a readable Excel .xlsx file ({type(exc).__name__})") from None
    try:
        # first pass: headers of every sheet read, and no formula without a saved value
        headers: dict[str, list[str]] = {}
        missing: list[str] = []
        for name in names:
            rows_v = wb[name].iter_rows()
            rows_f = wf[name].iter_rows(values_only=True)
            header: list[str] | None = None
            for cells, formulas in zip(rows_v, rows_f):
                values = [c.value for c in cells]
                if header is None:
                    if any(v is not None for v in values):
                        header = _xlsx_columns(tuple(values))
                        _refuse_duplicates(path, header)
                for cell, f in zip(cells, formulas):
                    if cell.value is None and isinstance(f, str) and f.startswith("="):
                        missing.append(f"{name}!{getattr(cell, 'coordinate', '?')}")
            headers[name] = header or []
        if missing:
            shown = ", ".join(missing[:10]) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
            raise InputFileError(f"{path}: {len(missing)} cell(s) hold formulas without a saved value ({shown}); "
                                 "open and save the file in Excel, or paste the values, then run again")
        several = len(names) > 1
        columns: list[str] = []
        for name in names:
            columns += [c for c in headers[name] if c not in columns]
        if several:
            if "sheet" in columns:
                raise InputFileError(f"{path}: has several sheets and a column named 'sheet'; pass --sheet NAME "
                                     "to read one sheet")
            columns = ["sheet", *columns]
        buf: list[list[Any]] = []
        index: list[int] = []
        n = 0
        for name in names:
            rows = wb[name].iter_rows(values_only=True)
            header_seen = False
            position = {c: i for i, c in enumerate(headers[name])}
            for values in rows:
                if all(v is None for v in values):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                if n >= skip_rows:
                    row = [values[position[c]] if c in position and position[c] < len(values) else None
                           for c in columns]
                    if several:
                        row[0] = name
                    buf.append(row)
                    index.append(n)
                n += 1
                if len(buf) >= chunk_rows:
                    yield object_frame(buf, columns, index)
                    buf, index = [], []
        if buf:
            yield object_frame(buf, columns, index)
    except InputFileError:
        raise
    except Exception as exc:  # a corrupt part inside the zip: never a traceback
        raise InputFileError(f"{path}: not a readable Excel .xlsx file ({type(exc).__name__})") from None
    finally:
        wb.close()
        wf.close()


def read_table(path: Path, encoding: str = "utf-8") -> pd.DataFrame:
    """Read a whole (small) table into memory; for large files use :func:`iter_chunks`."""
    chunks = list(iter_chunks(path, chunk_rows=50_000, encoding=encoding))
    if not chunks:
        raise InputFileError(f"{path}: the file has a header but no rows")
    return pd.concat(chunks)


def require_column(path: Path, columns: list[str], name: str) -> None:
    """Raise a clear error listing the columns found when ``name`` is not among ``columns``.

    Column names are listed only when they all look like names: in a file without a header the
    "names" are the first row of data (note text), which must never be printed.
    """
    if name not in columns:
        if all(looks_like_name(c) for c in columns):
            found = ", ".join(repr(c) for c in columns) or "(none)"
        else:
            found = (f"{len(columns)} (not shown: some look like data, not names — does the file start with a "
                     "header row?)")
        raise InputFileError(f"{path}: no column {name!r}; columns found: {found}")


def write_table(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` in the format given by its extension, atomically."""
    table_format(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        writer = ChunkedWriter(path)
        writer.tmp = tmp
        writer.write(frame)
        writer.close()
    finally:
        if tmp.exists():
            tmp.unlink()


#: first characters that make a spreadsheet read a cell as a formula (OWASP CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
#: characters an .xlsx cell cannot hold (as openpyxl defines them)
_XLSX_ILLEGAL = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
#: the most characters an Excel cell holds
XLSX_CELL_LIMIT = 32_767


def neutralise(value: str) -> str:
    """``value`` made safe for a spreadsheet: a leading ``'`` when it would start a formula (plain numbers kept)."""
    if value.startswith(FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value


def _is_missing(v: Any) -> bool:
    """True for None, NaN, pd.NA and NaT (but never for lists or other containers)."""
    if v is None:
        return True
    if isinstance(v, (list, dict, tuple, set, bytes)) or hasattr(v, "__array__") and not hasattr(v, "item"):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _plain(v: Any) -> Any:
    """A cell as a plain Python value: arrays become lists, bytes become text, numpy scalars Python ones."""
    if isinstance(v, bytes):
        return v.decode("utf-8", errors="replace")
    if hasattr(v, "tolist") and not isinstance(v, (str, int, float, bool)):
        return v.tolist()
    if isinstance(v, tuple):
        return list(v)
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in record.items():
        if isinstance(v, (list, dict, tuple)) or hasattr(v, "__array__") and not _is_scalar(v):
            out[k] = _plain(v)
        elif _is_missing(v):
            out[k] = None
        elif hasattr(v, "isoformat"):
            out[k] = v.isoformat()
        elif isinstance(v, bytes):
            out[k] = v.decode("utf-8", errors="replace")
        elif hasattr(v, "item"):
            out[k] = v.item()
        elif isinstance(v, float) and v != v:
            out[k] = None
        else:
            out[k] = v
    return out


def _is_scalar(v: Any) -> bool:
    return getattr(v, "ndim", 0) == 0


def _text_cell(v: Any) -> Any:
    """A cell for CSV/TSV: containers as JSON, strings neutralised, the rest unchanged."""
    if isinstance(v, str):
        return neutralise(v)
    if isinstance(v, (list, dict, tuple, bytes)) or hasattr(v, "__array__") and not _is_scalar(v):
        plain = _plain(v)
        return neutralise(plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False, default=str))
    return v


class ChunkedWriter:
    """Stream DataFrame chunks into one output file of any supported format, then publish it atomically.

    Rows go to a hidden temporary file beside ``path``; :meth:`close` renames it into place, so a
    reader never sees a half-written output. :meth:`abort` removes the temporary file. CSV/TSV/XLSX
    text cells that would start a formula get a leading ``'``; characters an .xlsx cannot hold are
    removed (counted in :attr:`removed_characters`); an over-long .xlsx cell is refused.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fmt = table_format(path)
        self.tmp = path.with_name(f".{path.name}.{os.getpid()}.writing")
        self._fh: Any = None
        self._parquet: Any = None
        self._schema: Any = None
        self._xlsx: Any = None
        self._sheet: Any = None
        self._header_written = False
        self._rows = 0
        self.removed_characters = 0

    def write(self, frame: pd.DataFrame) -> None:
        """Append the rows of ``frame`` (columns must be the same for every call)."""
        if self.fmt in ("csv", "tsv"):
            if self._fh is None:
                self._fh = self.tmp.open("w", encoding="utf-8", newline="")
            safe = frame.copy()
            safe.columns = [neutralise(str(c)) for c in frame.columns]
            for col in range(safe.shape[1]):
                if str(safe.dtypes.iloc[col]) in ("object", "string", "str"):
                    safe.isetitem(col, [_text_cell(v) for v in safe.iloc[:, col]])
            # "\r\n" rows: a lone CR inside a note is then quoted too, so it cannot split a row
            safe.to_csv(self._fh, index=False, header=not self._header_written,
                        sep="\t" if self.fmt == "tsv" else ",", lineterminator="\r\n")
        elif self.fmt == "jsonl":
            if self._fh is None:
                self._fh = self.tmp.open("w", encoding="utf-8")
            for values in frame.itertuples(index=False, name=None):
                record = dict(zip([str(c) for c in frame.columns], values))
                self._fh.write(json.dumps(_jsonable(record), ensure_ascii=False, default=str) + "\n")
        elif self.fmt == "parquet":
            self._write_parquet(frame)
        else:
            self._write_xlsx(frame)
        self._rows += len(frame)
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
            self._sheet.append([self._excel_value(str(c), 0, str(c)) for c in frame.columns])
        columns = [str(c) for c in frame.columns]
        for i, values in enumerate(frame.itertuples(index=False, name=None)):
            row = self._rows + i + 1
            self._sheet.append([self._excel_value(v, row, c) for v, c in zip(values, columns)])

    def _excel_value(self, v: Any, row: int, column: str) -> Any:
        if isinstance(v, (list, dict, tuple, bytes)) or hasattr(v, "__array__") and not _is_scalar(v):
            plain = _plain(v)
            v = plain if isinstance(plain, str) else json.dumps(plain, ensure_ascii=False, default=str)
        elif _is_missing(v):
            return None
        elif hasattr(v, "item"):
            v = v.item()
        if not isinstance(v, str):
            return v
        v, removed = _XLSX_ILLEGAL.subn("", v)
        self.removed_characters += removed
        v = neutralise(v)
        if len(v) > XLSX_CELL_LIMIT:
            raise InputFileError(f"{self.path}: data row {row}, column {column!r}: {len(v):,} characters, more than "
                                 f"an Excel cell holds ({XLSX_CELL_LIMIT:,}); write .parquet or .csv instead")
        return v

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
        for handle in (self._fh, self._parquet, self._xlsx):
            try:
                if handle is not None:
                    handle.close()
            except Exception:
                pass
        self._sheet = self._xlsx = None
        if self.tmp.exists():
            self.tmp.unlink()


def cell_text(value: Any) -> str:
    """A table cell as text: ``""`` for a missing value (None, NaN, NA), otherwise ``str(value)`` unchanged."""
    if value is None:
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):  # list-like cells: pd.isna is element-wise
        pass
    return str(value)
