"""Band probabilities of unreviewed suggestions, made fit for rating a location.

Two steps, both on the band probabilities of the model's suggestions (confirmed or corrected notes are
never changed):

1. **Calibration** (:class:`BandCalibration`, ``models/band_calibration.json``): a multinomial logistic
   regression on the log band probabilities of one band head (4 x 4 weights and 4 biases) and the
   note's suggested key question (one offset per band and key question), fitted on hand-labelled
   assessment notes. It corrects the head's systematic confusions on assessment evidence (outstanding
   suggested as good, requires improvement as inadequate) and its blindness to how bands differ by key
   question (safe evidence is more often inadequate, caring evidence more often outstanding). It
   applies only to the band head it was fitted for (``model_version``); otherwise the probabilities
   are used as they are.
2. **Location prior adaptation** (:func:`adapt_to_location`): the calibrated probabilities assume the
   band mix of the notes they were fitted on (``reference_prior``). A location has its own mix (an
   inadequate home has many more inadequate notes), so its band prevalence is estimated from all of
   its notes by EM (Saerens, Latinne & Decaestecker 2002, "Adjusting the outputs of a classifier to new
   a priori probabilities"), with ``strength`` notes' worth of the reference mix as a prior, and each
   suggestion's probabilities are re-weighted to it. Confirmed notes enter the estimate as certain.

In: a location's :class:`~evidencenlp.assess.records.EvidenceRecord` list. Out: the same records,
unreviewed ones with new ``band_probabilities`` and ``band`` (the most probable).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.errors import InputFileError

#: the file name of a band calibration in a models folder
CALIBRATION_FILE = "band_calibration.json"
FORMAT = "evidencenlp-band-calibration/1"
FLOOR = 1e-6


@dataclass(frozen=True)
class BandCalibration:
    """A multinomial logistic regression from a band head's log probabilities to calibrated ones.

    Attributes:
        bands: the band order of ``coef`` rows/columns and ``intercept``.
        coef: ``len(bands) x len(bands)`` weights (row: output band, column: log probability of a band).
        intercept: one bias per output band.
        reference_prior: the band mix of the notes it was fitted on (what its outputs assume).
        key_question_offsets: ``(key question, one offset per band)`` pairs added for a note suggested in
            that key question (empty: none).
        model_version: the band head (``heads.json`` ``model_version``) it was fitted for.
        trained_on: what data, in words (kept in the file and every output).
        n_notes: how many notes it was fitted on.
    """

    bands: tuple[str, ...]
    coef: tuple[tuple[float, ...], ...]
    intercept: tuple[float, ...]
    reference_prior: tuple[float, ...]
    model_version: str
    trained_on: str
    n_notes: int
    key_question_offsets: tuple[tuple[str, tuple[float, ...]], ...] = ()

    def calibrate(self, probabilities: Sequence[float] | np.ndarray, key_question: str | None = None) -> np.ndarray:
        """Calibrated probabilities (in :attr:`bands` order) from the head's (same order) for a note
        suggested in ``key_question`` (None, or one without an offset: no offset)."""
        logp = np.log(np.maximum(np.asarray(probabilities, dtype=float), FLOOR))
        z = np.asarray(self.coef) @ logp + np.asarray(self.intercept)
        offset = dict(self.key_question_offsets).get(key_question or "")
        if offset is not None:
            z = z + np.asarray(offset)
        z = np.exp(z - z.max())
        return np.asarray(z / z.sum())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the file's content)."""
        return {"format": FORMAT, "model_version": self.model_version, "bands": list(self.bands),
                "coef": [list(r) for r in self.coef], "intercept": list(self.intercept),
                "reference_prior": list(self.reference_prior),
                "key_question_offsets": {k: list(v) for k, v in self.key_question_offsets},
                "trained_on": self.trained_on, "n_notes": self.n_notes}

    def describe(self) -> dict[str, Any]:
        """What the output's rules block says about it (no weights)."""
        return {"model_version": self.model_version, "trained_on": self.trained_on, "n_notes": self.n_notes}


def fit_band_calibration(probabilities: Sequence[Sequence[float]], labels: Sequence[str], bands: Sequence[str],
                         model_version: str, trained_on: str, c: float = 1.0,
                         key_questions: Sequence[str] | None = None, balance: float = 0.0) -> BandCalibration:
    """Fit a calibration on notes: each note's head probabilities (``bands`` order), its true band and,
    when given, the key question it was suggested in (which adds one offset per band and key question).

    ``balance`` (0-1) weighs each note by its band's count to the power ``-balance`` (0: every note alike;
    1: every band alike, so the rare bands are not shrunk towards the common ones); the calibration's
    ``reference_prior`` is then the weighted band mix its outputs assume, which the location adaptation
    replaces by each location's own.
    """
    from sklearn.linear_model import LogisticRegression

    y = np.array([list(bands).index(b) for b in labels])
    if len(set(y.tolist())) < len(bands):
        raise ValueError("every band needs at least one labelled note to fit a band calibration")
    x = np.log(np.maximum(np.asarray(probabilities, dtype=float), FLOOR))
    kqs = sorted(set(key_questions)) if key_questions is not None else []
    if key_questions is not None:
        onehot = np.array([[float(k == q) for q in kqs] for k in key_questions])
        x = np.hstack([x, onehot])
    n = len(bands)
    counts = np.bincount(y, minlength=n).astype(float)
    per_band = np.power(np.maximum(counts, 1.0), -float(balance))
    sample_weight = per_band[y] * len(y) / float((per_band[y]).sum())
    model = LogisticRegression(C=c, max_iter=5000).fit(x, y, sample_weight=sample_weight)
    prior = counts * per_band / float((counts * per_band).sum())
    offsets = tuple((q, tuple(float(v) for v in model.coef_[:, n + i])) for i, q in enumerate(kqs))
    return BandCalibration(tuple(bands), tuple(tuple(float(v) for v in row[:n]) for row in model.coef_),
                           tuple(float(v) for v in model.intercept_), tuple(float(v) for v in prior),
                           model_version, trained_on, len(y), offsets)


