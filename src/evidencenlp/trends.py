"""Summarise tagged feedback over time and flag changes in negative comments per location.

A *tagged* table (the output of ``evidencenlp tag``: one row per comment with ``key_question``,
``statement``, ``evidence_category`` and ``band``) plus a location and a date column becomes:

* **groups** — per location × period × dimension (key question, statement, evidence category, band,
  and ``all``) × label: the number of comments ``n``, how many are negative (band in the worse half of
  :attr:`Taxonomy.bands <evidencenlp.taxonomy.Taxonomy.negative_bands>`), the negative share with a
  95% Wilson interval, a ``small`` mark when ``n < min_cell`` (small cells are marked, never hidden),
  and a few example comments (always passed through :func:`evidencenlp.text.redact_only`);
* **top statements** — the most discussed statements of each location;
* **alerts** — statistically grounded changes (see :func:`change_tests`): per location × key question
  (and × statement where counts allow) × period, negatives against the location's own baseline
  (one-sided Fisher exact test) **and** against the change seen at the other locations in the same
  period (a national shift is not a local burst), with Benjamini–Hochberg FDR control over all tests.

Dates are parsed leniently (:func:`parse_dates`); rows whose date cannot be parsed are kept, counted
and placed in the period ``"undated"`` (shown in the tables, never tested).

Nothing here logs or prints note text; example comments only travel inside the returned objects
(``Summary.to_dict(examples=True)``, the groups frame) for the report and the spreadsheet outputs.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import check_readable, iter_chunks, require_column, table_format
from evidencenlp.taxonomy import Taxonomy, default_taxonomy

#: supported period lengths and the pandas frequency of each (weeks run Monday–Sunday, ISO)
PERIODS: dict[str, str] = {"week": "W-SUN", "month": "M", "quarter": "Q"}
#: the period label of rows whose date is missing or unparseable
UNDATED = "undated"
#: the dimensions of the groups table, in output order (``all`` = every comment of the cell)
DIMENSIONS: tuple[str, ...] = ("all", "key_question", "statement", "evidence_category", "band")
#: location label for rows with an empty location
NO_LOCATION = "(no location)"
#: the one-line description of the detector carried in every output
METHOD = ("one-sided Fisher exact test of the period's negatives against the location's own baseline "
          "(earlier periods), intersected with a one-sided test that the location's change (log odds ratio) "
          "exceeds the other locations' change over the same periods (Woolf, +0.5, others' period shrunk by 10 "
          "pseudo-comments to their baseline); p = max of the two; "
          "Benjamini-Hochberg FDR over all tests (both directions, key question and statement levels)")
_Z95 = 1.959963984540054
_YEARISH = re.compile(r"\d{4}|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}\b")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class SummaryConfig:
    """How to summarise and when to alert.

    Attributes:
        period: ``"week"`` (ISO week, label ``YYYY-Www``), ``"month"`` (``YYYY-MM``) or ``"quarter"`` (``YYYY-Qn``).
        min_cell: cells with fewer comments are marked ``small`` (not hidden).
        baseline_periods: how many earlier periods form the baseline (``None`` = all earlier periods).
        recent_periods: alerts are sought in the latest this-many periods (``None`` = every period with a
            baseline); fewer tests means a smaller multiple-testing penalty, so recent changes show sooner.
        min_baseline_periods: a cell is tested only when its baseline has at least this many periods with comments.
        fdr: the Benjamini–Hochberg false discovery rate; an alert is a test with ``q_value <= fdr``.
        examples: example comments kept per cell (negative ones first).
        top_statements: how many most-discussed statements to list per location.
        kq_min_n: a location × key question × period is tested when it has at least this many comments
            and its baseline at least ``2 * kq_min_n``.
        statement_min_n: the same for a statement ("where counts allow"); default ``min_cell``.
    """

    period: str = "month"
    min_cell: int = 10
    baseline_periods: int | None = None
    recent_periods: int | None = 3
    min_baseline_periods: int = 2
    fdr: float = 0.05
    examples: int = 3
    top_statements: int = 5
    kq_min_n: int = 5
    statement_min_n: int | None = None

    def __post_init__(self) -> None:
        if self.period not in PERIODS:
            raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {self.period!r}")
        if self.baseline_periods is not None and self.baseline_periods < 1:
            raise ValueError("baseline_periods must be at least 1 (or None for all earlier periods)")
        if self.recent_periods is not None and self.recent_periods < 1:
            raise ValueError("recent_periods must be at least 1 (or None for every period)")
        if not 0 < self.fdr < 1:
            raise ValueError("fdr must be between 0 and 1")
        if self.min_baseline_periods < 1 or self.min_cell < 1 or self.kq_min_n < 1 or self.examples < 0:
            raise ValueError("min_baseline_periods, min_cell and kq_min_n must be at least 1, examples at least 0")

    @property
    def statement_threshold(self) -> int:
        """The minimum period count for a statement-level test."""
        return self.statement_min_n if self.statement_min_n is not None else self.min_cell

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


# -- dates and periods ------------------------------------------------------------------------------


def parse_dates(values: Sequence[Any] | pd.Series) -> pd.Series:
    """Parse dates leniently: ISO 8601 first, then day-first free formats (``05/03/2024``, ``5 March 2024``).

    Returns a tz-naive ``datetime64`` Series (same length and index as ``values`` when it is a Series)
    with ``NaT`` for missing or unparseable values. A value must name a year (four digits, or
    ``d/m/yy``) — "last Tuesday" or "5 March" are unparseable rather than silently given this year.
    Timezone-aware values are converted to UTC first. Each distinct value is parsed once.
    """
    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        out = pd.to_datetime(series, errors="coerce", utc=True)
        return out.dt.tz_localize(None)
    obj = series.astype(object)
    uniq = pd.unique(obj[obj.notna()])
    parsed: dict[Any, pd.Timestamp] = {}
    texts: list[str] = []
    keys: list[Any] = []
    for v in uniq:
        if isinstance(v, (pd.Timestamp, np.datetime64)) or hasattr(v, "isoformat"):
            ts = pd.to_datetime(v, errors="coerce", utc=True)
            if not pd.isna(ts):
                parsed[v] = ts.tz_localize(None)
            continue
        text = str(v).strip()
        if text and _YEARISH.search(text):
            texts.append(text)
            keys.append(v)
    if texts:
        arr = pd.Series(texts, dtype=object)
        iso = pd.to_datetime(arr, format="ISO8601", errors="coerce", utc=True)
        rest = iso.isna()
        if rest.any():
            iso[rest] = pd.to_datetime(arr[rest], format="mixed", dayfirst=True, errors="coerce", utc=True)
        for key, ts in zip(keys, iso.dt.tz_localize(None)):
            if not pd.isna(ts):
                parsed[key] = ts
    mapped = obj.map(lambda v: parsed.get(v, pd.NaT) if v is not None and not _missing(v) else pd.NaT)
    return pd.to_datetime(mapped, errors="coerce")


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def period_label(period: pd.Period, kind: str) -> str:
    """The label of one period: ``YYYY-MM`` (month), ``YYYY-Www`` (ISO week), ``YYYY-Qn`` (quarter)."""
    if kind == "month":
        return f"{period.year:04d}-{period.month:02d}"
    if kind == "quarter":
        return f"{period.year:04d}-Q{period.quarter}"
    iso = period.start_time.isocalendar()
    return f"{iso[0]:04d}-W{iso[1]:02d}"


def assign_periods(dates: pd.Series, kind: str) -> tuple[pd.Series, list[str]]:
    """Period labels for parsed ``dates`` (``UNDATED`` for NaT) and the full calendar of dated periods.

    The calendar runs from the earliest to the latest period with no gaps (a period with no comments
    still counts as a period), oldest first; ``UNDATED`` is not part of it.
    """
    if kind not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}; got {kind!r}")
    dated = dates.notna()
    labels = pd.Series(UNDATED, index=dates.index, dtype=object)
    if not dated.any():
        return labels, []
    periods = dates[dated].dt.to_period(PERIODS[kind])
    calendar_index = pd.period_range(periods.min(), periods.max(), freq=PERIODS[kind])
    names = {p: period_label(p, kind) for p in calendar_index}
    labels[dated] = periods.map(names).astype(object)
    return labels, [names[p] for p in calendar_index]


# -- intervals and tests ----------------------------------------------------------------------------


def wilson_interval(negative: np.ndarray | Sequence[float], n: np.ndarray | Sequence[float],
                    z: float = _Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval (default 95%) for proportions ``negative / n``, element-wise; NaN where ``n == 0``."""
    x = np.asarray(negative, dtype=float)
    m = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
        lo = np.where(m > 0, np.clip(centre - half, 0, 1), np.nan)
        hi = np.where(m > 0, np.clip(centre + half, 0, 1), np.nan)
    return lo, hi


