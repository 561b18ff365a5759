"""The wheel works outside the checkout: packaged frameworks, model and training data; no repo paths."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from the repository and install it (no dependencies) into a folder outside it."""
    dist = tmp_path_factory.mktemp("dist")
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "--no-build-isolation",
                            "-q", "-w", str(dist)], capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list(dist.glob("evidencenlp-*.whl"))
    assert len(wheels) == 1
    target = tmp_path_factory.mktemp("site")
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
                              str(wheels[0])], capture_output=True, text=True, timeout=300)
    assert install.returncode == 0, install.stderr[-2000:]
    names = zipfile.ZipFile(wheels[0]).namelist()
    for member in ("evidencenlp/_data/frameworks/cqc-saf-2023.yaml", "evidencenlp/_data/models/heads.npz",
                   "evidencenlp/_data/models/heads.json", "evidencenlp/_data/training/phase1_mapping.yaml",
                   "evidencenlp/py.typed", "evidencenlp/schemas/framework.schema.json"):
        assert member in names, member
    return target


def _run(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVIDENCENLP_") or k == "EVIDENCENLP_CACHE"}
    env["PYTHONPATH"] = str(target)
    env["COLUMNS"] = "200"
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=600)


@pytest.mark.slow
def test_wheel_runs_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    where = _run(installed, "-c", "import evidencenlp, evidencenlp.paths as p; "
                 "print(evidencenlp.__file__); print(p.frameworks_dir()); print(p.models_dir())", cwd=tmp_path)
    assert where.returncode == 0, where.stderr
    module, frameworks, models = where.stdout.split()
    assert all(Path(x).is_relative_to(installed) for x in (module, frameworks, models)), where.stdout

    listed = _run(installed, "-m", "evidencenlp", "frameworks", "list", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "cqc-saf-2023" in listed.stdout and "kingsfund-outstanding-2026" in listed.stdout

    classified = _run(installed, "-m", "evidencenlp", "classify", "Call bell rang for 20 minutes and nobody came.",
                      "--format", "json", cwd=tmp_path)
    assert classified.returncode == 0, classified.stderr
    out = json.loads(classified.stdout)
    assert out["statement"]["label"].startswith(out["key_question"]["label"] + ".")

    cloned = _run(installed, "-c", "from sklearn.base import clone; from evidencenlp import EvidenceClassifier; "
                  "print(type(clone(EvidenceClassifier(C=0.5))).__name__, clone(EvidenceClassifier(C=0.5)).C)",
                  cwd=tmp_path)
    assert cloned.returncode == 0, cloned.stderr
    assert cloned.stdout.split() == ["EvidenceClassifier", "0.5"]


def test_version_is_defined_once() -> None:
    import evidencenlp

    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert 'dynamic = ["version"]' in pyproject and "\nversion =" not in pyproject
    assert evidencenlp.__version__.count(".") == 2
