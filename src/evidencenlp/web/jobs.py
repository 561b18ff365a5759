"""Background jobs (file imports) behind a small, injectable :class:`JobRunner` protocol.

``create_app(..., runner=...)`` takes any object with ``submit``, ``status`` and ``cancel``. Two come
with the package:

- :class:`ThreadJobRunner` (the default): each job runs in its own daemon thread; the page polls
  ``/api/jobs/{id}``;
- :class:`InlineJobRunner`: runs the job inside ``submit`` before returning its id, so the job is
  finished when the request that started it answers (tests and scripts: nothing to wait for; the
  server does nothing else meanwhile, so it is not for a page in use).

A job is a function of one :class:`JobContext` argument. It reports progress with
:meth:`JobContext.advance` (which raises :class:`JobCancelled` once the job was cancelled, so work
stops between two steps) and returns its result (JSON-ready). An :class:`~evidencenlp.errors.EvidenceNLPError`
it raises becomes the job's error message; any other exception is logged by type only (no note text
in logs) and reported as an unexpected failure.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from evidencenlp.errors import EvidenceNLPError

log = logging.getLogger("evidencenlp.review")

RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


class JobCancelled(BaseException):
    """Raised inside a job by :meth:`JobContext.advance` once the job was cancelled.

    Like :class:`asyncio.CancelledError` it is not an :class:`Exception`, so a job's own
    ``except Exception`` does not swallow it.
    """


@dataclass(frozen=True)
class JobStatus:
    """A snapshot of one job: ``state`` is running, done, failed or cancelled."""

    id: str
    state: str
    done: int
    total: int | None
    result: Any
    error: str | None
    info: Mapping[str, Any]


@dataclass
class _Record:
    id: str
    name: str
    total: int | None
    info: Mapping[str, Any]
    state: str = RUNNING
    done: int = 0
    result: Any = None
    error: str | None = None
    cancel_requested: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    def snapshot(self) -> JobStatus:
        with self.lock:
            return JobStatus(self.id, self.state, self.done, self.total, self.result, self.error, self.info)

    def finish(self, state: str, result: Any = None, error: str | None = None) -> None:
        with self.lock:
            self.state, self.result, self.error = state, result, error
        self.finished.set()


class JobContext:
    """What a running job gets: a way to report progress and to notice a cancellation."""

    def __init__(self, record: _Record) -> None:
        self._record = record

    @property
    def job_id(self) -> str:
        """The job's id."""
        return self._record.id

    @property
    def cancelled(self) -> bool:
        """True once :meth:`JobRunner.cancel` was called for this job."""
        with self._record.lock:
            return self._record.cancel_requested

    def advance(self, n: int) -> None:
        """Count ``n`` more units done; raise :class:`JobCancelled` if the job was cancelled."""
        with self._record.lock:
            self._record.done += n
            stop = self._record.cancel_requested
        if stop:
            raise JobCancelled(self._record.id)


JobFunction = Callable[[JobContext], Any]


@runtime_checkable
class JobRunner(Protocol):
    """Runs jobs and tells how they are doing."""

    def submit(self, fn: JobFunction, *, name: str = "job", total: int | None = None,
               info: Mapping[str, Any] | None = None) -> str:
        """Start ``fn`` (``total``: units of work expected; ``info``: shown with the status); return its id."""
        ...

    def status(self, job_id: str) -> JobStatus | None:
        """The job's current status, or None for an unknown id."""
        ...

    def cancel(self, job_id: str) -> bool:
        """Ask a running job to stop at its next step; False when it is unknown or already finished."""
        ...


def run_job(record: _Record, fn: JobFunction) -> None:
    """Run ``fn`` for ``record`` and record how it ended (never raises, except on interpreter exit)."""
    try:
        result = fn(JobContext(record))
    except JobCancelled:
        record.finish(CANCELLED, error="cancelled")
    except EvidenceNLPError as exc:
        record.finish(FAILED, error=str(exc))
    except Exception as exc:
        log.error("background job %s failed: %s", record.name, type(exc).__name__)
        record.finish(FAILED, error=f"the job failed unexpectedly ({type(exc).__name__})")
    else:
        record.finish(DONE, result=result)


class _Runner:
    """Job bookkeeping shared by the runners; subclasses decide where a job runs."""

    def __init__(self) -> None:
        self._jobs: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def submit(self, fn: JobFunction, *, name: str = "job", total: int | None = None,
               info: Mapping[str, Any] | None = None) -> str:
        """Start ``fn``; return its id."""
        record = _Record(uuid.uuid4().hex, name, total, dict(info or {}))
        with self._lock:
            self._jobs[record.id] = record
        self._start(record, fn)
        return record.id

    def _start(self, record: _Record, fn: JobFunction) -> None:
        raise NotImplementedError

    def status(self, job_id: str) -> JobStatus | None:
        """The job's current status, or None for an unknown id."""
        with self._lock:
            record = self._jobs.get(job_id)
        return record.snapshot() if record is not None else None

    def cancel(self, job_id: str) -> bool:
        """Ask a running job to stop at its next step; False when it is unknown or already finished."""
        with self._lock:
            record = self._jobs.get(job_id)
        if record is None:
            return False
        with record.lock:
            if record.state != RUNNING:
                return False
            record.cancel_requested = True
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> JobStatus | None:
        """Block until the job has finished or ``timeout`` seconds passed; its status then (None: unknown id)."""
        with self._lock:
            record = self._jobs.get(job_id)
        if record is None:
            return None
        record.finished.wait(timeout)
        return record.snapshot()


class ThreadJobRunner(_Runner):
    """Runs each job in its own daemon thread (the default of ``create_app``)."""

    def _start(self, record: _Record, fn: JobFunction) -> None:
        threading.Thread(target=run_job, args=(record, fn), name=f"{record.name}-{record.id[:8]}",
                         daemon=True).start()


class InlineJobRunner(_Runner):
    """Runs each job to its end inside :meth:`submit`, in the caller's thread."""

    def _start(self, record: _Record, fn: JobFunction) -> None:
        run_job(record, fn)
