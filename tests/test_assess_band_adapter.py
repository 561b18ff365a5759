"""The band adapter (issue 21): head probabilities plus the note's embedding, fitted on labelled notes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest

from evidencenlp.assess import AssessOptions, assess_records
from evidencenlp.assess.band_adapter import (
    ADAPTER_FILE,
    BandAdapter,
    adapt_bands,
    fit_band_adapter,
    load_band_adapter,
    save_band_adapter,
    shipped_band_adapter,
    training_data_hash,
)
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.encoder.base import ENCODER_NAME, SPACES
from evidencenlp.errors import InputFileError
from evidencenlp.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parents[1]
DIM = 8


class FakeEmbedder:
    """Maps each text to a fixed vector (the texts are made-up labels, not notes)."""

    backend, recipe = "torch", ""

    def __init__(self, vectors: dict[str, np.ndarray], space: str = ENCODER_NAME) -> None:
        self.vectors, self.space, self.calls = vectors, space, 0

    def encode(self, texts: Sequence[str], batch_size: int = 32,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        self.calls += 1
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def unit(i: int) -> np.ndarray:
    v = np.zeros(DIM)
    v[i] = 1.0
    return v


def suggestion(tax: Taxonomy, statement: str, probs: dict[str, float], note: str, text: str | None) -> EvidenceRecord:
    full = {b: probs.get(b, 0.0) for b in tax.bands}
    return EvidenceRecord(note=note, row=1, location="L", key_question=tax.key_question_of(statement),
                          statement=statement, band=max(full, key=lambda b: full[b]), weight=1.0,
                          band_probabilities=tuple(full.items()), text=text)


def hand_made(tax: Taxonomy, encoder: str = ENCODER_NAME) -> BandAdapter:
    """Copies the head's log probabilities, except that embedding dimension 0 pushes hard to the best band."""
    n, k = len(tax.bands), len(tax.key_questions)
    coef = np.zeros((n, n + k + DIM))
    coef[:, :n] = np.eye(n)
    coef[0, n + k] = 10.0
    return BandAdapter(tuple(tax.bands), tuple(tax.key_questions), coef, np.zeros(n), 1.0, (0.25,) * n,
                       "heads-test", encoder, DIM, "0" * 64, 0, "hand-made")


def fitted(tax: Taxonomy) -> BandAdapter:
    rng = np.random.default_rng(0)
    n = 200
    labels = [tax.bands[i % len(tax.bands)] for i in range(n)]
    vectors = rng.normal(size=(n, DIM))
    vectors[:, 0] += [3.0 if y == tax.bands[0] else 0.0 for y in labels]  # the embedding tells the best band
    probs = rng.dirichlet(np.ones(len(tax.bands)), size=n)
    kqs = [tax.key_questions[i % len(tax.key_questions)] for i in range(n)]
    return fit_band_adapter(probs, kqs, vectors, labels, [f"t{i}" for i in range(n)], tax.bands,
                            tax.key_questions, "heads-test", ENCODER_NAME, "synthetic", c=1.0, scale=2.0)


def test_a_fitted_adapter_round_trips_through_its_file(tmp_path: Path, tax: Taxonomy) -> None:
    adapter = fitted(tax)
    path = tmp_path / ADAPTER_FILE
    save_band_adapter(adapter, path)
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["encoder"] == ENCODER_NAME and doc["bands"] == list(tax.bands)
    assert doc["hyperparameters"]["C"] == 1.0 and doc["training_data_hash"] == adapter.training_data_hash
    again = load_band_adapter(path)
    rng = np.random.default_rng(1)
    probs, vectors = rng.dirichlet(np.ones(len(tax.bands)), size=5), rng.normal(size=(5, DIM))
    kqs = [tax.key_questions[0], None, *tax.key_questions[1:4]]
    assert np.allclose(again.predict(probs, kqs, vectors), adapter.predict(probs, kqs, vectors))
    assert again.describe() == adapter.describe() and again.reference_prior == adapter.reference_prior
    # the embedding separates the best band, which the random head probabilities cannot
    best = adapter.predict(probs, kqs, np.tile(unit(0) * 4.0, (5, 1)))
    assert (best.argmax(axis=1) == 0).all()


