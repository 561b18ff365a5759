"""The evaluation workflow end to end on tiny synthetic data (fast: a hashing stand-in for the encoder).

The stand-in replaces the torch embedder (``evidencenlp.encoder.FACTORIES``) and the embedding cache points at a
temporary folder, so no model is loaded and the real cache is never touched. Framework files are
the repository's own. The phase-1 tests use a synthetic CSV written here (never the real file).
"""

from __future__ import annotations

import json
import re
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evidencenlp import encoder
from evidencenlp.errors import DataError
from evidencenlp.frameworks import load_crosswalk, load_frameworks

STATEMENTS = {
    "safe.medicines-optimisation": "medicine fridge dose mar chart",
    "safe.infection-prevention-and-control": "hand hygiene gloves clean sluice",
    "caring.kindness-compassion-and-dignity": "kind gentle dignity knocked privacy",
    "responsive.equity-in-access": "waiting appointment access interpreter ramp",
    "effective.assessing-needs": "assessment needs plan reviewed admission",
    "well-led.freedom-to-speak-up": "speak guardian concern raise whistle",
}
BAND_WORDS = {"outstanding": "exceptional inspiring", "good": "reliable consistent",
              "requires_improvement": "patchy gaps", "inadequate": "unsafe missing"}
CATEGORY_WORDS = {"processes": "audit record", "observation": "observed saw", "people_experience": "relative said",
                  "staff_leaders_feedback": "nurse told", "outcomes": "rate percent", "partner_feedback": "commissioner"}
SERVICES = ["care_home", "gp_practice", "acute_hospital"]
FILLER = [f"w{i}" for i in range(40)]


