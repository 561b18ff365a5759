"""`evaluate --assessments`: bundles read and checked, rated three ways, agreement measured.

Fast tests use a fake suggester; the run with the shipped (torch) model on the dev bundles is slow.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evidencenlp.assess import load_rules
from evidencenlp.errors import InputFileError
from evidencenlp.evaluation.assessments import (
    NO_RATING,
    agreement,
    baseline_ratings,
    evaluate_assessments,
    read_bundle,
    read_bundles,
    unreviewed_records,
)

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "tests" / "data" / "assessment_dev"


class EchoSuggester:
    """Suggests each note's own labels with a fixed confidence, except notes listed as flipped to another band."""

    model_version = "echo"

    def __init__(self, labels: dict[str, tuple[str, str]], confidence: float = 0.8,
                 flip: dict[str, str] | None = None) -> None:
        self.labels, self.confidence, self.flip = labels, confidence, flip or {}

    def suggest_many(self, texts, sentences=True, evidence=True, **_):  # type: ignore[no-untyped-def]
        from evidencenlp.suggest import BandLabel, Label, Suggestion

        tax = load_rules()[1]
        out = []
        for t in texts:
            statement, band = self.labels[t]
            band = self.flip.get(t, band)
            c = self.confidence
            out.append(Suggestion(text=t, key_question=Label(tax.key_question_of(statement), c),
                                  statement=Label(statement, c), statement_top3=(), evidence_category=None,
                                  band=BandLabel(band, c), principles=(), evidence=(), sentences=(),
                                  needs_review=False, model_version="echo"))
        return out


def _labels(folder: Path) -> dict[str, tuple[str, str]]:
    out = {}
    for path in folder.glob("*.json"):
        for n in json.loads(path.read_text(encoding="utf-8"))["notes"]:
            out[n["text"]] = (n["statement"], n["band"])
    return out


def test_dev_bundles_are_well_formed_and_varied() -> None:
    rules = load_rules()[2]
    bundles, problems = read_bundles(DEV, rules)
    assert problems == [] and len(bundles) >= 6
    assert {"care_home", "home_care", "gp", "acute_ward", "mental_health", "dental"} <= {b.service_type for b in bundles}
    assert all(10 <= len(b.notes) <= 60 for b in bundles)
    assert any(min(sum(1 for n in b.notes if n.key_question == kq) for kq in rules.taxonomy.key_questions) <= 2
               for b in bundles)


def test_echoed_labels_reproduce_every_hand_rating() -> None:
    """Suggestions equal to the hand labels: reviewed and unreviewed modes give the hand ratings."""
    result = evaluate_assessments(DEV, suggester=EchoSuggester(_labels(DEV), confidence=1.0))
    for mode in ("unreviewed", "reviewed"):
        s = result.summary[mode]
        assert (s["key_questions"]["exact"], s["overall"]["exact"]) == (1.0, 1.0), mode
        assert s["inadequate_rated_better_than_requires_improvement"] == []
        assert s["key_questions_with_notes_unrated_without_reason"] == 0
    assert result.summary["reviewed"]["provisional_agreement"] == 1.0
    text = json.dumps(result.to_dict())
    first = json.loads((DEV / "dev01.json").read_text(encoding="utf-8"))["notes"][0]["text"]
    assert first[:40] not in text  # labels and counts only, never note text


def test_band_calibration_only_for_the_band_head_it_was_fitted_for() -> None:
    from evidencenlp.assess.bands import shipped_band_calibration

    echo = EchoSuggester(_labels(DEV), confidence=1.0)
    result = evaluate_assessments(DEV, suggester=echo)
    assert result.options["band_calibration"] is False and result.options["band_calibration_data"] is None
    shipped = shipped_band_calibration()
    assert shipped is not None
    echo.model_version = shipped.model_version  # suggestions claiming the shipped head are calibrated
    again = evaluate_assessments(DEV, suggester=echo)
    assert again.options["band_calibration"] is True
    assert again.options["band_calibration_data"]["n_notes"] == shipped.n_notes


