"""Clause embeddings pooled from the note's own encoder pass (:mod:`evidencenlp.encoder.spans`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from evidencenlp.encoder.spans import SpanEmbedder, encode_spans, span_weights
from evidencenlp.topics import segments, sentence_offsets

NOTE = ("The nurses were so kind and gentle with my mother. "
        "We waited over six hours in the emergency department and nobody told us anything.")
#: the lowest cosine accepted between a clause pooled from NOTE's pass and the clause encoded alone.
#: Measured on 806 clauses of 400 short notes (bench/run.py's short_notes, seed 5): mean 0.78, 5th
#: percentile 0.45, 1st 0.31; the two clauses of NOTE are whole sentences (0.86 and 0.88 when measured)
MIN_COSINE = 0.7


def test_span_weights_mark_tokens_inside_each_span_and_the_special_ones() -> None:
    # [CLS] "Staff" "were" "kind" "." [SEP]; "Staff were kind." is chars 0-16
    offsets = np.array([[0, 0], [0, 5], [6, 10], [11, 15], [15, 16], [0, 0]])
    special = np.array([True, False, False, False, False, True])
    weights, ok = span_weights(offsets, special, [(0, 10), (11, 16), (20, 30)], None)
    assert weights.tolist() == [[1, 1, 1, 0, 0, 1], [1, 0, 0, 1, 1, 1], [0] * 6]
    assert ok.tolist() == [True, True, False]  # the third span holds no token
    plain, _ = span_weights(offsets, special, [(0, 10)], None, include_special=False)
    assert plain.tolist() == [[0, 1, 1, 0, 0, 0]]
    # truncated after char 10: a span ending later is not pooled, even when it has tokens in the window
    _, ok = span_weights(offsets, special, [(0, 10), (6, 16)], window_end=10)
    assert ok.tolist() == [True, False]


class _Separate:
    """An embedder that cannot pool spans: a made-up vector per text (its length and first letter)."""

    backend, space, recipe = "fake", "fake", ""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % 384] = 1.0
            out[i, ord(t[0]) % 384] += 1.0
        return out


def test_an_embedder_that_cannot_pool_spans_encodes_every_piece_on_its_own() -> None:
    fake = _Separate()
    assert not isinstance(fake, SpanEmbedder)
    text = "Kind staff. Long wait."
    notes, pieces = encode_spans(fake, [text], [["Kind staff.", "Long wait."]], [[(0, 11), (12, 22)]])
    assert np.allclose(notes, fake.encode([text]))
    assert np.allclose(pieces, fake.encode(["Kind staff.", "Long wait."]))
    with pytest.raises(ValueError, match="one span"):
        encode_spans(fake, [text], [["Kind staff.", "Long wait."]], [[(0, 11)]])


@pytest.fixture(scope="module")
def torch_embedder():
    from evidencenlp.encoder import load_embedder

    embedder = load_embedder("torch")
    assert isinstance(embedder, SpanEmbedder)
    return embedder


def test_a_span_over_the_whole_note_is_the_notes_own_embedding(torch_embedder) -> None:
    texts = ["Staff were lovely.", "  The call bell rang for eleven minutes before anyone came.  "]
    whole = torch_embedder.encode(texts)
    spans = [[(0, len(texts[0]))], [(2, len(texts[1]) - 2)]]
    notes, vectors, pooled = torch_embedder.encode_spans(texts, spans)
    assert pooled.all()
    np.testing.assert_allclose(notes, whole, atol=1e-5)
    np.testing.assert_allclose(vectors, whole, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_clause_inside_the_window_is_close_to_the_clause_encoded_alone(torch_embedder) -> None:
    pieces = segments([NOTE[:50], NOTE[51:]])
    spans = sentence_offsets(NOTE, pieces)
    assert len(pieces) == 2 and None not in spans
    notes, vectors, pooled = torch_embedder.encode_spans([NOTE], [spans])
    alone = torch_embedder.encode(pieces)
    assert pooled.all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    cosine = vectors @ alone.T
    assert (np.diag(cosine) > MIN_COSINE).all(), np.diag(cosine)
    # each pooled clause is nearer its own clause than the other one, and not simply the whole note
    assert (cosine.argmax(axis=1) == [0, 1]).all()
    assert not np.allclose(vectors, notes[0], atol=1e-3)


def test_a_clause_beyond_the_truncated_window_is_encoded_on_its_own(torch_embedder) -> None:
    filler = " ".join(["The staff on the ward were kind and listened to us every single day."] * 30)
    last = "The food was cold"
    text = f"{filler} {last}"
    first = filler[:69]
    spans = [(0, len(first)), (len(text) - len(last), len(text))]
    _, _, pooled = torch_embedder.encode_spans([text], [spans])
    assert pooled.tolist() == [True, False]  # the note is far over 256 tokens: its last clause is cut off
    notes, vectors = encode_spans(torch_embedder, [text], [[first, last]], [spans])
    np.testing.assert_allclose(vectors[1], torch_embedder.encode([last])[0], atol=1e-5)
    np.testing.assert_allclose(notes[0], torch_embedder.encode([text])[0], atol=1e-5)
    # a piece not found in its text (no span) is encoded on its own too
    _, vectors = encode_spans(torch_embedder, [text], [[first, last]], [[spans[0], None]])
    np.testing.assert_allclose(vectors[1], torch_embedder.encode([last])[0], atol=1e-5)


def test_the_suggester_pools_a_notes_segments_from_its_pass_only_when_asked(suggester) -> None:
    saved = suggester.segment_embeddings
    try:
        suggester.segment_embeddings = "spans"
        spans = suggester.analyse([NOTE, "Staff were lovely."], sentences=False)
        suggester.segment_embeddings = "separate"
        separate = suggester.analyse([NOTE, "Staff were lovely."], sentences=False)
        suggester.segment_embeddings = "nonsense"
        with pytest.raises(ValueError, match="segment_embeddings"):
            suggester.analyse([NOTE], sentences=False)
    finally:
        suggester.segment_embeddings = saved
    assert spans.segments == separate.segments and len(spans.segments[0]) == 2 and spans.segments[1] == []
    assert spans.preds is not None and separate.preds is not None
    kq_spans, kq_separate = spans.preds.proba["key_question"], separate.preds.proba["key_question"]
    # the notes' own rows are the same either way; the segments' rows come from different vectors
    np.testing.assert_allclose(kq_spans[:2], kq_separate[:2], atol=1e-4)
    assert len(kq_spans) == len(kq_separate) == 4
    assert not np.allclose(kq_spans[spans.segment_rows[0]], kq_separate[separate.segment_rows[0]], atol=1e-4)


@pytest.mark.slow
def test_static_spans_are_the_clauses_own_embeddings() -> None:
    """A static model's vectors do not depend on context: a pooled clause is the clause encoded alone."""
    from evidencenlp.encoder import load_embedder

    static = load_embedder("static")
    assert isinstance(static, SpanEmbedder)
    pieces = segments([NOTE[:50], NOTE[51:]])
    spans = sentence_offsets(NOTE, pieces)
    notes, vectors, pooled = static.encode_spans([NOTE], [spans])
    assert pooled.all()
    np.testing.assert_allclose(notes, static.encode([NOTE]), atol=1e-5)
    np.testing.assert_allclose(vectors, static.encode(pieces), atol=1e-5)
    filler = " ".join(["The staff on the ward were kind and listened to us every single day."] * 40)
    text = f"{filler} The food was cold"
    _, _, pooled = static.encode_spans([text], [[(0, 69), (len(text) - 17, len(text))]])
    assert pooled.tolist() == [True, False]
