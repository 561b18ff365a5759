"""The summary of a tagged table: groups per location × period, top statements, the alert family.

In: a *normalised* frame (:func:`normalise_frame`: one row per comment with location, raw date, text,
key question, statement, evidence category, band, score and abstention reason). Out: :class:`Summary`
with

* **groups** — per location × period × dimension (key question, statement, evidence category, band,
  ``abstained`` by reason, and ``all``) × label: comments ``n``, negatives (band in the worse half of
  :attr:`Taxonomy.bands <evidencenlp.taxonomy.Taxonomy.negative_bands>`), the negative share with a 95%
  Wilson interval, ``small`` when ``n < min_cell`` (marked, never hidden) and redacted example comments;
* **top statements** — the most discussed statements of each location;
* **tests** and **alerts** — :func:`evidencenlp.trends.alerts.run_family` on the counts: every test
  with its counts, p and q; the alerts among them; the reason when no test could run.

Abstained comments (the tool would not label them: ``no_content``, ``not_english``) are comments: they
count in their location's volume (``all``, as not negative) and in ``abstained``, never as blank.
Nothing here logs or prints note text; example comments only travel inside the returned objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.errors import InputFileError
from evidencenlp.tabular import require_column
from evidencenlp.taxonomy import Taxonomy, default_taxonomy
from evidencenlp.trends.alerts import Counts, TestRecord, run_family
from evidencenlp.trends.config import SummaryConfig
from evidencenlp.trends.periods import UNDATED, assign_periods, is_missing, parse_dates
from evidencenlp.trends.stats import wilson_interval
from evidencenlp.trends.topic_counts import parse_topics, topic_rows

#: the dimensions of the groups table, in output order (``all`` = every comment of the cell)
DIMENSIONS: tuple[str, ...] = ("all", "key_question", "statement", "evidence_category", "band", "abstained")
#: location label for rows with an empty location
NO_LOCATION = "(no location)"
#: the one-line description of the default detector carried in every output (``config`` in the JSON gives the settings used)
METHOD = ("one family of one-sided tests per location in the latest period (--recent), Benjamini-Hochberg FDR: "
          "the location's overall negative share (site_share); negative comments about each key question against "
          "the location's own past periods, the expectation rising with the location's other comments but never "
          "falling (kq_count: a volume rise with the same mix is no alarm, the complaints cannot dilute it); each on "
          "the latest period and the sum of the latest two (weighted Simes, 0.3/0.7), quasi-Poisson over-dispersion "
          "pooled over locations; a rise seen at the other locations (their median observed/expected; for shares the "
          "median of their log odds ratios) allowed for, averaged over whether it happened, its prior learnt from every location and key "
          "question; the statements of an alerting key question and its negative share (kq_share) tested next "
          "(hierarchical FDR)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


#: an alert is a test that alerted (kept as a name for callers)
Alert = TestRecord


@dataclass
class Summary:
    """Everything ``evidencenlp summarise`` reports.

    Attributes:
        config: the settings used.
        source: the input file (or a description).
        rows: rows read; ``tagged`` rows with a band; ``abstained`` rows the tool would not label, by
            reason; ``blank`` rows with neither (no text, or never tagged).
        undated: comments whose date was missing or unparseable (period ``UNDATED``);
        undated_values: up to five ``(data row, raw value)`` examples of unparseable dates (no note text).
        periods: the dated calendar, oldest first (plus ``UNDATED`` at the end when any).
        locations: locations, sorted.
        groups: DataFrame with columns ``location, period, dimension, label, n, negative,
            negative_share, ci_low, ci_high, small, examples`` (examples: list of redacted comments).
        top_statements: DataFrame ``location, rank, statement, key_question, n, negative, negative_share``.
        tests: every test run (kind, counts, p, q); ``alerts`` the ones with ``q <= fdr``.
        no_test_reason: why no test ran ("" when some did).
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
    tests: list[TestRecord]
    negative_bands: tuple[str, ...]
    taxonomy_framework: str = ""
    abstained: dict[str, int] = field(default_factory=dict)
    no_test_reason: str = ""

    @property
    def alerts(self) -> list[TestRecord]:
        """The tests that alerted: latest period first, then smallest q."""
        rank = {p: i for i, p in enumerate(self.periods)}
        return sorted((t for t in self.tests if t.alert),
                      key=lambda a: (-rank.get(a.period, 0), a.q_value, a.location, a.kind, a.key_question or ""))

    @property
    def family_size(self) -> int:
        """How many tests the first-stage FDR family held."""
        return sum(t.stage == 1 for t in self.tests)

    def near_misses(self, k: int = 5) -> list[TestRecord]:
        """The ``k`` non-alerting tests with the smallest q (then p)."""
        return sorted((t for t in self.tests if not t.alert), key=lambda t: (t.q_value, t.p_value))[:k]

    def to_dict(self, examples: bool = False) -> dict[str, Any]:
        """The JSON contract: alerts, every test, groups, …; note text only with ``examples``."""
        groups = self.groups if examples else self.groups.drop(columns=["examples"])
        return {
            "alerts": [a.to_dict(examples) for a in self.alerts],
            "tests": [t.to_dict() for t in self.tests],
            "no_test_reason": self.no_test_reason,
            "groups": records(groups),
            "top_statements": records(self.top_statements),
            "source": self.source,
            "rows": self.rows, "tagged": self.tagged, "blank": self.blank, "abstained": dict(self.abstained),
            "undated": self.undated,
            "undated_values": [{"data_row": r, "value": v} for r, v in self.undated_values],
            "period": self.config.period, "periods": self.periods, "locations": self.locations,
            "negative_bands": list(self.negative_bands), "framework": self.taxonomy_framework,
            "method": METHOD, "family_size": self.family_size, "fdr": self.config.fdr,
            "config": self.config.to_dict(),
        }


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame as JSON-ready records (NaN → None, numpy scalars → Python)."""
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
                                   "evidence_category", "band", "score", "reason", "topics")


def normalise_frame(frame: pd.DataFrame, taxonomy: Taxonomy, *, location_column: str | None = "location",
                    date_column: str = "date", text_column: str | None = "text", prefix: str = "",
                    source: str = "<frame>", first_row: int = 1) -> pd.DataFrame:
    """Check a tagged frame and return it with :data:`NORMAL_COLUMNS` (one row per input row).

    ``reason`` is the abstention reason ``tag`` wrote (``no_content``, ``not_english``) for a row without
    labels, else ``""``. ``first_row`` is the 1-based data row number of the frame's first row (for messages).
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
    reason_col = prefix + "reason"
    out["reason"] = text_of(reason_col) if reason_col in columns else ""
    out.loc[out["band"] != "", "reason"] = ""  # a labelled row has no abstention reason
    topics_col = prefix + "topics"  # a note about several things counts once under each (topic_counts)
    out["topics"] = (parse_topics(frame[topics_col].tolist(), out["row"].tolist(), taxonomy, source, topics_col)
                     if topics_col in columns else [[] for _ in range(len(out))])
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


