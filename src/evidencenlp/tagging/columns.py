"""``tag``'s flat columns for a whole chunk at once, from the heads' arrays (issue 24).

:func:`chunk_columns` gives, for a list of notes, exactly the cells that
:func:`~evidencenlp.tagging.rows.flat_row` gives note by note from
:meth:`~evidencenlp.suggest.Suggester.suggest_many` (``sentences=False, evidence=False, topics=True``),
without assembling a :class:`~evidencenlp.suggest.Suggestion` per note: the suggestion, its top three
statements, the band, category, principles and key questions are read off the probability matrices
with numpy for every note together; the explaining sentence is found once per (statement, band) pair
for all the notes that share it; review flags come from
:meth:`~evidencenlp.classifier.EvidenceClassifier.needs_review_rows`. Only a note of several sentences
whose sentences add a topic goes through the per-note topic code. A text that occurs several times in
a chunk is analysed once and its cells copied to every row that holds it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from evidencenlp.encoder.base import BATCH_INVARIANT_BACKENDS
from evidencenlp.tagging.rows import FLAT_COLUMNS, band_probabilities_text, flat_row
from evidencenlp.topics import sentence_offsets

if TYPE_CHECKING:
    from evidencenlp.classifier import ClassifierOutput
    from evidencenlp.frameworks.index import FrameworkIndex
    from evidencenlp.suggest import Analysed, Suggester


@dataclass
class ChunkColumns:
    """The flat columns of a chunk and what it did.

    ``columns`` maps each of :data:`~evidencenlp.tagging.rows.FLAT_COLUMNS` to one cell per note;
    ``texts`` is each note as it goes out (redacted when redaction is on; a blank note as given);
    the counts are those of :class:`~evidencenlp.tagging.chunk.TagSummary` (no note text).
    """

    columns: dict[str, list[Any]]
    texts: list[str | None]
    tagged: int = 0
    blank: int = 0
    needs_review: int = 0
    abstained: Counter[str] = field(default_factory=Counter)
    redactions: Counter[str] = field(default_factory=Counter)


def chunk_columns(suggester: Suggester, texts: Sequence[str | None],
                  progress: Callable[[int], None] | None = None) -> ChunkColumns:
    """The flat columns of ``texts`` (``None`` for a missing cell), as ``tag`` writes them.

    With a backend whose vectors do not depend on their batch
    (:data:`~evidencenlp.encoder.base.BATCH_INVARIANT_BACKENDS`: static), each distinct text of the
    chunk is analysed once (short comments repeat: "Very good", "Nothing") and its cells are given to
    every row that holds it; a note's cells then depend on its text alone, so they are the same as
    analysing every row. With torch or onnx-int8 a text's floats move in the last digits with its
    batch's padding, so every row is analysed as before. The counts are taken over all rows, in row order.
    ``progress`` is told the rows encoded (a distinct text counts for the rows that hold it).
    A suggester that is not a :class:`~evidencenlp.suggest.Suggester` (anything with ``suggest_many``)
    is asked note by note (:func:`per_note_columns`).
    """
    if not hasattr(suggester, "analyse"):
        return per_note_columns(suggester, texts, progress)
    slots: dict[str | None, int] = {}
    slot_of = [slots.setdefault(t, len(slots)) for t in texts]
    distinct = list(slots)
    backend = getattr(getattr(suggester, "embedder", None), "backend", None)
    if len(distinct) == len(texts) or backend not in BATCH_INVARIANT_BACKENDS:
        return _counted(*_distinct_columns(suggester, texts, progress))
    columns, out_texts, found, present = _distinct_columns(suggester, distinct, _scaled(progress, slot_of, distinct))
    return _counted({c: [v[j] for j in slot_of] for c, v in columns.items()}, [out_texts[j] for j in slot_of],
                    [found[j] for j in slot_of], [present[j] for j in slot_of])


def _scaled(progress: Callable[[int], None] | None, slot_of: list[int],
            distinct: Sequence[str | None]) -> Callable[[int], None] | None:
    """``progress`` told rows instead of distinct texts: each count of distinct notes encoded scaled by
    the rows per distinct note that is not blank (a live estimate: ``tag`` sets the exact count after
    each chunk)."""
    if progress is None:
        return None
    filled = [isinstance(t, str) and bool(t.strip()) for t in distinct]
    rows, notes = sum(1 for j in slot_of if filled[j]), sum(filled)
    done = [0, 0]  # distinct notes encoded, rows reported

    def report(n: int) -> None:
        done[0] += n
        total = min(rows, round(done[0] * rows / max(notes, 1)))
        if total > done[1]:
            progress(total - done[1])
            done[1] = total

    return report


def _distinct_columns(suggester: Suggester, texts: Sequence[str | None],
                      progress: Callable[[int], None] | None) -> tuple[dict[str, list[Any]], list[str | None],
                                                                      list[dict[str, int] | None], list[bool]]:
    """The cells of each of ``texts`` (one column per :data:`~evidencenlp.tagging.rows.FLAT_COLUMNS`), each
    text as it goes out, the identifiers redacted in each (``None``: none or blank) and whether each
    was tagged (not blank)."""
    batch = suggester.analyse(texts, sentences=False, topics=suggester.tag_topics, progress=progress)
    n = len(texts)
    cols: dict[str, list[Any]] = {c: [None] * n for c in FLAT_COLUMNS}
    out_texts = list(texts)
    found: list[dict[str, int] | None] = [None] * n
    present = [False] * n
    for i, s in enumerate(batch.out):
        if s is None:
            continue
        cols["needs_review"][i] = True
        cols["reason"][i] = s.reason
        out_texts[i] = s.text
        found[i] = s.redactions
        present[i] = True
    for i, p in zip(batch.keep, batch.processed):
        out_texts[i] = p.text
        found[i] = p.redactions
        present[i] = True
    if batch.keep and batch.preds is not None:
        _fill_kept(suggester, batch, batch.preds, cols)
    return cols, out_texts, found, present


def _counted(columns: dict[str, list[Any]], texts: list[str | None], found: list[dict[str, int] | None],
             present: list[bool]) -> ChunkColumns:
    """The :class:`ChunkColumns` of rows with these cells, texts, redactions and tagged flags: the
    counts added up in row order (as they are shown)."""
    out = ChunkColumns(columns, texts)
    for reason in columns["reason"]:
        if reason is not None:
            out.abstained[str(reason)] += 1
    for counts in found:
        if counts:
            out.redactions.update(counts)
    out.needs_review = sum(1 for v in columns["needs_review"] if v)
    out.tagged = sum(present)
    out.blank = len(texts) - out.tagged
    return out


def per_note_columns(suggester: Any, texts: Sequence[str | None],
                     progress: Callable[[int], None] | None = None) -> ChunkColumns:
    """The flat columns from ``suggester.suggest_many`` and :func:`~evidencenlp.tagging.rows.flat_row`, note
    by note (the reference :func:`chunk_columns` is tested against)."""
    results = suggester.suggest_many(texts, sentences=False, evidence=False, progress=progress, topics=True)
    out = ChunkColumns({c: [None] * len(texts) for c in FLAT_COLUMNS}, list(texts))
    for i, result in enumerate(results):
        if result is None:
            out.blank += 1
            continue
        out.tagged += 1
        out.needs_review += int(result.needs_review)
        if result.reason is not None:
            out.abstained[result.reason] += 1
        out.redactions.update(result.redactions)
        for name, value in flat_row(result).items():
            out.columns[name][i] = value
        out.texts[i] = result.text
    return out


def _rounded(values: np.ndarray) -> list[float]:
    """Each value as a Python float rounded to 4 places (as :func:`round` does it, not numpy)."""
    return [round(v, 4) for v in values.tolist()]


def _fill_kept(suggester: Suggester, batch: Analysed, preds: ClassifierOutput, cols: dict[str, list[Any]]) -> None:
    """Write the cells of the notes kept (rows ``0..len(batch.keep)-1`` of ``preds``) into ``cols``."""
    from evidencenlp.classifier.joint import decide, statement_ranking  # here: ``tag``'s parent never loads it

    m = len(batch.keep)
    rows = np.arange(m)
    proba, classes = preds.proba, preds.classes
    classifier, taxonomy = suggester.classifier, suggester.index.taxonomy
    statements = np.asarray(classes["statement"], dtype=object)
    st_p = proba["statement"][:m]
    st_idx, kq_idx = decide(st_p, taxonomy.statement_kq, classes["key_question"])
    kq_score = proba["key_question"][rows, kq_idx]
    st_score = st_p[rows, st_idx]
    band_p = proba["band"][:m]
    band_idx = band_p.argmax(axis=1)
    band_score = band_p[rows, band_idx]
    kq_label = np.asarray(classes["key_question"], dtype=object)[kq_idx].tolist()
    st_label = statements[st_idx].tolist()
    band_label = np.asarray(classes["band"], dtype=object)[band_idx].tolist()
    top3 = [";".join(r) for r in statements[statement_ranking(st_p, 3)].tolist()]
    if suggester.evidence_category:
        category, category_score = [suggester.evidence_category] * m, [1.0] * m
    else:
        c_p = proba["evidence_category"][:m]
        c_idx = c_p.argmax(axis=1)
        category = np.asarray(classes["evidence_category"], dtype=object)[c_idx].tolist()
        category_score = _rounded(c_p[rows, c_idx])
    positive = np.isin(np.asarray(band_label, dtype=object), list(taxonomy.positive_bands))
    principles = _over_threshold(proba["principles"][:m], classes["principles"],
                                 classifier.thresholds_["principles"], positive)
    key_questions = _over_threshold(proba["key_question"][:m], classes["key_question"],
                                    classifier.thresholds_.get("key_questions", 0.3), np.ones(m, dtype=bool))
    evidence = _explaining_texts(suggester.index, preds.sims[:m], st_label, band_label)
    review = classifier.needs_review_rows(kq_score, st_score, band_score, proba, rows).tolist()
    direction: list[str | None] = [None] * m
    if "direction" in proba:
        direction = np.asarray(classes["direction"], dtype=object)[proba["direction"][:m].argmax(axis=1)].tolist()
    kq_rounded = _rounded(kq_score)
    topics = _topics_cells(suggester, batch, preds, kq_label, st_label, band_label, direction, kq_rounded)
    cells = {"key_question": kq_label, "key_question_score": kq_rounded, "statement": st_label,
             "statement_score": _rounded(st_score), "statement_top3": top3, "evidence_category": category,
             "evidence_category_score": category_score, "band": band_label, "band_score": _rounded(band_score),
             "principles": principles, "evidence_text": evidence, "needs_review": review,
             "key_questions": key_questions, "topics": topics,
             "band_probabilities": _band_probabilities_cells(classes["band"], band_p)}
    for name, values in cells.items():
        column = cols[name]
        for i, v in zip(batch.keep, values):
            column[i] = v


def _band_probabilities_cells(bands: Sequence[str], p: np.ndarray) -> list[str]:
    """The ``band_probabilities`` cell of each row of ``p`` ``(n, len(bands))``: the text
    :func:`~evidencenlp.tagging.rows.band_probabilities_text` writes, with each band's JSON key made once
    (a finite float is written as its ``repr``, as :mod:`json` does)."""
    if len(set(bands)) < len(bands) or not all(isinstance(b, str) for b in bands) or not np.isfinite(p).all():
        return [band_probabilities_text(dict(zip(bands, r))) for r in p.tolist()]
    keys = [_json_label(b) + ": " for b in bands]
    return ["{" + ", ".join([k + repr(round(v, 4)) for k, v in zip(keys, r)]) + "}" for r in p.tolist()]


def _topics_cells(suggester: Suggester, batch: Analysed, preds: ClassifierOutput, kq_label: list[str],
                  st_label: list[str], band_label: list[str], direction: list[str | None],
                  kq_rounded: list[float]) -> list[str]:
    """The ``topics`` cell of each kept note: the main suggestion over the whole note, or, for a note whose
    segments add topics, each topic pooled over its segments (the cells
    :func:`~evidencenlp.tagging.rows.topics_text` writes from :meth:`~evidencenlp.suggest.Suggester.pooled_topics`,
    without building its objects)."""
    tasks = [t for t in suggester.pooled_tasks if t in preds.proba]
    joined: list[np.ndarray] = []  # statement, band and direction side by side: one pooling per topic
    classes = preds.classes
    cells = []
    for row in range(len(batch.keep)):
        segment_rows = batch.segment_rows[row]
        groups = suggester.topic_groups(preds, row, segment_rows) if segment_rows else []
        text = batch.processed[row].text
        if len(groups) < 2:
            cells.append(_one_topic(kq_label[row], st_label[row], band_label[row], direction[row], kq_rounded[row],
                                    len(text)))
            continue
        if not joined:
            joined.append(np.hstack([preds.proba[t] for t in tasks]))
        offsets = sentence_offsets(text, batch.segments[row])
        topics = []
        for g, (j, pooled) in zip(groups, suggester.pooled_choices(preds, joined, segment_rows, groups, note=row)):
            chosen = _pooled_labels(pooled[0], classes, tasks, j)
            start, end = offsets[g.best] or (0, len(text))
            topics.append(_topic_json(classes["key_question"][g.key_question], chosen[0], chosen[1],
                                      chosen[2] if len(chosen) > 2 else None, round(g.score, 4), start, end))
        cells.append("[" + ", ".join(topics) + "]")
    return cells


def _pooled_labels(pooled: np.ndarray, classes: dict[str, tuple[str, ...]], tasks: list[str],
                   statement: int) -> list[str]:
    """The labels of one pooled topic: ``statement`` (the column chosen within its key question), then the
    most probable label of each other task of ``tasks`` in the row ``pooled`` (tasks side by side)."""
    out = [classes["statement"][statement]]
    start = len(classes["statement"])
    for task in tasks[1:]:
        width = len(classes[task])
        out.append(classes[task][int(pooled[start:start + width].argmax())])
        start += width
    return out


def _one_topic(key_question: str, statement: str, band: str, direction: str | None, score: float, end: int) -> str:
    """The ``topics`` cell of a note with one topic: the main suggestion over the whole note (the text
    :func:`json.dumps` writes for ``[{"key_question": ..., "end": end}]``, ``ensure_ascii=False``)."""
    return "[" + _topic_json(key_question, statement, band, direction, score, 0, end) + "]"


def _topic_json(key_question: str, statement: str, band: str, direction: str | None, score: float, start: int,
                end: int) -> str:
    """``json.dumps({"key_question": key_question, ..., "end": end}, ensure_ascii=False)``: one topic of a
    ``topics`` cell, put together from the labels' cached JSON strings (a label repeats on many rows)."""
    if type(score) is not float or not math.isfinite(score) or type(start) is not int or type(end) is not int:
        return json.dumps({"key_question": key_question, "statement": statement, "band": band,
                           "direction": direction, "score": score, "start": start, "end": end}, ensure_ascii=False)
    return ('{"key_question": ' + _json_label(key_question) + ', "statement": ' + _json_label(statement)
            + ', "band": ' + _json_label(band) + ', "direction": ' + _json_label(direction)
            + ', "score": ' + repr(score) + ', "start": ' + repr(start) + ', "end": ' + repr(end) + "}")


