"""Batch tagging of a table of notes: stream chunks through the Suggester, resumable, atomic output.

Each finished chunk is saved as a Parquet *part* in a hidden folder beside the output
(``.OUTPUT.parts/``) together with a manifest. When every chunk is done the parts are assembled
into the output file (written to a temporary name, then renamed) and the folder is removed. An
interrupted run leaves the parts; ``resume=True`` checks the manifest matches and carries on after
the last finished part, so no row is repeated or lost.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from evidencenlp.errors import InputFileError
from evidencenlp.suggest import Suggester, Suggestion
from evidencenlp.tabular import (
    DEFAULT_CHUNK_ROWS,
    ChunkedWriter,
    check_readable,
    iter_chunks,
    require_column,
    table_format,
)

MANIFEST = "manifest.json"


#: columns that ``tag`` adds to every row, in order
FLAT_COLUMNS: tuple[str, ...] = (
    "key_question", "key_question_score", "statement", "statement_score", "statement_top3",
    "evidence_category", "evidence_category_score", "band", "band_score", "principles",
    "evidence_text", "needs_review", "reason", "key_questions",
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
    }


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

    @property
    def rows_per_second(self) -> float:
        """Throughput of this run (rows processed in this run ÷ wall-clock seconds)."""
        done = self.rows - self.resumed_from_row
        return done / self.seconds if self.seconds > 0 else 0.0


def parts_dir(output: Path) -> Path:
    """The hidden folder of finished chunks for ``output``."""
    return output.with_name(f".{output.name}.parts")


def _input_identity(path: Path) -> dict[str, object]:
    stat = path.stat()
    head = hashlib.sha256()
    with path.open("rb") as fh:
        head.update(fh.read(1 << 20))
    return {"input": str(path.resolve()), "size": stat.st_size, "sha256_first_mib": head.hexdigest()}


def _manifest(path: Path, text_column: str, chunk_rows: int, redact: bool, prefix: str,
              model_version: str) -> dict[str, object]:
    return {**_input_identity(path), "text_column": text_column, "chunk_rows": chunk_rows, "redact": redact,
            "prefix": prefix, "model_version": model_version}


def _finished_parts(folder: Path) -> list[Path]:
    return sorted(folder.glob("part-*.parquet"))


def _prepare_parts(input_path: Path, output: Path, manifest: dict[str, object], resume: bool,
                   force: bool) -> tuple[Path, int]:
    """Create or check the parts folder; return it and the number of input rows already done."""
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
        differs = sorted(k for k in manifest if saved.get(k) != manifest[k] and k != "chunk_rows")
        if differs:
            raise InputFileError(f"{output}: cannot resume: {', '.join(differs)} differ from the interrupted run; "
                                 "run again with --force to start again")
        done = sum(pq.ParquetFile(p).metadata.num_rows for p in _finished_parts(folder))
        return folder, done
    if output.exists() and not force and not resume:
        raise InputFileError(f"{output}: already exists; pass --force to overwrite it")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder, 0


def _check_columns(path: Path, frame: pd.DataFrame, text_column: str, prefix: str) -> None:
    columns = [str(c) for c in frame.columns]
    require_column(path, columns, text_column)
    clash = sorted(set(columns) & {prefix + c for c in FLAT_COLUMNS})
    if clash:
        raise InputFileError(f"{path}: already has column(s) {', '.join(clash)} that tagging would overwrite; "
                             "pass --prefix (e.g. --prefix suggested_) to name the new columns differently")


def _normalise_for_parquet(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns mixing types (possible in JSONL/XLSX) become text so a part can be stored."""
    frame = frame.copy()
    for col in frame.columns:
        if frame[col].dtype == object:
            kinds = {type(v) for v in frame[col] if v is not None and not (isinstance(v, float) and v != v)}
            if len(kinds) > 1 or (kinds and not kinds <= {str, bool, int, float}):
                frame[col] = [None if v is None or (isinstance(v, float) and v != v) else
                              (json.dumps(v, ensure_ascii=False) if isinstance(v, (list, dict)) else str(v))
                              for v in frame[col]]
    frame.columns = [str(c) for c in frame.columns]
    return frame


def tag_chunk(suggester: Suggester, frame: pd.DataFrame, text_column: str, redact: bool, prefix: str,
              summary: TagSummary, on_progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Add the suggestion columns to one chunk; blank notes keep empty columns. Updates ``summary``."""
    texts = [v if isinstance(v, str) else (None if v is None or (isinstance(v, float) and v != v) else str(v))
             for v in frame[text_column].tolist()]
    results = suggester.suggest_many(texts, sentences=False, evidence=False, progress=on_progress)
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


def assemble(output: Path) -> None:
    """Join the finished parts into ``output`` (atomically) and remove the parts folder."""
    folder = parts_dir(output)
    parts = _finished_parts(folder)
    if not parts:
        raise InputFileError(f"{output}: there are no tagged rows to write")
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


def tag_file(suggester: Suggester, input_path: Path, output: Path, text_column: str,
             chunk_rows: int = DEFAULT_CHUNK_ROWS, resume: bool = False, force: bool = False,
             redact: bool = True, prefix: str = "", encoding: str = "utf-8",
             on_rows: Callable[[int], None] | None = None,
             on_progress: Callable[[int], None] | None = None) -> TagSummary:
    """Tag every row of ``input_path`` into ``output`` (same or another supported format).

    Keeps every input column and the row order, adds :data:`FLAT_COLUMNS`
    (with ``prefix``), and replaces the text column by its redacted form unless ``redact`` is False.
    ``on_rows`` is called with the number of rows finished after each chunk (each saved part);
    ``on_progress`` with the number of notes encoded after each encoder batch (for a live bar).
    """
    table_format(input_path)
    table_format(output)
    check_readable(input_path)
    if not output.parent.is_dir():
        raise InputFileError(f"{output}: the folder {output.parent} does not exist")
    if input_path.resolve() == output.resolve():
        raise InputFileError(f"{output}: the output must not be the input file")
    manifest = _manifest(input_path, text_column, chunk_rows, redact, prefix, suggester.model_version)
    folder, done = _prepare_parts(input_path, output, manifest, resume, force)
    summary = TagSummary(output=output, rows=done, resumed_from_row=done)
    started = time.perf_counter()
    part_no = len(_finished_parts(folder))
    checked = False
    for chunk in iter_chunks(input_path, chunk_rows=chunk_rows, encoding=encoding, skip_rows=done):
        if not checked:
            _check_columns(input_path, chunk, text_column, prefix)
            checked = True
        tagged = _normalise_for_parquet(tag_chunk(suggester, chunk, text_column, redact, prefix, summary,
                                                    on_progress))
        tmp = folder / f".part-{part_no:06d}.tmp"
        tagged.to_parquet(tmp, index=False)
        tmp.replace(folder / f"part-{part_no:06d}.parquet")
        part_no += 1
        if on_rows is not None:
            on_rows(len(chunk))
    if not checked and done == 0:
        raise InputFileError(f"{input_path}: the file has a header but no rows")
    assemble(output)
    summary.seconds = time.perf_counter() - started
    return summary
