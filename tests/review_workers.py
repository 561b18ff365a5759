"""Process targets for the review store's concurrency and crash tests.

Kept apart from the test modules so a spawned child imports only the (light) review store, not
the suggester and its machine-learning libraries: the children start in about a second.
"""

from __future__ import annotations

import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from evidencenlp.review.store import ReviewStore


def writer(db: str, inspector: str, note_ids: list[int], n: int, start: Event) -> None:
    """Append ``n`` decisions (confirm, correct, skip in turn) as ``inspector``, starting on ``start``."""
    with ReviewStore.open(db) as s:
        if not start.wait(60):
            raise TimeoutError("the start signal did not come within 60 s")
        for i in range(n):
            nid = note_ids[i % len(note_ids)]
            if i % 3 == 2:
                s.skip(nid, inspector)
            else:
                s.confirm(nid, inspector, labels=s.note(nid).suggested_labels().replace(
                    band=("good", "inadequate")[i % 2]))


def committer(db: str, note_ids: list[int], conn: Connection, limit: int = 100_000, seconds: float = 120) -> None:
    """Append decisions until killed, sending each id down ``conn`` only after its COMMIT returned.

    Bounded, so an orphaned child stops by itself: after ``limit`` decisions, ``seconds`` seconds, or
    as soon as the parent's end of ``conn`` is gone.
    """
    deadline = time.monotonic() + seconds
    with ReviewStore.open(db) as s:
        for i in range(limit):
            if time.monotonic() > deadline:
                return
            nid = note_ids[i % len(note_ids)]
            d = s.confirm(nid, "K", labels=s.note(nid).suggested_labels().replace(band=("good", "inadequate")[i % 2]))
            try:
                conn.send(d.id)
            except (BrokenPipeError, EOFError, OSError):
                return
