"""Where the project's data lives: frameworks, models, training data and the embedding cache."""

from __future__ import annotations

import os
from pathlib import Path

#: the repository root when running from a checkout (src layout: <root>/src/evidencenlp/paths.py)
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _env_path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else default


def frameworks_dir() -> Path:
    """Directory of framework YAML files (``EVIDENCENLP_FRAMEWORKS`` overrides)."""
    return _env_path("EVIDENCENLP_FRAMEWORKS", PROJECT_ROOT / "frameworks")


def models_dir() -> Path:
    """Directory of trained heads (``EVIDENCENLP_MODELS`` overrides)."""
    return _env_path("EVIDENCENLP_MODELS", PROJECT_ROOT / "models")


def training_dir() -> Path:
    """Directory of labelled training data (``EVIDENCENLP_TRAINING`` overrides)."""
    return _env_path("EVIDENCENLP_TRAINING", PROJECT_ROOT / "training")


def cache_dir() -> Path:
    """Embedding cache directory (``EVIDENCENLP_CACHE`` overrides; default ``~/.cache/evidencenlp``)."""
    default = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "evidencenlp"
    return _env_path("EVIDENCENLP_CACHE", default)


def shared_dir() -> Path:
    """The ``shared/`` folder beside the checkout (seeds, reference, phase-1 data), if present."""
    return _env_path("EVIDENCENLP_SHARED", PROJECT_ROOT.parent / "shared")
