"""The review database: one SQLite file in WAL mode, its connection settings and schema versions.

Settings on every connection: WAL journal (readers never block the writer), foreign keys on,
``busy_timeout`` so a second inspector waits for a lock instead of failing, and
``synchronous=FULL`` so a committed decision survives a killed process *and* a power cut.
Connections are in autocommit mode; writers open short ``BEGIN IMMEDIATE`` transactions
(:func:`transaction`).

Decisions are append-only: triggers abort any UPDATE or DELETE on ``decisions`` and any INSERT
that would reuse a decision id (``INSERT OR REPLACE``); ``recursive_triggers`` is on for every
connection, so a REPLACE that deletes a row fires the delete triggers too. Each decision is sealed in
a SHA-256 chain (:mod:`evidencenlp.review.chain`), and every note, suggestion and decision in the
ledger (:mod:`evidencenlp.review.ledger`), so an edit made around the triggers is detected by
``evidencenlp review verify``. Suggestions and notes are immutable. On every open the triggers are
compared with their expected definitions (:mod:`evidencenlp.review.guards`): a file whose triggers
are missing or altered is refused (:class:`~evidencenlp.review.guards.GuardsChanged`) unless the
caller asks to look at it anyway (``check_guards=False``, what ``review verify`` does). The SQL is in :mod:`evidencenlp.review.schema`;
the schema version is ``PRAGMA user_version``; an older file is migrated forward when opened, and a
newer file is refused with a clear message. Nothing here loads the framework files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from evidencenlp.errors import InputFileError
from evidencenlp.review import guards, ledger, schema
from evidencenlp.review.chain import backfill
from evidencenlp.review.schema import BASE_SCHEMA, BASE_VERSION, SCHEMA_VERSION, statements

__all__ = ["APPLICATION_ID", "BUSY_TIMEOUT_MS", "MIGRATIONS", "SCHEMA_VERSION", "connect", "transaction",
           "utc_now"]

#: marks the file as an evidencenlp review database (``PRAGMA application_id``; "ENLR")
APPLICATION_ID = 0x454E4C52
BUSY_TIMEOUT_MS = 30_000

#: one migration step: an SQL script, or a Python function of the connection (inside the transaction)
Step = str | Callable[[sqlite3.Connection], object]

#: version → the steps that take a database from version-1 to version (foreign key enforcement is off)
MIGRATIONS: dict[int, tuple[Step, ...]] = {
    2: (schema.MIGRATIONS[2],),
    3: (schema.V3_BEFORE, backfill, schema.V3_AFTER),
    4: (lambda conn: guards.check_before_migration(conn, schema.V3_GUARDS), schema.V4_TABLE, ledger.backfill,
        schema.V4_GUARDS),
}


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
    # a REPLACE that deletes a row fires its DELETE triggers (which refuse it for decisions)
    conn.execute("PRAGMA recursive_triggers = ON")


def connect(path: Path | str, create: bool = True, check_guards: bool = True) -> sqlite3.Connection:
    """Open (and, when ``create``, create or migrate) the review database at ``path``.

    Raises :class:`InputFileError` for a missing file (``create=False``), a file that is not an
    SQLite database, a database of another application or one made by a newer evidencenlp; and
    (:class:`~evidencenlp.review.guards.GuardsChanged`) when ``check_guards`` and the file's
    triggers are missing or altered.
    """
    path = Path(path)
    if not create and not path.is_file():
        raise InputFileError(f"{path}: review database not found")
    if path.is_dir():
        raise InputFileError(f"{path}: is a folder, expected a review database file")
    if create and not path.parent.exists():
        raise InputFileError(f"{path}: folder {path.parent} does not exist")
    conn = None
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000,
                               check_same_thread=False)
        _configure(conn)
        conn.row_factory = sqlite3.Row
        _migrate(conn, path)
        if check_guards:
            guards.check(conn, path)
    except BaseException as exc:
        if conn is not None:
            conn.close()
        if isinstance(exc, sqlite3.DatabaseError):
            raise InputFileError(f"{path}: not a usable review database ({exc})") from None
        raise
    return conn


def _versions(conn: sqlite3.Connection) -> tuple[int, int]:
    return (conn.execute("PRAGMA user_version").fetchone()[0], conn.execute("PRAGMA application_id").fetchone()[0])


def _refuse_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise InputFileError(f"{path}: made by a newer evidencenlp (schema version {version}; this one reads "
                             f"up to {SCHEMA_VERSION}); upgrade evidencenlp")


def _migrate(conn: sqlite3.Connection, path: Path) -> None:
    version, app_id = _versions(conn)
    if version == SCHEMA_VERSION and app_id == APPLICATION_ID:
        return
    _refuse_newer(path, version)
    # a migration rebuilds tables that others refer to: no cascades or checks half-way through (the
    # pragma is a no-op inside a transaction, so it is set before), and a full check before COMMIT
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with transaction(conn):
            version, app_id = _versions(conn)  # re-read under the write lock
            _refuse_newer(path, version)
            tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if version == 0 and tables:
                raise InputFileError(f"{path}: an SQLite database that is not an evidencenlp review database")
            if version and app_id != APPLICATION_ID:
                raise InputFileError(f"{path}: an SQLite database of another application (id {app_id:#x})")
            steps: list[Step] = [BASE_SCHEMA] if version == 0 else []
            for v in range((version or BASE_VERSION) + 1, SCHEMA_VERSION + 1):
                steps.extend(MIGRATIONS[v])
            for step in steps:
                if isinstance(step, str):
                    for statement in statements(step):
                        conn.execute(statement)
                else:
                    try:
                        step(conn)
                    except guards.GuardsChanged as exc:
                        raise guards.GuardsChanged(f"{path}: {exc}") from None
            broken = conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise InputFileError(f"{path}: {len(broken)} broken reference(s) (first in table {broken[0][0]!r}); "
                                     f"not migrated to schema version {SCHEMA_VERSION}, the file is unchanged")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_version', ?)",
                         (str(SCHEMA_VERSION),))
            conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES ('created_at', ?)", (utc_now(),))
    finally:
        conn.execute("PRAGMA foreign_keys = ON")


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