def fake_encode(texts, batch_size: int = 64, progress=None, backend: str = "torch") -> np.ndarray:
    """Deterministic bag-of-hashed-words embedding, L2-normalised, shape (n, 384)."""
    out = np.zeros((len(texts), encoder.EMBEDDING_DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        for token in re.findall(r"\w+", text.lower()):
            h = zlib.crc32(token.encode())
            out[i, h % encoder.EMBEDDING_DIM] += 1.0 if (h >> 16) & 1 else -1.0
        norm = np.linalg.norm(out[i])
        out[i] = out[i] / norm if norm else out[i]
        out[i, 0] += 0 if norm else 1.0
    if progress is not None and len(texts):
        progress(len(texts))
    return out


@pytest.fixture()
def fake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Fake encoder, temporary cache, training and models folders; returns the training folder."""
    _patch(monkeypatch, tmp_path)
    training = tmp_path / "training"
    (training / "corpus").mkdir(parents=True)
    monkeypatch.setenv("EVIDENCENLP_TRAINING", str(training))
    monkeypatch.setenv("EVIDENCENLP_MODELS", str(tmp_path / "models"))
    # the mapping file is project data: make it visible in the temporary training folder
    repo_training = Path(__file__).resolve().parents[1] / "training" / "phase1_mapping.yaml"
    (training / "phase1_mapping.yaml").write_text(repo_training.read_text(encoding="utf-8"), encoding="utf-8")
    return training


class FakeEmbedder:
    """The hashing stand-in as an :class:`evidencenlp.encoder.Embedder` of the torch space."""

    backend = "torch"
    space = encoder.SPACES["torch"]
    recipe = ""

    def encode(self, texts, batch_size: int = 64, progress=None) -> np.ndarray:
        return fake_encode(texts, batch_size, progress)


def _patch(monkeypatch: pytest.MonkeyPatch, tmp: Path) -> None:
    monkeypatch.setitem(encoder.FACTORIES, "torch", FakeEmbedder)
    monkeypatch.setenv("EVIDENCENLP_CACHE", str(tmp / "cache"))


@pytest.fixture(scope="module")
def module_index(tmp_path_factory: pytest.TempPathFactory):
    """One framework index (fake embeddings) for the module's read-only tests."""
    from evidencenlp.matching import FrameworkIndex

    with pytest.MonkeyPatch.context() as mp:
        _patch(mp, tmp_path_factory.mktemp("index"))
        fws = load_frameworks()
        yield FrameworkIndex(fws, load_crosswalk(frameworks=fws))


def synthetic_notes(n: int = 120, seed: int = 0, duplicates: int = 4) -> pd.DataFrame:
    """``n`` labelled notes with label-specific words (last ``duplicates`` rows copy earlier texts)."""
    rng = np.random.default_rng(seed)
    rows = []
    statements = list(STATEMENTS)
    for i in range(n - duplicates):
        st = statements[i % len(statements)]
        band = list(BAND_WORDS)[rng.integers(4)]
        cat = list(CATEGORY_WORDS)[rng.integers(len(CATEGORY_WORDS))]
        words = STATEMENTS[st].split()
        text = " ".join([*rng.choice(words, 3), BAND_WORDS[band], CATEGORY_WORDS[cat], *rng.choice(FILLER, 3)])
        rows.append({"note_id": f"N{i:03d}", "text": text, "key_question": st.split(".")[0], "statement": st,
                     "evidence_category": cat, "band": band, "principles": "",
                     "service": SERVICES[i % len(SERVICES)]})
    for j in range(duplicates):
        copy = dict(rows[j])
        copy["note_id"] = f"D{j:03d}"
        rows.append(copy)
    return pd.DataFrame(rows)


@pytest.fixture()
def index(fake_env: Path):
    from evidencenlp.matching import FrameworkIndex

    fws = load_frameworks()
    return FrameworkIndex(fws, load_crosswalk(frameworks=fws))


def _vectors(frame: pd.DataFrame) -> np.ndarray:
    return fake_encode(frame["text"].tolist())


def _with_origin(frame: pd.DataFrame, origin: str = "corpus:test.csv") -> pd.DataFrame:
    return frame.assign(origin=origin)


# -- folds -----------------------------------------------------------------------------------------

def test_plan_folds_never_splits_near_duplicates(fake_env: Path) -> None:
    from evidencenlp.evaluation.cv import plan_folds

    frame = synthetic_notes(60, duplicates=6)
    vecs = _vectors(frame)
    extra_vecs = vecs[[0, 1, 2]]  # "framework" rows that duplicate three notes
    plan = plan_folds(frame, vecs, extra_vecs, folds=3, seed=0)
    assert sorted(np.concatenate([f.test for f in plan.folds]).tolist()) == list(range(60))
    for j in range(6):  # each duplicate shares its original's fold
        assert plan.fold_of[54 + j] == plan.fold_of[j]
    for fold in plan.folds:
        assert not set(plan.corpus_groups[fold.train]) & set(plan.corpus_groups[fold.test])
        for e in range(3):  # an extra row is kept out of training exactly when its twin is tested
            assert fold.keep_extra[e] == (e not in set(fold.test.tolist()))
    with pytest.raises(DataError, match="folds"):
        plan_folds(frame.iloc[:2], vecs[:2], None, folds=5)


# -- cross-validation, report, json -------------------------------------------------------------------

@pytest.fixture(scope="module")
def cv_result(module_index, tmp_path_factory: pytest.TempPathFactory):
    """A 2-fold CV of all four models on 120 synthetic notes (computed once for the module)."""
    from evidencenlp.evaluation.cv import cross_validate

    frame = _with_origin(synthetic_notes(120))
    with pytest.MonkeyPatch.context() as mp:
        _patch(mp, tmp_path_factory.mktemp("cv"))
        return cross_validate(frame, _vectors(frame), module_index, folds=2, seed=0, n_jobs=1)


def test_cross_validate_end_to_end_with_baselines(cv_result) -> None:
    ev = cv_result
    assert ev.models == ["heads", "majority", "tfidf_svm", "zero_shot"]
    assert ev.tasks == ["key_question", "statement", "evidence_category", "band"]
    for model in ev.models:
        for task in ev.tasks:
            r = ev.results[model][task]
            assert r.n == 120 and 0 <= r.accuracy <= 1 and 0 <= r.macro_f1 <= 1 and 0 <= r.ece <= 1
            assert len(r.fold_accuracy) == 2 and len(r.selective) == 10 and len(r.reliability) == 10
            assert r.confusion.shape == (len(r.labels), len(r.labels)) and r.confusion.sum() == 120
        st = ev.results[model]["statement"]
        assert st.top3 is not None and st.top3 >= st.accuracy
        band = ev.results[model]["band"]
        assert band.qwk is not None and band.within_one is not None and band.within_one >= band.accuracy
    # the words make it learnable: the trained models beat the majority class on statements
    assert ev.results["tfidf_svm"]["statement"].accuracy > ev.results["majority"]["statement"].accuracy + 0.3
    assert ev.results["heads"]["statement"].accuracy > ev.results["majority"]["statement"].accuracy + 0.3
    assert set(ev.breakdowns) == {"service", "evidence_category"}
    assert {row["value"] for row in ev.breakdowns["service"]["statement"]} == set(SERVICES)
    assert "2-fold cross-validation" in ev.description and ev.data["rows"] == 120
    assert len(ev.markdown()) == 2 + len(ev.summary_rows())


def test_evaluation_json_is_strict(cv_result) -> None:
    text = json.dumps(cv_result.to_dict(), allow_nan=False)
    back = json.loads(text)
    assert back["results"]["heads"]["band"]["qwk"] is not None
    assert back["results"]["zero_shot"]["statement"]["top3_accuracy"] is not None


def test_report_is_one_self_contained_html_file(cv_result, tmp_path: Path) -> None:
    from evidencenlp.evaluation.report import write_report

    path = write_report(cv_result, tmp_path / "report.html")
    html = path.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    for section in ('id="summary"', 'id="data"', 'id="task-key_question"', 'id="task-statement"',
                    'id="task-evidence_category"', 'id="task-band"', 'id="breakdowns"', "Reliability",
                    "selective accuracy", "Confusion matrices", "TF-IDF + LinearSVC", "zero-shot cosine",
                    cv_result.data["sha256"], "By service"):
        assert section in html, section
    # 4 tasks × (reliability + selective + one figure of confusion matrices) = 12 embedded PNGs
    assert html.count('src="data:image/png;base64,') == 12
    assert not re.search(r'(src|href)="(https?:)?//', html) and "<script" not in html and "<link" not in html
    assert "w1 " not in html and "medicine fridge" not in html  # no note text
    assert 'id="review"' not in html  # no thresholds given: no section


def test_report_shows_where_the_review_thresholds_sit(cv_result, tmp_path: Path) -> None:
    from evidencenlp.evaluation.report import write_report

    review = {"key_question": 0.84, "direction": 0.71, "targets": {"kq_error": 0.1, "direction_error": 0.03},
              "held_out_rows": 1608,
              "all": {"rows": 1608, "coverage": 0.31, "kq_error_unflagged": 0.097, "direction_error_unflagged": 0.027,
                      "kq_error_all": 0.24, "direction_error_all": 0.05}}
    html = write_report(cv_result, tmp_path / "r.html", review=review).read_text(encoding="utf-8")
    assert 'id="review"' in html and "probability ≥ 0.840" in html and "0.310" in html
    assert html.count('src="data:image/png;base64,') == 13  # + the risk-coverage curve


# -- CLI ----------------------------------------------------------------------------------------------

def _write_corpus(training: Path, n: int = 80) -> pd.DataFrame:
    frame = synthetic_notes(n, duplicates=2)
    frame.to_csv(training / "corpus" / "notes_t.csv", index=False)
    return frame


def test_cli_cv_json_report_and_save_cv(fake_env: Path, tmp_path: Path) -> None:
    from evidencenlp.cli import app

    _write_corpus(fake_env)
    report, models = tmp_path / "r.html", tmp_path / "models"
    result = CliRunner().invoke(app, ["evaluate", "--folds", "2", "--no-framework-examples", "--jobs", "1",
                                      "--format", "json", "--report", str(report), "--save-cv",
                                      "--models", str(models), "--only", "majority,tfidf_svm,zero_shot"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "cv" and payload["data"]["rows"] == 80
    assert set(payload["results"]) == {"majority", "tfidf_svm", "zero_shot"}
    assert report.is_file() and "data:image/png;base64," in report.read_text(encoding="utf-8")
    saved = json.loads((models / "cv_metrics.json").read_text(encoding="utf-8"))
    assert "2-fold cross-validation" in saved["description"]
    assert saved["markdown"][0].startswith("| task | metric | majority class | TF-IDF + LinearSVC")


def test_cli_table_output(fake_env: Path) -> None:
    from evidencenlp.cli import app

    _write_corpus(fake_env, 60)
    result = CliRunner().invoke(app, ["evaluate", "--folds", "2", "--no-framework-examples", "--jobs", "1",
                                      "--only", "majority,zero_shot"])
    assert result.exit_code == 0, result.output
    assert "model vs baselines" in result.stdout and "zero-shot" in result.stdout
    assert "Accuracy by service" in result.stdout


def test_cli_fixed_split(fake_env: Path, tmp_path: Path) -> None:
    from evidencenlp.cli import app

    frame = synthetic_notes(80, duplicates=0)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    frame.iloc[:50].to_csv(a, index=False)
    pd.concat([frame.iloc[50:], frame.iloc[:2]]).to_csv(b, index=False)  # two test notes copy training notes
    result = CliRunner().invoke(app, ["evaluate", "--train-on", str(a), "--test-on", str(b), "--format", "json",
                                      "--no-framework-examples", "--only", "majority,tfidf_svm"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "fixed" and payload["data"]["rows"] == 32
    assert payload["data"]["removed_near_duplicates"] == 2


def test_cli_missing_column_is_a_clear_error(fake_env: Path, tmp_path: Path) -> None:
    from evidencenlp.cli import app

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"note": ["x"], "key_question": ["safe"]}).to_csv(bad, index=False)
    result = CliRunner().invoke(app, ["evaluate", "--data", str(bad), "--only", "zero_shot"])
    assert isinstance(result.exception, DataError)
    assert "missing column(s) text" in str(result.exception)
    result = CliRunner().invoke(app, ["evaluate", "--train-on", str(bad)])
    assert result.exit_code != 0 and "--test-on" in result.output


# -- phase-1 ------------------------------------------------------------------------------------------

PHASE1_ROWS = [  # synthetic rows in the pxtextmining layout (no real feedback)
    ("mm", "Care received", "Medication", "tablets dose chart missed", "-4"),
    ("mm", "Care received", "Medication", "medicine on time every time", "4"),
    ("sa", "Staff", "Attitude Of Staff", "kind gentle dignity", "3"),
    ("sa", "Staff", "Attitude Of Staff", "rude dismissive", "-3"),
    ("sg", "Staff", "Staff: General", "staff fine", "2"),
    ("xn", "Couldn't be improved", "Nothing to improve", "nothing", "3"),
    ("ap", "Access", "Time spent waiting for first appt/referral/service", "waiting weeks access", "-o"),
    ("ap", "Access", "Time spent waiting for first appt/referral/service", "quick appointment access", "A"),
    ("cl", "Environment/ facilities", "Cleanliness", "clean hygiene gloves", "SS"),
    ("cl", "Environment/ facilities", "Cleanliness", "dirty sluice", "-9"),
    ("zz", "Made up", "Not A Real Subcategory", "whatever", "1"),
    ("co", "Communication", "Listening", "", "3"),
]


def _write_phase1(path: Path) -> Path:
    frame = pd.DataFrame(PHASE1_ROWS, columns=["code", "label", "subcategory", "feedback", "criticality"])
    frame["organization"] = "Trust X"
    frame["question"] = "Trust X - Q1"
    frame["row_index"] = range(len(frame))
    frame.to_csv(path, index=False)
    return path


def test_phase1_mapping_on_a_synthetic_csv(fake_env: Path, tmp_path: Path) -> None:
    from evidencenlp.evaluation.phase1 import load_mapping, load_phase1

    fws = load_frameworks()
    statements = [q["id"] for q in fws["cqc-saf-2023"].section("quality_statements")]
    mapping = load_mapping(statements=statements)
    data = load_phase1(_write_phase1(tmp_path / "p1.csv"), mapping)
    f = data.frame
    assert data.total_rows == 12 and data.blank_text == 1
    assert data.excluded_no_mapping == {"Nothing to improve": 1}
    assert data.excluded_low_confidence == {"Staff: General": 1}
    assert data.unknown_subcategories == {"Not A Real Subcategory": 1}
    assert len(f) == 8 and set(f["evidence_category"]) == {"people_experience"} and set(f["band"]) == {""}
    by_text = f.set_index("text")
    assert by_text.loc["tablets dose chart missed", "statement"] == "safe.medicines-optimisation"
    assert by_text.loc["tablets dose chart missed", "polarity"] == "negative"
    assert by_text.loc["medicine on time every time", "polarity"] == "positive"
    assert by_text.loc["rude dismissive", "key_question"] == "caring"
    assert by_text.loc["rude dismissive", "polarity"] == "negative"  # -3 is the negative threshold
    # dirty / out-of-range criticality -> missing, never a polarity
    for text in ("waiting weeks access", "quick appointment access", "clean hygiene gloves", "dirty sluice"):
        assert by_text.loc[text, "polarity"] == ""
    assert data.criticality_missing == 4
    assert set(data.criticality_dirty) == {"-o", "A", "SS", "-9"}
    low = load_phase1(tmp_path / "p1.csv", mapping, min_confidence="low")
    assert len(low.frame) == 9 and "Staff: General" in set(low.frame["subcategory"])
    summary = data.summary()
    assert summary["rows_used"] == 8 and summary["key_questions"]["safe"] == 4


def test_phase1_missing_column_and_bad_mapping(fake_env: Path, tmp_path: Path) -> None:
    from evidencenlp.evaluation.phase1 import convert, load_mapping

    mapping = load_mapping()
    with pytest.raises(DataError, match="criticality"):
        convert(pd.DataFrame({"feedback": ["x"], "subcategory": ["Medication"]}), mapping)
    bad = tmp_path / "bad.yaml"
    bad.write_text("mappings:\n  - subcategory: Medication\n    key_question: caring\n"
                   "    statement: safe.medicines-optimisation\n    confidence: high\n", encoding="utf-8")
    with pytest.raises(DataError, match="does not belong"):
        load_mapping(bad)


def test_cli_phase1_scores_heads_and_zero_shot(fake_env: Path, tmp_path: Path, index) -> None:
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.cli import app

    corpus = _with_origin(_write_corpus(fake_env, 60))
    models = tmp_path / "models"
    EvidenceClassifier().bind_index(index).fit(corpus["text"].tolist(), corpus, embeddings=_vectors(corpus),
                                               origin=corpus["origin"].tolist()).save(models)
    path = _write_phase1(tmp_path / "feedback.csv")
    result = CliRunner().invoke(app, ["evaluate", "--data", str(path), "--models", str(models), "--format", "json",
                                      "--no-framework-examples"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["mode"] == "phase1" and payload["data"]["phase1"]["rows_used"] == 8
    assert {"heads", "zero_shot", "majority", "tfidf_svm"} == set(payload["results"])
    assert "key_question" in payload["tasks"] and "polarity" in payload["tasks"] and "band" not in payload["tasks"]
    kq = payload["results"]["zero_shot"]["key_question"]
    assert kq["n"] == 8 and kq["macro_f1"] is not None and kq["macro_f1_true_labels"] is not None
    # only safe / caring / responsive are true here: the true-class macro-F1 never averages in well-led
    assert kq["macro_f1_true_labels"] >= kq["macro_f1"]
    assert payload["results"]["heads"]["polarity"]["n"] == 4
    assert "whatever" not in result.output and "tablets" not in result.output  # never the comments


# -- agreement ----------------------------------------------------------------------------------------

def test_agreement_kappa_on_a_toy_pair() -> None:
    from evidencenlp.evaluation.agreement import compare

    # both safe 4, A safe/B caring 1, A caring/B safe 2, both caring 3 -> kappa 0.4 (see test_metrics)
    a_kq = ["safe"] * 5 + ["caring"] * 5
    b_kq = ["safe"] * 4 + ["caring"] + ["safe"] * 2 + ["caring"] * 3
    ids = [f"n{i}" for i in range(10)]
    a = pd.DataFrame({"note_id": ids, "text": [f"t{i}" for i in range(10)], "key_question": a_kq})
    b = pd.DataFrame({"note_id": ids[::-1], "suggested_key_question": b_kq[::-1]})  # tag --prefix output, reversed
    res = compare(a, b)
    assert res.join.startswith("joined on column 'note_id'") and res.matched == 10
    (task,) = res.tasks
    assert task.column_b == "suggested_key_question" and task.kappa == pytest.approx(0.4)
    assert task.agreement == pytest.approx(0.7)
    assert sorted(d.key for d in res.disagreements) == ["n4", "n5", "n6"]
    assert all(d.text is None for d in res.disagreements)
    shown = compare(a, b, show_text=True)
    assert {d.text for d in shown.disagreements} == {"t4", "t5", "t6"}
    # `tag` output carries the input labels through: its suggestion columns must be used instead
    tagged = pd.DataFrame({"note_id": ids, "key_question": a_kq, "s_key_question": b_kq, "s_key_question_score": 0.5})
    assert compare(a, tagged).tasks[0].column_b == "s_key_question"
    assert compare(a, tagged).tasks[0].kappa == pytest.approx(0.4)
    by_row = compare(a.drop(columns="note_id"), pd.DataFrame({"key_question": b_kq}))
    assert by_row.join.startswith("joined by row order") and by_row.tasks[0].kappa == pytest.approx(0.4)
    with pytest.raises(DataError, match="--key"):
        compare(a.drop(columns="note_id"), pd.DataFrame({"key_question": b_kq[:9]}))
    with pytest.raises(DataError, match="no key column"):
        compare(a, b, key="id")


def test_cli_agreement(tmp_path: Path) -> None:
    from evidencenlp.cli import app

    a = pd.DataFrame({"note_id": ["1", "2", "3", "4"], "text": ["alpha", "beta", "gamma", "delta"],
                      "band": ["good", "good", "inadequate", "outstanding"], "statement": ["", "", "", ""]})
    b = pd.DataFrame({"note_id": ["1", "2", "3", "4"], "band": ["good", "inadequate", "inadequate", "outstanding"]})
    pa, pb = tmp_path / "a.csv", tmp_path / "b.jsonl"
    a.to_csv(pa, index=False)
    b.to_json(pb, orient="records", lines=True)
    result = CliRunner().invoke(app, ["agreement", str(pa), str(pb), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tasks"][0]["task"] == "band" and payload["tasks"][0]["n"] == 4
    assert payload["disagreements"] == [{"key": "2", "task": "band", "a": "good", "b": "inadequate"}]
    table = CliRunner().invoke(app, ["agreement", str(pa), str(pb)])
    assert table.exit_code == 0 and "kappa" in table.stdout and "beta" not in table.stdout
    shown = CliRunner().invoke(app, ["agreement", str(pa), str(pb), "--show-text"])
    assert "beta" in shown.stdout
