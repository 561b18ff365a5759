"""One :class:`FrameworkSet` per frameworks folder: the frameworks, the crosswalk, the taxonomy, and the
framework index built lazily from an :class:`~evidencenlp.encoder.Embedder`.

Loaded once under one cache rule (:func:`~evidencenlp.frameworks.stamp.folder_stamp`): what was read
from a folder is reused until a file in it changes. Every consumer (the Suggester, the classifier,
training, evaluation, the taxonomy look-ups) asks :func:`load_framework_set` instead of loading files.

>>> fs = load_framework_set()                                  # doctest: +SKIP
>>> fs.taxonomy.key_questions[0], fs.version["crosswalk"]      # doctest: +SKIP
('safe', '…')
>>> index = fs.index(load_embedder("static"))                  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from evidencenlp.encoder.base import Embedder
from evidencenlp.errors import EvidenceNLPError
from evidencenlp.frameworks.crosswalk import Crosswalk, load_crosswalk
from evidencenlp.frameworks.files import Framework, load_frameworks
from evidencenlp.frameworks.ids import CROSSWALK_FILE
from evidencenlp.frameworks.index import FrameworkIndex
from evidencenlp.frameworks.rules import RatingRules
from evidencenlp.frameworks.stamp import Stamp, folder_stamp
from evidencenlp.frameworks.taxonomy import Taxonomy
from evidencenlp.paths import frameworks_dir


@dataclass(frozen=True, eq=False)
class FrameworkSet:
    """The validated frameworks of one folder and what is derived from them.

    Attributes:
        folder: the frameworks folder.
        frameworks: framework id → :class:`Framework`, in file order.
        taxonomy: the label space (:class:`Taxonomy`).
        crosswalk_error: why the folder's crosswalk could not be used (``None`` when it loaded).
    """

    folder: Path
    frameworks: dict[str, Framework]
    taxonomy: Taxonomy
    optional_crosswalk: Crosswalk | None
    crosswalk_error: EvidenceNLPError | None = None
    _indexes: dict[Embedder, FrameworkIndex] = field(default_factory=dict, repr=False)
    _rules: list[RatingRules] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def crosswalk(self) -> Crosswalk:
        """The crosswalk (checked against the frameworks); raises the error that prevented loading it."""
        if self.optional_crosswalk is None:
            assert self.crosswalk_error is not None
            raise self.crosswalk_error
        return self.optional_crosswalk

    @property
    def version(self) -> dict[str, str]:
        """Framework id → version, plus the crosswalk's (when it loaded)."""
        versions = {fid: fw.version for fid, fw in self.frameworks.items()}
        if self.optional_crosswalk is not None:
            versions["crosswalk"] = self.optional_crosswalk.version
        return versions

    @property
    def rules(self) -> RatingRules:
        """The primary framework's scoring and rating rules, read once (raises a FrameworkError when it has none)."""
        with self._lock:
            if not self._rules:
                self._rules.append(RatingRules.from_framework(self.frameworks[self.taxonomy.framework],
                                                              self.taxonomy))
            return self._rules[0]

    def index(self, embedder: Embedder) -> FrameworkIndex:
        """The framework index embedded with ``embedder``: built at the first request, then shared."""
        with self._lock:
            if embedder not in self._indexes:
                self._indexes[embedder] = FrameworkIndex(self.frameworks, self.crosswalk, embedder=embedder)
            return self._indexes[embedder]


def read_framework_set(folder: Path | None = None) -> FrameworkSet:
    """Read and validate the frameworks folder (default: :func:`paths.frameworks_dir`) now, uncached.

    Raises :class:`~evidencenlp.errors.FrameworkError` for a missing folder or an invalid framework
    file; a missing or invalid crosswalk is kept in ``crosswalk_error`` and raised on use.
    """
    folder = folder or frameworks_dir()
    frameworks = load_frameworks(folder)
    taxonomy = Taxonomy.from_frameworks(frameworks)
    try:
        crosswalk: Crosswalk | None = load_crosswalk(folder / CROSSWALK_FILE, frameworks)
        error = None
    except EvidenceNLPError as exc:  # a sector framework may come without a crosswalk
        crosswalk, error = None, exc
    return FrameworkSet(folder, frameworks, taxonomy, crosswalk, error)


@lru_cache(maxsize=8)
def _cached_set(folder: str, _stamp: Stamp) -> FrameworkSet:
    return read_framework_set(Path(folder))


def load_framework_set(folder: Path | str | None = None) -> FrameworkSet:
    """The :class:`FrameworkSet` of ``folder`` (default: the packaged frameworks), read once and reused
    until a file in the folder changes."""
    path = Path(folder) if folder is not None else frameworks_dir()
    if not path.is_dir():
        return read_framework_set(path)  # raises the usual "frameworks folder not found"
    return _cached_set(*folder_stamp(path))


def default_taxonomy(frameworks_dir: Path | None = None) -> Taxonomy:
    """The taxonomy of the frameworks in ``frameworks_dir`` (default: the packaged ones), from its :class:`FrameworkSet`."""
    return load_framework_set(frameworks_dir).taxonomy
