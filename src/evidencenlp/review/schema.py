"""The review database's SQL: tables, triggers, views, and the migrations between schema versions.

Only *structural* rules live in the schema: an action is one of four, a confirmed decision names all
four labels, an undo says what it reverts, dates are dates, decisions are append-only. Which labels
exist is the frameworks' business: the store checks labels in Python against its
:class:`~evidencenlp.review.labels.Vocabulary` before it writes, so building the schema never loads
a framework file and a new sector framework needs no migration.

Versions (``PRAGMA user_version``):

1. the first release. Its ``decisions`` table also had CHECK constraints listing the key questions,
   evidence categories and bands of the frameworks installed when the file was created.
2. the same tables without those vocabulary CHECKs. :data:`MIGRATIONS` ``[2]`` rebuilds
   ``decisions`` from a version 1 file, keeping every row, every id and the AUTOINCREMENT counter.
3. the audit trail made tamper-evident, and the user's columns kept: ``decisions`` gets ``prev_hash``
   and ``hash`` (a SHA-256 chain, :mod:`evidencenlp.review.chain`), ``notes`` gets ``location`` and
   ``note_date`` (from the imported file's columns). Triggers now also refuse INSERT OR REPLACE of an
   existing decision, note or suggestion, and any UPDATE of a note. :data:`V3_BEFORE` and
   :data:`V3_AFTER` run around the Python step that computes the chain for the rows already there.

4. every row sealed: the ``ledger`` table (:mod:`evidencenlp.review.ledger`) chains every note,
   suggestion and decision, so an edit of a note's text or a suggestion's band shows as well as an
   edit of a decision. Notes and suggestions can no longer be deleted, nor ledger entries changed.
   The migration first checks that the version 3 triggers are all there as written (else it refuses,
   leaving the file unchanged), then seals the rows already stored (:data:`V4_TABLE`, the Python
   backfill, then :data:`V4_GUARDS`). :data:`GUARDS` is the full set of triggers a current file has;
   :mod:`evidencenlp.review.guards` compares a file's triggers with it every time the file is opened.

A new file is created with :data:`BASE_SCHEMA` (version 2) and migrated to the latest version in the
same transaction, so new and old files end with the same tables and triggers.
"""

from __future__ import annotations

import re
import sqlite3

SCHEMA_VERSION = 4


def statements(script: str) -> list[str]:
    """Split a schema script into complete statements (``executescript`` would commit our transaction)."""
    out: list[str] = []
    buf = ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


_TABLES = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE assessments (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE CHECK (length(trim(name)) > 0),
    location     TEXT,
    service_type TEXT,
    start_date   TEXT CHECK (start_date IS NULL OR date(start_date) IS start_date),
    end_date     TEXT CHECK (end_date IS NULL OR date(end_date) IS end_date),
    created_at   TEXT NOT NULL,
    CHECK (start_date IS NULL OR end_date IS NULL OR start_date <= end_date)
);

-- text is the REDACTED note; the unredacted text is never stored
CREATE TABLE notes (
    id            INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    source_file   TEXT NOT NULL,
    source_row    INTEGER NOT NULL CHECK (source_row >= 1),
    source_id     TEXT,
    service       TEXT,
    text          TEXT NOT NULL,
    text_sha256   TEXT NOT NULL,
    redactions    TEXT NOT NULL DEFAULT '{}',
    imported_at   TEXT NOT NULL,
    UNIQUE (assessment_id, source_file, source_row)
);

CREATE TABLE suggestions (
    id                      INTEGER PRIMARY KEY,
    note_id                 INTEGER NOT NULL REFERENCES notes(id),
    created_at              TEXT NOT NULL,
    model_version           TEXT NOT NULL,
    framework_versions      TEXT NOT NULL DEFAULT '{}',
    key_question            TEXT,
    key_question_score      REAL,
    statement               TEXT,
    statement_score         REAL,
    statement_top3          TEXT,
    evidence_category       TEXT,
    evidence_category_score REAL,
    band                    TEXT,
    band_score              REAL,
    principles              TEXT NOT NULL DEFAULT '',
    confidence              REAL NOT NULL,
    needs_review            INTEGER NOT NULL CHECK (needs_review IN (0, 1)),
    evidence_framework      TEXT,
    evidence_item           TEXT,
    evidence_text           TEXT,
    payload                 TEXT NOT NULL
);
CREATE INDEX suggestions_note ON suggestions (note_id, id);

CREATE TRIGGER suggestions_no_update BEFORE UPDATE ON suggestions
BEGIN
    SELECT RAISE(ABORT, 'suggestions are immutable: store a new suggestion instead');
