"""The encoder backends' contracts (``--backend torch|onnx-int8|static``) and the shared text-head counts.

Fast tests check the choices, the errors and where heads come from without building anything. The
slow ones (run by CI's slow step) build the onnx-int8 export and the static distillation from the
packaged weights into the test cache and check what each promises: shape, normalised rows, closeness
to torch (onnx-int8), its own heads (static) and the same output contract as torch. Speed is measured
in ``bench/run.py``, never here.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from evidencenlp import encoder
from evidencenlp.cli import app
from evidencenlp.defaults import BACKENDS
from evidencenlp.errors import ModelError
from evidencenlp.heads import SharedCounts, TextHead

NOTES = [
    "Call bells were not answered for 20 minutes at night and staff seemed rushed.",
    "The staff are so patient with my dad, they always knock before going in.",
    "Medicines audit found two missed doses of insulin with no record of why.",
    "Care plans were personalised and reviewed monthly with families.",
    "I waited six hours in A&E and nobody told me what was happening.",
    "Fire doors were wedged open on the first floor corridor.",
]


# -- fast: choices, errors, where the heads come from ----------------------------------------------

def test_unknown_backend_is_refused_with_the_choices() -> None:
    with pytest.raises(ModelError, match="torch, onnx-int8, static"):
        encoder.check_backend("cuda")


def test_cli_refuses_an_unknown_backend_before_loading_anything() -> None:
    result = CliRunner().invoke(app, ["classify", "a note", "--backend", "gpu"])
    assert result.exit_code == 2
    assert "'gpu' is not one of torch, onnx-int8, static" in result.output


@pytest.mark.parametrize("command", ["tag", "classify", "review", "summarise", "assess", "serve", "train"])
def test_every_embedding_command_offers_the_backends(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "--backend" in result.output and "onnx-int8" in result.output


def test_torch_cache_key_is_unchanged_and_other_backends_get_their_own() -> None:
    texts = ["one note", "another"]
    old = hashlib.sha256(encoder.ENCODER_NAME.encode())
    for t in texts:
        old.update(b"\x00" + t.encode("utf-8"))
    assert encoder.fingerprint(texts) == old.hexdigest()[:16]  # caches made before backends stay valid
    keys = {encoder.fingerprint(texts, b) for b in BACKENDS}
    assert len(keys) == 3


def _copy_heads(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name in ("heads.json", "heads.npz"):
        shutil.copy(src / name, dst / name)
    return dst


def test_heads_folder_for_each_backend(tmp_path: Path, repo: Path) -> None:
    from evidencenlp.suggest import heads_folder

    models = _copy_heads(repo / "models", tmp_path / "models")
    assert heads_folder(models, "torch") == models
    assert heads_folder(models, "onnx-int8") == models
    assert heads_folder(models, "static") == models  # no static/ sub-folder: the folder itself is tried
    (models / "static").mkdir()
    assert heads_folder(models, "static") == models / "static"


def test_heads_trained_on_torch_are_refused_for_the_static_backend(tmp_path: Path, repo: Path) -> None:
    from evidencenlp.suggest import Suggester

    models = _copy_heads(repo / "models", tmp_path / "models")
    _copy_heads(repo / "models", models / "static")  # torch heads where static ones belong
    with pytest.raises(ModelError, match="static backend's are in models/static"):
        Suggester.load(models=models, backend="static")  # refused before anything is distilled


def test_onnx_int8_reuses_the_torch_heads(repo: Path) -> None:
    from evidencenlp.classifier import EvidenceClassifier
    from evidencenlp.suggest import check_space

    clf = EvidenceClassifier.load(repo / "models")
    check_space(clf, "torch")
    check_space(clf, "onnx-int8")
    with pytest.raises(ModelError):
        check_space(clf, "static")


def test_shipped_static_heads_declare_their_space_and_settings(repo: Path) -> None:
    meta = json.loads((repo / "models" / "static" / "heads.json").read_text(encoding="utf-8"))
    assert meta["encoder"] == encoder.SPACES["static"]
    assert meta["params"]["backend"] == "static"
    assert meta["params"]["char_tasks"] == []  # character n-grams would cost more than the static encoder
    assert meta["metrics"]["holdout"]["split"]  # figures measured on a held-out split travel with the heads


# -- fast: the shared text-head counts equal scikit-learn's ---------------------------------------

@pytest.mark.parametrize("analyzer", ["word", "char_wb"])
def test_shared_counts_equal_countvectorizer(analyzer: str) -> None:
    texts = ["Café staff were kind, kind and calm.", "", "NO call bell!! 20 mins", "naïve résumé",
             "The staff were kind.", "   "]
    head = TextHead(analyzer=analyzer, min_df=1).fit(texts[:5] * 4, ["a", "b", "a", "b", "a"] * 4)
    shared = SharedCounts(texts + ["unseen words only zzz qqq"])
    for other in (head, TextHead(analyzer=analyzer).fit(["kind staff", "rude staff"] * 3, ["p", "n"] * 3)):
        plain = other.transform(shared.texts).toarray()
        via_shared = other.transform(shared).toarray()
        np.testing.assert_allclose(via_shared, plain, rtol=0, atol=1e-12)


# -- slow: the built backends -----------------------------------------------------------------------

@pytest.mark.slow
def test_onnx_int8_embeddings_are_close_to_torch() -> None:
    a = encoder.encode(NOTES, backend="torch")
    b = encoder.encode(NOTES, backend="onnx-int8")
    assert b.shape == (len(NOTES), encoder.EMBEDDING_DIM) and b.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    cosine = (a * b).sum(axis=1)
    assert cosine.min() > 0.95 and cosine.mean() > 0.98
    # each note runs alone (its int8 activation scales are its own): see the neighbour tests below
    alone = encoder.encode(NOTES[:1], backend="onnx-int8")
    assert float((alone[0] * b[0]).sum()) > 0.97
    assert float((alone[0] * b[0]).sum()) > float((alone[0] @ b[1:].T).max())
    np.testing.assert_array_equal(encoder.encode(NOTES, backend="onnx-int8"), b)  # same batch: same result


class _PerCallScaledSession:
    """Stands in for a dynamically quantised onnxruntime session: like int8 activation scales chosen per
    call, each row's output depends on every row of the call (here: divided by the call's largest id)."""

    def __init__(self) -> None:
        self.rows_per_call: list[int] = []

    def run(self, _names, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        ids, mask = feeds["input_ids"], feeds["attention_mask"]
        self.rows_per_call.append(len(ids))
        scale = float(ids.max())
        vectors = np.zeros((len(ids), encoder.EMBEDDING_DIM), dtype=np.float32)
        for row, (row_ids, row_mask) in enumerate(zip(ids, mask)):
            for token, keep in zip(row_ids, row_mask):
                vectors[row, int(token) % encoder.EMBEDDING_DIM] += keep * (1.0 + token / scale)
        return [vectors]


class _CharTokenizer:
    """Characters as token ids (padding to the longest when asked, as the real tokenizer would)."""

    class _Encoding:
        def __init__(self, ids: list[int]) -> None:
            self.ids, self.attention_mask = ids, [1] * len(ids)

    def encode(self, text: str) -> _Encoding:
        return self._Encoding([ord(c) for c in text] or [1])

    def encode_batch(self, texts: list[str]) -> list[_Encoding]:
        encodings = [self.encode(t) for t in texts]
        width = max(len(e.ids) for e in encodings)
        for e in encodings:
            e.attention_mask += [0] * (width - len(e.ids))
            e.ids += [0] * (width - len(e.ids))
        return encodings


def test_onnx_int8_runs_each_note_alone_so_neighbours_never_change_it() -> None:
    """Fast, without building the model: even with a session whose rows depend on the whole call (as
    per-call int8 activation scales do), a note's embedding is the same whatever it is batched with."""
    embedder = encoder.OnnxInt8Embedder()
    session = _PerCallScaledSession()
    embedder._session, embedder._tokenizer = session, _CharTokenizer()  # what _load() would have made
    alone = embedder.encode(NOTES[:1])
    steps: list[int] = []
    crowd = embedder.encode(["ZZZZ zzzz ~~~~ high ids"] * 3 + NOTES + ["a"], progress=steps.append)
    assert set(session.rows_per_call) == {1}
    assert sum(steps) == len(NOTES) + 4
    np.testing.assert_array_equal(crowd[3], alone[0])
    np.testing.assert_allclose(np.linalg.norm(crowd, axis=1), 1.0, atol=1e-6)
    for i, note in enumerate(NOTES):  # every row is its own note's, in the caller's order
        np.testing.assert_array_equal(crowd[3 + i], embedder.encode([note])[0])


