"""Shared fixtures. The real encoder and the shipped heads are loaded once per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="session")
def suggester(tmp_path_factory: pytest.TempPathFactory):
    """The real Suggester (offline encoder from site-packages, shipped heads), built once."""
    os.environ.setdefault("EVIDENCENLP_CACHE", str(tmp_path_factory.mktemp("cache")))
    from evidencenlp.suggest import Suggester

    return Suggester.load()
