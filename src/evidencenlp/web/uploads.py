"""Where uploaded files wait for their import: folders this server owns, always deleted.

An upload holds the raw, *unredacted* file, so it must not outlive its import. Each upload gets its
own folder ``<root>/<pid>-<random>`` (``root`` is private to the user, mode 0700). The folder is
deleted when the import ends (done, failed or cancelled: the job's ``finally``), when the request
fails before the import starts, when the server shuts down (:meth:`UploadArea.remove_all`, also
registered with :mod:`atexit`), and — for a server that was killed before it could clean up — when
the next server starts (:meth:`UploadArea.remove_stale`: folders of processes that no longer run).

Upload names are checked before anything touches the disk (:func:`safe_upload_name`); the file is
stored under a fixed name (``upload`` + its extension), so a name never reaches the file system.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import threading
import unicodedata
from pathlib import Path

from evidencenlp.review.models import ReviewError
from evidencenlp.tabular import table_format

#: longest upload name accepted (characters), well under every file system's limit
MAX_NAME = 200
_OWNED = re.compile(r"^(\d+)-[A-Za-z0-9_]+$")


class BadUploadName(ReviewError):
    """The upload's file name cannot be used (answered with 422)."""


def default_root() -> Path:
    """``<temp>/evidencenlp-uploads-<user>``: one folder per user of this computer."""
    user = getattr(os, "getuid", lambda: os.environ.get("USERNAME", "user"))()
    return Path(tempfile.gettempdir()) / f"evidencenlp-uploads-{user}"


def safe_upload_name(filename: str) -> str:
    """The name to show for an upload (its last path part); :class:`BadUploadName` for a name we refuse.

    Refused: empty names, ``.``/``..``, control characters (NUL included), names longer than
    :data:`MAX_NAME`. Other Unicode is fine (it is only shown, never used as a path). An unsupported
    extension raises :class:`~evidencenlp.errors.InputFileError` (the supported ones are listed).
    """
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in filename):
        raise BadUploadName("the upload's file name has control characters; rename the file")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if not name or name in (".", ".."):
        raise BadUploadName("the upload needs a file name, e.g. notes.csv")
    if len(name) > MAX_NAME:
        raise BadUploadName(f"the upload's file name is longer than {MAX_NAME} characters; rename the file")
    table_format(Path(name))
    return name


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError, ValueError):
        return True  # someone else's process, or we cannot tell: leave its folder alone
    return True


class UploadArea:
    """The upload folders of one server process."""

    def __init__(self, root: Path | None = None) -> None:
        self.root = Path(root) if root is not None else default_root()
        self._lock = threading.Lock()
        self._mine: set[Path] = set()
        atexit.register(self.remove_all)

    def new(self) -> Path:
        """A fresh, empty folder for one upload."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.root))
        with self._lock:
            self._mine.add(folder)
        return folder

    def remove(self, folder: Path) -> None:
        """Delete one upload folder and everything in it."""
        shutil.rmtree(folder, ignore_errors=True)
        with self._lock:
            self._mine.discard(folder)

    def remove_all(self) -> None:
        """Delete every upload folder of this process (at shutdown)."""
        with self._lock:
            folders = list(self._mine)
        for folder in folders:
            self.remove(folder)
        if self.root.is_dir():
            for folder in self.root.iterdir():
                m = _OWNED.match(folder.name)
                if m and int(m.group(1)) == os.getpid():
                    shutil.rmtree(folder, ignore_errors=True)

    def remove_stale(self) -> list[Path]:
        """Delete upload folders left by servers that no longer run (killed before cleaning up)."""
        removed: list[Path] = []
        if not self.root.is_dir():
            return removed
        for folder in self.root.iterdir():
            m = _OWNED.match(folder.name)
            if m and folder.is_dir() and not _alive(int(m.group(1))):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        return removed