END;
CREATE TRIGGER notes_text_immutable BEFORE UPDATE OF text, text_sha256, source_file, source_row ON notes
BEGIN
    SELECT RAISE(ABORT, 'a note''s text and source cannot be changed');
END;
"""

#: notes and suggestions: no UPDATE of a note, no INSERT OR REPLACE over an existing row (version 3)
_ROW_GUARDS = """
CREATE TRIGGER notes_immutable BEFORE UPDATE ON notes
BEGIN
    SELECT RAISE(ABORT, 'a note cannot be changed: its text, source and identity are fixed');
END;
CREATE TRIGGER notes_no_replace BEFORE INSERT ON notes
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM notes WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'a note cannot be replaced: its text, source and identity are fixed');
END;
CREATE TRIGGER suggestions_no_replace BEFORE INSERT ON suggestions
WHEN NEW.id IS NOT NULL AND EXISTS (SELECT 1 FROM suggestions WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'suggestions are immutable: store a new suggestion instead');
END;
"""

#: the columns of ``decisions``, in table order
DECISION_COLUMNS = ("id, note_id, suggestion_id, inspector, decided_at, action, key_question, statement, "
                    "evidence_category, band, principles, rationale, reverts, restores, client")


def _decisions_table(name: str) -> str:
    return f"""
CREATE TABLE {name} (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    note_id           INTEGER NOT NULL REFERENCES notes(id),
    suggestion_id     INTEGER REFERENCES suggestions(id),
    inspector         TEXT NOT NULL CHECK (length(trim(inspector)) > 0),
    decided_at        TEXT NOT NULL,
    action            TEXT NOT NULL CHECK (action IN ('accepted', 'corrected', 'skipped', 'undone')),
    key_question      TEXT,
    statement         TEXT,
    evidence_category TEXT,
    band              TEXT,
    principles        TEXT NOT NULL DEFAULT '',
    rationale         TEXT,
    reverts           INTEGER REFERENCES decisions(id),
    restores          INTEGER REFERENCES decisions(id),
    client            TEXT,
    CHECK ((action = 'undone') = (reverts IS NOT NULL)),
    CHECK (action NOT IN ('accepted', 'corrected') OR (key_question IS NOT NULL AND statement IS NOT NULL
           AND evidence_category IS NOT NULL AND band IS NOT NULL))
);
"""


# everything that refers to the decisions table, as version 2 made it (rebuilt with it by a migration)
_DECISIONS_DEPENDENTS_V2 = """
CREATE INDEX decisions_note ON decisions (note_id, id);
CREATE INDEX decisions_inspector ON decisions (inspector, id);

CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision (a correction or an undo) instead');
END;
CREATE TRIGGER decisions_no_delete BEFORE DELETE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: they cannot be deleted');
END;
CREATE TRIGGER notes_keep_decided BEFORE DELETE ON notes
WHEN EXISTS (SELECT 1 FROM decisions WHERE note_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'a note with decisions cannot be deleted: its audit trail must stay');
END;

-- the latest decision row of each note (highest id = appended last)
CREATE VIEW latest_decisions AS
SELECT d.* FROM decisions d
JOIN (SELECT note_id, max(id) AS id FROM decisions GROUP BY note_id) m ON m.id = d.id;

-- every note with its status: pending, accepted, corrected or skipped
CREATE VIEW note_status AS
SELECT n.id AS note_id, n.assessment_id,
       CASE WHEN d.id IS NULL THEN 'pending'
            WHEN d.action = 'undone' THEN coalesce((SELECT r.action FROM decisions r WHERE r.id = d.restores),
                                                   'pending')
            ELSE d.action END AS status,
       d.id AS decision_id, d.inspector, d.decided_at, d.key_question, d.statement, d.evidence_category,
       d.band, d.principles, d.rationale
