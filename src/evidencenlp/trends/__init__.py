"""Summarise tagged feedback over time and alert on rises in negative comments per location.

A package in small modules, one idea each:

* :mod:`~evidencenlp.trends.periods` — lenient dates and period labels;
* :mod:`~evidencenlp.trends.stats` — intervals, FDR and the surveillance test (counts against a
  location's own past, over-dispersion, volume, national factor, accumulation over periods);
* :mod:`~evidencenlp.trends.config` — :class:`SummaryConfig`;
* :mod:`~evidencenlp.trends.alerts` — the family of tests on a count table, one FDR control;
* :mod:`~evidencenlp.trends.summary` — groups, top statements, tests and alerts of a tagged frame;
* :mod:`~evidencenlp.trends.files` — raw or tagged files in (tagging first when needed);
* :mod:`~evidencenlp.trends.report` — the HTML report and the spreadsheet/CSV/JSON tables;
* :mod:`~evidencenlp.trends.pool` and :mod:`~evidencenlp.trends.simulate` — power and false alarms
  measured on real comment streams (``python -m evidencenlp.trends.simulate --phase1 PATH``).

The public names below are re-exported so ``from evidencenlp.trends import …`` keeps working.
"""

from evidencenlp.trends.alerts import Counts, Family, TestRecord, run_family
from evidencenlp.trends.config import KINDS, STATEMENT_KIND, SummaryConfig
from evidencenlp.trends.files import is_tagged, read_tagged, summarise_file
from evidencenlp.trends.periods import PERIODS, UNDATED, assign_periods, parse_dates, period_label
from evidencenlp.trends.stats import bh_qvalues, poisson_baseline_test, surveillance_test, wilson_interval
from evidencenlp.trends.summary import (
    DIMENSIONS,
    METHOD,
    NO_LOCATION,
    NORMAL_COLUMNS,
    Alert,
    Summary,
    counts_of,
    normalise_frame,
    spreadsheet_safe,
    summarise_frame,
)

__all__ = [
    "DIMENSIONS", "KINDS", "METHOD", "NORMAL_COLUMNS", "NO_LOCATION", "PERIODS", "STATEMENT_KIND", "UNDATED",
    "Alert", "Counts", "Family", "Summary", "SummaryConfig", "TestRecord", "assign_periods", "bh_qvalues",
    "counts_of", "is_tagged", "normalise_frame", "parse_dates", "period_label", "poisson_baseline_test",
    "read_tagged", "run_family", "spreadsheet_safe", "summarise_file", "summarise_frame", "surveillance_test",
    "wilson_interval",
]
