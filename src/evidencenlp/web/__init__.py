"""The local review page: a FastAPI app serving plain HTML/CSS/JS and a small JSON API.

:func:`create_app` builds the app for one review database. Everything the page needs is served by
the app itself (``web/static``): no CDN, no build step, no network at run time. Note text never
appears in URLs or logs. Access rules are in :mod:`~evidencenlp.web.security`.

Modules: ``app`` (wiring, error handling), ``context`` (shared services, dependencies), ``security``
(host and token guard), ``jobs`` (the injectable background job runner), ``uploads`` (upload folders,
always deleted), ``bodies`` (request bodies), and one ``APIRouter`` per group of routes: ``pages``,
``reports``, ``notes``, ``imports``, ``assessment``.

Errors are JSON ``{"detail": …}``: 404 for a note, assessment or job that does not exist, 422 for an
id out of range or an upload name that cannot be used, 409 for a stale decision, 413 for an import
larger than the server accepts, 400 for other mistakes. No error shows the server's folders.

API (all JSON unless stated):

- ``GET  /api/meta`` — vocabulary, assessments with progress, default inspector;
- ``GET  /api/queue?assessment_id=&filter=all|needs_review|pending|skipped|confirmed&order=file|uncertain``;
- ``GET  /api/notes/{id}`` — note, suggestion, current decision, history;
- ``POST /api/notes/{id}/confirm`` ``{inspector, labels?, rationale?, based_on?}`` — accepted/corrected;
- ``POST /api/notes/{id}/skip`` ``{inspector, rationale?, based_on?}``;
- ``POST /api/notes/{id}/undo`` ``{inspector, based_on?}``;
- ``GET  /api/summary?assessment_id=`` — per key question: confirmed notes, bands, statements;
- ``POST /api/upload?filename=&text_column=&assessment=&id_column=&location_column=&date_column=…``
  (body: the file's bytes, at most ``max_upload_bytes``) → an import job;
- ``POST /api/import`` ``{path, text_column, assessment, …}`` (loopback only) → an import job;
- ``GET  /api/jobs/{id}`` — import progress / result;
- ``DELETE /api/jobs/{id}`` (or ``POST /api/jobs/{id}/cancel``) — stop an import after its current batch;
- ``GET  /api/assessment?assessment_id=`` — indicative rating per key question with its limiter and the
  notes behind each score (``evidencenlp.assess``), "indicative, for the inspector's judgement";
- ``GET  /api/export?assessment_id=&format=csv|jsonl`` — confirmed labels as a download.
"""

from __future__ import annotations

from evidencenlp.web.app import create_app
from evidencenlp.web.jobs import InlineJobRunner, JobContext, JobRunner, JobStatus, ThreadJobRunner
from evidencenlp.web.security import LOOPBACK_HOSTS, TOKEN_COOKIE, TOKEN_HEADER, is_loopback, new_token

__all__ = ["LOOPBACK_HOSTS", "TOKEN_COOKIE", "TOKEN_HEADER", "InlineJobRunner", "JobContext", "JobRunner",
           "JobStatus", "ThreadJobRunner", "create_app", "is_loopback", "new_token"]
