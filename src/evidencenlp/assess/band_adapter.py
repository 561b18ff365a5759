"""A band adapter: band probabilities of unreviewed suggestions from the band head and the note's embedding.

The band calibration (:class:`~evidencenlp.assess.bands.BandCalibration`) re-weighs the band head's own
probabilities; it cannot separate notes the head confuses. The adapter also reads the note itself: a
multinomial logistic regression, strongly L2-regularised, on

* the band head's log probabilities (``bands`` order),
* the key question the note was suggested in (one-hot over ``key_questions``),
* the note's sentence embedding (the shipped encoder, ``encoder``), times ``scale``,

fitted on hand-labelled assessment notes (``models/band_adapter.json``). Its outputs take the place of
the calibrated probabilities; the location adaptation (:func:`~evidencenlp.assess.bands.adapt_to_location`,
with the adapter's ``reference_prior``) and the rating rules are unchanged. It is used only when the
rules ask for it (``rating_rules.evidence.band_adapter``), the file was fitted for the band head and the
encoder in use, and the note's text is at hand; otherwise the band calibration applies.

The file is JSON (weights as lists of numbers): no pickle. ``training_data_hash`` is a SHA-256 over the
training notes' labels and the SHA-256 of each text, so the data can be checked without holding it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evidencenlp.assess.bands import BandCalibration, full_probabilities
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.errors import InputFileError

if TYPE_CHECKING:
    from evidencenlp.encoder.base import Embedder

#: the file name of a band adapter in a models folder
ADAPTER_FILE = "band_adapter.json"
FORMAT = "evidencenlp-band-adapter/1"
FLOOR = 1e-6


@dataclass(frozen=True)
class BandAdapter:
    """A fitted band adapter (see the module docstring).

    Attributes:
        bands: output bands and the order of the head's probabilities.
        key_questions: the one-hot order of the suggested key question.
        coef: ``len(bands)`` rows of ``len(bands) + len(key_questions) + embedding_dim`` weights.
        intercept: one bias per band.
        scale: the factor the (L2-normalised) embedding is multiplied by before the weights.
        reference_prior: the band mix of the training notes (what the outputs assume).
        model_version: the band head (``heads.json`` ``model_version``) it reads.
        encoder: the encoder whose embeddings it reads (``heads.json`` ``encoder``).
        embedding_dim: that encoder's dimension.
        training_data_hash: SHA-256 of the training notes' (label, text SHA-256) pairs.
        n_notes: how many notes it was fitted on.
        trained_on: what data, in words.
        hyperparameters: how it was fitted (C, scale, how they were chosen).
        metrics: the nested leave-one-set-out figures that justified shipping it.
    """

    bands: tuple[str, ...]
    key_questions: tuple[str, ...]
    coef: np.ndarray
    intercept: np.ndarray
    scale: float
    reference_prior: tuple[float, ...]
    model_version: str
    encoder: str
    embedding_dim: int
    training_data_hash: str
    n_notes: int
    trained_on: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    def features(self, probabilities: np.ndarray, key_questions: Sequence[str | None], vectors: np.ndarray
                 ) -> np.ndarray:
        """The input rows: log probabilities (rows in :attr:`bands` order), key question one-hot, scaled embedding."""
        logp = np.log(np.maximum(np.asarray(probabilities, dtype=float), FLOOR))
        onehot = np.array([[float(k == q) for q in self.key_questions] for k in key_questions]).reshape(
            len(key_questions), len(self.key_questions))
        return np.hstack([logp, onehot, self.scale * np.asarray(vectors, dtype=float)])

    def predict(self, probabilities: np.ndarray, key_questions: Sequence[str | None], vectors: np.ndarray
                ) -> np.ndarray:
        """Adapted band probabilities, one row per note (:attr:`bands` order), from the head's probabilities,
        each note's suggested key question (None: none) and its embedding."""
        z = self.features(probabilities, key_questions, vectors) @ self.coef.T + self.intercept
        z = np.exp(z - z.max(axis=1, keepdims=True))
        return np.asarray(z / z.sum(axis=1, keepdims=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the file's content)."""
        return {"format": FORMAT, "model_version": self.model_version, "encoder": self.encoder,
                "embedding_dim": self.embedding_dim, "bands": list(self.bands),
                "key_questions": list(self.key_questions), "scale": self.scale,
                "coef": [[float(v) for v in row] for row in self.coef], "intercept": [float(v) for v in self.intercept],
                "reference_prior": list(self.reference_prior), "training_data_hash": self.training_data_hash,
                "n_notes": self.n_notes, "trained_on": self.trained_on, "hyperparameters": self.hyperparameters,
                "metrics": self.metrics}

    def describe(self) -> dict[str, Any]:
        """What the output's rules block says about it (no weights)."""
        return {"model_version": self.model_version, "encoder": self.encoder, "trained_on": self.trained_on,
                "n_notes": self.n_notes, "training_data_hash": self.training_data_hash,
                "hyperparameters": self.hyperparameters}


def training_data_hash(labels: Sequence[str], texts: Sequence[str]) -> str:
    """SHA-256 over the sorted (label, SHA-256 of text) pairs of the training notes (the texts are not kept)."""
    pairs = sorted(f"{y}\t{hashlib.sha256(t.encode('utf-8')).hexdigest()}" for y, t in zip(labels, texts))
    return hashlib.sha256("\n".join(pairs).encode("utf-8")).hexdigest()


def fit_band_adapter(probabilities: Sequence[Sequence[float]], key_questions: Sequence[str | None],
                     vectors: np.ndarray, labels: Sequence[str], texts: Sequence[str], bands: Sequence[str],
                     all_key_questions: Sequence[str], model_version: str, encoder: str, trained_on: str,
                     c: float, scale: float, hyperparameters: Mapping[str, Any] | None = None,
                     metrics: Mapping[str, Any] | None = None) -> BandAdapter:
    """Fit an adapter on labelled notes: each note's head probabilities (``bands`` order), suggested key
    question, embedding, true band and text (only hashed). ``c`` is the inverse L2 strength."""
    from sklearn.linear_model import LogisticRegression

    if not (len(probabilities) == len(key_questions) == len(vectors) == len(labels) == len(texts)):
        raise ValueError("every note needs probabilities, a key question, an embedding, a label and a text")
    y = np.array([list(bands).index(b) for b in labels])
    if len(set(y.tolist())) < len(bands):
        raise ValueError("every band needs at least one labelled note to fit a band adapter")
    shell = BandAdapter(tuple(bands), tuple(all_key_questions), np.zeros((0, 0)), np.zeros(0), float(scale), (),
                        model_version, encoder, int(np.asarray(vectors).shape[1]), "", 0, trained_on)
    x = shell.features(np.asarray(probabilities, dtype=float), key_questions, np.asarray(vectors))
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    prior = np.bincount(y, minlength=len(bands)) / len(y)
    return BandAdapter(tuple(bands), tuple(all_key_questions), np.asarray(model.coef_, dtype=float),
                       np.asarray(model.intercept_, dtype=float), float(scale), tuple(float(v) for v in prior),
                       model_version, encoder, shell.embedding_dim, training_data_hash(labels, texts), len(y),
                       trained_on, {"C": c, "scale": scale, **dict(hyperparameters or {})}, dict(metrics or {}))


def save_band_adapter(adapter: BandAdapter, path: Path) -> None:
    """Write the adapter as JSON, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(adapter.to_dict(), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_band_adapter(path: Path) -> BandAdapter:
    """Read an adapter file; a clear one-line error when it is not one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        adapter = BandAdapter(tuple(str(b) for b in doc["bands"]), tuple(str(k) for k in doc["key_questions"]),
                              np.asarray(doc["coef"], dtype=float), np.asarray(doc["intercept"], dtype=float),
                              float(doc["scale"]), tuple(float(v) for v in doc["reference_prior"]),
                              str(doc["model_version"]), str(doc["encoder"]), int(doc["embedding_dim"]),
                              str(doc["training_data_hash"]), int(doc["n_notes"]), str(doc.get("trained_on", "")),
                              dict(doc.get("hyperparameters") or {}), dict(doc.get("metrics") or {}))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{path}: not a band adapter file ({exc.__class__.__name__})") from None
    n, width = len(adapter.bands), len(adapter.bands) + len(adapter.key_questions) + adapter.embedding_dim
    if doc.get("format") != FORMAT or adapter.coef.shape != (n, width) or adapter.intercept.shape != (n,) \
            or len(adapter.reference_prior) != n:
        raise InputFileError(f"{path}: not a {FORMAT} file with {n} x {width} weights")
    return adapter


def shipped_band_adapter(encoder: str, models: Path | None = None) -> tuple[BandAdapter | None, str]:
    """The models folder's adapter when it was fitted for the band head there and for ``encoder`` (the name
    of the embedding space in use), else None; with the reason in words either way."""
    from evidencenlp.paths import models_dir

    folder = Path(models) if models is not None else models_dir()
    path, heads = folder / ADAPTER_FILE, folder / "heads.json"
    if not path.is_file():
        return None, f"no {ADAPTER_FILE} in the models folder"
    adapter = load_band_adapter(path)
    try:
        version = json.loads(heads.read_text(encoding="utf-8")).get("model_version")
    except (OSError, json.JSONDecodeError):
        return None, "the models folder has no readable heads.json"
    if version != adapter.model_version:
        return None, f"{ADAPTER_FILE} was fitted for band head {adapter.model_version}, not {version}"
    if encoder != adapter.encoder:
        return None, f"{ADAPTER_FILE} was fitted on the {adapter.encoder} encoder, not {encoder}"
    return adapter, f"{ADAPTER_FILE} (fitted for {version} on {encoder})"


def adapt_bands(records: Sequence[EvidenceRecord], adapter: BandAdapter, embedder: Embedder,
                fallback: BandCalibration | None) -> tuple[list[EvidenceRecord], BandCalibration | None]:
    """Records whose unreviewed suggestions carry the adapter's band probabilities, and the calibration that
    :func:`~evidencenlp.assess.bands.adapt_to_location` is then to use (the identity, with the adapter's
    reference mix, so only the location adaptation follows).

    A suggestion without its text (it cannot be embedded) gets the ``fallback`` calibration's probabilities
    (None: the head's as they are); a location none of whose suggestions has its text is left as it is,
    with ``fallback`` (the band calibration applies as without the adapter). Each note is embedded once; its
    placements share its probabilities.
    """
    bands = adapter.bands
    rows = [(i, p) for i, r in enumerate(records) if (p := full_probabilities(r, bands)) is not None]
    suggested = {(r.location, r.note, r.row): r.key_question for r in records if r.primary and not r.confirmed}

    def key(r: EvidenceRecord) -> tuple[str, str, int]:
        return (r.location, r.note, r.row)

    with_text = [(i, p) for i, p in rows if records[i].text]
    if not with_text:
        return list(records), fallback
    texts = sorted({records[i].text or "" for i, _ in with_text})
    out = list(records)
    vectors = dict(zip(texts, np.asarray(embedder.encode(texts), dtype=float)))
    kqs = [suggested.get(key(records[i]), records[i].key_question) for i, _ in with_text]
    probs = adapter.predict(np.array([p for _, p in with_text]), kqs,
                            np.array([vectors[records[i].text or ""] for i, _ in with_text]))
    for (i, _), p in zip(with_text, probs):
        out[i] = replace(records[i], band=bands[int(p.argmax())],
                         band_probabilities=tuple((b, float(v)) for b, v in zip(bands, p)))
    if fallback is not None and tuple(fallback.bands) == tuple(bands):
        for i, p in rows:
            if not records[i].text:
                q = fallback.calibrate(p, suggested.get(key(records[i]), records[i].key_question))
                out[i] = replace(records[i], band=bands[int(q.argmax())],
                                 band_probabilities=tuple((b, float(v)) for b, v in zip(bands, q)))
    n = len(bands)
    identity = BandCalibration(bands, tuple(tuple(float(i == j) for j in range(n)) for i in range(n)), (0.0,) * n,
                               adapter.reference_prior, adapter.model_version,
                               "band adapter: " + adapter.trained_on, adapter.n_notes)
    return out, identity
