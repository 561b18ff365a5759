"""The review page's live indicative rating and `assess --db`: one reader of the decisions in force, one computation.

Fast: the fake keyword suggester of ``conftest_review`` and a stand-in for the encoder behind the
"what would make this outstanding" hint (the hint is not what these tests are about).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from conftest_review import NOTES, FakeSuggester, write_notes
from evidencenlp.assess import assess_store
from evidencenlp.review.in_force import decisions_in_force, open_read_only
from evidencenlp.review.models import Labels
from evidencenlp.review.store import ReviewStore
from evidencenlp.web import InlineJobRunner, create_app


@pytest.fixture(autouse=True)
def no_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """A deterministic stand-in for the sentence encoder (only the outstanding hint calls it here)."""
    def fake(texts, *_, **__):  # type: ignore[no-untyped-def]
        rows = [np.frombuffer(str(t).encode("utf-8")[:8].ljust(8, b" "), dtype=np.uint8).astype(np.float32)
                for t in texts]
        out = np.stack(rows) if rows else np.zeros((0, 8), dtype=np.float32)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-6)
    monkeypatch.setattr("evidencenlp.encoder.encode", fake)


def _store(tmp_path: Path) -> Path:
    path = tmp_path / "review.sqlite"
    with ReviewStore.open(path) as store:
        store.import_notes(write_notes(tmp_path / "notes.csv", NOTES * 2), "text", FakeSuggester(), "Oak",
                           id_column="note_id")
    return path


def test_decisions_in_force_is_what_the_store_and_assess_read(tmp_path: Path) -> None:
    path = _store(tmp_path)
    with ReviewStore.open(path) as store:
        items = store.queue()
        first, second, third = (i.note_id for i in items[:3])
        store.confirm(first, "Ann")                                              # accepted as suggested
        labels = Labels("caring", "caring.kindness-compassion-and-dignity", "observation", "inadequate")
        store.confirm(second, "Ann", labels=labels)                              # corrected
        store.confirm(third, "Ann", labels=labels)
        store.undo(third, "Ann")                                                 # undone: back to the suggestion
        from_store = {n.note_id: n for n in store.decisions_in_force()}
    with open_read_only(path) as conn:
        read_only = {n.note_id: n for n in decisions_in_force(conn)}
    assert from_store == read_only and len(read_only) == len(NOTES) * 2
    assert (read_only[first].status, read_only[first].confirmed) == ("accepted", True)
    assert (read_only[second].status, read_only[second].band, read_only[second].statement) == (
        "corrected", "inadequate", "caring.kindness-compassion-and-dignity")
    assert not read_only[third].confirmed and read_only[third].status == "pending"
    assert read_only[third].band == FakeSuggester().suggest(NOTES[2]).band.label  # type: ignore[union-attr]
    records = {r.note_id: r for r in assess_store(path, "Oak").locations[0].key_questions["caring"].statements[0].notes}
    assert records[second].source == "corrected" and records[second].weight == 1.0 and records[second].band == "inadequate"


def test_the_page_and_assess_db_give_the_same_rating_on_the_same_decisions(tmp_path: Path) -> None:
    db = tmp_path / "review.sqlite"
    web = create_app(db, suggester=FakeSuggester(), inspector="Ann", allowed_hosts=None, runner=InlineJobRunner())
    runner = CliRunner()
    from evidencenlp.cli import app as cli_app

    with TestClient(web) as client:
        res = client.post("/api/upload", params={"filename": "notes.csv", "assessment": "Oak", "id_column": "note_id"},
                          content=write_notes(tmp_path / "notes.csv", NOTES * 3).read_bytes(),
                          headers={"content-type": "application/octet-stream"})
        assert res.status_code == 200, res.text
        items = client.get("/api/queue").json()["items"]
        seen = []
        # three steps: nothing decided, some accepted, one corrected to inadequate
        for step in range(3):
            if step == 1:
                for item in items[:6]:
                    assert client.post(f"/api/notes/{item['note_id']}/confirm", json={"inspector": "Ann"}).status_code == 200
            if step == 2:
                labels = {"key_question": "responsive", "statement": "responsive.person-centred-care",
                          "evidence_category": "observation", "band": "inadequate", "principles": []}
                res = client.post(f"/api/notes/{items[7]['note_id']}/confirm", json={"inspector": "Ann", "labels": labels})
                assert res.status_code == 200, res.text
            page = client.get("/api/assessment").json()["location"]
            cli = runner.invoke(cli_app, ["assess", "--db", str(db), "--assessment", "Oak", "--format", "json"])
            assert cli.exit_code == 0, cli.output
            command = json.loads(cli.stdout)["locations"][0]
            for kq in page["key_questions"].values():
                kq.pop("note_ids")  # the page's links, added after the shared computation
            assert page == command, f"step {step}"
            seen.append({k: v["rating"] for k, v in page["key_questions"].items()})
        assert page["confirmed_notes"] == 7
        # the fake suggests no responsive note; one confirmed inadequate note is evidence on its own
        assert seen[0]["responsive"] is None and seen[2]["responsive"] == "inadequate"
        assert page["key_questions"]["responsive"]["thin"] and page["overall"]["provisional"]
