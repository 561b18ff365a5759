"""Read-only queries: the review queue, one note, progress, the summary per key question, the export."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.defaults import ORDERS
from evidencenlp.review import ledger
from evidencenlp.review.audit import HEAD_COLUMN
from evidencenlp.review.decisions import read_history
from evidencenlp.review.labels import Vocabulary
from evidencenlp.review.models import CONFIRMED, STATUSES, Note, NotFoundError, QueueItem, ReviewError
from evidencenlp.tabular import table_format, write_table
from evidencenlp.training_data import CORPUS_COLUMNS

#: the columns an export adds after the training corpus's columns (the last: the audit log's head, the
#: same on every row, to check the database against later with ``review verify --expect``)
EXPORT_EXTRA_COLUMNS: tuple[str, ...] = ("assessment", "source_file", "source_row", "source_id", "location", "date",
                                         "action", "inspector", "decided_at", "rationale", HEAD_COLUMN)
SNIPPET_CHARS = 160


@contextmanager
def snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A read transaction: every query inside sees the same state of the file (WAL snapshot)."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        conn.execute("COMMIT")


def _scope(assessment_id: int | None, joiner: str) -> tuple[str, list[Any]]:
    """SQL restricting notes ``n`` to one assessment (or nothing), and its arguments."""
    if assessment_id is None:
        return "", []
    return f"{joiner} n.assessment_id = ?", [assessment_id]


class Queries:
    """Reads one review database (the connection is the store's); never writes."""

    def __init__(self, conn: sqlite3.Connection, path: Path, vocabulary: Callable[[], Vocabulary]) -> None:
        self.conn = conn
        self.path = path
        self._vocabulary = vocabulary

    def queue(self, assessment_id: int | None = None, order: str = "file", statuses: Iterable[str] | None = None,
              needs_review_only: bool = False, undecided_first: bool = False) -> list[QueueItem]:
        """Notes to review. ``order``: ``file`` (import order: file, then row) or ``uncertain`` (least confident first).

        ``undecided_first`` puts pending notes first, then skipped ones, then decided ones.
        """
        if order not in ORDERS:
            raise ReviewError(f"unknown order {order!r}; expected one of {', '.join(ORDERS)}")
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
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
               "st.band AS d_band, n.source_id, n.location, n.note_date FROM notes n JOIN note_status st ON st.note_id = n.id "
               "LEFT JOIN current_suggestions cs ON cs.note_id = n.id "
               f"WHERE {' AND '.join(where)} ORDER BY {', '.join(keys)}")
        return [QueueItem(r["id"], r["source_file"], r["source_row"], r["snippet"], r["status"],
                          bool(r["needs_review"]), r["confidence"], r["statement"], r["band"],
                          r["d_statement"] if r["status"] in CONFIRMED else None,
                          r["d_band"] if r["status"] in CONFIRMED else None, r["source_id"], r["location"],
                          r["note_date"])
                for r in self.conn.execute(sql, args)]

    def note(self, note_id: int) -> Note:
        """A note with its current suggestion, status, current decision and full history."""
        row = self.conn.execute(
            "SELECT n.*, st.status, cs.id AS sid, cs.payload, cs.confidence, cs.needs_review FROM notes n "
            "JOIN note_status st ON st.note_id = n.id LEFT JOIN current_suggestions cs ON cs.note_id = n.id "
            "WHERE n.id = ?", (note_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no note {note_id} in {self.path}")
        history = tuple(read_history(self.conn, note_id))
        return Note(row["id"], row["assessment_id"], row["source_file"], row["source_row"], row["source_id"],
                    row["service"], row["text"], row["imported_at"], row["status"], row["sid"],
                    json.loads(row["payload"]) if row["payload"] else None, row["confidence"],
                    bool(row["needs_review"]), history[-1] if history else None, history, row["location"],
                    row["note_date"])

    def progress(self, assessment_id: int | None = None) -> dict[str, int]:
        """Counts of notes by status, plus ``total`` and ``needs_review``: flagged suggestions still undecided.

        A flagged note that an inspector confirmed or corrected no longer needs review, so it is not counted.
        """
        where, args = _scope(assessment_id, "WHERE")
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.conn.execute(f"SELECT st.status, count(*) FROM notes n JOIN note_status st ON "
                                   f"st.note_id = n.id {where} GROUP BY st.status", args):
            counts[r[0]] = r[1]
        counts["total"] = sum(counts[s] for s in STATUSES)
        counts["confirmed"] = counts["accepted"] + counts["corrected"]
        counts["needs_review"] = self.conn.execute(
            f"SELECT count(*) FROM notes n JOIN current_suggestions cs ON cs.note_id = n.id "
            f"JOIN note_status st ON st.note_id = n.id {where} "
            f"{'AND' if where else 'WHERE'} cs.needs_review = 1 AND st.status IN ('pending', 'skipped')",
            args).fetchone()[0]
        return counts

    def summary(self, assessment_id: int | None = None) -> list[dict[str, Any]]:
        """Per key question: how many notes are confirmed, their bands, and their statements."""
        vocab = self._vocabulary()
        where, args = _scope(assessment_id, "AND")
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

    def confirmed_frame(self, assessment_id: int | None = None) -> pd.DataFrame:
        """Confirmed labels (accepted or corrected) in the training corpus's columns, as text."""
        where, args = _scope(assessment_id, "AND")
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

    def export_frame(self, assessment_id: int | None = None) -> pd.DataFrame:
        """:meth:`confirmed_frame` plus what joins each row back to its source and its decision.

        After the corpus columns: ``assessment``, ``source_file``, ``source_row`` (1-based data row),
        ``source_id`` (the file's id column), ``location`` and ``date`` (the file's columns),
        ``action``, ``inspector``, ``decided_at`` and ``rationale`` of the decision in force; and
        ``log_head``, the audit log's head when the rows were read (:func:`evidencenlp.review.ledger.head`).
        """
        with snapshot(self.conn):
            return self._export_frame(assessment_id, str(ledger.head(self.conn)))

    def _export_frame(self, assessment_id: int | None, head: str) -> pd.DataFrame:
        where, args = _scope(assessment_id, "AND")
        rows = self.conn.execute(
            "SELECT n.id, n.source_file, n.source_row, n.source_id, n.location, n.note_date, a.name AS assessment, "
            "st.status, r.inspector, r.decided_at, r.rationale FROM note_status st JOIN notes n ON n.id = st.note_id "
            "JOIN assessments a ON a.id = n.assessment_id JOIN decisions d ON d.id = st.decision_id "
            "JOIN decisions r ON r.id = coalesce(d.restores, d.id) "  # an undo stands for the decision it restored
            f"WHERE st.status IN ('accepted', 'corrected') {where} ORDER BY n.id", args).fetchall()
        extra = pd.DataFrame(
            [{"assessment": r["assessment"], "source_file": r["source_file"], "source_row": str(r["source_row"]),
              "source_id": r["source_id"] or "", "location": r["location"] or "", "date": r["note_date"] or "",
              "action": r["status"], "inspector": r["inspector"] or "", "decided_at": r["decided_at"] or "",
              "rationale": r["rationale"] or "", HEAD_COLUMN: head} for r in rows],
            columns=list(EXPORT_EXTRA_COLUMNS), dtype=str)
        base = self.confirmed_frame(assessment_id)
        return pd.concat([base.reset_index(drop=True), extra.reset_index(drop=True)], axis=1)

    def export(self, output: Path | str, assessment_id: int | None = None) -> int:
        """Write confirmed labels (:meth:`export_frame`) to ``output`` atomically; the row count.

        Any format ``tag`` writes (.csv .tsv .xlsx .jsonl .parquet, by extension), through the same
        writer: spreadsheet formats get their formulas neutralised.
        """
        return self.export_with_head(output, assessment_id)[0]

    def export_with_head(self, output: Path | str, assessment_id: int | None = None) -> tuple[int, ledger.Head]:
        """:meth:`export`, and the audit log's head written in the file (the state the rows were read in)."""
        output = Path(output)
        table_format(output)  # refuses an unknown extension with one clear line
        with snapshot(self.conn):
            head = ledger.head(self.conn)
            frame = self._export_frame(assessment_id, str(head))
        write_table(frame, output)
        return len(frame), head
