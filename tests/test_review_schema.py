"""The review schema: built without the frameworks, labels checked in Python, version 1 files migrated."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from conftest_review import FakeSuggester, write_notes
from evidencenlp.review.db import APPLICATION_ID, SCHEMA_VERSION
from evidencenlp.review.labels import Option, load_vocabulary
from evidencenlp.review.models import Labels, ReviewError
from evidencenlp.review.schema import BASE_SCHEMA, DECISION_COLUMNS, SCHEMA, statements
from evidencenlp.review.store import ReviewStore
from evidencenlp.taxonomy import default_taxonomy

REVIEW = Path(__file__).resolve().parents[1] / "src" / "evidencenlp" / "review"


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def lists_labels(sql: str) -> bool:
    """True when ``sql`` names a key question, evidence category or band of the frameworks."""
    t = default_taxonomy()
    return any(f"'{label}'" in sql for label in (*t.key_questions, *t.categories, *t.bands))


def legacy_v1_schema() -> str:
    """Version 1 as first released: the decisions table listed the labels of the installed frameworks."""
    t = default_taxonomy()
    start = SCHEMA.index("CREATE TABLE decisions")
    head, table = SCHEMA[:start], SCHEMA[start:]
    for column, values in (("key_question", t.key_questions), ("evidence_category", t.categories),
                           ("band", t.bands)):
        pattern = rf"\n    {column}( +)TEXT,\n"
        assert re.search(pattern, table), column
        table = re.sub(pattern, rf"\n    {column}\1TEXT CHECK ({column} IS NULL OR {column} IN {_in(values)}),\n",
                       table, count=1)
    return head + table


def make_v1_database(path: Path) -> None:
    """A version 1 file with one assessment, two notes, a suggestion and a history with an undo."""
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for sql in statements(legacy_v1_schema()):
            conn.execute(sql)
        conn.execute("PRAGMA user_version = 1")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1'), ('created_at', '2024-05-01T09:00:00.000Z')")
        conn.execute("INSERT INTO assessments (name, service_type, created_at) VALUES ('Old', 'care_home', 'x')")
        for row in (1, 2):
            conn.execute("INSERT INTO notes (assessment_id, source_file, source_row, source_id, text, text_sha256, "
                         "imported_at) VALUES (1, 'old.csv', ?, ?, 'A note.', 'h', 'x')", (row, f"O{row}"))
        conn.execute("INSERT INTO suggestions (note_id, created_at, model_version, key_question, statement, band, "
                     "confidence, needs_review, payload) VALUES (1, 'x', 'heads-1', 'safe', "
                     "'safe.learning-culture', 'good', 0.7, 0, '{}')")
        rows = [("accepted", "good", None, None), ("corrected", "inadequate", None, None),
                ("undone", "good", 2, 1)]
        for action, band, reverts, restores in rows:
            conn.execute("INSERT INTO decisions (note_id, suggestion_id, inspector, decided_at, action, key_question, "
                         "statement, evidence_category, band, reverts, restores, client) VALUES (1, 1, 'Ann', "
                         "'2024-05-01T10:00:00.000Z', ?, 'safe', 'safe.learning-culture', 'processes', ?, ?, ?, "
                         "'tui')", (action, band, reverts, restores))
        conn.execute("INSERT INTO decisions (note_id, inspector, decided_at, action) VALUES (2, 'Bob', 'x', 'skipped')")


def test_a_version_1_file_is_migrated_keeping_every_decision(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    make_v1_database(path)
    with closing(sqlite3.connect(path)) as raw:
        before = raw.execute("SELECT * FROM decisions ORDER BY id").fetchall()
        assert lists_labels(raw.execute("SELECT sql FROM sqlite_master WHERE name = 'decisions'").fetchone()[0])

    with ReviewStore.open(path) as store:
        c = store.conn
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert c.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "4"
        assert c.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchone()[0].startswith("2024-05-01")
        assert [tuple(r) for r in c.execute(f"SELECT {DECISION_COLUMNS} FROM decisions ORDER BY id")] == [
            tuple(r) for r in before]
        assert store.verify().message() == "intact (4 decisions, 2 notes, 1 suggestions)"  # chain and ledger computed
        assert not lists_labels(c.execute("SELECT sql FROM sqlite_master WHERE name = 'decisions'").fetchone()[0])
        assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type IN ('index', 'trigger', 'view')")}
        assert {"decisions_note", "decisions_inspector", "decisions_no_update", "decisions_no_delete",
                "decisions_no_replace", "notes_immutable", "notes_no_replace", "suggestions_no_replace",
                "notes_keep_decided", "latest_decisions", "note_status", "current_suggestions"} <= names
        # the views and the store read the migrated history as before
        assert store.note(1).status == "accepted" and store.note(2).status == "skipped"
        assert [d.action for d in store.history(1)] == ["accepted", "corrected", "undone"]
        assert store.confirmed_frame()["note_id"].tolist() == ["O1"]
        # ids go on from where they were; the log is still append-only
        assert store.confirm(2, "Cy", labels=Labels("", "safe.safeguarding", "processes", "good")).id == 5
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            c.execute("DELETE FROM decisions WHERE id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="audit trail"):
            c.execute("DELETE FROM notes WHERE id = 1")
    with ReviewStore.open(path) as again:  # opening a migrated file changes nothing
        assert again.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 5
        assert again.verify().message() == "intact (5 decisions, 2 notes, 1 suggestions)"


def test_a_version_2_file_gets_the_hash_chain_and_the_new_guards(tmp_path: Path) -> None:
    path = tmp_path / "v2.sqlite"
    with closing(sqlite3.connect(path, isolation_level=None)) as conn:
        for sql in statements(BASE_SCHEMA):
            conn.execute(sql)
        conn.execute("PRAGMA user_version = 2")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("INSERT INTO assessments (name, created_at) VALUES ('V2', 'x')")
        conn.execute("INSERT INTO notes (assessment_id, source_file, source_row, source_id, text, text_sha256, "
                     "imported_at) VALUES (1, 'v2.csv', 1, 'A1', 'A note.', 'h', 'x')")
        for action in ("skipped", "skipped", "skipped"):
            conn.execute("INSERT INTO decisions (note_id, inspector, decided_at, action) VALUES (1, 'Ann', 'x', ?)",
                         (action,))
        assert conn.execute("UPDATE notes SET assessment_id = 1").rowcount == 1  # version 2 allowed this
    with ReviewStore.open(path) as store:
        c = store.conn
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.verify().message() == "intact (3 decisions, 1 notes, 0 suggestions)"
        assert store.note(1).location is None and store.note(1).source_id == "A1"
        with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
            c.execute("UPDATE notes SET assessment_id = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            c.execute("INSERT OR REPLACE INTO decisions (id, note_id, inspector, decided_at, action) "
                      "VALUES (2, 1, 'Eve', 'x', 'skipped')")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            c.execute("UPDATE decisions SET inspector = 'Eve'")
        assert store.skip(1, "Bob").id == 4 and store.verify().ok


def test_after_migration_a_new_framework_band_can_be_recorded(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite"
    make_v1_database(path)
    insert = ("INSERT INTO decisions (note_id, inspector, decided_at, action, key_question, statement, "
              "evidence_category, band) VALUES (2, 'Ann', 'x', 'corrected', 'safe', 'safe.safeguarding', "
              "'processes', 'exceptional')")
    with closing(sqlite3.connect(path)) as raw, pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        raw.execute(insert)  # version 1 refused any band not installed when the file was made
    base = load_vocabulary()
    wider = replace(base, bands=(*base.bands, Option("exceptional", "Exceptional")))
    with ReviewStore.open(path, vocabulary=wider) as store:
        labels = Labels("", "safe.safeguarding", "processes", "exceptional")
        assert store.confirm(2, "Ann", labels=labels).band == "exceptional"


def test_a_new_file_is_made_at_the_latest_version_with_structural_checks_only(tmp_path: Path) -> None:
    with ReviewStore.open(tmp_path / "new.sqlite") as store:
        sql = store.conn.execute("SELECT sql FROM sqlite_master WHERE name = 'decisions'").fetchone()[0]
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert "'accepted', 'corrected', 'skipped', 'undone'" in sql  # structure stays in the schema
    assert not lists_labels(sql)  # the vocabulary does not


def test_labels_are_checked_against_the_stores_vocabulary_not_the_schema(tmp_path: Path) -> None:
    """A framework with another band needs no schema change: the store's vocabulary decides."""
    base = load_vocabulary()
    wider = replace(base, bands=(*base.bands, Option("exceptional", "Exceptional")))
    notes = write_notes(tmp_path / "notes.csv")
    with ReviewStore.open(tmp_path / "r.sqlite", vocabulary=wider) as store:
        store.import_notes(notes, "text", FakeSuggester())
        nid = store.queue()[0].note_id
        labels = store.note(nid).suggested_labels().replace(band="exceptional")
        assert store.confirm(nid, "Ann", labels=labels).band == "exceptional"
    with ReviewStore.open(tmp_path / "r.sqlite", vocabulary=base) as store:
        with pytest.raises(ReviewError, match="unknown band 'exceptional'"):
            store.confirm(nid, "Ann", labels=labels)


def test_importing_the_review_store_loads_no_framework_file() -> None:
    code = ("import evidencenlp.review.store, evidencenlp.review.db, evidencenlp.web, "
            "evidencenlp.frameworks.set as t, evidencenlp.review.labels as l; "
            "assert t._cached_set.cache_info().currsize == 0, 'framework set (taxonomy) loaded at import'; "
            "assert l._load.cache_info().currsize == 0, 'vocabulary loaded at import'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_no_review_module_hard_codes_label_ids() -> None:
    """Key questions, statements, bands and categories come from the frameworks (the Taxonomy) only."""
    t = default_taxonomy()
    labels = {*t.key_questions, *t.statements, *t.bands, *t.categories}
    found = [(path.relative_to(REVIEW).as_posix(), label) for path in sorted(REVIEW.rglob("*.py"))
             for label in labels if re.search(rf"[\"']{re.escape(label)}[\"']", path.read_text(encoding="utf-8"))]
    assert found == []
