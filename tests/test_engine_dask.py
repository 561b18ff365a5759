"""``tag --engine dask``: partitions tagged on dask worker processes give the single-process output.

Partition planning is checked against the single-process reader on every bad input of the fuzz suite
(no cluster needed). One local cluster of two worker processes is shared by the module's cluster
tests; the CLI test starts its own (``--workers 2``), as a user would.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest

from evidencenlp.errors import InputFileError
from evidencenlp.partitions import make_source, plan_partitions, read_partition
from evidencenlp.tabular import iter_chunks, read_table, write_table
from evidencenlp.tagging import FLAT_COLUMNS, SuggesterSpec, parts_dir, tag_file, tag_file_dask
from evidencenlp.tagging import dask as engine
from test_fuzz_tag import CASES, MARK
from test_tag_safety import Fake

REPO = Path(__file__).resolve().parents[1]
ROWS = 38
PART = 10  # 4 partitions: 10, 10, 10, 8 rows
#: a note over several lines, quoted in the CSV, with identifiers to redact
MULTILINE = "Obs ward 3, 14:10:\nCall bell rang for 11 minutes\nand \"no one came\".\n\nRing Mrs K on 07700 900123."
SCORES = [c for c in FLAT_COLUMNS if c.endswith("_score")]


class Started(Exception):
    """Raised instead of starting a cluster, to prove every check ran before it."""


def no_cluster(*args: Any, **kwargs: Any) -> Any:
    raise Started


@pytest.fixture(scope="module")
def notes_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """38 real corpus notes with a blank row, a multi-line quoted note and a formula-like cell."""
    corpus = pd.read_csv(REPO / "training" / "corpus" / "notes_d.csv", dtype=str, keep_default_na=False)
    frame = corpus[["note_id", "text", "service"]].iloc[:ROWS].reset_index(drop=True)
    frame.loc[5, "text"] = ""
    frame.loc[9, "text"] = MULTILINE
    frame.loc[12, "service"] = "=HYPERLINK(\"x\")"
    src = tmp_path_factory.mktemp("notes") / "notes.csv"
    write_table(frame, src)
    assert src.read_text(encoding="utf-8").count("\n") > ROWS + 1  # the quoted note really spans lines
    return src


@pytest.fixture(scope="module")
def reference(suggester, notes_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[pd.DataFrame, Any]:
    """The single-process output (``tag_file``, same chunk size) and its summary."""
    out = tmp_path_factory.mktemp("reference") / "tagged.parquet"
    summary = tag_file(suggester, notes_csv, out, "text", chunk_rows=PART)
    return pd.read_parquet(out), summary


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A local cluster of two single-threaded worker processes, shared by this module's tests."""
    import dask
    from distributed import LocalCluster

    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


