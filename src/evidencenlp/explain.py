"""The explain stage: the framework sentence(s) that explain a suggestion.

Given a note's cosine similarities to every framework sentence (``sims_row``, ``(n_texts,)``) and the
suggested statement, band and principles, pick the sentences an inspector reads as the reason: the
best band descriptor or ratings characteristic linked to the statement *and* band first, then the
SAF statement itself, the closest KLOE prompt and v6 topic question, and an illustration of each
suggested principle.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from evidencenlp.frameworks import KLOE_ID, SAF_ID, V6_ID
from evidencenlp.matching import FrameworkIndex, Match


def explaining_match(index: FrameworkIndex, sims_row: np.ndarray, statement: str, band: str) -> Match | None:
    """The framework sentence that best explains statement + band (a band descriptor when one is linked)."""
    return (index.best(sims_row, statement=statement, band=band)
            or index.best(sims_row, statement=statement)
            or index.best(sims_row))


def best_principle_text(index: FrameworkIndex, sims_row: np.ndarray, principle: str) -> Match | None:
    """The definition or illustration of ``principle`` closest to the note."""
    cols = np.flatnonzero(index.principle_of == index.principles.index(principle))
    if len(cols) == 0:
        return None
    i = cols[int(np.argmax(sims_row[cols]))]
    return Match(index.texts[i], float(sims_row[i]))


def evidence_for(index: FrameworkIndex, sims_row: np.ndarray, statement: str, band: str,
                 principles: Sequence[str], full: bool = True) -> tuple[Match, ...]:
    """The explaining sentences, best first; ``full=False`` keeps only the first one."""
    found: list[Match] = []
    primary = explaining_match(index, sims_row, statement, band)
    if primary is not None:
        found.append(primary)
    if not full:
        return tuple(found)
    for fw, kinds in ((SAF_ID, {"quality_statement"}), (KLOE_ID, {"prompt"}), (V6_ID, {"topic_question"})):
        m = index.best(sims_row, statement=statement, kinds=kinds, framework=fw)
        if m is not None and m not in found:
            found.append(m)
    for p in principles:
        m = best_principle_text(index, sims_row, p)
        if m is not None and m not in found:
            found.append(m)
    return tuple(found)
