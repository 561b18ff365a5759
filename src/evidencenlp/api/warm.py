"""Load the models once, in a background thread, and hand the warm suggester to every request.

The API starts answering at once (``/v1/health`` says ``loading``) while :class:`WarmSuggester`
builds the suggester from a :class:`~evidencenlp.tagging.SuggesterSpec` (the one lazy way to build
it: loaded, warmed and cached per process by :func:`evidencenlp.tagging.worker_suggester`) or from
a zero-argument loader (tests pass fakes). A load that fails is kept as one line saying why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, Union

from evidencenlp.errors import EvidenceNLPError

if TYPE_CHECKING:
    from evidencenlp.suggest import Suggestion
    from evidencenlp.tagging import SuggesterSpec

log = logging.getLogger(__name__)

#: a made-up note of two sentences: the first request then finds the sentence pipeline built too
WARM_UP_NOTE = "Warm-up note: the call bell was answered within two minutes. Staff were kind and patient."

LOADING, READY, FAILED = "loading", "ready", "failed"


class NoteSuggester(Protocol):
    """What the API needs from a suggester (:class:`~evidencenlp.suggest.Suggester`; tests pass fakes)."""

    @property
    def model_version(self) -> str:
        """The id of the trained model."""
        ...

    def suggest_many(self, texts: Sequence[str | None], sentences: bool = True,
                     evidence: bool = True) -> Sequence[Suggestion | None]:
        """One suggestion per text, None for a blank one."""
        ...


SuggesterSource = Union["SuggesterSpec", Callable[[], NoteSuggester]]


def _load(source: SuggesterSource) -> NoteSuggester:
    """Build the suggester ``source`` describes (a spec goes through the per-process cache), then warm it
    (with a spec, the language detectors too)."""
    if callable(source):
        suggester = source()
    else:
        from evidencenlp.tagging import worker_suggester

        suggester = worker_suggester(source)
        from evidencenlp.abstain import warm_up

        warm_up()  # the language detectors' models, which the warm-up note (plain English) never needs
    suggester.suggest_many([WARM_UP_NOTE], sentences=True, evidence=True)
    return suggester


class WarmSuggester:
    """The suggester, loaded once in a background thread; its state is ``loading``, ``ready`` or ``failed``."""

    def __init__(self, source: SuggesterSource, on_failure: Callable[[str], None] | None = None) -> None:
        """``source``: a SuggesterSpec or a zero-argument loader. ``on_failure(reason)`` is called (from the
        loading thread) when loading fails; without it the reason is logged."""
        self._source = source
        self._on_failure = on_failure
        self._suggester: NoteSuggester | None = None
        self._error: str | None = None
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self.load_seconds: float | None = None

    def start(self) -> None:
        """Begin loading in a daemon thread (once; later calls do nothing)."""
        if self._thread is None:
            self._started = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="evidencenlp-api-load", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        try:
            suggester = _load(self._source)
        except EvidenceNLPError as exc:  # a user-facing reason (missing model, wrong backend, ...)
            self._fail(str(exc))
        except Exception as exc:  # a bug or a broken install: say what kind, never a traceback with data
            self._fail(f"loading the models failed ({type(exc).__name__})")
        else:
            self.load_seconds = time.perf_counter() - self._started
            self._suggester = suggester
            log.info("models loaded in %.1f s (model %s)", self.load_seconds, suggester.model_version)

    def _fail(self, reason: str) -> None:
        """Keep ``reason``; tell ``on_failure`` (which then reports it), or else log it."""
        self._error = reason
        if self._on_failure is not None:
            self._on_failure(reason)
        else:
            log.error("the API cannot suggest: %s", reason)

    @property
    def state(self) -> str:
        """``loading``, ``ready`` or ``failed``."""
        if self._suggester is not None:
            return READY
        return FAILED if self._error is not None else LOADING

    @property
    def error(self) -> str | None:
        """Why loading failed (one line), or None."""
        return self._error

    @property
    def seconds_loading(self) -> float:
        """Seconds since loading began (0 before :meth:`start`)."""
        return time.perf_counter() - self._started if self._thread is not None else 0.0

    def get(self) -> NoteSuggester | None:
        """The warm suggester, or None while loading or after a failed load."""
        return self._suggester

    def wait(self, timeout: float | None = None) -> str:
        """Wait (at most ``timeout`` s) for loading to end; return the state."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.state


__all__ = ["FAILED", "LOADING", "READY", "WARM_UP_NOTE", "NoteSuggester", "SuggesterSource", "WarmSuggester"]
