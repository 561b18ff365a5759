"""The import pipeline: read a notes file in chunks, redact, suggest, store notes with their suggestions.

Idempotent: a row already imported (same assessment, file name and row) is skipped without calling
the suggester; a row whose text changed since is reported and kept as first imported. Each batch is
one short transaction, so a crash loses at most the batch being written and a re-import finishes
the job. Only redacted text is stored.
"""

from __future__ import annotations

import hashlib
import itertools
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast, runtime_checkable

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.review import ledger
from evidencenlp.review.assessments import AssessmentRegistry
from evidencenlp.review.db import transaction, utc_now
from evidencenlp.review.models import ImportSummary, ReviewError, TooLargeError, dumps
from evidencenlp.review.redaction import redact_text
from evidencenlp.tabular import ReadReport, cell_text, count_rows, iter_chunks, require_column, table_format
from evidencenlp.training_data import SERVICES

if TYPE_CHECKING:  # importing the suggester pulls in spaCy and torch; the store does not need them
    from evidencenlp.suggest import Suggestion

DEFAULT_BATCH = 64
#: column names taken, when the caller names none, as the row's id, location and date (first found)
ID_COLUMNS: tuple[str, ...] = ("note_id", "id")
LOCATION_COLUMNS: tuple[str, ...] = ("location", "site")
DATE_COLUMNS: tuple[str, ...] = ("date", "note_date", "visit_date")
MAX_CELL = 200  # characters kept of an id, location or date cell


@runtime_checkable
class SuggesterLike(Protocol):
    """What the store needs from a suggester: :meth:`Suggester.suggest_many` (tests pass a fake)."""

    def suggest_many(self, texts: Sequence[str | None]) -> list[Suggestion | None]:
        """One suggestion (or None for blank text) per text, in order."""
        ...


SuggesterSource = SuggesterLike | Callable[[], SuggesterLike]


def resolve_suggester(suggester: SuggesterSource | None) -> SuggesterLike:
    """``suggester`` itself, or what its zero-argument factory returns."""
    if suggester is None:
        raise ReviewError("new notes need suggestions but no suggester was given")
    if isinstance(suggester, SuggesterLike):
        return suggester
    made = suggester()
    if not isinstance(made, SuggesterLike):
        raise ReviewError("the suggester factory did not return a suggester")
    return made


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _too_many(source: str, max_rows: int) -> TooLargeError:
    return TooLargeError(f"{source}: more than {max_rows:,} rows; at most {max_rows:,} rows are imported at a "
                         "time here (split the file, or import it with `evidencenlp review FILE --db …`)")


def _kept_cell(value: Any, redact: bool = True) -> str | None:
    """An id, location or date cell as stored: text, at most :data:`MAX_CELL` characters (None: empty).

    Locations and dates are redacted like the note; the id is kept as written (it joins back to the file).
    """
    text = cell_text(value).strip()
    if isinstance(value, pd.Timestamp):
        text = value.date().isoformat() if value == value.normalize() else value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))  # an id column read as numbers with gaps
    text = text[:MAX_CELL]
    return ((redact_text(text)[0] if redact else text) or None) if text else None


def _framework_versions(suggester: object) -> dict[str, str]:
    index = getattr(suggester, "index", None)
    versions = getattr(index, "version", None) if index is not None else None
    if versions is None:
        versions = getattr(suggester, "framework_versions", None)
    if callable(versions):
        versions = versions()
    return {str(k): str(v) for k, v in dict(versions or {}).items()}


def _payload(s: Suggestion) -> dict[str, Any]:
    """``Suggestion.to_dict()`` without the note text, with sentence texts redacted (belt and braces)."""
    data = s.to_dict()
    data.pop("text", None)
    for sent in data.get("sentences") or []:
        sent["text"] = redact_text(sent["text"])[0]
    return data


