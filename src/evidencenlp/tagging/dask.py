"""The dask engine: partitions of a table tagged in parallel, one Suggester per worker process (``--engine dask``).

How a run goes (:func:`tag_file_dask`):

1. **Validate on the driver**, before any cluster or parts folder exists: the same checks and the
   same one-line errors as :func:`evidencenlp.tagging.local.tag_file` (file, encoding, header, text
   column, ``--prefix`` clashes, bad cells), by reading the whole file once with the single-process
   reader.
2. **Plan partitions** (:mod:`evidencenlp.partitions`): row ranges of at most ``partition_rows``
   rows; CSV record boundaries come from a real CSV parse, so a quoted note with newlines is never
   split. Each partition is read by a worker *by path* with ``dask.dataframe.from_map``.
3. **Start or join a cluster**: a local ``distributed.LocalCluster`` of ``workers`` processes with
   one thread each, or the scheduler at ``scheduler`` — its address checked first
   (:func:`check_scheduler_address`), then probed with a dask handshake that gives up after
   :data:`CONNECT_SECONDS` (:func:`probe_scheduler`), so a wrong address is one line, quickly.
   Every worker loads its Suggester once, cached in the worker process by :class:`SuggesterSpec`,
   (:func:`~evidencenlp.tagging.spec.worker_suggester`) and reports its model version (they must agree).
4. **Tag**: each partition is tagged on a worker (:func:`tag_partition`); results come back to the
   driver, which saves each as ``part-NNNNNN.parquet`` (NNNNNN = partition number) in the same parts
   folder as ``tag_file`` (:mod:`evidencenlp.tagging.parts`). The manifest records the engine and the partition boundaries: a rerun
   with ``resume=True`` tags only the missing partitions, and refuses another partitioning.
5. **Assemble** the parts in partition order into the output (atomic rename), exactly as
   ``tag_file`` does. The cluster is closed on success, on error and on Ctrl-C.

The output equals the single-process output row for row. Nothing here prints or logs note text.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import re
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from evidencenlp.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_DASK_WORKERS
from evidencenlp.errors import EvidenceNLPError, InputFileError
from evidencenlp.partitions import (
    Partition,
    TableSource,
    make_source,
    plan_partitions,
    read_partition,
    require_byte_splittable,
    require_partitioned,
)
from evidencenlp.tabular import ReadReport, iter_chunks
from evidencenlp.tagging.checks import check_chunk, check_columns, check_paths
from evidencenlp.tagging.chunk import TagSummary, tag_rows
from evidencenlp.tagging.parts import (
    check_output,
    clean_stale_temp_files,
    finish_output,
    make_manifest,
    open_parts,
    parts_dir,
    save_part,
    saved_rows,
)
from evidencenlp.tagging.spec import SuggesterSpec, warm_up, worker_suggester

if TYPE_CHECKING:
    from distributed import Client

#: worker processes of the local cluster when none is given
DEFAULT_WORKERS = DEFAULT_DASK_WORKERS
#: how long to wait for the first worker to join a remote scheduler, and for the models to load
WAIT_SECONDS = 900.0
_ENGINE = "dask"
#: how long to wait for a dask scheduler to answer when connecting (the TCP connection and dask's handshake)
CONNECT_SECONDS = 10.0
#: the address schemes of a dask scheduler reachable from another machine
SCHEDULER_SCHEMES: tuple[str, ...] = ("tcp", "tls", "ws", "wss")
#: the port ``dask scheduler`` listens on by default (used when an address names none)
DEFAULT_SCHEDULER_PORT = 8786
_ADDRESS = re.compile(r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
                      r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d+))?/?")
#: manifest keys that may differ on resume (or are compared separately)
_NOT_COMPARED = ("chunk_rows", "partitions", "engine", "model_version")


@dataclass
class PartitionResult:
    """One tagged partition as it comes back to the driver: the rows and their counts (no other text)."""

    number: int
    frame: pd.DataFrame
    counts: TagSummary


def _progress_reporter(topic: str | None) -> Callable[[int], None] | None:
    """A callback sending "n notes encoded" to the driver as a dask event (None off a worker)."""
    if topic is None:
        return None
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    return lambda n: worker.log_event(topic, n)


def tag_partition(spec: SuggesterSpec, text_column: str, prefix: str, topic: str | None, part: Partition,
                  frame: pd.DataFrame) -> PartitionResult:
    """Tag the rows of one partition on a worker (as :func:`~evidencenlp.tagging.tag_chunk` does)."""
    tagged, counts = tag_rows(worker_suggester(spec), frame, text_column, spec.redact, prefix,
                              _progress_reporter(topic))
    return PartitionResult(part.number, tagged, counts)


# -- driver: checks before anything is started ------------------------------------------------------


def require_dask() -> None:
    """Raise a clear error when the ``dask`` extra is not installed."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise EvidenceNLPError('--engine dask needs the dask extra: pip install "evidencenlp[dask]" (on the driver '
                               "and on every worker)") from None


