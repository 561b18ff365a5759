"""The Suggester: text → segment → redact → encode → match → classify → :class:`Suggestion`.

Nothing here rates anything: a suggestion is for an inspector to confirm or correct, and when the
calibrated probabilities are low it says ``needs_review`` rather than guessing confidently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.abstain import abstention_reasons
from evidencenlp.classifier import ClassifierOutput, EvidenceClassifier
from evidencenlp.encoder import DEFAULT_BATCH_SIZE, SPACES, Embedder, limit_blas_threads, load_embedder
from evidencenlp.encoder.spans import SEGMENT_EMBEDDINGS, SpanEmbedder, encode_spans
from evidencenlp.errors import InputFileError, ModelError
from evidencenlp.explain import DEFAULT_WEAK_MATCH, evidence_for, explaining_match
from evidencenlp.frameworks import load_framework_set
from evidencenlp.matching import FrameworkIndex, Match
from evidencenlp.text import ProcessedText, process_many, redact_many, redact_only
from evidencenlp.topics import (
    DEFAULT_ANY_SEGMENT,
    DEFAULT_CLAUSES,
    DEFAULT_NOTE_DIRECTION,
    DEFAULT_SEGMENT_EMBEDDINGS,
    DEFAULT_SPLIT_DIRECTION,
    DEFAULT_THRESHOLD,
    DEFAULT_WHOLE_WEIGHT,
    TopicGroup,
    pool_topics,
    pooled_rows,
    segments,
    sentence_offsets,
    split_by_direction,
    with_note_direction,
)

#: the sub-folder of ``models/`` holding the heads trained on the static backend's embeddings
STATIC_MODELS = "static"


def heads_folder(models: Path | None, backend: str) -> Path:
    """Where the heads for ``backend`` are: ``models`` (default: the packaged models), or its
    ``static/`` sub-folder for the static backend unless ``models`` itself holds static heads."""
    from evidencenlp.paths import models_dir

    folder = Path(models) if models is not None else models_dir()
    if backend != "static" or (not (folder / STATIC_MODELS).is_dir() and (folder / "heads.json").is_file()):
        return folder
    return folder / STATIC_MODELS


def check_space(classifier: EvidenceClassifier, backend: str) -> None:
    """Raise :class:`ModelError` when ``classifier`` learned on embeddings ``backend`` does not produce."""
    if SPACES[backend] != classifier.encoder_:
        raise ModelError(f"the heads were trained on {classifier.encoder_!r} embeddings, which the {backend!r} "
                         f"backend does not produce; use the heads made for it (the static backend's are in "
                         f"models/{STATIC_MODELS}/)")


@dataclass(frozen=True)
class Label:
    """A suggested label and its calibrated probability in [0, 1]."""

    label: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        """``{"label": …, "score": …}``."""
        return {"label": self.label, "score": round(self.score, 4)}


@dataclass(frozen=True)
class BandLabel(Label):
    """The suggested band with the probability of each of the four bands."""

    probabilities: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """``{"label", "score", "probabilities": {band: p}}``."""
        return {**super().to_dict(), "probabilities": {b: round(p, 4) for b, p in self.probabilities.items()}}


@dataclass(frozen=True)
class SentenceSuggestion:
    """The suggestion for one sentence of a multi-sentence note."""

    text: str
    key_question: Label
    statement: Label
    band: BandLabel
    evidence: Match | None
    needs_review: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the ``sentences`` items of the output contract)."""
        return {"text": self.text, "key_question": self.key_question.to_dict(),
                "statement": self.statement.to_dict(), "band": self.band.to_dict(),
                "evidence": self.evidence.to_dict() if self.evidence else None,
                "needs_review": self.needs_review}


