"""How tests/data/review_v3_release.sqlite was made: the release's own code (schema version 3) writing a review.

Run with the release's sources first on the path (they were taken with ``git archive be615ed src
tests/conftest_review.py``), e.g.::

    EVIDENCENLP_FRAMEWORKS=frameworks PYTHONPATH=REL/src:REL/tests python make_review_v3_release.py OUT.sqlite

Six notes imported with the fake suggester, then accept, correct (with a rationale), skip, accept
then undo, accept. Not run by the tests; kept so the file can be made again.
"""

import sys
from pathlib import Path

from conftest_review import FakeSuggester, write_notes
from evidencenlp.review.db import SCHEMA_VERSION
from evidencenlp.review.store import ReviewStore

assert SCHEMA_VERSION == 3, SCHEMA_VERSION
out = Path(sys.argv[1])
with ReviewStore.open(out) as s:
    s.import_notes(write_notes(out.parent / "notes.csv"), "text", FakeSuggester(), assessment="Oak House",
                   service_type="care_home", location="Leeds")
    ids = [q.note_id for q in s.queue()]
    s.confirm(ids[0], "Ann")
    s.confirm(ids[1], "Ann", labels=s.note(ids[1]).suggested_labels().replace(band="good"), rationale="fridge log")
    s.skip(ids[2], "Bob")
    s.confirm(ids[3], "Bob")
    s.undo(ids[3], "Bob")
    s.confirm(ids[4], "Ann")
    assert s.verify().ok
    s.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    s.conn.execute("PRAGMA journal_mode = DELETE")
