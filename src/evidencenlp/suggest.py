"""The Suggester: text → segment → redact → encode → match → classify → :class:`Suggestion`.

Nothing here rates anything: a suggestion is for an inspector to confirm or correct, and when the
calibrated probabilities are low it says ``needs_review`` rather than guessing confidently.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp import encoder
from evidencenlp.bundle import HeadBundle
from evidencenlp.combine import align, joint
from evidencenlp.cues import with_markers
from evidencenlp.features import head_features
from evidencenlp.errors import InputFileError, ModelError
from evidencenlp.frameworks import (
    BANDS,
    EVIDENCE_CATEGORIES,
    KEY_QUESTIONS,
    KLOE_ID,
    SAF_ID,
    V6_ID,
    load_crosswalk,
    load_frameworks,
)
from evidencenlp.matching import FrameworkIndex, Match
from evidencenlp.paths import models_dir
from evidencenlp.text import ProcessedText, process_many, redact_only

#: columns that ``tag`` adds to every row, in order
FLAT_COLUMNS: tuple[str, ...] = (
    "key_question", "key_question_score", "statement", "statement_score", "statement_top3",
    "evidence_category", "evidence_category_score", "band", "band_score", "principles",
    "evidence_text", "needs_review",
)


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
class Suggestion:
    """Everything suggested for one note. ``text`` is the redacted note unless redaction was off."""

    text: str
    key_question: Label
    statement: Label
    statement_top3: tuple[Label, ...]
    evidence_category: Label
    band: BandLabel
    principles: tuple[Label, ...]
    evidence: tuple[Match, ...]
    sentences: tuple[SentenceSuggestion, ...]
    needs_review: bool
    model_version: str
    redactions: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON output contract (see README, "Output contract")."""
        return {
            "text": self.text,
            "key_question": self.key_question.to_dict(),
            "statement": self.statement.to_dict(),
            "statement_top3": [s.to_dict() for s in self.statement_top3],
            "evidence_category": self.evidence_category.to_dict(),
            "band": self.band.to_dict(),
            "principles": [p.to_dict() for p in self.principles],
            "evidence": [m.to_dict() for m in self.evidence],
            "sentences": [s.to_dict() for s in self.sentences],
            "needs_review": self.needs_review,
            "model_version": self.model_version,
            "redactions": dict(self.redactions),
        }

    def to_row(self) -> dict[str, Any]:
        """The flat columns ``tag`` adds (:data:`FLAT_COLUMNS`)."""
        return {
            "key_question": self.key_question.label,
            "key_question_score": round(self.key_question.score, 4),
            "statement": self.statement.label,
            "statement_score": round(self.statement.score, 4),
            "statement_top3": ";".join(s.label for s in self.statement_top3),
            "evidence_category": self.evidence_category.label,
            "evidence_category_score": round(self.evidence_category.score, 4),
            "band": self.band.label,
            "band_score": round(self.band.score, 4),
            "principles": ";".join(p.label for p in self.principles),
            "evidence_text": self.evidence[0].text.text if self.evidence else "",
            "needs_review": self.needs_review,
        }


def empty_row() -> dict[str, Any]:
    """Flat columns for a row with no text: every suggestion column empty."""
    return {c: None for c in FLAT_COLUMNS}


@dataclass(frozen=True)
class Probabilities:
    """Per-note arrays from one batch through the heads (rows are notes)."""

    kq: np.ndarray          # (n, 5) in KEY_QUESTIONS order
    statement: np.ndarray   # (n, n_statements) in index.statements order
    category: np.ndarray    # (n, 6) in EVIDENCE_CATEGORIES order
    band: np.ndarray        # (n, 4) in BANDS order
    principles: np.ndarray  # (n, n_principles) in index.principles order
    sims: np.ndarray        # (n, n_texts)


_BLAS_LIMITED = False


