"""A set of trained heads on disk: ``heads.npz`` (plain arrays) + ``heads.json`` (everything else).

Loading uses ``np.load(allow_pickle=False)`` and ``json``: no code can run on load. The JSON holds
the encoder name, framework versions, training-data hash, metrics and decision thresholds.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.encoder import EMBEDDING_DIM, ENCODER_NAME
from evidencenlp.errors import ModelError
from evidencenlp.heads import LinearHead, MultiLabelHead, TextHead

FORMAT = "evidencenlp-heads/1"
ARRAYS_FILE = "heads.npz"
META_FILE = "heads.json"
TASKS: tuple[str, ...] = ("key_question", "statement", "evidence_category", "band")
PRINCIPLES_TASK = "principles"
#: tasks that also have a TF-IDF text head, averaged with the embedding head
TEXT_TASKS: tuple[str, ...] = ("evidence_category", "band")

#: below these calibrated probabilities a suggestion says needs_review instead of a confident guess
DEFAULT_THRESHOLDS: dict[str, float] = {"key_question": 0.5, "statement": 0.3, "band": 0.45,
                                        "evidence_category": 0.0, "principles": 0.5}


@dataclass
class HeadBundle:
    """Trained heads for every task plus the provenance needed to trust them."""

    heads: dict[str, LinearHead]
    principles: MultiLabelHead | None
    frameworks: dict[str, str]
    use_similarity_features: bool = True
    use_cues: bool = False
    joint_temperature: float = 1.0
    text_heads: dict[str, TextHead] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_THRESHOLDS))
    training_data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    encoder: str = ENCODER_NAME

    @property
    def model_version(self) -> str:
        """A short id that changes whenever the weights, frameworks or training data change."""
        digest = hashlib.sha256()
        for task in sorted(self.heads):
            digest.update(self.heads[task].coef_.tobytes())
            digest.update(self.heads[task].intercept_.tobytes())
        if self.principles is not None:
            digest.update(self.principles.coef_.tobytes())
        for task in sorted(self.text_heads):
            digest.update(self.text_heads[task].coef_.tobytes())
        settings = [self.frameworks, self.training_data.get("sha256"), self.joint_temperature,
                    self.use_similarity_features, self.use_cues, {t: round(h.temperature_, 8) for t, h in self.heads.items()}]
        digest.update(json.dumps(settings, sort_keys=True).encode())
        return f"heads-{digest.hexdigest()[:12]}"

    def save(self, directory: Path) -> None:
        """Write ``heads.npz`` and ``heads.json`` into ``directory`` atomically."""
        directory.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {}
        for task, head in self.heads.items():
            arrays.update(head.to_arrays(task))
        if self.principles is not None:
            arrays.update(self.principles.to_arrays(PRINCIPLES_TASK))
        for task, head in self.text_heads.items():
            arrays.update(head.to_arrays(f"text.{task}"))
        meta = {
            "format": FORMAT,
            "model_version": self.model_version,
            "encoder": self.encoder,
            "embedding_dim": EMBEDDING_DIM,
            "use_similarity_features": self.use_similarity_features,
            "use_cues": self.use_cues,
            "joint_temperature": self.joint_temperature,
            "frameworks": self.frameworks,
            "training_data": self.training_data,
            "thresholds": self.thresholds,
            "heads": {task: head.meta() for task, head in self.heads.items()},
            "principles": self.principles.meta() if self.principles is not None else None,
            "text_heads": {task: head.meta() for task, head in self.text_heads.items()},
            "metrics": self.metrics,
        }
        tmp_npz = directory / f".{ARRAYS_FILE}.{os.getpid()}.tmp.npz"
        np.savez_compressed(tmp_npz, **arrays)
        tmp_json = directory / f".{META_FILE}.{os.getpid()}.tmp"
        tmp_json.write_text(json.dumps(meta, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        tmp_npz.replace(directory / ARRAYS_FILE)
        tmp_json.replace(directory / META_FILE)

    @classmethod
    def load(cls, directory: Path) -> HeadBundle:
        """Read a bundle written by :meth:`save`. Raises :class:`ModelError` when missing or corrupt."""
        meta_path, arrays_path = directory / META_FILE, directory / ARRAYS_FILE
        if not meta_path.is_file() or not arrays_path.is_file():
            raise ModelError(f"no trained heads in {directory} (expected {META_FILE} and {ARRAYS_FILE}); "
                             "run `evidencenlp train` first")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            with np.load(arrays_path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelError(f"cannot read the heads in {directory}: {exc}") from None
        if meta.get("format") != FORMAT:
            raise ModelError(f"{meta_path}: unsupported format {meta.get('format')!r} (expected {FORMAT})")
        if meta.get("encoder") != ENCODER_NAME:
            raise ModelError(f"{meta_path}: heads were trained on encoder {meta.get('encoder')!r}, "
                             f"but this installation uses {ENCODER_NAME!r}; retrain with `evidencenlp train`")
        try:
            heads = {task: LinearHead.from_arrays(arrays, task, m) for task, m in meta["heads"].items()}
            principles = (MultiLabelHead.from_arrays(arrays, PRINCIPLES_TASK, meta["principles"])
                          if meta.get("principles") else None)
            text_heads = {task: TextHead.from_arrays(arrays, f"text.{task}", m)
                          for task, m in (meta.get("text_heads") or {}).items()}
        except (KeyError, ValueError) as exc:
            raise ModelError(f"{directory}: heads are incomplete or inconsistent ({exc})") from None
        thresholds = dict(DEFAULT_THRESHOLDS)
        thresholds.update(meta.get("thresholds") or {})
        return cls(heads=heads, principles=principles, frameworks=meta["frameworks"],
                   use_similarity_features=bool(meta.get("use_similarity_features", True)),
                   use_cues=bool(meta.get("use_cues", False)),
                   joint_temperature=float(meta.get("joint_temperature", 1.0)), text_heads=text_heads,
                   thresholds=thresholds, training_data=meta.get("training_data", {}),
                   metrics=meta.get("metrics", {}), encoder=meta["encoder"])
