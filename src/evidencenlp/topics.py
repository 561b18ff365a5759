"""Topics of a long note: which key questions its clauses are about, pooled with the whole-note answer.

A story about waiting and about kind staff is about two things; one key question per note cannot say
so. This module holds the pooling rule as small functions over probability arrays, so it can be
tested with hand-made arrays and measured on its own (:mod:`evidencenlp.evaluation.topics`), and
the cut of a note's sentences into the *segments* it pools (:func:`segments`: clauses, so that
comments run together without a full stop, or "kind staff but a long wait", are not one piece):

1. the whole note's most probable key question is always a topic (the *main* topic, listed first;
   its score is the larger of its whole-note probability and its pooled score);
2. every segment is about its own most probable key question; another key question becomes a topic
   when at least one segment is about it (with ``any_segment``: when any segment gives it a
   probability) and its pooled score clears ``threshold``:
   ``score(k) = whole_weight * P_note(k) + (1 - whole_weight) * max over those segments of P_segment(k)``;
3. a segment whose key question did not become a topic joins the topic it gives the highest probability;
4. segments about the same key question make one topic, whatever their statements: statements of one
   key question overlap too much, segment by segment, to split a topic on them.

A note of one segment, or whose segments add no topic, has exactly one topic: its main suggestion.
The defaults were chosen on leave-one-trust-out composites of phase-1 comments (see the README,
"Topics", and ``evidencenlp evaluate --topics``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

#: a non-main key question becomes a topic when its pooled score is at least this. The three defaults
#: below were chosen on leave-one-trust-out phase-1 composites (``evaluate --topics``, criterion
#: ``recall_within_budget``: best recall with at most 1.5 topics per true topic; the same choice on
#: every fold). They are the loosest of the grid: long single texts get many topics (see the README)
DEFAULT_THRESHOLD = 0.2
#: weight of the whole note's probability in a topic's pooled score (the rest: its best segment)
DEFAULT_WHOLE_WEIGHT = 0.0
#: whether any row's probability can add a key question (:func:`pool_topics`'s ``any_segment``)
DEFAULT_ANY_SEGMENT = True
#: topics pool clauses of sentences (:func:`segments`), not whole sentences
DEFAULT_CLAUSES = True
#: how the segments are embedded (:data:`evidencenlp.encoder.spans.SEGMENT_EMBEDDINGS`): ``separate``
#: (each encoded as a text of its own) or ``spans`` (pooled from the note's own encoder pass). ``spans``
#: was measured on the same leave-one-trust-out folds (``evaluate --topics``) and lost composite topic
#: recall 0.921 -> 0.904 and direction per topic 0.789 -> 0.768 (the heads learned on texts encoded
#: alone), so segments are encoded separately by default
DEFAULT_SEGMENT_EMBEDDINGS = "separate"
#: how much a topic's direction leans on the whole note's (:func:`with_note_direction`: a product of the two
#: distributions, the note's raised to this power). Chosen on leave-one-trust-out phase-1 composites and
#: single comments (the best mean of their direction per topic among the rules of
#: ``experiments/topic_direction_rules.py``, this product with powers 0.1-1.0 among them; see the README,
#: "This release: a topic's direction leans on the whole note's"): a clause read alone often cannot say its
#: direction ("the doctor explained things"), while the note's tone can; 0 reads each topic's clauses alone
DEFAULT_NOTE_DIRECTION = 0.3
#: a topic whose clauses point both ways is split in two (:func:`split_by_direction`) when at least one
#: clause is at least this sure it is positive and another this sure it is negative; ``None``: never split.
#: Chosen (``experiments/topic_split_direction.py``, before set 3 of the long stories was opened) as the
#: level giving the seen long stories' best direction per topic while leave-one-trust-out composites and
#: single comments lose none, the stories' direction precision at most 0.02 and topics per true topic stay
#: within 1.5: 0.95, 0.9, 0.8, 0.7 tried (0.8 and 0.7 cost 0.04 and more of direction precision)
DEFAULT_SPLIT_DIRECTION: float | None = 0.9


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
                whole_weight: float = DEFAULT_WHOLE_WEIGHT, any_segment: bool = DEFAULT_ANY_SEGMENT
                ) -> list[TopicGroup]:
    """The topics of one note from its key question probabilities.

    ``whole`` is ``(k,)``: the whole note's key question distribution; ``sentences`` is ``(n, k)``:
    one row per sentence or clause (``n`` may be 0 or 1). Returns the main topic first, then the
    others by descending score. With fewer than two rows, or when no other key question clears
    ``threshold``, the one main topic has no members (the whole note is its evidence).
    ``any_segment`` lets a key question through on any row's probability of it (rule 2 with "those
    sentences" = all of them), not only on rows that give it their highest probability: a clause
    about two things can add its second; such a topic's evidence is the row likeliest about it.
    """
    whole = np.asarray(whole, dtype=float)
    sentences = np.asarray(sentences, dtype=float).reshape(-1, whole.shape[0])
    if not 0.0 <= whole_weight <= 1.0:
        raise ValueError(f"whole_weight must be in [0, 1]; got {whole_weight}")
    main = int(whole.argmax())
    if len(sentences) < 2:
        return [TopicGroup(main, (), -1, float(whole[main]))]
    # plain Python over the few rows and key questions of one note (per-note numpy calls on tiny arrays
    # cost more than the arithmetic); the same float operations, in the same order, as over the arrays
    own = sentences.argmax(axis=1).tolist()
    rows = sentences.tolist()
    whole_list = whole.tolist()
    if any_segment:  # the highest probability of each key question over all rows
        highest = dict(enumerate(sentences.max(axis=0).tolist()))
    else:  # ... over the rows that give it their highest probability
        highest = {}
        for i, k in enumerate(own):
            highest[k] = max(highest[k], rows[i][k]) if k in highest else rows[i][k]
    scores = {main: whole_list[main]}
    for k in sorted(highest):
        pooled = whole_weight * whole_list[k] + (1.0 - whole_weight) * highest[k]
        if k == main:
            scores[k] = max(scores[k], pooled)
        elif pooled >= threshold:
            scores[k] = pooled
    if len(scores) == 1:
        return [TopicGroup(main, (), -1, whole_list[main])]
    kept = sorted(scores, key=lambda k: (k != main, -scores[k], k))
    # each sentence joins its own key question's topic, or the kept one it gives the highest probability
    # (the first such in ``kept`` order on a tie, as numpy's argmax)
    kept_set = set(kept)
    home = [k if k in kept_set else max(kept, key=rows[i].__getitem__) for i, k in enumerate(own)]
    groups = []
    for k in kept:
        members = tuple(i for i, h in enumerate(home) if h == k)
        if members:
            best = max(members, key=lambda i: rows[i][k])
        else:  # a topic no row is mostly about: its evidence is the row likeliest about it
            best = max(range(len(rows)), key=lambda i: rows[i][k])
        groups.append(TopicGroup(k, members or (best,), best, scores[k]))
    return groups


def pooled_rows(proba: np.ndarray, members: Sequence[int],
                weights: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """The mean of the rows ``members`` of ``proba`` (``(n, c)`` → ``(c,)``): a topic's distribution;
    with ``weights`` (one per member, e.g. each member's probability of the topic's key question) the
    weighted mean (the plain mean when the weights sum to 0)."""
    rows = np.asarray(np.asarray(proba)[list(members)], dtype=float)  # the members' rows only, then as floats
    if not len(rows):
        raise ValueError("a topic needs at least one member row")
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is None or not w.sum() > 0:
        return np.asarray(rows.mean(axis=0))
    return np.asarray((rows * w[:, None]).sum(axis=0) / w.sum())


def with_note_direction(band: np.ndarray, direction: np.ndarray, note_direction: np.ndarray,
                        weight: float = DEFAULT_NOTE_DIRECTION, mix: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A topic's band and direction with the whole note's direction taken into account.

    ``direction`` ``(2,)`` is the topic's pooled direction distribution (positive first, as the
    classifier's direction head), ``note_direction`` ``(2,)`` the whole note's, ``band`` ``(b,)`` the
    topic's pooled band distribution (best first). The new direction is the normalised product
    ``direction * note_direction ** weight`` (``weight`` >= 0; 0 leaves it as it was): a confident
    clause keeps its own direction, an uncertain one takes the note's tone. The band's better half moves
    by ``mix`` times the change in the positive probability (``mix``: the classifier's
    ``direction_mix_``, the share of the direction head in each clause's band, so the pooled band moves as
    its clauses' bands would have), clipped to [0, 1], within each half in its own proportions; it is
    continuous in ``weight`` (a weight near 0 barely moves it). Returns ``(band, direction)``, new arrays.
    """
    from evidencenlp.classifier.joint import agree_with_direction

    if weight < 0 or not np.isfinite(weight):
        raise ValueError(f"the note direction weight must be a finite number >= 0, got {weight!r}")
    if not 0.0 <= mix <= 1.0:
        raise ValueError(f"the direction mix must be in [0, 1], got {mix!r}")
    b = np.asarray(band, dtype=float)
    d = np.asarray(direction, dtype=float)
    if weight == 0:
        return b.copy(), d.copy()
    combined = _leaned(d, note_direction, weight)
    better = float(np.clip(b[: len(b) // 2].sum() + mix * (combined[0] - d[0]), 0.0, 1.0))
    return agree_with_direction(b[None, :], np.array([better]))[0], combined


def _leaned(direction: np.ndarray, note_direction: np.ndarray, weight: float) -> np.ndarray:
    """:func:`with_note_direction`'s new direction: ``direction * note_direction ** weight``, normalised."""
    logs = np.log(np.clip(np.asarray(direction, dtype=float), 1e-12, None)) + weight * np.log(
        np.clip(np.asarray(note_direction, dtype=float), 1e-12, None))
    combined = np.exp(logs - logs.max())
    return np.asarray(combined / combined.sum())


def split_by_direction(groups: Sequence[TopicGroup], kq_rows: np.ndarray, direction_rows: np.ndarray,
                       sure: float, note_direction: np.ndarray | None = None,
                       weight: float = 0.0) -> list[TopicGroup]:
    """Topic groups with a key question's clauses split into a positive and a negative topic where both
    are clearly there ("the nurse was kind" and "the consultant was dismissive": two pieces of evidence
    about caring, one each way).

    ``groups`` are :func:`pool_topics`'s (main first); ``kq_rows`` ``(n, k)`` the segments' key question
    probabilities and ``direction_rows`` ``(n, 2)`` their direction (positive first). A group is split when
    one of its member segments has ``P(positive) >= sure`` and another ``P(negative) >= sure``; a group
    without members (a note whose segments add no topic: the whole note is its one topic) counts every
    segment as a member. Each member goes to the side its direction leans to; each side's evidence
    (``best``) is its member likeliest about the key question and its score the larger of that
    probability and, for the side holding the group's own evidence, the group's score. The main topic's
    side holding its evidence stays first; after a split the other topics are ordered by descending score,
    as :func:`pool_topics` orders them. Groups not split are returned as they were; with nothing to split,
    the list is the input's.

    With ``note_direction`` (the whole note's direction) and ``weight`` > 0, as the topics' directions
    will lean on the note's (:func:`with_note_direction`), a group is kept whole when either side's
    pooled direction (weighted by its members' probability of the key question, as
    :func:`pooled_rows`), leaned on the note's, would no longer be its side's: two topics of one key
    question and one direction would be one topic told twice.
    """
    if not 0.5 < sure <= 1.0:
        raise ValueError(f"the direction a split needs must be in (0.5, 1]; got {sure!r}")
    kq_rows = np.asarray(kq_rows, dtype=float)
    positive = np.asarray(direction_rows, dtype=float)[:, 0]
    out: list[TopicGroup] = []
    for g in groups:
        members = g.members or tuple(range(len(positive)))
        sure_pos = [m for m in members if positive[m] >= sure]
        sure_neg = [m for m in members if 1.0 - positive[m] >= sure]
        if not sure_pos or not sure_neg:
            out.append(g)
            continue
        sides = ([m for m in members if positive[m] >= 0.5], [m for m in members if positive[m] < 0.5])
        if note_direction is not None and weight > 0 and not all(
                _side_keeps_direction(side, g.key_question, kq_rows, direction_rows, note_direction, weight, want)
                for side, want in zip(sides, (0, 1))):
            out.append(g)
            continue
        made = []
        for side in sides:
            best = max(side, key=lambda m: kq_rows[m, g.key_question])
            own = g.best in side or (g.best < 0 and best == max(members, key=lambda m: kq_rows[m, g.key_question]))
            score = max(float(kq_rows[best, g.key_question]), g.score if own else 0.0)
            made.append((not own, TopicGroup(g.key_question, tuple(side), best, score)))
        out.extend(group for _, group in sorted(made, key=lambda x: x[0]))
    if len(out) == len(groups):
        return out
    # the main topic first, the others by descending score, as pool_topics orders them (stable on ties)
    return out[:1] + sorted(out[1:], key=lambda group: -group.score)


def _side_keeps_direction(side: Sequence[int], key_question: int, kq_rows: np.ndarray, direction_rows: np.ndarray,
                          note_direction: np.ndarray, weight: float, want: int) -> bool:
    """Whether one side of a split (``want``: 0 positive, 1 negative) still has that direction (the
    argmax, as a topic's direction label) once pooled and leaned on the note's direction."""
    pooled = pooled_rows(direction_rows, side, np.asarray(kq_rows)[list(side), key_question])
    return int(_leaned(pooled, note_direction, weight).argmax()) == want


#: where a sentence is cut into clauses: line ends, semicolons, dashes between spaces, and the
#: contrasting or joining words that start a new clause (the cut falls before the word, which stays
#: with the clause it starts)
CLAUSE_BREAK = re.compile(
    r"\s*(?:\n+|;|\s[-\u2013\u2014]+\s|\.{2,}|,\s*(?=and\b|but\b|however\b|although\b|though\b|whereas\b|"
    r"yet\b|except\b|apart\b|other than\b|unfortunately\b|also\b))\s*"
    r"|\s+(?=(?:but|however|although|though|whereas|unfortunately|except that|apart from|other than that)\b)",
    re.IGNORECASE)
#: a break between two run-on sentences that lost their full stop: a lower-case word, then a capital
#: that starts a new sentence ("… were lovely The wait …"); not after :data:`NO_BREAK_AFTER`
RUN_ON_BREAK = re.compile(r"(?<=[a-z0-9)])\s+(?=(?:I|[A-Z][a-z]+)\b)")
#: words after which a capital does not start a new sentence (titles, articles, prepositions, conjunctions)
NO_BREAK_AFTER = frozenset(
    "dr mr mrs ms miss st a an the to at in on of for from with by and or but so because as when that if "
    "which who then until before after where while since than though my our his her their your".split())
#: a clause shorter than this (in words) joins the clause before it (or after it, when first)
MIN_CLAUSE_WORDS = 2


#: what every match of :data:`CLAUSE_BREAK` in an ASCII sentence holds: one of these characters, two dots,
#: or one of these words (lower-cased; a comma's clause words need the comma, listed here)
_BREAK_CHARS = ("\n", ";", "-", "..", ",")
_BREAK_WORDS = ("but", "however", "though", "whereas", "unfortunately", "except that", "apart from",
                "other than that")


def _may_break(sentence: str) -> bool:
    """False only when :data:`CLAUSE_BREAK` cannot match the ASCII ``sentence`` (for ASCII text its
    case-insensitive words are plain lower-case look-ups; a dash between spaces needs ``-``)."""
    if any(c in sentence for c in _BREAK_CHARS):
        return True
    lowered = sentence.lower()
    return any(w in lowered for w in _BREAK_WORDS)


def _has_capital_after_first(sentence: str) -> bool:
    """False only when :data:`RUN_ON_BREAK` cannot match the ASCII ``sentence``: it needs a capital
    letter after a character that comes first."""
    rest = sentence[1:]
    return rest != rest.lower()

def clauses(sentence: str, run_on: bool = True, min_words: int = MIN_CLAUSE_WORDS) -> list[str]:
    """``sentence`` cut into clauses (:data:`CLAUSE_BREAK`; with ``run_on`` also :data:`RUN_ON_BREAK`),
    each a stripped substring of it, in order; pieces under ``min_words`` words join a neighbour, so a
    sentence too short to cut comes back whole (``[sentence.strip()]``; ``[]`` for blank text)."""
    plain = sentence.isascii()  # the look-ups below skip a pattern only where it cannot match
    cuts = [(m.start(), m.end()) for m in CLAUSE_BREAK.finditer(sentence)] if not plain or _may_break(sentence) else []
    if run_on and (not plain or _has_capital_after_first(sentence)):
        for m in RUN_ON_BREAK.finditer(sentence):
            before = sentence[:m.start()].rsplit(None, 1)  # its last word, as split()[-1]
            if before and before[-1].lower().strip("(),") not in NO_BREAK_AFTER:
                cuts.append((m.start(), m.end()))
    if not cuts:  # nothing to cut at: the sentence whole (as the general case below gives it)
        return [sentence.strip()] if sentence.strip() else []
    spans: list[tuple[int, int]] = []
    start = 0
    for a, b in sorted(cuts):
        if a >= start:
            spans.append((start, a))
            start = max(start, b)
    spans.append((start, len(sentence)))
    spans = [(a, b) for a, b in spans if sentence[a:b].strip()]
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and (len(sentence[a:b].split()) < min_words or len(sentence[slice(*merged[-1])].split()) < min_words):
            merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return [sentence[a:b].strip() for a, b in merged]


def segments(sentences: Sequence[str], clauses_on: bool = True, run_on: bool = True,
             min_words: int = MIN_CLAUSE_WORDS) -> list[str]:
    """The pieces topics are pooled over: each sentence's :func:`clauses` in order (``clauses_on``),
    else the sentences themselves (blank ones dropped)."""
    if not clauses_on:
        return [s.strip() for s in sentences if s.strip()]
    return [c for s in sentences for c in clauses(s, run_on=run_on, min_words=min_words)]


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


__all__ = ["CLAUSE_BREAK", "DEFAULT_ANY_SEGMENT", "DEFAULT_CLAUSES", "DEFAULT_NOTE_DIRECTION", "DEFAULT_SEGMENT_EMBEDDINGS", "DEFAULT_SPLIT_DIRECTION", "DEFAULT_THRESHOLD", "DEFAULT_WHOLE_WEIGHT",
           "MIN_CLAUSE_WORDS", "NO_BREAK_AFTER", "RUN_ON_BREAK", "TopicGroup", "clauses", "pool_topics", "pooled_rows",
           "segments", "sentence_offsets", "split_by_direction", "with_note_direction"]