def _check_options(input_path: Path, output: Path, delimiter: str | None, sheet: str | None,
                   evidence_category: str | None) -> None:
    """The option checks of ``tag_file``, and a known evidence category (read from the frameworks only)."""
    check_paths(input_path, output, delimiter, None)  # the same path and option checks as tag_file
    if sheet is not None:
        raise InputFileError(f"{input_path}: --sheet applies to .xlsx input only (and --engine dask does not "
                             "read .xlsx: use the default --engine local)")
    if evidence_category is not None:
        from evidencenlp.taxonomy import default_taxonomy

        categories = default_taxonomy().categories
        if evidence_category not in categories:
            raise InputFileError(f"unknown evidence category {evidence_category!r}; expected one of "
                                 f"{', '.join(categories)}")


def _read_all(input_path: Path, output: Path, text_column: str, prefix: str, encoding: str,
              delimiter: str | None, report: ReadReport | None = None) -> tuple[list[str], int, pd.DataFrame]:
    """Read the whole input once with the single-process reader and its checks: columns, rows, empty meta.

    ``report`` counts what the read repaired (the workers read the same repaired values).
    """
    columns: list[str] | None = None
    meta = pd.DataFrame()
    rows = 0
    try:
        for chunk in iter_chunks(input_path, chunk_rows=DEFAULT_CHUNK_ROWS, encoding=encoding, delimiter=delimiter,
                                 report=report):
            if columns is None:
                check_columns(input_path, chunk, text_column, prefix, delimiter, encoding)
                columns, meta = [str(c) for c in chunk.columns], chunk.iloc[:0]
            if chunk.empty:
                continue
            rows += len(chunk)
            check_chunk(input_path, output, chunk, text_column)
    except RecursionError:
        raise InputFileError(f"{input_path}: a value is nested too deeply to read") from None
    if columns is None or rows == 0:
        raise InputFileError(f"{input_path}: the file has a header but no rows")
    return columns, rows, meta


def _check_partitioning(output: Path, saved: dict[str, Any], manifest: dict[str, Any]) -> None:
    """Refuse to resume a run that split the input into other partitions (the rest of the manifest is
    compared by :func:`~evidencenlp.tagging.parts.open_parts`)."""
    before = saved.get("partitions")
    if before != manifest["partitions"]:
        count = len(before) if isinstance(before, list) else "?"
        raise InputFileError(f"{output}: cannot resume: the interrupted run split the input into {count} partitions "
                             f"of up to {saved.get('chunk_rows')} rows, this run into {len(manifest['partitions'])} "
                             f"of up to {manifest['chunk_rows']}; pass --chunk-size {saved.get('chunk_rows')} to "
                             "resume it, or --force to start again")


def _finished_partitions(output: Path, parts: list[Partition]) -> dict[int, int]:
    """Partition number -> rows of every saved part; each must match its partition."""
    folder = parts_dir(output)
    done = saved_rows(folder)
    for number, rows in done.items():
        if number >= len(parts) or rows != parts[number].rows:
            raise InputFileError(f"{folder}: part-{number:06d}.parquet does not match partition {number} of this "
                                 "input; run again with --force")
    return done


