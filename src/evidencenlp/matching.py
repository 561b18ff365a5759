"""The framework index: re-exported from :mod:`evidencenlp.frameworks.index` (its home); get one from
:meth:`evidencenlp.frameworks.FrameworkSet.index`."""

from evidencenlp.frameworks.index import FrameworkIndex, Match

__all__ = ["FrameworkIndex", "Match"]