def _limit_blas_threads() -> None:
    """Run numpy's BLAS single-threaded in this process (once).

    Our matrix products are small; a multi-threaded BLAS pool spin-waits against torch's own
    threads on a small machine and made each suggestion ~2.5x slower (bench/: p50 62 ms → 24 ms).
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


class Suggester:
    """Compose the pipeline stages; load once, then call :meth:`suggest` or :meth:`suggest_many`.

    Building one limits numpy's BLAS to one thread in this process (see :func:`_limit_blas_threads`).

    >>> s = Suggester.load()                               # doctest: +SKIP
    >>> s.suggest("Call bell rang 9 minutes").to_dict()    # doctest: +SKIP
    """

    def __init__(self, index: FrameworkIndex, bundle: HeadBundle, redact: bool = True,
                 evidence_category: str | None = None) -> None:
        if evidence_category is not None and evidence_category not in EVIDENCE_CATEGORIES:
            raise InputFileError(f"unknown evidence category {evidence_category!r}; expected one of "
                                 f"{', '.join(EVIDENCE_CATEGORIES)}")
        self.index = index
        self.bundle = bundle
        self.redact = redact
        #: when the source of every note is known (e.g. a public feedback file), the category is given
        self.evidence_category = evidence_category
        self._model_version = bundle.model_version  # a hash over all weights: compute once
        _limit_blas_threads()
        for task in ("key_question", "statement", "evidence_category", "band"):
            if task not in bundle.heads:
                raise ModelError(f"the trained heads lack the {task!r} head; retrain with `evidencenlp train`")
        stale = {k: v for k, v in bundle.frameworks.items() if index.version.get(k) not in (None, v)}
        if stale:
            now = {k: index.version.get(k) for k in stale}
            raise ModelError(f"the heads were trained on framework versions {stale}, but the frameworks "
                             f"loaded are {now}; retrain with `evidencenlp train`")

    @classmethod
    def load(cls, models: Path | None = None, frameworks: Path | None = None, redact: bool = True,
             evidence_category: str | None = None) -> Suggester:
        """Load frameworks, crosswalk, the framework index (cached on disk) and the trained heads.

        ``evidence_category`` fixes the category of every note (score 1.0) when the source is known.
        """
        fws = load_frameworks(frameworks)
        crosswalk = load_crosswalk(frameworks / "crosswalk.yaml" if frameworks else None, fws)
        bundle = HeadBundle.load(models or models_dir())
        return cls(FrameworkIndex(fws, crosswalk), bundle, redact=redact, evidence_category=evidence_category)

    @property
    def model_version(self) -> str:
        """The heads' version id (changes with weights, frameworks and training data)."""
        return self._model_version

    # -- features and heads ------------------------------------------------------------------

    def features(self, vectors: np.ndarray, texts: Sequence[str], sims: np.ndarray | None = None) -> np.ndarray:
        """Head input for ``texts`` and their embeddings ``(n, 384)``, as the heads were trained."""
        return head_features(self.index, vectors, texts, similarity=self.bundle.use_similarity_features,
                             cues=self.bundle.use_cues, sims=sims)

    def probabilities(self, texts: Sequence[str], vectors: np.ndarray) -> Probabilities:
        """Per-note probability arrays for (redacted) ``texts`` and their embeddings ``(n, 384)``.

        Band and evidence category average the embedding head with the TF-IDF text head, if trained.
        """
        sims = self.index.similarities(vectors)
        X = self.features(vectors, texts, sims)
        heads = self.bundle.heads
        kq = align(heads["key_question"].predict_proba(X), heads["key_question"].classes_, KEY_QUESTIONS)
        st = align(heads["statement"].predict_proba(X), heads["statement"].classes_, self.index.statements)
        statement, kq_marginal = joint(st, kq, self.index.statement_kq, self.bundle.joint_temperature)
        band = self._blend("band", align(heads["band"].predict_proba(X), heads["band"].classes_, BANDS), texts)
        categories = list(EVIDENCE_CATEGORIES)
        category = self._blend("evidence_category", align(heads["evidence_category"].predict_proba(X),
                                                          heads["evidence_category"].classes_, categories), texts)
        principles = (align(self.bundle.principles.predict_proba(X), self.bundle.principles.classes_,
                            self.index.principles)
                      if self.bundle.principles is not None else np.zeros((len(X), len(self.index.principles))))
        return Probabilities(kq_marginal, statement, category, band, principles, sims)

    def _blend(self, task: str, proba: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        """Average an embedding head's probabilities with the task's TF-IDF head (if the bundle has one)."""
        head = self.bundle.text_heads.get(task)
        if head is None:
            return proba
        order = BANDS if task == "band" else EVIDENCE_CATEGORIES
        inputs = with_markers(texts) if self.bundle.use_cues else list(texts)
        return (proba + align(head.predict_proba(inputs), head.classes_, order)) / 2

    def _needs_review(self, kq: float, statement: float, band: float) -> bool:
        t = self.bundle.thresholds
        return kq < t["key_question"] or statement < t["statement"] or band < t["band"]

    def _explaining_match(self, sims_row: np.ndarray, statement: str, band: str) -> Match | None:
        """The framework sentence that best explains statement + band (a band descriptor if any)."""
        return (self.index.best(sims_row, statement=statement, band=band)
                or self.index.best(sims_row, statement=statement)
                or self.index.best(sims_row))

    def _evidence(self, sims_row: np.ndarray, statement: str, band: str, principles: list[str]) -> tuple[Match, ...]:
        found: list[Match] = []
        primary = self._explaining_match(sims_row, statement, band)
        if primary is not None:
            found.append(primary)
        for fw, kinds in ((SAF_ID, {"quality_statement"}), (KLOE_ID, {"prompt"}), (V6_ID, {"topic_question"})):
            m = self.index.best(sims_row, statement=statement, kinds=kinds, framework=fw)
            if m is not None and m not in found:
                found.append(m)
        for p in principles:
            m = self._best_principle_text(sims_row, p)
            if m is not None and m not in found:
                found.append(m)
        return tuple(found)

    def _best_principle_text(self, sims_row: np.ndarray, principle: str) -> Match | None:
        cols = np.flatnonzero(self.index.principle_of == self.index.principles.index(principle))
        if len(cols) == 0:
            return None
        i = cols[int(np.argmax(sims_row[cols]))]
        return Match(self.index.texts[i], float(sims_row[i]))

    # -- public API ----------------------------------------------------------------------------

    def suggest(self, text: str) -> Suggestion:
        """Suggest for one note. Raises :class:`InputFileError` for empty or blank text."""
        if not isinstance(text, str) or not text.strip():
            raise InputFileError("the note is empty: there is nothing to suggest for")
        result = self.suggest_many([text])[0]
        assert result is not None
        return result

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True, evidence: bool = True,
                     batch_size: int = encoder.DEFAULT_BATCH_SIZE,
                     progress: Callable[[int], None] | None = None) -> list[Suggestion | None]:
        """Suggest for many notes; ``None`` (in place) for a missing, empty or blank note.

        ``sentences=False`` skips per-sentence suggestions (faster for batch tagging);
        ``evidence=False`` keeps only the single explaining sentence per note.
        ``progress`` is called with the number of notes finished after each encoder batch.
        """
        keep = [i for i, t in enumerate(texts) if isinstance(t, str) and t.strip()]
        raw = [str(texts[i]) for i in keep]
        if sentences:
            processed = list(process_many(raw, redact=self.redact))
        else:
            processed = [redact_only(t) if self.redact else ProcessedText(t, (), {}) for t in raw]
        owners = [row for row, p in enumerate(processed) if len(p.sentences) > 1 for _ in p.sentences]
        sents = [s for p in processed if len(p.sentences) > 1 for s in p.sentences]
        # notes and their sentences go through the encoder and the heads together: one pass
        vectors = encoder.encode([p.text for p in processed] + sents, batch_size=batch_size,
                                 progress=None if sents else progress)
        if sents and progress is not None:
            progress(len(processed))
        preds = self.probabilities([p.text for p in processed] + sents, vectors) if len(vectors) else None
        per_note: list[list[SentenceSuggestion]] = [[] for _ in processed]
        for j, (row, text) in enumerate(zip(owners, sents), start=len(processed)):
            kq, st, band = self._top(preds, j)
            match = self._explaining_match(preds.sims[j], st.label, band.label)
            per_note[row].append(SentenceSuggestion(text, kq, st, band, match,
                                                    self._needs_review(kq.score, st.score, band.score)))
        out: list[Suggestion | None] = [None] * len(texts)
        for row, i in enumerate(keep):
            out[i] = self._build(processed[row], preds, row, tuple(per_note[row]), evidence)
        return out

    def _top(self, preds: Probabilities, row: int) -> tuple[Label, Label, BandLabel]:
        k = int(preds.kq[row].argmax())
        s = int(preds.statement[row].argmax())
        b = int(preds.band[row].argmax())
        band = BandLabel(BANDS[b], float(preds.band[row, b]),
                         {name: float(preds.band[row, i]) for i, name in enumerate(BANDS)})
        return (Label(KEY_QUESTIONS[k], float(preds.kq[row, k])),
                Label(self.index.statements[s], float(preds.statement[row, s])), band)

    def _build(self, p: ProcessedText, preds: Probabilities | None, row: int,
               sentence_results: tuple[SentenceSuggestion, ...], evidence: bool) -> Suggestion:
        assert preds is not None
        kq, st, band = self._top(preds, row)
        order = np.argsort(-preds.statement[row])[:3]
        top3 = tuple(Label(self.index.statements[i], float(preds.statement[row, i])) for i in order)
        c = int(preds.category[row].argmax())
        category = (Label(self.evidence_category, 1.0) if self.evidence_category
                    else Label(EVIDENCE_CATEGORIES[c], float(preds.category[row, c])))
        threshold = self.bundle.thresholds["principles"]
        principles = tuple(sorted((Label(pid, float(preds.principles[row, j]))
                                   for j, pid in enumerate(self.index.principles)
                                   if preds.principles[row, j] >= threshold), key=lambda x: -x.score))
        sims = preds.sims[row]
        if evidence:
            matches = self._evidence(sims, st.label, band.label, [x.label for x in principles])
        else:
            primary = self._explaining_match(sims, st.label, band.label)
            matches = (primary,) if primary else ()
        return Suggestion(
            text=p.text, key_question=kq, statement=st, statement_top3=top3,
            evidence_category=category, band=band,
            principles=principles, evidence=matches, sentences=sentence_results,
            needs_review=self._needs_review(kq.score, st.score, band.score),
            model_version=self.model_version, redactions=dict(p.redactions),
        )
