"""The suggestion API (``evidencenlp api``): a thin FastAPI shell over :class:`~evidencenlp.suggest.Suggester`.

``POST /v1/suggest`` answers one object per note in the output contract, ``GET /v1/health`` says
whether the models are ready, ``GET /v1/frameworks`` describes the label space. The app needs the
``web`` extra (FastAPI, uvicorn); importing this package does not, so the command line stays fast.

>>> from evidencenlp.api import create_api, ApiLimits            # doctest: +SKIP
>>> from evidencenlp.tagging import SuggesterSpec                  # doctest: +SKIP
>>> app = create_api(SuggesterSpec(backend="static"), token="s3cret", limits=ApiLimits(max_notes=500))  # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from evidencenlp.api.gate import TOKEN_ENV, new_token
from evidencenlp.api.limits import ApiLimits

if TYPE_CHECKING:
    from evidencenlp.api.app import PUBLIC_PATHS, create_api

__all__ = ["PUBLIC_PATHS", "TOKEN_ENV", "ApiLimits", "create_api", "new_token"]


def __getattr__(name: str) -> Any:
    """``create_api`` and ``PUBLIC_PATHS`` are imported on first use (they import FastAPI)."""
    if name in ("create_api", "PUBLIC_PATHS"):
        from evidencenlp.api import app

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
