"""Turn inputs into :class:`EvidenceRecord` lists: a notes table (raw or already tagged) or a review store.

* A table already tagged by ``evidencenlp tag`` (it has :data:`TAGGED_COLUMNS`) is reused as is.
* A raw table is tagged here with ``Suggester.suggest_many(texts, sentences=False)``, chunk by chunk.
* A review store (SQLite) is read read-only with plain SQL on its tables (``assessments``, ``notes``,
  ``suggestions``, ``decisions``): the decision in force on a note (latest row; an ``undone`` row
  stands for the decision it restores) wins when it is ``accepted`` or ``corrected``; otherwise the
  note's latest suggestion counts with its confidence.

Errors name the file, row and column; they never contain note text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd

from evidencenlp.assess.records import (
    TAGGED_COLUMNS,
    EvidenceRecord,
    record_from_suggestion,
    split_ids,
    suggestion_confidence,
)
from evidencenlp.errors import InputFileError
from evidencenlp.tabular import (
    DEFAULT_CHUNK_ROWS,
    cell_text,
    check_readable,
    iter_chunks,
    require_column,
    table_format,
)
from evidencenlp.taxonomy import Taxonomy

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggester

#: the location used when no location column is given
SINGLE_LOCATION = "all notes"


@dataclass
class LoadSummary:
    """What was read (counts only, never text)."""

    source: str
    rows: int = 0
    placed: int = 0
    blank: int = 0
    tagged_here: int = 0
    abstained: int = 0
    reused_tags: bool = False
    confirmed: int = 0
    locations: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"source": self.source, "rows": self.rows, "placed": self.placed, "blank": self.blank,
                "tagged_here": self.tagged_here, "abstained": self.abstained, "reused_tags": self.reused_tags,
                "confirmed": self.confirmed}


# -- tables -------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    """A cell as stripped text; missing values (None, NaN) → ``""``."""
    return cell_text(value).strip()


def _float(path: Path, row: int, column: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputFileError(f"{path}: row {row}, column {column!r}: expected a number between 0 and 1") from None
    if not 0.0 <= number <= 1.0:
        raise InputFileError(f"{path}: row {row}, column {column!r}: expected a number between 0 and 1; "
                             f"got {number:g}")
    return number


def _bool(value: Any) -> bool:
    return _cell(value).lower() in ("true", "1", "yes", "y")


def is_tagged(columns: list[str], prefix: str = "") -> bool:
    """True when the table has every flat column ``evidencenlp tag`` adds (with ``prefix``)."""
    return all(f"{prefix}{c}" in columns for c in TAGGED_COLUMNS)


def load_table(path: Path, taxonomy: Taxonomy, text_column: str = "text", location_column: str | None = None,
               service_column: str | None = None, id_column: str | None = None, prefix: str = "",
               encoding: str = "utf-8", suggester: Suggester | Callable[[], Suggester] | None = None,
               chunk_rows: int = DEFAULT_CHUNK_ROWS,
               on_progress: Callable[[int], None] | None = None) -> tuple[list[EvidenceRecord], LoadSummary]:
    """Read a notes table into records.

    ``suggester`` (or a function returning one, called only when needed) tags a raw table; an
    already tagged table is reused without it. ``id_column`` defaults to ``id`` when the table has
    one (otherwise notes are named ``row N``, N the 1-based data row). ``on_progress`` is called with
    the number of rows finished.
    """
    path = Path(path)
    table_format(path)
    check_readable(path)
    summary = LoadSummary(source=str(path))
    records: list[EvidenceRecord] = []
    tagged: bool | None = None
    active: Suggester | None = None
    for chunk in iter_chunks(path, chunk_rows=chunk_rows, encoding=encoding):
        columns = [str(c) for c in chunk.columns]
        if tagged is None:
            tagged = is_tagged(columns, prefix)
            summary.reused_tags = tagged
            if not tagged:
                require_column(path, columns, text_column)
            for name in (location_column, service_column):
                if name:
                    require_column(path, columns, name)
            if id_column:
                require_column(path, columns, id_column)
            elif "id" in columns:
                id_column = "id"
        rows = [int(i) + 1 for i in chunk.index]
        summary.rows += len(rows)
        meta = [_row_meta(path, chunk, pos, row, location_column, service_column, id_column)
                for pos, row in enumerate(rows)]
        if tagged:
            has_text = text_column in columns
            for pos, (row, (note, location, service)) in enumerate(zip(rows, meta)):
                text = _cell(chunk.iloc[pos][text_column]) if has_text else ""
                rec = _tagged_record(path, chunk.iloc[pos], row, note, location, service, text, taxonomy, prefix)
                if rec is None:
                    summary.blank += 1
                else:
                    records.append(rec)
            if on_progress is not None:
                on_progress(len(rows))
        else:
            if active is None:
                if suggester is None:
                    raise InputFileError(f"{path}: the notes are not tagged and no suggester was given")
                active = suggester() if callable(suggester) else suggester
            texts = [_cell(v) or None for v in chunk[text_column].tolist()]
            suggestions = active.suggest_many(texts, sentences=False, evidence=False)
            for (row, (note, location, service)), s in zip(zip(rows, meta), suggestions):
                if s is None:
                    summary.blank += 1
                    continue
                summary.tagged_here += 1
                placed = record_from_suggestion(s, note, row, location, _statement_kq(taxonomy), service)
                if placed is None:
                    summary.abstained += 1
                else:
                    records.append(placed)
            if on_progress is not None:
                on_progress(len(rows))
    if tagged is None:
        raise InputFileError(f"{path}: the file has a header but no rows")
    summary.placed = len(records)
    summary.locations = list(dict.fromkeys(r.location for r in records))
    return records, summary


def _statement_kq(taxonomy: Taxonomy) -> dict[str, str]:
    return dict(zip(taxonomy.statements, taxonomy.statement_kq))


def _row_meta(path: Path, chunk: pd.DataFrame, pos: int, row: int, location_column: str | None,
              service_column: str | None, id_column: str | None) -> tuple[str, str, str | None]:
    record = chunk.iloc[pos]
    note = _cell(record[id_column]) if id_column else ""
    location = SINGLE_LOCATION
    if location_column:
        location = _cell(record[location_column])
        if not location:
            raise InputFileError(f"{path}: row {row}, column {location_column!r}: the location is empty")
    service = _cell(record[service_column]) or None if service_column else None
    return note or f"row {row}", location, service


def _tagged_record(path: Path, record: pd.Series, row: int, note: str, location: str, service: str | None,
                   text: str, taxonomy: Taxonomy, prefix: str) -> EvidenceRecord | None:
    def col(name: str) -> Any:
        return record[f"{prefix}{name}"]

    statement = _cell(col("statement"))
    if not statement or not _cell(col("band")):
        return None  # a blank note (or one the tool abstained on): tag leaves the suggestion columns empty
    checks = (("statement", statement, taxonomy.statements), ("band", _cell(col("band")), taxonomy.bands),
              ("key_question", _cell(col("key_question")), taxonomy.key_questions))
    for name, value, allowed in checks:
        if value not in allowed:
            raise InputFileError(f"{path}: row {row}, column {prefix}{name!r}: unknown label {value!r} "
                                 f"(not in framework {taxonomy.framework}); was the file tagged with other frameworks?")
    category = _cell(col("evidence_category")) or None
    if category is not None and taxonomy.categories and category not in taxonomy.categories:
        raise InputFileError(f"{path}: row {row}, column '{prefix}evidence_category': unknown label {category!r}")
    weight = suggestion_confidence(*(_float(path, row, f"{prefix}{c}", col(c))
                                     for c in ("key_question_score", "statement_score", "band_score")))
    principles_col = f"{prefix}principles"
    principles = split_ids(record[principles_col]) if principles_col in record.index else ()
    return EvidenceRecord(note=note, row=row, location=location, key_question=taxonomy.key_question_of(statement),
                          statement=statement, band=_cell(col("band")), weight=weight, source="suggestion",
                          evidence_category=category, needs_review=_bool(col("needs_review")), service=service,
                          principles=tuple(p for p in principles if p in taxonomy.principles), text=text)


# -- the review store ---------------------------------------------------------------------------


def _open_read_only(path: Path) -> sqlite3.Connection:
    """Open the review store read-only (never creates, migrates or writes anything)."""
    if not path.is_file():
        raise InputFileError(f"{path}: review database not found")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InputFileError(f"{path}: not a readable review database ({exc})") from None
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in ("assessments", "notes", "suggestions", "decisions") if t not in tables]
    if missing:
        conn.close()
        raise InputFileError(f"{path}: not an evidencenlp review database (no table {', '.join(missing)})")
    return conn


def store_assessments(path: Path) -> list[str]:
    """The assessment names in a review store, in creation order."""
    conn = _open_read_only(Path(path))
    try:
        return [r["name"] for r in conn.execute("SELECT name FROM assessments ORDER BY id")]
    finally:
        conn.close()


def _decisions_in_force(conn: sqlite3.Connection, note_ids: list[int]) -> dict[int, tuple[sqlite3.Row, str]]:
    """The accepted or corrected decision in force per note with its action (absent when pending or skipped).

    The latest decision row stands; an ``undone`` row carries the labels of the decision it restores
    and stands for that decision's action (or for no decision when it restores none).
    """
    out: dict[int, tuple[sqlite3.Row, str]] = {}
    for start in range(0, len(note_ids), 500):
        ids = note_ids[start:start + 500]
        marks = ",".join("?" * len(ids))
        rows = conn.execute(f"SELECT * FROM decisions WHERE note_id IN ({marks}) ORDER BY note_id, id", ids).fetchall()
        by_id = {r["id"]: r for r in rows}
        latest: dict[int, sqlite3.Row] = {}
        for r in rows:
            latest[r["note_id"]] = r
        for note_id, r in latest.items():
            action = r["action"]
            if action == "undone":  # stands for the decision it restores (labels copied), or none
                restored = by_id.get(r["restores"]) if r["restores"] is not None else None
                action = restored["action"] if restored is not None else "pending"
            if action in ("accepted", "corrected") and r["statement"] and r["band"]:
                out[note_id] = (r, str(action))
    return out


def load_store(path: Path, taxonomy: Taxonomy, assessment: str | None = None) -> tuple[list[EvidenceRecord],
                                                                                        LoadSummary]:
    """Records from a review store: one location per assessment (all, or the one named)."""
    path = Path(path)
    conn = _open_read_only(path)
    summary = LoadSummary(source=str(path))
    records: list[EvidenceRecord] = []
    try:
        if assessment is not None:
            found = conn.execute("SELECT * FROM assessments WHERE name = ?", (assessment,)).fetchall()
            if not found:
                names = [r["name"] for r in conn.execute("SELECT name FROM assessments ORDER BY id")]
                raise InputFileError(f"{path}: no assessment named {assessment!r}; assessments: "
                                     f"{', '.join(repr(n) for n in names) or '(none)'}")
        else:
            found = conn.execute("SELECT * FROM assessments ORDER BY id").fetchall()
        for a in found:
            records += _store_records(conn, path, a, taxonomy, summary)
            summary.locations.append(str(a["name"]))
    except sqlite3.DatabaseError as exc:
        raise InputFileError(f"{path}: cannot read the review database ({exc})") from None
    finally:
        conn.close()
    summary.placed = len(records)
    return records, summary


def _store_records(conn: sqlite3.Connection, path: Path, assessment: sqlite3.Row, taxonomy: Taxonomy,
                   summary: LoadSummary) -> Iterator[EvidenceRecord]:
    notes = conn.execute(
        "SELECT n.id, n.source_row, n.source_id, n.service, n.text, s.key_question, s.key_question_score, "
        "s.statement, s.statement_score, s.evidence_category, s.band, s.band_score, s.principles, s.confidence, "
        "s.needs_review FROM notes n LEFT JOIN suggestions s ON s.id = "
        "(SELECT max(id) FROM suggestions WHERE note_id = n.id) WHERE n.assessment_id = ? ORDER BY n.id",
        (assessment["id"],)).fetchall()
    decided = _decisions_in_force(conn, [n["id"] for n in notes])
    location = str(assessment["name"])
    for n in notes:
        summary.rows += 1
        found = decided.get(n["id"])
        d = found[0] if found else None
        source, labels = ("suggestion", n) if found is None else (found[1], found[0])
        statement, band = labels["statement"], labels["band"]
        if not statement or not band:
            summary.blank += 1
            continue
        if statement not in taxonomy.statements or band not in taxonomy.bands:
            raise InputFileError(f"{path}: note {n['id']} ({'decision ' + str(d['id']) if d is not None else 'suggestion'}): "
                                 f"unknown statement or band {statement!r}/{band!r} for framework {taxonomy.framework}")
        if d is None:
            weight = float(n["confidence"]) if n["confidence"] is not None else suggestion_confidence(
                n["key_question_score"] or 0.0, n["statement_score"] or 0.0, n["band_score"] or 0.0)
        else:
            weight = 1.0
            summary.confirmed += 1
        note_name = str(n["source_id"]) if n["source_id"] else f"note {n['id']}"
        yield EvidenceRecord(
            note=note_name, row=int(n["source_row"]), location=location,
            key_question=taxonomy.key_question_of(statement), statement=statement, band=band, weight=weight,
            source=source, evidence_category=labels["evidence_category"], service=n["service"],
            needs_review=bool(n["needs_review"]) if d is None else False,
            principles=tuple(p for p in split_ids(labels["principles"]) if p in taxonomy.principles),
            text=str(n["text"] or ""))