def _example_order(data: pd.DataFrame, negative_first: bool = True) -> pd.DataFrame:
    """Rows with text, negative (or positive) first, then the most confident band, then file order."""
    withtext = data[data["text"] != ""]
    key = withtext["negative"] if negative_first else ~withtext["negative"]
    score = withtext["score"].fillna(0)
    order = np.lexsort((withtext["row"].to_numpy(), -score.to_numpy(), ~key.to_numpy()))
    return withtext.iloc[order]


def _groups(data: pd.DataFrame, config: SummaryConfig, periods: list[str],
            topic_data: pd.DataFrame | None = None) -> pd.DataFrame:
    whole = data
    parts = []
    for dim in DIMENSIONS:
        data = topic_data if topic_data is not None and dim in ("key_question", "statement") else whole
        ordered = _example_order(data)
        column = "reason" if dim == "abstained" else dim
        keys = ["location", "period"] + ([] if dim == "all" else [column])
        frame = data if dim == "all" else data[data[column] != ""]
        counts = frame.groupby(keys, sort=False).agg(n=("negative", "size"), negative=("negative", "sum"))
        if config.examples:
            ex_src = ordered if dim == "all" else ordered[ordered[column] != ""]
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
            counts = counts.rename(columns={column: "label"})
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




def summarise_frame(data: pd.DataFrame, taxonomy: Taxonomy | None = None, config: SummaryConfig | None = None,
                    source: str = "<frame>") -> Summary:
    """Summarise a normalised frame (:func:`normalise_frame`) into a :class:`Summary`.

    Rows with neither a band nor an abstention reason (blank notes) are counted in ``blank`` and left
    out; abstained rows count in their location's volume and in ``abstained``. Cost is linear in the
    rows (groupbys) plus vectorised tests over locations × labels × periods.
    """
    taxonomy = taxonomy or default_taxonomy()
    config = config or SummaryConfig()
    rows = len(data)
    if "reason" not in data.columns:
        data = data.assign(reason="")
    keep = (data["band"] != "") | (data["reason"] != "")
    blank = int((~keep).sum())
    data = data[keep].copy()
    abstained = {str(k): int(v) for k, v in data.loc[data["band"] == "", "reason"].value_counts().items()}
    negative_bands = taxonomy.negative_bands
    data["negative"] = data["band"].isin(negative_bands)
    dates = parse_dates(data["date_raw"])
    data["period"], calendar = assign_periods(dates, config.period)
    undated_mask = (data["period"] == UNDATED).to_numpy()
    undated_values = []
    for r, v in zip(data["row"].to_numpy()[undated_mask][:5], data["date_raw"].to_numpy()[undated_mask][:5]):
        undated_values.append((int(r), "" if v is None or is_missing(v) else str(v)[:40]))
    periods = calendar + ([UNDATED] if undated_mask.any() else [])
    locations = sorted(data["location"].unique().tolist())
    topic_data = topic_rows(data, negative_bands)
    groups = _groups(data, config, periods, topic_data)
    top = _top_statements(topic_data, taxonomy, config)
    family = run_family(counts_of(data, taxonomy, locations, calendar, topic_data), config)
    if config.examples and family.alerts:
        _attach_examples(family.alerts, topic_data, config.examples)
    return Summary(config=config, source=source, rows=rows, tagged=int((data["band"] != "").sum()), blank=blank,
                   undated=int(undated_mask.sum()), undated_values=undated_values, periods=periods,
                   locations=locations, groups=groups, top_statements=top, tests=family.tests,
                   negative_bands=negative_bands, taxonomy_framework=taxonomy.framework, abstained=abstained,
                   no_test_reason=family.no_test_reason)