class Importer:
    """Stores notes and suggestions in one review database (the connection is the store's)."""

    def __init__(self, conn: sqlite3.Connection, assessments: AssessmentRegistry) -> None:
        self.conn = conn
        self.assessments = assessments

    def import_notes(self, input_file: Path | str, text_column: str = "text",
                     suggester: SuggesterSource | None = None, assessment: str | None = None, *,
                     location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                     end_date: str | None = None, source_name: str | None = None, id_column: str | None = None,
                     location_column: str | None = None, date_column: str | None = None,
                     batch_size: int = DEFAULT_BATCH, encoding: str = "utf-8",
                     progress: Callable[[int], None] | None = None, max_rows: int | None = None) -> ImportSummary:
        """Redact, suggest and store every note of ``input_file``, one short transaction per batch.

        ``id_column``, ``location_column`` and ``date_column`` name the file's columns kept with each
        note (redacted, as text); when not given, the first of :data:`ID_COLUMNS`,
        :data:`LOCATION_COLUMNS` and :data:`DATE_COLUMNS` the file has is used. ``max_rows``: refuse
        (:class:`TooLargeError`, before a row past the limit is read into the store) a longer file.

        Idempotent: rows already imported (same assessment, file name and row) are skipped without
        calling the suggester; rows whose text changed since are listed in ``changed_rows`` and
        kept as first imported. Text that is not valid Unicode (a lone surrogate in JSONL) is stored
        with U+FFFD in its place and counted in ``replaced_characters``. ``suggester`` may be a
        zero-argument callable, called only when a row needs a suggestion. ``assessment`` defaults to the file name without extension.
        ``progress`` is called with the number of rows read after each batch.
        """
        input_file = Path(input_file)
        table_format(input_file)
        source = source_name or input_file.name
        if max_rows is not None:  # refuse up front when the size is cheap to know: nothing is stored then
            total = count_rows(input_file, encoding)
            if total is not None and total > max_rows:
                raise _too_many(source, max_rows)
        repaired = ReadReport()
        chunks = iter_chunks(input_file, chunk_rows=batch_size, encoding=encoding, report=repaired)
        head = next((c for c in chunks if len(c)), None)  # check file and columns before creating anything
        if head is None:
            raise InputFileError(f"{input_file}: the file has a header but no rows")
        columns = [str(c) for c in head.columns]
        require_column(input_file, columns, text_column)
        kept: dict[str, str | None] = {}
        for what, given, defaults in (("id", id_column, ID_COLUMNS), ("location", location_column, LOCATION_COLUMNS),
                                      ("date", date_column, DATE_COLUMNS)):
            if given:
                require_column(input_file, columns, given)
            kept[what] = given or next((c for c in defaults if c in columns and c != text_column), None)
        found = self.assessments.ensure(assessment or Path(source).stem, location, service_type, start_date,
                                        end_date)
        existing = dict(self.conn.execute("SELECT source_row, text_sha256 FROM notes "
                                          "WHERE assessment_id = ? AND source_file = ?", (found.id, source)))
        summary = ImportSummary(found.id, source, id_column=kept["id"], location_column=kept["location"],
                                date_column=kept["date"])
        resolved: list[SuggesterLike] = []
        for chunk in itertools.chain([head], chunks):
            if max_rows is not None and summary.rows + len(chunk) > max_rows:
                raise _too_many(source, max_rows)
            pending = self._new_rows(chunk, text_column, kept, existing, summary)
            if pending:
                if not resolved:
                    resolved.append(resolve_suggester(suggester))
                self._store_batch(found.id, source, pending, resolved[0], summary)
            if progress is not None:
                progress(len(chunk))
        summary.replaced_characters = repaired.replaced_characters
        return summary

    def resuggest(self, note_ids: Iterable[int], suggester: SuggesterLike) -> int:
        """Store a fresh suggestion (e.g. from retrained heads) for each note; decisions are untouched."""
        ids = list(note_ids)
        notes = {r["id"]: r["text"] for r in self.conn.execute(
            f"SELECT id, text FROM notes WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else {}
        order = [i for i in ids if i in notes]
        if not order:
            return 0
        suggestions = suggester.suggest_many([notes[i] for i in order])
        versions, now, n = dumps(_framework_versions(suggester)), utc_now(), 0
        with transaction(self.conn):
            for note_id, s in zip(order, suggestions, strict=True):
                if s is not None:
                    self._insert_suggestion(note_id, s, versions, now)
                    n += 1
        return n

    def _new_rows(self, chunk: pd.DataFrame, text_column: str, kept: dict[str, str | None],
                  existing: dict[int, str], summary: ImportSummary) -> list[dict[str, Any]]:
        has_service = "service" in chunk.columns
        rows = []
        for position, (index, value) in enumerate(chunk[text_column].items()):
            summary.rows += 1
            row = int(cast(int, index)) + 1
            text = cell_text(value).strip()
            if not text:
                summary.blank += 1
                continue
            redacted, counts = redact_text(text)
            digest = _sha256(redacted)
            if row in existing:
                if existing[row] == digest:
                    summary.already += 1
                else:
                    summary.changed_rows.append(row)
                continue
            service = cell_text(chunk.iloc[position]["service"]).strip() if has_service else ""
            cells = {what: _kept_cell(chunk.iloc[position][column], redact=what != "id") if column else None
                     for what, column in kept.items()}
            rows.append({"row": row, "text": redacted, "sha": digest, "redactions": counts,
                         "service": service if service in SERVICES else None, "source_id": cells["id"],
                         "location": cells["location"], "note_date": cells["date"]})
        return rows

    def _store_batch(self, assessment_id: int, source: str, rows: list[dict[str, Any]], suggester: SuggesterLike,
                     summary: ImportSummary) -> None:
        suggestions = suggester.suggest_many([r["text"] for r in rows])
        if len(suggestions) != len(rows):
            raise ReviewError(f"the suggester returned {len(suggestions)} suggestions for {len(rows)} notes")
        versions = dumps(_framework_versions(suggester))
        now = utc_now()
        with transaction(self.conn):
            for r, s in zip(rows, suggestions, strict=True):
                if s is None:
                    summary.blank += 1
                    continue
                cur = self.conn.execute(
                    "INSERT INTO notes (assessment_id, source_file, source_row, source_id, location, note_date, service, "
                    "text, text_sha256, redactions, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (assessment_id, source_file, source_row) DO NOTHING RETURNING id",
                    (assessment_id, source, r["row"], r["source_id"], r["location"], r["note_date"], r["service"],
                     r["text"], r["sha"], dumps(r["redactions"]), now))
                got = cur.fetchone()
                if got is None:  # another process imported the same row meanwhile
                    summary.already += 1
                    continue
                ledger.append(self.conn, "notes", got[0])  # sealed in the audit log, same transaction
                self._insert_suggestion(got[0], s, versions, now)
                summary.imported += 1
                summary.needs_review += int(bool(s.needs_review))

    def _insert_suggestion(self, note_id: int, s: Suggestion, versions: str, now: str) -> int:
        """Store one suggestion. An abstention (no labels) is stored too, with confidence 0: least certain."""
        top = s.evidence[0] if s.evidence else None
        scores = [x.score for x in (s.key_question, s.statement, s.band) if x is not None]
        confidence = min(scores) if scores else 0.0
        labelled = [(x.label, x.score) if x is not None else (None, None)
                    for x in (s.key_question, s.statement, s.evidence_category, s.band)]
        (kq, kq_score), (statement, statement_score), (category, category_score), (band, band_score) = labelled
        cur = self.conn.execute(
            "INSERT INTO suggestions (note_id, created_at, model_version, framework_versions, key_question, "
            "key_question_score, statement, statement_score, statement_top3, evidence_category, "
            "evidence_category_score, band, band_score, principles, confidence, needs_review, evidence_framework, "
            f"evidence_item, evidence_text, payload) VALUES ({', '.join('?' * 20)})",
            (note_id, now, s.model_version, versions, kq, kq_score, statement, statement_score,
             ";".join(x.label for x in s.statement_top3), category, category_score, band, band_score,
             ";".join(p.label for p in s.principles), float(confidence), int(bool(s.needs_review)),
             top.text.framework if top else None, top.text.item if top else None, top.text.text if top else None,
             dumps(_payload(s))))
        sid = int(cur.lastrowid or 0)
        ledger.append(self.conn, "suggestions", sid)  # sealed in the audit log, same transaction
        return sid
