"""The review store: schema, import, append-only decisions, undo, export, concurrency and crash safety."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import signal
import sqlite3
import time
from pathlib import Path

import pandas as pd
import pytest

import review_workers
from conftest_review import NOTES, FakeSuggester, StraySuggester, write_notes
from evidencenlp.errors import EvidenceNLPError, InputFileError
from evidencenlp.paths import models_dir
from evidencenlp.review.chain import GENESIS, verify_chain
from evidencenlp.review.db import APPLICATION_ID, SCHEMA_VERSION
from evidencenlp.review.models import ConflictError, Labels, ReviewError, TooLargeError
from evidencenlp.review.queries import EXPORT_EXTRA_COLUMNS
from evidencenlp.review.store import ReviewStore, confirmed_labels, export_confirmed, import_notes
from evidencenlp.tabular import read_table
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.training_data import CORPUS_COLUMNS, load_labelled


@pytest.fixture()
def notes_csv(tmp_path: Path) -> Path:
    return write_notes(tmp_path / "notes.csv")


@pytest.fixture()
def store(tmp_path: Path, notes_csv: Path):
    with ReviewStore.open(tmp_path / "review.sqlite") as s:
        s.import_notes(notes_csv, "text", FakeSuggester(), assessment="Oak House", service_type="care_home",
                       location="Leeds", start_date="2025-03-01", end_date="2025-03-03")
        yield s


def _ids(store: ReviewStore) -> list[int]:
    return [q.note_id for q in store.queue()]


# -- schema ---------------------------------------------------------------------------------------

def test_database_settings_and_schema_version(store: ReviewStore) -> None:
    c = store.conn
    assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert c.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert c.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"assessments", "notes", "suggestions", "decisions", "meta"} <= tables


def test_reopening_keeps_data_and_foreign_files_are_refused(tmp_path: Path, store: ReviewStore) -> None:
    with ReviewStore.open(store.path) as again:
        assert len(again.queue()) == len(NOTES)
    other = tmp_path / "other.sqlite"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE x (y)")
    with pytest.raises(InputFileError, match="not an evidencenlp review database"):
        ReviewStore.open(other)
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(InputFileError, match="garbage.sqlite"):
        ReviewStore.open(garbage)
    with pytest.raises(InputFileError, match="not found"):
        ReviewStore.open(tmp_path / "missing.sqlite", create=False)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    ReviewStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(InputFileError, match="newer evidencenlp"):
        ReviewStore.open(path)


# -- import ---------------------------------------------------------------------------------------

def test_import_stores_notes_suggestions_and_assessment(store: ReviewStore) -> None:
    a = store.assessment("Oak House")
    assert (a.location, a.service_type, a.start_date, a.end_date) == ("Leeds", "care_home", "2025-03-01", "2025-03-03")
    note = store.note(_ids(store)[0])
    assert note.status == "pending" and note.source_file == "notes.csv" and note.source_row == 1
    assert note.source_id == "N001"
    assert note.suggestion["statement"]["label"] == "safe.learning-culture"
    assert "text" not in note.suggestion  # the note text is stored once, redacted
    row = store.conn.execute("SELECT * FROM suggestions WHERE note_id = ?", (note.id,)).fetchone()
    assert row["model_version"] == "fake-0001"
    assert json.loads(row["framework_versions"])["cqc-saf-2023"] == "2023.1"
    assert row["evidence_text"].startswith("We statement for safe.learning-culture")
    assert row["statement_top3"].count(";") == 2


def test_import_is_idempotent_and_calls_the_suggester_only_for_new_rows(tmp_path: Path, notes_csv: Path) -> None:
    fake = FakeSuggester()
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        first = s.import_notes(notes_csv, "text", fake)
        assert (first.imported, first.already, first.rows) == (len(NOTES), 0, len(NOTES))
        seen = fake.notes_seen
        again = s.import_notes(notes_csv, "text", fake)
        assert (again.imported, again.already) == (0, len(NOTES))
        assert fake.notes_seen == seen
        assert s.conn.execute("SELECT count(*) FROM notes").fetchone()[0] == len(NOTES)
        # one more row and one changed row
        write_notes(notes_csv, [NOTES[0], "Changed text about medicines.", *NOTES[2:], "A new note about leaders."])
        third = s.import_notes(notes_csv, "text", fake)
        assert third.imported == 1 and third.changed_rows == [2] and third.already == len(NOTES) - 1
        assert s.assessments()[0].name == "notes"  # default: the file name without extension


def test_factory_suggester_is_not_loaded_when_nothing_is_new(tmp_path: Path, notes_csv: Path) -> None:
    calls = []

    def factory() -> FakeSuggester:
        calls.append(1)
        return FakeSuggester()

    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        s.import_notes(notes_csv, "text", factory)
        s.import_notes(notes_csv, "text", factory)
    assert len(calls) == 1


def test_only_redacted_text_is_stored(tmp_path: Path, notes_csv: Path) -> None:
    db = tmp_path / "r.sqlite"
    with ReviewStore.open(db) as s:
        s.import_notes(notes_csv, "text", FakeSuggester())
        dump = "\n".join(s.conn.iterdump())
        note = next(s.note(q.note_id) for q in s.queue() if "knock" in q.snippet)
    assert "Mrs [NAME]" in note.text and "[PHONE]" in note.text
    assert "Jones" not in dump and "01632 960123" not in dump
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("r.sqlite*"))
    assert b"Jones" not in raw and b"960123" not in raw


def test_blank_rows_are_counted_not_stored(tmp_path: Path) -> None:
    path = write_notes(tmp_path / "n.csv", ["A kind nurse.", "   ", "Incident log reviewed."])
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        summary = s.import_notes(path, "text", FakeSuggester())
        assert (summary.imported, summary.blank) == (2, 1)
        assert [q.source_row for q in s.queue()] == [1, 3]


def test_import_errors_name_the_file_and_columns(tmp_path: Path, notes_csv: Path) -> None:
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        with pytest.raises(InputFileError, match=r"notes\.csv: no column 'note'; columns found: 'note_id', 'text'"):
            s.import_notes(notes_csv, "note", FakeSuggester())
        with pytest.raises(InputFileError, match="file not found"):
            s.import_notes(tmp_path / "nope.csv", "text", FakeSuggester())
        with pytest.raises(ReviewError, match="unknown service type"):
            s.import_notes(notes_csv, "text", FakeSuggester(), service_type="zoo")
        with pytest.raises(ReviewError, match="not a date"):
            s.import_notes(notes_csv, "text", FakeSuggester(), start_date="3rd March")
        empty = tmp_path / "empty.csv"
        empty.write_text("note_id,text\n")
        with pytest.raises(InputFileError, match="no rows"):
            s.import_notes(empty, "text", FakeSuggester())
        assert s.assessments() == []  # a failed import leaves nothing behind


def test_import_reads_other_formats(tmp_path: Path) -> None:
    path = tmp_path / "notes.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"J{i}", "body": t}) for i, t in enumerate(NOTES[:3])) + "\n")
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        summary = import_notes(s, path, "body", FakeSuggester(), assessment="J")
        assert summary.imported == 3
        assert s.note(s.queue()[0].note_id).source_id == "J0"


# -- decisions ------------------------------------------------------------------------------------

def test_decisions_are_append_only_with_visible_history(store: ReviewStore) -> None:
    nid = _ids(store)[0]
    suggested = store.note(nid).suggested_labels()
    first = store.confirm(nid, "A Inspector")
    assert first.action == "accepted" and first.band == suggested.band
    second = store.confirm(nid, "B Inspector", labels=suggested.replace(band="inadequate"), rationale="fridge log")
    assert second.action == "corrected" and second.band == "inadequate"
    note = store.note(nid)
    assert note.status == "corrected" and note.current.id == second.id
    assert [d.action for d in note.history] == ["accepted", "corrected"]
    assert note.decided_labels().band == "inadequate"
    assert second.decided_at.endswith("Z") and second.inspector == "B Inspector"

    raw = sqlite3.connect(store.path, isolation_level=None)  # no foreign_keys pragma: triggers still guard
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE decisions SET band = 'good' WHERE id = ?", (first.id,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM decisions")
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("UPDATE suggestions SET band = 'good'")
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        raw.execute("UPDATE notes SET text = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="audit trail"):
        raw.execute("DELETE FROM notes WHERE id = ?", (nid,))
    raw.close()
    assert len(store.history(nid)) == 2


def test_undo_appends_and_walks_back(store: ReviewStore) -> None:
    nid = _ids(store)[1]
    assert store.undo(nid, "A") is None  # nothing to undo yet
    accepted = store.confirm(nid, "A")
    corrected = store.confirm(nid, "A", labels=store.note(nid).suggested_labels().replace(band="good"))
    u1 = store.undo(nid, "A")
    assert (u1.action, u1.reverts, u1.restores) == ("undone", corrected.id, accepted.id)
    assert store.note(nid).status == "accepted" and store.note(nid).decided_labels() == accepted.labels()
    u2 = store.undo(nid, "A")
    assert (u2.reverts, u2.restores) == (accepted.id, None)
    assert store.note(nid).status == "pending"
    assert store.undo(nid, "A") is None
    assert [d.action for d in store.history(nid)] == ["accepted", "corrected", "undone", "undone"]


def test_skip_and_last_decided_note(store: ReviewStore) -> None:
    a, b = _ids(store)[:2]
    store.confirm(a, "A")
    store.skip(b, "A")
    assert store.note(b).status == "skipped"
    assert store.last_decided_note("A") == b
    store.undo(b, "A")
    assert store.last_decided_note("A") == a
    assert store.last_decided_note("Nobody") is None
    queue = store.queue(undecided_first=True)
    assert queue[-1].note_id == a  # decided notes last


def test_labels_are_validated(store: ReviewStore) -> None:
    nid = _ids(store)[0]
    good = store.note(nid).suggested_labels()
    with pytest.raises(ReviewError, match="unknown quality statement"):
        store.confirm(nid, "A", labels=good.replace(statement="safe.nope"))
    with pytest.raises(ReviewError, match="belongs to key question"):
        store.confirm(nid, "A", labels=Labels("caring", "safe.learning-culture", "processes", "good"))
    with pytest.raises(ReviewError, match="unknown band"):
        store.confirm(nid, "A", labels=good.replace(band="excellent"))
    with pytest.raises(ReviewError, match="unknown principle"):
        store.confirm(nid, "A", labels=good.replace(principles=("kindness",)))
    with pytest.raises(ReviewError, match="inspector name"):
        store.confirm(nid, "  ")
    with pytest.raises(EvidenceNLPError, match="no note 999"):
        store.confirm(999, "A")
    assert store.history(nid) == []


def test_a_suggestion_outside_its_key_question_is_accepted_under_the_statements_own(tmp_path: Path,
                                                                                     notes_csv: Path) -> None:
    """Older data may pair a statement with another key question: what the tool suggested is never refused."""
    taxonomy = default_taxonomy()
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        s.import_notes(notes_csv, "text", StraySuggester("key_question"), assessment="Old")
        a, b, c, d = (q.note_id for q in s.queue()[:4])
        suggested = s.note(a).suggested_labels()
        own = taxonomy.key_question_of(suggested.statement)
        assert suggested.key_question != own  # the stored suggestion is stray

        accepted = s.confirm(a, "A")  # accept: no labels
        assert (accepted.action, accepted.key_question, accepted.statement) == ("accepted", own, suggested.statement)
        echoed = s.note(b).suggested_labels()  # the page sends the suggested labels back as they are
        assert s.confirm(b, "A", labels=echoed).action == "accepted"
        assert s.note(b).current.key_question == taxonomy.key_question_of(echoed.statement)
        stray = s.note(c).suggested_labels()  # a correction that keeps the suggested pair
        other_band = next(band for band in taxonomy.bands if band != stray.band)
        corrected = s.confirm(c, "A", labels=stray.replace(band=other_band))
        assert (corrected.action, corrected.band) == ("corrected", other_band)
        assert corrected.key_question == taxonomy.key_question_of(stray.statement)
        # a key question the inspector chose, and the suggestion did not, is still checked
        mine = s.note(d).suggested_labels()
        wrong = next(k for k in taxonomy.key_questions if k not in (mine.key_question,
                                                                    taxonomy.key_question_of(mine.statement)))
        with pytest.raises(ReviewError, match="belongs to key question"):
            s.confirm(d, "A", labels=mine.replace(key_question=wrong))
        assert s.progress()["confirmed"] == 3


def test_a_retired_statement_is_refused_with_a_clear_message(tmp_path: Path, notes_csv: Path) -> None:
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        s.import_notes(notes_csv, "text", StraySuggester("statement"), assessment="Old")
        nid = s.queue()[0].note_id
        with pytest.raises(ReviewError, match="unknown quality statement"):
            s.confirm(nid, "A")
        assert s.skip(nid, "A").action == "skipped"  # the note can still be dealt with


def test_an_abstention_is_stored_and_needs_the_inspectors_labels(tmp_path: Path, notes_csv: Path) -> None:
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        summary = s.import_notes(notes_csv, "text", StraySuggester("abstain"), assessment="Old")
        assert summary.imported == summary.needs_review == len(NOTES)
        item = s.queue(order="uncertain")[0]
        assert (item.confidence, item.suggested_statement, item.needs_review) == (0.0, None, True)
        note = s.note(item.note_id)
        assert note.suggestion["reason"] == "no_content" and note.suggested_labels() is None
        with pytest.raises(ReviewError, match="no suggestion to accept"):
            s.confirm(note.id, "A")
        labels = Labels("", "safe.learning-culture", "processes", "good")
        decided = s.confirm(note.id, "A", labels=labels)
        assert (decided.action, decided.key_question) == ("corrected", "safe")


def test_stale_decision_is_a_conflict(store: ReviewStore) -> None:
    nid = _ids(store)[0]
    store.confirm(nid, "A", based_on=None)
    with pytest.raises(ConflictError):
        store.confirm(nid, "B", based_on=None)  # B saw the note before A decided
    assert len(store.history(nid)) == 1


def test_queue_orders_and_filters(store: ReviewStore) -> None:
    uncertain = store.queue(order="uncertain")
    confidences = [q.confidence for q in uncertain]
    assert confidences == sorted(confidences)
    flagged = store.queue(needs_review_only=True)
    assert flagged and all(q.needs_review for q in flagged)
    store.confirm(uncertain[0].note_id, "A")
    assert [q.note_id for q in store.queue(statuses=["accepted"])] == [uncertain[0].note_id]
    assert store.progress()["confirmed"] == 1


def test_summary_per_key_question(store: ReviewStore) -> None:
    for nid in _ids(store)[:3]:
        store.confirm(nid, "A")
    summary = {s["key_question"]: s for s in store.summary()}
    assert list(summary) == ["safe", "effective", "caring", "responsive", "well-led"]
    assert summary["safe"]["confirmed"] == 3
    assert sum(summary["safe"]["bands"].values()) == 3
    assert {s["id"] for s in summary["safe"]["statements"]} == {
        "safe.learning-culture", "safe.safeguarding", "safe.medicines-optimisation"}


# -- export ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("suffix", ["csv", "jsonl", "tsv", "xlsx", "parquet"])
def test_export_has_the_corpus_columns_and_only_confirmed_notes(store: ReviewStore, tmp_path: Path,
                                                                suffix: str) -> None:
    ids = _ids(store)
    store.confirm(ids[0], "A")
    store.confirm(ids[1], "A", labels=store.note(ids[1]).suggested_labels().replace(band="inadequate"))
    store.skip(ids[2], "A")
    store.confirm(ids[3], "A")
    store.undo(ids[3], "A")
    out = tmp_path / f"confirmed.{suffix}"
    assert store.export(out) == 2
    frame = read_table(out).reset_index(drop=True)
    assert list(frame.columns) == [*CORPUS_COLUMNS, *EXPORT_EXTRA_COLUMNS]
    assert list(frame["note_id"]) == ["N001", "N002"]
    assert list(frame["band"]) == ["good", "inadequate"]
    assert set(frame["service"]) == {"care_home"}
    # the export is valid training data
    if suffix in ("csv", "jsonl"):
        labelled = load_labelled(out, statements=[s.id for s in store.vocabulary.statements])
        assert len(labelled) == 2


def test_confirmed_labels_for_train(store: ReviewStore, tmp_path: Path) -> None:
    for nid in _ids(store)[:2]:
        store.confirm(nid, "A")
    frame = confirmed_labels(store.path)
    assert list(frame.columns) == list(CORPUS_COLUMNS) and len(frame) == 2
    assert export_confirmed(store.path, tmp_path / "x.csv", assessment="Oak House") == 2
    with pytest.raises(InputFileError, match="not found"):
        confirmed_labels(tmp_path / "missing.sqlite")
    with pytest.raises(InputFileError, match="unsupported file type '.docx'"):
        store.export(tmp_path / "x.docx")


def test_import_keeps_the_files_id_location_and_date_and_the_export_joins_back(tmp_path: Path) -> None:
    path = write_notes(tmp_path / "visit.csv", NOTES[:3], extra={
        "ref": ["R-17", "R-18", "R-19"], "ward": ["Ward 4", "Oak unit, LS1 4AB", ""],
        "seen": ["2025-03-03", "03/03/2025", "2025-03-04"]})
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        summary = s.import_notes(path, "text", FakeSuggester(), assessment="Oak", id_column="ref",
                                 location_column="ward", date_column="seen")
        assert (summary.id_column, summary.location_column, summary.date_column) == ("ref", "ward", "seen")
        items = s.queue()
        assert [(q.source_id, q.location, q.note_date) for q in items] == [
            ("R-17", "Ward 4", "2025-03-03"), ("R-18", "Oak unit, [POSTCODE]", "03/03/2025"), ("R-19", None, "2025-03-04")]
        note = s.note(items[0].note_id)
        assert (note.source_id, note.location, note.note_date) == ("R-17", "Ward 4", "2025-03-03")
        assert note.to_dict()["location"] == "Ward 4" and note.to_dict()["note_date"] == "2025-03-03"
        s.confirm(items[0].note_id, "Ann", rationale="log seen")
        s.confirm(items[1].note_id, "Bob", labels=s.note(items[1].note_id).suggested_labels().replace(band="good"))
        s.confirm(items[1].note_id, "Bob", labels=s.note(items[1].note_id).suggested_labels().replace(band="inadequate"))
        s.undo(items[1].note_id, "Cy")  # the decision in force is Bob's first one again
        out = tmp_path / "confirmed.csv"
        assert s.export(out) == 2
        with pytest.raises(InputFileError, match="no column 'place'"):
            s.import_notes(path, "text", FakeSuggester(), location_column="place")
    frame = pd.read_csv(out, dtype=str, keep_default_na=False)
    source = pd.read_csv(path, dtype=str, keep_default_na=False)
    joined = frame.merge(source, left_on="source_id", right_on="ref")
    assert list(joined["ref"]) == ["R-17", "R-18"] and list(joined["ward"]) == ["Ward 4", "Oak unit, LS1 4AB"]
    first, second = frame.to_dict("records")
    assert (first["source_file"], first["source_row"], first["location"], first["date"]) == (
        "visit.csv", "1", "Ward 4", "2025-03-03")
    assert (first["inspector"], first["rationale"], first["action"]) == ("Ann", "log seen", "accepted")
    assert first["decided_at"].endswith("Z") and first["assessment"] == "Oak"
    assert (second["inspector"], second["band"], second["action"]) == ("Bob", "good", "corrected")


def test_import_takes_location_and_date_columns_by_name_and_limits_rows(tmp_path: Path) -> None:
    path = write_notes(tmp_path / "v.csv", NOTES[:2], extra={"location": ["Ward 1", "Ward 2"], "date": ["2025-01-02", ""]})
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        with pytest.raises(TooLargeError, match="more than 1 rows"):
            s.import_notes(path, "text", FakeSuggester(), max_rows=1, batch_size=1)
        assert s.import_notes(path, "text", FakeSuggester(), max_rows=2).imported == 2
        assert [(q.source_id, q.location, q.note_date) for q in s.queue()] == [
            ("N001", "Ward 1", "2025-01-02"), ("N002", "Ward 2", None)]


# -- the audit trail cannot be rewritten ----------------------------------------------------------

def test_insert_or_replace_cannot_rewrite_a_decision(store: ReviewStore) -> None:
    nid = _ids(store)[0]
    first = store.confirm(nid, "Ann")
    row = dict(store.conn.execute("SELECT * FROM decisions WHERE id = ?", (first.id,)).fetchone())
    for conn in (store.conn, sqlite3.connect(store.path, isolation_level=None)):  # ours, and a plain connection
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute(f"INSERT OR REPLACE INTO decisions ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})",
                         [*{**row, "band": "inadequate"}.values()])
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("REPLACE INTO decisions (id, note_id, inspector, decided_at, action) "
                         "VALUES (?, ?, 'X', 'x', 'skipped')", (first.id, nid))
    assert store.conn.execute("SELECT band FROM decisions WHERE id = ?", (first.id,)).fetchone()[0] == first.band
    assert store.verify().ok


def test_notes_and_suggestions_cannot_be_moved_or_replaced(store: ReviewStore) -> None:
    nid = _ids(store)[0]
    other = store.ensure_assessment("Another visit")
    raw = sqlite3.connect(store.path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        raw.execute("UPDATE notes SET assessment_id = ? WHERE id = ?", (other.id, nid))
    with pytest.raises(sqlite3.IntegrityError, match="cannot be changed"):
        raw.execute("UPDATE notes SET source_id = 'X' WHERE id = ?", (nid,))
    with pytest.raises(sqlite3.IntegrityError, match="cannot be replaced"):
        raw.execute("INSERT OR REPLACE INTO notes (id, assessment_id, source_file, source_row, text, text_sha256, "
                    "imported_at) VALUES (?, ?, 'f.csv', 1, 'x', 'x', 'x')", (nid, other.id))
    sid = store.note(nid).suggestion_id
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("UPDATE suggestions SET note_id = ? WHERE id = ?", (_ids(store)[1], sid))
    with pytest.raises(sqlite3.IntegrityError, match="immutable"):
        raw.execute("INSERT OR REPLACE INTO suggestions (id, note_id, created_at, model_version, confidence, "
                    "needs_review, payload) VALUES (?, ?, 'x', 'x', 1, 0, '{}')", (sid, nid))
    raw.close()
    assert store.note(nid).assessment_id == store.assessment("Oak House").id


def test_the_hash_chain_seals_every_decision_and_verify_finds_tampering(store: ReviewStore) -> None:
    a, b = _ids(store)[:2]
    store.confirm(a, "Ann")
    store.confirm(b, "Ann", labels=store.note(b).suggested_labels().replace(band="good"), rationale="r")
    store.skip(a, "Bob")
    store.undo(a, "Bob")
    rows = store.conn.execute("SELECT id, prev_hash, hash FROM decisions ORDER BY id").fetchall()
    assert rows[0]["prev_hash"] == GENESIS and all(len(r["hash"]) == 64 for r in rows)
    assert [r["prev_hash"] for r in rows[1:]] == [r["hash"] for r in rows[:-1]]
    report = store.verify()
    assert report.ok and report.message().startswith("intact (4 decisions, ")

    # someone edits the file with the triggers dropped: a band changed in place
    raw = sqlite3.connect(store.path, isolation_level=None)
    raw.execute("DROP TRIGGER decisions_no_update")
    raw.execute("UPDATE decisions SET band = 'outstanding' WHERE id = ?", (rows[1]["id"],))
    raw.close()
    report = verify_chain(store.conn)
    assert (report.ok, report.broken_id, report.decisions) == (False, rows[1]["id"], 1)
    assert "does not match its hash" in report.message()


def test_verify_finds_removed_and_unsealed_decisions(store: ReviewStore) -> None:
    a, b = _ids(store)[:2]
    ids = [store.confirm(a, "Ann").id, store.skip(b, "Ann").id, store.skip(a, "Ann").id]
    raw = sqlite3.connect(store.path, isolation_level=None)
    raw.execute("DROP TRIGGER decisions_no_delete")
    raw.execute("DELETE FROM decisions WHERE id = ?", (ids[1],))
    report = verify_chain(store.conn)
    assert (report.ok, report.broken_id) == (False, ids[2]) and "does not follow" in report.problem
    raw.execute("DELETE FROM decisions WHERE id = ?", (ids[2],))
    assert "were removed" in verify_chain(store.conn).message()
    raw.execute("INSERT INTO decisions (note_id, inspector, decided_at, action) VALUES (?, 'Eve', 'x', 'skipped')",
                (b,))
    raw.close()
    assert "no hash" in verify_chain(store.conn).message()


# -- concurrency and crash safety ----------------------------------------------------------------

def _receive(conn, n: int, timeout: float) -> list[int]:
    """Up to ``n`` ids from ``conn``, waiting at most ``timeout`` seconds in all (each wait blocks on the pipe)."""
    got: list[int] = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not conn.poll(remaining):
            break
        got.append(conn.recv())
    return got


def test_two_writer_processes_lose_nothing(store: ReviewStore) -> None:
    n = 60
    ids = _ids(store)
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    procs = [ctx.Process(target=review_workers.writer, args=(str(store.path), name, ids, n, start))
             for name in ("A", "B")]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join(120)
        if p.exitcode is None:  # still running after the bounded wait: stop it, then fail
            p.kill()
            p.join(10)
        assert p.exitcode == 0
    counts = dict(store.conn.execute("SELECT inspector, count(*) FROM decisions GROUP BY inspector").fetchall())
    assert counts == {"A": n, "B": n}
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_sigkill_loses_no_committed_decision(store: ReviewStore) -> None:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=review_workers.committer, args=(str(store.path), _ids(store), child))
    proc.start()
    try:
        committed = _receive(parent, 25, timeout=60)
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # possibly in the middle of the next transaction
        proc.join(10)
    while parent.poll(0):  # ids sent before the kill, not read yet
        committed.append(parent.recv())
    assert len(committed) >= 25
    with ReviewStore.open(store.path) as after:
        stored = {r[0] for r in after.conn.execute("SELECT id FROM decisions WHERE inspector = 'K'")}
        assert set(committed) <= stored
        assert after.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        after.confirm(_ids(after)[0], "after")  # the database is still writable


# -- the real suggester ---------------------------------------------------------------------------

@pytest.mark.skipif(not (models_dir() / "heads.json").is_file(),
                    reason="no trained heads yet (models/heads.json appears after `evidencenlp train`)")
def test_import_with_the_real_suggester(tmp_path: Path, notes_csv: Path, suggester) -> None:
    """``suggester`` is tests/conftest.py's shared real ``Suggester.load()``."""
    with ReviewStore.open(tmp_path / "r.sqlite") as s:
        summary = s.import_notes(notes_csv, "text", suggester, assessment="real")
        assert summary.imported == len(NOTES)
        note = s.note(s.queue()[0].note_id)
        sg = note.suggestion
        for key in ("key_question", "statement", "statement_top3", "evidence_category", "band", "principles",
                    "evidence", "sentences", "needs_review", "model_version"):
            assert key in sg
        assert sg["model_version"].startswith("heads-")
        row = s.conn.execute("SELECT framework_versions FROM suggestions LIMIT 1").fetchone()[0]
        assert "cqc-saf-2023" in json.loads(row)
        decision = s.confirm(note.id, "real inspector")
        assert decision.action == "accepted"
        assert len(s.confirmed_frame()) == 1


@pytest.mark.parametrize("suffix", ["xlsx", "csv", "tsv"])
def test_export_to_a_spreadsheet_neutralises_formulas(store: ReviewStore, tmp_path: Path, suffix: str) -> None:
    from typer.testing import CliRunner

    from evidencenlp.cli import app

    ids = _ids(store)
    store.confirm(ids[0], "A", rationale='=HYPERLINK("http://evil","x")')
    out = tmp_path / f"confirmed.{suffix}"
    result = CliRunner().invoke(app, ["review-export", "--db", str(store.path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    if suffix == "xlsx":
        from openpyxl import load_workbook

        cells = [c for row in load_workbook(out).active.iter_rows() for c in row]
        assert not [c.coordinate for c in cells if c.data_type == "f"]
    frame = read_table(out)
    assert frame["rationale"].tolist() == ['\'=HYPERLINK("http://evil","x")']
