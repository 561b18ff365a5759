"""The ledger: one append-only hash chain over every note, suggestion and decision stored.

Each row written to ``notes``, ``suggestions`` or ``decisions`` gets one ``ledger`` entry, in the
same transaction (:func:`append`). An entry holds

- ``seq``: 1, 2, 3, … with no gaps (the entry's place in the chain);
- ``tbl`` and ``row_id``: the row it seals (each row sealed exactly once);
- ``row_hash``: SHA-256 (hex) of the row's content, :func:`content` (the columns of
  :data:`SEALED_COLUMNS`, plus for a note the name of its assessment, as compact key-sorted JSON);
- ``prev_hash``: the ``hash`` of entry ``seq - 1`` (:data:`~evidencenlp.review.chain.GENESIS` for the first);
- ``hash``: SHA-256 (hex) of ``prev_hash``, ``seq``, ``tbl``, ``row_id`` and ``row_hash``, one per line
  (:func:`entry_hash`).

The *head* of the ledger, :class:`Head` (entry count and last hash, written ``N:HASH``), stands for
everything stored so far. :func:`verify_ledger` finds every edit, removal or addition that leaves
the chain inconsistent; someone who rewrites the file *and* recomputes the chain by this very
algorithm is caught only by comparing with a head kept elsewhere (:func:`extends`: ``evidencenlp
review verify --expect HEAD``): a changed or removed row at or before entry N changes entry N's hash
or removes it.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from evidencenlp.review.chain import GENESIS, HASHED_COLUMNS

#: the columns each table's seal covers (fixed: a later column is not part of an older seal)
SEALED_COLUMNS: dict[str, tuple[str, ...]] = {
    "notes": ("id", "assessment_id", "source_file", "source_row", "source_id", "service", "text", "text_sha256",
              "redactions", "imported_at", "location", "note_date"),
    "suggestions": ("id", "note_id", "created_at", "model_version", "framework_versions", "key_question",
                    "key_question_score", "statement", "statement_score", "statement_top3", "evidence_category",
                    "evidence_category_score", "band", "band_score", "principles", "confidence", "needs_review",
                    "evidence_framework", "evidence_item", "evidence_text", "payload"),
    "decisions": (*HASHED_COLUMNS, "prev_hash", "hash"),
}
#: what people call one row of each table
_NOUN = {"notes": "note", "suggestions": "suggestion", "decisions": "decision"}
#: ``N:HASH`` (a hash prefix of at least 16 hex digits is accepted when checking)
HEAD_PATTERN = re.compile(r"\b(\d+):([0-9a-f]{16,64})\b")
MIN_PREFIX = 16


@dataclass(frozen=True)
class Head:
    """The ledger's head: how many entries, and the hash of the last one (a prefix when parsed)."""

    count: int
    hash: str

    def __str__(self) -> str:
        return f"{self.count}:{self.hash}"

    @classmethod
    def parse(cls, text: str) -> Head:
        """``N:HASH`` as a :class:`Head`; :class:`ValueError` (saying what is expected) otherwise."""
        found = HEAD_PATTERN.fullmatch(text.strip().lower())
        if found is None:
            raise ValueError(f"expected a log head like 12:{'0' * 16}… (a count, a colon and at least "
                             f"{MIN_PREFIX} hex digits of the hash), got {text.strip()[:80]!r}")
        return cls(int(found.group(1)), found.group(2))


def _select(table: str, alias: str = "t") -> str:
    cols = ", ".join(f"{alias}.{c}" for c in SEALED_COLUMNS[table])
    if table == "notes":  # the assessment's name is shown and exported with the note: sealed with it
        cols += f", (SELECT a.name FROM assessments a WHERE a.id = {alias}.assessment_id) AS assessment"
    return cols


def content(table: str, row: sqlite3.Row | tuple[Any, ...]) -> str:
    """The row (selected by :func:`_select`) as the seal sees it: compact key-sorted JSON."""
    names = (*SEALED_COLUMNS[table], *(("assessment",) if table == "notes" else ()))
    return json.dumps(dict(zip(names, tuple(row)[:len(names)], strict=True)), ensure_ascii=False,
                      separators=(",", ":"), sort_keys=True)


def content_hash(table: str, row: sqlite3.Row | tuple[Any, ...]) -> str:
    """SHA-256 (hex) of :func:`content`."""
    return hashlib.sha256(content(table, row).encode()).hexdigest()


def entry_hash(prev_hash: str, seq: int, table: str, row_id: int, row_hash: str) -> str:
    """SHA-256 (hex) of the entry's fields, one per line, starting with the previous entry's hash."""
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{table}\n{row_id}\n{row_hash}".encode()).hexdigest()


def head(conn: sqlite3.Connection) -> Head:
    """The current head (``0:GENESIS`` for an empty ledger)."""
    row = conn.execute("SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1").fetchone()
    return Head(int(row[0]), str(row[1])) if row is not None else Head(0, GENESIS)


