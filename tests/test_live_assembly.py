"""The output assembled part by part while a run goes on (:class:`LiveAssembly`) has the bytes of the
output :func:`assemble` writes from the same parts at the end: in every format (an .xlsx is always
assembled at the end), when a later part changes the parquet schema and when a part cannot be read
(then it falls back to :func:`assemble`)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidencenlp.tagging.parts import LiveAssembly, assemble, parts_dir, save_part

MANIFEST = {"what": "test"}


def _parts(output: Path, frames: list[pd.DataFrame]) -> list[Path]:
    return [save_part(output, MANIFEST, i, frame, source="in.csv", rows=f"part {i}") for i, frame in enumerate(frames)]


def _both(tmp_path: Path, ext: str, frames: list[pd.DataFrame]) -> tuple[bytes, bytes, LiveAssembly]:
    """The bytes written by :func:`assemble` and by a :class:`LiveAssembly` fed the same parts."""
    old, new = tmp_path / f"old{ext}", tmp_path / f"new{ext}"
    _parts(old, frames)
    assemble(old)
    live = LiveAssembly(new)
    for part in _parts(new, frames):
        live.add(part)
    live.finish()
    assert not parts_dir(new).exists()
    return old.read_bytes(), new.read_bytes(), live


FRAMES = [
    pd.DataFrame({"id": [1, 2], "text": ["=SUM(A1)", "kind staff"], "score": [0.5, None], "flag": [None, None]}),
    pd.DataFrame({"id": [3], "text": ["café"], "score": [0.25], "flag": ["yes"]}),
    pd.DataFrame({"id": [4, 5], "text": [None, "x"], "score": [1.0, 2.0], "flag": [None, "no"]}),
]


@pytest.mark.parametrize("ext", [".csv", ".tsv", ".jsonl", ".parquet", ".xlsx"])
def test_live_output_has_the_bytes_of_assemble(tmp_path: Path, ext: str) -> None:
    old, new, _ = _both(tmp_path, ext, FRAMES)
    if ext == ".xlsx":  # a workbook's zip entries carry a timestamp: compare the cells
        pd.testing.assert_frame_equal(pd.read_excel(tmp_path / "old.xlsx"), pd.read_excel(tmp_path / "new.xlsx"))
    else:
        assert old == new


def test_a_part_that_changes_the_parquet_schema_falls_back_to_assemble(tmp_path: Path) -> None:
    frames = [pd.DataFrame({"id": [1], "code": [7]}), pd.DataFrame({"id": [2], "code": ["A7"]})]
    old, new, live = _both(tmp_path, ".parquet", frames)
    assert old == new
    assert pd.read_parquet(tmp_path / "new.parquet")["code"].tolist() == ["7", "A7"]
    assert not list(tmp_path.glob(".new.parquet.*.writing"))  # the dropped live file is gone


def test_parts_it_did_not_see_make_it_assemble(tmp_path: Path) -> None:
    output = tmp_path / "out.csv"
    parts = _parts(output, FRAMES)
    live = LiveAssembly(output)
    live.add(parts[0])  # the others were saved but never added
    live.finish()
    assert pd.read_csv(output)["id"].tolist() == [1, 2, 3, 4, 5]


def test_a_part_it_cannot_read_makes_it_give_up_and_fail_as_assemble_does(tmp_path: Path) -> None:
    old, new = tmp_path / "old.csv", tmp_path / "new.csv"
    for output in (old, new):
        _parts(output, FRAMES)[1].write_bytes(b"not parquet")
    with pytest.raises(Exception) as assembled:
        assemble(old)
    live = LiveAssembly(new)
    for part in sorted(parts_dir(new).glob("part-*.parquet")):
        live.add(part)  # gives up at the second part, quietly
    assert list(tmp_path.glob(".new.csv.*.writing")) == []  # the live file is dropped at once
    with pytest.raises(type(assembled.value)):
        live.finish()
    assert parts_dir(new).is_dir() and not new.exists()
