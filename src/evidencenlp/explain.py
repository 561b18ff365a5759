"""The explain stage: the framework sentence(s) that explain a suggestion.

Given a note's cosine similarities to every framework sentence (``sims_row``, ``(n_texts,)``) and the
suggested statement, band and principles, pick the sentences an inspector reads as the reason: the
best band descriptor or ratings characteristic linked to the statement *and* band first, then the
SAF statement itself, the closest KLOE prompt and v6 topic question, and an illustration of each
suggested principle.

A match whose cosine similarity is below the model's weak-match threshold (``thresholds_["weak_match"]``,
chosen on the labelled notes by :func:`weak_threshold_from_labels` when the model is trained) is marked
``weak``: the displays show it as "(weak match)" rather than as a reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from evidencenlp.frameworks import KLOE_ID, SAF_ID, V6_ID
from evidencenlp.matching import FrameworkIndex, Match

#: weak-match threshold for models trained before it was chosen on data: the value chosen for the torch model
#: when it was introduced (see :func:`weak_threshold_from_labels`)
DEFAULT_WEAK_MATCH = 0.2259


def mark_weak(match: Match, weak_below: float) -> Match:
    """``match`` with ``weak`` set when its similarity is below ``weak_below``."""
    return replace(match, weak=bool(match.similarity < weak_below))


def choose_weak_threshold(similarity: np.ndarray, correct: np.ndarray, floor: float = 0.5) -> float:
    """The similarity under which the explanation's statement is usually not the right one.

    ``similarity`` ``(n,)``: cosine of each held-out note to its explaining sentence (the suggested
    statement and band); ``correct`` ``(n,)``: whether the suggested statement was the labelled one.
    An isotonic (non-decreasing) fit of P(correct | similarity) is made; the threshold is the lowest
    similarity at which it reaches ``floor`` (0.5: below it the explanation points at a wrong statement
    more often than not). Returns ``DEFAULT_WEAK_MATCH`` when fewer than 50 notes are given, and the
    highest similarity seen when the fit never reaches the floor.
    """
    from sklearn.isotonic import IsotonicRegression

    x, y = np.asarray(similarity, float), np.asarray(correct, float)
    if len(x) < 50:
        return DEFAULT_WEAK_MATCH
    fit = IsotonicRegression(increasing=True, out_of_bounds="clip").fit(x, y)
    grid = np.sort(x)
    ok = grid[fit.predict(grid) >= floor]
    return float(ok[0]) if len(ok) else float(grid[-1])


def weak_threshold_from_labels(index: FrameworkIndex, sims: np.ndarray, statements: Sequence[str],
                               bands: Sequence[str], quantile: float = 0.1) -> float:
    """The similarity below which an explanation is weaker than ``1 - quantile`` of right explanations.

    ``sims`` ``(n, n_texts)``: labelled notes' cosines to the framework sentences; ``statements`` and
    ``bands``: their labels. For each note the explanation of its *labelled* statement and band is found
    (:func:`explaining_match`); the threshold is the ``quantile`` of those similarities: a match below it is
    weaker than 9 in 10 explanations of the right statement (with the default 0.1). Returns
    ``DEFAULT_WEAK_MATCH`` with fewer than 50 labelled notes.
    """
    found = [m.similarity for row, (st, band) in enumerate(zip(statements, bands)) if st and band
             for m in [explaining_match(index, sims[row], st, band)] if m is not None]
    return float(np.quantile(found, quantile)) if len(found) >= 50 else DEFAULT_WEAK_MATCH


def explaining_match(index: FrameworkIndex, sims_row: np.ndarray, statement: str, band: str,
                     weak_below: float = DEFAULT_WEAK_MATCH) -> Match | None:
    """The framework sentence that best explains statement + band (a band descriptor when one is linked),
    marked ``weak`` when its similarity is below ``weak_below``."""
    m = (index.best(sims_row, statement=statement, band=band)
         or index.best(sims_row, statement=statement)
         or index.best(sims_row))
    return mark_weak(m, weak_below) if m is not None else None


def best_principle_text(index: FrameworkIndex, sims_row: np.ndarray, principle: str) -> Match | None:
    """The definition or illustration of ``principle`` closest to the note."""
    cols = np.flatnonzero(index.principle_of == index.principles.index(principle))
    if len(cols) == 0:
        return None
    i = cols[int(np.argmax(sims_row[cols]))]
    return Match(index.texts[i], float(sims_row[i]))


def evidence_for(index: FrameworkIndex, sims_row: np.ndarray, statement: str, band: str,
                 principles: Sequence[str], full: bool = True,
                 weak_below: float = DEFAULT_WEAK_MATCH) -> tuple[Match, ...]:
    """The explaining sentences, best first; ``full=False`` keeps only the first one. Each is marked
    ``weak`` when its similarity is below ``weak_below``."""
    found: list[Match] = []
    primary = explaining_match(index, sims_row, statement, band, weak_below)
    if primary is not None:
        found.append(primary)
    if not full:
        return tuple(found)
    for fw, kinds in ((SAF_ID, {"quality_statement"}), (KLOE_ID, {"prompt"}), (V6_ID, {"topic_question"})):
        m = index.best(sims_row, statement=statement, kinds=kinds, framework=fw)
        if m is not None and m.text not in [f.text for f in found]:
            found.append(mark_weak(m, weak_below))
    for p in principles:
        m = best_principle_text(index, sims_row, p)
        if m is not None and m.text not in [f.text for f in found]:
            found.append(mark_weak(m, weak_below))
    return tuple(found)
