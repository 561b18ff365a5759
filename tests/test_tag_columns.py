"""``tag``'s columns built for a whole chunk from arrays (:func:`evidencenlp.tagging.columns.chunk_columns`)
are exactly the cells :func:`~evidencenlp.tagging.rows.flat_row` gives note by note (issue 24): same
labels, scores, review flags, explaining sentences, topics (one topic and several), redacted texts and
counts, for blank, abstained and tagged notes, with and without a fixed evidence category."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

from evidencenlp.tagging.columns import chunk_columns
from evidencenlp.tagging.rows import FLAT_COLUMNS, empty_row, flat_row
from test_fast_paths import _notes, _variants

#: notes of several topics (sentences about different key questions), so the pooled-topic path runs
STORIES = [
    "The receptionist was rude and I waited three hours. The nurse who saw me was kind and explained everything.",
    "Medicines were not stored safely on the ward. Staff did not know who the manager was. Food was cold.",
    "Lovely caring staff. But the car park is a disgrace and there were no appointments for weeks. Mrs Patel "
    "rang 07700 900123 twice.",
]
ODD = [None, "", "   ", "ok", "Nothing.", "asdfgh", "Très bien, merci beaucoup pour tout", "😀😀"]


def _check(suggester, notes: list[str | None]) -> None:
    results = suggester.suggest_many(notes, sentences=False, evidence=False, topics=True)
    expected = [flat_row(r) if r is not None else empty_row() for r in results]
    got = chunk_columns(suggester, notes)
    for column in FLAT_COLUMNS:
        want = [row[column] for row in expected]
        have = got.columns[column]
        assert [(type(v), v) for v in have] == [(type(v), v) for v in want], column
    assert got.texts == [r.text if r is not None else n for r, n in zip(results, notes)]
    present = [r for r in results if r is not None]
    assert got.tagged == len(present) and got.blank == len(notes) - len(present)
    assert got.needs_review == sum(r.needs_review for r in present)
    assert got.abstained == Counter(r.reason for r in present if r.reason is not None)
    assert got.redactions == sum((Counter(r.redactions) for r in present), Counter())
    assert any(len(json.loads(t)) > 1 for t in got.columns["topics"] if t)  # several topics seen


@pytest.mark.parametrize("category", [None, "people_experience"])
def test_chunk_columns_equal_the_per_note_rows(suggester, category: str | None) -> None:
    notes = STORIES + ODD + _variants(_notes())[::60]
    before = suggester.evidence_category
    suggester.evidence_category = category
    try:
        _check(suggester, notes)
    finally:
        suggester.evidence_category = before


@pytest.mark.slow
def test_chunk_columns_equal_the_per_note_rows_static_backend() -> None:
    from evidencenlp.suggest import Suggester

    _check(Suggester.load(backend="static"), STORIES + ODD + _variants(_notes())[::3])


def test_without_topics_each_note_keeps_only_its_main_suggestion(suggester) -> None:
    """``tag --no-topics``: the topics column holds the main suggestion only; every other column is unchanged."""
    notes = STORIES + ODD
    with_topics = chunk_columns(suggester, notes)
    suggester.tag_topics = False
    try:
        without = chunk_columns(suggester, notes)
    finally:
        suggester.tag_topics = True
    for column in FLAT_COLUMNS:
        if column != "topics":
            assert without.columns[column] == with_topics.columns[column], column
    assert without.texts == with_topics.texts  # the same redacted text without segmenting
    for cell, kq in zip(without.columns["topics"], without.columns["key_question"]):
        if kq:
            (topic,) = json.loads(cell)
            assert topic["key_question"] == kq
    assert any(len(json.loads(t)) > 1 for t in with_topics.columns["topics"] if t)


@pytest.fixture(scope="module")
def static_suggester():
    from evidencenlp.suggest import Suggester

    return Suggester.load(backend="static")


def test_repeated_notes_are_analysed_once_and_get_the_same_cells(static_suggester) -> None:
    """A chunk whose notes repeat (short comments do) is analysed per distinct text: every row gets the
    cells, text and counts that tagging each row gives, the counts in the same (row) order."""
    from evidencenlp.tagging.columns import per_note_columns

    distinct = STORIES + ODD + _variants(_notes())[::150]
    rng = np.random.default_rng(7)
    notes = [distinct[i] for i in rng.integers(0, len(distinct), 3 * len(distinct))]
    assert len(set(notes)) < len(notes)
    calls: list[int] = []
    got = chunk_columns(static_suggester, notes, progress=calls.append)
    want = per_note_columns(static_suggester, notes)
    for column in FLAT_COLUMNS:
        assert [(type(v), v) for v in got.columns[column]] == [(type(v), v) for v in want.columns[column]], column
    assert got.texts == want.texts
    assert (got.tagged, got.blank, got.needs_review) == (want.tagged, want.blank, want.needs_review)
    assert list(got.abstained.items()) == list(want.abstained.items())
    assert list(got.redactions.items()) == list(want.redactions.items())
    assert 0 < sum(calls) <= got.tagged
