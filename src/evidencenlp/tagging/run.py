"""One way to tag a table: :func:`tag` (input, output, options, suggester spec, engine).

The engine is ``local`` (chunks through one Suggester in this process,
:func:`~evidencenlp.tagging.local.tag_file`) or ``dask`` (partitions on dask workers,
:func:`~evidencenlp.tagging.dask.tag_file_dask`). Both write the same output row for row and share
one parts folder (:mod:`evidencenlp.tagging.parts`). Redaction follows ``suggester.redact``: it is
said once, in the spec.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evidencenlp.defaults import DEFAULT_CHUNK_ROWS, DEFAULT_DASK_WORKERS
from evidencenlp.errors import InputFileError
from evidencenlp.tabular import count_rows
from evidencenlp.tagging.checks import check_paths, check_tag_input
from evidencenlp.tagging.chunk import TagSummary
from evidencenlp.tagging.dask import check_scheduler_address, require_dask, tag_file_dask
from evidencenlp.tagging.local import tag_file
from evidencenlp.tagging.parts import check_resume_target
from evidencenlp.tagging.pool import ChunkPool, default_jobs
from evidencenlp.tagging.spec import SuggesterSpec

#: where the notes are tagged
ENGINES: tuple[str, ...] = ("local", "dask")
EngineName = Literal["local", "dask"]


@dataclass(frozen=True)
class TagOptions:
    """How to read the input and write the output of a tagging run (everything but the model).

    ``chunk_rows`` is the rows per chunk (local) or per partition (dask); ``resume`` continues an
    interrupted run, ``force`` overwrites an output or discards an interrupted run; ``prefix`` goes
    before every added column; ``delimiter`` overrides the CSV separator; ``sheet`` reads one sheet of
    an .xlsx input (local only). ``scheduler`` (``tcp://HOST:8786``) and ``workers`` apply to the dask
    engine: a running scheduler, or the worker processes of a local cluster. ``jobs`` applies to the
    local engine: the worker processes that tag chunks side by side (``None``:
    :func:`~evidencenlp.tagging.pool.default_jobs` of the backend; 1 tags in this process).
    """

    text_column: str = "text"
    chunk_rows: int = DEFAULT_CHUNK_ROWS
    resume: bool = False
    force: bool = False
    prefix: str = ""
    encoding: str = "utf-8"
    delimiter: str | None = None
    sheet: str | None = None
    scheduler: str | None = None
    workers: int | None = None
    jobs: int | None = None


def check_engine(engine: str, options: TagOptions) -> None:
    """Refuse an unknown engine, ``scheduler``/``workers`` without the dask engine, both together, and a
    scheduler address that names none: before anything is read or started."""
    if engine not in ENGINES:
        raise InputFileError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    if engine != "dask" and (options.scheduler is not None or options.workers is not None):
        raise InputFileError("--scheduler and --workers apply to --engine dask only")
    if options.scheduler is not None and options.workers is not None:
        raise InputFileError("--workers sets the size of a local cluster; with --scheduler the cluster's own "
                             "workers are used")
    if engine != "local" and options.jobs is not None:
        raise InputFileError("--jobs applies to --engine local only (with --engine dask, --workers sets the "
                             "worker processes)")
    if options.jobs is not None and options.jobs < 1:
        raise InputFileError(f"--jobs must be at least 1; got {options.jobs}")
    if options.workers is not None and options.workers < 1:
        raise InputFileError(f"--workers must be at least 1; got {options.workers}")
    if options.scheduler is not None:
        check_scheduler_address(options.scheduler)


def check_before_loading(input_path: Path, output: Path, options: TagOptions, engine: str = "local") -> None:
    """The checks of :func:`tag` that need no model (about a second): run them before loading anything.

    Raises :class:`~evidencenlp.tagging.parts.AlreadyComplete` when ``resume`` finds the output finished.
    """
    check_engine(engine, options)
    check_resume_target(output, options.resume, options.force)
    if engine == "dask":  # the dask engine reads the whole input on the driver later, before any cluster starts
        check_paths(input_path, output, options.delimiter, options.sheet)
        require_dask()
        return
    check_tag_input(input_path, output, options.text_column, prefix=options.prefix, encoding=options.encoding,
                    delimiter=options.delimiter, sheet=options.sheet, resume=options.resume, force=options.force)


def tag(input_path: Path, output: Path, options: TagOptions, suggester: SuggesterSpec,
        engine: EngineName | str = "local", *, on_rows: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
        on_event: Callable[[str], None] | None = None) -> TagSummary:
    """Tag every row of ``input_path`` into ``output`` with the Suggester ``suggester`` describes.

    Keeps every input column and the row order, adds the suggestion columns (with ``options.prefix``),
    and replaces the text column by its redacted form when ``suggester.redact``. ``engine="local"``
    loads the Suggester here after the checks that need no model, or in ``options.jobs`` worker
    processes (:func:`local_jobs`; the same output); ``engine="dask"`` has each worker
    load it. ``on_rows`` is called with the rows of each saved chunk, ``on_progress`` with the notes
    encoded after each encoder batch, ``on_event`` with one-line status messages (dask: cluster
    start-up). Returns the run's counts; raises :class:`~evidencenlp.errors.InputFileError` with a
    one-line message for anything wrong with the input, the output or the options.
    """
    input_path, output = Path(input_path), Path(output)
    check_before_loading(input_path, output, options, engine)
    if engine == "dask":
        return tag_file_dask(suggester, input_path, output, options.text_column, partition_rows=options.chunk_rows,
                             resume=options.resume, force=options.force, prefix=options.prefix,
                             encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet,
                             scheduler=options.scheduler, workers=options.workers or DEFAULT_DASK_WORKERS,
                             on_rows=on_rows, on_progress=on_progress, on_event=on_event)
    jobs = local_jobs(input_path, options, suggester)
    with ExitStack() as stack:
        tagger = stack.enter_context(ChunkPool(suggester, jobs, on_progress)) if jobs > 1 else suggester.load()
        return tag_file(tagger, input_path, output, options.text_column, chunk_rows=options.chunk_rows,
                        resume=options.resume, force=options.force, redact=suggester.redact, prefix=options.prefix,
                        encoding=options.encoding, on_rows=on_rows, on_progress=on_progress,
                        delimiter=options.delimiter, sheet=options.sheet)


def local_jobs(input_path: Path, options: TagOptions, suggester: SuggesterSpec) -> int:
    """The worker processes of a local run: ``options.jobs``, else the backend's default
    (:func:`~evidencenlp.tagging.pool.default_jobs`); never more than the input has chunks, and 1 for a
    spec holding an encoder object (it cannot be sent to another process)."""
    if suggester.embedder is not None:
        return 1
    jobs = options.jobs if options.jobs is not None else default_jobs(suggester.backend)
    if jobs > 1:
        rows = count_rows(input_path, options.encoding, options.delimiter)
        if rows is not None:
            jobs = min(jobs, max(1, -(-rows // options.chunk_rows)))
    return jobs
