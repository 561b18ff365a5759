"""Dates and periods: lenient date parsing and period labels (month ``YYYY-MM``, ISO week ``YYYY-Www``,
quarter ``YYYY-Qn``) with a gap-free calendar."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

#: supported period lengths and the pandas frequency of each (weeks run Monday–Sunday, ISO)
PERIODS: dict[str, str] = {"week": "W-SUN", "month": "M", "quarter": "Q"}
#: the period label of rows whose date is missing or unparseable
UNDATED = "undated"
_YEARISH = re.compile(r"\d{4}|\b\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2}\b")


def is_missing(v: Any) -> bool:
    """True for None, NaN, NaT and pandas' NA; False for anything else (including containers)."""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


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
    mapped = obj.map(lambda v: parsed.get(v, pd.NaT) if v is not None and not is_missing(v) else pd.NaT)
    return pd.to_datetime(mapped, errors="coerce")


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


