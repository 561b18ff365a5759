"""The output contract holds for any note: random, adversarial, empty or foreign.

- the statement lies within the key question; ``statement_top3`` starts with the statement and is sorted
  (one distribution: no alternative is shown above the suggestion);
- the first evidence sentence belongs to the suggested statement (directly or through a v6 topic /
  KLOE the crosswalk links to it) and to the suggested band;
- notes with nothing to assess or not in English get no labels, a ``reason`` and ``needs_review``;
- the same holds for ``classify`` (``suggest``), ``tag`` output rows and per-sentence suggestions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

WORDS = ("staff call bell rang minutes nobody came residents medicines MAR chart gaps manager audit "
         "kind caring rude waited hours GP appointment referral safeguarding falls harm restraint "
         "no not never always dignity privacy complaint responded lessons learned leadership culture "
         "care plan reviewed nurse night shortage clean dirty ward food lovely excellent poor").split()

ADVERSARIAL = [
    "No falls with harm in 12 months.", "no restraint was used", "Call bell rang for ages overnight and nobody came.",
    "Excellent, kind staff. Terrible food. Rude receptionist.", "Not unsafe.", "!!!", "N/A", "ok", "nothing",
    "asdfgh jkl", "👍👍👍", "Roedd y staff yn garedig iawn ac roedd y gofal yn ardderchog.",
    "El personal fue muy amable y la atención excelente.", "Mr Men", "=SUM(A1:A9)", "a" * 3000,
    "Staff said the manager never listens. " * 30,
]


def _random_notes(n: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    notes = []
    for _ in range(n):
        words = rng.choice(WORDS, size=int(rng.integers(3, 25)))
        text = " ".join(words)
        if rng.random() < 0.3:
            text = text.replace(" ", ". ", 2).capitalize()
        notes.append(text)
    return notes


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return _random_notes(60) + ADVERSARIAL


def _check(suggester, s) -> None:
    index = suggester.index
    taxonomy = index.taxonomy
    if s.reason is not None:
        assert s.needs_review and s.key_question is None and s.statement is None and s.band is None
        assert s.principles == () and s.evidence == ()
        return
    assert taxonomy.key_question_of(s.statement.label) == s.key_question.label
    assert s.statement_top3[0] == s.statement
    scores = [x.score for x in s.statement_top3]
    assert scores == sorted(scores, reverse=True)  # one distribution: nothing shown above the suggestion
    assert all(isinstance(m.to_dict()["weak"], bool) for m in s.evidence)
    first = s.evidence[0]
    linked = index.crosswalk.saf_for(first.text.framework, first.text.item)
    assert s.statement.label in linked, (s.statement.label, first.text.framework, first.text.item)
    assert first.text.band == s.band.label
    for sentence in s.sentences:
        if sentence.key_question is not None:
            assert taxonomy.key_question_of(sentence.statement.label) == sentence.key_question.label


def test_suggest_keeps_the_contract_on_random_and_adversarial_notes(suggester, notes) -> None:
    results = suggester.suggest_many(notes)
    assert all(r is not None for r in results)
    for r in results:
        _check(suggester, r)
    by_text = dict(zip(notes, results))
    for placeholder in ("N/A", "ok", "nothing", "asdfgh jkl", "👍👍👍", "!!!"):
        assert by_text[placeholder].reason == "no_content", placeholder
    for foreign in ADVERSARIAL[11:13]:
        assert by_text[foreign].reason == "not_english"
    assert by_text["No falls with harm in 12 months."].reason is None


def test_tag_rows_keep_the_contract(suggester, notes, tmp_path) -> None:
    from evidencenlp.tagging import tag_file

    source = tmp_path / "notes.csv"
    pd.DataFrame({"id": range(len(notes)), "text": notes}).to_csv(source, index=False)
    out = tmp_path / "tagged.csv"
    tag_file(suggester, source, out, "text")
    tagged = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert len(tagged) == len(notes)
    taxonomy = suggester.index.taxonomy
    labelled = tagged[tagged["reason"] == ""]
    assert len(labelled) >= 55
    assert all(taxonomy.key_question_of(s) == k for s, k in zip(labelled["statement"], labelled["key_question"]))
    abstained = tagged[tagged["reason"] != ""]
    assert set(abstained["reason"]) <= {"no_content", "not_english"} and len(abstained) >= 8
    assert (abstained["statement"] == "").all() and (abstained["needs_review"] == "True").all()


def test_review_import_stores_only_suggestions_that_keep_the_contract(suggester, notes, tmp_path) -> None:
    import sqlite3

    from evidencenlp.review.store import import_notes

    source = tmp_path / "notes.csv"
    pd.DataFrame({"id": range(len(notes)), "text": notes}).to_csv(source, index=False)
    db = tmp_path / "review.sqlite"
    import_notes(db, source, "text", suggester, assessment="contract")
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key_question, statement FROM suggestions").fetchall()
    taxonomy = suggester.index.taxonomy
    labelled = [(k, s) for k, s in rows if s]
    assert len(rows) == len(notes) and len(labelled) >= 55
    assert all(taxonomy.key_question_of(s) == k for k, s in labelled)
