"""The ``onnx-int8`` backend: the packaged network exported to ONNX, its operators fused and its weights
quantised to 8-bit integers *locally*, at first use, from the packaged weights (onnxruntime); cached in
the cache folder. Its embeddings stay close to ``torch``'s (mean cosine ≈ 0.99), so it reuses the torch
heads; the model card gives the measured label agreement.

Each note runs alone (no batch, no padding): int8 activations are scaled per call, so a note's embedding
depends on that note only, never on the notes beside it. The notes are spread over one single-threaded
onnxruntime call per CPU at a time (threads share the one session), which on a small machine is faster
than batches with onnxruntime's own thread pool (bench/)."""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.encoder.base import (
    DEFAULT_BATCH_SIZE,
    EMBEDDING_DIM,
    ENCODER_NAME,
    MAX_TOKENS,
    ONNX_RECIPE,
    SPACES,
    force_offline,
    model_path,
    normalise,
    quiet_transformers,
)
from evidencenlp.encoder.build import backend_dir, build_once, weights_key
from evidencenlp.errors import ModelError

#: notes per onnxruntime call: one, so its dynamic int8 activation scales come from that note alone (a note's
#: embedding never depends on its neighbours) and nothing is padded
ONNX_BATCH_SIZE = 1
#: notes handed to the worker threads at a time (between progress reports)
_CHUNK = 64


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


class OnnxInt8Embedder:
    """The packaged network exported to ONNX, fused and quantised to int8 (built and loaded at first encode)."""

    backend = "onnx-int8"
    space = SPACES["onnx-int8"]
    recipe = ONNX_RECIPE

    def __init__(self) -> None:
        import importlib.util

        if importlib.util.find_spec("onnxruntime") is None or importlib.util.find_spec("tokenizers") is None:
            raise ModelError("the onnx-int8 backend needs onnxruntime: pip install \"evidencenlp[fast]\"")
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._session is None:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                options.log_severity_level = 3
                options.intra_op_num_threads = 1  # one note per thread: our threads, not onnxruntime's pool
                options.inter_op_num_threads = 1
                self._session = ort.InferenceSession(str(self.build()), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(model_path() / "tokenizer.json"))
                tokenizer.enable_truncation(MAX_TOKENS)
                self._tokenizer = tokenizer
            return self._session, self._tokenizer

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (e.g. for a worker process) without the loaded model: it is loaded again there."""
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._session = None
        self._tokenizer = None

    @staticmethod
    def build() -> Path:
        """The cached quantised model, exported and quantised here first when missing (about 10–30 s)."""
        import onnxruntime

        def make(out: Path) -> None:
            with tempfile.TemporaryDirectory(dir=out.parent) as work:  # the fp32 and fused steps stay out
                export_onnx_int8(Path(work))
                (Path(work) / "model.int8.onnx").replace(out / "model.onnx")
            (out / "recipe.json").write_text(json.dumps({"recipe": ONNX_RECIPE, "encoder": ENCODER_NAME,
                                                          "onnxruntime": onnxruntime.__version__}), encoding="utf-8")

        folder = backend_dir(f"onnx-int8-{weights_key(ONNX_RECIPE, onnxruntime.__version__)}")
        return build_once(folder, "model.onnx", "onnx-int8 encoder", "about 30 s", make)

    def encode(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH_SIZE,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Embed ``texts`` → float32 ``(len(texts), 384)``, rows L2-normalised (``batch_size`` is torch's).

        Each row depends on its own text only: the same note gives the same vector in any batch.
        """
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if len(texts) == 0:
            return out
        session, tokenizer = self._load()

        def embed(text: str) -> np.ndarray:
            encoding = tokenizer.encode(text)
            feeds = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                     "attention_mask": np.array([encoding.attention_mask], dtype=np.int64)}
            return session.run(None, feeds)[0][0]  # onnxruntime releases the GIL while it runs

        order = np.argsort([-len(t) for t in texts], kind="stable")  # longest first: no thread waits at the end
        with ThreadPoolExecutor(min(usable_cpus(), len(texts)), thread_name_prefix="onnx-int8") as pool:
            for start in range(0, len(texts), _CHUNK):
                rows = order[start:start + _CHUNK]
                out[rows] = list(pool.map(embed, [texts[i] for i in rows]))
                if progress is not None:
                    progress(len(rows))
        return normalise(out)


def export_onnx_int8(folder: Path) -> None:
    """Export the packaged model (mean pooling + L2 norm included) to ONNX, fuse, quantise to int8.

    Writes ``model.onnx`` (fp32), ``model.fused.onnx`` and ``model.int8.onnx`` into ``folder``.
    """
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    force_offline()
    quiet_transformers()

    class Pooled(torch.nn.Module):
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
        torch.onnx.export(Pooled(body), example, str(folder / "model.onnx"), input_names=list(axes)[:2],
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
