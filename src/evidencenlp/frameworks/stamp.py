"""The one cache rule of the frameworks package: what is read from a folder is kept until a file in it changes."""

from __future__ import annotations

from pathlib import Path

Stamp = tuple[tuple[str, int, int], ...]


def folder_stamp(folder: Path) -> tuple[str, Stamp]:
    """``(resolved folder, ((file name, mtime ns, size), …))``: a cache key that changes with any file in it."""
    try:
        files = tuple(sorted((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in folder.iterdir()
                             if p.is_file()))
    except OSError:
        files = ()
    return str(folder.resolve()), files
