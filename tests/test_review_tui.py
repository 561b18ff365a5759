"""The terminal review flow, driven by scripted keys (no terminal needed)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from conftest_review import NOTES, FakeSuggester, StraySuggester, write_notes
from evidencenlp.cli import app
from evidencenlp.review.store import ReviewStore
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.tui import ReviewSession, StreamKeys

ENTER = "\r"


@pytest.fixture()
def store(tmp_path: Path):
    with ReviewStore.open(tmp_path / "review.sqlite") as s:
        s.import_notes(write_notes(tmp_path / "notes.csv"), "text", FakeSuggester(), assessment="Oak")
        yield s


def run(store: ReviewStore, keys: str, inspector: str = "J Smith", order: str = "file") -> tuple[object, str]:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=False, color_system=None)
    result = ReviewSession(store, inspector, StreamKeys(keys), console=console,
                           assessment_id=store.assessment("Oak").id, order=order).run()
    return result, out.getvalue()


def ids(store: ReviewStore) -> list[int]:
    return [q.note_id for q in store.queue()]


def test_accept_alternative_band_category_skip_and_quit(store: ReviewStore) -> None:
    n = ids(store)
    # note 1: accept · note 2: alternative 2, Enter · note 3: band 3, category 6, Enter · note 4: skip · quit
    result, screen = run(store, "a" + "2" + ENTER + "b3c6" + ENTER + "s" + "q")
    assert (result.accepted, result.corrected, result.skipped, result.quit) == (1, 2, 1, True)

    first, second, third, fourth = (store.note(i) for i in n[:4])
    assert first.status == "accepted" and first.current.inspector == "J Smith"
    assert first.current.statement == first.suggested_labels().statement
    alternative = second.suggestion["statement_top3"][1]["label"]
    assert second.status == "corrected" and second.current.statement == alternative
    assert second.current.key_question == alternative.split(".")[0]
    assert third.status == "corrected"
    assert (third.current.band, third.current.evidence_category) == ("requires_improvement", "outcomes")
    assert third.current.statement == third.suggested_labels().statement
    assert fourth.status == "skipped"
    assert all(d.client == "tui" for i in n[:4] for d in store.history(i))

    # the screen shows the suggestion, its confidence, the explaining sentence and the alternatives
    assert "Ward manager showed incident log" in screen
    assert "Learning culture" in screen and "%" in screen
    assert "We statement for safe.learning-culture" in screen
    assert "[1] suggested: Learning culture" in screen and "[3]" in screen
    assert "Run the same command to carry on" in screen


def test_undo_appends_and_shows_the_note_again(store: ReviewStore) -> None:
    n = ids(store)
    result, screen = run(store, "a" + "b4" + ENTER + "u" + "q")
    assert result.undone == 1
    assert store.note(n[0]).status == "accepted"
    second = store.note(n[1])
    assert second.status == "pending"
    assert [d.action for d in second.history] == ["corrected", "undone"]
    assert second.history[1].reverts == second.history[0].id
    assert result.notes_shown == [n[0], n[1], n[2], n[1]]  # note 2 came back after the undo

    # undo in a new session reaches the inspector's last decision still in force (note 1)
    result, _ = run(store, "uq")
    assert result.undone == 1 and store.note(n[0]).status == "pending"
    result, screen = run(store, "uq", inspector="Someone Else")
    assert result.undone == 0 and "Nothing of yours to undo" in screen


def test_skip_then_undo_keeps_the_total(store: ReviewStore) -> None:
    """Skip, undo (twice over): the walk still counts each note once ("Note 2 of N", never N+1)."""
    total = len(ids(store))
    result, screen = run(store, "s" + "u" + "s" + "u" + "a" + "q")
    assert result.undone == 2
    counts = {int(m) for m in re.findall(r"Note \d+ of (\d+)", screen)}
    assert counts == {total}, counts
    positions = [int(m) for m in re.findall(r"Note (\d+) of \d+", screen)]
    assert positions == [1, 2, 1, 2, 1, 2], positions  # the undone note comes back in its own place


def test_resume_starts_with_notes_without_a_decision(store: ReviewStore) -> None:
    n = ids(store)
    run(store, "a" + "s" + "a" + "q")       # note 1 accepted, note 2 skipped, note 3 accepted
    result, screen = run(store, "q")
    assert result.notes_shown == [n[3]]      # first note without a decision
    result, _ = run(store, "aaa" + "q")      # notes 4-6, then the skipped note 2 comes last
    assert result.notes_shown == [n[3], n[4], n[5], n[1]]
    assert store.progress()["pending"] == 0
    result, screen = run(store, "a")         # note 2 accepted; input ends: treated as quit
    assert store.progress()["confirmed"] == len(NOTES)
    result, screen = run(store, "")
    assert "Nothing to review" in screen


def test_order_uncertain_shows_least_certain_first(store: ReviewStore) -> None:
    result, _ = run(store, "q", order="uncertain")
    least = min(store.queue(), key=lambda q: q.confidence)
    assert result.notes_shown == [least.note_id]


def test_escape_and_unknown_keys_change_nothing(store: ReviewStore) -> None:
    result, screen = run(store, "b\x1b" + "x" + "9" + "?" + "q")
    assert result.decided == 0 and store.conn.execute("SELECT count(*) FROM decisions").fetchone()[0] == 0
    assert "No band chosen" in screen and "Unknown key 'x'" in screen and "There is no alternative 9" not in screen


@pytest.mark.parametrize("stray", ["key_question", "statement", "abstain"])
def test_stray_suggestions_do_not_stop_the_terminal_review(tmp_path: Path, stray: str) -> None:
    """A statement outside its key question is accepted under its own; a retired one or none is not."""
    with ReviewStore.open(tmp_path / "stray.sqlite") as s:
        s.import_notes(write_notes(tmp_path / "notes.csv"), "text", StraySuggester(stray), assessment="Oak")
        n = ids(s)
        # note 1: accept · note 2: band 1, Enter · then skip whatever is left on screen · quit
        result, screen = run(s, "a" + "b1" + ENTER + "s" + "q")
        first, second = s.note(n[0]), s.note(n[1])
        if stray == "key_question":
            taxonomy = default_taxonomy()
            assert (result.accepted, result.corrected, result.skipped) == (1, 1, 1)
            assert first.status == "accepted" and first.current.statement == first.suggested_labels().statement
            assert first.current.key_question == taxonomy.key_question_of(first.current.statement)
            assert second.status == "corrected" and second.current.band == taxonomy.bands[0]
            assert second.current.key_question == taxonomy.key_question_of(second.current.statement)
        else:
            expected = "Not saved: unknown quality statement" if stray == "statement" else "abstained (no_content)"
            assert expected in screen
            assert result.decided == 1 and first.status == "skipped" and second.status == "pending"


def test_cli_review_and_export(store: ReviewStore, tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(store.path)
    res = runner.invoke(app, ["review", "--db", db, "--inspector", "CLI Person", "--assessment", "Oak"],
                        input="a" + "3" + ENTER + "q")
    assert res.exit_code == 0, res.output
    assert store.progress()["confirmed"] == 2
    out = tmp_path / "confirmed.jsonl"
    res = runner.invoke(app, ["review-export", "--db", db, "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert len(out.read_text().splitlines()) == 2
    res = runner.invoke(app, ["review", "--db", db, "--inspector", "X", "--order", "random"], input="q")
    assert res.exit_code == 2 and "--order must be one of" in res.output


def test_cli_verify_reports_an_intact_log_and_the_first_tampered_decision(store: ReviewStore) -> None:
    import sqlite3

    runner = CliRunner()
    db = str(store.path)
    a, b = ids(store)[:2]
    store.confirm(a, "Ann")
    second = store.confirm(b, "Ann")
    res = runner.invoke(app, ["review", "verify", "--db", db])
    assert res.exit_code == 0, res.output
    assert "intact (2 decisions, 6 notes, 6 suggestions)" in res.output
    raw = sqlite3.connect(db, isolation_level=None)  # tampering with the file: triggers dropped, a band edited
    raw.execute("DROP TRIGGER decisions_no_update")
    raw.execute("UPDATE decisions SET band = 'outstanding' WHERE id = ?", (second.id,))
    raw.close()
    res = runner.invoke(app, ["review", "verify", "--db", db])
    assert res.exit_code == 1
    assert f"broken at decision {second.id}" in res.output and "does not match its hash" in res.output
    missing = runner.invoke(app, ["review", "verify", "--db", str(store.path.parent / "nope.sqlite")])
    assert missing.exit_code == 2 and "not found" in missing.output


def test_cli_import_keeps_id_location_and_date_columns_and_shows_them(tmp_path: Path) -> None:
    notes = write_notes(tmp_path / "visit.csv", NOTES[:2], extra={"ref": ["R1", "R2"], "ward": ["Ward 4", "Ward 5"],
                                                                 "seen": ["2025-03-03", "2025-03-04"]})
    db = tmp_path / "r.sqlite"
    runner = CliRunner()
    from unittest.mock import patch

    with patch("evidencenlp.suggest.Suggester.load", return_value=FakeSuggester()):
        res = runner.invoke(app, ["review", str(notes), "--db", str(db), "--inspector", "Jo", "--id-column", "ref",
                                  "--location-column", "ward", "--date-column", "seen"], input="a" + "q")
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())
    assert "id R1 · location Ward 4 · date 2025-03-03" in flat, flat
    assert "kept per note: id from column 'ref', location from column 'ward', date from column 'seen'" in flat
    out = tmp_path / "confirmed.csv"
    assert runner.invoke(app, ["review-export", "--db", str(db), "-o", str(out)]).exit_code == 0
    import pandas as pd

    row = pd.read_csv(out, dtype=str, keep_default_na=False).iloc[0]
    assert (row["source_id"], row["location"], row["date"], row["inspector"]) == ("R1", "Ward 4", "2025-03-03", "Jo")
    res = runner.invoke(app, ["review", "--db", str(db)], input="q")
    assert res.exit_code == 2 and "--inspector NAME is needed" in res.output


@pytest.mark.parametrize("command", ["review", "review-export", "serve"])
def test_help_lists_allowed_values_and_no_raw_type_labels(command: str) -> None:
    import re

    res = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert res.exit_code == 0, res.output
    raw = re.compile(r"<(path|str|int|int range|float|bool|text)>|\b(TEXT|PATH|INTEGER|FLOAT)\b")
    # the options (typer always labels a positional argument, and its own --help flag, with a type)
    lines = [line for line in res.output.splitlines() if " --" in line and "--help" not in line]
    assert not [line for line in lines if raw.search(line)], res.output
    if command == "review":
        assert "file|uncertain" in res.output and "care_home" in res.output and "verify" in res.output