# -- driver: the cluster ----------------------------------------------------------------------------


def check_scheduler_address(address: str) -> str:
    """``address`` as ``SCHEME://HOST:PORT`` when it can name a dask scheduler; else a one-line error.

    Accepts ``tcp://``, ``tls://``, ``ws://`` and ``wss://`` (no scheme means ``tcp://``, no port
    :data:`DEFAULT_SCHEDULER_PORT`, as for dask itself). Refuses an empty address, another scheme
    (``http://`` is the dashboard, not the scheduler) and a port outside 1–65535. No network is used.
    """
    given = address.strip()
    example = f"expected tcp://HOST:PORT, e.g. tcp://10.0.0.5:{DEFAULT_SCHEDULER_PORT}"
    if not given:
        raise InputFileError(f"--scheduler needs the address of a running dask scheduler; {example} (or leave "
                             "--scheduler out to start a local cluster)")
    match = _ADDRESS.fullmatch(given)
    if match is None:
        raise InputFileError(f"--scheduler {address!r} is not a dask scheduler address; {example}")
    scheme = (match["scheme"] or "tcp").lower()
    if scheme not in SCHEDULER_SCHEMES:
        hint = " (that is the dashboard's address; the scheduler's is tcp://HOST:8786)" if scheme.startswith("http") \
            else ""
        raise InputFileError(f"--scheduler {address!r}: a dask scheduler is reached by "
                             f"{', '.join(s + '://' for s in SCHEDULER_SCHEMES)}, not {scheme}://{hint}")
    port = int(match["port"]) if match["port"] else DEFAULT_SCHEDULER_PORT
    if not 1 <= port <= 65535:
        raise InputFileError(f"--scheduler {address!r}: the port must be between 1 and 65535; {example}")
    return f"{scheme}://{match['host']}:{port}"


def _connection_args(address: str) -> dict[str, Any]:
    """The TLS context for a ``tls://``/``wss://`` address from the dask configuration; none for the others."""
    if not address.startswith(("tls://", "wss://")):
        return {}
    from distributed.security import Security

    args = Security().get_connection_args("client")
    if args.get("ssl_context") is None:
        raise InputFileError(f"--scheduler {address}: a tls:// scheduler needs TLS certificates in the dask "
                             "configuration (distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and "
                             ".key); see the dask documentation on TLS, or use tcp://")
    return dict(args)


async def _handshake(address: str, args: dict[str, Any], seconds: float) -> object:
    from distributed.comm import connect

    comm = await connect(address, timeout=seconds, **args)
    try:
        await comm.write({"op": "identity"})
        return await comm.read()
    finally:
        comm.abort()


def probe_scheduler(address: str, seconds: float = CONNECT_SECONDS) -> None:
    """Check that a dask scheduler answers at ``address`` (as :func:`check_scheduler_address` returns it).

    Looks the host up, then does dask's handshake, giving up after ``seconds``; every failure is one
    :class:`InputFileError` line (host not found, refused, no answer, not a dask scheduler, TLS not
    configured). Runs in a thread of its own, so it works inside a running event loop too.
    """
    host, port = address.split("://", 1)[1].rsplit(":", 1)
    try:
        socket.getaddrinfo(host.strip("[]"), int(port), type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InputFileError(f"cannot reach the dask scheduler at {address}: no host named {host!r} was found") \
            from None
    args = _connection_args(address)
    try:  # a plain TCP connection first: a refused one is known at once (dask's own connect keeps retrying)
        socket.create_connection((host.strip("[]"), int(port)), timeout=seconds).close()
    except ConnectionRefusedError:
        raise InputFileError(f"cannot reach the dask scheduler at {address}: the connection was refused; is `dask "
                             "scheduler` running there?") from None
    except OSError:
        raise InputFileError(f"cannot reach the dask scheduler at {address}: no answer within {seconds:.0f} s; is "
                             "`dask scheduler` running there, and is the port open?") from None
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        job = pool.submit(asyncio.run, asyncio.wait_for(_handshake(address, args, seconds), seconds + 1))
        try:
            answer = job.result()
        except (OSError, TimeoutError, asyncio.TimeoutError, ValueError, TypeError) as exc:
            why = "the connection was refused" if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc) \
                else f"no dask scheduler answered within {seconds:.0f} s"
            raise InputFileError(f"cannot reach the dask scheduler at {address}: {why}; is `dask scheduler` running "
                                 "there, and is the port open?") from None
        except Exception as exc:  # a reply that is not dask's (another service on that port)
            raise InputFileError(f"cannot reach the dask scheduler at {address}: the answer was not a dask "
                                 f"scheduler's ({type(exc).__name__})") from None
    if not isinstance(answer, dict) or answer.get("type") != "Scheduler":
        raise InputFileError(f"{address} answered, but it is not a dask scheduler (a dask worker or another "
                             "service?); give the scheduler's address")


