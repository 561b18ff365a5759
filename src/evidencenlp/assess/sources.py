"""Turn inputs into :class:`EvidenceRecord` lists: a notes table (raw or already tagged) or a review store.

* A table already tagged by ``evidencenlp tag`` (it has :data:`TAGGED_COLUMNS`) is reused as is.
* A raw table is tagged here with ``Suggester.suggest_many(texts, sentences=False)``, chunk by chunk.
* A review store (SQLite) is read read-only through :mod:`evidencenlp.review.in_force` (the one
  statement of "the decision in force"): an ``accepted`` or ``corrected`` decision wins; otherwise the
  note's latest suggestion counts with its confidence.

Errors name the file, row and column; they never contain note text.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evidencenlp.assess.records import (
    TAGGED_COLUMNS,
    EvidenceRecord,
    placements,
    records_from_suggestion,
    split_ids,
)
from evidencenlp.errors import InputFileError
from evidencenlp.review.in_force import NoteInForce, decisions_in_force, open_read_only
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


def _band_probabilities(path: Path, row: int, column: str, value: Any, band: str, band_p: float,
                        taxonomy: Taxonomy) -> tuple[tuple[str, float], ...]:
    """The ``band_probabilities`` cell of a tagged row (JSON ``{band: p}``, every band of the framework,
    each in [0, 1]); an empty cell (a file tagged before the column existed): the suggested band's
    probability only."""
    text = _cell(value)
    if not text:
        return ((band, band_p),)
    what = f"{path}: row {row}, column {column!r}: expected JSON {{band: probability}} over {', '.join(taxonomy.bands)}"
    try:
        probs = json.loads(text)
    except ValueError:
        raise InputFileError(what) from None
    if not isinstance(probs, dict) or set(probs) != set(taxonomy.bands):
        raise InputFileError(what)
    values = []
    for b in taxonomy.bands:
        p = probs[b]
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= float(p) <= 1.0:
            raise InputFileError(f"{what}; {b!r} is not a number between 0 and 1")
        values.append((b, float(p)))
    return tuple(values)


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
                placed = records_from_suggestion(s, note, row, location, _statement_kq(taxonomy), service)
                if not placed:
                    summary.abstained += 1
                else:
                    records += placed
            if on_progress is not None:
                on_progress(len(rows))
    if tagged is None:
        raise InputFileError(f"{path}: the file has a header but no rows")
    summary.placed = sum(1 for r in records if r.primary)
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
    # a tagged table has the suggested statement's probability only: one placement, weighing it; the band
    # probabilities are every band's (the band_probabilities column) or, in an older file, the suggested one's
    _float(path, row, f"{prefix}key_question_score", col("key_question_score"))
    weight = _float(path, row, f"{prefix}statement_score", col("statement_score"))
    band_p = _float(path, row, f"{prefix}band_score", col("band_score"))
    probs_col = f"{prefix}band_probabilities"
    band_probabilities = _band_probabilities(path, row, probs_col, record[probs_col] if probs_col in record.index
                                             else None, _cell(col("band")), band_p, taxonomy)
    principles_col = f"{prefix}principles"
    principles = split_ids(record[principles_col]) if principles_col in record.index else ()
    return EvidenceRecord(note=note, row=row, location=location, key_question=taxonomy.key_question_of(statement),
                          statement=statement, band=_cell(col("band")), weight=weight, source="suggestion",
                          evidence_category=category, needs_review=_bool(col("needs_review")), service=service,
                          principles=tuple(p for p in principles if p in taxonomy.principles), text=text,
                          band_probabilities=band_probabilities)


# -- the review store ---------------------------------------------------------------------------


def store_assessments(path: Path) -> list[str]:
    """The assessment names in a review store, in creation order."""
    with open_read_only(Path(path)) as conn:
        return [r["name"] for r in conn.execute("SELECT name FROM assessments ORDER BY id")]


def load_store(path: Path, taxonomy: Taxonomy, assessment: str | None = None) -> tuple[list[EvidenceRecord],
                                                                                        LoadSummary]:
    """Records from a review store (read-only): one location per assessment (all, or the one named).

    What stands for each note is :func:`evidencenlp.review.in_force.decisions_in_force` (the one
    reader of the decisions in force, shared with the review store): an accepted or corrected
    decision weighs 1, otherwise the latest suggestion weighs its confidence.
    """
    path = Path(path)
    summary = LoadSummary(source=str(path))
    records: list[EvidenceRecord] = []
    with open_read_only(path) as conn:
        try:
            found = [(int(r["id"]), str(r["name"])) for r in conn.execute("SELECT id, name FROM assessments ORDER BY id")]
            if assessment is not None:
                chosen = [a for a in found if a[1] == assessment]
                if not chosen:
                    raise InputFileError(f"{path}: no assessment named {assessment!r}; assessments: "
                                         f"{', '.join(repr(n) for _, n in found) or '(none)'}")
                found = chosen
            for aid, name in found:
                notes = decisions_in_force(conn, aid)
                payloads = _payloads(conn, [n.note_id for n in notes if not n.confirmed])
                records += _store_records(path, notes, taxonomy, summary, payloads)
                summary.locations.append(name)
        except sqlite3.DatabaseError as exc:
            raise InputFileError(f"{path}: cannot read the review database ({exc})") from None
    summary.placed = sum(1 for r in records if r.primary)
    return records, summary


def _payloads(conn: sqlite3.Connection, note_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The latest suggestion payload (``Suggestion.to_dict()`` without text) of each unconfirmed note."""
    out: dict[int, dict[str, Any]] = {}
    for start in range(0, len(note_ids), 500):
        chunk = note_ids[start:start + 500]
        rows = conn.execute(f"SELECT note_id, payload FROM current_suggestions WHERE note_id IN "
                            f"({', '.join('?' * len(chunk))})", chunk)
        for r in rows:
            try:
                doc = json.loads(r["payload"] or "{}")
            except json.JSONDecodeError:
                doc = {}
            if isinstance(doc, dict):
                out[int(r["note_id"])] = doc
    return out