def test_wrong_suggestions_move_unreviewed_only_and_are_counted(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    shutil.copy(DEV / "dev02.json", folder)  # the inadequate home care service
    doc = json.loads((folder / "dev02.json").read_text(encoding="utf-8"))
    flip = {n["text"]: "good" for n in doc["notes"]}  # the model calls every note good
    result = evaluate_assessments(folder, suggester=EchoSuggester(_labels(folder), 0.8, flip))
    assert result.summary["reviewed"]["overall"]["exact"] == 1.0
    assert result.summary["unreviewed"]["inadequate_rated_better_than_requires_improvement"] == ["dev02"]
    assert result.summary["unreviewed"]["confusion_overall"]["inadequate"]["good"] == 1
    assert result.bundles[0].got["baseline"]["safe"] == "good"


def test_baseline_is_the_confidence_weighted_majority_band() -> None:
    rules = load_rules()[2]
    bundle = read_bundle(DEV / "dev04.json", rules)
    suggestions = EchoSuggester(_labels(DEV)).suggest_many([n.text for n in bundle.notes])
    ratings, overall = baseline_ratings(unreviewed_records(bundle, suggestions, rules), rules)
    # well-led: two requires-improvement notes; caring: four good and two requires improvement
    assert ratings["well-led"] == "requires_improvement" and ratings["caring"] == "good"
    assert overall == rules.overall_rating([r for r in ratings.values() if r != NO_RATING]).rating  # type: ignore[union-attr]


def test_agreement_counts_within_one_and_no_rating() -> None:
    rules = load_rules()[2]
    got = agreement([("good", "good"), ("good", "outstanding"), ("good", "inadequate"), ("good", NO_RATING),
                     (NO_RATING, NO_RATING)], rules)
    assert (got["exact_count"], got["within_one_count"], got["n"]) == (2, 3, 5)


def test_bad_bundles_are_reported_one_line_each_and_the_rest_rated(tmp_path: Path) -> None:
    shutil.copy(DEV / "dev06.json", tmp_path)
    doc = json.loads((DEV / "dev06.json").read_text(encoding="utf-8"))
    bad = json.loads(json.dumps(doc))
    bad["notes"][2]["band"] = "brilliant"
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    rules = load_rules()[2]
    bundles, problems = read_bundles(tmp_path, rules)
    assert [b.id for b in bundles] == ["dev06"] and len(problems) == 2
    assert any("bad.json: note 3: field 'band': unknown label 'brilliant'" in p for p in problems)
    assert any("broken.json: not JSON (line 1" in p for p in problems)
    assert all(doc["notes"][2]["text"][:30] not in p for p in problems)
    with pytest.raises(InputFileError, match="not a folder"):
        read_bundles(tmp_path / "missing", rules)


def test_cli_assessments_option(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evidencenlp.cli import app

    shutil.copy(DEV / "dev01.json", tmp_path)
    labels = _labels(tmp_path)
    monkeypatch.setattr("evidencenlp.suggest.Suggester.load", classmethod(lambda cls, **_: EchoSuggester(labels)))
    runner = CliRunner()
    res = runner.invoke(app, ["evaluate", "--assessments", str(tmp_path), "--format", "json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["n_bundles"] == 1 and set(data["summary"]) == {"unreviewed", "reviewed", "baseline"}
    table = runner.invoke(app, ["evaluate", "--assessments", str(tmp_path)])
    assert table.exit_code == 0 and "agreement with the hand ratings" in table.stdout
    missing = runner.invoke(app, ["evaluate", "--assessments", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "not a folder of assessment bundles" in missing.output


@pytest.mark.slow
def test_dev_bundles_with_the_shipped_model() -> None:
    """The real model on the dev bundles: reviewed mode reproduces the hand ratings; unreviewed stays close.

    The shipped heads are trained with these bundles' notes (``train --bundles tests/data/assessment_dev``), so
    this checks the pipeline end to end on notes the model has seen; it is no measure of unseen agreement
    (that is the held-out sets' figures in ``experiments/assess_bundle_heads_loso.json`` and set H)."""
    result = evaluate_assessments(DEV)
    assert result.summary["reviewed"]["key_questions"]["exact"] == 1.0
    unreviewed = result.summary["unreviewed"]
    assert unreviewed["key_questions"]["within_one"] >= 0.9
    assert unreviewed["inadequate_rated_better_than_requires_improvement"] == []
    assert unreviewed["key_questions_with_notes_unrated_without_reason"] == 0


def test_bundles_the_model_was_trained_on_are_reported_in_sample(tmp_path: Path) -> None:
    """A model's own training bundles give in-sample figures: the result says so (by the folder's hash when the
    provenance has one, else by its name); other bundles, or an edited copy, are not flagged."""
    from types import SimpleNamespace

    from evidencenlp.sources.bundles import folder_sha256

    folder = tmp_path / "set"
    folder.mkdir()
    shutil.copy(DEV / "dev01.json", folder)
    echo = EchoSuggester(_labels(folder))
    assert evaluate_assessments(folder, suggester=echo).in_sample == ""  # no classifier: nothing claimed

    def trained(sources: dict) -> EchoSuggester:
        model = EchoSuggester(_labels(folder))
        model.classifier = SimpleNamespace(training_data_={"sources": {"bundle": sources}})  # type: ignore[attr-defined]
        return model

    by_hash = trained({"folders": {"elsewhere/renamed": 25}, "sha256": {"elsewhere/renamed": folder_sha256(folder)}})
    result = evaluate_assessments(folder, suggester=by_hash)
    assert "elsewhere/renamed" in result.in_sample and result.to_dict()["in_sample"] == result.in_sample
    by_name = trained({"folders": {"evaluation/set": 25}})
    assert "evaluation/set" in evaluate_assessments(folder, suggester=by_name).in_sample
    doc = json.loads((folder / "dev01.json").read_text(encoding="utf-8"))
    doc["notes"][0]["band"] = "good" if doc["notes"][0]["band"] != "good" else "outstanding"
    (folder / "dev01.json").write_text(json.dumps(doc), encoding="utf-8")  # edited since: another version
    assert evaluate_assessments(folder, suggester=by_hash).in_sample == ""