#: the JSON text of labels seen (framework labels: a few hundred at most)
_JSON_LABELS: dict[str | None, str] = {}


def _json_label(label: str | None) -> str:
    """``json.dumps(label, ensure_ascii=False)``, cached."""
    out = _JSON_LABELS.get(label)
    if out is None:
        out = json.dumps(label, ensure_ascii=False)
        if len(_JSON_LABELS) < 4096:
            _JSON_LABELS[label] = out
    return out


def _over_threshold(p: np.ndarray, labels: Sequence[str], threshold: float, allowed: np.ndarray) -> list[str]:
    """Per row of ``p`` ``(n, k)``: the labels whose probability is at least ``threshold``, most probable
    first (ties in label order), joined by ``;``; empty where ``allowed`` is False."""
    over = (p >= threshold) & allowed[:, None]
    out = [""] * len(p)
    for row in np.flatnonzero(over.any(axis=1)).tolist():
        order = np.argsort(-p[row], kind="stable")
        out[row] = ";".join(labels[j] for j in order.tolist() if over[row, j])
    return out


def _explaining_texts(index: FrameworkIndex, sims: np.ndarray, statements: list[str], bands: list[str]) -> list[str]:
    """The text of each note's explaining sentence (:func:`evidencenlp.explain.explaining_match`): the
    most similar sentence linked to its statement and band, else to its statement, else any; the
    notes that share a (statement, band) pair are looked up together."""
    out = [""] * len(statements)
    pairs: dict[tuple[str, str], list[int]] = {}
    for row, pair in enumerate(zip(statements, bands)):
        pairs.setdefault(pair, []).append(row)
    texts = index.texts
    for (statement, band), members in pairs.items():
        link = index.link[:, index.statements.index(statement)]
        candidates = np.flatnonzero(link & (index.band_of == index.taxonomy.bands.index(band)))
        if not len(candidates):
            candidates = np.flatnonzero(link)
        if not len(candidates):
            candidates = np.arange(len(texts))
        if not len(candidates):
            continue
        where = np.asarray(members)
        best = candidates[sims[np.ix_(where, candidates)].argmax(axis=1)]
        for row, i in zip(members, best.tolist()):
            out[row] = texts[i].text
    return out
