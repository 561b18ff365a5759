"""The decisions in force: for each note, what stands now (read-only; one statement of the rule).

The rule itself lives in the schema's ``note_status`` view: a note's latest decision row stands; an
``undone`` row carries the labels of the decision it restores and stands for that decision's action
(or for no decision when it restores none). This module is the one Python reader of that view for
callers outside the review store (``evidencenlp assess``, the review page's indicative rating): it
returns every note of an assessment with its latest suggestion and, when an inspector accepted or
corrected it, the labels in force.

>>> with open_read_only("review.sqlite") as conn:                    # doctest: +SKIP
...     notes = decisions_in_force(conn, assessment_id=1)
>>> notes[0].confirmed, notes[0].band                       # doctest: +SKIP
(True, 'good')

Nothing here writes, creates or migrates a database.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from evidencenlp.errors import InputFileError
from evidencenlp.review.models import CONFIRMED

__all__ = ["NoteInForce", "decisions_in_force", "open_read_only", "store_tables_missing"]

#: the tables a review database has (anything else is refused)
REQUIRED_TABLES: tuple[str, ...] = ("assessments", "notes", "suggestions", "decisions")


@dataclass(frozen=True)
class NoteInForce:
    """One note and what stands for it: the inspector's labels when confirmed, else its latest suggestion.

    Attributes:
        note_id: the note's id in the store; ``assessment_id`` and ``assessment`` (its name).
        source_file, source_row, source_id: where the note came from (the file's name, its 1-based data
            row, the file's id column).
        service: the note's service, when known; ``service_type`` its assessment's. ``text``: the stored
            (redacted) note text.
        status: ``pending``, ``accepted``, ``corrected`` or ``skipped`` (the decision in force).
        decision_id: the latest decision row (None when none).
        key_question … principles: the labels in force when confirmed, else the latest suggestion's
            (None when the note has neither).
        suggestion_confidence: the latest suggestion's stored confidence (None without one), and
            its key question, statement and band probabilities; ``needs_review`` its flag.
    """

    note_id: int
    assessment_id: int
    assessment: str
    source_file: str
    source_row: int
    source_id: str | None
    service: str | None
    service_type: str | None
    text: str
    status: str
    decision_id: int | None
    key_question: str | None
    statement: str | None
    evidence_category: str | None
    band: str | None
    principles: tuple[str, ...]
    suggestion_confidence: float | None
    suggestion_scores: tuple[float | None, float | None, float | None]
    needs_review: bool
    #: True when an accepted or corrected decision (with a statement and band) is in force
    confirmed: bool


def store_tables_missing(conn: sqlite3.Connection) -> list[str]:
    """The review tables a database lacks (empty for a review database)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [t for t in REQUIRED_TABLES if t not in tables]


@contextmanager
def open_read_only(path: Path | str) -> Iterator[sqlite3.Connection]:
    """Open a review database read-only (never creates, migrates or writes); errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: review database not found")
    uri = f"file:{quote(str(path.resolve()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.DatabaseError as exc:  # pragma: no cover - mode=ro on an existing file opens lazily
        raise InputFileError(f"{path}: not a readable review database ({exc})") from None
    try:
        conn.row_factory = sqlite3.Row
        try:
            missing = store_tables_missing(conn)
        except sqlite3.DatabaseError as exc:
            raise InputFileError(f"{path}: not a readable review database ({exc})") from None
        if missing:
            raise InputFileError(f"{path}: not an evidencenlp review database (no table {', '.join(missing)})")
        yield conn
    finally:
        conn.close()


_SQL = """
SELECT n.id AS note_id, n.assessment_id, a.name AS assessment, n.source_file, n.source_row, n.source_id,
       n.service, a.service_type, n.text,
       st.status, st.decision_id,
       st.key_question AS d_key_question, st.statement AS d_statement, st.evidence_category AS d_category,
       st.band AS d_band, st.principles AS d_principles,
       cs.key_question AS s_key_question, cs.statement AS s_statement, cs.evidence_category AS s_category,
       cs.band AS s_band, cs.principles AS s_principles, cs.confidence, cs.key_question_score,
       cs.statement_score, cs.band_score, cs.needs_review
FROM notes n JOIN assessments a ON a.id = n.assessment_id
JOIN note_status st ON st.note_id = n.id
LEFT JOIN current_suggestions cs ON cs.note_id = n.id
"""


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (value or "").split(";") if p.strip())


def _note(r: sqlite3.Row) -> NoteInForce:
    confirmed = r["status"] in CONFIRMED and bool(r["d_statement"]) and bool(r["d_band"])
    p = "d_" if confirmed else "s_"
    return NoteInForce(
        note_id=int(r["note_id"]), assessment_id=int(r["assessment_id"]), assessment=str(r["assessment"]),
        source_file=str(r["source_file"] or ""), source_row=int(r["source_row"]), source_id=r["source_id"] or None,
        service=r["service"] or None, service_type=r["service_type"] or None,
        text=str(r["text"] or ""), status=str(r["status"]),
        decision_id=r["decision_id"], key_question=r[p + "key_question"] or None, statement=r[p + "statement"] or None,
        evidence_category=r[p + "category"] or None, band=r[p + "band"] or None, principles=_ids(r[p + "principles"]),
        suggestion_confidence=None if r["confidence"] is None else float(r["confidence"]),
        suggestion_scores=(r["key_question_score"], r["statement_score"], r["band_score"]),
        needs_review=bool(r["needs_review"]) and not confirmed, confirmed=confirmed)


def decisions_in_force(conn: sqlite3.Connection, assessment_id: int | None = None) -> list[NoteInForce]:
    """Every note (of one assessment, or all) with what stands for it, in import order (note id).

    Reads the ``note_status`` and ``current_suggestions`` views only; never writes.
    """
    where, args = ("WHERE n.assessment_id = ?", [assessment_id]) if assessment_id is not None else ("", [])
    return [_note(r) for r in conn.execute(f"{_SQL} {where} ORDER BY n.id", args)]
