"""Chunks of the local engine tagged in parallel by worker processes of this machine (``tag --jobs N``).

:class:`ChunkPool` starts ``jobs`` worker processes (:class:`concurrent.futures.ProcessPoolExecutor`
with the ``spawn`` start method: never ``fork``, which copies the threads of the caller; and not
``forkserver``, whose workers are not children of this process, so their CPU time and memory would be
missing from what the operating system reports for the run). Each worker uses one thread per numeric
library (:func:`one_thread_each`) and loads its Suggester once, from a picklable
:class:`~evidencenlp.tagging.spec.SuggesterSpec` (:func:`~evidencenlp.tagging.spec.worker_suggester`),
and tags whole chunks (:func:`~evidencenlp.tagging.chunk.tag_rows`). :meth:`ChunkPool.tag_in_order`
hands the results back **in input order** with a bounded number of chunks in flight, so the local
engine saves them as the same numbered parts as a single-process run (``--resume``, atomic output
and progress keep working) and memory stays flat. :class:`InProcess` is the same interface over a
Suggester loaded in this process (``--jobs 1``).

Nothing here prints or logs note text.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.util
import os
import signal
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from types import TracebackType
from typing import TYPE_CHECKING, TypeVar

import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.spacy_import import use_in_this_process
from evidencenlp.tagging.chunk import TagSummary, tag_rows
from evidencenlp.tagging.spec import SuggesterSpec, worker_suggester

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggester

_T = TypeVar("_T")
#: a tagged chunk: the chunk as read, its tagged rows (storable as a part) and their counts
Tagged = tuple[pd.DataFrame, pd.DataFrame, TagSummary]
#: chunks in flight per worker process (one being tagged, one waiting): enough to keep every worker
#: busy while the parent reads and saves, few enough that memory stays flat
IN_FLIGHT_PER_JOB = 2
#: environment variables that cap a library's threads (set to 1 in a worker process)
THREAD_VARIABLES: tuple[str, ...] = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS")
#: backends whose encoder already uses every core (torch, onnxruntime): one process is best for them
_MULTITHREADED_BACKENDS = ("torch", "onnx-int8")


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_jobs(backend: str) -> int:
    """``tag``'s worker processes by default: every usable core for the static backend (its per-row work is
    single-threaded Python), 1 for torch and onnx-int8 (their encoder already uses every core)."""
    return 1 if backend in _MULTITHREADED_BACKENDS else usable_cores()


# -- in a worker process ------------------------------------------------------------------------------

_WORKER_SPEC: SuggesterSpec | None = None


def _start_worker(spec: SuggesterSpec) -> None:
    """Runs once in each new worker: leave Ctrl-C to the parent (which stops the pool), one compute thread
    per library, load the models."""
    global _WORKER_SPEC
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    one_thread_each()
    use_in_this_process()  # this process is evidencenlp's own: spaCy without thinc's torch import
    multiprocessing.util.Finalize(None, _exit_at_once, exitpriority=-1_000_000)
    _WORKER_SPEC = spec
    worker_suggester(spec)


def _exit_at_once() -> None:
    """The last step of a worker that has finished (run by multiprocessing as the worker exits): end the
    process without tearing the interpreter down object by object, which takes seconds with the models
    loaded and which the parent would wait for. Its results are all sent by then (the result queue
    writes synchronously); the standard streams are flushed first."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(0)


def one_thread_each() -> None:
    """Make this process's numeric libraries use one thread each (BLAS and OpenMP through threadpoolctl;
    lingua's Rayon pool and the tokenizers' through their environment variables, read when they first
    run). Worker processes already use every core between them: more threads would only contend (BLAS
    threads spin while they wait) and slow every worker down."""
    from threadpoolctl import threadpool_limits

    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    threadpool_limits(1)


def _worker_model_version() -> str:
    assert _WORKER_SPEC is not None
    return worker_suggester(_WORKER_SPEC).model_version


def _tag_in_worker(text_column: str, prefix: str, frame: pd.DataFrame) -> tuple[pd.DataFrame, TagSummary]:
    assert _WORKER_SPEC is not None
    return tag_rows(worker_suggester(_WORKER_SPEC), frame, text_column, _WORKER_SPEC.redact, prefix)


# -- in the parent ------------------------------------------------------------------------------------


