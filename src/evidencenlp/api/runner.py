"""Run suggestion batches in worker threads, a bounded number at a time, each within a time limit.

A CPU-bound batch must not run on the event loop (health and other requests would stall) and many
batches at once would only oversubscribe the cores. :class:`BoundedRunner` holds an
:class:`asyncio.Semaphore` of ``slots``: a request waits for a slot, then its batch runs in a
dedicated thread pool of the same size. When a request's time is up it is answered at once; a
batch already running cannot be interrupted, so its slot is given back only when it ends, and
later requests keep queueing instead of piling onto the cores.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Overloaded(Exception):
    """No slot became free within the time limit."""


class TimedOut(Exception):
    """The batch did not finish within the time limit (it goes on in its thread and frees its slot when done)."""


class BoundedRunner:
    """``await runner.run(fn, seconds)``: ``fn()`` in a worker thread, at most ``slots`` at once."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._semaphore = asyncio.Semaphore(slots)
        self._pool = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="evidencenlp-api")
        self.waiting = 0

    async def run(self, fn: Callable[[], T], seconds: float) -> T:
        """The result of ``fn()``; raises :class:`Overloaded` or :class:`TimedOut` after ``seconds`` in all.

        An exception raised by ``fn`` is raised here.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        self.waiting += 1
        try:
            await asyncio.wait_for(self._semaphore.acquire(), seconds)
        except asyncio.TimeoutError:
            raise Overloaded from None
        finally:
            self.waiting -= 1
        try:
            future = loop.run_in_executor(self._pool, fn)
        except BaseException:
            self._semaphore.release()
            raise
        future.add_done_callback(self._finished)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(deadline - loop.time(), 0.0))
        except asyncio.TimeoutError:
            raise TimedOut from None

    def _finished(self, future: asyncio.Future[Any]) -> None:
        """A batch ended (in time or not): free its slot; an outcome nobody awaits any more is dropped."""
        self._semaphore.release()
        if not future.cancelled():
            future.exception()  # retrieved, so asyncio does not log it (it may hold note text)

    def close(self) -> None:
        """Stop taking batches; queued ones are cancelled, a running one ends in its thread."""
        self._pool.shutdown(wait=False, cancel_futures=True)
