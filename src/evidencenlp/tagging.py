"""Batch tagging of a table of notes: stream chunks through the Suggester, resumable, atomic output.

Each finished chunk is saved as a Parquet *part* in a hidden folder beside the output
(``.OUTPUT.parts/``) together with a manifest. When every chunk is done the parts are assembled
into the output file (written to a temporary name, then renamed) and the folder is removed. An
interrupted run leaves the parts; ``resume=True`` checks the manifest matches and carries on after
the last finished part, so no row is repeated or lost. The manifest holds a SHA-256 of the whole
input and every setting that changes the output, so a resume never mixes two inputs or two settings.
Everything that can be checked is checked before the parts folder is created, so a failed first
attempt leaves nothing behind. No message ever contains note text: only file, row number and column.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import (
    DEFAULT_CHUNK_ROWS,
    FORMATS,
    XLSX_CELL_LIMIT,
    ChunkedWriter,
    check_readable,
    iter_chunks,
    require_column,
    sniff_delimiter,
    table_format,
    xlsx_sheets,
)

if TYPE_CHECKING:  # only for annotations: importing this module stays light (no torch) for a dask driver
    from evidencenlp.suggest import Suggester, Suggestion

MANIFEST = "manifest.json"


#: columns that ``tag`` adds to every row, in order
FLAT_COLUMNS: tuple[str, ...] = (
    "key_question", "key_question_score", "statement", "statement_score", "statement_top3",
    "evidence_category", "evidence_category_score", "band", "band_score", "principles",
    "evidence_text", "needs_review", "reason", "key_questions", "topics",
)


def flat_row(s: Suggestion) -> dict[str, Any]:
    """The flat columns ``tag`` adds for one suggestion (:data:`FLAT_COLUMNS`); empty when it abstained."""
    if s.reason is not None or s.key_question is None or s.statement is None or s.band is None:
        return {**empty_row(), "needs_review": True, "reason": s.reason}
    category = s.evidence_category
    return {
        "key_question": s.key_question.label,
        "key_question_score": round(s.key_question.score, 4),
        "statement": s.statement.label,
        "statement_score": round(s.statement.score, 4),
        "statement_top3": ";".join(x.label for x in s.statement_top3),
        "evidence_category": category.label if category else None,
        "evidence_category_score": round(category.score, 4) if category else None,
        "band": s.band.label,
        "band_score": round(s.band.score, 4),
        "principles": ";".join(p.label for p in s.principles),
        "evidence_text": s.evidence[0].text.text if s.evidence else "",
        "needs_review": s.needs_review,
        "reason": None,
        "key_questions": ";".join(k.label for k in s.key_questions),
        "topics": topics_json(s),
    }


def topics_json(s: Suggestion) -> str:
    """The ``topics`` column: JSON text, one object per topic (key question, statement, band,
    direction, score, evidence span offsets into the redacted note)."""
    return json.dumps([{"key_question": t.key_question.label, "statement": t.statement.label, "band": t.band.label,
                        "direction": t.direction.label if t.direction else None, "score": round(t.score, 4),
                        "start": t.start, "end": t.end} for t in s.topics], ensure_ascii=False)


def empty_row() -> dict[str, Any]:
    """Flat columns for a row with no text: every suggestion column empty."""
    return {c: None for c in FLAT_COLUMNS}


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

    @property
    def rows_per_second(self) -> float:
        """Throughput of this run (rows processed in this run ÷ wall-clock seconds)."""
        done = self.rows - self.resumed_from_row
        return done / self.seconds if self.seconds > 0 else 0.0


def parts_dir(output: Path) -> Path:
    """The hidden folder of finished chunks for ``output``."""
    return output.with_name(f".{output.name}.parts")


def _input_identity(path: Path) -> dict[str, object]:
    """Path, size and a SHA-256 of the whole file (streamed), so any edit anywhere is seen."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"input": str(path.resolve()), "size": stat.st_size, "sha256": digest.hexdigest()}


def _manifest(path: Path, text_column: str, chunk_rows: int, redact: bool, prefix: str,
              model_version: str, evidence_category: str | None = None, delimiter: str | None = None,
              sheet: str | None = None, encoding: str = "utf-8") -> dict[str, object]:
    return {**_input_identity(path), "text_column": text_column, "chunk_rows": chunk_rows, "redact": redact,
            "prefix": prefix, "model_version": model_version, "evidence_category": evidence_category,
            "delimiter": delimiter, "sheet": sheet, "encoding": encoding}


