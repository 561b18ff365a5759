"""Where the project's data lives: frameworks, models, training data and the embedding cache.

Installed from a wheel, ``frameworks/``, ``models/`` and ``training/`` are package data under
``evidencenlp/_data/`` and are read with :mod:`importlib.resources`. In a source checkout (an
editable install) they are the repository's top-level folders. Environment variables override both.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

#: the repository root when running from a checkout (src layout: <root>/src/evidencenlp/paths.py)
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: the folders shipped as package data inside the wheel
DATA_FOLDERS: tuple[str, ...] = ("frameworks", "models", "training")


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def packaged_dir(name: str) -> Path | None:
    """The packaged copy of ``name`` (one of :data:`DATA_FOLDERS`) inside an installed wheel, if any."""
    try:
        candidate = resources.files("evidencenlp").joinpath("_data", name)
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - the package itself is always importable
        return None
    path = Path(str(candidate))
    return path if path.is_dir() else None


def is_checkout() -> bool:
    """True when running from the source repository (the top-level data folders sit beside ``src/``)."""
    return (PROJECT_ROOT / "pyproject.toml").is_file() and (PROJECT_ROOT / "frameworks").is_dir()


def data_dir(name: str) -> Path:
    """The folder ``name`` (one of :data:`DATA_FOLDERS`): the packaged copy, else the checkout's."""
    packaged = packaged_dir(name)
    if packaged is not None:
        return packaged
    return PROJECT_ROOT / name


def frameworks_dir() -> Path:
    """Directory of framework YAML files (``EVIDENCENLP_FRAMEWORKS`` overrides)."""
    return _env_path("EVIDENCENLP_FRAMEWORKS") or data_dir("frameworks")


def models_dir() -> Path:
    """Directory of the trained classifier (``EVIDENCENLP_MODELS`` overrides)."""
    return _env_path("EVIDENCENLP_MODELS") or data_dir("models")


def training_dir() -> Path:
    """Directory of labelled training data (``EVIDENCENLP_TRAINING`` overrides)."""
    return _env_path("EVIDENCENLP_TRAINING") or data_dir("training")


def default_model_output() -> Path | None:
    """Where ``train`` saves by default: the checkout's ``models/``; ``None`` when installed from a wheel
    (the installed package is not a place to write: the user must name a folder)."""
    env = _env_path("EVIDENCENLP_MODELS")
    if env is not None:
        return env
    return PROJECT_ROOT / "models" if is_checkout() else None


def cache_dir() -> Path:
    """Embedding cache directory (``EVIDENCENLP_CACHE`` overrides; default ``~/.cache/evidencenlp``)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "evidencenlp"
    return _env_path("EVIDENCENLP_CACHE") or default


def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (seeds, reference, phase-1 data), if present."""
    return _env_path("EVIDENCENLP_SHARED") or PROJECT_ROOT.parent / "shared"