FROM notes n LEFT JOIN latest_decisions d ON d.note_id = n.id;
"""

_VIEWS = """
-- the latest suggestion of each note
CREATE VIEW current_suggestions AS
SELECT s.* FROM suggestions s
JOIN (SELECT note_id, max(id) AS id FROM suggestions GROUP BY note_id) m ON m.id = s.id;
"""

#: version 3: no decision id may be written twice (INSERT OR REPLACE would silently replace a decision).
#: (In a BEFORE INSERT trigger an id left to SQLite reads as -1, which no row has.)
_DECISIONS_GUARDS_V3 = """
CREATE TRIGGER decisions_no_replace BEFORE INSERT ON decisions
WHEN EXISTS (SELECT 1 FROM decisions WHERE id = NEW.id)
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: an existing decision cannot be replaced');
END;
"""

#: the schema at :data:`BASE_VERSION` (2). A new file is made with it, then taken to :data:`SCHEMA_VERSION`
#: by the same migration steps as an existing file, in the same transaction: one path for every file.
BASE_SCHEMA = _TABLES + _decisions_table("decisions") + _VIEWS + _DECISIONS_DEPENDENTS_V2
BASE_VERSION = 2
#: kept for older imports: the base script (see :data:`BASE_SCHEMA`)
SCHEMA = BASE_SCHEMA

#: version 1 → 2: rebuild ``decisions`` without the vocabulary CHECKs (run with foreign keys off)
_V2 = f"""
DROP VIEW IF EXISTS note_status;
DROP VIEW IF EXISTS latest_decisions;
DROP TRIGGER IF EXISTS notes_keep_decided;
{_decisions_table("decisions_v2")}
INSERT INTO decisions_v2 ({DECISION_COLUMNS}) SELECT {DECISION_COLUMNS} FROM decisions ORDER BY id;
DELETE FROM sqlite_sequence WHERE name = 'decisions_v2';
INSERT INTO sqlite_sequence (name, seq) SELECT 'decisions_v2', seq FROM sqlite_sequence WHERE name = 'decisions';
DROP TABLE decisions;
ALTER TABLE decisions_v2 RENAME TO decisions;
{_DECISIONS_DEPENDENTS_V2}
"""

#: version 2 → 3, before the chain is computed: new columns; the triggers that would stop the backfill go
V3_BEFORE = """
ALTER TABLE notes ADD COLUMN location TEXT;
ALTER TABLE notes ADD COLUMN note_date TEXT;
ALTER TABLE decisions ADD COLUMN prev_hash TEXT;
ALTER TABLE decisions ADD COLUMN hash TEXT;
DROP TRIGGER IF EXISTS decisions_no_update;
DROP TRIGGER IF EXISTS notes_text_immutable;
"""

#: version 2 → 3, after the chain is computed: the guards back, and the new ones
V3_AFTER = """
CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions
BEGIN
    SELECT RAISE(ABORT, 'decisions are append-only: record a new decision (a correction or an undo) instead');
END;
""" + _DECISIONS_GUARDS_V3 + _ROW_GUARDS

#: version 3 → 4: the ledger (filled by :func:`evidencenlp.review.ledger.backfill` after this script)
V4_TABLE = """
CREATE TABLE ledger (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    tbl       TEXT NOT NULL CHECK (tbl IN ('notes', 'suggestions', 'decisions')),
    row_id    INTEGER NOT NULL,
    row_hash  TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    UNIQUE (tbl, row_id)
);
"""

#: version 3 → 4, after the backfill: the ledger is append-only; notes and suggestions stay
V4_GUARDS = """
CREATE TRIGGER ledger_no_update BEFORE UPDATE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be changed');
END;
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON ledger
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its entries cannot be deleted');
END;
CREATE TRIGGER ledger_no_replace BEFORE INSERT ON ledger
WHEN EXISTS (SELECT 1 FROM ledger WHERE seq = NEW.seq OR (tbl = NEW.tbl AND row_id = NEW.row_id))
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: an entry cannot be replaced');
END;
CREATE TRIGGER notes_no_delete BEFORE DELETE ON notes
BEGIN
    SELECT RAISE(ABORT, 'notes cannot be deleted: the audit trail must stay');
END;
CREATE TRIGGER suggestions_no_delete BEFORE DELETE ON suggestions
BEGIN
    SELECT RAISE(ABORT, 'suggestions are immutable: they cannot be deleted');
END;
"""


def triggers(script: str) -> dict[str, str]:
    """The ``CREATE TRIGGER`` statements of a script, by trigger name."""
    out = {}
    for statement in statements(script):
        found = re.match(r"CREATE\s+TRIGGER\s+(\w+)", statement, re.IGNORECASE)
        if found:
            out[found.group(1)] = statement
    return out


#: the triggers of a version 3 file (checked before it is migrated)
V3_GUARDS: dict[str, str] = {name: sql for name, sql in {
    **triggers(_TABLES), **triggers(_DECISIONS_DEPENDENTS_V2), **triggers(V3_AFTER)}.items()
    if name != "notes_text_immutable"}
#: every trigger of a current file, by name, as created (compared on open by :mod:`evidencenlp.review.guards`)
GUARDS: dict[str, str] = {**V3_GUARDS, **triggers(V4_GUARDS)}

#: version → SQL that takes a database from version-1 to version (foreign key enforcement is off).
#: Version 3 also needs Python between its two scripts: :data:`evidencenlp.review.db.MIGRATIONS`.
MIGRATIONS: dict[int, str] = {2: _V2}
