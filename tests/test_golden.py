"""Golden test: the bundled example's suggestions stay exactly as recorded for the shipped model.

A refactor must leave ``tests/data/golden_example.json`` untouched; retraining changes the model
version, and then the file is regenerated on purpose with ``python tests/data/make_golden.py``.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_golden", DATA / "make_golden.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _compare(expected: object, actual: object, path: str = "") -> list[str]:
    """Differences between two JSON values; floats may differ by 1e-4 (BLAS summation order)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        if set(expected) != set(actual):
            return [f"{path}: keys {sorted(set(expected) ^ set(actual))} differ"]
        return [d for k in expected for d in _compare(expected[k], actual[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [f"{path}: {len(expected)} items expected, {len(actual)} found"]
        return [d for i, (e, a) in enumerate(zip(expected, actual)) for d in _compare(e, a, f"{path}[{i}]")]
    if isinstance(expected, float) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return [] if abs(expected - actual) <= 1e-4 else [f"{path}: {expected} != {actual}"]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


def test_bundled_example_suggestions_match_the_golden_file(suggester) -> None:
    expected = json.loads((DATA / "golden_example.json").read_text(encoding="utf-8"))
    recorded = {r["suggestion"]["model_version"] for r in expected if r["suggestion"]}
    assert recorded == {suggester.model_version}, (
        f"golden file recorded for {recorded}, shipped model is {suggester.model_version}: "
        "after retraining, run `python tests/data/make_golden.py` and review the diff")
    actual = json.loads(json.dumps(_load_maker().golden(suggester)))
    differences = _compare(expected, actual)
    assert not differences, "\n".join(differences[:20])
