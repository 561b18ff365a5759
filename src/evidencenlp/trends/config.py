"""How to summarise and when to alert: :class:`SummaryConfig` (validated, JSON-ready)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from evidencenlp.trends.periods import PERIODS
from evidencenlp.trends.stats import NATIONAL_ESTIMATES, NATIONAL_PRIOR_SOURCES, VOLUME_MODES

#: the kinds of test in the alert family, in the order they are reported
KINDS: tuple[str, ...] = ("site_share", "kq_count", "kq_share")
#: the drill-down kind, tested only under a key question that alerted (key questions before statements)
STATEMENT_KIND = "statement_count"


@dataclass(frozen=True)
class SummaryConfig:
    """How to summarise and when to alert.

    Attributes:
        period: ``"week"`` (ISO week, label ``YYYY-Www``), ``"month"`` (``YYYY-MM``) or ``"quarter"`` (``YYYY-Qn``).
        min_cell: cells with fewer comments are marked ``small`` (not hidden).
        baseline_periods: how many periods before a test's window form its baseline (``None`` = all earlier).
        recent_periods: tests are run for the latest this-many periods (``None`` = every period with a
            baseline); fewer tests means a smaller multiple-testing penalty, so recent changes show sooner.
        min_baseline_periods: a location is tested only when its baseline has at least this many periods
            with comments.
        windows: evidence accumulated over the latest 1, 2, … periods ending at the tested period
            (combined by Simes' rule).
        window_weights: one weight per window for a weighted Simes combination (``None``: equal weights);
            the default spends most of the error rate on the accumulated window, where a sustained rise
            adds up, and keeps a share for the latest period alone.
        fdr: the Benjamini–Hochberg false discovery rate; an alert is a test with ``q_value <= fdr``.
        weighted: weight the family's tests by their expected negatives (capped; weighted Benjamini–Hochberg),
            so topics too small to show a rise spend little of the error rate.
        kinds: the tests in the family (:data:`KINDS`). By default a key question's first-stage test is its
            count alone; ``kq_share`` in ``kinds`` combines count and share in the first stage instead
            (weighted Bonferroni), otherwise the share is a child of a key question alert.
        statements: test the statements (and, when it is not in ``kinds``, the share) of a key question
            that alerted (a second, hierarchical step).
        improvements: also test for falls (doubles the family; off by default).
        volume: how a key question's count follows the location's volume (see :mod:`evidencenlp.trends.stats`).
        national: explain a rise seen at every location by the national factor.
        national_prior: where the count tests learn how likely a national shift is (``"estimates"``, the
            default: from every location's national estimate; ``"others"``: from the other locations' own
            rises, so a rise at one location cannot raise the prior that explains it away — measured: no
            power gained and more false alerts on national shifts seen through the classifier).
        national_estimate: how the national shift is estimated from the other locations
            (:data:`evidencenlp.trends.stats.NATIONAL_ESTIMATES`). Default ``"share-logmedian"``: share tests
            take the median of the others' *log* odds ratios (with two others, a closing location's fall
            offsets another's bump instead of the mean of the ratios being pulled up by the bump), count
            tests keep the median of the ratios. Measured and not kept: ``"logmedian"`` for counts too,
            ``"random"`` (DerSimonian–Laird), ``"min"`` and ``"most"`` (README, trends section).
        examples: example comments kept per cell (negative ones first).
        top_statements: how many most-discussed statements to list per location.
    """

    period: str = "month"
    min_cell: int = 10
    baseline_periods: int | None = 12
    recent_periods: int | None = 1
    min_baseline_periods: int = 2
    windows: tuple[int, ...] = (1, 2)
    window_weights: tuple[float, ...] | None = (0.3, 0.7)
    fdr: float = 0.05
    weighted: bool = False
    kinds: tuple[str, ...] = ("site_share", "kq_count")
    statements: bool = True
    improvements: bool = False
    volume: str = "rise"
    national: bool = True
    national_prior: str = "estimates"
    national_estimate: str = "share-logmedian"
    examples: int = 3
    top_statements: int = 5

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {self.period!r}")
        if self.baseline_periods is not None and self.baseline_periods < 1:
            raise ValueError("baseline_periods must be at least 1 (or None for all earlier periods)")
        if self.recent_periods is not None and self.recent_periods < 1:
            raise ValueError("recent_periods must be at least 1 (or None for every period)")
        if not 0 < self.fdr < 1:
            raise ValueError("fdr must be between 0 and 1")
        if self.min_baseline_periods < 1 or self.min_cell < 1 or self.examples < 0:
            raise ValueError("min_baseline_periods and min_cell must be at least 1, examples at least 0")
        if not self.windows or min(self.windows) < 1:
            raise ValueError("windows must be one or more positive period counts")
        if self.window_weights is not None and (len(self.window_weights) != len(self.windows)
                                                or min(self.window_weights) < 0 or sum(self.window_weights) <= 0):
            raise ValueError("window_weights must be one non-negative weight per window, not all zero")
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"kinds must be some of {', '.join(KINDS)}; got {', '.join(unknown) or 'none'}")
        if self.national_prior not in NATIONAL_PRIOR_SOURCES:
            raise ValueError(f"national_prior must be one of {', '.join(NATIONAL_PRIOR_SOURCES)}; "
                             f"got {self.national_prior!r}")
        if self.national_estimate not in NATIONAL_ESTIMATES:
            raise ValueError(f"national_estimate must be one of {', '.join(NATIONAL_ESTIMATES)}; "
                             f"got {self.national_estimate!r}")
        if self.volume not in VOLUME_MODES:
            raise ValueError(f"volume must be one of {', '.join(VOLUME_MODES)}; got {self.volume!r}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        d = asdict(self)
        d["windows"], d["kinds"] = list(self.windows), list(self.kinds)
        d["window_weights"] = None if self.window_weights is None else list(self.window_weights)
        return d