def _pairs(items: Any) -> list[tuple[str, float]]:
    """``[{"label", "score"}, ...]`` of a payload as (label, score) pairs; anything malformed is left out."""
    out = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("label"), str):
            try:
                out.append((item["label"], float(item.get("score") or 0.0)))
            except (TypeError, ValueError):
                continue
    return out


def _suggested(n: NoteInForce, payload: dict[str, Any] | None, taxonomy: Taxonomy
               ) -> tuple[list[tuple[str, float]], tuple[tuple[str, float], ...]]:
    """Placements (statement, probability) and band probabilities of an unconfirmed note's suggestion.

    From the stored payload when it has them (``statement_top3``, ``key_questions``,
    ``band.probabilities``); else the suggested statement with its stored probability.
    """
    assert n.statement is not None and n.band is not None
    _, st_raw, band_raw = n.suggestion_scores
    st_score = float(st_raw) if st_raw is not None else float(n.suggestion_confidence or 0.0)
    band_score = float(band_raw) if band_raw is not None else float(n.suggestion_confidence or 0.0)
    band = (payload or {}).get("band")
    probs = band.get("probabilities") if isinstance(band, dict) else None
    band_p: tuple[tuple[str, float], ...] = ((n.band, band_score),)
    if isinstance(probs, dict) and probs:
        try:
            band_p = tuple((str(b), float(p)) for b, p in probs.items() if b in taxonomy.bands)
        except (TypeError, ValueError):
            pass
    places = placements(n.statement, st_score, n.key_question or taxonomy.key_question_of(n.statement),
                        _pairs((payload or {}).get("statement_top3")),
                        [k for k, _ in _pairs((payload or {}).get("key_questions"))], _statement_kq(taxonomy))
    return [(p.statement, p.probability) for p in places], band_p


def _store_records(path: Path, notes: list[NoteInForce], taxonomy: Taxonomy, summary: LoadSummary,
                   payloads: dict[int, dict[str, Any]]) -> Iterator[EvidenceRecord]:
    for n in notes:
        summary.rows += 1
        if not n.statement or not n.band:
            summary.blank += 1
            continue
        if n.statement not in taxonomy.statements or n.band not in taxonomy.bands:
            what = f"decision {n.decision_id}" if n.confirmed else "suggestion"
            raise InputFileError(f"{path}: note {n.note_id} ({what}): unknown statement or band "
                                 f"{n.statement!r}/{n.band!r} for framework {taxonomy.framework}")
        band_p: tuple[tuple[str, float], ...] = ()
        if n.confirmed:
            summary.confirmed += 1
            places = [(n.statement, 1.0)]
        else:
            places, band_p = _suggested(n, payloads.get(n.note_id), taxonomy)
        for i, (statement, weight) in enumerate(places):
            yield EvidenceRecord(
                note=n.source_id or f"note {n.note_id}", row=n.source_row, location=n.assessment,
                key_question=taxonomy.key_question_of(statement), statement=statement, band=n.band, weight=weight,
                source=n.status if n.confirmed else "suggestion", evidence_category=n.evidence_category,
                service=n.service, needs_review=n.needs_review,
                principles=tuple(p for p in n.principles if p in taxonomy.principles), text=n.text,
                note_id=n.note_id, band_probabilities=band_p, primary=i == 0)
