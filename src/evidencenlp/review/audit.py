"""``review verify`` as a library call: every check of a review database's audit trail, in one report.

:func:`audit` runs, on an open connection:

1. the triggers against their expected definitions (:mod:`evidencenlp.review.guards`);
2. the decisions' own hash chain (:func:`evidencenlp.review.chain.verify_chain`);
3. the ledger over every note, suggestion and decision (:func:`evidencenlp.review.ledger.verify_ledger`);
4. when a head kept from earlier is given (``--expect``), that the ledger still holds it
   (:func:`evidencenlp.review.ledger.extends`): what catches a log cut short or recomputed.

:func:`read_expected` reads that head from the text ``N:HASH``, or from a file: an export
(``log_head`` column) or any text file holding such a head (a receipt the user kept).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from evidencenlp.errors import InputFileError
from evidencenlp.review import guards
from evidencenlp.review.chain import verify_chain
from evidencenlp.review.ledger import HEAD_PATTERN, Head, LedgerReport, extends, verify_ledger

#: the export column holding the ledger head at the time of the export
HEAD_COLUMN = "log_head"


@dataclass(frozen=True)
class AuditReport:
    """All that :func:`audit` found. ``problems`` is empty when the log is intact (and holds ``expected``)."""

    ledger: LedgerReport
    problems: tuple[str, ...]
    expected: Head | None = None

    @property
    def ok(self) -> bool:
        """Nothing found."""
        return not self.problems

    @property
    def head(self) -> Head:
        """The ledger's current head."""
        return self.ledger.head

    @property
    def decisions(self) -> int:
        """Decisions sealed in the ledger."""
        return self.ledger.counts.get("decisions", 0)

    def counts(self) -> str:
        """``"4 decisions, 2 notes, 2 suggestions"``."""
        c = self.ledger.counts
        return ", ".join(f"{c.get(t, 0)} {t}" for t in ("decisions", "notes", "suggestions"))

    def message(self) -> str:
        """One line: ``intact (…)`` or ``broken: <first problem>``."""
        if self.ok:
            held = f"; holds the expected head {self.expected}" if self.expected and self.expected.count else ""
            return f"intact ({self.counts()}){held}"
        more = f" (and {len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return f"broken: {self.problems[0]}{more}"


def audit(conn: sqlite3.Connection, expected: Head | None = None) -> AuditReport:
    """Run every check (see the module docstring) and collect the problems, triggers first."""
    problems = list(guards.problems(conn))
    chain = verify_chain(conn)
    if not chain.ok:
        problems.append(f"decision chain {chain.message()}")
    ledger = verify_ledger(conn)
    problems += ledger.problems
    if expected is not None:
        differs = extends(conn, expected)
        if differs:
            problems.append(differs)
    return AuditReport(ledger, tuple(problems), expected)


def read_expected(value: str) -> Head:
    """The head to expect: ``value`` itself (``N:HASH``) or the head found in the file it names.

    A file is an export (its ``log_head`` column; every row holds the same head) or a text file
    holding a head (the last one in it counts). Raises :class:`InputFileError` with what is expected.
    """
    text = value.strip()
    if HEAD_PATTERN.fullmatch(text.lower()):
        return Head.parse(text)
    path = Path(text)
    if not path.is_file():
        raise InputFileError(f"--expect: {text[:80]!r} is neither a log head like 12:3f5a… (count:hash, as "
                             "printed by review verify and review-export) nor an existing file")
    if path.suffix.lower() in (".xlsx", ".parquet"):
        return _head_from_table(path)
    try:
        content = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputFileError(f"{path}: cannot read ({exc.strerror})") from None
    found = HEAD_PATTERN.findall(content.lower())
    if not found:
        raise InputFileError(f"{path}: holds no log head (count:hash); an export with no rows has none: use the "
                             "head printed by review-export or review verify")
    heads = {Head(int(n), h) for n, h in found}
    if len(heads) > 1 and path.suffix.lower() in (".csv", ".tsv", ".jsonl", ".ndjson"):
        raise InputFileError(f"{path}: holds {len(heads)} different log heads; an export holds one")
    count, digest = found[-1]
    return Head(int(count), digest)


def _head_from_table(path: Path) -> Head:
    from evidencenlp.tabular import read_table

    frame = read_table(path)
    if HEAD_COLUMN not in frame.columns:
        raise InputFileError(f"{path}: no column {HEAD_COLUMN!r} (an export of evidencenlp review-export holds one)")
    values = {str(v).strip() for v in frame[HEAD_COLUMN].tolist() if str(v).strip()}
    if len(values) != 1:
        raise InputFileError(f"{path}: column {HEAD_COLUMN!r} holds {len(values)} different log heads; expected one")
    try:
        return Head.parse(values.pop())
    except ValueError as exc:
        raise InputFileError(f"{path}: column {HEAD_COLUMN!r}: {exc}") from None
