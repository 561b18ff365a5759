"""Counting topics in a summary: a story about waiting and about kind staff counts once under each.

``tag`` writes a ``topics`` column (JSON text, see :attr:`evidencenlp.suggest.Suggestion.topics`).
:func:`parse_topics` reads it (checked against the taxonomy); :func:`topic_rows` turns a normalised
frame into one row per (note, topic key question), with that topic's statement and band (negative when
the band is in the worse half; of a key question split into a positive and a negative topic, the negative
one), so counts by key question and statement count a note once under each key question it is about, while
counts of notes
(volume, evidence category, band, abstentions) still count each note once. A row without topics
(an older tagged file, or one written by hand) counts under its own labels, as before.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.taxonomy import Taxonomy
from evidencenlp.trends.periods import is_missing

#: one topic in a normalised frame: (key question, statement, band)
TopicLabels = tuple[str, str, str]


def parse_topics(values: Sequence[Any], rows: Sequence[int], taxonomy: Taxonomy, source: str,
                 column: str) -> list[list[TopicLabels]]:
    """The ``topics`` cells of a tagged table as lists of ``(key question, statement, band)``.

    An empty or missing cell gives ``[]``. Raises :class:`InputFileError` naming ``source``, the
    1-based data row (``rows``) and ``column`` for a cell that is not a JSON list of topics with
    labels of ``taxonomy`` (the statement within its key question).
    """
    kq_of = dict(zip(taxonomy.statements, taxonomy.statement_kq))
    bands = set(taxonomy.bands)
    out: list[list[TopicLabels]] = []
    for row, value in zip(rows, values):
        if value is None or is_missing(value) or (isinstance(value, str) and not value.strip()):
            out.append([])
            continue
        where = f"{source}: data row {int(row)}: column {column!r}"
        try:
            items = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            raise InputFileError(f"{where}: not JSON; expected the list of topics `tag` writes") from None
        if not isinstance(items, list) or not all(isinstance(t, dict) for t in items):
            raise InputFileError(f"{where}: expected a JSON list of topic objects")
        topics = []
        for t in items:
            kq, st, band = (str(t.get(k) or "") for k in ("key_question", "statement", "band"))
            if kq not in taxonomy.key_questions or (st and kq_of.get(st) != kq) or (band and band not in bands):
                raise InputFileError(f"{where}: a topic with key question {kq!r}, statement {st!r}, band {band!r} "
                                     "is not in the framework (or the statement is not of that key question)")
            topics.append((kq, st, band))
        out.append(topics)
    return out


def topic_rows(data: pd.DataFrame, negative_bands: Sequence[str]) -> pd.DataFrame:
    """One row per (note, topic key question) of a normalised frame with a ``topics`` column.

    A note's topic of each key question gives that row's ``key_question``, ``statement``, ``band``
    (when the topic has one) and ``negative``: its first topic of that key question, or, when a key
    question has several (a topic split by direction, "a kind nurse, a dismissive consultant"), its
    first *negative* one, so the note counts once under the key question and as a complaint when it
    holds one. A note without topics keeps its one row. Without a ``topics`` column ``data`` is
    returned as it is.
    """
    if "topics" not in data.columns:
        return data
    negative = set(negative_bands)
    index, kqs, statements, bands = [], [], [], []
    for i, topics, band in zip(data.index, data["topics"], data["band"]):
        chosen: dict[str, tuple[str, str]] = {}  # key question -> (statement, band), in first-seen order
        for kq, st, b in (topics if isinstance(topics, list) and band != "" else []):
            b = b or band
            if kq not in chosen or (chosen[kq][1] not in negative and b in negative):
                chosen[kq] = (st, b)
        for kq, (st, b) in chosen.items():
            index.append(i)
            kqs.append(kq)
            statements.append(st)
            bands.append(b)
    if not index:
        return data
    expanded = data.loc[index].assign(key_question=kqs, statement=statements, band=bands)
    expanded["negative"] = expanded["band"].isin(negative)
    has = data.index.isin(index)
    return pd.concat([data[~has], expanded]).sort_values("row", kind="stable").reset_index(drop=True)


__all__ = ["TopicLabels", "parse_topics", "topic_rows"]
