"""The review store: one database connection, and the parts that use it.

Usage::

    with ReviewStore.open("review.sqlite") as store:
        store.import_notes(Path("notes.csv"), "text", Suggester.load(), assessment="Oak House 2025")
        item = store.queue(undecided_first=True)[0]
        store.confirm(item.note_id, "J Smith")                       # accept the suggestion
        store.confirm(item.note_id, "J Smith", labels=...)           # or correct it (a new row)
        store.undo(item.note_id, "J Smith")                          # an undo is a new row too
        store.export(Path("confirmed.csv"))

:class:`ReviewStore` owns the connection and composes four parts, each usable on its own:

- ``store.registry`` — :class:`~evidencenlp.review.assessments.AssessmentRegistry` (assessments);
- ``store.importer`` — :class:`~evidencenlp.review.importer.Importer` (notes and suggestions in);
- ``store.decisions`` — :class:`~evidencenlp.review.decisions.DecisionLog` (the append-only log);
- ``store.queries`` — :class:`~evidencenlp.review.queries.Queries` (queue, note, summary, export).

Its methods are the ones callers have always used; each hands over to one part.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.review import guards, ledger
from evidencenlp.review.assessments import AssessmentRegistry
from evidencenlp.review.audit import AuditReport, audit
from evidencenlp.review.db import connect, transaction
from evidencenlp.review.decisions import ANY, MAX_RATIONALE, DecisionLog
from evidencenlp.review.importer import DEFAULT_BATCH, Importer, SuggesterLike, SuggesterSource
from evidencenlp.review.in_force import NoteInForce, decisions_in_force
from evidencenlp.review.labels import Vocabulary, load_vocabulary
from evidencenlp.review.models import Assessment, Decision, ImportSummary, Labels, Note, QueueItem
from evidencenlp.review.queries import ORDERS, SNIPPET_CHARS, Queries
from evidencenlp.review.redaction import redact_text

__all__ = ["ANY", "DEFAULT_BATCH", "MAX_RATIONALE", "ORDERS", "SNIPPET_CHARS", "ReviewStore", "SuggesterLike",
           "SuggesterSource", "confirmed_labels", "export_confirmed", "import_notes", "open_store", "redact_text"]


class ReviewStore:
    """A review database file. Open with :meth:`open`; use as a context manager to close it."""

    def __init__(self, path: Path | str, create: bool = True, vocabulary: Vocabulary | None = None,
                 check_guards: bool = True) -> None:
        self.path = Path(path)
        self.conn = connect(self.path, create=create, check_guards=check_guards)
        self._vocabulary = vocabulary
        self.registry = AssessmentRegistry(self.conn, self.path)
        self.importer = Importer(self.conn, self.registry)
        self.decisions = DecisionLog(self.conn, self.path, self._get_vocabulary)
        self.queries = Queries(self.conn, self.path, self._get_vocabulary)

    @classmethod
    def open(cls, path: Path | str, create: bool = True, vocabulary: Vocabulary | None = None,
             check_guards: bool = True) -> ReviewStore:
        """Open (creating or migrating when ``create``) the database at ``path``.

        ``check_guards=False`` opens a file whose triggers are missing or altered (to verify it).
        """
        return cls(path, create=create, vocabulary=vocabulary, check_guards=check_guards)

    def close(self) -> None:
        """Close the connection (committed work is already on disk)."""
        self.conn.close()

    def __enter__(self) -> ReviewStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get_vocabulary(self) -> Vocabulary:
        if self._vocabulary is None:
            self._vocabulary = load_vocabulary()
        return self._vocabulary

    @property
    def vocabulary(self) -> Vocabulary:
        """Label options (loaded from the framework files on first use)."""
        return self._get_vocabulary()

    # -- assessments -------------------------------------------------------------------------

    def ensure_assessment(self, name: str, location: str | None = None, service_type: str | None = None,
                          start_date: str | None = None, end_date: str | None = None) -> Assessment:
        """The assessment called ``name``, created if new; details given (not None) are updated."""
        return self.registry.ensure(name, location, service_type, start_date, end_date)

    def assessment(self, ident: int | str) -> Assessment:
        """An assessment by id or name; :class:`NotFoundError` when there is none."""
        return self.registry.get(ident)

    def assessments(self) -> list[Assessment]:
        """Every assessment, oldest first."""
        return self.registry.all()

    # -- import ------------------------------------------------------------------------------

    def import_notes(self, input_file: Path | str, text_column: str = "text",
                     suggester: SuggesterSource | None = None, assessment: str | None = None, *,
                     location: str | None = None, service_type: str | None = None, start_date: str | None = None,
                     end_date: str | None = None, source_name: str | None = None, id_column: str | None = None,
                     location_column: str | None = None, date_column: str | None = None,
                     batch_size: int = DEFAULT_BATCH, encoding: str = "utf-8",
                     progress: Callable[[int], None] | None = None, max_rows: int | None = None) -> ImportSummary:
        """Redact, suggest and store every note of ``input_file`` (see :meth:`Importer.import_notes`)."""
        return self.importer.import_notes(
            input_file, text_column, suggester, assessment, location=location, service_type=service_type,
            start_date=start_date, end_date=end_date, source_name=source_name, id_column=id_column,
            location_column=location_column, date_column=date_column, batch_size=batch_size, encoding=encoding,
            progress=progress, max_rows=max_rows)

    def resuggest(self, note_ids: Iterable[int], suggester: SuggesterLike) -> int:
        """Store a fresh suggestion (e.g. from retrained heads) for each note; decisions are untouched."""
        return self.importer.resuggest(note_ids, suggester)

    # -- reading -----------------------------------------------------------------------------

    def queue(self, assessment_id: int | None = None, order: str = "file", statuses: Iterable[str] | None = None,
              needs_review_only: bool = False, undecided_first: bool = False) -> list[QueueItem]:
        """Notes to review, in ``order`` (``file`` or ``uncertain``); see :meth:`Queries.queue`."""
        return self.queries.queue(assessment_id, order, statuses, needs_review_only, undecided_first)

    def history(self, note_id: int) -> list[Decision]:
        """Every decision row of a note, oldest first (the audit trail)."""
        return self.decisions.history(note_id)

    def note(self, note_id: int) -> Note:
        """A note with its current suggestion, status, current decision and full history."""
        return self.queries.note(note_id)

    def progress(self, assessment_id: int | None = None) -> dict[str, int]:
        """Counts of notes by status, plus ``total`` and ``needs_review`` (flagged suggestions still undecided)."""
        return self.queries.progress(assessment_id)

    def summary(self, assessment_id: int | None = None) -> list[dict[str, Any]]:
        """Per key question: how many notes are confirmed, their bands, and their statements."""
        return self.queries.summary(assessment_id)

    def decisions_in_force(self, assessment_id: int | None = None) -> list[NoteInForce]:
        """Every note with what stands for it (see :func:`~evidencenlp.review.in_force.decisions_in_force`)."""
        return decisions_in_force(self.conn, assessment_id)

    # -- deciding ----------------------------------------------------------------------------

    def decide(self, note_id: int, inspector: str, action: str, labels: Labels | None = None,
               rationale: str | None = None, client: str | None = None, based_on: object = ANY) -> Decision:
        """Append one decision (``accepted``, ``corrected`` or ``skipped``); see :meth:`DecisionLog.decide`."""
        return self.decisions.decide(note_id, inspector, action, labels, rationale, client, based_on)

    def confirm(self, note_id: int, inspector: str, labels: Labels | None = None, rationale: str | None = None,
                client: str | None = None, based_on: object = ANY) -> Decision:
        """Confirm a note: ``accepted`` when ``labels`` are the suggestion's (or None), else ``corrected``."""
        return self.decisions.confirm(note_id, inspector, labels, rationale, client, based_on)

    def skip(self, note_id: int, inspector: str, rationale: str | None = None, client: str | None = None,
             based_on: object = ANY) -> Decision:
        """Record that the inspector skipped the note (it stays unconfirmed and comes back later)."""
        return self.decisions.skip(note_id, inspector, rationale, client, based_on)

    def undo(self, note_id: int, inspector: str, client: str | None = None, based_on: object = ANY) -> Decision | None:
        """Revert the decision in force on a note by appending an ``undone`` row; None if nothing to undo."""
        return self.decisions.undo(note_id, inspector, client, based_on)

    def last_decided_note(self, inspector: str, assessment_id: int | None = None) -> int | None:
        """The note of the inspector's latest decision that is still in force (what ``u`` undoes)."""
        return self.decisions.last_decided_note(inspector, assessment_id)

    # -- export ------------------------------------------------------------------------------

    def confirmed_frame(self, assessment_id: int | None = None) -> pd.DataFrame:
        """Confirmed labels (accepted or corrected) in the training corpus's columns, as text."""
        return self.queries.confirmed_frame(assessment_id)

    def export_frame(self, assessment_id: int | None = None) -> pd.DataFrame:
        """What :meth:`export` writes: the corpus columns, then source row, location, date and the decision."""
        return self.queries.export_frame(assessment_id)

    def export(self, output: Path | str, assessment_id: int | None = None) -> int:
        """Write confirmed labels to ``output`` (.csv or .jsonl; written atomically); return the row count."""
        return self.queries.export(output, assessment_id)

    def export_with_head(self, output: Path | str, assessment_id: int | None = None) -> tuple[int, ledger.Head]:
        """:meth:`export`, and the audit log's head written into the file (``log_head`` column)."""
        return self.queries.export_with_head(output, assessment_id)

    # -- audit -------------------------------------------------------------------------------

    def verify(self, expected: ledger.Head | None = None) -> AuditReport:
        """Check the triggers, the decision chain and the ledger; and that the log holds ``expected``, if given.

        See :func:`evidencenlp.review.audit.audit`.
        """
        return audit(self.conn, expected)

    def head(self) -> ledger.Head:
        """The ledger's head now (entry count and last hash): keep it to check the file later."""
        return ledger.head(self.conn)

    def restore_triggers(self) -> list[str]:
        """Put back the expected triggers; return what was missing or altered (see :mod:`~evidencenlp.review.guards`)."""
        with transaction(self.conn):
            return guards.restore(self.conn)


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
