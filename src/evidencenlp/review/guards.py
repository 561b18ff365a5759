"""The triggers that keep the review database append-only, checked against their expected definitions.

A current file has exactly the triggers of :data:`evidencenlp.review.schema.GUARDS`, as written
there (compared with whitespace collapsed). :func:`problems` lists what differs: a trigger missing,
one whose definition was altered (e.g. replaced by one that does nothing), and one nobody expects.

What happens when they differ (decided here, documented in the README): opening the file for work
(review, serve, export) is **refused** with :class:`GuardsChanged`, naming the trigger and how to go
on; ``evidencenlp review verify`` opens it anyway, reports the problem and fails; ``review verify
--restore-triggers`` puts the expected triggers back (:func:`restore`) once the user has seen the
report. Nothing restores them silently: a restore would hide the fact that someone removed them.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Mapping

from evidencenlp.errors import InputFileError
from evidencenlp.review.schema import GUARDS


class GuardsChanged(InputFileError):
    """The file's protective triggers are missing or not as evidencenlp made them."""


def normalise(sql: str) -> str:
    """``sql`` with runs of whitespace made one space, without a final ``;`` (how a definition is compared)."""
    return re.sub(r"\s+", " ", sql).strip().rstrip(";").rstrip()


def present(conn: sqlite3.Connection) -> dict[str, str]:
    """The file's triggers: name → definition (as stored in ``sqlite_master``)."""
    return {str(name): str(sql or "") for name, sql in
            conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name")}


def problems(conn: sqlite3.Connection, expected: Mapping[str, str] = GUARDS) -> list[str]:
    """What differs from ``expected``: one line per trigger missing, altered or unexpected (empty: all fine)."""
    found = present(conn)
    out = [f"trigger {name} is missing" for name in expected if name not in found]
    out += [f"trigger {name} was altered (its definition is not the one evidencenlp wrote)"
            for name, sql in expected.items() if name in found and normalise(found[name]) != normalise(sql)]
    out += [f"trigger {name} is not one of evidencenlp's (added around evidencenlp)"
            for name in found if name not in expected]
    return out


def restore(conn: sqlite3.Connection) -> list[str]:
    """Drop every trigger that differs from :data:`GUARDS` and create the expected ones; return what was wrong.

    Call it inside one write transaction (``evidencenlp.review.db.transaction``); the rows are not touched.
    """
    wrong = problems(conn)
    found = present(conn)
    for name, sql in found.items():
        if name not in GUARDS or normalise(sql) != normalise(GUARDS[name]):
            conn.execute(f'DROP TRIGGER "{name}"')
    for name, sql in GUARDS.items():
        if name not in found or normalise(found[name]) != normalise(sql):
            conn.execute(sql)
    return wrong


def check(conn: sqlite3.Connection, path: object) -> None:
    """Raise :class:`GuardsChanged` (one line, with what to do) unless the triggers are as expected."""
    wrong = problems(conn)
    if wrong:
        more = f" (and {len(wrong) - 1} more)" if len(wrong) > 1 else ""
        raise GuardsChanged(f"{path}: {wrong[0]}{more}: the file may have been edited around evidencenlp. "
                            f"Check it with `evidencenlp review verify --db {path}`; put the triggers back with "
                            "`--restore-triggers` once you have seen the report")


def check_before_migration(conn: sqlite3.Connection, expected: Mapping[str, str]) -> None:
    """Refuse (:class:`GuardsChanged`) to migrate a file whose triggers are not those of its version."""
    wrong = problems(conn, expected)
    if wrong:
        raise GuardsChanged(f"{wrong[0]}: the file may have been edited around evidencenlp; it was not upgraded "
                            "and is unchanged. Compare it with a backup")