def _say(on_event: Callable[[str], None] | None, message: str) -> None:
    if on_event is not None:
        on_event(message)


@contextmanager
def _children_ignore_ctrl_c() -> Iterator[None]:
    """Processes started in this block ignore SIGINT (Python and asyncio then leave it ignored).

    A terminal's Ctrl-C reaches every process of the foreground group; without this each worker
    would die with a traceback of its own while the driver is closing the cluster in order.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def _client(scheduler: str | None, workers: int, on_event: Callable[[str], None] | None) -> Iterator[Client]:
    """A client of the scheduler at ``scheduler``, or of a new local cluster (closed on exit, also on error)."""
    import dask
    from distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler is not None:
            address = check_scheduler_address(scheduler)
            _say(on_event, f"connecting to the dask scheduler at {address} …")
            probe_scheduler(address)
            try:
                client = Client(address, set_as_default=False, timeout=f"{CONNECT_SECONDS:.0f}s")
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise InputFileError(f"cannot reach the dask scheduler at {address} ({type(exc).__name__}); is "
                                     f"`dask scheduler` running there?") from None
        else:
            _say(on_event, f"starting a local dask cluster: {workers} worker process(es), 1 thread each …")
            # the workers' sampling profiler is off: it only serves the dashboard, and it logs tracebacks
            # when it meets the frames of some compiled libraries. Only errors are logged (not the warnings
            # of a normal shutdown), and Ctrl-C is left to this process, which closes the cluster.
            with dask.config.set({"distributed.worker.profile.enabled": False}), _children_ignore_ctrl_c():
                cluster = stack.enter_context(LocalCluster(n_workers=workers, processes=True, threads_per_worker=1,
                                                           dashboard_address=":0", silence_logs=logging.ERROR))
            client = Client(cluster, set_as_default=False)
        stack.callback(client.close)
        yield client


def _start_workers(client: Client, spec: SuggesterSpec, scheduler: str | None,
                   on_event: Callable[[str], None] | None) -> str:
    """Load the models on every worker (once per process); return their model version, which must agree."""
    addresses = list(client.scheduler_info()["workers"])
    if not addresses:
        _say(on_event, "waiting for a dask worker to join …")
        try:
            client.wait_for_workers(1, timeout=WAIT_SECONDS)
        except TimeoutError:
            raise InputFileError(f"no dask worker joined the scheduler at {scheduler} within {WAIT_SECONDS:.0f} s; "
                                 f"start one with `dask worker {scheduler} --nthreads 1`") from None
        addresses = list(client.scheduler_info()["workers"])
    _say(on_event, f"loading the models on {len(addresses)} dask worker(s) …")
    started = time.perf_counter()
    run = uuid.uuid4().hex[:8]
    futures = [client.submit(warm_up, spec, key=f"evidencenlp-warm-up-{run}-{i}", workers=[address],
                             allow_other_workers=False, pure=False) for i, address in enumerate(addresses)]
    try:
        versions = [future.result(timeout=WAIT_SECONDS) for future in futures]
    except TimeoutError:
        raise InputFileError(f"the dask workers did not load the models within {WAIT_SECONDS:.0f} s") from None
    finally:
        client.cancel(futures)
    if len(set(versions)) > 1:
        raise InputFileError(f"the dask workers load different models ({', '.join(sorted(set(versions)))}); install "
                             "the same evidencenlp version and models on every worker")
    _say(on_event, f"{len(addresses)} dask worker(s) ready in {time.perf_counter() - started:.0f} s")
    return str(versions[0])


@dataclass
class _Run:
    """What the driver needs while partitions come back."""

    output: Path
    manifest: dict[str, Any]
    summary: TagSummary
    on_rows: Callable[[int], None] | None = None
    on_progress: Callable[[int], None] | None = None


def _save(run: _Run, source: TableSource, part: Partition, result: PartitionResult) -> None:
    """Save one finished partition as its part, count it, report it."""
    save_part(run.output, run.manifest, result.number, result.frame, source=source.path, rows=part.describe())
    run.summary.add(result.counts)
    if run.on_rows is not None:
        run.on_rows(result.counts.rows)


def _tag_partitions(client: Client, spec: SuggesterSpec, source: TableSource, todo: list[Partition],
                    meta: pd.DataFrame, text_column: str, prefix: str, run: _Run) -> None:
    """Read and tag ``todo`` on the cluster; save each partition as it finishes (any order)."""
    import dask
    import dask.dataframe as dd
    from distributed import KilledWorker, as_completed
    from distributed.comm.core import CommClosedError

    topic = f"evidencenlp-progress-{uuid.uuid4().hex}" if run.on_progress is not None else None
    if topic is not None and run.on_progress is not None:
        report = run.on_progress
        client.subscribe_topic(topic, lambda event: report(int(event[1])))
    with dask.config.set({"dataframe.convert-string": False}):  # cells reach tag_chunk exactly as read
        notes = dd.from_map(partial(read_partition, source), todo, meta=meta, enforce_metadata=False,
                            label="read-notes")
    tag = dask.delayed(tag_partition, pure=False)
    futures = client.compute([tag(spec, text_column, prefix, topic, part, chunk)
                              for part, chunk in zip(todo, notes.to_delayed())])
    by_number = {p.number: p for p in todo}
    try:
        for _, result in as_completed(futures, loop=client.loop, with_results=True):
            _save(run, source, by_number[result.number], result)
    except KilledWorker:
        raise InputFileError(f"{run.output}: a dask worker died while tagging (again on retry: out of memory?); the "
                             "finished partitions are kept: run again with --resume") from None
    except (concurrent.futures.CancelledError, CommClosedError):
        raise InputFileError(f"{run.output}: lost the connection to the dask cluster; the finished partitions are "
                             "kept: run again with --resume") from None
    finally:
        client.cancel(futures)
        if topic is not None:
            client.unsubscribe_topic(topic)


# -- the engine -------------------------------------------------------------------------------------


def _plan(spec: SuggesterSpec, input_path: Path, output: Path, text_column: str, partition_rows: int,
          resume: bool, force: bool, prefix: str, encoding: str, delimiter: str | None,
          sheet: str | None,
          report: ReadReport | None = None) -> tuple[TableSource, list[Partition], pd.DataFrame, dict[str, Any]]:
    """Every check of ``tag_file`` (nothing is created), then the partitions and the run's manifest.

    The manifest's ``model_version`` is filled in once the workers report it.
    """
    _check_options(input_path, output, delimiter, sheet, spec.evidence_category)
    require_partitioned(input_path)
    require_byte_splittable(input_path, encoding)
    check_output(output, resume, force)
    columns, rows, meta = _read_all(input_path, output, text_column, prefix, encoding, delimiter, report)
    source, parts = plan_partitions(make_source(input_path, columns, encoding, delimiter), partition_rows, rows)
    clean_stale_temp_files(output)
    manifest: dict[str, Any] = {**make_manifest(input_path, text_column, partition_rows, spec.redact, prefix, "",
                                                spec.evidence_category, delimiter, None, encoding),
                                "engine": _ENGINE, "partitions": [[p.row_start, p.rows] for p in parts]}
    return source, parts, meta, manifest


def _resume_state(output: Path, manifest: dict[str, Any], parts: list[Partition], resume: bool,
                  force: bool) -> tuple[dict[str, Any] | None, dict[int, int]]:
    """The interrupted run's manifest and finished partitions when resuming; otherwise start afresh.

    Without ``resume`` an earlier parts folder is removed (``--force``; refused otherwise). A new
    folder is only created with the first finished partition.
    """
    saved = open_parts(output, manifest, resume, force, engine=_ENGINE, not_compared=_NOT_COMPARED)
    if saved is None:
        return None, {}
    _check_partitioning(output, saved, manifest)
    return saved, _finished_partitions(output, parts)


def tag_file_dask(spec: SuggesterSpec, input_path: Path, output: Path, text_column: str, *,
                  partition_rows: int = DEFAULT_CHUNK_ROWS, resume: bool = False, force: bool = False,
                  prefix: str = "", encoding: str = "utf-8", delimiter: str | None = None, sheet: str | None = None,
                  scheduler: str | None = None, workers: int = DEFAULT_WORKERS,
                  on_rows: Callable[[int], None] | None = None, on_progress: Callable[[int], None] | None = None,
                  on_event: Callable[[str], None] | None = None) -> TagSummary:
    """Tag every row of ``input_path`` into ``output`` on a dask cluster; the same result as ``tag_file``.

    ``spec`` says how each worker loads its Suggester (redaction follows ``spec.redact``). The input is
    read in partitions of at most ``partition_rows`` rows, by path on the workers: with ``scheduler``
    (``tcp://HOST:8786``) it must be on a filesystem every worker sees. Without ``scheduler`` a local
    cluster of ``workers`` processes (one thread each) is started and closed. ``on_rows`` is called
    with the rows of each saved partition, ``on_progress`` with notes encoded on the workers (live),
    ``on_event`` with one-line status messages (cluster start-up, workers ready). Raises
    :class:`InputFileError` with the same messages as ``tag_file``, before any cluster is started;
    a ``scheduler`` address that cannot name one is refused before the input is read, and one that does
    not answer within :data:`CONNECT_SECONDS` is one line too.
    """
    require_dask()
    if workers < 1:
        raise InputFileError(f"--workers must be at least 1; got {workers}")
    if scheduler is not None:
        check_scheduler_address(scheduler)
    input_path, output = Path(input_path), Path(output)
    if spec.models is not None:  # a worker may run in another folder
        spec = replace(spec, models=Path(spec.models).resolve())
    repaired = ReadReport()
    source, parts, meta, manifest = _plan(spec, input_path, output, text_column, partition_rows, resume, force,
                                          prefix, encoding, delimiter, sheet, repaired)
    saved, done = _resume_state(output, manifest, parts, resume, force)
    summary = TagSummary(output=output, rows=sum(done.values()), resumed_from_row=sum(done.values()),
                         replaced_characters=repaired.replaced_characters, rows_repaired=repaired.rows_repaired)
    started = time.perf_counter()
    todo = [p for p in parts if p.number not in done]
    if done:
        _say(on_event, f"resuming: {len(done)} of {len(parts)} partitions already tagged ({summary.rows:,} rows)")
    if todo:
        with _client(scheduler, workers, on_event) as client:
            version = _start_workers(client, spec, scheduler, on_event)
            started = time.perf_counter()  # rows/s counts tagging, not start-up (as tag_file's caller loads first)
            if saved is not None and saved.get("model_version") != version:
                raise InputFileError(f"{output}: cannot resume: model_version differ from the interrupted run; run "
                                     "again with --force to start again")
            manifest["model_version"] = version
            _say(on_event, f"tagging {len(todo)} partition(s) of up to {partition_rows:,} rows")
            run = _Run(output, manifest, summary, on_rows, on_progress)
            _tag_partitions(client, spec, source, todo, meta, text_column, prefix, run)
    return finish_output(input_path, output, summary, started)
