"""Assessment bundles as a training source (`train --bundles`, `evaluate --train-bundles`)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from evidencenlp.assess import load_rules
from evidencenlp.errors import DataError
from evidencenlp.evaluation.assessments import read_bundles
from evidencenlp.sources.bundles import BUNDLE_ORIGIN, bundle_rows
from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.training import TRAIN_ONLY_ORIGINS, TrainingOptions, holdout_split

REPO = Path(__file__).resolve().parents[1]
DEV = REPO / "tests" / "data" / "assessment_dev"


def test_every_note_of_every_bundle_becomes_a_labelled_row() -> None:
    bundles, problems = read_bundles(DEV, load_rules()[2])
    rows = bundle_rows([DEV])
    assert not problems
    assert len(rows) == sum(len(b.notes) for b in bundles)
    tax = default_taxonomy()
    assert set(rows["band"]) <= set(tax.bands) and set(rows["statement"]) <= set(tax.statements)
    assert rows["origin"].str.startswith(f"{BUNDLE_ORIGIN}:{DEV.name}/").all()
    # each note keeps its own labels and its bundle
    first = bundles[0]
    mine = rows[rows["origin"] == f"{BUNDLE_ORIGIN}:{DEV.name}/{first.id}"]
    assert mine["statement"].tolist() == [n.statement for n in first.notes]
    assert mine["band"].tolist() == [n.band for n in first.notes]


def test_a_bad_bundle_stops_training_and_names_file_and_note_not_text(tmp_path: Path) -> None:
    folder = tmp_path / "bundles"
    shutil.copytree(DEV, folder)
    path = sorted(folder.glob("*.json"))[1]
    doc = json.loads(path.read_text(encoding="utf-8"))
    secret = doc["notes"][2]["text"]
    doc["notes"][2]["band"] = "brilliant"
    path.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(DataError) as err:
        bundle_rows([folder])
    message = str(err.value)
    assert path.name in message and "note 3" in message and "brilliant" in message
    assert secret not in message


def test_a_missing_folder_is_refused_before_any_model_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from evidencenlp.cli import main

    with pytest.raises(DataError, match="not a folder of assessment bundles"):
        TrainingOptions(bundles=(tmp_path / "nowhere",))
    monkeypatch.setattr(sys, "argv", ["evidencenlp", "train", "--bundles", str(tmp_path / "nowhere"),
                                      "--out", str(tmp_path / "m")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = " ".join(capsys.readouterr().err.split())
    assert exit_info.value.code == 2
    assert "nowhere: not a folder of assessment bundles" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_bundle_notes_only_ever_train() -> None:
    rows = bundle_rows([DEV])
    other = pd.DataFrame({"text": [f"note {i}" for i in range(60)], "statement": ["safe.learning-culture"] * 60,
                          "key_question": ["safe"] * 60, "origin": ["corpus"] * 60})
    frame = pd.concat([other, rows[["text", "statement", "key_question", "origin"]]], ignore_index=True)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(frame), 64)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    train, test = holdout_split(frame, vectors, test_fraction=0.2)
    is_bundle = frame["origin"].str.startswith(BUNDLE_ORIGIN).to_numpy()
    assert "bundle" in TRAIN_ONLY_ORIGINS
    assert test.any() and not test[is_bundle].any()
    assert train[is_bundle].all()


def test_an_empty_folder_and_a_folder_given_twice_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no .json bundles found") as err:
        bundle_rows([empty])
    assert str(empty) in str(err.value)
    with pytest.raises(DataError, match="given twice"):
        bundle_rows([DEV, DEV.parent / DEV.name])


def test_evaluate_refuses_train_bundles_it_would_not_use_before_any_model_loads(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from evidencenlp.cli import main
    from evidencenlp.evaluation import run
    from evidencenlp.evaluation.run import EvaluationOptions

    with pytest.raises(DataError, match="not a folder of assessment bundles"):
        EvaluationOptions(train_bundles=(tmp_path / "nowhere",))
    with pytest.raises(DataError, match="cross-validation or --transfer"):
        EvaluationOptions(data=tmp_path / "notes.csv", train_bundles=(DEV,))
    assert EvaluationOptions(train_bundles=(DEV,)).mode == "cv"

    def no_model() -> None:
        raise AssertionError("the framework index (and its encoder) must not load for bad options")

    monkeypatch.setattr(run, "load_index", no_model)
    monkeypatch.setattr(sys, "argv", ["evidencenlp", "evaluate", "--train-bundles", str(tmp_path / "nowhere")])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = " ".join(capsys.readouterr().err.split())
    assert exit_info.value.code == 2
    assert "nowhere: not a folder of assessment bundles" in err and "Traceback" not in err


def test_provenance_names_each_bundle_folder_with_its_notes_and_content_hash(tmp_path: Path) -> None:
    from evidencenlp.training import source_provenance

    folder = tmp_path / "assessment_dev"
    shutil.copytree(DEV, folder)
    frame = bundle_rows([folder])
    options = TrainingOptions(corpus=False, framework_examples=False, bundles=(folder,))
    before = source_provenance(options, frame)["bundle"]
    assert before["rows"] == len(frame) and before["folders"] == {str(folder): len(frame)}
    assert before["bundles"] == len(list(folder.glob("*.json")))
    path = sorted(folder.glob("*.json"))[0]
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["notes"][0]["band"] = next(b for b in default_taxonomy().bands if b != doc["notes"][0]["band"])
    path.write_text(json.dumps(doc), encoding="utf-8")
    after = source_provenance(options, bundle_rows([folder]))["bundle"]
    assert after["sha256"][str(folder)] != before["sha256"][str(folder)]
    assert len(before["sha256"][str(folder)]) == 64


def test_bundle_weight_joins_the_classifier_source_weights() -> None:
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.cli.train import _bundle_weights

    assert _bundle_weights([], 0.5) == {}
    weights = dict(_bundle_weights([DEV], 0.5)["source_weights"])
    assert weights[BUNDLE_ORIGIN] == 0.5
    # the default weights (framework sentences) are kept, and the classifier accepts the result
    assert all(weights[p] == w for p, w in EvidenceClassifier().get_params()["source_weights"])
    EvidenceClassifier(source_weights=tuple(weights.items()))


def test_trained_folders_come_from_the_provenance_and_a_missing_one_is_named(tmp_path: Path) -> None:
    from evidencenlp.sources.bundles import trained_folders

    assert trained_folders({}) == ((), [])
    found, missing = trained_folders({"sources": {"bundle": {"folders": {"tests/data/assessment_dev": 143,
                                                                          "gone/bundles": 3}}}})
    assert [p.resolve() for p in found] == [DEV.resolve()] and missing == ["gone/bundles"]


def test_the_shipped_model_meta_readers_agree_with_the_loaded_model(tmp_path: Path) -> None:
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.evaluation.run import shipped_model_version, shipped_params, shipped_training_data

    clf = EvidenceClassifier.load()
    assert shipped_model_version() == str(clf.model_version)
    assert shipped_training_data()["sha256"] == clf.training_data_["sha256"]
    assert shipped_params()["inspection_only"] == clf.inspection_only
    assert shipped_model_version(tmp_path) is None and shipped_training_data(tmp_path) == {}  # no heads.json there
