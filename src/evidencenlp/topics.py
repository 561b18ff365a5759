"""Topics of a long note: which key questions its sentences are about, pooled with the whole-note answer.

A story about waiting and about kind staff is about two things; one key question per note cannot say
so. This module holds the pooling rule as small functions over probability arrays (no model, no text
processing), so it can be tested with hand-made arrays and measured on its own
(:mod:`evidencenlp.evaluation.topics`):

1. the whole note's most probable key question is always a topic (the *main* topic, listed first;
   its score is the larger of its whole-note probability and its pooled score);
2. every sentence is about its own most probable key question; another key question becomes a topic
   when at least one sentence is about it and its pooled score clears ``threshold``:
   ``score(k) = whole_weight * P_note(k) + (1 - whole_weight) * max over those sentences of P_sentence(k)``;
3. a sentence whose key question did not become a topic joins the topic it gives the highest probability;
4. sentences about the same key question make one topic, whatever their statements: statements of one
   key question overlap too much, sentence by sentence, to split a topic on them.

A note of one sentence, or whose sentences add no topic, has exactly one topic: its main suggestion.
The default ``threshold`` and ``whole_weight`` were chosen on leave-one-trust-out composites of
phase-1 comments (see the README, "Topics", and ``evidencenlp evaluate --topics``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: a non-main key question becomes a topic when its pooled score is at least this; chosen by topic F1
#: on leave-one-trust-out phase-1 composites (``evaluate --topics``: the same choice on every fold)
DEFAULT_THRESHOLD = 0.3
#: weight of the whole note's probability in a topic's pooled score (the rest: its best sentence)
DEFAULT_WHOLE_WEIGHT = 0.5


@dataclass(frozen=True)
class TopicGroup:
    """One topic found by :func:`pool_topics`.

    ``key_question`` is a column index of the key question arrays; ``members`` the indices of the
    sentences that make its evidence (empty for a note with one topic: the whole note is its
    evidence); ``best`` the member whose probability for the key question is highest (``-1`` when
    ``members`` is empty); ``score`` the pooled score in [0, 1].
    """

    key_question: int
    members: tuple[int, ...]
    best: int
    score: float


def pool_topics(whole: np.ndarray, sentences: np.ndarray, threshold: float = DEFAULT_THRESHOLD,
                whole_weight: float = DEFAULT_WHOLE_WEIGHT) -> list[TopicGroup]:
    """The topics of one note from its key question probabilities.

    ``whole`` is ``(k,)``: the whole note's key question distribution; ``sentences`` is ``(n, k)``:
    one row per sentence (``n`` may be 0 or 1). Returns the main topic first, then the others by
    descending score. With fewer than two sentences, or when no other key question clears
    ``threshold``, the one main topic has no members (the whole note is its evidence).
    """
    whole = np.asarray(whole, dtype=float)
    sentences = np.asarray(sentences, dtype=float).reshape(-1, whole.shape[0])
    if not 0.0 <= whole_weight <= 1.0:
        raise ValueError(f"whole_weight must be in [0, 1]; got {whole_weight}")
    main = int(whole.argmax())
    if len(sentences) < 2:
        return [TopicGroup(main, (), -1, float(whole[main]))]
    own = sentences.argmax(axis=1)
    scores = {main: float(whole[main])}
    for k in sorted(set(own.tolist())):
        pooled = whole_weight * float(whole[k]) + (1.0 - whole_weight) * float(sentences[own == k, k].max())
        if k == main:
            scores[k] = max(scores[k], pooled)
        elif pooled >= threshold:
            scores[k] = pooled
    if len(scores) == 1:
        return [TopicGroup(main, (), -1, float(whole[main]))]
    kept = np.array(sorted(scores, key=lambda k: (k != main, -scores[k], k)))
    # each sentence joins its own key question's topic, or the kept one it gives the highest probability
    home = np.where(np.isin(own, kept), own, kept[sentences[:, kept].argmax(axis=1)])
    groups = []
    for k in kept.tolist():
        members = tuple(int(i) for i in np.flatnonzero(home == k))
        if members:
            best = max(members, key=lambda i: sentences[i, k])
        else:  # the main topic that no sentence is mostly about: its evidence is the sentence likeliest about it
            best = int(sentences[:, k].argmax())
        groups.append(TopicGroup(int(k), members or (best,), int(best), scores[k]))
    return groups


def pooled_rows(proba: np.ndarray, members: Sequence[int]) -> np.ndarray:
    """The mean of the rows ``members`` of ``proba`` (``(n, c)`` → ``(c,)``): a topic's distribution."""
    rows = np.asarray(proba, dtype=float)[list(members)]
    if not len(rows):
        raise ValueError("a topic needs at least one member row")
    return np.asarray(rows.mean(axis=0))


def sentence_offsets(text: str, sentences: Sequence[str]) -> list[tuple[int, int] | None]:
    """Character offsets ``(start, end)`` of each sentence in ``text``, searched in order.

    ``sentences`` come from segmenting ``text`` (each one a stripped piece of it, in order); a
    sentence that cannot be found (an identifier redacted differently across a sentence break) gets
    ``None`` rather than a wrong span.
    """
    out: list[tuple[int, int] | None] = []
    cursor = 0
    for sentence in sentences:
        start = text.find(sentence, cursor) if sentence else -1
        if start < 0:
            out.append(None)
            continue
        out.append((start, start + len(sentence)))
        cursor = start + len(sentence)
    return out


__all__ = ["DEFAULT_THRESHOLD", "DEFAULT_WHOLE_WEIGHT", "TopicGroup", "pool_topics", "pooled_rows",
           "sentence_offsets"]
