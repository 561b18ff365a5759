"""Models derived once from the packaged weights (onnx-int8, static) and kept in the cache folder."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from evidencenlp.encoder.base import ENCODER_NAME, log, model_path


def weights_key(recipe: str, *versions: str) -> str:
    """A short key naming a derived model: the packaged weights (size, name), the recipe and library versions."""
    weights = model_path() / "model.safetensors"
    size = weights.stat().st_size if weights.is_file() else 0
    return hashlib.sha256("|".join([ENCODER_NAME, str(size), recipe, *versions]).encode()).hexdigest()[:12]


def backend_dir(name: str) -> Path:
    """``<cache>/backends/<name>``: where a derived model is kept."""
    from evidencenlp.paths import cache_dir

    return cache_dir() / "backends" / name


def build_once(folder: Path, product: str, what: str, how_long: str, make: Callable[[Path], None]) -> Path:
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