def append(conn: sqlite3.Connection, table: str, row_id: int) -> Head:
    """Seal the stored row ``table``/``row_id`` as the next entry; return the new head.

    Call inside the write transaction that inserted the row (the ledger is then in step with it).
    """
    row = conn.execute(f"SELECT {_select(table)} FROM {table} t WHERE t.id = ?", (row_id,)).fetchone()
    if row is None:
        raise LookupError(f"no {_NOUN[table]} {row_id} to seal")
    last = head(conn)
    seq, digest = last.count + 1, content_hash(table, row)
    sealed = entry_hash(last.hash, seq, table, row_id, digest)
    conn.execute("INSERT INTO ledger (seq, tbl, row_id, row_hash, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?)",
                 (seq, table, row_id, digest, last.hash, sealed))
    return Head(seq, sealed)


def backfill(conn: sqlite3.Connection) -> int:
    """Seal every row not yet in the ledger: notes, then suggestions, then decisions, each by id (a migration)."""
    n = 0
    for table in SEALED_COLUMNS:
        for (row_id,) in conn.execute(f"SELECT id FROM {table} WHERE id NOT IN "
                                      "(SELECT row_id FROM ledger WHERE tbl = ?) ORDER BY id", (table,)).fetchall():
            append(conn, table, int(row_id))
            n += 1
    return n


@dataclass(frozen=True)
class LedgerReport:
    """What :func:`verify_ledger` found: the rows sealed per table, the head, and the problems (first few)."""

    counts: dict[str, int]
    head: Head
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """No problem found."""
        return not self.problems


#: at most this many problems are listed (the first ones in the chain)
MAX_PROBLEMS = 5


def verify_ledger(conn: sqlite3.Connection) -> LedgerReport:
    """Walk the ledger in order, then check each table's rows against their seals.

    Finds: an entry missing, added or changed (the chain breaks or a gap in ``seq``); entries
    removed from the end (the AUTOINCREMENT counter is past the last entry); a row changed (its
    content no longer matches its seal), removed (its seal points to nothing) or added around
    evidencenlp (a row with no seal).
    """
    problems: list[str] = []

    def problem(text: str) -> bool:
        problems.append(text)
        return len(problems) >= MAX_PROBLEMS

    prev, expected_seq = GENESIS, 1
    for seq, table, row_id, row_hash, prev_hash, stored in conn.execute(
            "SELECT seq, tbl, row_id, row_hash, prev_hash, hash FROM ledger ORDER BY seq"):
        if seq != expected_seq:
            if problem(f"log entries {expected_seq}–{seq - 1} are missing (removed)"):
                break
        elif prev_hash != prev:
            if problem(f"log entry {seq} does not follow the entry before it (an entry was changed, removed or "
                       "inserted)"):
                break
        elif table not in SEALED_COLUMNS or entry_hash(prev, seq, table, row_id, row_hash) != stored:
            if problem(f"log entry {seq} does not match its hash (it was changed)"):
                break
        prev, expected_seq = stored, seq + 1
    last = head(conn)
    counter = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'ledger'").fetchone()
    if counter is not None and int(counter[0]) > last.count and len(problems) < MAX_PROBLEMS:
        problem(f"log entries after {last.count} (up to {counter[0]}) were removed")
    counts: dict[str, int] = {}
    for table in SEALED_COLUMNS:
        noun = _NOUN[table]
        counts[table] = 0
        for row_id, row_hash, *row in conn.execute(
                f"SELECT l.row_id, l.row_hash, {_select(table)}, t.id IS NULL AS gone FROM ledger l "
                f"LEFT JOIN {table} t ON t.id = l.row_id WHERE l.tbl = ? ORDER BY l.seq", (table,)):
            counts[table] += 1
            if len(problems) >= MAX_PROBLEMS:
                continue
            if row[-1]:
                problem(f"{noun} {row_id} was removed (it is in the log but not in the table)")
            elif content_hash(table, row[:-1]) != row_hash:
                problem(f"{noun} {row_id} was changed after it was stored (its content does not match the log)")
        if len(problems) < MAX_PROBLEMS:
            for (row_id,) in conn.execute(f"SELECT id FROM {table} WHERE id NOT IN "
                                          "(SELECT row_id FROM ledger WHERE tbl = ?) ORDER BY id LIMIT 3", (table,)):
                if problem(f"{noun} {row_id} is not in the log (added around evidencenlp)"):
                    break
    return LedgerReport(counts, last, problems)


def extends(conn: sqlite3.Connection, expected: Head) -> str | None:
    """None when the ledger still holds ``expected`` (entry N with that hash), else what differs.

    A head kept from an earlier export or check stands for every row stored until then: if the
    ledger no longer has entry N, it was cut short; if entry N's hash differs, something at or
    before it was changed, removed or re-sealed since.
    """
    if expected.count == 0:
        return None
    if len(expected.hash) < MIN_PREFIX:
        return f"the expected head's hash is too short (at least {MIN_PREFIX} hex digits)"
    row = conn.execute("SELECT hash FROM ledger WHERE seq = ?", (expected.count,)).fetchone()
    now = head(conn)
    if row is None:
        return (f"the log has {now.count} entries, fewer than the {expected.count} of the expected head "
                "(rows were removed and the log cut short)")
    if not str(row[0]).startswith(expected.hash):
        return (f"log entry {expected.count} differs from the expected head: rows stored before it were changed, "
                "removed or re-sealed")
    return None