def save_band_calibration(calibration: BandCalibration, path: Path) -> None:
    """Write the calibration as JSON, atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(calibration.to_dict(), indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)


def load_band_calibration(path: Path) -> BandCalibration:
    """Read a calibration file; a clear one-line error when it is not one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        n = len(doc["bands"])
        cal = BandCalibration(tuple(str(b) for b in doc["bands"]),
                              tuple(tuple(float(v) for v in row) for row in doc["coef"]),
                              tuple(float(v) for v in doc["intercept"]),
                              tuple(float(v) for v in doc["reference_prior"]), str(doc["model_version"]),
                              str(doc.get("trained_on", "")), int(doc.get("n_notes", 0)),
                              tuple((str(k), tuple(float(x) for x in v))
                                    for k, v in dict(doc.get("key_question_offsets") or {}).items()))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise InputFileError(f"{path}: not a band calibration file ({exc.__class__.__name__})") from None
    if doc.get("format") != FORMAT or any(len(r) != n for r in cal.coef) or len(cal.coef) != n \
            or len(cal.intercept) != n or len(cal.reference_prior) != n \
            or any(len(v) != n for _, v in cal.key_question_offsets):
        raise InputFileError(f"{path}: not a {FORMAT} file with {n} x {n} weights")
    return cal


def shipped_band_calibration(models: Path | None = None) -> BandCalibration | None:
    """The calibration in the models folder when it was fitted for the band head there, else None."""
    from evidencenlp.paths import models_dir

    folder = Path(models) if models is not None else models_dir()
    path, heads = folder / CALIBRATION_FILE, folder / "heads.json"
    if not path.is_file() or not heads.is_file():
        return None
    cal = load_band_calibration(path)
    try:
        version = json.loads(heads.read_text(encoding="utf-8")).get("model_version")
    except (OSError, json.JSONDecodeError):
        return None
    return cal if version == cal.model_version else None


def full_probabilities(record: EvidenceRecord, bands: Sequence[str]) -> np.ndarray | None:
    """An unreviewed record's band probabilities over ``bands`` (in that order, summing to 1), or None.

    None when the record is confirmed (its band is certain) or its probabilities do not cover every band
    (a tagged table's suggestion knows only its own band's) or add up to nothing; negative values count as 0.
    The one rule for "this suggestion has a distribution over the bands", used by the location adaptation,
    the expected score (:func:`~evidencenlp.assess.scoring.note_score`) and the posterior draws.
    """
    if record.confirmed:
        return None
    probs = dict(record.band_probabilities)
    if not all(b in probs for b in bands):
        return None
    p = np.array([max(0.0, float(probs[b])) for b in bands], dtype=float)
    total = float(p.sum())
    if total <= 0:
        return None
    return np.asarray(p / total)


def location_prior(weights: np.ndarray, probs: np.ndarray, certain: np.ndarray, reference: np.ndarray,
                   strength: float, iterations: int = 100) -> np.ndarray:
    """The band prevalence of one location by EM (MAP, ``strength`` notes of ``reference`` as the prior).

    In: the suggestions' weights and probabilities (rows), the summed one-hot weights of confirmed notes
    (``certain``), the reference mix. Out: the location's band prevalence.
    """
    pi = reference.copy()
    for _ in range(iterations):
        q = probs * (pi / reference)
        q /= q.sum(axis=1, keepdims=True)
        new = ((weights[:, None] * q).sum(axis=0) + certain + strength * reference) / (
            weights.sum() + certain.sum() + strength)
        done = float(np.abs(new - pi).max()) < 1e-7
        pi = new
        if done:
            break
    return pi


def adapt_to_location(records: Sequence[EvidenceRecord], bands: Sequence[str],
                      calibration: BandCalibration | None, strength: float | None) -> list[EvidenceRecord]:
    """One location's records with its suggestions' band probabilities calibrated and adapted to it.

    ``calibration`` None: the probabilities are kept; ``strength`` None: no adaptation. Adaptation
    needs a reference mix, the calibration's (without one, it is skipped). Records without full band
    probabilities (confirmed, or from a tagged table) are unchanged.
    """
    if calibration is not None and tuple(calibration.bands) != tuple(bands):
        calibration = None
    rows = [(i, p) for i, r in enumerate(records) if (p := full_probabilities(r, bands)) is not None]
    if not rows or calibration is None:
        return list(records)
    # the key question a note was suggested in: its primary placement's (every placement shares its band)
    suggested = {(r.note, r.row): r.key_question for r in records if r.primary and not r.confirmed}
    probs = np.array([calibration.calibrate(p, suggested.get((records[i].note, records[i].row),
                                                             records[i].key_question)) for i, p in rows])
    if strength is not None:
        reference = np.maximum(np.asarray(calibration.reference_prior, dtype=float), FLOOR)
        weights = np.array([records[i].weight for i, _ in rows])
        certain = np.zeros(len(bands))
        for r in records:
            if r.confirmed and r.band in bands:
                certain[list(bands).index(r.band)] += r.weight
        pi = location_prior(weights, probs, certain, reference, strength)
        probs = probs * (pi / reference)
        probs /= probs.sum(axis=1, keepdims=True)
    out = list(records)
    for (i, _), p in zip(rows, probs):
        out[i] = replace(records[i], band=bands[int(p.argmax())],
                         band_probabilities=tuple((b, float(v)) for b, v in zip(bands, p)))
    return out
