"""The batch segmentation path (:func:`evidencenlp.text.process_many`) gives exactly what the spaCy
pipeline with its redactor gives, note by note (issue 24): the one-sentence shortcut and the batch
identifier pre-filters change the speed, never the sentences, the redacted text or the counts."""

from __future__ import annotations

import pytest

from evidencenlp.sentences import one_sentence
from evidencenlp.text import _from_doc, pipeline, process_many
from test_fast_paths import _notes, _variants

EDGES = ["Good.  ", "Good.\u00a0", "Good.\x1c", "Good?!", "etc.!", "Dr. Who", "Hi… there", "ok 。yes", "A.B",
         "No. 12 rang", "Great!!! ", "\u200bGood. Bad", "Mrs Patel. Rang 07700 900123!", "Why? Because.",
         "Nothing", "“Lovely staff.”", "(Good.) Bad", "Good!\nBad", "x" * 40 + "." + " y"]


@pytest.fixture(scope="module")
def notes() -> list[str]:
    return [n for n in _variants(_notes()) + EDGES if n.strip()]


@pytest.mark.parametrize("redact", [True, False])
def test_process_many_equals_the_spacy_pipeline(notes: list[str], redact: bool) -> None:
    sample = notes if redact else notes[::4]
    expected = [_from_doc(doc, redact) for doc in pipeline().pipe(sample, batch_size=256)]
    got = list(process_many(sample, redact=redact, batch_size=64))
    assert len(got) == len(expected)
    assert [i for i, (a, b) in enumerate(zip(got, expected)) if a != b] == []


def test_one_sentence_only_when_spacy_finds_one(notes: list[str]) -> None:
    said_one = [n for n in notes if one_sentence(n)]
    assert len(said_one) > len(notes) // 4  # the shortcut is taken (most short notes)
    counts = [len([s for s in doc.sents if s.text.strip()]) for doc in pipeline().pipe(said_one)]
    assert max(counts) == 1
    assert not one_sentence("Good. Bad") and not one_sentence("Why? Because.")
