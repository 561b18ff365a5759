"""Kept for older imports: the dask engine now lives in :mod:`evidencenlp.tagging.dask`, and
:class:`SuggesterSpec` in :mod:`evidencenlp.tagging.spec`. Import them from :mod:`evidencenlp.tagging`."""

from evidencenlp.tagging.dask import (
    CONNECT_SECONDS,
    DEFAULT_SCHEDULER_PORT,
    DEFAULT_WORKERS,
    SCHEDULER_SCHEMES,
    WAIT_SECONDS,
    PartitionResult,
    check_scheduler_address,
    probe_scheduler,
    require_dask,
    tag_file_dask,
    tag_partition,
)
from evidencenlp.tagging.spec import SuggesterSpec, warm_up, worker_suggester

__all__ = [
    "CONNECT_SECONDS", "DEFAULT_SCHEDULER_PORT", "DEFAULT_WORKERS", "SCHEDULER_SCHEMES", "WAIT_SECONDS",
    "PartitionResult", "SuggesterSpec", "check_scheduler_address", "probe_scheduler", "require_dask",
    "tag_file_dask", "tag_partition", "warm_up", "worker_suggester",
]
