"""Assessments (one inspection each): create or update by name, look up, list."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

from evidencenlp.review.db import transaction, utc_now
from evidencenlp.review.models import Assessment, NotFoundError, ReviewError
from evidencenlp.training_data import SERVICES


def assessment_from_row(row: sqlite3.Row) -> Assessment:
    """An ``assessments`` row as an :class:`Assessment`."""
    return Assessment(row["id"], row["name"], row["location"], row["service_type"], row["start_date"],
                      row["end_date"], row["created_at"])


def _check_date(value: str | None, what: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise ReviewError(f"{what} {value!r} is not a date; use YYYY-MM-DD") from None


class AssessmentRegistry:
    """The assessments of one review database (the connection is the store's)."""

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self.conn = conn
        self.path = path

    def ensure(self, name: str, location: str | None = None, service_type: str | None = None,
               start_date: str | None = None, end_date: str | None = None) -> Assessment:
        """The assessment called ``name``, created if new; details given (not None) are updated."""
        name = (name or "").strip()
        if not name:
            raise ReviewError("an assessment needs a name")
        if service_type not in (None, "") and service_type not in SERVICES:
            raise ReviewError(f"unknown service type {service_type!r}; expected one of {', '.join(SERVICES)}")
        details = {"location": location or None, "service_type": service_type or None,
                   "start_date": _check_date(start_date, "start date"), "end_date": _check_date(end_date, "end date")}
        try:
            with transaction(self.conn):
                self.conn.execute("INSERT INTO assessments (name, created_at) VALUES (?, ?) "
                                  "ON CONFLICT (name) DO NOTHING", (name, utc_now()))
                for column, value in details.items():
                    if value is not None:
                        self.conn.execute(f"UPDATE assessments SET {column} = ? WHERE name = ?", (value, name))
        except sqlite3.IntegrityError as exc:
            raise ReviewError(f"assessment {name!r}: {exc} (is the start date after the end date?)") from None
        row = self.conn.execute("SELECT * FROM assessments WHERE name = ?", (name,)).fetchone()
        return assessment_from_row(row)

    def get(self, ident: int | str) -> Assessment:
        """An assessment by id or name; :class:`NotFoundError` when there is none."""
        column = "id" if isinstance(ident, int) else "name"
        row = self.conn.execute(f"SELECT * FROM assessments WHERE {column} = ?", (ident,)).fetchone()
        if row is None:
            raise NotFoundError(f"no assessment {ident!r} in {self.path}")
        return assessment_from_row(row)

    def all(self) -> list[Assessment]:
        """Every assessment, oldest first."""
        return [assessment_from_row(r) for r in self.conn.execute("SELECT * FROM assessments ORDER BY id")]
