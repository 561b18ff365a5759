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


def test_chunk_topics_lean_on_the_note_as_the_per_note_topics_do(suggester) -> None:
    """``tag``'s joined-matrix path gives the per-note topics at a weight other than the default, and the
    weight reaches it (some topics cell changes from the clauses alone)."""
    saved = suggester.topic_note_direction
    try:
        suggester.topic_note_direction = 0.0
        alone = chunk_columns(suggester, STORIES).columns["topics"]
        suggester.topic_note_direction = 1.0
        _check(suggester, STORIES + ODD)
        leaning = chunk_columns(suggester, STORIES).columns["topics"]
    finally:
        suggester.topic_note_direction = saved
    assert leaning != alone


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


def test_band_probabilities_cells_are_the_json_text_of_each_row() -> None:
    from evidencenlp.tagging.columns import _band_probabilities_cells
    from evidencenlp.tagging.rows import band_probabilities_text

    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), 500)
    p[:5] = [[1.0, 0.0, 0.0, 0.0], [0.25, 0.25, 0.25, 0.25], [1e-9, 0.99995, 4.9e-5, 1e-6], [0.12345, 0.5, 0.3, 0.07655],
             [-0.0, 0.5, 0.5, 0.0]]
    for bands in (["outstanding", "good", "requires improvement", "inadequate"], ["a\"b", "é", "c", "d"]):
        want = [band_probabilities_text(dict(zip(bands, r))) for r in p.tolist()]
        assert _band_probabilities_cells(bands, p) == want
        assert [json.loads(c) for c in want] == [{b: round(v, 4) for b, v in zip(bands, r)} for r in p.tolist()]
    with_nan = p[:3].copy()
    with_nan[1, 2] = np.nan
    bands = ["w", "x", "y", "z"]
    assert _band_probabilities_cells(bands, with_nan) == [band_probabilities_text(dict(zip(bands, r)))
                                                          for r in with_nan.tolist()]


@pytest.mark.parametrize(("backend", "analysed_rows"), [("static", 2), ("torch", 4), ("onnx-int8", 4)])
def test_repeated_texts_are_analysed_once_only_where_vectors_ignore_the_batch(
        monkeypatch: pytest.MonkeyPatch, backend: str, analysed_rows: int) -> None:
    """torch's floats move in the last digits with a batch's padding, so there every row is analysed."""
    import types

    from evidencenlp.tagging import columns as columns_module

    seen: list[int] = []

    def fake_distinct(suggester: object, texts: list[str | None], progress: object) -> tuple[object, ...]:
        seen.append(len(texts))
        n = len(texts)
        return ({"reason": [None] * n}, list(texts), [None] * n, [True] * n)

    monkeypatch.setattr(columns_module, "_distinct_columns", fake_distinct)
    monkeypatch.setattr(columns_module, "_counted", lambda cols, texts, found, present: texts)
    suggester = types.SimpleNamespace(analyse=None, embedder=types.SimpleNamespace(backend=backend))
    out = columns_module.chunk_columns(suggester, ["kind staff", "long wait", "kind staff", "long wait"])  # type: ignore[arg-type]
    assert seen == [analysed_rows]
    assert out == ["kind staff", "long wait", "kind staff", "long wait"]
