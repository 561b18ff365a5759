"""Tagging a table of notes: one :func:`tag` (input, output, :class:`TagOptions`, :class:`SuggesterSpec`, engine).

Modules, one idea each:

- :mod:`~evidencenlp.tagging.spec` — :class:`SuggesterSpec`, the one lazy way to build a Suggester
  (and the only owner of ``redact``); the per-process cache of dask workers and the API.
- :mod:`~evidencenlp.tagging.rows` — the flat columns of a Suggestion (:data:`FLAT_COLUMNS`).
- :mod:`~evidencenlp.tagging.chunk` — tag one chunk of rows; :class:`TagSummary` (counts only).
- :mod:`~evidencenlp.tagging.checks` — the checks that need no model (paths, header, cells).
- :mod:`~evidencenlp.tagging.parts` — the parts folder: manifest, overwrite/``--force``/``--resume``
  checks, save part, assemble, finish (owned once for both engines).
- :mod:`~evidencenlp.tagging.local` and :mod:`~evidencenlp.tagging.dask` — the two engines;
  :mod:`~evidencenlp.tagging.pool` — the local engine's worker processes (``--jobs``), chunks back in order.
- :mod:`~evidencenlp.tagging.run` — :func:`tag`, which picks the engine.
"""

from evidencenlp.tagging.checks import check_paths, check_tag_input, check_text_cells
from evidencenlp.tagging.chunk import TagSummary, tag_chunk
from evidencenlp.tagging.dask import check_scheduler_address, probe_scheduler, require_dask, tag_file_dask
from evidencenlp.tagging.local import tag_file
from evidencenlp.tagging.parts import (
    MANIFEST,
    AlreadyComplete,
    assemble,
    check_output,
    check_resume_target,
    clean_stale_temp_files,
    finish_output,
    parts_dir,
)
from evidencenlp.tagging.rows import FLAT_COLUMNS, empty_row, flat_row
from evidencenlp.tagging.run import ENGINES, TagOptions, check_before_loading, check_engine, tag
from evidencenlp.tagging.spec import SuggesterSpec, worker_suggester

__all__ = [
    "ENGINES", "FLAT_COLUMNS", "MANIFEST", "AlreadyComplete", "SuggesterSpec", "TagOptions", "TagSummary", "assemble",
    "check_before_loading", "check_engine", "check_output", "check_paths", "check_resume_target",
    "check_scheduler_address", "check_tag_input", "check_text_cells", "clean_stale_temp_files", "empty_row",
    "finish_output", "flat_row", "parts_dir", "probe_scheduler", "require_dask", "tag", "tag_chunk", "tag_file",
    "tag_file_dask", "worker_suggester",
]
