"""The labelled corpus and the framework-derived examples."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidencenlp.errors import DataError
from evidencenlp.frameworks import load_crosswalk, load_frameworks
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.training_data import SERVICES, framework_examples, load_corpus, validate_labelled

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
