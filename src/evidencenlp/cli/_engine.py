"""The ``--engine``, ``--scheduler`` and ``--workers`` options of ``tag`` and ``summarise``.

``--engine dask`` tags on a dask cluster (:func:`evidencenlp.tagging.tag_file_dask`); nothing heavy is
imported here, so ``--help`` and option errors stay fast.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import typer

from evidencenlp.cli._app import fail
from evidencenlp.defaults import DEFAULT_DASK_WORKERS
from evidencenlp.errors import EvidenceNLPError


class Engine(str, Enum):
    """Where the notes are tagged."""

    local = "local"
    dask = "dask"


def engine_option() -> Any:
    """``--engine local|dask``."""
    return typer.Option(Engine.local, "--engine",
                        help="local: tag in this process. dask: tag partitions of the input in parallel on dask "
                             "worker processes (needs the dask extra; see README 'Running on a cluster'); "
                             "--chunk-size then sets the rows per partition.")


def scheduler_option() -> Any:
    """``--scheduler tcp://HOST:8786``."""
    return typer.Option(None, "--scheduler", metavar="ADDRESS",
                        help="With --engine dask: a running dask scheduler, e.g. tcp://HOST:8786 (tcp, tls, ws or "
                             "wss; one that does not answer within 10 s is an error). The workers read the input by "
                             "path, so it must be at the same path on a filesystem every worker sees. Default: start "
                             "a local cluster.")


def workers_option() -> Any:
    """``--workers N``."""
    return typer.Option(None, "--workers", min=1,
                        help=f"With --engine dask and no --scheduler: worker processes of the local cluster, one "
                             f"thread each (default {DEFAULT_DASK_WORKERS}).")


def check_engine_options(engine: Engine, scheduler: str | None, workers: int | None, jobs: int | None = None) -> None:
    """Refuse --scheduler/--workers without --engine dask, both together, and an address that names no
    scheduler (empty, ``http://``, a bad port), and ``--jobs`` with the dask engine: before anything is read or started
    (:func:`evidencenlp.tagging.check_engine`)."""
    from evidencenlp.tagging import TagOptions, check_engine

    try:
        check_engine(engine.value, TagOptions(scheduler=scheduler, workers=workers, jobs=jobs))
    except EvidenceNLPError as exc:
        raise fail(str(exc)) from None