@dataclass(frozen=True)
class Topic:
    """One thing a note is about: a key question with its statement, band and direction, the evidence
    span in the (redacted) note and a score.

    ``score`` is the topic's pooled key question score (:func:`evidencenlp.topics.pool_topics`), equal
    to ``key_question.score``; ``start``/``end`` are character offsets of the evidence span (the
    sentence likeliest about the key question, or the whole note for a note with one topic) into
    ``Suggestion.text``; ``spans`` are the offsets of every sentence of the topic.
    """

    key_question: Label
    statement: Label
    band: BandLabel
    direction: Label | None
    score: float
    start: int
    end: int
    spans: tuple[tuple[int, int], ...] = ()

    def to_dict(self, text: str | None = None) -> dict[str, Any]:
        """JSON-ready form (the ``topics`` items of the output contract); with the note's ``text`` the
        evidence span's text is included."""
        evidence: dict[str, Any] = {"start": self.start, "end": self.end}
        if text is not None:
            evidence["text"] = text[self.start:self.end]
        return {"key_question": self.key_question.to_dict(), "statement": self.statement.to_dict(),
                "band": self.band.to_dict(), "direction": self.direction.to_dict() if self.direction else None,
                "score": round(self.score, 4), "evidence": evidence, "spans": [list(x) for x in self.spans]}