def _finished_parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_stale_temp_files(output: Path) -> list[Path]:
    """Remove temporary outputs (``.OUT.<pid>.writing``/``.tmp``) left by a process that is gone."""
    removed = []
    for tmp in [*output.parent.glob(f".{output.name}.*.writing"), *output.parent.glob(f".{output.name}.*.tmp")]:
        pid = tmp.name[len(output.name) + 2:].split(".", 1)[0]
        if pid.isdigit() and (int(pid) == os.getpid() or not _pid_alive(int(pid))):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    folder = parts_dir(output)
    if folder.is_dir():
        for tmp in folder.glob(".part-*.tmp"):
            tmp.unlink(missing_ok=True)
    return removed


def _sibling_parts(input_path: Path, output: Path) -> list[Path]:
    """Parts folders of the same output name in another format, left by a run on the same input."""
    found = []
    for ext in sorted(set(FORMATS)):
        other = output.with_suffix(ext)
        folder = parts_dir(other)
        if other == output or not folder.is_dir():
            continue
        try:
            saved = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if saved.get("input") == str(input_path.resolve()):
            found.append(folder)
    return found


def _prepare_parts(input_path: Path, output: Path, manifest: dict[str, object], resume: bool,
                   force: bool) -> tuple[Path, int]:
    """Check the parts folder; return it and the number of input rows already done.

    A new folder is *not* created here (see :func:`_save_part`): a run that fails before its first
    chunk must leave nothing behind.
    """
    folder = parts_dir(output)
    if folder.exists() and not resume:
        if not force:
            raise InputFileError(f"{output}: an earlier run was interrupted (its finished chunks are in {folder}); "
                                 "pass --resume to continue it, or --force to start again")
        shutil.rmtree(folder)
    if resume and folder.exists():
        try:
            saved = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise InputFileError(f"{folder}: the saved progress is unreadable; run again with --force") from None
        engine = saved.get("engine", "local")
        if engine != manifest.get("engine", "local"):
            raise InputFileError(f"{output}: cannot resume: the interrupted run used --engine {engine}; resume it "
                                 f"with --engine {engine}, or run again with --force to start again")
        differs = sorted(k for k in manifest if saved.get(k) != manifest[k] and k != "chunk_rows")
        if differs:
            raise InputFileError(f"{output}: cannot resume: {', '.join(differs)} differ from the interrupted run; "
                                 "run again with --force to start again")
        try:
            done = sum(pq.ParquetFile(p).metadata.num_rows for p in _finished_parts(folder))
        except (OSError, pa.ArrowException):
            raise InputFileError(f"{folder}: the saved progress is unreadable; run again with --force") from None
        return folder, done
    if output.exists() and not force and not resume:
        raise InputFileError(f"{output}: already exists; pass --force to overwrite it")
    return folder, 0


def _save_part(folder: Path, manifest: dict[str, object], part_no: int, frame: pd.DataFrame) -> None:
    """Save one finished chunk (creating the folder and its manifest with the first one)."""
    if not folder.exists():
        folder.mkdir(parents=True)
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    tmp = folder / f".part-{part_no:06d}.tmp"
    frame.to_parquet(tmp, index=False)
    tmp.replace(folder / f"part-{part_no:06d}.parquet")


def _check_columns(path: Path, frame: pd.DataFrame, text_column: str, prefix: str,
                   delimiter: str | None = None) -> None:
    columns = [str(c) for c in frame.columns]
    fmt = table_format(path)
    if text_column not in columns and fmt in ("csv", "tsv"):
        used = delimiter or ("\t" if fmt == "tsv" else ",")
        seen = sniff_delimiter(path)
        if seen is not None and seen != used and (len(columns) == 1 or delimiter is None):
            shown = "tab" if seen == "\t" else seen
            raise InputFileError(f"{path}: no column {text_column!r}: the file seems to be {shown}-separated; "
                                 f"pass --delimiter {seen!r}")
    require_column(path, columns, text_column)
    clash = sorted(set(columns) & {prefix + c for c in FLAT_COLUMNS})
    if clash:
        raise InputFileError(f"{path}: already has column(s) {', '.join(clash)} that tagging would overwrite; "
                             "pass --prefix (e.g. --prefix suggested_) to name the new columns differently")


def _list_like(v: Any) -> bool:
    return isinstance(v, (list, tuple)) or (hasattr(v, "tolist") and getattr(v, "ndim", 0) == 1)


def _normalise_for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
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


def _note_text(v: Any) -> str | None:
    if isinstance(v, str):
        return v
    if v is None or (isinstance(v, float) and v != v) or v is pd.NA:
        return None
    if isinstance(v, bytes):
        return v.decode("utf-8")
    return str(v)


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


