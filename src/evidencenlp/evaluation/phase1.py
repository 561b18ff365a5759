"""Re-exports of :mod:`evidencenlp.sources.phase1` (the phase-1 feedback source lives there now)."""

from evidencenlp.sources.phase1 import *  # noqa: F403
from evidencenlp.sources.phase1 import __all__  # noqa: F401
