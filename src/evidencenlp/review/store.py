"""The review store: import notes with their suggestions, record decisions, build queues, export labels.

Usage::

    with ReviewStore.open("review.sqlite") as store:
        store.import_notes(Path("notes.csv"), "text", Suggester.load(), assessment="Oak House 2025")
        item = store.queue(undecided_first=True)[0]
        store.confirm(item.note_id, "J Smith")                       # accept the suggestion
        store.confirm(item.note_id, "J Smith", labels=...)           # or correct it (a new row)
        store.undo(item.note_id, "J Smith")                          # an undo is a new row too
        store.export(Path("confirmed.csv"))

A note's *current* decision is its latest decision row (highest id). An ``undone`` row reverts the
decision that was in force and restores the one before it (copying its labels), so the latest row
always says what stands; the whole history stays in the table. Only redacted text is stored.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.review.db import connect, transaction, utc_now
from evidencenlp.review.labels import Vocabulary, load_vocabulary
from evidencenlp.review.models import (
    ACTIONS,
    CONFIRMED,
    STATUSES,
    Assessment,
    ConflictError,
    Decision,
    ImportSummary,
    Labels,
    Note,
    NotFoundError,
    QueueItem,
    ReviewError,
    dumps,
)
from evidencenlp.tabular import iter_chunks, require_column, table_format, write_table
from evidencenlp.training_data import CORPUS_COLUMNS, SERVICES

if TYPE_CHECKING:  # importing the suggester pulls in spaCy and torch; the store does not need them
    from evidencenlp.suggest import Suggestion

ORDERS: tuple[str, ...] = ("file", "uncertain")
DEFAULT_BATCH = 64
MAX_RATIONALE = 4000
SNIPPET_CHARS = 160
#: sentinel for "do not check which decision the client saw"
ANY = object()


@runtime_checkable
class SuggesterLike(Protocol):
    """What the store needs from a suggester: :meth:`Suggester.suggest_many` (tests pass a fake)."""

    def suggest_many(self, texts: Sequence[str | None]) -> list[Suggestion | None]:
        """One suggestion (or None for blank text) per text, in order."""
        ...


SuggesterSource = SuggesterLike | Callable[[], SuggesterLike]


def redact_text(text: str) -> tuple[str, dict[str, int]]:
    """The note with identifiers replaced by placeholders, and the count of each kind replaced."""
    from evidencenlp.text import apply_redactions, find_identifiers

    found = find_identifiers(text)
    counts: dict[str, int] = {}
    for r in found:
        counts[r.kind] = counts.get(r.kind, 0) + 1
    return apply_redactions(text, found), counts


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


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


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p for p in (value or "").split(";") if p)


def _decision(row: sqlite3.Row) -> Decision:
    return Decision(row["id"], row["note_id"], row["suggestion_id"], row["inspector"], row["decided_at"],
                    row["action"], row["key_question"], row["statement"], row["evidence_category"], row["band"],
                    _split(row["principles"]), row["rationale"], row["reverts"], row["restores"], row["client"])


def _assessment(row: sqlite3.Row) -> Assessment:
    return Assessment(row["id"], row["name"], row["location"], row["service_type"], row["start_date"],
                      row["end_date"], row["created_at"])


def _check_date(value: str | None, what: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ReviewError(f"{what} {value!r} is not a date; use YYYY-MM-DD") from None


class ReviewStore:
    """A review database file. Open with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path | str, create: bool = True, vocabulary: Vocabulary | None = None) -> None:
        self.path = Path(path)
        self.conn = connect(self.path, create=create)
        self._vocabulary = vocabulary

    @classmethod
    def open(cls, path: Path | str, create: bool = True, vocabulary: Vocabulary | None = None) -> ReviewStore:
        """Open (creating or migrating when ``create``) the database at ``path``."""
        return cls(path, create=create, vocabulary=vocabulary)

    def close(self) -> None:
        """Close the connection (committed work is already on disk)."""
        self.conn.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def vocabulary(self) -> Vocabulary:
        """Label options (loaded from the framework files on first use)."""
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary()
        return self._vocabulary

    # -- assessments -------------------------------------------------------------------------

    def ensure_assessment(self, name: str, location: str | None = None, service_type: str | None = None,
                          start_date: str | None = None, end_date: str | None = None) -> Assessment:
        """The assessment called ``name``, created if new; details given (not None) are updated."""
        name = (name or "").strip()
        if not name:
            raise ReviewError("an assessment needs a name")
        if service_type not in (None, "") and service_type not in SERVICES:
            raise ReviewError(f"unknown service type {service_type!r}; expected one of {', '.join(SERVICES)}")
        details = {"location": location or None, "service_type": service_type or None,
                   "start_date": _check_date(start_date, "start date"), "end_date": _check_date(end_date, "end date")}
        try:
            with transaction(self.conn):
                self.conn.execute("INSERT INTO assessments (name, created_at) VALUES (?, ?) "
                                  "ON CONFLICT (name) DO NOTHING", (name, utc_now()))
                for column, value in details.items():
                    if value is not None:
                        self.conn.execute(f"UPDATE assessments SET {column} = ? WHERE name = ?", (value, name))
        except sqlite3.IntegrityError as exc:
            raise ReviewError(f"assessment {name!r}: {exc} (is the start date after the end date?)") from None
        row = self.conn.execute("SELECT * FROM assessments WHERE name = ?", (name,)).fetchone()
        return _assessment(row)

    def assessment(self, ident: int | str) -> Assessment:
        """An assessment by id or name; :class:`NotFoundError` when there is none."""
        column = "id" if isinstance(ident, int) else "name"
        row = self.conn.execute(f"SELECT * FROM assessments WHERE {column} = ?", (ident,)).fetchone()
        if row is None:
            raise NotFoundError(f"no assessment {ident!r} in {self.path}")
        return _assessment(row)

    def assessments(self) -> list[Assessment]:
        """Every assessment, oldest first."""
        return [_assessment(r) for r in self.conn.execute("SELECT * FROM assessments ORDER BY id")]

    # -- import ------------------------------------------------------------------------------

    def import_notes(self, input_file: Path | str, text_column: str = "text",
                     suggester: SuggesterSource | None = None, assessment: str | None = None, *,
                     location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                     end_date: str | None = None, source_name: str | None = None, id_column: str | None = None,
                     batch_size: int = DEFAULT_BATCH, encoding: str = "utf-8",
                     progress: Callable[[int], None] | None = None) -> ImportSummary:
        """Redact, suggest and store every note of ``input_file``, one short transaction per batch.

        Idempotent: rows already imported (same assessment, file name and row) are skipped without
        calling the suggester; rows whose text changed since are listed in ``changed_rows`` and
        kept as first imported. ``suggester`` may be a zero-argument callable, called only when a
        row needs a suggestion. ``assessment`` defaults to the file name without extension.
        ``progress`` is called with the number of rows read after each batch.
        """
        input_file = Path(input_file)
        table_format(input_file)
        source = source_name or input_file.name
        chunks = iter_chunks(input_file, chunk_rows=batch_size, encoding=encoding)
        head = next((c for c in chunks if len(c)), None)  # check file and columns before creating anything
        if head is None:
            raise InputFileError(f"{input_file}: the file has a header but no rows")
        columns = [str(c) for c in head.columns]
        require_column(input_file, columns, text_column)
        if id_column is not None:
            require_column(input_file, columns, id_column)
        else:
            id_column = next((c for c in ("note_id", "id") if c in columns), None)
        found = self.ensure_assessment(assessment or Path(source).stem, location, service_type, start_date,
                                       end_date)
        existing = dict(self.conn.execute("SELECT source_row, text_sha256 FROM notes "
                                          "WHERE assessment_id = ? AND source_file = ?", (found.id, source)))
        summary = ImportSummary(found.id, source)
        resolved: list[SuggesterLike] = []
        for chunk in itertools.chain([head], chunks):
            pending = self._new_rows(chunk, text_column, id_column, existing, summary)
            if pending:
                if not resolved:
                    resolved.append(_resolve(suggester))
                self._store_batch(found.id, source, pending, resolved[0], summary)
            if progress is not None:
                progress(len(chunk))
        return summary

    def _new_rows(self, chunk: pd.DataFrame, text_column: str, id_column: str | None, existing: dict[int, str],
                  summary: ImportSummary) -> list[dict[str, Any]]:
        has_service = "service" in chunk.columns
        rows = []
        for position, (index, value) in enumerate(chunk[text_column].items()):
            summary.rows += 1
            row = int(index) + 1
            text = _cell_text(value).strip()
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
            service = _cell_text(chunk.iloc[position]["service"]).strip() if has_service else ""
            source_id = _cell_text(chunk.iloc[position][id_column]).strip() if id_column else ""
            rows.append({"row": row, "text": redacted, "sha": digest, "redactions": counts,
                         "service": service if service in SERVICES else None, "source_id": source_id or None})
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
                    "INSERT INTO notes (assessment_id, source_file, source_row, source_id, service, text, "
                    "text_sha256, redactions, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (assessment_id, source_file, source_row) DO NOTHING RETURNING id",
                    (assessment_id, source, r["row"], r["source_id"], r["service"], r["text"], r["sha"],
                     dumps(r["redactions"]), now))
                got = cur.fetchone()
                if got is None:  # another process imported the same row meanwhile
                    summary.already += 1
                    continue
                self._insert_suggestion(got[0], s, versions, now)
                summary.imported += 1
                summary.needs_review += int(bool(s.needs_review))

    def _insert_suggestion(self, note_id: int, s: Suggestion, versions: str, now: str) -> int:
        top = s.evidence[0] if s.evidence else None
        confidence = min(s.key_question.score, s.statement.score, s.band.score)
        cur = self.conn.execute(
            "INSERT INTO suggestions (note_id, created_at, model_version, framework_versions, key_question, "
            "key_question_score, statement, statement_score, statement_top3, evidence_category, "
            "evidence_category_score, band, band_score, principles, confidence, needs_review, evidence_framework, "
            f"evidence_item, evidence_text, payload) VALUES ({', '.join('?' * 20)})",
            (note_id, now, s.model_version, versions, s.key_question.label, s.key_question.score, s.statement.label,
             s.statement.score, ";".join(x.label for x in s.statement_top3), s.evidence_category.label,
             s.evidence_category.score, s.band.label, s.band.score, ";".join(p.label for p in s.principles),
             float(confidence), int(bool(s.needs_review)), top.text.framework if top else None,
             top.text.item if top else None, top.text.text if top else None, dumps(_payload(s))))
        return int(cur.lastrowid)

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

    # -- reading -----------------------------------------------------------------------------

    def queue(self, assessment_id: int | None = None, order: str = "file", statuses: Iterable[str] | None = None,
              needs_review_only: bool = False, undecided_first: bool = False) -> list[QueueItem]:
        """Notes to review. ``order``: ``file`` (import order: file, then row) or ``uncertain`` (least confident first).

        ``undecided_first`` puts pending notes first, then skipped ones, then decided ones.
        """
        if order not in ORDERS:
            raise ReviewError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
        where, args = ["1 = 1"], []
        if assessment_id is not None:
            where.append("n.assessment_id = ?")
            args.append(assessment_id)
        if statuses is not None:
            wanted = list(statuses)
            bad = [s for s in wanted if s not in STATUSES]
            if bad:
                raise ReviewError(f"unknown status {bad[0]!r}; expected some of {', '.join(STATUSES)}")
            where.append(f"st.status IN ({','.join('?' * len(wanted))})" if wanted else "0")
            args.extend(wanted)
        if needs_review_only:
            where.append("cs.needs_review = 1")
        keys = []
        if undecided_first:
            keys.append("CASE st.status WHEN 'pending' THEN 0 WHEN 'skipped' THEN 1 ELSE 2 END")
        if order == "uncertain":
            keys.append("coalesce(cs.confidence, 0)")
        keys += ["n.id"]  # import order: file by file, row by row
        sql = (f"SELECT n.id, n.source_file, n.source_row, substr(n.text, 1, {SNIPPET_CHARS}) AS snippet, "
               "st.status, cs.needs_review, cs.confidence, cs.statement, cs.band, st.statement AS d_statement, "
               "st.band AS d_band FROM notes n JOIN note_status st ON st.note_id = n.id "
               "LEFT JOIN current_suggestions cs ON cs.note_id = n.id "
               f"WHERE {' AND '.join(where)} ORDER BY {', '.join(keys)}")
        return [QueueItem(r["id"], r["source_file"], r["source_row"], r["snippet"], r["status"],
                          bool(r["needs_review"]), r["confidence"], r["statement"], r["band"],
                          r["d_statement"] if r["status"] in CONFIRMED else None,
                          r["d_band"] if r["status"] in CONFIRMED else None)
                for r in self.conn.execute(sql, args)]

    def history(self, note_id: int) -> list[Decision]:
        """Every decision row of a note, oldest first (the audit trail)."""
        return [_decision(r) for r in self.conn.execute(
            "SELECT * FROM decisions WHERE note_id = ? ORDER BY id", (note_id,))]

    def note(self, note_id: int) -> Note:
        """A note with its current suggestion, status, current decision and full history."""
        row = self.conn.execute(
            "SELECT n.*, st.status, cs.id AS sid, cs.payload, cs.confidence, cs.needs_review FROM notes n "
            "JOIN note_status st ON st.note_id = n.id LEFT JOIN current_suggestions cs ON cs.note_id = n.id "
            "WHERE n.id = ?", (note_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no note {note_id} in {self.path}")
        history = tuple(self.history(note_id))
        return Note(row["id"], row["assessment_id"], row["source_file"], row["source_row"], row["source_id"],
                    row["service"], row["text"], row["imported_at"], row["status"], row["sid"],
                    json.loads(row["payload"]) if row["payload"] else None, row["confidence"],
                    bool(row["needs_review"]), history[-1] if history else None, history)

    def progress(self, assessment_id: int | None = None) -> dict[str, int]:
        """Counts of notes by status, plus ``total`` and ``needs_review`` (suggestions flagged)."""
        where = "WHERE n.assessment_id = ?" if assessment_id is not None else ""
        args = [assessment_id] if assessment_id is not None else []
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.conn.execute(f"SELECT st.status, count(*) FROM notes n JOIN note_status st ON "
                                   f"st.note_id = n.id {where} GROUP BY st.status", args):
            counts[r[0]] = r[1]
        counts["total"] = sum(counts[s] for s in STATUSES)
        counts["confirmed"] = counts["accepted"] + counts["corrected"]
        counts["needs_review"] = self.conn.execute(
            f"SELECT count(*) FROM notes n JOIN current_suggestions cs ON cs.note_id = n.id {where} "
            f"{'AND' if where else 'WHERE'} cs.needs_review = 1", args).fetchone()[0]
        return counts

    def summary(self, assessment_id: int | None = None) -> list[dict[str, Any]]:
        """Per key question: how many notes are confirmed, their bands, and their statements."""
        vocab = self.vocabulary
        where = "AND n.assessment_id = ?" if assessment_id is not None else ""
        args = [assessment_id] if assessment_id is not None else []
        rows = self.conn.execute(
            "SELECT st.key_question, st.statement, st.band, count(*) AS n FROM note_status st "
            f"JOIN notes n ON n.id = st.note_id WHERE st.status IN ('accepted', 'corrected') {where} "
            "GROUP BY st.key_question, st.statement, st.band", args).fetchall()
        out = []
        for kq in vocab.key_questions:
            mine = [r for r in rows if r["key_question"] == kq.id]
            bands = {b.id: sum(r["n"] for r in mine if r["band"] == b.id) for b in vocab.bands}
            statements = [{"id": s.id, "title": s.title, "n": sum(r["n"] for r in mine if r["statement"] == s.id)}
                          for s in vocab.statements if s.key_question == kq.id]
            out.append({"key_question": kq.id, "title": kq.title, "confirmed": sum(bands.values()), "bands": bands,
                        "statements": [s for s in statements if s["n"]]})
        return out

    # -- deciding ----------------------------------------------------------------------------

    def decide(self, note_id: int, inspector: str, action: str, labels: Labels | None = None,
               rationale: str | None = None, client: str | None = None, based_on: object = ANY) -> Decision:
        """Append one decision (``accepted``, ``corrected`` or ``skipped``) for a note.

        ``labels`` are required to accept or correct; they are validated against the frameworks.
        ``based_on`` is the id of the latest decision the inspector saw (None: none); when given
        and someone decided since, :class:`ConflictError` is raised and nothing is written.
        """
        inspector = (inspector or "").strip()
        if not inspector:
            raise ReviewError("an inspector name is needed to record a decision")
        if action not in ACTIONS or action == "undone":
            raise ReviewError(f"unknown action {action!r}; expected accepted, corrected or skipped (undo with undo())")
        if action in CONFIRMED:
            if labels is None:
                raise ReviewError(f"labels are needed to record {action!r}")
            labels = self.vocabulary.validate(labels)
        else:
            labels = None
        note_text = None if rationale is None else redact_text(str(rationale).strip()[:MAX_RATIONALE])[0] or None
        with transaction(self.conn):
            sid, latest = self._note_state(note_id)
            if based_on is not ANY and based_on != latest:
                raise ConflictError(f"note {note_id} was decided by someone else since it was shown; "
                                    "reload it and decide again")
            return self._insert_decision(note_id, sid, inspector, action, labels, note_text, None, None, client)

    def confirm(self, note_id: int, inspector: str, labels: Labels | None = None, rationale: str | None = None,
                client: str | None = None, based_on: object = ANY) -> Decision:
        """Confirm a note: ``accepted`` when ``labels`` are the suggestion's (or None), else ``corrected``."""
        suggested = self.note(note_id).suggested_labels()
        if labels is None:
            if suggested is None:
                raise ReviewError(f"note {note_id} has no suggestion to accept; give the labels")
            labels = suggested
        labels = self.vocabulary.validate(labels)
        try:
            same = suggested is not None and self.vocabulary.validate(suggested) == labels
        except ReviewError:  # the suggestion names a label the frameworks no longer have
            same = False
        return self.decide(note_id, inspector, "accepted" if same else "corrected", labels, rationale, client,
                           based_on)

    def skip(self, note_id: int, inspector: str, rationale: str | None = None, client: str | None = None,
             based_on: object = ANY) -> Decision:
        """Record that the inspector skipped the note (it stays unconfirmed and comes back later)."""
        return self.decide(note_id, inspector, "skipped", None, rationale, client, based_on)

    def undo(self, note_id: int, inspector: str, client: str | None = None, based_on: object = ANY) -> Decision | None:
        """Revert the decision in force on a note by appending an ``undone`` row; None if nothing to undo.

        The new row restores the decision that was in force before (its labels are copied), or no
        decision at all. Undoing repeatedly walks further back through the history.
        """
        inspector = (inspector or "").strip()
        if not inspector:
            raise ReviewError("an inspector name is needed to record an undo")
        with transaction(self.conn):
            sid, latest = self._note_state(note_id)
            if based_on is not ANY and based_on != latest:
                raise ConflictError(f"note {note_id} was decided by someone else since it was shown; reload it")
            rows = {d.id: d for d in self.history(note_id)}
            if latest is None or rows[latest].effective_id is None:
                return None
            target = rows[rows[latest].effective_id]
            before = [d for d in rows.values() if d.id < target.id]
            restore_id = before[-1].effective_id if before else None
            restored = rows[restore_id] if restore_id is not None else None
            return self._insert_decision(note_id, sid, inspector, "undone", restored.labels() if restored else None,
                                         None, target.id, restore_id, client)

    def last_decided_note(self, inspector: str, assessment_id: int | None = None) -> int | None:
        """The note of the inspector's latest decision that is still in force (what ``u`` undoes)."""
        where = "AND n.assessment_id = ?" if assessment_id is not None else ""
        args: list[Any] = [inspector.strip()] + ([assessment_id] if assessment_id is not None else [])
        for r in self.conn.execute(
                "SELECT d.id, d.note_id FROM decisions d JOIN notes n ON n.id = d.note_id "
                f"WHERE d.inspector = ? AND d.action != 'undone' {where} ORDER BY d.id DESC LIMIT 200", args):
            latest = self.history(r["note_id"])[-1]
            if latest.effective_id == r["id"]:
                return int(r["note_id"])
        return None

    def _note_state(self, note_id: int) -> tuple[int | None, int | None]:
        row = self.conn.execute(
            "SELECT n.id, (SELECT max(id) FROM suggestions WHERE note_id = n.id) AS sid, "
            "(SELECT max(id) FROM decisions WHERE note_id = n.id) AS did FROM notes n WHERE n.id = ?",
            (note_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no note {note_id} in {self.path}")
        return row["sid"], row["did"]

    def _insert_decision(self, note_id: int, suggestion_id: int | None, inspector: str, action: str,
                         labels: Labels | None, rationale: str | None, reverts: int | None, restores: int | None,
                         client: str | None) -> Decision:
        values = (labels.key_question, labels.statement, labels.evidence_category, labels.band,
                  ";".join(labels.principles)) if labels else (None, None, None, None, "")
        cur = self.conn.execute(
            "INSERT INTO decisions (note_id, suggestion_id, inspector, decided_at, action, key_question, statement, "
            "evidence_category, band, principles, rationale, reverts, restores, client) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
            (note_id, suggestion_id, inspector, utc_now(), action, *values, rationale, reverts, restores, client))
        return _decision(cur.fetchone())

    # -- export ------------------------------------------------------------------------------

    def confirmed_frame(self, assessment_id: int | None = None) -> pd.DataFrame:
        """Confirmed labels (accepted or corrected) in the training corpus's columns, as text."""
        where = "AND n.assessment_id = ?" if assessment_id is not None else ""
        args = [assessment_id] if assessment_id is not None else []
        rows = self.conn.execute(
            "SELECT n.id, n.source_file, n.source_row, n.source_id, n.text, a.name AS assessment, st.key_question, "
            "st.statement, st.evidence_category, st.band, st.principles, coalesce(n.service, a.service_type, '') "
            "AS service FROM note_status st JOIN notes n ON n.id = st.note_id "
            "JOIN assessments a ON a.id = n.assessment_id "
            f"WHERE st.status IN ('accepted', 'corrected') {where} ORDER BY n.id", args).fetchall()
        records = [{"note_id": r["source_id"] or f"{r['assessment']}/{r['source_file']}#{r['source_row']}",
                    "text": r["text"], "key_question": r["key_question"], "statement": r["statement"],
                    "evidence_category": r["evidence_category"], "band": r["band"], "principles": r["principles"] or "",
                    "service": r["service"] or ""} for r in rows]
        return pd.DataFrame(records, columns=list(CORPUS_COLUMNS), dtype=str)

    def export(self, output: Path | str, assessment_id: int | None = None) -> int:
        """Write confirmed labels to ``output`` (.csv or .jsonl; written atomically); return the row count."""
        output = Path(output)
        if table_format(output) not in ("csv", "jsonl"):
            raise InputFileError(f"{output}: export writes .csv or .jsonl")
        frame = self.confirmed_frame(assessment_id)
        write_table(frame, output)
        return len(frame)


def _resolve(suggester: SuggesterSource | None) -> SuggesterLike:
    if suggester is None:
        raise ReviewError("new notes need suggestions but no suggester was given")
    if isinstance(suggester, SuggesterLike):
        return suggester
    made = suggester()
    if not isinstance(made, SuggesterLike):
        raise ReviewError("the suggester factory did not return a suggester")
    return made


# -- module-level conveniences (the names other modules import) --------------------------------

def open_store(db: ReviewStore | Path | str, create: bool = True) -> ReviewStore:
    """``db`` as a store: a store is returned as is, a path is opened."""
    return db if isinstance(db, ReviewStore) else ReviewStore.open(db, create=create)


def import_notes(db: ReviewStore | Path | str, input_file: Path | str, text_column: str,
                 suggester: SuggesterSource, assessment: str | None = None, **options: Any) -> ImportSummary:
    """Suggest and store the notes of ``input_file`` in batches (see :meth:`ReviewStore.import_notes`)."""
    store = open_store(db)
    try:
        return store.import_notes(input_file, text_column, suggester, assessment, **options)
    finally:
        if store is not db:
            store.close()


def export_confirmed(db: ReviewStore | Path | str, output: Path | str, assessment: str | None = None) -> int:
    """Write the confirmed labels of ``db`` (optionally one assessment) to ``output``; return the count."""
    store = open_store(db, create=False)
    try:
        aid = store.assessment(assessment).id if assessment else None
        return store.export(output, aid)
    finally:
        if store is not db:
            store.close()


def confirmed_labels(db_path: Path | str) -> pd.DataFrame:
    """The inspectors' confirmed labels as a DataFrame with the corpus columns (for ``train``)."""
    with ReviewStore.open(db_path, create=False) as store:
        return store.confirmed_frame()
