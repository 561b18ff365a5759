"""The hash chain over the decision log: every decision row seals the one before it.

Each ``decisions`` row stores ``prev_hash`` (the ``hash`` of the row before it, by id; :data:`GENESIS`
for the first) and ``hash`` = SHA-256 of ``prev_hash``, a newline and the row's canonical content
(:func:`canonical`: its columns as compact, key-sorted JSON). The store computes both in Python
when it appends a decision, inside the same transaction (:func:`seal`), so the chain and the row are
committed together.

Triggers refuse UPDATE, DELETE and INSERT OR REPLACE on decisions; the chain makes what the triggers
cannot stop — someone editing the file with the triggers dropped — detectable:
:func:`verify_chain` (``evidencenlp review verify --db FILE``) walks the rows and names the first one
whose hash does not match, whose ``prev_hash`` does not follow, or that is missing.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evidencenlp.review.schema import DECISION_COLUMNS

#: ``prev_hash`` of the first decision
GENESIS = "0" * 64
#: the columns each hash covers, in table order (``prev_hash`` and ``hash`` themselves excluded)
HASHED_COLUMNS: tuple[str, ...] = tuple(c.strip() for c in DECISION_COLUMNS.split(","))


def canonical(row: Mapping[str, Any]) -> str:
    """The row's content as the hash sees it: every column of :data:`HASHED_COLUMNS`, compact sorted JSON."""
    return json.dumps({c: row[c] for c in HASHED_COLUMNS}, ensure_ascii=False, separators=(",", ":"),
                      sort_keys=True)


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of ``prev_hash``, a newline and :func:`canonical` ``(row)``."""
    return hashlib.sha256(f"{prev_hash}\n{canonical(row)}".encode()).hexdigest()


def last_hash(conn: sqlite3.Connection) -> str:
    """The hash the next decision must follow (:data:`GENESIS` for an empty log)."""
    row = conn.execute("SELECT hash FROM decisions ORDER BY id DESC LIMIT 1").fetchone()
    return str(row[0]) if row is not None and row[0] else GENESIS


def next_id(conn: sqlite3.Connection) -> int:
    """The id the next decision gets (AUTOINCREMENT never reuses one, even after a rolled back insert)."""
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").fetchone()
    top = conn.execute("SELECT max(id) FROM decisions").fetchone()[0]
    return max(int(seq[0]) if seq else 0, int(top or 0)) + 1


def seal(conn: sqlite3.Connection, row: dict[str, Any]) -> dict[str, Any]:
    """``row`` (every hashed column but ``id``) with ``id``, ``prev_hash`` and ``hash`` filled in.

    Call inside the write transaction that inserts the row, so nobody appends in between.
    """
    sealed = {**row, "id": next_id(conn)}
    prev = last_hash(conn)
    return {**sealed, "prev_hash": prev, "hash": row_hash(prev, sealed)}


def backfill(conn: sqlite3.Connection) -> int:
    """Compute ``prev_hash`` and ``hash`` for every row, in id order (a migration step; triggers off)."""
    prev, n = GENESIS, 0
    for row in conn.execute(f"SELECT {DECISION_COLUMNS} FROM decisions ORDER BY id").fetchall():
        data = {c: row[i] for i, c in enumerate(HASHED_COLUMNS)}
        digest = row_hash(prev, data)
        conn.execute("UPDATE decisions SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, data["id"]))
        prev, n = digest, n + 1
    return n


@dataclass(frozen=True)
class ChainReport:
    """What :func:`verify_chain` found: ``ok``, the rows checked, and the first broken row (id and why)."""

    ok: bool
    decisions: int
    broken_id: int | None = None
    problem: str | None = None

    def message(self) -> str:
        """One line for people."""
        if self.ok:
            return f"intact ({self.decisions} decisions)"
        where = f"decision {self.broken_id}" if self.broken_id is not None else "the decision log"
        return f"broken at {where}: {self.problem}"


def verify_chain(conn: sqlite3.Connection) -> ChainReport:
    """Walk the decisions in id order and report the first row that breaks the chain."""
    prev, n = GENESIS, 0
    cursor = conn.execute(f"SELECT {DECISION_COLUMNS}, prev_hash, hash FROM decisions ORDER BY id")
    for row in cursor:
        data = {c: row[i] for i, c in enumerate(HASHED_COLUMNS)}
        stored_prev, stored = row[len(HASHED_COLUMNS)], row[len(HASHED_COLUMNS) + 1]
        if not stored:
            return ChainReport(False, n, data["id"], "it has no hash (written around evidencenlp)")
        if stored_prev != prev:
            return ChainReport(False, n, data["id"], "it does not follow the decision before it "
                                                     "(a decision before it was removed, added or changed)")
        if row_hash(prev, data) != stored:
            return ChainReport(False, n, data["id"], "its content does not match its hash (it was changed)")
        prev, n = stored, n + 1
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'decisions'").fetchone()
    top = conn.execute("SELECT max(id) FROM decisions").fetchone()[0] or 0
    if seq is not None and int(seq[0]) > int(top):
        return ChainReport(False, n, None, f"decisions after id {top} (up to {seq[0]}) were removed")
    return ChainReport(True, n)
