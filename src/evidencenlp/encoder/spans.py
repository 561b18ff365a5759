"""Embeddings of character spans of notes (a note's clauses) from the note's own encoder pass.

Topics pool a note's clauses (:func:`evidencenlp.topics.segments`), and each clause needs an
embedding. Encoding every clause as a text of its own runs the encoder over 2–3 texts per note;
*span pooling* runs it once per note and pools, for each clause, the vectors of the note's tokens
whose characters fall inside the clause, with the same pooling the model applies to a whole text
(mean over tokens, then L2 norm). The token vectors of a contextual encoder (``torch``) have seen the
rest of the note, so a span's vector is near, not equal to, the clause encoded alone (cosine 0.78 on
average, 0.45 at the 5th percentile, over 806 clauses of 400 short notes; 0.80 and 0.53 without the
special tokens); a static encoder's (``static``) token vectors do not depend on context, so
there a span's vector is the clause's own (up to truncation).

A span (partly) beyond the encoder's window (a note longer than ``MAX_TOKENS`` tokens is truncated),
or one no token falls in, cannot be pooled: it is encoded as a text of its own (:func:`encode_spans`).

:data:`SEGMENT_EMBEDDINGS` names the two ways; the suggester chooses one once
(:attr:`evidencenlp.suggest.Suggester.segment_embeddings`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from evidencenlp.encoder.base import DEFAULT_BATCH_SIZE, EMBEDDING_DIM, Embedder

#: how a note's clause embeddings are made: ``separate`` (each clause encoded as a text of its own)
#: or ``spans`` (pooled from the note's own pass, :func:`encode_spans`)
SEGMENT_EMBEDDINGS: tuple[str, ...] = ("separate", "spans")

Span = tuple[int, int]


@runtime_checkable
class SpanEmbedder(Protocol):
    """An embedder that can pool spans of its texts from the same pass (``torch``, ``static``).

    ``encode_spans(texts, spans)`` returns the texts' vectors ``(n, 384)``, the spans' vectors
    ``(m, 384)`` (``m`` = all spans, in order: text 0's, then text 1's …) and a boolean ``(m,)``
    saying which spans were pooled; a span not pooled (beyond the window, or holding no token) has a
    zero row, for the caller to encode on its own. Every pooled row and every text row is L2-normalised.
    """

    def encode_spans(self, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]: ...


def span_buffers(n_texts: int, spans: Sequence[Sequence[Span]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The empty outputs of an ``encode_spans``: each span's first row (``first``, ``(n_texts + 1,)``
    cumulative counts), the texts' vectors ``(n_texts, EMBEDDING_DIM)``, the spans' vectors and which
    spans were pooled (all zero / ``False``)."""
    first = np.cumsum([0, *(len(s) for s in spans)])
    total = int(first[-1])
    return (first, np.zeros((n_texts, EMBEDDING_DIM), dtype=np.float32),
            np.zeros((total, EMBEDDING_DIM), dtype=np.float32), np.zeros(total, dtype=bool))


def span_weights(offsets: np.ndarray, special: np.ndarray, spans: Sequence[Span], window_end: int | None,
                 include_special: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Which tokens each span pools.

    ``offsets`` ``(t, 2)`` are the character offsets of a text's tokens (in the encoder's window),
    ``special`` ``(t,)`` marks the special tokens (``[CLS]``, ``[SEP]``), which every pooled span
    includes with ``include_special`` (the model's mean pooling of a whole text includes them too: so
    a span covering the whole text pools exactly what the text's own vector pools); ``window_end`` is the last character the
    window reaches when the text was truncated (``None``: it was not).

    Returns a ``(k, t)`` 0/1 matrix (a span's row marks the non-special tokens lying wholly inside
    it, and the special ones) and a boolean ``(k,)``: the span was pooled (it ends within the window
    and holds at least one token). Rows of spans not pooled are zero.
    """
    starts, ends = offsets[:, 0], offsets[:, 1]
    plain = ~special
    weights = np.zeros((len(spans), len(offsets)), dtype=np.float32)
    pooled = np.zeros(len(spans), dtype=bool)
    for j, (a, b) in enumerate(spans):
        if window_end is not None and b > window_end:
            continue
        inside = plain & (starts >= a) & (ends <= b)
        if inside.any():
            weights[j] = (inside | special) if include_special else inside
            pooled[j] = True
    return weights, pooled


def encode_spans(embedder: Embedder, texts: Sequence[str], pieces: Sequence[Sequence[str]],
                 spans: Sequence[Sequence[Span | None]], batch_size: int = DEFAULT_BATCH_SIZE,
                 progress: Callable[[int], None] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The vectors of ``texts`` ``(n, 384)`` and of their ``pieces`` ``(m, 384)`` (flat, text by text).

    ``pieces[i]`` are substrings of ``texts[i]`` (its clauses) and ``spans[i]`` their character
    offsets in it (``None``: not found). With an embedder that can (:class:`SpanEmbedder`) the pieces
    are pooled from the texts' own pass; pieces it could not pool (beyond the window), those without
    a span, and all of them with an embedder that cannot pool, are encoded as texts of their own.
    Rows are L2-normalised.
    """
    if any(len(p) != len(s) for p, s in zip(pieces, spans, strict=True)):
        raise ValueError("each text needs one span (or None) per piece")
    flat = [(p, s) for ps, ss in zip(pieces, spans) for p, s in zip(ps, ss)]
    out = np.zeros((len(flat), EMBEDDING_DIM), dtype=np.float32)
    if isinstance(embedder, SpanEmbedder):
        known = [[s for s in ss if s is not None] for ss in spans]
        notes, pooled_vecs, pooled = embedder.encode_spans(texts, known, batch_size=batch_size, progress=progress)
        rows = [row for row, (_p, s) in enumerate(flat) if s is not None]
        out[rows] = pooled_vecs
        missing = [row for row in range(len(flat)) if flat[row][1] is None]
        missing += [row for row, ok in zip(rows, pooled) if not ok]
    else:
        notes = embedder.encode(list(texts), batch_size=batch_size, progress=progress)
        missing = list(range(len(flat)))
    if missing:
        missing.sort()
        out[missing] = embedder.encode([flat[row][0] for row in missing], batch_size=batch_size)
    return notes, out


__all__ = ["SEGMENT_EMBEDDINGS", "Span", "SpanEmbedder", "encode_spans", "span_weights"]
