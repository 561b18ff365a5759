"""Inspector review: store suggestions, record confirm/correct decisions with an audit trail, export labels.

Modules:

- :mod:`evidencenlp.review.db` — the SQLite file: connection settings, schema and its versions;
- :mod:`evidencenlp.review.models` — the small dataclasses the store returns, and the review errors;
- :mod:`evidencenlp.review.labels` — the label vocabularies (SAF statements, bands, …) with titles;
- :mod:`evidencenlp.review.store` — import notes, decide, undo, queue, summary, export;
- :mod:`evidencenlp.review.tui` — the terminal review flow (keys injectable for tests);
- :mod:`evidencenlp.review.app` — the local web page (FastAPI) and its JSON API.

Nothing here is final until an inspector confirms it, and decisions are never changed in place:
a correction or an undo is a new decision row.
"""
