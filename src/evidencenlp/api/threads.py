"""How many CPU threads the torch encoder uses for one request: few notes get one thread, batches all.

Torch's intra-op thread count is global to the process. A one-note request gains nothing from a
second thread on a busy machine: each operator waits for every thread to be scheduled and the idle
ones spin (measured: 260–400 ms of CPU for one short note with two threads against 37–41 ms with
one). A batch of 100 notes, on the other hand, uses every thread well. :func:`configure` (called by
``evidencenlp api`` for the torch backend) sets the policy; :func:`for_request` applies it before
each request's CPU work (the API suggests one batch at a time by default, ``--concurrency 1``).
Nothing happens when the policy is not configured or torch is not loaded. The tokenizers always work
in the calling thread in the API (:func:`quiet_tokenizer_threads`, set once at start-up).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

#: requests with at most this many notes run on one thread
FEW_NOTES = 4


@dataclass(frozen=True)
class ThreadPolicy:
    """``batch_threads`` for requests of more than ``few_notes`` notes, one thread for the others."""

    batch_threads: int
    few_notes: int = FEW_NOTES


_policy: ThreadPolicy | None = None


def configure(batch_threads: int, few_notes: int = FEW_NOTES) -> ThreadPolicy:
    """Set the process's policy (``batch_threads`` >= 1) and return it."""
    global _policy
    if batch_threads < 1 or few_notes < 0:
        raise ValueError("batch_threads must be at least 1 and few_notes at least 0")
    _policy = ThreadPolicy(batch_threads=batch_threads, few_notes=few_notes)
    return _policy


def threads_for(n_notes: int, policy: ThreadPolicy) -> int:
    """The threads a request of ``n_notes`` notes gets under ``policy``."""
    return 1 if n_notes <= policy.few_notes else policy.batch_threads


def for_request(n_notes: int) -> int | None:
    """Apply the configured policy to torch for a request of ``n_notes`` notes; the threads set, or None."""
    torch = sys.modules.get("torch")
    if _policy is None or torch is None:
        return None
    wanted = threads_for(n_notes, _policy)
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return wanted


def quiet_tokenizer_threads() -> None:
    """Make the Hugging Face tokenizers of this process tokenize in the calling thread (unless the user set
    ``TOKENIZERS_PARALLELISM``): the API tokenizes a note and its sentences, a few short texts, per
    request, and handing them to a pool of threads costs more than it saves (about 0.5 ms of a one-note
    request measured, static backend). The answer is the same. Call it before any thread is started
    (it sets an environment variable the tokenizers read when they run)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
