"""The framework index: embeddings of every framework sentence, and nearest-sentence look-ups.

Similarities are cosines of L2-normalised embeddings, in [-1, 1]. Each framework sentence is also
mapped to the SAF statements it is evidence for (directly, or through the crosswalk), which gives
cheap per-statement, per-key-question and per-band similarity features for the heads and a
zero-shot baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from evidencenlp.encoder import Embedder, encode_cached, load_embedder
from evidencenlp.frameworks.crosswalk import Crosswalk
from evidencenlp.frameworks.files import Framework, FrameworkText
from evidencenlp.frameworks.ids import PRINCIPLES_ID
from evidencenlp.frameworks.taxonomy import Taxonomy
from evidencenlp.paths import cache_dir


@dataclass(frozen=True)
class Match:
    """A framework sentence and its cosine similarity to a note."""

    text: FrameworkText
    similarity: float
    #: True when the similarity is below the model's weak-match threshold (see :mod:`evidencenlp.explain`)
    weak: bool = False

    def to_dict(self) -> dict[str, object]:
        """``{framework, item, band, text, similarity, weak}`` as in the output contract."""
        return {"framework": self.text.framework, "item": self.text.item, "band": self.text.band,
                "text": self.text.text, "similarity": round(self.similarity, 4), "weak": self.weak}


class FrameworkIndex:
    """Embeddings of all framework sentences, with their links to SAF statements.

    Attributes:
        texts: the ``n_texts`` framework sentences.
        vectors: float32 ``(n_texts, 384)``, L2-normalised.
        statements: SAF statement ids, in framework order (``n_statements``).
        statement_kq: key question of each statement.
        link: bool ``(n_texts, n_statements)``; True where a sentence is evidence for a statement.
        principles: principle ids (``n_principles``).
    """

    def __init__(self, frameworks: dict[str, Framework], crosswalk: Crosswalk, vectors: np.ndarray | None = None,
                 cache: Path | None = None, embedder: Embedder | None = None) -> None:
        """Index every sentence of ``frameworks``; embed them with ``embedder`` (default: the torch one),
        cached on disk in ``cache`` (default: the cache folder), unless ``vectors`` are given."""
        self.frameworks = frameworks
        self.crosswalk = crosswalk
        self.texts: list[FrameworkText] = [t for fw in frameworks.values() for t in fw.texts()]
        self.taxonomy = Taxonomy.from_frameworks(frameworks)
        primary = frameworks[self.taxonomy.framework]
        self.statements: list[str] = list(self.taxonomy.statements)
        self.statement_kq: list[str] = list(self.taxonomy.statement_kq)
        self.statement_text: dict[str, str] = {q["id"]: f"{q['title']}. {q['we_statement']}"
                                               for q in primary.section("quality_statements")}
        principles_fw = frameworks.get(PRINCIPLES_ID)
        self.principles: list[str] = [p["id"] for p in principles_fw.section("principles")] if principles_fw else []
        col = {s: i for i, s in enumerate(self.statements)}
        self.link = np.zeros((len(self.texts), len(self.statements)), dtype=bool)
        for row, t in enumerate(self.texts):
            for s in crosswalk.saf_for(t.framework, t.item):
                if s in col:
                    self.link[row, col[s]] = True
        bands = self.taxonomy.bands
        self.band_of = np.array([bands.index(t.band) if t.band in bands else -1 for t in self.texts])
        self.principle_of = np.array([self.principles.index(t.item) if t.framework == PRINCIPLES_ID else -1
                                      for t in self.texts])
        self.kind_of = np.array([t.kind for t in self.texts])
        self.framework_of = np.array([t.framework for t in self.texts])
        #: the embedder the sentences were embedded with (notes must be embedded with the same one)
        self.embedder: Embedder = embedder if embedder is not None else load_embedder("torch")
        #: its backend name (``torch``, ``onnx-int8`` or ``static``)
        self.backend: str = self.embedder.backend
        if vectors is None:
            vectors = encode_cached([t.text for t in self.texts], cache or cache_dir(), "framework-index",
                                    embedder=self.embedder)
        self.vectors = vectors

    @property
    def version(self) -> dict[str, str]:
        """Framework id → version for every framework in the index, plus the crosswalk's."""
        versions = {fid: fw.version for fid, fw in self.frameworks.items()}
        versions["crosswalk"] = self.crosswalk.version
        return versions

    def similarities(self, vectors: np.ndarray) -> np.ndarray:
        """Cosine similarity of each note to each framework sentence: ``(n_notes, n_texts)``."""
        return vectors @ self.vectors.T

    def statement_scores(self, sims: np.ndarray) -> np.ndarray:
        """Best similarity per SAF statement over its linked sentences: ``(n_notes, n_statements)``."""
        return group_max(sims, [np.flatnonzero(self.link[:, s]) for s in range(len(self.statements))])

    def band_scores(self, sims: np.ndarray) -> np.ndarray:
        """Best similarity per band over band descriptors and ratings: ``(n_notes, 4)``."""
        return group_max(sims, [np.flatnonzero(self.band_of == b) for b in range(len(self.taxonomy.bands))])

    def principle_scores(self, sims: np.ndarray) -> np.ndarray:
        """Best similarity per principle over its definition and illustrations: ``(n_notes, n_principles)``."""
        return group_max(sims, [np.flatnonzero(self.principle_of == p) for p in range(len(self.principles))])

    def key_question_scores(self, statement_scores: np.ndarray) -> np.ndarray:
        """Best statement similarity per key question: ``(n_notes, n_kq)`` in the taxonomy's order."""
        kq = np.array(self.statement_kq)
        return np.stack([statement_scores[:, kq == k].max(axis=1) for k in self.taxonomy.key_questions], axis=1)

    def features(self, vectors: np.ndarray, sims: np.ndarray | None = None) -> np.ndarray:
        """Cheap similarity features for the heads: statements, key questions, bands, principles.

        ``sims`` (from :meth:`similarities`) may be passed to avoid computing it twice.
        Returns float32 ``(n_notes, n_statements + n_kq + n_bands + n_principles)``.
        """
        sims = self.similarities(vectors) if sims is None else sims
        st = self.statement_scores(sims)
        return np.hstack([st, self.key_question_scores(st), self.band_scores(sims),
                          self.principle_scores(sims)]).astype(np.float32)

    def best(self, sims_row: np.ndarray, statement: str | None = None, band: str | None = None,
             kinds: set[str] | None = None, framework: str | None = None) -> Match | None:
        """The most similar sentence for one note, optionally restricted to a statement/band/kind/framework."""
        mask = np.ones(len(self.texts), dtype=bool)
        if statement is not None:
            mask &= self.link[:, self.statements.index(statement)]
        if band is not None:
            mask &= self.band_of == self.taxonomy.bands.index(band)
        if kinds is not None:
            mask &= np.isin(self.kind_of, list(kinds))
        if framework is not None:
            mask &= self.framework_of == framework
        if not mask.any():
            return None
        candidates = np.flatnonzero(mask)
        i = candidates[int(np.argmax(sims_row[candidates]))]
        return Match(self.texts[i], float(sims_row[i]))