@dataclass
class ChangeTests:
    """Result of :func:`change_tests` for arrays of shape ``(L, G, P)`` (locations × groups × periods).

    Every array has that shape. ``tested`` marks the cells that were tested; p-values are NaN elsewhere.
    ``p_worse``/``p_better`` combine the own-baseline and the contrast test (max of the two);
    ``contrast`` marks cells where the other locations could be used for the contrast.
    """

    n: np.ndarray
    negative: np.ndarray
    baseline_n: np.ndarray
    baseline_negative: np.ndarray
    others_n: np.ndarray
    others_negative: np.ndarray
    others_baseline_n: np.ndarray
    others_baseline_negative: np.ndarray
    tested: np.ndarray
    contrast: np.ndarray
    p_own_worse: np.ndarray
    p_own_better: np.ndarray
    p_contrast_worse: np.ndarray
    p_contrast_better: np.ndarray
    p_worse: np.ndarray
    p_better: np.ndarray
    log_odds_ratio: np.ndarray
    log_relative_odds_ratio: np.ndarray


def _window_sum(a: np.ndarray, k: int | None) -> np.ndarray:
    """Sum over the previous ``k`` periods (all earlier when None), excluding the current one, along axis -1."""
    cum = np.cumsum(a, axis=-1)
    before = np.concatenate([np.zeros_like(cum[..., :1]), cum[..., :-1]], axis=-1)  # sum of periods < t
    if k is None:
        return before
    shifted = np.concatenate([np.zeros_like(cum[..., :k]), before[..., :-k]], axis=-1) if k < a.shape[-1] \
        else np.zeros_like(before)
    return before - shifted


