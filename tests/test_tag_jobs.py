"""``tag --jobs N``: chunks tagged by worker processes give exactly the single-process output (issue 24).

The slow tests start real worker processes with the static backend; the others check the options and
the choice of the number of processes without starting any.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.tagging import SuggesterSpec, TagOptions, check_engine, parts_dir, tag
from evidencenlp.tagging.pool import ChunkPool, default_jobs, usable_cores
from evidencenlp.tagging.run import local_jobs

NOTES = [
    "Staff were kind and the ward was clean.",
    "",
    "Mrs Jane Patel (NHS number 943 476 5919) fell twice at night; call 07700 900123.",
    "Las enfermeras fueron muy amables con mi madre durante toda la estancia.",
    "N/A",
    "Medicines were not stored safely. The fridge log had gaps. Staff did not know the policy.",
    "Good",
    "The GP never calls back and the receptionist was rude on the phone.",
    "Waiting",
    "Call bells were answered quickly; people were treated with dignity and respect.",
]


def _write(tmp_path: Path, rows: int, name: str = "notes.csv") -> Path:
    src = tmp_path / name
    pd.DataFrame({"id": range(rows), "text": [NOTES[i % len(NOTES)] + ("" if i % 3 else f" Visit {i}.")
                                              for i in range(rows)]}).to_csv(src, index=False)
    return src


SPEC = SuggesterSpec(backend="static")


@pytest.mark.slow
@pytest.mark.parametrize("ext", [".csv", ".jsonl"])
def test_two_jobs_write_the_single_process_bytes(tmp_path: Path, ext: str) -> None:
    src = _write(tmp_path, 230)
    one, two = tmp_path / f"one{ext}", tmp_path / f"two{ext}"
    a = tag(src, one, TagOptions(chunk_rows=40, jobs=1), SPEC)
    rows: list[int] = []
    b = tag(src, two, TagOptions(chunk_rows=40, jobs=2), SPEC, on_rows=rows.append)
    assert one.read_bytes() == two.read_bytes()
    assert rows == [40] * 5 + [30]  # progress: one call per saved chunk, in order
    assert (a.rows, a.tagged, a.blank, a.needs_review, a.abstained, a.redactions) == \
        (b.rows, b.tagged, b.blank, b.needs_review, b.abstained, b.redactions)
    assert not parts_dir(two).exists()


class _Stop(Exception):
    """Stands for an interruption (Ctrl-C, a killed run) after some chunks were saved."""


@pytest.mark.slow
def test_an_interrupted_two_job_run_resumes_to_the_same_output(tmp_path: Path) -> None:
    src = _write(tmp_path, 200)
    whole, out = tmp_path / "whole.csv", tmp_path / "out.csv"
    tag(src, whole, TagOptions(chunk_rows=32, jobs=1), SPEC)

    def stop_after_two(_: int, seen: list[int] = []) -> None:  # noqa: B006 - a counter kept between calls
        seen.append(1)
        if len(seen) == 2:
            raise _Stop

    with pytest.raises(_Stop):
        tag(src, out, TagOptions(chunk_rows=32, jobs=2), SPEC, on_rows=stop_after_two)
    saved = sorted(p.name for p in parts_dir(out).glob("part-*.parquet"))
    assert saved == ["part-000000.parquet", "part-000001.parquet"]  # saved in order, none after the stop
    assert not out.exists()
    summary = tag(src, out, TagOptions(chunk_rows=32, jobs=2, resume=True), SPEC)
    assert summary.resumed_from_row == 64 and summary.rows == 200
    assert out.read_bytes() == whole.read_bytes()


@pytest.mark.slow
def test_a_bad_row_keeps_the_chunks_before_it_as_one_process_does(tmp_path: Path) -> None:
    notes = pd.read_csv(_write(tmp_path, 150), keep_default_na=False)
    notes.loc[130, "text"] = "x" * 40_000  # more than an Excel cell holds: refused before it is tagged
    src = tmp_path / "long.csv"
    notes.to_csv(src, index=False)
    kept = {}
    for jobs in (1, 2):
        out = tmp_path / f"out{jobs}.xlsx"
        with pytest.raises(InputFileError, match="data row 131"):
            tag(src, out, TagOptions(chunk_rows=25, jobs=jobs), SPEC)
        kept[jobs] = [pd.read_parquet(p) for p in sorted(parts_dir(out).glob("part-*.parquet"))]
    assert len(kept[1]) == len(kept[2]) == 5
    for a, b in zip(kept[1], kept[2]):
        pd.testing.assert_frame_equal(a, b)


def test_default_jobs_follow_the_backend() -> None:
    assert default_jobs("torch") == default_jobs("onnx-int8") == 1
    assert default_jobs("static") == usable_cores() >= 1


def test_jobs_never_exceed_the_chunks_of_the_input(tmp_path: Path) -> None:
    src = _write(tmp_path, 100)
    assert local_jobs(src, TagOptions(chunk_rows=60, jobs=8), SPEC) == 2
    assert local_jobs(src, TagOptions(chunk_rows=100, jobs=8), SPEC) == 1
    assert local_jobs(src, TagOptions(chunk_rows=10, jobs=3), SPEC) == 3
    assert local_jobs(src, TagOptions(chunk_rows=10), SuggesterSpec(backend="torch")) == 1
    assert local_jobs(src, TagOptions(chunk_rows=10), SPEC) == min(usable_cores(), 10)


@pytest.mark.parametrize(("engine", "options", "message"), [
    ("dask", TagOptions(jobs=2), "--jobs applies to --engine local only"),
    ("local", TagOptions(jobs=0), "--jobs must be at least 1"),
])
def test_jobs_options_are_checked_first(engine: str, options: TagOptions, message: str) -> None:
    with pytest.raises(InputFileError, match=message):
        check_engine(engine, options)


def test_a_pool_refuses_no_workers() -> None:
    with pytest.raises(InputFileError, match="at least 1"):
        ChunkPool(SPEC, 0)