def test_training_data_hash_depends_on_labels_and_texts_not_order() -> None:
    a = training_data_hash(["good", "inadequate"], ["x", "y"])
    assert a == training_data_hash(["inadequate", "good"], ["y", "x"])
    assert a != training_data_hash(["good", "good"], ["x", "y"]) and a != training_data_hash(["good", "inadequate"],
                                                                                               ["x", "z"])


def test_bad_adapter_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / ADAPTER_FILE
    path.write_text('{"format": "evidencenlp-band-adapter/1", "bands": []', encoding="utf-8")
    with pytest.raises(InputFileError, match="not a band adapter file") as info:
        load_band_adapter(path)
    assert "\n" not in str(info.value)


def test_the_adapter_changes_a_band_the_head_got_wrong(tax: Taxonomy) -> None:
    st = tax.statements_of("caring")[0]
    head = {tax.bands[1]: 0.7, tax.bands[0]: 0.2, tax.bands[2]: 0.1}
    notes = [suggestion(tax, st, head, "a", "text-a"), suggestion(tax, st, head, "b", "text-b"),
             suggestion(tax, st, head, "c", None)]
    embedder = FakeEmbedder({"text-a": unit(0), "text-b": unit(1)})
    out, calibration = adapt_bands(notes, hand_made(tax), embedder, None)
    assert notes[0].band == tax.bands[1] and out[0].band == tax.bands[0]  # moved to the best band by its text
    assert out[1].band == tax.bands[1] and out[2] == notes[2]  # no push; no text: as it was
    untouched, same = adapt_bands([notes[2]], hand_made(tax), embedder, None)  # no text anywhere: no adapter
    assert untouched == [notes[2]] and same is None
    assert calibration.reference_prior == (0.25,) * len(tax.bands)
    assert embedder.calls == 1


def test_assess_uses_the_adapter_when_the_rules_ask_and_the_encoder_matches(tmp_path: Path, tax: Taxonomy) -> None:
    folder = tmp_path / "fw"
    shutil.copytree(REPO / "frameworks", folder)
    path = folder / "cqc-saf-2023.yaml"
    text = path.read_text(encoding="utf-8")
    assert "posterior_placements: weights" in text
    path.write_text(text.replace("posterior_placements: weights",
                                 "posterior_placements: weights\n    band_adapter: true"), encoding="utf-8")
    st = tax.statements_of("caring")[0]
    notes = [suggestion(tax, st, {tax.bands[1]: 0.7, tax.bands[0]: 0.3}, n, "text-a") for n in "abc"]
    options = AssessOptions(use_encoder=False)
    embedder = FakeEmbedder({"text-a": unit(0)})
    used = assess_records(notes, options, frameworks_dir=folder, embedder=embedder, adapter=hand_made(tax))
    assert used.rules["band_method"]["method"] == "band_adapter"
    bands = {n.band for s in used.locations[0].key_questions["caring"].statements for n in s.notes}
    assert bands == {tax.bands[0]}
    # the adapter was fitted on another encoder: the calibration is used, and the output says why
    other = assess_records(notes, options, frameworks_dir=folder, embedder=embedder,
                           adapter=hand_made(tax, encoder=SPACES["static"]))
    assert other.rules["band_method"]["method"] != "band_adapter"
    assert "not used" in other.rules["band_method"]["reason"] and "encoder" in other.rules["band_method"]["reason"]
    # the rules as shipped leave it off
    off = assess_records(notes, options, embedder=embedder, adapter=hand_made(tax))
    assert off.rules["band_method"]["method"] != "band_adapter"


def test_shipped_adapter_falls_back_on_a_mismatched_encoder_or_head(tmp_path: Path, tax: Taxonomy) -> None:
    adapter = hand_made(tax)
    save_band_adapter(adapter, tmp_path / ADAPTER_FILE)
    (tmp_path / "heads.json").write_text(json.dumps({"model_version": "heads-test"}), encoding="utf-8")
    found, reason = shipped_band_adapter(ENCODER_NAME, tmp_path)
    assert found is not None and found.model_version == "heads-test"
    found, reason = shipped_band_adapter(SPACES["static"], tmp_path)
    assert found is None and "encoder" in reason
    (tmp_path / "heads.json").write_text(json.dumps({"model_version": "heads-other"}), encoding="utf-8")
    found, reason = shipped_band_adapter(ENCODER_NAME, tmp_path)
    assert found is None and "heads-other" in reason