def _log_or(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Log odds ratio (a/b)/(c/d) with +0.5 on every cell, and its Woolf variance."""
    a, b, c, d = (np.asarray(v, dtype=float) + 0.5 for v in (a, b, c, d))
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def change_tests(n: np.ndarray, negative: np.ndarray, min_n: int = 5, baseline_periods: int | None = None,
                 min_baseline_periods: int = 2, min_baseline_n: int | None = None,
                 recent_periods: int | None = None, mid_p: bool = False, prior: float = 10.0) -> ChangeTests:
    """Test every location × group × period for a change in its share of negative comments.

    ``n`` and ``negative`` are integer arrays of shape ``(L, G, P)``: comments and negative comments
    per location, group (key question or statement) and period (consecutive, oldest first).

    Only the last ``recent_periods`` periods are tested (``None``: every period that has a baseline).
    For each cell with ``n >= min_n``, a baseline (the previous ``baseline_periods`` periods, or all
    earlier ones) of at least ``min_baseline_n`` comments (default ``2 * min_n``) spread over at least
    ``min_baseline_periods`` periods with comments:

    1. **own baseline** — one-sided Fisher exact test of the 2×2 table (period vs baseline) ×
       (negative vs not), computed as the hypergeometric tail, for a rise (``worse``) and a fall (``better``);
    2. **contrast** — when the other locations have comments in the period and the baseline, a
       one-sided z-test that the location's log odds ratio (period vs baseline) exceeds the other
       locations' pooled log odds ratio (Woolf variance, +0.5 per cell; the others' period share is
       shrunk towards their baseline share by ``prior`` pseudo-comments): a change seen everywhere is
       a national change, not a local one;
    ``mid_p=True`` uses the mid-p Fisher tail (less conservative; off by default).

    3. the combined p-value is the larger of the two (an intersection–union test: an alert needs
       both a change against the location's own past *and* against what happened elsewhere).
    """
    n = np.asarray(n, dtype=np.int64)
    x = np.asarray(negative, dtype=np.int64)
    if n.shape != x.shape or n.ndim != 3:
        raise ValueError("n and negative must be integer arrays of the same shape (locations, groups, periods)")
    if (x > n).any() or (x < 0).any():
        raise ValueError("negative must be between 0 and n")
    min_base = 2 * min_n if min_baseline_n is None else min_baseline_n
    bn = _window_sum(n, baseline_periods)
    bx = _window_sum(x, baseline_periods)
    bperiods = _window_sum((n > 0).astype(np.int64), baseline_periods)
    on = n.sum(axis=0, keepdims=True) - n
    ox = x.sum(axis=0, keepdims=True) - x
    obn = bn.sum(axis=0, keepdims=True) - bn
    obx = bx.sum(axis=0, keepdims=True) - bx
    tested = (n >= min_n) & (bn >= min_base) & (bperiods >= min_baseline_periods)
    if recent_periods is not None and recent_periods < n.shape[-1]:
        tested[..., : n.shape[-1] - recent_periods] = False
    nan = np.full(n.shape, np.nan)
    p_own_worse, p_own_better = nan.copy(), nan.copy()
    if tested.any():
        xs, ns, bxs, bns = x[tested], n[tested], bx[tested], bn[tested]
        total, neg_total = ns + bns, xs + bxs
        half = 0.5 * stats.hypergeom.pmf(xs, total, neg_total, ns) if mid_p else 0.0
        p_own_worse[tested] = stats.hypergeom.sf(xs - 1, total, neg_total, ns) - half
        p_own_better[tested] = stats.hypergeom.cdf(xs, total, neg_total, ns) - half
    lor, var = _log_or(x, n - x, bx, bn - bx)
    # the others' period cell is shrunk towards their baseline share by ``prior`` pseudo-comments, so a
    # handful of comments elsewhere cannot pass for a national change (negligible when others are many)
    with np.errstate(invalid="ignore", divide="ignore"):
        oshare = np.where(obn > 0, obx / np.maximum(obn, 1), 0.0)
    olor, ovar = _log_or(ox + prior * oshare, on - ox + prior * (1 - oshare), obx, obn - obx)
    contrast = tested & (on > 0) & (obn > 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (lor - olor) / np.sqrt(var + ovar)
    p_con_worse = np.where(contrast, stats.norm.sf(z), np.nan)
    p_con_better = np.where(contrast, stats.norm.cdf(z), np.nan)
    p_worse = np.where(contrast, np.fmax(p_own_worse, p_con_worse), p_own_worse)
    p_better = np.where(contrast, np.fmax(p_own_better, p_con_better), p_own_better)
    return ChangeTests(n=n, negative=x, baseline_n=bn, baseline_negative=bx, others_n=on, others_negative=ox,
                       others_baseline_n=obn, others_baseline_negative=obx,
                       tested=tested, contrast=contrast, p_own_worse=p_own_worse, p_own_better=p_own_better,
                       p_contrast_worse=p_con_worse, p_contrast_better=p_con_better, p_worse=p_worse,
                       p_better=p_better, log_odds_ratio=np.where(tested, lor, np.nan),
                       log_relative_odds_ratio=np.where(contrast, lor - olor, np.nan))


def bh_qvalues(p: np.ndarray | Sequence[float]) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of a 1-D array (empty in, empty out)."""
    arr = np.asarray(p, dtype=float)
    if arr.size == 0:
        return arr
    return np.asarray(stats.false_discovery_control(arr, method="bh"))


# -- the summary ------------------------------------------------------------------------------------


@dataclass
class Alert:
    """One detected change: negatives in ``period`` at ``location`` for a key question (or statement).

    ``observed`` negatives out of ``n``; ``expected`` = ``n`` × the location's baseline share;
    ``expected_if_national`` = what the location would show had it moved like the other locations
    (odds scale); ``odds_ratio`` (period vs own baseline, the effect size) and ``relative_odds_ratio``
    (that change ÷ the other locations' change); ``p_value`` = max(own, contrast); ``q_value`` = BH.
    """

    location: str
    period: str
    key_question: str
    statement: str | None
    direction: str
    level: str
    n: int
    observed: int
    expected: float
    share: float
    baseline_share: float
    baseline_n: int
    baseline_negative: int
    baseline_periods: list[str]
    others_share: float | None
    others_baseline_share: float | None
    expected_if_national: float | None
    odds_ratio: float
    relative_odds_ratio: float | None
    p_own: float
    p_contrast: float | None
    p_value: float
    q_value: float
    examples: list[str] = field(default_factory=list)

    @property
    def effect_size(self) -> float:
        """The odds ratio of a negative comment, period vs the location's own baseline."""
        return self.odds_ratio

    def to_dict(self, examples: bool = False) -> dict[str, Any]:
        """JSON-ready form; note text (``examples``) only when asked."""
        d = asdict(self)
        if not examples:
            d.pop("examples")
        d["effect_size"] = self.odds_ratio
        d["effect_measure"] = "odds_ratio"
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = None if math.isnan(v) else round(v, 6)
        return d


@dataclass
class Summary:
    """Everything ``evidencenlp summarise`` reports.

    Attributes:
        config: the settings used.
        source: the input file (or a description).
        rows: rows read; ``tagged`` rows with a band; ``blank`` rows without one (not counted in groups).
        undated: tagged rows whose date was missing or unparseable (period ``UNDATED``);
        undated_values: up to five ``(data row, raw value)`` examples of unparseable dates (no note text).
        periods: the dated calendar, oldest first (plus ``UNDATED`` at the end when any).
        locations: locations, sorted.
        groups: DataFrame with columns ``location, period, dimension, label, n, negative,
            negative_share, ci_low, ci_high, small, examples`` (examples: list of redacted comments).
        top_statements: DataFrame ``location, rank, statement, key_question, n, negative, negative_share``.
        alerts: changes with ``q_value <= fdr``, latest period first, then smallest q.
        tests: the number of one-sided tests run (the BH family size).
        negative_bands: the bands that count as negative.
    """

    config: SummaryConfig
    source: str
    rows: int
    tagged: int
    blank: int
    undated: int
    undated_values: list[tuple[int, str]]
    periods: list[str]
    locations: list[str]
    groups: pd.DataFrame
    top_statements: pd.DataFrame
    alerts: list[Alert]
    tests: int
    negative_bands: tuple[str, ...]
    taxonomy_framework: str = ""

    def to_dict(self, examples: bool = False) -> dict[str, Any]:
        """The JSON contract: ``{"alerts": [...], "groups": [...], ...}``; note text only with ``examples``."""
        groups = self.groups if examples else self.groups.drop(columns=["examples"])
        return {
            "alerts": [a.to_dict(examples) for a in self.alerts],
            "groups": _records(groups),
            "top_statements": _records(self.top_statements),
            "source": self.source,
            "rows": self.rows, "tagged": self.tagged, "blank": self.blank, "undated": self.undated,
            "undated_values": [{"data_row": r, "value": v} for r, v in self.undated_values],
            "period": self.config.period, "periods": self.periods, "locations": self.locations,
            "negative_bands": list(self.negative_bands), "framework": self.taxonomy_framework,
            "method": METHOD, "tests": self.tests, "fdr": self.config.fdr, "config": self.config.to_dict(),
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    cols = list(frame.columns)
    for values in frame.itertuples(index=False, name=None):
        rec: dict[str, Any] = {}
        for c, v in zip(cols, values):
            if isinstance(v, (float, np.floating)):
                rec[c] = None if math.isnan(v) else round(float(v), 6)
            elif isinstance(v, (np.integer,)):
                rec[c] = int(v)
            elif isinstance(v, np.bool_):
                rec[c] = bool(v)
            elif isinstance(v, np.ndarray):
                rec[c] = v.tolist()
            else:
                rec[c] = v
        out.append(rec)
    return out


#: internal column names of a normalised frame (see :func:`normalise_frame`)
NORMAL_COLUMNS: tuple[str, ...] = ("row", "location", "date_raw", "text", "key_question", "statement",
                                   "evidence_category", "band", "score")


def normalise_frame(frame: pd.DataFrame, taxonomy: Taxonomy, *, location_column: str | None = "location",
                    date_column: str = "date", text_column: str | None = "text", prefix: str = "",
                    source: str = "<frame>", first_row: int = 1) -> pd.DataFrame:
    """Check a tagged frame and return it with :data:`NORMAL_COLUMNS` (one row per input row).

    ``first_row`` is the 1-based data row number of the frame's first row (for messages).
    Raises :class:`InputFileError` naming the source, the 1-based data row and the column for a
    label that is not in ``taxonomy`` or a statement outside its key question.
    ``location_column=None`` puts every row in one location named ``"all"``.
    """
    columns = [str(c) for c in frame.columns]
    path = Path(source)
    for needed in ("key_question", "statement", "band"):
        require_column(path, columns, prefix + needed)
    require_column(path, columns, date_column)
    if location_column is not None:
        require_column(path, columns, location_column)
    rows = np.arange(len(frame)) + first_row
    out = pd.DataFrame({"row": rows}, index=frame.index)

    def text_of(col: str) -> pd.Series:
        s = frame[col].astype(object)
        return s.where(s.notna(), "").astype(str).str.strip().astype(object)

    out["location"] = text_of(location_column).replace("", NO_LOCATION) if location_column is not None else "all"
    out["date_raw"] = frame[date_column].astype(object)
    out["text"] = text_of(text_column) if text_column and text_column in columns else ""
    for task in ("key_question", "statement", "evidence_category", "band"):
        col = prefix + task
        out[task] = text_of(col) if col in columns else ""
    allowed = {"key_question": set(taxonomy.key_questions), "statement": set(taxonomy.statements),
               "evidence_category": set(taxonomy.categories), "band": set(taxonomy.bands)}
    for task, labels in allowed.items():
        bad = (out[task] != "") & ~out[task].isin(labels)
        if bad.any():
            i = int(np.argmax(bad.to_numpy()))
            raise InputFileError(f"{source}: data row {int(out['row'].iloc[i])}: column {prefix + task!r}: unknown "
                                 f"{task.replace('_', ' ')} {out[task].iloc[i]!r}; expected one of "
                                 f"{', '.join(sorted(labels)[:8])}{' …' if len(labels) > 8 else ''}")
    kq_of = dict(zip(taxonomy.statements, taxonomy.statement_kq))
    has = (out["statement"] != "") & (out["key_question"] != "")
    mismatch = has & (out["statement"].map(kq_of) != out["key_question"])
    if mismatch.any():
        i = int(np.argmax(mismatch.to_numpy()))
        raise InputFileError(f"{source}: data row {int(out['row'].iloc[i])}: column {prefix + 'statement'!r}: "
                             f"{out['statement'].iloc[i]!r} is not a statement of key question "
                             f"{out['key_question'].iloc[i]!r}")
    score_col = prefix + "band_score"
    out["score"] = pd.to_numeric(frame[score_col], errors="coerce") if score_col in columns else np.nan
    return out


def _neutral(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def spreadsheet_safe(value: Any) -> Any:
    """A value safe for a spreadsheet cell: text starting with ``= + - @`` (a formula) gets a leading ``'``."""
    if isinstance(value, str):
        return _neutral(value)
    if isinstance(value, (list, tuple)):
        return " | ".join(_neutral(str(v)) for v in value)
    return value


def _redacted(texts: Iterable[str]) -> list[str]:
    from evidencenlp.text import redact_only

    items = list(texts)
    done = {t: redact_only(t).text for t in set(items) if t}
    return [done.get(t, t) for t in items]


def summarise_frame(data: pd.DataFrame, taxonomy: Taxonomy | None = None, config: SummaryConfig | None = None,
                    source: str = "<frame>") -> Summary:
    """Summarise a normalised frame (:func:`normalise_frame`) into a :class:`Summary`.

    Rows with no band (blank notes) are counted in ``blank`` and left out of every table.
    Cost is linear in the rows (groupbys) plus vectorised tests over locations × labels × periods.
    """
    taxonomy = taxonomy or default_taxonomy()
    config = config or SummaryConfig()
    rows = len(data)
    data = data[data["band"] != ""].copy()
    blank = rows - len(data)
    negative_bands = taxonomy.negative_bands
    data["negative"] = data["band"].isin(negative_bands)
    dates = parse_dates(data["date_raw"])
    data["period"], calendar = assign_periods(dates, config.period)
    undated_mask = (data["period"] == UNDATED).to_numpy()
    undated = int(undated_mask.sum())
    undated_values = []
    for r, v in zip(data["row"].to_numpy()[undated_mask][:5], data["date_raw"].to_numpy()[undated_mask][:5]):
        undated_values.append((int(r), "" if v is None or _missing(v) else str(v)[:40]))
    periods = calendar + ([UNDATED] if undated else [])
    locations = sorted(data["location"].unique().tolist())

    groups = _groups(data, config, periods)
    top = _top_statements(data, taxonomy, config)
    alerts, tests = _alerts(data, taxonomy, config, calendar, locations)
    return Summary(config=config, source=source, rows=rows, tagged=len(data), blank=blank, undated=undated,
                   undated_values=undated_values, periods=periods, locations=locations, groups=groups,
                   top_statements=top, alerts=alerts, tests=tests, negative_bands=negative_bands,
                   taxonomy_framework=taxonomy.framework)


def _example_order(data: pd.DataFrame, negative_first: bool = True) -> pd.DataFrame:
    """Rows with text, negative (or positive) first, then the most confident band, then file order."""
    withtext = data[data["text"] != ""]
    key = withtext["negative"] if negative_first else ~withtext["negative"]
    score = withtext["score"].fillna(0)
    order = np.lexsort((withtext["row"].to_numpy(), -score.to_numpy(), ~key.to_numpy()))
    return withtext.iloc[order]


def _groups(data: pd.DataFrame, config: SummaryConfig, periods: list[str]) -> pd.DataFrame:
    ordered = _example_order(data)
    parts = []
    for dim in DIMENSIONS:
        keys = ["location", "period"] + ([] if dim == "all" else [dim])
        frame = data if dim == "all" else data[data[dim] != ""]
        counts = frame.groupby(keys, sort=False).agg(n=("negative", "size"), negative=("negative", "sum"))
        if config.examples:
            ex_src = ordered if dim == "all" else ordered[ordered[dim] != ""]
            ex = ex_src.groupby(keys, sort=False).head(config.examples)
            found: dict[Any, list[str]] = {}
            for *key, text in zip(*(ex[k] for k in keys), ex["text"]):
                found.setdefault(tuple(key), []).append(text)
            counts["examples"] = [found.get(k if isinstance(k, tuple) else (k,), []) for k in counts.index]
        else:
            counts["examples"] = None
        counts = counts.reset_index()
        counts.insert(2, "dimension", dim)
        if dim == "all":
            counts.insert(3, "label", "all")
        else:
            counts = counts.rename(columns={dim: "label"})
        parts.append(counts)
    out = pd.concat(parts, ignore_index=True)
    out["examples"] = [list(v) if isinstance(v, list) else [] for v in out["examples"]]
    flat = [t for ex in out["examples"] for t in ex]
    red = iter(_redacted(flat))
    out["examples"] = [[next(red) for _ in ex] for ex in out["examples"]]
    out["n"] = out["n"].astype(int)
    out["negative"] = out["negative"].astype(int)
    out["negative_share"] = out["negative"] / out["n"]
    lo, hi = wilson_interval(out["negative"].to_numpy(), out["n"].to_numpy())
    out["ci_low"], out["ci_high"] = lo, hi
    out["small"] = out["n"] < config.min_cell
    rank = {p: i for i, p in enumerate(periods)}
    dim_rank = {d: i for i, d in enumerate(DIMENSIONS)}
    out["_p"] = out["period"].map(rank)
    out["_d"] = out["dimension"].map(dim_rank)
    out = out.sort_values(["location", "_p", "_d", "n", "label"], ascending=[True, True, True, False, True],
                          kind="stable").drop(columns=["_p", "_d"]).reset_index(drop=True)
    return out[["location", "period", "dimension", "label", "n", "negative", "negative_share", "ci_low",
                "ci_high", "small", "examples"]]


def _top_statements(data: pd.DataFrame, taxonomy: Taxonomy, config: SummaryConfig) -> pd.DataFrame:
    frame = data[data["statement"] != ""]
    counts = frame.groupby(["location", "statement"]).agg(n=("negative", "size"), negative=("negative", "sum"))
    counts = counts.reset_index().sort_values(["location", "n", "statement"], ascending=[True, False, True])
    counts = counts.groupby("location", sort=False).head(config.top_statements).copy()
    counts["rank"] = counts.groupby("location").cumcount() + 1
    counts["key_question"] = counts["statement"].map(dict(zip(taxonomy.statements, taxonomy.statement_kq)))
    counts["title"] = counts["statement"].map(taxonomy.title)
    counts["negative"] = counts["negative"].astype(int)
    counts["negative_share"] = counts["negative"] / counts["n"]
    return counts[["location", "rank", "statement", "title", "key_question", "n", "negative",
                   "negative_share"]].reset_index(drop=True)


def _cube(data: pd.DataFrame, column: str, labels: Sequence[str], locations: list[str],
          calendar: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Counts and negatives as arrays (locations, labels, periods)."""
    shape = (len(locations), len(labels), len(calendar))
    n = np.zeros(shape, dtype=np.int64)
    x = np.zeros(shape, dtype=np.int64)
    dated = data[(data["period"] != UNDATED) & (data[column] != "")]
    if dated.empty:
        return n, x
    li = pd.Categorical(dated["location"], categories=locations).codes
    gi = pd.Categorical(dated[column], categories=list(labels)).codes
    pi = pd.Categorical(dated["period"], categories=calendar).codes
    ok = (li >= 0) & (gi >= 0) & (pi >= 0)
    neg = dated["negative"].to_numpy()
    np.add.at(n, (li[ok], gi[ok], pi[ok]), 1)
    np.add.at(x, (li[ok], gi[ok], pi[ok]), neg[ok].astype(np.int64))
    return n, x


def _alerts(data: pd.DataFrame, taxonomy: Taxonomy, config: SummaryConfig, calendar: list[str],
            locations: list[str]) -> tuple[list[Alert], int]:
    if len(calendar) < 2 or not locations:
        return [], 0
    levels = [("key_question", list(taxonomy.key_questions), config.kq_min_n),
              ("statement", list(taxonomy.statements), config.statement_threshold)]
    candidates: list[tuple[str, str, ChangeTests, tuple[int, int, int], str, float]] = []
    pvals: list[float] = []
    for level, labels, min_n in levels:
        n, x = _cube(data, level, labels, locations, calendar)
        res = change_tests(n, x, min_n=min_n, baseline_periods=config.baseline_periods,
                           min_baseline_periods=config.min_baseline_periods, recent_periods=config.recent_periods)
        for idx in zip(*np.nonzero(res.tested)):
            for direction, p in (("worse", res.p_worse[idx]), ("better", res.p_better[idx])):
                candidates.append((level, labels[idx[1]], res, (int(idx[0]), int(idx[1]), int(idx[2])),
                                   direction, float(p)))
                pvals.append(float(p))
    q = bh_qvalues(np.asarray(pvals))
    alerts = []
    ordered = None
    for (level, label, res, (li, gi, pi), direction, p), qv in zip(candidates, q):
        if qv > config.fdr:
            continue
        if ordered is None:
            ordered = {True: _example_order(data, True), False: _example_order(data, False)}
        alerts.append(_make_alert(level, label, res, (li, gi, pi), direction, p, float(qv), taxonomy, config,
                                  calendar, locations, ordered[direction == "worse"]))
    rank = {p: i for i, p in enumerate(calendar)}
    alerts.sort(key=lambda a: (-rank[a.period], a.q_value, a.location, a.key_question, a.statement or ""))
    return alerts, len(pvals)


def _share(x: float, n: float) -> float:
    return x / n if n else float("nan")


def _make_alert(level: str, label: str, res: ChangeTests, idx: tuple[int, int, int], direction: str, p: float,
                q: float, taxonomy: Taxonomy, config: SummaryConfig, calendar: list[str], locations: list[str],
                ordered: pd.DataFrame) -> Alert:
    li, gi, pi = idx
    n, x = int(res.n[idx]), int(res.negative[idx])
    bn, bx = int(res.baseline_n[idx]), int(res.baseline_negative[idx])
    base_share = _share(bx, bn)
    contrast = bool(res.contrast[idx])
    on, ox = float(res.others_n[idx]), float(res.others_negative[idx])
    obn, obx = float(res.others_baseline_n[idx]), float(res.others_baseline_negative[idx])
    expected_nat = None
    if contrast:
        def odds(a: float, m: float) -> float:
            return (a + 0.5) / (m - a + 0.5)
        o = odds(bx, bn) * odds(ox, on) / odds(obx, obn)
        expected_nat = n * o / (1 + o)
    start = 0 if config.baseline_periods is None else max(0, pi - config.baseline_periods)
    kq = label if level == "key_question" else taxonomy.key_question_of(label)
    cell = ordered[(ordered["location"] == locations[li]) & (ordered["period"] == calendar[pi])
                   & (ordered[level] == label)]
    examples = _redacted(cell["text"].head(config.examples).tolist()) if config.examples else []
    p_own = float(res.p_own_worse[idx] if direction == "worse" else res.p_own_better[idx])
    p_con = float(res.p_contrast_worse[idx] if direction == "worse" else res.p_contrast_better[idx])
    return Alert(location=locations[li], period=calendar[pi], key_question=kq,
                 statement=label if level == "statement" else None, direction=direction, level=level, n=n,
                 observed=x, expected=n * base_share, share=_share(x, n), baseline_share=base_share, baseline_n=bn,
                 baseline_negative=bx, baseline_periods=calendar[start:pi],
                 others_share=_share(ox, on) if contrast else None,
                 others_baseline_share=_share(obx, obn) if contrast else None,
                 expected_if_national=expected_nat, odds_ratio=float(np.exp(res.log_odds_ratio[idx])),
                 relative_odds_ratio=float(np.exp(res.log_relative_odds_ratio[idx])) if contrast else None,
                 p_own=p_own, p_contrast=p_con if contrast else None, p_value=p, q_value=q, examples=examples)


# -- files ------------------------------------------------------------------------------------------


def is_tagged(columns: Sequence[str], prefix: str = "") -> bool:
    """True when a table already carries the suggestion columns of ``evidencenlp tag``."""
    return all(prefix + c in columns for c in ("key_question", "statement", "band"))


def _header(path: Path, encoding: str) -> list[str]:
    for chunk in iter_chunks(path, chunk_rows=1, encoding=encoding):
        return [str(c) for c in chunk.columns]
    return []


def read_tagged(path: Path, taxonomy: Taxonomy, *, location_column: str | None, date_column: str,
                text_column: str | None, prefix: str = "", encoding: str = "utf-8",
                chunk_rows: int = 50_000) -> pd.DataFrame:
    """Read a tagged table chunk by chunk, keeping only the columns a summary needs (normalised)."""
    parts = []
    for chunk in iter_chunks(path, chunk_rows=chunk_rows, encoding=encoding):
        parts.append(normalise_frame(chunk, taxonomy, location_column=location_column, date_column=date_column,
                                     text_column=text_column, prefix=prefix, source=str(path),
                                     first_row=int(chunk.index[0]) + 1 if len(chunk) else 1))
    if not parts:
        raise InputFileError(f"{path}: the file has a header but no rows")
    return pd.concat(parts, ignore_index=True)


def _local_tagger(suggester_factory: Callable[[], Any] | None) -> Callable[..., Any]:
    """:func:`evidencenlp.tagging.tag_file` with a Suggester built now (redacting)."""
    from evidencenlp.tagging import tag_file

    if suggester_factory is None:
        from evidencenlp.suggest import Suggester

        suggester_factory = Suggester.load
    return partial(tag_file, suggester_factory(), redact=True)


def summarise_file(path: Path, config: SummaryConfig | None = None, *, text_column: str = "text",
                   location_column: str | None = "location", date_column: str = "date", prefix: str = "",
                   encoding: str = "utf-8", taxonomy: Taxonomy | None = None,
                   suggester_factory: Callable[[], Any] | None = None,
                   on_tagging: Callable[[], None] | None = None,
                   on_rows: Callable[[int], None] | None = None,
                   tagger: Callable[..., Any] | None = None) -> Summary:
    """Summarise a raw or tagged table.

    A raw table (no ``key_question``/``statement``/``band`` columns) is first tagged with
    :func:`evidencenlp.tagging.tag_file` (streaming, redacted) into a temporary Parquet file;
    ``suggester_factory`` builds the :class:`~evidencenlp.suggest.Suggester` only then.
    ``on_tagging`` is called once before tagging starts; ``on_rows`` after each tagged chunk.
    ``tagger``, when given, tags instead of ``tag_file`` (e.g. on a dask cluster, see
    :func:`evidencenlp.engine.tag_file_dask`): it is called as ``tagger(path, output, text_column,
    prefix=…, encoding=…, on_rows=…)`` and must redact.
    """
    config = config or SummaryConfig()
    taxonomy = taxonomy or default_taxonomy()
    path = Path(path)
    table_format(path)
    check_readable(path)
    columns = _header(path, encoding)
    require_column(path, columns, date_column)
    if location_column is not None:
        require_column(path, columns, location_column)
    if is_tagged(columns, prefix):
        data = read_tagged(path, taxonomy, location_column=location_column, date_column=date_column,
                           text_column=text_column, prefix=prefix, encoding=encoding)
        return summarise_frame(data, taxonomy, config, source=str(path))
    require_column(path, columns, text_column)
    if on_tagging is not None:
        on_tagging()
    if tagger is None:
        tagger = _local_tagger(suggester_factory)
    with tempfile.TemporaryDirectory(prefix="evidencenlp-summarise-") as tmp:
        tagged = Path(tmp) / "tagged.parquet"
        tagger(path, tagged, text_column, prefix=prefix, encoding=encoding, on_rows=on_rows)
        data = read_tagged(tagged, taxonomy, location_column=location_column, date_column=date_column,
                           text_column=text_column, prefix=prefix)
    return summarise_frame(data, taxonomy, config, source=str(path))