def _check_xlsx_lengths(path: Path, output: Path, frame: pd.DataFrame) -> None:
    """Refuse an .xlsx output for a row holding more text than an Excel cell (before tagging it)."""
    for col in frame.columns:
        for row, v in zip(frame.index, frame[col].tolist()):
            if isinstance(v, str) and len(v) > XLSX_CELL_LIMIT:
                raise InputFileError(f"{output}: {path} data row {int(row) + 1}, column {str(col)!r} holds "
                                     f"{len(v):,} characters, more than an Excel cell holds ({XLSX_CELL_LIMIT:,}); "
                                     "nothing is cut silently — write .parquet or .csv instead")


def tag_chunk(suggester: Suggester, frame: pd.DataFrame, text_column: str, redact: bool, prefix: str,
              summary: TagSummary, on_progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Add the suggestion columns to one chunk; blank notes keep empty columns. Updates ``summary``."""
    raw = frame[text_column].tolist()
    texts = [_note_text(v) for v in raw]
    results = suggester.suggest_many(texts, sentences=False, evidence=False, progress=on_progress, topics=True)
    rows = []
    redacted_texts = []
    for text, result in zip(texts, results):
        if result is None:
            summary.blank += 1
            rows.append(empty_row())
            redacted_texts.append(text)
            continue
        summary.tagged += 1
        summary.needs_review += int(result.needs_review)
        if result.reason is not None:
            summary.abstained[result.reason] = summary.abstained.get(result.reason, 0) + 1
        for kind, n in result.redactions.items():
            summary.redactions[kind] = summary.redactions.get(kind, 0) + n
        rows.append(flat_row(result))
        redacted_texts.append(result.text)
    out = frame.copy()
    if redact:
        out[text_column] = redacted_texts
    elif any(isinstance(v, bytes) for v in raw):
        out[text_column] = texts
    added = pd.DataFrame(rows, index=frame.index, columns=list(FLAT_COLUMNS))
    added["needs_review"] = added["needs_review"].astype("boolean")
    added.columns = [prefix + c for c in FLAT_COLUMNS]
    summary.rows += len(frame)
    return pd.concat([out, added], axis=1)


def _unified_schema(parts: list[Path]) -> pa.Schema:
    """One schema for all parts: a column whose type differs between parts becomes text (or float)."""
    schemas = [pq.read_schema(p) for p in parts]
    fields = []
    for name in schemas[0].names:
        types = {s.field(name).type for s in schemas} - {pa.null()}
        if len(types) <= 1:
            fields.append(pa.field(name, types.pop() if types else pa.string()))
        elif types <= {pa.int64(), pa.float64(), pa.int32(), pa.float32()}:
            fields.append(pa.field(name, pa.float64()))
        else:
            fields.append(pa.field(name, pa.string()))
    return pa.schema(fields)


def _iter_parts(parts: list[Path], schema: pa.Schema | None) -> Iterator[pd.DataFrame]:
    for part in parts:
        table = pq.read_table(part)
        if schema is not None:
            table = table.cast(schema)
        yield table.to_pandas()


def assemble(output: Path) -> int:
    """Join the finished parts into ``output`` (atomically) and remove the parts folder.

    Returns the number of characters removed because an .xlsx cannot hold them.
    """
    folder = parts_dir(output)
    parts = _finished_parts(folder)
    if not parts:
        raise InputFileError(f"{output}: there are no tagged rows to write")
    clean_stale_temp_files(output)
    writer = ChunkedWriter(output)
    schema = _unified_schema(parts) if table_format(output) == "parquet" else None
    try:
        for frame in _iter_parts(parts, schema):
            writer.write(frame)
        writer.close()
    except BaseException:
        writer.abort()
        raise
    shutil.rmtree(folder)
    return writer.removed_characters


def finish_output(input_path: Path, output: Path, summary: TagSummary, started: float) -> TagSummary:
    """The last step of a run (single-process or Dask): assemble the parts into ``output``, remove
    other runs' leftover parts of the same input, and record the seconds since ``started``."""
    try:
        summary.removed_characters = assemble(output)
    except OSError as exc:
        raise _write_error(output, exc) from None
    for old in _sibling_parts(input_path, output):
        shutil.rmtree(old, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    return summary


def _write_error(output: Path, exc: OSError) -> InputFileError:
    why = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or type(exc).__name__)
    return InputFileError(f"{output}: cannot write the output: {why}; the finished chunks are kept — free space "
                          "and run again with --resume")


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


def check_tag_input(input_path: Path, output: Path, text_column: str, prefix: str = "", encoding: str = "utf-8",
                    delimiter: str | None = None, sheet: str | None = None, resume: bool = False,
                    force: bool = False) -> None:
    """Everything about a ``tag`` run that can be checked without the model, in about a second.

    Paths and options, the output and an interrupted run's parts (``--force``/``--resume``), and the
    header: the text column is there and no added column would overwrite one. The CLI calls this
    before loading the suggester, so a mistake is reported at once; :func:`tag_file` checks again.
    """
    check_paths(input_path, output, delimiter, sheet)
    if not resume and not force:
        if parts_dir(output).exists():
            raise InputFileError(f"{output}: an earlier run was interrupted (its finished chunks are in "
                                 f"{parts_dir(output)}); pass --resume to continue it, or --force to start again")
        if output.exists():
            raise InputFileError(f"{output}: already exists; pass --force to overwrite it")
    try:
        first = next(iter(iter_chunks(input_path, chunk_rows=1, encoding=encoding, delimiter=delimiter,
                                      sheet=sheet)), None)
    except RecursionError:
        raise InputFileError(f"{input_path}: a value is nested too deeply to read") from None
    if first is not None:
        _check_columns(input_path, first, text_column, prefix, delimiter)


def tag_file(suggester: Suggester, input_path: Path, output: Path, text_column: str,
             chunk_rows: int = DEFAULT_CHUNK_ROWS, resume: bool = False, force: bool = False,
             redact: bool = True, prefix: str = "", encoding: str = "utf-8",
             on_rows: Callable[[int], None] | None = None,
             on_progress: Callable[[int], None] | None = None, delimiter: str | None = None,
             sheet: str | None = None) -> TagSummary:
    """Tag every row of ``input_path`` into ``output`` (same or another supported format).

    Keeps every input column and the row order, adds :data:`FLAT_COLUMNS`
    (with ``prefix``), and replaces the text column by its redacted form unless ``redact`` is False.
    ``on_rows`` is called with the number of rows finished after each chunk (each saved part);
    ``on_progress`` with the number of notes encoded after each encoder batch (for a live bar).
    ``delimiter`` overrides the CSV separator; ``sheet`` reads one sheet of a workbook (default: all).
    """
    in_fmt = table_format(input_path)
    out_fmt = table_format(output)
    check_paths(input_path, output, delimiter, sheet)
    sheets = xlsx_sheets(input_path, sheet) if in_fmt == "xlsx" else []
    clean_stale_temp_files(output)
    manifest = _manifest(input_path, text_column, chunk_rows, redact, prefix, suggester.model_version,
                         getattr(suggester, "evidence_category", None), delimiter, sheet, encoding)
    folder, done = _prepare_parts(input_path, output, manifest, resume, force)
    summary = TagSummary(output=output, rows=done, resumed_from_row=done, sheets=sheets)
    started = time.perf_counter()
    part_no = len(_finished_parts(folder)) if folder.exists() else 0
    checked = False
    seen = 0
    try:
        for chunk in iter_chunks(input_path, chunk_rows=chunk_rows, encoding=encoding, skip_rows=done,
                                 delimiter=delimiter, sheet=sheet):
            if not checked:
                _check_columns(input_path, chunk, text_column, prefix, delimiter)
                checked = True
            if chunk.empty:
                continue
            seen += len(chunk)
            check_text_cells(input_path, chunk, text_column)
            if out_fmt == "xlsx":
                _check_xlsx_lengths(input_path, output, chunk)
            tagged = _normalise_for_parquet(tag_chunk(suggester, chunk, text_column, redact, prefix, summary,
                                                        on_progress))
            try:
                _save_part(folder, manifest, part_no, tagged)
            except OSError as exc:
                raise _write_error(output, exc) from None
            except (pa.ArrowException, OverflowError) as exc:
                raise InputFileError(f"{input_path}: rows {int(chunk.index[0]) + 1}–{int(chunk.index[-1]) + 1} "
                                     f"cannot be stored ({type(exc).__name__}: mixed or unsupported cell types)"
                                     ) from None
            part_no += 1
            if on_rows is not None:
                on_rows(len(chunk))
    except RecursionError:
        raise InputFileError(f"{input_path}: a value is nested too deeply to read") from None
    if seen == 0 and done == 0:
        raise InputFileError(f"{input_path}: the file has a header but no rows")
    if not folder.exists():  # resumed with every row already done, yet the folder is gone
        raise InputFileError(f"{output}: there are no tagged rows to write")
    return finish_output(input_path, output, summary, started)
