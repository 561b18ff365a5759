"""The review web app, kept importable from its first home: it lives in :mod:`evidencenlp.review.web`."""

from __future__ import annotations

from evidencenlp.review.web import (
    LOOPBACK_HOSTS,
    TOKEN_COOKIE,
    TOKEN_HEADER,
    InlineJobRunner,
    JobRunner,
    ThreadJobRunner,
    create_app,
    is_loopback,
    new_token,
)
from evidencenlp.review.web.bodies import DecisionIn, ImportIn, LabelsIn
from evidencenlp.review.web.imports import MAX_UPLOAD_BYTES
from evidencenlp.review.web.notes import FILTERS
from evidencenlp.review.web.pages import static_dir
from evidencenlp.review.web.security import SECURITY_HEADERS

__all__ = ["FILTERS", "LOOPBACK_HOSTS", "MAX_UPLOAD_BYTES", "SECURITY_HEADERS", "TOKEN_COOKIE", "TOKEN_HEADER",
           "DecisionIn", "ImportIn", "InlineJobRunner", "JobRunner", "LabelsIn", "ThreadJobRunner", "create_app",
           "is_loopback", "new_token", "static_dir"]
