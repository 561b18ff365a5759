"""The decision log: confirm (accept or correct), skip and undo, appended one row at a time.

A note's *current* decision is its latest decision row (highest id). An ``undone`` row reverts the
decision that was in force and restores the one before it (copying its labels), so the latest row
always says what stands; the whole history stays in the table (triggers refuse UPDATE and DELETE).

Labels are checked here, in Python, against the store's :class:`~evidencenlp.review.labels.Vocabulary`
before anything is written. What the tool suggested is never refused: a stored suggestion whose
statement lies outside its key question (older data) is recorded under the statement's own key
question.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidencenlp.review import ledger
from evidencenlp.review.chain import HASHED_COLUMNS, seal
from evidencenlp.review.db import transaction, utc_now
from evidencenlp.review.labels import Vocabulary
from evidencenlp.review.models import (
    ACTIONS,
    CONFIRMED,
    ConflictError,
    Decision,
    Labels,
    NotFoundError,
    ReviewError,
    labels_of_suggestion,
)
from evidencenlp.review.redaction import redact_text

MAX_RATIONALE = 4000
#: sentinel for "do not check which decision the client saw"
ANY = object()


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(p for p in (value or "").split(";") if p)


def decision_from_row(row: sqlite3.Row) -> Decision:
    """A ``decisions`` row as a :class:`Decision`."""
    return Decision(row["id"], row["note_id"], row["suggestion_id"], row["inspector"], row["decided_at"],
                    row["action"], row["key_question"], row["statement"], row["evidence_category"], row["band"],
                    _split(row["principles"]), row["rationale"], row["reverts"], row["restores"], row["client"])


def read_history(conn: sqlite3.Connection, note_id: int) -> list[Decision]:
    """Every decision row of a note, oldest first (the audit trail)."""
    return [decision_from_row(r) for r in conn.execute(
        "SELECT * FROM decisions WHERE note_id = ? ORDER BY id", (note_id,))]


class DecisionLog:
    """Records decisions in one review database (the connection is the store's)."""

    def __init__(self, conn: sqlite3.Connection, path: Path, vocabulary: Callable[[], Vocabulary]) -> None:
        self.conn = conn
        self.path = path
        self._vocabulary = vocabulary

    # -- reading -------------------------------------------------------------------------------

    def history(self, note_id: int) -> list[Decision]:
        """Every decision row of a note, oldest first."""
        return read_history(self.conn, note_id)

    def state(self, note_id: int) -> tuple[int | None, int | None]:
        """The note's current suggestion id and latest decision id; :class:`NotFoundError` for no note."""
        row = self.conn.execute(
            "SELECT n.id, (SELECT max(id) FROM suggestions WHERE note_id = n.id) AS sid, "
            "(SELECT max(id) FROM decisions WHERE note_id = n.id) AS did FROM notes n WHERE n.id = ?",
            (note_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no note {note_id} in {self.path}")
        return row["sid"], row["did"]

    def suggested(self, note_id: int) -> Labels | None:
        """The labels of the note's current suggestion as stored (None: no suggestion)."""
        row = self.conn.execute(
            "SELECT n.id, cs.payload FROM notes n LEFT JOIN current_suggestions cs ON cs.note_id = n.id "
            "WHERE n.id = ?", (note_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"no note {note_id} in {self.path}")
        return labels_of_suggestion(json.loads(row["payload"])) if row["payload"] else None

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

    # -- writing -------------------------------------------------------------------------------

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
            labels = self._vocabulary().validate(labels)
        else:
            labels = None
        note_text = None if rationale is None else redact_text(str(rationale).strip()[:MAX_RATIONALE])[0] or None
        with transaction(self.conn):
            sid, latest = self.state(note_id)
            if based_on is not ANY and based_on != latest:
                raise ConflictError(f"note {note_id} was decided by someone else since it was shown; "
                                    "reload it and decide again")
            return self._insert(note_id, sid, inspector, action, labels, note_text, None, None, client)

    def confirm(self, note_id: int, inspector: str, labels: Labels | None = None, rationale: str | None = None,
                client: str | None = None, based_on: object = ANY) -> Decision:
        """Confirm a note: ``accepted`` when ``labels`` are the suggestion's (or None), else ``corrected``.

        Labels that keep the suggestion's key question and statement as suggested are recorded with
        the statement's own key question, so a suggestion is never refused for pairing a statement
        with another key question.
        """
        suggested = self.suggested(note_id)
        if labels is None:
            if suggested is None:
                raise ReviewError(f"note {note_id} has no suggestion to accept; give the labels")
            labels = suggested
        vocabulary = self._vocabulary()
        if suggested is not None and (labels.key_question, labels.statement) == (suggested.key_question,
                                                                                 suggested.statement):
            labels = vocabulary.with_own_key_question(labels)
        labels = vocabulary.validate(labels)
        try:
            same = suggested is not None and vocabulary.validate(vocabulary.with_own_key_question(suggested)) == labels
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
            sid, latest = self.state(note_id)
            if based_on is not ANY and based_on != latest:
                raise ConflictError(f"note {note_id} was decided by someone else since it was shown; reload it")
            rows = {d.id: d for d in self.history(note_id)}
            if latest is None:
                return None
            in_force = rows[latest].effective_id
            if in_force is None:
                return None
            target = rows[in_force]
            before = [d for d in rows.values() if d.id < target.id]
            restore_id = before[-1].effective_id if before else None
            restored = rows[restore_id] if restore_id is not None else None
            return self._insert(note_id, sid, inspector, "undone", restored.labels() if restored else None,
                                None, target.id, restore_id, client)

    def _insert(self, note_id: int, suggestion_id: int | None, inspector: str, action: str, labels: Labels | None,
                rationale: str | None, reverts: int | None, restores: int | None, client: str | None) -> Decision:
        """Append one row, sealed in the hash chain and the ledger (call inside the write transaction)."""
        values = (labels.key_question, labels.statement, labels.evidence_category, labels.band,
                  ";".join(labels.principles)) if labels else (None, None, None, None, "")
        row: dict[str, Any] = dict(zip(("key_question", "statement", "evidence_category", "band", "principles"),
                                       values, strict=True))
        row.update(note_id=note_id, suggestion_id=suggestion_id, inspector=inspector, decided_at=utc_now(),
                   action=action, rationale=rationale, reverts=reverts, restores=restores, client=client)
        sealed = seal(self.conn, row)
        columns = (*HASHED_COLUMNS, "prev_hash", "hash")
        cur = self.conn.execute(
            f"INSERT INTO decisions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))}) RETURNING *",
            [sealed[c] for c in columns])
        decision = decision_from_row(cur.fetchone())
        cur.close()
        ledger.append(self.conn, "decisions", decision.id)
        return decision