@dataclass(frozen=True)
class Suggestion:
    """Everything suggested for one note. ``text`` is the redacted note unless redaction was off.

    When the tool abstains (``reason`` is ``"no_content"`` or ``"not_english"``), every label is
    ``None``, the lists are empty and ``needs_review`` is true.
    """

    text: str
    key_question: Label | None
    statement: Label | None
    statement_top3: tuple[Label, ...]
    evidence_category: Label | None
    band: BandLabel | None
    principles: tuple[Label, ...]
    evidence: tuple[Match, ...]
    sentences: tuple[SentenceSuggestion, ...]
    needs_review: bool
    model_version: str
    redactions: dict[str, int] = field(default_factory=dict)
    reason: str | None = None
    key_questions: tuple[Label, ...] = ()
    direction: Label | None = None
    #: what the note is about, main topic first (:class:`Topic`); one topic for a single-topic note
    topics: tuple[Topic, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON output contract (see README, "Output contract")."""

        def opt(label: Label | None) -> dict[str, Any] | None:
            return label.to_dict() if label is not None else None

        return {
            "text": self.text,
            "reason": self.reason,
            "key_question": opt(self.key_question),
            "key_questions": [k.to_dict() for k in self.key_questions],
            "statement": opt(self.statement),
            "statement_top3": [s.to_dict() for s in self.statement_top3],
            "evidence_category": opt(self.evidence_category),
            "band": opt(self.band),
            "direction": opt(self.direction),
            "principles": [p.to_dict() for p in self.principles],
            "evidence": [m.to_dict() for m in self.evidence],
            "sentences": [s.to_dict() for s in self.sentences],
            "topics": [t.to_dict(self.text) for t in self.topics],
            "needs_review": self.needs_review,
            "model_version": self.model_version,
            "redactions": dict(self.redactions),
        }


@dataclass
class Analysed:
    """What :meth:`Suggester.analyse` gives for a batch of notes.

    ``out`` has one place per note: ``None`` for a blank note and for a note kept, the abstention for
    the others; ``keep`` are the indices of the notes kept, ``processed`` their redacted (segmented)
    texts in that order; ``preds`` the heads' output (``None`` when none was kept), rows
    ``0..len(keep)-1`` the notes, then every distinct sentence and topic segment once (with
    :attr:`Suggester.segment_embeddings` ``spans``: every distinct sentence once, then each note's
    segments, pooled from that note's own pass);
    ``sentences[row]`` / ``sentence_rows[row]`` the sentences of note ``row`` (for per-sentence
    suggestions; none for a note of one sentence or without ``sentences``) and their rows;
    ``segments[row]`` / ``segment_rows[row]`` the pieces its topics pool
    (:func:`evidencenlp.topics.segments`; none for a note of one piece or without ``topics``).
    """

    out: list[Suggestion | None]
    keep: list[int]
    processed: list[ProcessedText]
    preds: ClassifierOutput | None
    sentences: list[list[str]]
    sentence_rows: list[list[int]]
    segments: list[list[str]]
    segment_rows: list[list[int]]


class Suggester:
    """Compose the pipeline stages; load once, then call :meth:`suggest` or :meth:`suggest_many`.

    Building one limits numpy's BLAS to one thread in this process (see :func:`_limit_blas_threads`).

    >>> s = Suggester.load()                               # doctest: +SKIP
    >>> s.suggest("Call bell rang 9 minutes").to_dict()    # doctest: +SKIP
    """

    #: the heads a topic pools over its segments (statement first; direction when the model has it)
    pooled_tasks: tuple[str, ...] = ("statement", "band", "direction")

    def __init__(self, index: FrameworkIndex, classifier: EvidenceClassifier, redact: bool = True,
                 evidence_category: str | None = None) -> None:
        categories = index.taxonomy.categories
        if evidence_category is not None and evidence_category not in categories:
            raise InputFileError(f"unknown evidence category {evidence_category!r}; expected one of "
                                 f"{', '.join(categories)}")
        classifier.check_frameworks(index)
        check_space(classifier, index.backend)
        classifier.bind_index(index)
        self.index = index
        self.classifier = classifier
        self.redact = redact
        self._kq_columns: dict[str, np.ndarray] = {}
        #: when the source of every note is known (e.g. a public feedback file), the category is given
        self.evidence_category = evidence_category
        #: the embedder chosen once, shared with the framework index (see :mod:`evidencenlp.encoder`)
        self.embedder: Embedder = index.embedder
        #: its backend (``torch``, ``onnx-int8`` or ``static``)
        self.backend = index.backend
        #: the pooling rule of :attr:`Suggestion.topics` (:func:`evidencenlp.topics.pool_topics`)
        self.topic_threshold = DEFAULT_THRESHOLD
        self.topic_whole_weight = DEFAULT_WHOLE_WEIGHT
        #: whether any segment's probability can add a topic (:func:`evidencenlp.topics.pool_topics`)
        self.topic_any_segment = DEFAULT_ANY_SEGMENT
        #: whether topics pool clauses (``True``) or whole sentences (:func:`evidencenlp.topics.segments`)
        self.topic_clauses = DEFAULT_CLAUSES
        #: how much a topic's direction (and band) leans on the whole note's direction
        #: (:func:`evidencenlp.topics.with_note_direction`; 0: the topic's clauses alone)
        self.topic_note_direction = DEFAULT_NOTE_DIRECTION
        #: how sure a clause must be of each direction for a key question's topic to split in two
        #: (:func:`evidencenlp.topics.split_by_direction`; ``None``: one topic per key question)
        self.topic_split_direction: float | None = DEFAULT_SPLIT_DIRECTION
        #: how topic segments are embedded (:data:`evidencenlp.encoder.spans.SEGMENT_EMBEDDINGS`):
        #: ``separate`` encodes each as a text of its own; ``spans`` pools them from the note's own pass
        #: (:func:`evidencenlp.encoder.spans.encode_spans`; an embedder that cannot pool spans encodes
        #: them separately)
        self.segment_embeddings = DEFAULT_SEGMENT_EMBEDDINGS
        #: whether batch tagging (:func:`evidencenlp.tagging.columns.chunk_columns`) pools topics; off,
        #: each note's one topic is its main suggestion and no note is segmented or its pieces encoded
        self.tag_topics = True
        # a hash over all weights (computed once), and the backend when it is not the one they learned on
        self._model_version = classifier.model_version + ("" if self.backend == classifier.backend
                                                          else f"+{self.backend}")
        #: each statement's key question, as an array (compared once per note)
        self._statement_kq: Any = np.asarray(index.taxonomy.statement_kq)
        limit_blas_threads()

    @classmethod
    def load(cls, models: Path | None = None, frameworks: Path | None = None, redact: bool = True,
             evidence_category: str | None = None, backend: str = "torch",
             embedder: Embedder | None = None) -> Suggester:
        """Load frameworks, crosswalk, the framework index (cached on disk) and the trained classifier.

        ``evidence_category`` fixes the category of every note (score 1.0) when the source is known.
        ``backend`` chooses the encoder (:data:`evidencenlp.encoder.BACKENDS`): ``torch`` and
        ``onnx-int8`` use the heads in ``models``; ``static`` uses those in ``models/static`` (or
        ``models`` itself when it holds heads trained on static embeddings). An ``embedder`` already
        chosen (:func:`evidencenlp.encoder.load_embedder`) is used as it is, and ``backend`` ignored.
        """
        embedder = embedder if embedder is not None else load_embedder(backend)
        backend = embedder.backend
        classifier = EvidenceClassifier.load(heads_folder(models, backend))
        check_space(classifier, backend)  # before the index is embedded with that backend
        index = load_framework_set(frameworks).index(embedder)
        return cls(index, classifier.bind_index(index), redact=redact, evidence_category=evidence_category)

    @property
    def weak_below(self) -> float:
        """Similarity under which an explanation is marked a weak match (chosen on data when the model was trained)."""
        return float(self.classifier.thresholds_.get("weak_match", DEFAULT_WEAK_MATCH))

    @property
    def model_version(self) -> str:
        """The classifier's version id (changes with weights, frameworks and training data)."""
        return self._model_version

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray) -> ClassifierOutput:
        """The classify stage on (redacted) ``texts`` and their embeddings ``(n, 384)``."""
        return self.classifier.predict_all(texts, vectors)

    # -- public API ----------------------------------------------------------------------------

    def suggest(self, text: str) -> Suggestion:
        """Suggest for one note. Raises :class:`InputFileError` for empty or blank text."""
        if not isinstance(text, str) or not text.strip():
            raise InputFileError("the note is empty: there is nothing to suggest for")
        result = self.suggest_many([text])[0]
        assert result is not None
        return result

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True, evidence: bool = True,
                     batch_size: int = DEFAULT_BATCH_SIZE,
                     progress: Callable[[int], None] | None = None,
                     topics: bool | None = None) -> list[Suggestion | None]:
        """Suggest for many notes; ``None`` (in place) for a missing, empty or blank note.

        ``sentences=False`` skips per-sentence suggestions (faster for batch tagging);
        ``evidence=False`` keeps only the single explaining sentence per note.
        ``topics`` (default: as ``sentences``) fills :attr:`Suggestion.topics`; it needs the notes
        segmented and their sentences encoded, so ``topics=True`` with ``sentences=False`` costs the
        sentence pass without building per-sentence suggestions. Without it ``topics`` is empty.
        ``progress`` is called with the number of notes finished after each encoder batch.
        """
        topics = sentences if topics is None else topics
        batch = self.analyse(texts, sentences=sentences, topics=topics, batch_size=batch_size, progress=progress)
        out, preds, processed = batch.out, batch.preds, batch.processed
        per_note: list[list[SentenceSuggestion]] = [[] for _ in processed]
        for row, (texts_, rows_) in enumerate(zip(batch.sentences, batch.sentence_rows)):
            for text, j in zip(texts_, rows_):
                assert preds is not None  # there are sentences, so there were texts to predict
                kq, st, band = self._top(preds, j)
                match = explaining_match(self.index, preds.sims[j], st.label, band.label, self.weak_below)
                per_note[row].append(SentenceSuggestion(text, kq, st, band, match,
                                                        self.classifier.needs_review(kq.score, st.score, band.score,
                                                                                     preds.proba, j)))
        for row, i in enumerate(batch.keep):
            built = self._build(processed[row], preds, row, tuple(per_note[row]), evidence)
            if topics:
                assert preds is not None
                built = replace(built, topics=self._topics(processed[row], built, preds, row,
                                                           batch.segment_rows[row], batch.segments[row]))
            out[i] = built
        return out

    def analyse(self, texts: Sequence[str | None], sentences: bool = True, topics: bool = True,
                batch_size: int = DEFAULT_BATCH_SIZE,
                progress: Callable[[int], None] | None = None) -> Analysed:
        """The stages of :meth:`suggest_many` before any suggestion is assembled: abstention (those
        notes' suggestions made), redaction and, with ``sentences`` or ``topics``, segmentation; the
        encoder and the heads over the notes kept and their sentences, in one pass."""
        present = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        reasons = abstention_reasons([str(texts[i]) for i in present])
        keep = [i for i, r in zip(present, reasons) if r is None]
        out: list[Suggestion | None] = [None] * len(texts)
        abstained = [(i, r) for i, r in zip(present, reasons) if r is not None]
        for (i, r), p in zip(abstained, self._redacted([str(texts[i]) for i, _ in abstained])):
            out[i] = self._abstain(str(texts[i]), r, p)
        raw = [str(texts[i]) for i in keep]
        if sentences or topics:
            processed = list(process_many(raw, redact=self.redact))
        else:
            processed = self._redacted(raw)
        # per-sentence suggestions are for notes of several sentences; topics pool the notes' segments
        # (clauses of their sentences: :func:`evidencenlp.topics.segments`) when there are several
        sent_lists = [list(p.sentences) if sentences and len(p.sentences) > 1 else [] for p in processed]
        seg_lists = [self.topic_segments(p.sentences) if topics else [] for p in processed]
        seg_lists = [segs if len(segs) > 1 else [] for segs in seg_lists]
        notes = [p.text for p in processed]
        if self.segment_embeddings not in SEGMENT_EMBEDDINGS:
            raise ValueError(f"segment_embeddings must be one of {', '.join(SEGMENT_EMBEDDINGS)}; "
                             f"got {self.segment_embeddings!r}")
        if self.segment_embeddings == "spans" and isinstance(self.embedder, SpanEmbedder) and any(seg_lists):
            return self._analyse_spans(out, keep, processed, sent_lists, seg_lists, batch_size, progress)
        extra = list(dict.fromkeys(s for lists in (sent_lists, seg_lists) for texts_ in lists for s in texts_))
        row_of = {t: j for j, t in enumerate(extra, start=len(processed))}
        # notes, their sentences and segments go through the encoder and the heads together (each once)
        vectors = self._encode_with_pieces(notes, extra, row_of, seg_lists, batch_size,
                                           None if extra else progress)
        if extra and progress is not None:
            progress(len(processed))
        preds = self.probabilities(notes + extra, vectors) if len(vectors) else None
        return Analysed(out, keep, processed, preds, sent_lists, [[row_of[s] for s in ss] for ss in sent_lists],
                        seg_lists, [[row_of[s] for s in ss] for ss in seg_lists])

    def _encode_with_pieces(self, notes: list[str], extra: list[str], row_of: dict[str, int],
                            seg_lists: list[list[str]], batch_size: int,
                            progress: Callable[[int], None] | None) -> np.ndarray:
        """The vectors of ``notes + extra`` (rows of ``extra`` by ``row_of``): with an embedder that can
        (``encode_pieces``: static), a note of several segments found in it is tokenised from its
        segments' tokens (the same vectors); otherwise :meth:`~evidencenlp.encoder.Embedder.encode` of
        them all."""
        encode_pieces = getattr(self.embedder, "encode_pieces", None)
        if encode_pieces is None or not any(seg_lists):
            return self.embedder.encode(notes + extra, batch_size=batch_size, progress=progress)
        pieces = {i: [(*span, row_of[seg]) for seg, span in zip(segs, sentence_offsets(notes[i], segs)) if span]
                  for i, segs in enumerate(seg_lists) if segs}
        vectors: np.ndarray = encode_pieces(notes + extra, pieces, batch_size=batch_size, progress=progress)
        return vectors

    def _analyse_spans(self, out: list[Suggestion | None], keep: list[int], processed: list[ProcessedText],
                       sent_lists: list[list[str]], seg_lists: list[list[str]], batch_size: int,
                       progress: Callable[[int], None] | None) -> Analysed:
        """:meth:`analyse`'s encoder and heads with ``segment_embeddings="spans"``: each note's segments
        pooled from its own pass (:func:`evidencenlp.encoder.spans.encode_spans`; rows after the notes
        and their distinct sentences, one per segment of each note); sentences encoded on their own."""
        notes = [p.text for p in processed]
        extra = list(dict.fromkeys(s for texts_ in sent_lists for s in texts_))
        row_of = {t: j for j, t in enumerate(extra, start=len(processed))}
        spans = [sentence_offsets(p.text, segs) for p, segs in zip(processed, seg_lists)]
        note_vectors, seg_vectors = encode_spans(self.embedder, notes, seg_lists, spans, batch_size=batch_size,
                                                 progress=None if extra else progress)
        vectors = [note_vectors, seg_vectors]
        if extra:
            vectors.insert(1, self.embedder.encode(extra, batch_size=batch_size))
            if progress is not None:
                progress(len(processed))
        first = np.cumsum([len(notes) + len(extra), *(len(segs) for segs in seg_lists)]).tolist()
        flat = [s for segs in seg_lists for s in segs]
        preds = self.probabilities(notes + extra + flat, np.vstack(vectors))
        return Analysed(out, keep, processed, preds, sent_lists, [[row_of[s] for s in ss] for ss in sent_lists],
                        seg_lists, [list(range(a, b)) for a, b in zip(first[:-1], first[1:])])

    def topic_segments(self, sentences: Sequence[str]) -> list[str]:
        """The pieces of a note whose key questions :attr:`Suggestion.topics` pools: its sentences cut
        into clauses (:func:`evidencenlp.topics.segments`, with :attr:`topic_clauses`)."""
        return segments(sentences, clauses_on=self.topic_clauses)

    def _topics(self, p: ProcessedText, main: Suggestion, preds: ClassifierOutput, row: int,
                rows: list[int], segs: list[str]) -> tuple[Topic, ...]:
        """The topics of one note (:func:`evidencenlp.topics.pool_topics`) from its whole-note row ``row``
        and the rows ``rows`` of ``preds`` of its segments ``segs``; one topic equal to ``main`` when it
        has one."""
        assert main.key_question is not None and main.statement is not None and main.band is not None
        groups = self.topic_groups(preds, row, rows)
        if len(groups) == 1:
            return (Topic(main.key_question, main.statement, main.band, main.direction, main.key_question.score,
                          0, len(p.text), ((0, len(p.text)),)),)
        return self.pooled_topics(p, preds, rows, groups, segs, note=row)

    def topic_groups(self, preds: ClassifierOutput, row: int, rows: list[int]) -> list[TopicGroup]:
        """The topic groups (:func:`evidencenlp.topics.pool_topics`) of the note on row ``row`` of
        ``preds`` whose segments are the rows ``rows``."""
        kq_proba = preds.proba["key_question"]
        groups = pool_topics(kq_proba[row], kq_proba[rows], threshold=self.topic_threshold,
                             whole_weight=self.topic_whole_weight, any_segment=self.topic_any_segment)
        if self.topic_split_direction is None or "direction" not in preds.proba or len(rows) < 2:
            return groups
        return split_by_direction(groups, kq_proba[rows], preds.proba["direction"][rows], self.topic_split_direction,
                                  note_direction=preds.proba["direction"][row], weight=self.topic_note_direction)

    def pooled_topics(self, p: ProcessedText, preds: ClassifierOutput, rows: list[int],
                      groups: list[TopicGroup], segs: Sequence[str], note: int | None = None) -> tuple[Topic, ...]:
        """The topics of a note with several ``groups``: each its key question, statement, band and
        direction pooled over its segments' rows of ``preds`` (weighted by how much each is about the
        topic's key question), with the segments' offsets into ``p.text``; ``note`` the whole note's
        row (its direction joins each topic's: :meth:`pooled_choices`)."""
        offsets = sentence_offsets(p.text, segs)
        tasks = [t for t in self.pooled_tasks if t in preds.proba]
        out = []
        for g, (j, pooled) in zip(groups, self.pooled_choices(preds, [preds.proba[t] for t in tasks], rows, groups,
                                                                   note=note)):
            kq = preds.classes["key_question"][g.key_question]
            b_p = pooled[1]
            band = BandLabel(preds.classes["band"][int(b_p.argmax())], float(b_p.max()),
                             {name: float(b_p[i]) for i, name in enumerate(preds.classes["band"])})
            direction = None
            if len(pooled) > 2:
                d_p = pooled[2]
                direction = Label(preds.classes["direction"][int(d_p.argmax())], float(d_p.max()))
            spans = tuple(o for o in (offsets[m] for m in g.members) if o is not None)
            best = offsets[g.best] or (0, len(p.text))
            out.append(Topic(Label(kq, g.score), Label(preds.classes["statement"][j], float(pooled[0][j])), band,
                             direction, g.score, best[0], best[1], spans))
        return tuple(out)

    def pooled_choices(self, preds: ClassifierOutput, parts: Sequence[np.ndarray], rows: list[int],
                       groups: list[TopicGroup], note: int | None = None) -> list[tuple[int, list[np.ndarray]]]:
        """For each topic group of a note (segments on rows ``rows`` of ``preds``): the statement column
        chosen within its key question, and each of ``parts`` pooled over its members
        (:func:`evidencenlp.topics.pooled_rows`, weighted by each member's probability of the key
        question; ``parts[0]`` must be the statement probabilities).

        ``parts`` are the probabilities of :attr:`pooled_tasks` present in ``preds``, in that order, or
        side-by-side blocks of one wider matrix (a tagged chunk joins statement, band and direction once):
        each column is pooled on its own, so the values are the same either way. With ``note`` (the
        whole note's row of ``preds``), a direction head and :attr:`topic_note_direction` > 0, each
        topic's direction and band then take the note's direction into account
        (:func:`evidencenlp.topics.with_note_direction`; the band by the classifier's ``direction_mix_``).
        """
        kq_proba = preds.proba["key_question"]
        bounds = list(accumulate((part.shape[1] for part in parts), initial=0))
        kq_names = preds.classes["key_question"]
        leaning = self._direction_columns(preds, bounds[-1]) if note is not None and self.topic_note_direction else None
        mix = float(getattr(getattr(self, "classifier", None), "direction_mix_", 1.0))
        out = []
        for g in groups:
            members = [rows[m] for m in g.members]
            # members weigh in by how much they are about the topic's key question
            weights = kq_proba[members, g.key_question]
            if len(parts) == 1:
                joined = pooled_rows(parts[0], members, weights)
            else:
                joined = pooled_rows(np.hstack([part[members] for part in parts]), range(len(members)), weights)
            if leaning is not None:
                band_cols, direction_cols = leaning
                joined[band_cols], joined[direction_cols] = with_note_direction(
                    joined[band_cols], joined[direction_cols], preds.proba["direction"][note],
                    self.topic_note_direction, mix)
            pooled = [joined[a:b] for a, b in zip(bounds[:-1], bounds[1:])]
            cols = self._statement_columns(kq_names[g.key_question])
            out.append((int(cols[int(pooled[0][cols].argmax())]), pooled))
        return out

    def _direction_columns(self, preds: ClassifierOutput, width: int) -> tuple[slice, slice] | None:
        """The band and direction columns of the pooled row of :attr:`pooled_tasks` (``width`` columns in
        all), or ``None`` when ``preds`` has no direction or band (nothing for the note to lean on)."""
        tasks = [t for t in self.pooled_tasks if t in preds.proba]
        if "direction" not in tasks or "band" not in tasks:
            return None
        starts = dict(zip(tasks, accumulate((preds.proba[t].shape[1] for t in tasks), initial=0)))
        if sum(preds.proba[t].shape[1] for t in tasks) != width:
            raise ValueError(f"pooled columns ({width}) are not those of the tasks {tasks}")
        return (slice(starts["band"], starts["band"] + preds.proba["band"].shape[1]),
                slice(starts["direction"], starts["direction"] + preds.proba["direction"].shape[1]))

    def _statement_columns(self, key_question: str) -> np.ndarray:
        """The statement columns of ``key_question`` (cached: the taxonomy does not change)."""
        cached = self._kq_columns.get(key_question)
        if cached is None:
            cached = np.flatnonzero(np.asarray(self.index.taxonomy.statement_kq) == key_question)
            self._kq_columns[key_question] = cached
        return cached

    def _redacted(self, texts: list[str]) -> list[ProcessedText]:
        """The notes redacted (when redaction is on) without sentence segmentation, in one batch."""
        return redact_many(texts) if self.redact else [ProcessedText(t, (), {}) for t in texts]

    def _abstain(self, text: str, reason: str, processed: ProcessedText | None = None) -> Suggestion:
        """The empty suggestion for a note the tool will not label (redacted like any other, or ``processed``)."""
        p = processed or (redact_only(text) if self.redact else ProcessedText(text, (), {}))
        return Suggestion(text=p.text, key_question=None, statement=None, statement_top3=(), evidence_category=None,
                          band=None, principles=(), evidence=(), sentences=(), needs_review=True,
                          model_version=self.model_version, redactions=dict(p.redactions), reason=reason)

    def _top(self, preds: ClassifierOutput, row: int) -> tuple[Label, Label, BandLabel]:
        (kq, kq_p), (st, st_p) = preds.suggestion(row, self.index.taxonomy.statement_kq)
        b, b_p = preds.top("band", row)
        band = BandLabel(b, b_p, {name: float(preds.proba["band"][row, i])
                                  for i, name in enumerate(preds.classes["band"])})
        return Label(kq, kq_p), Label(st, st_p), band

    def _build(self, p: ProcessedText, preds: ClassifierOutput | None, row: int,
               sentence_results: tuple[SentenceSuggestion, ...], evidence: bool) -> Suggestion:
        assert preds is not None
        kq, st, band = self._top(preds, row)
        top3 = tuple(Label(label, score) for label, score in preds.statement_top(row, 3))  # the suggestion first
        c_label, c_p = preds.top("evidence_category", row)
        category = Label(self.evidence_category, 1.0) if self.evidence_category else Label(c_label, c_p)
        threshold = self.classifier.thresholds_["principles"]
        p_row = preds.proba["principles"][row]
        principles = tuple(sorted((Label(pid, float(p_row[j])) for j, pid in enumerate(preds.classes["principles"])
                                   if p_row[j] >= threshold), key=lambda x: -x.score))
        if band.label not in self.index.taxonomy.positive_bands:
            principles = ()  # principles of outstanding care: evidence in that direction only (good or outstanding)
        matches = evidence_for(self.index, preds.sims[row], st.label, band.label, [x.label for x in principles],
                               full=evidence, weak_below=self.weak_below)
        kq_row = preds.proba["key_question"][row]
        key_questions = tuple(Label(k, float(kq_row[j])) for j, k in sorted(
            enumerate(preds.classes["key_question"]), key=lambda x: -kq_row[x[0]])
            if kq_row[j] >= self.classifier.thresholds_.get("key_questions", 0.3))
        direction = None
        if "direction" in preds.proba:
            d, d_p = preds.top("direction", row)
            direction = Label(d, d_p)
        return Suggestion(
            text=p.text, key_question=kq, statement=st, statement_top3=top3,
            evidence_category=category, band=band,
            principles=principles, evidence=matches, sentences=sentence_results,
            needs_review=self.classifier.needs_review(kq.score, st.score, band.score, preds.proba, row),
            model_version=self.model_version, redactions=dict(p.redactions),
            key_questions=key_questions, direction=direction,
        )
