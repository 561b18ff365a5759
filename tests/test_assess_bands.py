"""Unreviewed band probabilities in ``assess``: expected scores, calibration, location prior adaptation."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from evidencenlp.assess import AssessOptions, assess_records, load_rules
from evidencenlp.assess.bands import (
    CALIBRATION_FILE,
    BandCalibration,
    adapt_to_location,
    fit_band_calibration,
    full_probabilities,
    load_band_calibration,
    save_band_calibration,
    shipped_band_calibration,
)
from evidencenlp.assess.posterior import uncertain
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.assess.scoring import note_score
from evidencenlp.errors import InputFileError
from evidencenlp.frameworks.rules import RatingRules
from evidencenlp.taxonomy import Taxonomy

REPO = Path(__file__).resolve().parents[1]
RAW = AssessOptions(use_encoder=False, band_calibration=False)


def suggestion(tax: Taxonomy, statement: str, probs: dict[str, float], note: str = "n",
               weight: float = 1.0) -> EvidenceRecord:
    full = {b: probs.get(b, 0.0) for b in tax.bands}
    return EvidenceRecord(note=note, row=1, location="L", key_question=tax.key_question_of(statement),
                          statement=statement, band=max(full, key=lambda b: full[b]), weight=weight,
                          band_probabilities=tuple(full.items()))


def identity(tax: Taxonomy, prior: list[float] | None = None) -> BandCalibration:
    n = len(tax.bands)
    return BandCalibration(tuple(tax.bands), tuple(tuple(float(i == j) for j in range(n)) for i in range(n)),
                           (0.0,) * n, tuple(prior or [1 / n] * n), "test", "none", 0)


def test_an_unreviewed_note_scores_its_expected_score(rules: RatingRules, tax: Taxonomy) -> None:
    st = tax.statements_of("safe")[0]
    # most probable: good (3); expected: 0.4 x 3 + 0.3 x 2 + 0.3 x 1 = 2.1 -> statement score 2
    r = suggestion(tax, st, {"good": 0.4, "requires_improvement": 0.3, "inadequate": 0.3})
    assert r.band == "good" and note_score(r, rules) == pytest.approx(2.1)
    s = assess_records([r], RAW).locations[0].key_questions["safe"].statements[0]
    assert s.score == 2 and s.mean_score == pytest.approx(2.1)
    confirmed = EvidenceRecord("c", 1, "L", "safe", st, "good", 1.0, source="accepted",
                               band_probabilities=r.band_probabilities)
    assert note_score(confirmed, rules) == 3.0  # an inspector's band is certain


def test_most_probable_rule_in_a_framework_copy(tmp_path: Path, tax: Taxonomy) -> None:
    folder = tmp_path / "fw"
    shutil.copytree(REPO / "frameworks", folder)
    path = folder / "cqc-saf-2023.yaml"
    text = path.read_text(encoding="utf-8")
    assert "unreviewed_score: expected" in text
    path.write_text(text.replace("unreviewed_score: expected", "unreviewed_score: most_probable"), encoding="utf-8")
    st = tax.statements_of("safe")[0]
    r = suggestion(tax, st, {"good": 0.4, "requires_improvement": 0.3, "inadequate": 0.3})
    s = assess_records([r], RAW, frameworks_dir=folder).locations[0].key_questions["safe"].statements[0]
    assert s.score == 3
    path.write_text(text.replace("unreviewed_score: expected", "unreviewed_score: mean"), encoding="utf-8")
    with pytest.raises(Exception, match="unreviewed_score"):
        load_rules(folder)


def test_location_prior_adaptation_follows_the_location(tax: Taxonomy) -> None:
    sts = tax.statements_of("safe")
    ambiguous = {"requires_improvement": 0.5, "inadequate": 0.5}
    cal = identity(tax)

    def adapted(others: dict[str, float]) -> dict[str, float]:
        records = [suggestion(tax, sts[0], ambiguous, "x"),
                   *[suggestion(tax, sts[1], others, f"o{i}") for i in range(8)]]
        return dict(adapt_to_location(records, tax.bands, cal, strength=3.0)[0].band_probabilities)

    worse = adapted({"inadequate": 0.8, "requires_improvement": 0.2})
    better = adapted({"requires_improvement": 0.8, "inadequate": 0.2})
    assert worse["inadequate"] > 0.5 > better["inadequate"]
    assert sum(worse.values()) == pytest.approx(1.0)
    # no adaptation (strength None) with the identity calibration leaves the probabilities as they are
    records = [suggestion(tax, sts[0], ambiguous, "x")]
    same = dict(adapt_to_location(records, tax.bands, cal, strength=None)[0].band_probabilities)
    assert same["inadequate"] == pytest.approx(0.5, abs=1e-4)


def test_confirmed_notes_are_never_changed_and_count_as_certain(tax: Taxonomy) -> None:
    sts = tax.statements_of("caring")
    confirmed = [EvidenceRecord(f"c{i}", 1, "L", "caring", sts[1], "outstanding", 1.0, source="corrected")
                 for i in range(6)]
    records = [suggestion(tax, sts[0], {"outstanding": 0.45, "good": 0.55}, "x"), *confirmed]
    out = adapt_to_location(records, tax.bands, identity(tax), strength=3.0)
    assert out[1:] == confirmed
    # six confirmed outstanding notes make outstanding the likelier band of the uncertain suggestion
    assert out[0].band == "outstanding"


def test_fitted_calibration_corrects_a_systematic_confusion(tmp_path: Path, tax: Taxonomy) -> None:
    rng = np.random.default_rng(0)
    bands = list(tax.bands)
    probs, labels = [], []
    for _ in range(400):
        true = bands[int(rng.integers(len(bands)))]
        # the head calls outstanding notes good: it puts most of their mass on good
        said = "good" if true == "outstanding" and rng.random() < 0.7 else true
        p = np.full(len(bands), 0.1)
        p[bands.index(said)] = 0.6
        if true == "outstanding" and said == "good":
            p[bands.index("outstanding")] = 0.25
        probs.append((p / p.sum()).tolist())
        labels.append(true)
    cal = fit_band_calibration(probs, labels, bands, "v1", "synthetic")
    head = [0.1, 0.55, 0.1, 0.1]  # good-looking but with outstanding mass above the floor
    assert cal.calibrate(np.array([0.25, 0.45, 0.15, 0.15]))[0] > cal.calibrate(np.array(head))[0]
    path = tmp_path / CALIBRATION_FILE
    save_band_calibration(cal, path)
    again = load_band_calibration(path)
    assert again == cal and again.n_notes == 400 and "synthetic" in again.describe()["trained_on"]


def test_key_question_offsets_learn_how_bands_differ_by_key_question(tmp_path: Path, tax: Taxonomy) -> None:
    rng = np.random.default_rng(1)
    bands = list(tax.bands)
    probs, labels, kqs = [], [], []
    for _ in range(600):
        kq = "safe" if rng.random() < 0.5 else "caring"
        # the head says "good" with the same probabilities everywhere; the truth differs by key question
        true = ("inadequate" if rng.random() < 0.6 else "good") if kq == "safe" else \
            ("outstanding" if rng.random() < 0.6 else "good")
        probs.append([0.2, 0.4, 0.2, 0.2])
        labels.append(true)
        kqs.append(kq)
    probs += [np.roll([0.7, 0.1, 0.1, 0.1], i).tolist() for i in range(4)]  # every band seen at least once
    labels += bands
    kqs += ["effective"] * 4
    cal = fit_band_calibration(probs, labels, bands, "v1", "synthetic", key_questions=kqs)
    same = np.array([0.2, 0.4, 0.2, 0.2])
    safe, caring = cal.calibrate(same, "safe"), cal.calibrate(same, "caring")
    assert safe[bands.index("inadequate")] > caring[bands.index("inadequate")]
    assert caring[bands.index("outstanding")] > safe[bands.index("outstanding")]
    save_band_calibration(cal, tmp_path / CALIBRATION_FILE)
    again = load_band_calibration(tmp_path / CALIBRATION_FILE)
    assert again == cal and np.allclose(again.calibrate(same, "safe"), safe)
    # in a location, each suggestion is calibrated for the key question it was suggested in
    st_safe, st_caring = tax.statements_of("safe")[0], tax.statements_of("caring")[0]
    records = [suggestion(tax, st_safe, dict(zip(bands, same)), "a"),
               suggestion(tax, st_caring, dict(zip(bands, same)), "b")]
    out = adapt_to_location(records, tax.bands, cal, strength=None)
    assert dict(out[0].band_probabilities)["inadequate"] > dict(out[1].band_probabilities)["inadequate"]


def test_bad_calibration_file_is_one_clear_line(tmp_path: Path) -> None:
    path = tmp_path / CALIBRATION_FILE
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(InputFileError, match=CALIBRATION_FILE) as err:
        load_band_calibration(path)
    assert "\n" not in str(err.value)
    path.write_text(json.dumps({"format": "evidencenlp-band-calibration/1", "model_version": "v", "bands": ["a", "b"],
                                "coef": [[1.0]], "intercept": [0, 0], "reference_prior": [0.5, 0.5]}),
                    encoding="utf-8")
    with pytest.raises(InputFileError, match="2 x 2"):
        load_band_calibration(path)


def test_calibration_applies_only_to_its_band_head(tmp_path: Path, tax: Taxonomy) -> None:
    cal = identity(tax)
    save_band_calibration(cal, tmp_path / CALIBRATION_FILE)
    (tmp_path / "heads.json").write_text(json.dumps({"model_version": "another"}), encoding="utf-8")
    assert shipped_band_calibration(tmp_path) is None
    (tmp_path / "heads.json").write_text(json.dumps({"model_version": "test"}), encoding="utf-8")
    assert shipped_band_calibration(tmp_path) == cal


def test_the_shipped_calibration_is_for_the_shipped_band_head() -> None:
    cal = shipped_band_calibration(REPO / "models")
    assert cal is not None, "models/band_calibration.json is missing or was fitted for another band head"
    assert cal.n_notes > 0 and "assessment bundles" in cal.trained_on
    assert {k for k, _ in cal.key_question_offsets} <= set(load_rules()[1].key_questions)
    # every band keeps some probability: the calibration never rules a band out
    out = cal.calibrate(np.array([0.25, 0.25, 0.25, 0.25]))
    assert out.min() > 0.01 and out.sum() == pytest.approx(1.0)


def test_the_output_says_which_calibration_was_used(tax: Taxonomy) -> None:
    st = tax.statements_of("safe")[0]
    records = [suggestion(tax, st, {"good": 0.7, "inadequate": 0.3})]
    on = assess_records(records, AssessOptions(use_encoder=False)).rules
    off = assess_records(records, RAW).rules
    assert on["band_calibration"] is not None and on["band_calibration"]["n_notes"] > 0
    assert off["band_calibration"] is None and off["options"]["band_calibration"] is False


def test_one_rule_says_when_a_suggestion_has_band_probabilities(rules: RatingRules, tax: Taxonomy) -> None:
    """``full_probabilities`` is the one rule the expected score, the adaptation and the posterior share."""
    bands = tax.bands
    probs = tuple(zip(bands, (0.2, 0.4, 0.3, 0.1)))
    base = EvidenceRecord(note="n", row=1, location="L", key_question="safe", statement=tax.statements_of("safe")[0],
                          band=bands[1], weight=0.8, band_probabilities=probs)
    got = full_probabilities(base, bands)
    assert got is not None and got.tolist() == pytest.approx([0.2, 0.4, 0.3, 0.1])
    unnormalised = full_probabilities(replace(base, band_probabilities=tuple((b, 2 * p) for b, p in probs)), bands)
    assert unnormalised is not None and unnormalised.tolist() == pytest.approx(got.tolist())
    policy = replace(rules, evidence=replace(rules.evidence, unreviewed_score="expected"))
    assert note_score(base, policy) == pytest.approx(sum(p * tax.band_score(b) for b, p in probs))
    assert uncertain([base], bands)
    for certain in (replace(base, source="accepted"),                      # confirmed
                    replace(base, band_probabilities=((bands[1], 0.7),)),   # a tagged table: its band's only
                    replace(base, band_probabilities=tuple((b, 0.0) for b in bands))):
        assert full_probabilities(certain, bands) is None
        assert note_score(certain, policy) == tax.band_score(bands[1])
        assert not uncertain([certain], bands)
