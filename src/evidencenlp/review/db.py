"""The review database: one SQLite file in WAL mode, its schema, and schema versions.

Settings on every connection: WAL journal (readers never block the writer), foreign keys on,
``busy_timeout`` so a second inspector waits for a lock instead of failing, and
``synchronous=FULL`` so a committed decision survives a killed process *and* a power cut.
Connections are in autocommit mode; writers open short ``BEGIN IMMEDIATE`` transactions
(:func:`transaction`).

Decisions are append-only: triggers abort any UPDATE or DELETE on ``decisions``. Suggestions are
immutable and a note's text can never be changed. The schema version is ``PRAGMA user_version``;
:data:`MIGRATIONS` takes an older file forward, and a newer file is refused with a clear message.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from evidencenlp.errors import InputFileError
from evidencenlp.taxonomy import default_taxonomy

#: marks the file as an evidencenlp review database (``PRAGMA application_id``; "ENLR")
APPLICATION_ID = 0x454E4C52
SCHEMA_VERSION = 1
BUSY_TIMEOUT_MS = 30_000


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


_T = default_taxonomy()
SCHEMA_V1 = f"""
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
    redactions    TEXT NOT NULL DEFAULT '{{}}',
    imported_at   TEXT NOT NULL,
    UNIQUE (assessment_id, source_file, source_row)
);

CREATE TABLE suggestions (
    id                      INTEGER PRIMARY KEY,
    note_id                 INTEGER NOT NULL REFERENCES notes(id),
    created_at              TEXT NOT NULL,
    model_version           TEXT NOT NULL,
    framework_versions      TEXT NOT NULL DEFAULT '{{}}',
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

CREATE TABLE decisions (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    note_id           INTEGER NOT NULL REFERENCES notes(id),
    suggestion_id     INTEGER REFERENCES suggestions(id),
    inspector         TEXT NOT NULL CHECK (length(trim(inspector)) > 0),
    decided_at        TEXT NOT NULL,
    action            TEXT NOT NULL CHECK (action IN ('accepted', 'corrected', 'skipped', 'undone')),
    key_question      TEXT CHECK (key_question IS NULL OR key_question IN {_in(_T.key_questions)}),
    statement         TEXT,
    evidence_category TEXT CHECK (evidence_category IS NULL OR evidence_category IN {_in(_T.categories)}),
    band              TEXT CHECK (band IS NULL OR band IN {_in(_T.bands)}),
    principles        TEXT NOT NULL DEFAULT '',
    rationale         TEXT,
    reverts           INTEGER REFERENCES decisions(id),
    restores          INTEGER REFERENCES decisions(id),
    client            TEXT,
    CHECK ((action = 'undone') = (reverts IS NOT NULL)),
    CHECK (action NOT IN ('accepted', 'corrected') OR (key_question IS NOT NULL AND statement IS NOT NULL
           AND evidence_category IS NOT NULL AND band IS NOT NULL))
);
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
CREATE TRIGGER suggestions_no_update BEFORE UPDATE ON suggestions
BEGIN
    SELECT RAISE(ABORT, 'suggestions are immutable: store a new suggestion instead');
END;
CREATE TRIGGER notes_keep_decided BEFORE DELETE ON notes
WHEN EXISTS (SELECT 1 FROM decisions WHERE note_id = OLD.id)
BEGIN
    SELECT RAISE(ABORT, 'a note with decisions cannot be deleted: its audit trail must stay');
END;
CREATE TRIGGER notes_text_immutable BEFORE UPDATE OF text, text_sha256, source_file, source_row ON notes
BEGIN
    SELECT RAISE(ABORT, 'a note''s text and source cannot be changed');
END;

-- the latest decision row of each note (highest id = appended last)
CREATE VIEW latest_decisions AS
SELECT d.* FROM decisions d
JOIN (SELECT note_id, max(id) AS id FROM decisions GROUP BY note_id) m ON m.id = d.id;

-- the latest suggestion of each note
CREATE VIEW current_suggestions AS
SELECT s.* FROM suggestions s
JOIN (SELECT note_id, max(id) AS id FROM suggestions GROUP BY note_id) m ON m.id = s.id;

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

#: version → SQL that takes a database from version-1 to version
MIGRATIONS: dict[int, str] = {1: SCHEMA_V1}


def utc_now() -> str:
    """The current UTC time as ISO 8601 with milliseconds and a ``Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise InputFileError(f"cannot switch the review database to WAL mode (got {mode!r}); "
                             "is it on a network drive or read-only?")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")


def connect(path: Path | str, create: bool = True) -> sqlite3.Connection:
    """Open (and, when ``create``, create or migrate) the review database at ``path``.

    Raises :class:`InputFileError` for a missing file (``create=False``), a file that is not an
    SQLite database, a database of another application or one made by a newer evidencenlp.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise InputFileError(f"{path}: review database not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a review database file")
    if create and not path.parent.exists():
        raise InputFileError(f"{path}: folder {path.parent} does not exist")
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        _configure(conn)
        conn.row_factory = sqlite3.Row
        _migrate(conn, path)
    except sqlite3.DatabaseError as exc:
        raise InputFileError(f"{path}: not a usable review database ({exc})") from None
    return conn


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if version == SCHEMA_VERSION and app_id == APPLICATION_ID:
        return
    if version > SCHEMA_VERSION:
        raise InputFileError(f"{path}: made by a newer evidencenlp (schema version {version}; this one reads "
                             f"up to {SCHEMA_VERSION}); upgrade evidencenlp")
    with transaction(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]  # re-read under the write lock
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if version == 0 and tables:
            raise InputFileError(f"{path}: an SQLite database that is not an evidencenlp review database")
        if version and app_id != APPLICATION_ID:
            raise InputFileError(f"{path}: an SQLite database of another application (id {app_id:#x})")
        for target in range(version + 1, SCHEMA_VERSION + 1):
            for statement in _statements(MIGRATIONS[target]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {target}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (utc_now(),))


def _statements(script: str) -> list[str]:
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


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """A short write transaction: ``BEGIN IMMEDIATE`` (takes the write lock up front), then COMMIT.

    Rolls back on any exception. Committed means durable (WAL + ``synchronous=FULL``).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
