"""Inspector review: store suggestions, record confirm/correct decisions with an audit trail, export labels.

Modules (each with one job; see docs/review.md):

- :mod:`evidencenlp.review.schema` and :mod:`evidencenlp.review.db` — the SQL, and the SQLite file:
  connection settings, creation, migrations, transactions;
- :mod:`evidencenlp.review.models` — the small dataclasses the store returns, and the review errors;
- :mod:`evidencenlp.review.labels` — the label vocabularies (from :mod:`evidencenlp.taxonomy`) with titles;
- :mod:`evidencenlp.review.assessments`, :mod:`~evidencenlp.review.importer`,
  :mod:`~evidencenlp.review.decisions`, :mod:`~evidencenlp.review.queries` — assessments, the import
  pipeline, the append-only decision log, the read-only queries;
- :mod:`evidencenlp.review.store` — :class:`ReviewStore`, the façade that owns the connection.

The shells over this library live beside the CLI, not here: :mod:`evidencenlp.tui` (the terminal
review flow) and :mod:`evidencenlp.web` (the local web page, FastAPI routers, and its JSON API).

Nothing here is final until an inspector confirms it, and decisions are never changed in place:
a correction or an undo is a new decision row.
"""