def counts_of(data: pd.DataFrame, taxonomy: Taxonomy, locations: list[str], calendar: list[str],
              topic_data: pd.DataFrame | None = None) -> Counts:
    """The dated rows of a summarised frame (``negative`` and ``period`` columns) as :class:`Counts`;
    key question and statement counts from ``topic_data`` (one row per note and topic) when given."""
    whole = data.assign(_all="all")
    by_topic = data if topic_data is None else topic_data
    n_all, x_all = _cube(whole, "_all", ["all"], locations, calendar)
    n_kq, x_kq = _cube(by_topic, "key_question", taxonomy.key_questions, locations, calendar)
    n_st, x_st = _cube(by_topic, "statement", taxonomy.statements, locations, calendar)
    return Counts(locations=locations, periods=calendar, key_questions=list(taxonomy.key_questions),
                  statements=list(taxonomy.statements), statement_kq=list(taxonomy.statement_kq),
                  n_all=n_all[:, 0, :], x_all=x_all[:, 0, :], n_kq=n_kq, x_kq=x_kq, n_st=n_st, x_st=x_st)


def _attach_examples(alerts: list[TestRecord], data: pd.DataFrame, k: int) -> None:
    """Redacted example comments of each alert's window (negative first)."""
    ordered = _example_order(data, True)
    for a in alerts:
        cell = ordered[(ordered["location"] == a.location) & ordered["period"].isin(a.window)]
        if a.statement is not None:
            cell = cell[cell["statement"] == a.statement]
        elif a.key_question is not None:
            cell = cell[cell["key_question"] == a.key_question]
        cell = cell.drop_duplicates("row")  # a note with several topics is one example
        a.examples = _redacted(cell["text"].head(k).tolist())
