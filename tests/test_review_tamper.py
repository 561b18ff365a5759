"""Tampering with a review database around evidencenlp: every case makes `review verify` fail.

The tamperer works as a person with the file would: a plain ``sqlite3`` connection, triggers
dropped, rows edited. The careful one then recomputes every hash with the documented algorithms
(:func:`reseal`: the decision chain of :mod:`evidencenlp.review.chain`, the ledger of
:mod:`evidencenlp.review.ledger`, in the original order) and puts the triggers back. The file is then
consistent in itself, and what catches the edit is the head the user kept from an earlier export
(``review verify --expect confirmed.csv``) or an earlier ``verify``.
"""

from __future__ import annotations

import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest_review import FakeSuggester, write_notes
from evidencenlp.cli import app
from evidencenlp.review import chain, ledger
from evidencenlp.review.audit import HEAD_COLUMN, read_expected
from evidencenlp.review.db import SCHEMA_VERSION
from evidencenlp.review.guards import GuardsChanged
from evidencenlp.review.schema import GUARDS
from evidencenlp.review.store import ReviewStore

RELEASE_V3 = Path(__file__).parent / "data" / "review_v3_release.sqlite"


@pytest.fixture()
def store(tmp_path: Path):
    """Six notes, five decisions (accept, correct, skip, accept then undo)."""
    with ReviewStore.open(tmp_path / "review.sqlite") as s:
        s.import_notes(write_notes(tmp_path / "notes.csv"), "text", FakeSuggester(), assessment="Oak House")
        ids = [q.note_id for q in s.queue()]
        s.confirm(ids[0], "Ann")
        s.confirm(ids[1], "Ann", labels=s.note(ids[1]).suggested_labels().replace(band="good"), rationale="log")
        s.skip(ids[2], "Bob")
        s.confirm(ids[3], "Bob")
        s.undo(ids[3], "Bob")
        yield s


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as someone editing the file would open it."""
    return sqlite3.connect(path, isolation_level=None)


def drop_triggers(conn: sqlite3.Connection) -> None:
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f"DROP TRIGGER {name}")


def reseal(path: Path) -> None:
    """Recompute every hash with the documented algorithms, keep the ledger's order, put the triggers back."""
    with closing(raw(path)) as conn:
        drop_triggers(conn)
        chain.backfill(conn)  # the decision chain, by the algorithm in chain.py's docstring
        entries = conn.execute("SELECT tbl, row_id FROM ledger ORDER BY seq").fetchall()
        conn.execute("DELETE FROM ledger")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'ledger'")
        for table, row_id in entries:
            if conn.execute(f"SELECT 1 FROM {table} WHERE id = ?", (row_id,)).fetchone():
                ledger.append(conn, table, row_id)
        ledger.backfill(conn)  # rows added by hand get entries too
        for sql in GUARDS.values():
            conn.execute(sql)


