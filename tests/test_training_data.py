"""The labelled corpus and the framework-derived examples."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from conftest_review import FakeSuggester, write_notes
from evidencenlp.errors import DataError
from evidencenlp.frameworks import load_crosswalk, load_frameworks
from evidencenlp.review.store import ReviewStore, confirmed_labels
from evidencenlp.sources.decisions import decision_rows
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.training_data import (
    SERVICES,
    direction_patterns,
    framework_examples,
    load_corpus,
    validate_labelled,
)

REPO = Path(__file__).resolve().parents[1]
BANDS, EVIDENCE_CATEGORIES = default_taxonomy().bands, default_taxonomy().categories


@pytest.fixture(scope="module")
def statements() -> list[str]:
    return [q["id"] for q in load_frameworks()["cqc-saf-2023"].section("quality_statements")]


def test_corpus_size_and_coverage(statements) -> None:
    corpus = load_corpus(statements=statements)
    assert len(corpus) >= 800
    assert corpus["note_id"].is_unique and corpus["text"].is_unique
    per = corpus.groupby(["statement", "band"]).size().unstack(fill_value=0)
    assert set(per.index) == set(statements)
    assert (per[list(BANDS)] >= 4).all().all()
    assert set(corpus["evidence_category"]) == set(EVIDENCE_CATEGORIES)
    assert corpus["evidence_category"].value_counts().min() >= 50
    assert set(corpus["service"]) == set(SERVICES)
    assert (corpus.loc[corpus["band"] == "inadequate", "principles"] == "").all()


def test_framework_examples_file_is_current() -> None:
    fws = load_frameworks()
    fresh = framework_examples(fws, load_crosswalk(frameworks=fws)).fillna("")
    committed = pd.read_csv(REPO / "training" / "framework_examples.csv", dtype=str, keep_default_na=False)
    pd.testing.assert_frame_equal(fresh.reset_index(drop=True), committed, check_dtype=False)
    assert (fresh["evidence_category"] == "").all()  # never invented for framework text
    assert (fresh.loc[fresh["principles"] != "", "band"] == "outstanding").all()


def test_bad_labels_name_file_row_and_column(statements) -> None:
    frame = pd.DataFrame({"text": ["a", "b", "c"], "band": ["good", "great", ""],
                          "statement": ["safe.safeguarding", "", ""]})
    with pytest.raises(DataError, match=r"x.csv: column 'band', data row\(s\) 2: unexpected value 'great'"):
        validate_labelled(frame, "x.csv", statements)
    clash = pd.DataFrame({"text": ["a"], "statement": ["safe.safeguarding"], "key_question": ["caring"]})
    with pytest.raises(DataError, match="belongs to key question 'safe'"):
        validate_labelled(clash, "y.csv", statements)
    with pytest.raises(DataError, match="missing column"):
        validate_labelled(pd.DataFrame({"note": ["a"]}), "z.csv", statements)


def test_direction_patterns_teach_both_directions_of_the_issue_patterns() -> None:
    """Issue 14: waits, unanswered calls and short staffing negative; "no <harm>" negations positive."""
    fws = load_frameworks()
    rows = pd.DataFrame(direction_patterns(fws, load_crosswalk(frameworks=fws)))
    assert len(rows) >= 50 and rows["note_id"].is_unique
    assert (rows["origin"] == "framework:direction-patterns").all()
    negative = rows[rows["band"].isin(["requires_improvement", "inadequate"])]["text"].str.lower()
    positive = rows[rows["band"].isin(["good", "outstanding"])]["text"].str.lower()
    for words in ("wait", "answer", "staff"):
        assert negative.str.contains(words).any(), words
    assert positive.str.contains(r"\bno\b").sum() >= 5
    assert (rows["key_question"] == rows["statement"].str.split(".").str[0]).all()


@pytest.mark.parametrize(("group", "message"), [
    ({"topic": "safe.nowhere", "statement": "safe.safeguarding", "band": "good", "texts": ["x y"]}, "not a topic"),
    ({"topic": "safe.safe-staffing", "statement": "safe.safeguarding", "band": "good", "texts": ["x y"]},
     "not linked to topic"),
    ({"topic": "safe.safe-staffing", "statement": "safe.safe-and-effective-staffing", "band": "great",
      "texts": ["x y"]}, "band 'great'"),
    ({"topic": "safe.safe-staffing", "statement": "safe.safe-and-effective-staffing", "band": "good",
      "texts": []}, "texts must be"),
])
def test_bad_direction_pattern_group_names_file_and_group(tmp_path: Path, group: dict, message: str) -> None:
    import yaml

    path = tmp_path / "patterns.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "groups": [group]}), encoding="utf-8")
    fws = load_frameworks()
    with pytest.raises(DataError, match=message) as err:
        direction_patterns(fws, load_crosswalk(frameworks=fws), path)
    assert "patterns.yaml: group 1" in str(err.value)


def test_training_reads_review_decisions_read_only(tmp_path: Path) -> None:
    """`train --include-decisions` takes the confirmed labels through the review package's read-only reader:
    the same rows the store exports, and the database file is not written (it may even be read-only)."""
    db = tmp_path / "review.sqlite"
    with ReviewStore.open(db) as store:
        store.import_notes(write_notes(tmp_path / "notes.csv"), "text", FakeSuggester(), assessment="Oak")
        ids = [q.note_id for q in store.queue()]
        store.confirm(ids[0], "J Smith")
        store.skip(ids[1], "J Smith")
        store.confirm(ids[2], "J Smith")
    expected = confirmed_labels(db)
    before = db.read_bytes()
    os.chmod(db, stat.S_IRUSR)
    try:
        rows = decision_rows(db)
    finally:
        os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)
    assert db.read_bytes() == before
    assert list(rows["origin"].unique()) == ["decisions"]
    assert rows.drop(columns="origin").equals(expected)
    assert len(rows) == 2
