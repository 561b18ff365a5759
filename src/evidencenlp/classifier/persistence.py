"""Saving and loading an :class:`~evidencenlp.classifier.estimator.EvidenceClassifier`.

Saved as ``heads.npz`` (plain arrays, read with ``allow_pickle=False``) and ``heads.json`` (the
hyper-parameters, the label space, encoder, framework versions, training-data hash, metrics and
thresholds): nothing can run code on load. Formats ``evidencenlp-heads/1`` and ``/2`` are read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from evidencenlp.classifier.names import (
    ARRAYS_FILE,
    DIRECTION_TASK,
    FORMAT,
    META_FILE,
    PRINCIPLES_TASK,
    READABLE_FORMATS,
)
from evidencenlp.classifier.risk import RiskModel
from evidencenlp.classifier.thresholds import DEFAULT_THRESHOLDS
from evidencenlp.encoder.base import EMBEDDING_DIM, ENCODER_NAME, SPACES
from evidencenlp.errors import ModelError
from evidencenlp.frameworks.taxonomy import TASKS, Taxonomy
from evidencenlp.heads import LinearHead, MultiLabelHead, TextHead

if TYPE_CHECKING:
    from evidencenlp.classifier.estimator import EvidenceClassifier
    from evidencenlp.frameworks.index import FrameworkIndex


def params_from_meta(meta: dict[str, Any]) -> dict[str, Any]:
    """The constructor parameters a saved classifier was trained with, from its JSON (``heads.json``).

    JSON lists become the tuples the estimator expects; parameters added after a model was saved get the
    value that reproduces how it was trained (``inspection_only=()``: bundle rows then taught every expert);
    format 1 kept its settings at the top level.
    """
    if "params" not in meta:
        return {"similarity_features": bool(meta.get("use_similarity_features", True)),
                "cues": bool(meta.get("use_cues", False)),
                "text_tasks": tuple((meta.get("text_heads") or {}).keys()), "char_tasks": (),
                "direction": False, "ensemble": "mean", "source_weights": (), "router": False,
                "inspection_only": ()}
    params = dict(meta.get("params") or {})
    for name in ("text_tasks", "char_tasks", "inspection_only"):
        if name in params:
            params[name] = tuple(params[name])
    params.setdefault("inspection_only", ())
    if "source_weights" in params:
        params["source_weights"] = tuple((str(p), float(w)) for p, w in params["source_weights"])
    return params


def save_classifier(self: EvidenceClassifier, directory: Path | str) -> Path:
    """Write ``heads.npz`` and ``heads.json`` of a fitted classifier into ``directory`` atomically; returns the folder."""
    self.check_fitted()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, np.ndarray] = {}
    for task, head in self.heads_.items():
        arrays.update(head.to_arrays(task))
    if self.principles_head_ is not None:
        arrays.update(self.principles_head_.to_arrays(PRINCIPLES_TASK))
    for task, text_head in self.text_heads_.items():
        arrays.update(text_head.to_arrays(f"text.{task}"))
    router = getattr(self, "router_head_", None)
    if router is not None:
        arrays.update(router.to_arrays("router"))
    risk = getattr(self, "risk_", None)
    params = json.loads(json.dumps(self.get_params()))  # tuples become lists
    meta = {
        "format": FORMAT,
        "model_version": self.model_version,
        "encoder": self.encoder_,
        "embedding_dim": EMBEDDING_DIM,
        "params": params,
        "taxonomy": self.taxonomy_.to_dict(),
        "joint_temperature": self.joint_temperature_,
        "ensemble_weights": self.weights_,
        "direction_mix": getattr(self, "direction_mix_", 1.0),
        "frameworks": self.frameworks_version_,
        "training_data": self.training_data_,
        "thresholds": self.thresholds_,
        "heads": {task: head.meta() for task, head in self.heads_.items()},
        "principles": self.principles_head_.meta() if self.principles_head_ is not None else None,
        "text_heads": {task: text_head.meta() for task, text_head in self.text_heads_.items()},
        "router": router.meta() if router is not None else None,
        "risk": risk.to_dict() if risk is not None else None,
        "metrics": self.metrics_,
    }
    tmp_npz = directory / f".{ARRAYS_FILE}.{os.getpid()}.tmp.npz"
    np.savez_compressed(tmp_npz, **arrays)  # type: ignore[arg-type]
    tmp_json = directory / f".{META_FILE}.{os.getpid()}.tmp"
    tmp_json.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    tmp_npz.replace(directory / ARRAYS_FILE)
    tmp_json.replace(directory / META_FILE)
    return directory

def load_classifier(cls: type[EvidenceClassifier], directory: Path | str | None = None,
                    index: FrameworkIndex | None = None) -> EvidenceClassifier:
    """Read a classifier written by :meth:`save` (default: the packaged model).

    ``index`` shares an already-built framework index. Raises :class:`ModelError` when the files are
    missing, corrupt, of another format or trained on another encoder.
    """
    from evidencenlp.paths import models_dir

    directory = Path(directory) if directory is not None else models_dir()
    meta_path, arrays_path = directory / META_FILE, directory / ARRAYS_FILE
    if not meta_path.is_file() or not arrays_path.is_file():
        raise ModelError(f"no trained classifier in {directory} (expected {META_FILE} and {ARRAYS_FILE}); "
                         "run `evidencenlp train` first")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        with np.load(arrays_path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the classifier in {directory}: {exc}") from None
    if meta.get("format") not in READABLE_FORMATS:
        raise ModelError(f"{meta_path}: unsupported format {meta.get('format')!r} (expected {FORMAT})")
    params = params_from_meta(meta)
    expected = SPACES.get(str(params.get("backend", "torch")))
    if meta.get("encoder") != expected:
        raise ModelError(f"{meta_path}: heads were trained on encoder {meta.get('encoder')!r}, "
                         f"but this installation uses {expected or ENCODER_NAME!r}; retrain with `evidencenlp train`")
    clf = cls(**params)
    if index is not None:
        clf.bind_index(index)
    try:
        clf.heads_ = {task: LinearHead.from_arrays(arrays, task, m) for task, m in meta["heads"].items()}
        clf.principles_head_ = (MultiLabelHead.from_arrays(arrays, PRINCIPLES_TASK, meta["principles"])
                                if meta.get("principles") else None)
        clf.text_heads_ = {task: TextHead.from_arrays(arrays, f"text.{task}", m)
                           for task, m in (meta.get("text_heads") or {}).items()}
        clf.router_head_ = (LinearHead.from_arrays(arrays, "router", meta["router"])
                            if meta.get("router") else None)
        clf.risk_ = RiskModel.from_dict(meta["risk"]) if meta.get("risk") else None
    except (KeyError, ValueError) as exc:
        raise ModelError(f"{directory}: heads are incomplete or inconsistent ({exc})") from None
    missing = [task for task in TASKS if task not in clf.heads_]
    if missing:
        raise ModelError(f"{directory}: the classifier lacks the {', '.join(missing)} head(s); "
                         "retrain with `evidencenlp train`")
    clf.taxonomy_ = (Taxonomy.from_dict(meta["taxonomy"]) if meta.get("taxonomy") else clf.index.taxonomy)
    tasks = [task for task in (*TASKS, DIRECTION_TASK) if task in clf.heads_]
    clf.classes_ = {task: clf.taxonomy_.labels(task) for task in (*tasks, PRINCIPLES_TASK)}
    saved_weights = meta.get("ensemble_weights") or {}
    clf.weights_ = {task: [float(w) for w in saved_weights[task]] if task in saved_weights
                    else [1.0 / len(clf.components(task))] * len(clf.components(task)) for task in clf.heads_}
    clf.joint_temperature_ = float(meta.get("joint_temperature", 1.0))
    clf.direction_mix_ = float(meta.get("direction_mix", 1.0))
    thresholds = dict(DEFAULT_THRESHOLDS)
    thresholds.update(meta.get("thresholds") or {})
    clf.thresholds_ = thresholds
    clf.frameworks_version_ = dict(meta["frameworks"])
    clf.training_data_ = dict(meta.get("training_data") or {})
    clf.metrics_ = dict(meta.get("metrics") or {})
    clf.encoder_ = str(meta["encoder"])
    return clf