def verify(path: Path, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(app, ["review", "verify", "--db", str(path), *extra])
    return res.exit_code, res.output


def export_receipt(store: ReviewStore, tmp_path: Path) -> Path:
    """What a user keeps: the export made at the end of a session (it holds the log head)."""
    out = tmp_path / "confirmed.csv"
    res = CliRunner().invoke(app, ["review-export", "--db", str(store.path), "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def decision_ids(path: Path) -> list[int]:
    with closing(raw(path)) as conn:
        return [r[0] for r in conn.execute("SELECT id FROM decisions ORDER BY id")]


# -- an intact file -----------------------------------------------------------------------------------------------

def test_an_untouched_file_verifies_and_prints_its_head(store: ReviewStore, tmp_path: Path) -> None:
    code, out = verify(store.path)
    head = store.head()
    assert code == 0, out
    assert "intact (5 decisions, 6 notes, 6 suggestions)" in out and f"log head {head}" in out
    assert head.count == 17 and len(head.hash) == 64
    receipt = export_receipt(store, tmp_path)
    assert set(pd.read_csv(receipt, dtype=str)[HEAD_COLUMN]) == {str(head)}
    assert verify(store.path, "--expect", str(head))[0] == 0
    assert verify(store.path, "--expect", str(receipt))[0] == 0
    # later work extends the log: the old head still holds
    store.skip(store.queue()[5].note_id, "Cy")
    code, out = verify(store.path, "--expect", str(receipt))
    assert code == 0 and f"holds the expected head {head}" in out


# -- 1. the last decision deleted and sqlite_sequence lowered -----------------------------------------------------

def test_deleting_the_last_decision_and_lowering_the_counter(store: ReviewStore, tmp_path: Path) -> None:
    receipt = export_receipt(store, tmp_path)
    last = decision_ids(store.path)[-1]
    with closing(raw(store.path)) as conn:
        conn.execute("DROP TRIGGER decisions_no_delete")
        conn.execute("DELETE FROM decisions WHERE id = ?", (last,))
        conn.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'decisions'", (last - 1,))
        conn.execute(GUARDS["decisions_no_delete"])
    code, out = verify(store.path)
    assert code == 1 and f"decision {last} was removed" in out
    # the careful tamperer also cuts the log short and recomputes it: only the kept head shows it
    reseal(store.path)
    assert verify(store.path)[0] == 0
    code, out = verify(store.path, "--expect", str(receipt))
    assert code == 1 and "fewer than the 17 of the expected head" in out


# -- 2. every decision deleted ------------------------------------------------------------------------------------

def test_deleting_every_decision(store: ReviewStore, tmp_path: Path) -> None:
    head = store.head()
    with closing(raw(store.path)) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM decisions")
        conn.execute("DELETE FROM sqlite_sequence WHERE name = 'decisions'")
        for sql in GUARDS.values():
            conn.execute(sql)
    code, out = verify(store.path)
    assert code == 1 and "was removed (it is in the log but not in the table)" in out
    reseal(store.path)
    assert verify(store.path)[0] == 0  # consistent in itself: 0 decisions, 6 notes, 6 suggestions
    code, out = verify(store.path, "--expect", str(head))
    assert code == 1 and "fewer than" in out


# -- 3. a band changed, or a middle row deleted, and the chain recomputed -----------------------------------------

def test_changing_a_band_and_recomputing_the_decision_chain(store: ReviewStore, tmp_path: Path) -> None:
    receipt = export_receipt(store, tmp_path)
    second = decision_ids(store.path)[1]
    with closing(raw(store.path)) as conn:
        drop_triggers(conn)
        conn.execute("UPDATE decisions SET band = 'outstanding' WHERE id = ?", (second,))
        chain.backfill(conn)  # the documented algorithm: the decision chain is consistent again
        for sql in GUARDS.values():
            conn.execute(sql)
    assert chain.verify_chain(store.conn).ok
    code, out = verify(store.path)
    assert code == 1 and f"decision {second} was changed after it was stored" in out
    reseal(store.path)
    assert verify(store.path)[0] == 0
    code, out = verify(store.path, "--expect", str(receipt))
    assert code == 1 and "log entry 17 differs from the expected head" in out


def test_deleting_a_middle_decision_and_recomputing_the_decision_chain(store: ReviewStore, tmp_path: Path) -> None:
    receipt = export_receipt(store, tmp_path)
    middle = decision_ids(store.path)[2]
    with closing(raw(store.path)) as conn:
        drop_triggers(conn)
        conn.execute("DELETE FROM decisions WHERE id = ?", (middle,))
        chain.backfill(conn)
        for sql in GUARDS.values():
            conn.execute(sql)
    assert chain.verify_chain(store.conn).ok
    code, out = verify(store.path)
    assert code == 1 and f"decision {middle} was removed" in out
    reseal(store.path)
    assert verify(store.path)[0] == 0
    code, out = verify(store.path, "--expect", str(receipt))
    assert code == 1 and "fewer than the 17" in out


# -- 4. a forged decision appended with a computed hash ----------------------------------------------------------

def test_appending_a_forged_decision_with_a_computed_hash(store: ReviewStore) -> None:
    note = store.queue()[5].note_id
    with closing(raw(store.path)) as conn:
        conn.row_factory = sqlite3.Row
        row = {"note_id": note, "suggestion_id": None, "inspector": "Eve", "decided_at": "2025-01-01T00:00:00.000Z",
               "action": "skipped", "key_question": None, "statement": None, "evidence_category": None,
               "band": None, "principles": "", "rationale": None, "reverts": None, "restores": None, "client": None}
        sealed = chain.seal(conn, row)  # prev_hash and hash as the documented algorithm computes them
        columns = (*chain.HASHED_COLUMNS, "prev_hash", "hash")
        conn.execute(f"INSERT INTO decisions ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                     [sealed[c] for c in columns])
    assert chain.verify_chain(store.conn).ok
    code, out = verify(store.path)
    assert code == 1 and f"decision {sealed['id']} is not in the log (added around evidencenlp)" in out


def test_a_forged_row_appended_with_its_ledger_entry_looks_like_later_work(store: ReviewStore) -> None:
    """The documented limit: after the last head kept, an appended row sealed by the algorithm is not caught."""
    head = store.head()
    with closing(raw(store.path)) as conn:
        conn.execute("INSERT INTO decisions (note_id, inspector, decided_at, action) VALUES (1, 'Eve', 'x', "
                     "'skipped')")
    assert verify(store.path)[0] == 1
    reseal(store.path)
    code, out = verify(store.path, "--expect", str(head))
    assert code == 0 and "intact (6 decisions" in out


# -- 5. a note's redacted text or a suggestion's band edited ------------------------------------------------------

@pytest.mark.parametrize(("table", "edit"), [("notes", "UPDATE notes SET text = 'Nothing wrong here.' WHERE id = ?"),
                                             ("suggestions", "UPDATE suggestions SET band = 'outstanding' WHERE id = ?")])
def test_editing_a_note_or_a_suggestion(store: ReviewStore, tmp_path: Path, table: str, edit: str) -> None:
    receipt = export_receipt(store, tmp_path)
    with closing(raw(store.path)) as conn:
        drop_triggers(conn)
        target = conn.execute(f"SELECT max(id) FROM {table}").fetchone()[0]
        assert conn.execute(edit, (target,)).rowcount == 1
        for sql in GUARDS.values():
            conn.execute(sql)
    code, out = verify(store.path)
    noun = table[:-1]
    assert code == 1 and f"{noun} {target} was changed after it was stored" in out
    assert "Nothing wrong here" not in out  # never a note's text
    reseal(store.path)
    assert verify(store.path)[0] == 0
    code, out = verify(store.path, "--expect", str(receipt))
    assert code == 1 and "differs from the expected head" in out


def test_renaming_the_assessment_of_sealed_notes(store: ReviewStore) -> None:
    with closing(raw(store.path)) as conn:
        conn.execute("UPDATE assessments SET name = 'Elm House'")
    code, out = verify(store.path)
    assert code == 1 and "was changed after it was stored" in out


def test_a_note_added_around_evidencenlp(store: ReviewStore) -> None:
    with closing(raw(store.path)) as conn:
        conn.execute("INSERT INTO notes (assessment_id, source_file, source_row, text, text_sha256, imported_at) "
                     "VALUES (1, 'x.csv', 1, 'x', 'x', 'x')")
    code, out = verify(store.path)
    assert code == 1 and "is not in the log (added around evidencenlp)" in out


# -- 6. triggers dropped or replaced with no-ops ------------------------------------------------------------------

def test_dropped_triggers_are_reported_and_the_file_is_refused_until_restored(store: ReviewStore) -> None:
    with closing(raw(store.path)) as conn:
        conn.execute("DROP TRIGGER decisions_no_delete")
    with pytest.raises(GuardsChanged, match="trigger decisions_no_delete is missing.*review verify"):
        ReviewStore.open(store.path)
    res = CliRunner().invoke(app, ["review-export", "--db", str(store.path), "-o", str(store.path.parent / "x.csv")])
    assert res.exit_code == 2 and "trigger decisions_no_delete is missing" in res.output
    assert "Traceback" not in res.output
    code, out = verify(store.path)
    assert code == 1 and "trigger decisions_no_delete is missing" in out
    code, out = verify(store.path, "--restore-triggers")
    assert code == 1 and "restored 1 trigger(s)" in out  # this run still reports what it found
    assert verify(store.path)[0] == 0
    with ReviewStore.open(store.path) as again:
        assert again.verify().ok


def test_triggers_replaced_with_no_ops_or_added_are_reported(store: ReviewStore) -> None:
    with closing(raw(store.path)) as conn:
        conn.execute("DROP TRIGGER decisions_no_update")
        conn.execute("CREATE TRIGGER decisions_no_update BEFORE UPDATE ON decisions BEGIN SELECT 1; END")
        conn.execute("CREATE TRIGGER quiet AFTER INSERT ON notes BEGIN SELECT 1; END")
    code, out = verify(store.path)
    assert code == 1
    assert "trigger decisions_no_update was altered" in out and "trigger quiet is not one of evidencenlp's" in out
    assert verify(store.path, "--restore-triggers")[0] == 1
    assert verify(store.path)[0] == 0
    with closing(raw(store.path)) as conn, pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE decisions SET band = 'good'")


def test_the_ledger_itself_is_append_only(store: ReviewStore) -> None:
    with closing(raw(store.path)) as conn:
        for sql in ("UPDATE ledger SET hash = 'x'", "DELETE FROM ledger", "DELETE FROM notes WHERE id = 6",
                    "DELETE FROM suggestions WHERE id = 6",
                    "INSERT OR REPLACE INTO ledger (seq, tbl, row_id, row_hash, prev_hash, hash) "
                    "VALUES (1, 'notes', 1, 'x', 'x', 'x')"):
            with pytest.raises(sqlite3.IntegrityError):
                conn.execute(sql)


# -- --expect: what it accepts ------------------------------------------------------------------------------------

def test_expect_reads_a_head_an_export_or_a_receipt_and_says_clearly_what_is_wrong(store: ReviewStore,
                                                                                    tmp_path: Path) -> None:
    head = store.head()
    assert read_expected(str(head)) == head
    assert read_expected(f"{head.count}:{head.hash[:16]}") == ledger.Head(head.count, head.hash[:16])
    note = tmp_path / "receipt.txt"
    note.write_text(f"Oak House, end of day 1: log head {head}\n")
    assert read_expected(str(note)) == head
    xlsx = tmp_path / "confirmed.xlsx"
    res = CliRunner().invoke(app, ["review-export", "--db", str(store.path), "-o", str(xlsx)])
    assert res.exit_code == 0, res.output
    assert verify(store.path, "--expect", str(xlsx))[0] == 0
    for bad, says in (("12:abc", "neither a log head"), (str(tmp_path / "none.csv"), "neither a log head")):
        code, out = verify(store.path, "--expect", bad)
        assert code == 2 and says in out and "Traceback" not in out
    empty = tmp_path / "empty.txt"
    empty.write_text("nothing here\n")
    code, out = verify(store.path, "--expect", str(empty))
    assert code == 2 and "holds no log head" in out
    code, out = verify(store.path, "--expect", f"{head.count + 5}:{head.hash}")
    assert code == 1 and "fewer than" in out


# -- old files ----------------------------------------------------------------------------------------------------

def test_a_file_made_by_the_release_is_migrated_and_verifies_intact(tmp_path: Path) -> None:
    path = tmp_path / "release.sqlite"
    shutil.copy(RELEASE_V3, path)
    with closing(raw(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 3
        before = conn.execute("SELECT * FROM decisions ORDER BY id").fetchall()
    code, out = verify(path)
    assert code == 0 and "intact (6 decisions, 6 notes, 6 suggestions)" in out, out
    with ReviewStore.open(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [tuple(r) for r in store.conn.execute("SELECT * FROM decisions ORDER BY id")] == before
        nid = store.queue()[5].note_id
        store.confirm(nid, "Cy")
        assert store.verify().ok and store.head().count == 19
    with closing(raw(path)) as conn:  # and tampering with it afterwards is caught like any other
        drop_triggers(conn)
        conn.execute("UPDATE notes SET text = 'x' WHERE id = 1")
    assert verify(path)[0] == 1


def test_a_release_file_whose_triggers_were_dropped_is_not_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "release.sqlite"
    shutil.copy(RELEASE_V3, path)
    with closing(raw(path)) as conn:
        conn.execute("DROP TRIGGER decisions_no_update")
        original = (list(conn.iterdump()), conn.execute("PRAGMA user_version").fetchone()[0])
    code, out = verify(path)
    assert code == 1 and "trigger decisions_no_update is missing" in out and "not upgraded" in out
    with pytest.raises(GuardsChanged):
        ReviewStore.open(path)
    with closing(raw(path)) as conn:  # the content is as it was (opening only switched the journal to WAL)
        assert (list(conn.iterdump()), conn.execute("PRAGMA user_version").fetchone()[0]) == original


# -- the web page's export and summary carry the head -------------------------------------------------------------

def test_the_web_export_and_summary_carry_the_log_head(store: ReviewStore, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from evidencenlp.web import InlineJobRunner, create_app

    head = str(store.head())
    web = create_app(store.path, suggester=FakeSuggester(), inspector="Ann", allowed_hosts=None,
                     runner=InlineJobRunner())
    with TestClient(web) as client:
        assert client.get("/api/summary").json()["log_head"] == head
        res = client.get("/api/export", params={"format": "csv"})
        assert res.status_code == 200 and res.headers["x-log-head"] == head
        saved = tmp_path / "downloaded.csv"
        saved.write_bytes(res.content)
    assert verify(store.path, "--expect", str(saved))[0] == 0