@pytest.mark.slow
def test_onnx_int8_embedding_of_a_note_is_the_same_in_any_batch() -> None:
    """The built int8 model: the same note gives the same vector alone, among other notes, in any order."""
    others = [n * 3 for n in NOTES[1:]] + ["ok", "Staff."]  # longer and shorter neighbours
    alone = encoder.encode(NOTES[:1], backend="onnx-int8")[0]
    first = encoder.encode(NOTES[:1] + others, backend="onnx-int8")
    last = encoder.encode(others[::-1] + NOTES[:1], backend="onnx-int8")
    np.testing.assert_array_equal(first[0], alone)
    np.testing.assert_array_equal(last[-1], alone)
    np.testing.assert_array_equal(first[1:], last[-2::-1])


@pytest.mark.slow
def test_onnx_int8_suggestions_follow_the_contract_and_agree_with_torch(suggester) -> None:
    from evidencenlp.suggest import Suggester

    fast = Suggester.load(backend="onnx-int8")
    assert fast.model_version == suggester.model_version + "+onnx-int8"
    notes = pd.read_csv(Path(__file__).resolve().parents[1] / "examples" / "notes.csv")["text"].tolist()
    ref = suggester.suggest_many(notes)
    got = fast.suggest_many(notes)
    assert [set(r.to_dict()) for r in ref if r] == [set(g.to_dict()) for g in got if g]
    same = np.mean([r.key_question.label == g.key_question.label for r, g in zip(ref, got)
                    if r and g and r.key_question and g.key_question])
    assert same >= 0.85  # bench/run.py measures the agreement on 3,000 notes


