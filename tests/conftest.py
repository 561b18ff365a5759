"""Shared fixtures. The real encoder and the shipped classifier are loaded once per test session.

Tests never write to the user's real cache: every embedding cache goes to ``<repo>/.cache/tests``
(git-ignored; ``EVIDENCENLP_TEST_CACHE`` overrides), set before anything from the package is imported.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ["EVIDENCENLP_CACHE"] = os.environ.get("EVIDENCENLP_TEST_CACHE", str(REPO / ".cache" / "tests"))


@pytest.fixture(scope="session")
def repo() -> Path:
    """The repository root."""
    return REPO


@pytest.fixture(scope="module")
def rules():
    """The shipped frameworks' rating rules (``evidencenlp.assess.load_rules``), for the assess tests."""
    from evidencenlp.assess import load_rules

    return load_rules()[2]


@pytest.fixture(scope="module")
def tax(rules):
    """The taxonomy of :func:`rules`."""
    return rules.taxonomy


@pytest.fixture(scope="session")
def suggester():
    """The real Suggester (offline encoder from site-packages, shipped classifier), built once."""
    from evidencenlp.suggest import Suggester

    return Suggester.load()
