"""The page itself: ``/`` and the HTML, CSS and JS under ``/static`` (package data, no CDN, no build)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

router = APIRouter()


def static_dir() -> Path:
    """The folder of the page's HTML, CSS and JS (package data)."""
    return Path(str(resources.files("evidencenlp.web").joinpath("static")))


def static_files() -> StaticFiles:
    """The app that serves :func:`static_dir` (mounted at ``/static``)."""
    return StaticFiles(directory=static_dir())


@router.get("/", include_in_schema=False)
def index() -> FileResponse:
    """The review page."""
    return FileResponse(static_dir() / "index.html", media_type="text/html")
