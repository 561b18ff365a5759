"""The local review page: a FastAPI app serving plain HTML/CSS/JS and a small JSON API.

:func:`create_app` builds the app for one review database. Everything the page needs is served by
the app itself (``review/static``): no CDN, no build step, no network at run time. Note text never
appears in URLs or logs. Access rules are in :mod:`~evidencenlp.review.web.security`.

Modules: ``app`` (wiring), ``context`` (shared services, dependencies), ``security`` (host and token
guard), ``jobs`` (the injectable background job runner), ``bodies`` (request bodies), and one
``APIRouter`` per group of routes: ``pages``, ``reports``, ``notes``, ``imports``.

API (all JSON unless stated):

- ``GET  /api/meta`` — vocabulary, assessments with progress, default inspector;
- ``GET  /api/queue?assessment_id=&filter=all|needs_review|pending|skipped|confirmed&order=file|uncertain``;
- ``GET  /api/notes/{id}`` — note, suggestion, current decision, history;
- ``POST /api/notes/{id}/confirm`` ``{inspector, labels?, rationale?, based_on?}`` — accepted/corrected;
- ``POST /api/notes/{id}/skip`` ``{inspector, rationale?, based_on?}``;
- ``POST /api/notes/{id}/undo`` ``{inspector, based_on?}``;
- ``GET  /api/summary?assessment_id=`` — per key question: confirmed notes, bands, statements;
- ``POST /api/upload?filename=&text_column=&assessment=…`` (body: the file's bytes) → an import job;
- ``POST /api/import`` ``{path, text_column, assessment, …}`` (loopback only) → an import job;
- ``GET  /api/jobs/{id}`` — import progress / result;
- ``GET  /api/export?assessment_id=&format=csv|jsonl`` — confirmed labels as a download.
"""

from __future__ import annotations

from evidencenlp.review.web.app import create_app
from evidencenlp.review.web.jobs import InlineJobRunner, JobContext, JobRunner, JobStatus, ThreadJobRunner
from evidencenlp.review.web.security import LOOPBACK_HOSTS, TOKEN_COOKIE, TOKEN_HEADER, is_loopback, new_token

__all__ = ["LOOPBACK_HOSTS", "TOKEN_COOKIE", "TOKEN_HEADER", "InlineJobRunner", "JobContext", "JobRunner",
           "JobStatus", "ThreadJobRunner", "create_app", "is_loopback", "new_token"]
