"""The terminal review: a thin shell over :mod:`evidencenlp.review` (``evidencenlp review``).

:mod:`~evidencenlp.tui.session` holds the flow (:class:`ReviewSession`: one note at a time,
single-key decisions, resumable); :mod:`~evidencenlp.tui.keys` the key readers (a real terminal,
or a stream for a script or a test).
"""

from evidencenlp.tui.keys import KeyReader, StreamKeys, terminal_keys
from evidencenlp.tui.session import HELP, ReviewSession, SessionResult

__all__ = ["HELP", "KeyReader", "ReviewSession", "SessionResult", "StreamKeys", "terminal_keys"]