class InProcess:
    """Chunks tagged one after another by a Suggester loaded in this process (``--jobs 1``)."""

    def __init__(self, suggester: Suggester, redact: bool, on_progress: Callable[[int], None] | None = None):
        self.suggester, self.redact, self.on_progress = suggester, redact, on_progress
        self.model_version: str = suggester.model_version
        self.evidence_category: str | None = getattr(suggester, "evidence_category", None)

    def tag_in_order(self, chunks: Iterable[pd.DataFrame], text_column: str, prefix: str) -> Iterator[Tagged]:
        """Each chunk with its tagged rows and counts, in input order (encoder progress reported live)."""
        for chunk in chunks:
            yield (chunk, *tag_rows(self.suggester, chunk, text_column, self.redact, prefix, self.on_progress))


class ChunkPool:
    """``jobs`` worker processes tagging chunks with the Suggester of ``spec``; use it in a ``with`` block.

    Entering starts the workers (each loads the models once, all at the same time); :attr:`model_version`
    waits for one to be ready. They are stopped (:meth:`stop`) as soon as :meth:`tag_in_order` has handed
    back its last chunk, and on leaving, also on an error or Ctrl-C (chunks not yet tagged are dropped:
    their parts were never saved, so ``--resume`` tags them again).
    """

    def __init__(self, spec: SuggesterSpec, jobs: int, on_progress: Callable[[int], None] | None = None):
        if jobs < 1:
            raise InputFileError(f"--jobs must be at least 1; got {jobs}")
        self.spec, self.jobs, self.on_progress = spec, jobs, on_progress
        self.redact = spec.redact
        self.evidence_category = spec.evidence_category
        self._executor: ProcessPoolExecutor | None = None
        self._warm: list[Future[str]] = []
        self._version: str | None = None

    def __enter__(self) -> ChunkPool:
        self._executor = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_start_worker, initargs=(self.spec,))
        # one call per worker makes the executor start them all now, so they load the models side by side
        self._warm = [self._executor.submit(_worker_model_version) for _ in range(self.jobs)]
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop(early=kind is not None)

    def stop(self, early: bool = False) -> None:
        """Stop the workers and wait for them (idempotent; quick: see :func:`_exit_at_once`). ``early``
        (an error or Ctrl-C): drop the queued chunks and end the workers now rather than after their chunk."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not early:
            executor.shutdown(wait=True)
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            if process.is_alive():
                process.terminate()

    @property
    def model_version(self) -> str:
        """The model version of the workers' Suggester (waits for the first worker to load it)."""
        if self._version is None:
            self._version = self._result(self._warm[0])
        return self._version

    @staticmethod
    def _result(future: Future[_T]) -> _T:
        try:
            return future.result()
        except BrokenProcessPool:
            raise InputFileError("a tagging worker process stopped unexpectedly (out of memory?); the finished "
                                 "chunks are kept: run again with --resume") from None

    def tag_in_order(self, chunks: Iterable[pd.DataFrame], text_column: str, prefix: str) -> Iterator[Tagged]:
        """Each chunk with its tagged rows and counts, in input order, tagged by the workers.

        At most :data:`IN_FLIGHT_PER_JOB` × ``jobs`` chunks are read ahead. An error raised while reading
        the input (a bad cell) is raised after the chunks before it are handed back, as a single process
        would; an error in a worker is raised where its chunk comes in order.
        """
        executor = self._executor
        if executor is None:
            raise RuntimeError("ChunkPool.tag_in_order is used inside a `with ChunkPool(...)` block")
        pending: deque[tuple[pd.DataFrame, Future[tuple[pd.DataFrame, TagSummary]]]] = deque()
        source = iter(chunks)
        failed: Exception | None = None
        while True:
            while failed is None and len(pending) < IN_FLIGHT_PER_JOB * self.jobs:
                try:
                    chunk = next(source)
                except StopIteration:
                    break
                except Exception as exc:  # a bad input: finish the chunks before it first
                    failed = exc
                    break
                pending.append((chunk, executor.submit(_tag_in_worker, text_column, prefix, chunk)))
            if not pending:
                break
            chunk, future = pending.popleft()
            tagged, counts = self._result(future)
            if self.on_progress is not None:  # notes encoded: reported per chunk (workers do not stream it)
                self.on_progress(counts.tagged)
            yield chunk, tagged, counts
        if failed is not None:
            raise failed
        self.stop()  # every chunk is in: the workers are not needed while the output is finished