def assert_same_tags(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Row for row the same: every column exactly, except scores within 1e-3.

    The workers run torch with one thread while the test process may use several, so a matrix
    product can sum in another order and a score rounded to 4 decimals may differ in its last digit.
    """
    assert list(got.columns) == list(expected.columns)
    pd.testing.assert_frame_equal(got.drop(columns=SCORES), expected.drop(columns=SCORES))
    for column in SCORES:
        pd.testing.assert_series_equal(got[column], expected[column], atol=1e-3, rtol=0)


# -- no cluster: partitions and validation -----------------------------------------------------------


def _args(args: list[str]) -> dict[str, Any]:
    return {"delimiter": args[args.index("--delimiter") + 1]} if "--delimiter" in args else {}


def _assert_partitions_read_like_the_file(src: Path, delimiter: str | None, partition_rows: int) -> None:
    expected = pd.concat(list(iter_chunks(src, delimiter=delimiter)))
    source = make_source(src, [str(c) for c in expected.columns], delimiter=delimiter)
    source, parts = plan_partitions(source, partition_rows, len(expected))
    assert all(0 < p.rows <= partition_rows for p in parts)
    got = pd.concat([read_partition(source, p) for p in parts])
    if source.fmt == "jsonl":  # JSONL dtypes are inferred per chunk (as tag_file does): compare the values
        got, expected = (f.astype(object).where(f.notna(), None) for f in (got, expected))
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize("case", [c for c in CASES if not c[1].endswith(".xlsx")], ids=lambda c: c[0])
def test_same_checks_and_rows_as_the_single_process_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           case: tuple[str, str, Any, list[str], Any]) -> None:
    name, filename, content, args, _ = case
    src = tmp_path / filename
    src.write_bytes(content() if callable(content) else content)
    out = tmp_path / ("out.jsonl" if src.suffix == ".parquet" else "out.parquet")
    options = _args(args)
    try:
        tag_file(Fake(), src, out, "text", **options)
        local_error = None
    except InputFileError as exc:
        local_error = str(exc)
    out.unlink(missing_ok=True)
    monkeypatch.setattr(engine, "_client", no_cluster)
    with pytest.raises((InputFileError, Started)) as caught:
        tag_file_dask(SuggesterSpec(), src, out, "text", partition_rows=1, **options)
    from evidencenlp.tabular import is_wide_encoding, resolve_encoding

    if local_error is None and is_wide_encoding(resolve_encoding(src, options.get("encoding", "utf-8"))):
        assert "--engine dask cannot split UTF-16" in str(caught.value)  # read locally, refused for byte ranges
    elif local_error is None:
        assert caught.type is Started, caught.value  # every check passed, then the cluster would start
        for rows in (1, 2):
            _assert_partitions_read_like_the_file(src, options.get("delimiter"), rows)
    else:
        assert str(caught.value) == local_error
    assert MARK.lower() not in str(caught.value).lower()
    assert not parts_dir(out).exists() and not out.exists()


def test_multiline_csv_partitions_split_between_records(notes_csv: Path) -> None:
    for rows in (1, 3, PART, 100):
        _assert_partitions_read_like_the_file(notes_csv, None, rows)
    frame = pd.concat(list(iter_chunks(notes_csv)))
    source, parts = plan_partitions(make_source(notes_csv, list(frame.columns)), PART, len(frame))
    assert [(p.row_start, p.rows) for p in parts] == [(0, 10), (10, 10), (20, 10), (30, 8)]
    assert read_partition(source, parts[0]).loc[9, "text"] == MULTILINE


@pytest.mark.parametrize("make,expected", [
    (lambda d: d.rename(columns={"text": "note"}), "no column 'text'; columns found: 'note_id', 'note', 'service'"),
    (lambda d: d.assign(band="given"), "already has column(s) band"),
])
def test_validation_fails_before_any_cluster_or_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      make: Any, expected: str) -> None:
    monkeypatch.setattr(engine, "_client", lambda *a, **k: pytest.fail("a cluster was started"))
    src, out = tmp_path / "in.csv", tmp_path / "out.parquet"
    write_table(make(pd.DataFrame({"note_id": ["a", "b"], "text": ["Fall on stairs.", "Kind staff."],
                                   "service": ["x", "y"]})), src)
    with pytest.raises(InputFileError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        tag_file_dask(SuggesterSpec(), src, out, "text")
    assert not parts_dir(out).exists() and not out.exists()


@pytest.mark.parametrize("address,expected", [
    ("", "--scheduler needs the address of a running dask scheduler"),
    ("   ", "--scheduler needs the address"),
    ("http://127.0.0.1:8787", "not http:// (that is the dashboard's address"),
    ("tcp://host:0", "the port must be between 1 and 65535"),
    ("tcp://host:70000", "the port must be between 1 and 65535"),
    ("tcp://a b:8786", "is not a dask scheduler address"),
    ("inproc://x", "not inproc://"),
])
def test_scheduler_address_refused_before_anything(address: str, expected: str) -> None:
    with pytest.raises(InputFileError, match=re.escape(expected)):
        engine.check_scheduler_address(address)


@pytest.mark.parametrize("address,normal", [
    ("tcp://10.0.0.5:8786", "tcp://10.0.0.5:8786"), ("10.0.0.5", "tcp://10.0.0.5:8786"),
    ("TLS://sched.example:9000", "tls://sched.example:9000"), ("tcp://[::1]:8786", "tcp://[::1]:8786"),
    ("ws://host:8786/", "ws://host:8786"),
])
def test_scheduler_address_normalised(address: str, normal: str) -> None:
    assert engine.check_scheduler_address(address) == normal


def test_refused_scheduler_is_one_line_at_once(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nothing listens on: bound, never listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        with pytest.raises(InputFileError, match="the connection was refused"):
            engine.probe_scheduler(f"tcp://127.0.0.1:{port}", seconds=30)


def test_tls_scheduler_without_certificates_is_one_line() -> None:
    with pytest.raises(InputFileError, match="needs TLS certificates in the dask configuration"):
        engine.probe_scheduler("tls://127.0.0.1:1")


def test_unknown_host_is_one_line() -> None:
    with pytest.raises(InputFileError, match="no host named 'no-such-host.invalid'"):
        engine.probe_scheduler("tcp://no-such-host.invalid:8786")


def test_a_service_that_is_not_a_scheduler_is_one_line(tmp_path: Path) -> None:
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    held: list[socket.socket] = []

    def accept() -> None:  # accepts and never answers, as a web server waiting for HTTP would
        for _ in range(2):
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    try:
        with pytest.raises(InputFileError, match="no dask scheduler answered within 2 s|not a dask scheduler"):
            engine.probe_scheduler(f"tcp://127.0.0.1:{port}", seconds=2)
    finally:
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("address,expected", [
    ("", "--scheduler needs the address"), ("http://localhost:8787", "not http://"),
])
def test_cli_scheduler_address_is_checked_first(tmp_path: Path, address: str, expected: str) -> None:
    from typer.testing import CliRunner

    from evidencenlp.cli import app

    src = tmp_path / "in.csv"
    write_table(pd.DataFrame({"text": ["a note"]}), src)
    result = CliRunner().invoke(app, ["tag", str(src), "-o", str(tmp_path / "out.csv"), "--engine", "dask",
                                      "--scheduler", address])
    assert result.exit_code == 2 and expected in " ".join(result.output.split())
    assert not (tmp_path / "out.csv").exists()


def test_xlsx_input_is_refused_with_what_to_do(tmp_path: Path) -> None:
    src = tmp_path / "in.xlsx"
    write_table(pd.DataFrame({"text": ["a note"]}), src)
    with pytest.raises(InputFileError, match=r"--engine dask reads .csv, .tsv, .jsonl and .parquet.*--engine local"):
        tag_file_dask(SuggesterSpec(), src, tmp_path / "out.csv", "text")


# -- on a local cluster -----------------------------------------------------------------------------


def test_output_equals_single_process_output(scheduler: str, notes_csv: Path, reference: tuple[pd.DataFrame, Any],
                                             tmp_path: Path) -> None:
    expected, local = reference
    out = tmp_path / "tagged.parquet"
    events: list[str] = []
    rows: list[int] = []
    summary = tag_file_dask(SuggesterSpec(), notes_csv, out, "text", partition_rows=PART, scheduler=scheduler,
                            on_event=events.append, on_rows=rows.append)
    assert_same_tags(pd.read_parquet(out), expected)
    assert "07700" not in " ".join(pd.read_parquet(out)["text"])  # redacted
    assert (summary.rows, summary.tagged, summary.blank, summary.needs_review) == \
        (local.rows, local.tagged, local.blank, local.needs_review) == (ROWS, ROWS - 1, 1, local.needs_review)
    assert summary.redactions == local.redactions and summary.abstained == local.abstained
    assert sorted(rows) == [8, 10, 10, 10] and not parts_dir(out).exists()
    assert any("2 dask worker(s) ready" in e for e in events) and any("4 partition(s)" in e for e in events)


def _interrupted_run(scheduler: str, src: Path, out: Path) -> None:
    """Stop after the first saved partition, as a Ctrl-C would."""

    def stop(rows: int) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tag_file_dask(SuggesterSpec(), src, out, "text", partition_rows=PART, scheduler=scheduler, on_rows=stop)


def test_resume_tags_only_the_missing_partitions(scheduler: str, notes_csv: Path,
                                                 reference: tuple[pd.DataFrame, Any], tmp_path: Path) -> None:
    out = tmp_path / "tagged.jsonl"
    _interrupted_run(scheduler, notes_csv, out)
    folder = parts_dir(out)
    saved = sorted(folder.glob("part-*.parquet"))
    assert len(saved) == 1 and not out.exists()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["engine"] == "dask" and manifest["partitions"] == [[0, 10], [10, 10], [20, 10], [30, 8]]
    # mark the saved partition: a resume must keep it, not tag it again
    part = pq.read_table(saved[0]).to_pandas()
    part["band"] = "kept-from-first-run"
    part.to_parquet(saved[0], index=False)
    with pytest.raises(InputFileError, match="--resume"):
        tag_file_dask(SuggesterSpec(), notes_csv, out, "text", partition_rows=PART, scheduler=scheduler)
    with pytest.raises(InputFileError, match=r"cannot resume: the interrupted run split the input into 4 "
                                             r"partitions of up to 10 rows.*--chunk-size 10"):
        tag_file_dask(SuggesterSpec(), notes_csv, out, "text", partition_rows=20, resume=True, scheduler=scheduler)
    with pytest.raises(InputFileError, match="cannot resume: the interrupted run used --engine dask"):
        tag_file(Fake(model_version=manifest["model_version"]), notes_csv, out, "text", chunk_rows=PART, resume=True)
    rows: list[int] = []
    summary = tag_file_dask(SuggesterSpec(), notes_csv, out, "text", partition_rows=PART, resume=True,
                            scheduler=scheduler, on_rows=rows.append)
    assert len(rows) == 3 and summary.resumed_from_row == len(part) and summary.rows == ROWS
    result = read_table(out)
    expected = reference[0]
    assert result["note_id"].tolist() == expected["note_id"].tolist()
    kept = result["note_id"].isin(part["note_id"])
    assert (result.loc[kept, "band"] == "kept-from-first-run").all()
    assert result.loc[~kept, "band"].fillna("").tolist() == expected.loc[~kept.to_numpy(), "band"].fillna("").tolist()
    assert not folder.exists()


def test_summarise_raw_input_on_the_cluster(scheduler: str, tmp_path: Path) -> None:

    from evidencenlp.trends import SummaryConfig, summarise_file

    raw = pd.read_csv(REPO / "examples" / "feedback.csv", dtype=str, keep_default_na=False).iloc[:24].copy()
    raw.loc[raw.index[0], "text"] = "Call 07700 900123 about Mum, the call bell went unanswered for an hour."
    src = tmp_path / "raw.csv"
    write_table(raw, src)
    with pytest.MonkeyPatch.context() as mp:  # the driver never loads a Suggester (the workers do)
        mp.setattr(SuggesterSpec, "load", lambda self: pytest.fail("a Suggester was loaded in the driver"))
        s = summarise_file(src, SummaryConfig(period="week"), suggester=SuggesterSpec(), engine="dask",
                           scheduler=scheduler)
    assert s.rows == 24 and s.tagged == 24
    assert not any("07700" in t for ex in s.groups["examples"] for t in ex)


# -- the command line (its own local cluster) -------------------------------------------------------


@pytest.mark.slow  # a whole CLI process with its own two-worker cluster (~60-90 s); CI runs it in the slow step
def test_cli_engine_dask_with_two_local_workers(notes_csv: Path, reference: tuple[pd.DataFrame, Any],
                                                tmp_path: Path) -> None:
    out = tmp_path / "tagged.csv"
    proc = subprocess.run([sys.executable, "-m", "evidencenlp", "tag", str(notes_csv), "-o", str(out),
                           "--engine", "dask", "--workers", "2", "--chunk-size", str(PART)],
                          capture_output=True, text=True, env=dict(os.environ), timeout=300)
    assert proc.returncode == 0, proc.stderr
    stderr = " ".join(proc.stderr.split())  # rich wraps long lines
    assert "starting a local dask cluster: 2 worker process(es)" in stderr
    assert "2 dask worker(s) ready" in stderr and f"wrote {out}: {ROWS} rows" in stderr
    assert "Traceback" not in stderr and "ERROR" not in stderr
    assert "unanswered" not in proc.stderr and "Call bell" not in proc.stderr  # no note text
    result = pd.read_csv(out, dtype=str, keep_default_na=False)
    expected = reference[0]
    assert result["note_id"].tolist() == expected["note_id"].tolist()
    assert result["statement"].tolist() == expected["statement"].fillna("").tolist()
    assert result.loc[12, "service"].startswith("'=")  # formula neutralised in a spreadsheet output
    assert "[PHONE]" in result.loc[9, "text"] and "\n" in result.loc[9, "text"]


@pytest.mark.parametrize("command", ["tag", "summarise"])
@pytest.mark.parametrize("args,expected", [
    (["--workers", "2"], "--scheduler and --workers apply to --engine dask only"),
    (["--engine", "dask", "--workers", "2", "--scheduler", "tcp://localhost:8786"], "--workers sets the size of a local"),
])
def test_cli_engine_options_are_checked(tmp_path: Path, command: str, args: list[str], expected: str) -> None:
    from typer.testing import CliRunner

    from evidencenlp.cli import app

    src = tmp_path / "in.csv"
    write_table(pd.DataFrame({"text": ["a note"], "date": ["2024-01-01"], "location": ["x"]}), src)
    result = CliRunner().invoke(app, [command, str(src), *(["-o", str(tmp_path / "out.csv")] if command == "tag" else []),
                                      *args])
    assert result.exit_code == 2 and expected in " ".join(result.output.split())
