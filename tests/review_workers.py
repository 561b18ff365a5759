"""Process targets for the review store's concurrency and crash tests.

Kept apart from the test modules so a spawned child imports only the (light) review store, not
the suggester and its machine-learning libraries: the children start in about a second.
"""

from __future__ import annotations

from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event

from evidencenlp.review.store import ReviewStore


def writer(db: str, inspector: str, note_ids: list[int], n: int, start: Event) -> None:
    """Append ``n`` decisions (confirm, correct, skip in turn) as ``inspector``, starting on ``start``."""
    with ReviewStore.open(db) as s:
        start.wait(60)
        for i in range(n):
            nid = note_ids[i % len(note_ids)]
            if i % 3 == 2:
                s.skip(nid, inspector)
            else:
                s.confirm(nid, inspector, labels=s.note(nid).suggested_labels().replace(
                    band=("good", "inadequate")[i % 2]))


def committer(db: str, note_ids: list[int], conn: Connection) -> None:
    """Append decisions forever, sending each id down ``conn`` only after its COMMIT returned."""
    with ReviewStore.open(db) as s:
        i = 0
        while True:
            nid = note_ids[i % len(note_ids)]
            d = s.confirm(nid, "K", labels=s.note(nid).suggested_labels().replace(band=("good", "inadequate")[i % 2]))
            conn.send(d.id)
            i += 1