@pytest.mark.slow
def test_static_backend_uses_its_own_heads_and_the_same_contract(suggester, tmp_path: Path) -> None:
    from evidencenlp.suggest import Suggester
    from evidencenlp.tagging import FLAT_COLUMNS, tag_file

    static = Suggester.load(backend="static")
    assert static.classifier.encoder_ == encoder.SPACES["static"]
    vectors = encoder.encode(NOTES, backend="static")
    assert vectors.shape == (len(NOTES), encoder.EMBEDDING_DIM)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    taxonomy = static.index.taxonomy
    for result, ref in zip(static.suggest_many(NOTES), suggester.suggest_many(NOTES)):
        assert result is not None and ref is not None
        assert set(result.to_dict()) == set(ref.to_dict())
        assert result.key_question is not None and result.statement is not None
        assert taxonomy.statement_kq[taxonomy.statements.index(result.statement.label)] == result.key_question.label
    src = tmp_path / "notes.csv"
    pd.DataFrame({"id": range(len(NOTES)), "text": NOTES}).to_csv(src, index=False)
    summary = tag_file(static, src, tmp_path / "out.csv", "text")
    out = pd.read_csv(tmp_path / "out.csv")
    assert summary.tagged == len(NOTES) and list(out.columns) == ["id", "text", *FLAT_COLUMNS]


@pytest.mark.slow
def test_static_light_loader_reads_what_model2vec_reads() -> None:
    """``encoder.static.load_static`` skips model2vec's Hub-aware loader; it must give the same model."""
    from model2vec import StaticModel

    folder = encoder.StaticEmbedder.build()
    light = encoder.static.load_static(StaticModel, folder)
    reference = StaticModel.from_pretrained(str(folder))
    assert (light.normalize, light.max_length) == (reference.normalize, reference.max_length)
    np.testing.assert_array_equal(light.encode(NOTES), reference.encode(NOTES))


def test_static_light_loader_names_a_broken_cache(tmp_path: Path) -> None:
    pytest.importorskip("model2vec")
    from model2vec import StaticModel

    (tmp_path / "model.safetensors").write_bytes(b"not a tensor file")
    with pytest.raises(ModelError, match="unreadable"):
        encoder.static.load_static(StaticModel, tmp_path)


# -- the backend is chosen once: assess --backend static embeds with the static embedder, never torch ---------

ASSESS_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "assessment" / "notes-tagged.csv"


class _RecordingStatic:
    """Stands in for the static embedder: records what it embeds (deterministic unit vectors)."""

    backend = "static"
    space = encoder.SPACES["static"]
    recipe = encoder.RECIPES["static"]

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, texts, batch_size: int = 32, progress=None) -> np.ndarray:
        self.calls += 1
        rng = np.random.default_rng(len(texts))
        return encoder.normalise(rng.normal(size=(len(texts), encoder.EMBEDDING_DIM)))


def _refuse_torch(*_args, **_kwargs):
    raise AssertionError("a torch model was loaded although the backend is static")


def _assess_json(args: list[str]) -> dict:
    result = CliRunner().invoke(app, ["assess", str(ASSESS_EXAMPLE), "--location-column", "location",
                                      "--service-column", "service", "--format", "json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _hints(data: dict) -> list[dict]:
    return [st["what_would_make_outstanding"] for loc in data["locations"] for kq in loc["key_questions"].values()
            for st in kq["statements"] if st.get("what_would_make_outstanding")]


def test_assess_with_the_static_backend_embeds_with_the_static_embedder_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bug of issue 20: ``assess --backend static`` used to embed the outstanding hints with torch."""
    static = _RecordingStatic()
    monkeypatch.setitem(encoder.FACTORIES, "static", lambda: static)
    monkeypatch.setitem(encoder.FACTORIES, "torch", _refuse_torch)
    monkeypatch.setattr(encoder.torch_backend, "get_model", _refuse_torch)
    data = _assess_json(["--backend", "static"])
    hints = _hints(data)
    assert static.calls >= 1 and hints  # the hints were chosen by similarity, with the static embedder
    assert any(h.get("similarity") is not None for h in hints)


@pytest.mark.slow
def test_assess_backend_static_loads_no_torch_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """With the real (distilled) static embedder: no SentenceTransformer is ever constructed."""
    import sentence_transformers

    monkeypatch.setattr(sentence_transformers.SentenceTransformer, "__init__", _refuse_torch)
    monkeypatch.setattr(encoder.torch_backend, "get_model", _refuse_torch)
    hints = _hints(_assess_json(["--backend", "static"]))
    assert hints and any(h.get("similarity") is not None for h in hints)