#: rows of a similarity matrix gathered at a time by :func:`group_max` (a few MB: memory stays flat)
GROUP_MAX_ROWS = 256


def group_max(sims: np.ndarray, groups: list[np.ndarray]) -> np.ndarray:
    """The largest value of each row of ``sims`` ``(n, n_texts)`` over each group of columns: float32
    ``(n, len(groups))``, ``-1.0`` for an empty group. ``groups`` are arrays of column indices (a column
    may be in several groups).

    The same values as ``sims[:, cols].max(axis=1)`` per group (a maximum does not depend on the order
    it is taken in), for all groups at once: the columns of every group are gathered side by side
    (:data:`GROUP_MAX_ROWS` rows at a time) and reduced with :func:`numpy.maximum.reduceat`.
    """
    out = np.full((sims.shape[0], len(groups)), -1.0, dtype=np.float32)
    filled = [g for g, cols in enumerate(groups) if len(cols)]
    if not filled or not sims.shape[0]:
        return out
    order = np.concatenate([groups[g] for g in filled])
    starts = np.cumsum([0] + [len(groups[g]) for g in filled[:-1]])
    for a in range(0, sims.shape[0], GROUP_MAX_ROWS):
        out[a:a + GROUP_MAX_ROWS, filled] = np.maximum.reduceat(sims[a:a + GROUP_MAX_ROWS].take(order, axis=1),
                                                               starts, axis=1)
    return out
