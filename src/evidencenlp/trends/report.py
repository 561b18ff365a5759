"""One self-contained HTML page, and the spreadsheet/CSV/JSON tables, from a :class:`~evidencenlp.trends.Summary`.

Plots are drawn with matplotlib's Agg canvas (no display, no pyplot state) and embedded as base64
PNG ``<img>`` tags; styles are inline; nothing is loaded from outside the file. Sections, in order:
alerts (with their kind, the counts behind them and example comments), the closest tests that did
not alert, a chart comparing the locations' negative share over time, then per location the key question mix over time, the
negative share with 95% Wilson intervals, a statements × period heat map and a key question table
with example comments. Example comments are redacted (:func:`evidencenlp.text.redact_only`) and
HTML-escaped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evidencenlp.taxonomy import Taxonomy, default_taxonomy
from evidencenlp.trends.alerts import TestRecord
from evidencenlp.trends.periods import UNDATED
from evidencenlp.trends.summary import METHOD, Summary, spreadsheet_safe

#: at most this many locations get their own charts (those with alerts first, then the busiest)
MAX_LOCATIONS = 40
#: statements shown in a heat map (the most discussed at that location)
HEATMAP_STATEMENTS = 12

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;max-width:1150px;
color:#1d1d1d;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1b5e9b;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin-top:1.6rem}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right;vertical-align:top}th{background:#eef3f8}
td.l,th.l{text-align:left}.muted{color:#666;font-size:.88rem}td.small{color:#888;background:#f6f6f6}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.3rem 0}.grid{display:flex;flex-wrap:wrap;gap:.6rem}
.alert{border-left:5px solid #b3261e;background:#fdf1f0;padding:.5rem .9rem;margin:.7rem 0}
.alert.better{border-left-color:#2e7d32;background:#eef7ee}.alert h3{margin:.1rem 0 .3rem;font-size:1.05rem}
blockquote{margin:.3rem 0 .3rem 1rem;padding:.2rem .6rem;border-left:3px solid #bbb;background:#fff;font-size:.92rem}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:.4rem .8rem;margin:.5rem 0}
code{background:#f3f3f3;padding:0 .25rem}details{margin:.4rem 0}
"""
_KQ_COLOURS = ("#1b5e9b", "#d9822b", "#3a9b5c", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085", "#b7950b")


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _pct(v: float | None) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{100 * v:.0f}%"


def _png(fig: Figure, alt: str) -> str:
    """The figure as an ``<img>`` tag with a base64 PNG data URI."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{_esc(alt)}" src="data:image/png;base64,{data}">'


def _ticks(ax: Any, labels: list[str]) -> None:
    step = max(1, math.ceil(len(labels) / 16))
    ax.set_xticks(range(0, len(labels), step))
    ax.set_xticklabels(labels[::step], rotation=45, ha="right", fontsize=7)


def kq_mix_figure(summary: Summary, location: str, taxonomy: Taxonomy) -> Figure:
    """Stacked bars: comments per key question in each period at ``location``."""
    g = summary.groups
    sub = g[(g["location"] == location) & (g["dimension"] == "key_question")]
    table = sub.pivot_table(index="label", columns="period", values="n", aggfunc="sum", fill_value=0)
    periods = summary.periods
    fig = Figure(figsize=(6.2, 2.8))
    ax = fig.add_subplot()
    bottom = np.zeros(len(periods))
    for i, kq in enumerate(taxonomy.key_questions):
        vals = np.array([float(table.loc[kq, p]) if kq in table.index and p in table.columns else 0.0
                         for p in periods])
        ax.bar(range(len(periods)), vals, bottom=bottom, color=_KQ_COLOURS[i % len(_KQ_COLOURS)],
               label=taxonomy.title(kq))
        bottom += vals
    _ticks(ax, periods)
    ax.set_ylabel("comments")
    ax.set_title(f"Key question mix — {location}", fontsize=9)
    ax.legend(fontsize=6, ncol=3, loc="upper left", frameon=False)
    ax.set_ylim(0, max(1.0, bottom.max()) * 1.35)
    return fig


def negative_share_figure(summary: Summary, location: str) -> Figure:
    """Negative share per period at ``location`` with 95% Wilson intervals; small cells drawn hollow."""
    g = summary.groups
    sub = g[(g["location"] == location) & (g["dimension"] == "all")].set_index("period")
    periods = summary.periods
    fig = Figure(figsize=(6.2, 2.8))
    ax = fig.add_subplot()
    for i, p in enumerate(periods):
        if p not in sub.index:
            continue
        row = sub.loc[p]
        share, lo, hi = float(row["negative_share"]), float(row["ci_low"]), float(row["ci_high"])
        colour = "#999999" if p == UNDATED else "#b3261e"
        ax.errorbar([i], [share], yerr=[[max(0.0, share - lo)], [max(0.0, hi - share)]], fmt="o", color=colour, capsize=3,
                    markerfacecolor="white" if bool(row["small"]) else colour)
    _ticks(ax, periods)
    ax.set_ylim(0, 1)
    ax.set_ylabel("negative share")
    ax.set_title(f"Negative comments (95% Wilson interval; hollow: n < {summary.config.min_cell}) — {location}",
                 fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    return fig


def heatmap_figure(summary: Summary, location: str, taxonomy: Taxonomy) -> Figure | None:
    """Statements × period: colour = negative share, number = comments (``*`` marks n < min_cell)."""
    g = summary.groups
    sub = g[(g["location"] == location) & (g["dimension"] == "statement")]
    if sub.empty:
        return None
    top = sub.groupby("label")["n"].sum().sort_values(ascending=False).head(HEATMAP_STATEMENTS).index.tolist()
    periods = summary.periods
    share = np.full((len(top), len(periods)), np.nan)
    counts = np.zeros((len(top), len(periods)), dtype=int)
    pos = {p: j for j, p in enumerate(periods)}
    row_of = {s: i for i, s in enumerate(top)}
    for rec in sub[sub["label"].isin(top)].itertuples(index=False):
        i, j = row_of[rec.label], pos[rec.period]
        share[i, j], counts[i, j] = rec.negative_share, rec.n
    fig = Figure(figsize=(min(11.0, 3.8 + 0.45 * len(periods)), 0.9 + 0.32 * len(top)))
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(share)
    image = ax.imshow(masked, cmap="Reds", vmin=0, vmax=1, aspect="auto")
    ax.set_facecolor("#eeeeee")
    ax.set_yticks(range(len(top)))
    ax.set_yticklabels([taxonomy.title(s)[:48] for s in top], fontsize=7)
    _ticks(ax, periods)
    if len(periods) <= 20:
        for i in range(len(top)):
            for j in range(len(periods)):
                if counts[i, j]:
                    mark = "*" if counts[i, j] < summary.config.min_cell else ""
                    dark = not np.isnan(share[i, j]) and share[i, j] > 0.6
                    ax.text(j, i, f"{counts[i, j]}{mark}", ha="center", va="center", fontsize=6,
                            color="white" if dark else "black")
    fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01).set_label("negative share", fontsize=7)
    ax.set_title(f"Statements × period — {location} (number = comments, * = n < {summary.config.min_cell})",
                 fontsize=9)
    return fig


def _examples_html(examples: list[str]) -> str:
    return "".join(f"<blockquote>{_esc(t)}</blockquote>" for t in examples) or '<p class="muted">(no text)</p>'


#: what each kind of test asks, for people
KIND_TEXT: dict[str, str] = {
    "site_share": "overall negative share (all topics)",
    "kq_count": "negative comments about the key question (count, volume-adjusted)",
    "kq_share": "negative share within the key question",
    "statement_count": "negative comments about the statement (count, volume-adjusted)",
}


def _subject(t: TestRecord, taxonomy: Taxonomy) -> str:
    if t.statement:
        return taxonomy.title(t.statement)
    return taxonomy.title(t.key_question) if t.key_question else "all topics"


def _window(t: TestRecord) -> str:
    return t.window[0] if len(t.window) == 1 else f"{t.window[0]} to {t.window[-1]}"


def _alert_html(alert: TestRecord, taxonomy: Taxonomy) -> str:
    national = (f"; allows for a rise of ×{alert.national_factor:.2f} seen at the other locations"
                if round(alert.national_factor, 2) > 1 else "")
    return (f'<div class="alert {_esc(alert.direction)}" data-direction="{_esc(alert.direction)}" '
            f'data-kind="{_esc(alert.kind)}">'
            f"<h3>{_esc(alert.location)} · {_esc(_window(alert))} · {_esc(_subject(alert, taxonomy))} — "
            f"{'more' if alert.direction == 'worse' else 'fewer'} negative comments</h3>"
            f"<p>Kind: {_esc(KIND_TEXT.get(alert.kind, alert.kind))}. {alert.observed} negative against "
            f"{alert.expected:.1f} expected from the location's own {alert.baseline_periods} earlier periods "
            f"({alert.baseline_observed} negative, {alert.baseline_reference} other comments; this window "
            f"{alert.reference} other comments){national}; p = {alert.p_value:.2g}, q = {alert.q_value:.3g}.</p>"
            f"<p class=\"muted\">Example comments (redacted):</p>{_examples_html(alert.examples)}</div>")


def _tests_rows(tests: list[TestRecord], taxonomy: Taxonomy) -> str:
    return "".join(
        f"<tr><td class=l>{_esc(t.location)}</td><td class=l>{_esc(_window(t))}</td><td class=l>{_esc(t.kind)}</td>"
        f"<td class=l>{_esc(_subject(t, taxonomy))}</td><td>{t.observed}</td><td>{t.expected:.1f}</td>"
        f"<td>{t.p_value:.2g}</td><td>{t.q_value:.3g}</td></tr>" for t in tests)


_TESTS_HEAD = ("<tr><th class=l>location</th><th class=l>periods</th><th class=l>kind</th><th class=l>topic</th>"
               "<th>negative</th><th>expected</th><th>p</th><th>q</th></tr>")


def _alerts_section(summary: Summary, taxonomy: Taxonomy) -> str:
    head = (f'<h2 id="alerts">Alerts ({len(summary.alerts)})</h2>'
            f'<p class="muted">{summary.family_size} one-sided tests (latest {summary.config.recent_periods or "all"} '
            f"periods); alerts have a Benjamini–Hochberg q-value ≤ {summary.config.fdr:g}. Method: {_esc(METHOD)}.</p>")
    if summary.no_test_reason:
        head += f'<p class="note" id="no-tests">No test ran: {_esc(summary.no_test_reason)}.</p>'
    near = summary.near_misses()
    near_html = (f'<h3 id="near-misses">Closest tests that did not alert</h3><table id="near-table">{_TESTS_HEAD}'
                 f"{_tests_rows(near, taxonomy)}</table>" if near else "")
    if not summary.alerts:
        return head + '<p id="no-alerts">No change stands out from each location\'s own past at this false ' \
                      "discovery rate.</p>" + near_html
    table = f'<table id="alerts-table">{_TESTS_HEAD}{_tests_rows(summary.alerts, taxonomy)}</table>'
    return head + table + "".join(_alert_html(a, taxonomy) for a in summary.alerts) + near_html


def locations_figure(summary: Summary, locations: list[str]) -> Figure:
    """One line per location: the negative share (all topics) per period, to compare locations at a glance."""
    g = summary.groups
    sub = g[(g["dimension"] == "all") & (g["period"] != UNDATED)]
    periods = [p for p in summary.periods if p != UNDATED]
    pos = {p: i for i, p in enumerate(periods)}
    fig = Figure(figsize=(7.5, 3.2))
    ax = fig.add_subplot()
    alerted = {a.location for a in summary.alerts}
    for i, loc in enumerate(locations):
        rows = sub[sub["location"] == loc]
        xs = [pos[p] for p in rows["period"]]
        ax.plot(xs, rows["negative_share"].to_numpy(), marker="o", markersize=3,
                linewidth=2.2 if loc in alerted else 1.0, color=_KQ_COLOURS[i % len(_KQ_COLOURS)],
                label=loc + (" (alert)" if loc in alerted else ""))
    _ticks(ax, periods)
    ax.set_ylim(0, 1)
    ax.set_ylabel("negative share")
    ax.set_title("Negative share by location (all topics)", fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=6, ncol=4, loc="upper left", frameon=False)
    return fig


def _kq_table(summary: Summary, location: str, taxonomy: Taxonomy) -> str:
    g = summary.groups
    sub = g[(g["location"] == location) & (g["dimension"] == "key_question")]
    cells = {(r.label, r.period): r for r in sub.itertuples(index=False)}
    periods = summary.periods
    head = "".join(f"<th>{_esc(p)}</th>" for p in periods)
    body = []
    for kq in taxonomy.key_questions:
        tds = []
        for p in periods:
            r = cells.get((kq, p))
            if r is None:
                tds.append("<td></td>")
                continue
            cls = ' class="small" title="small cell"' if r.small else ""
            tds.append(f"<td{cls}>{_pct(r.negative_share)}<br><span class=muted>{r.negative}/{r.n}"
                       f"{'†' if r.small else ''}</span></td>")
        body.append(f"<tr><th class=l>{_esc(taxonomy.title(kq))}</th>{''.join(tds)}</tr>")
    latest = [p for p in periods if p != UNDATED][-1:] or periods[-1:]
    examples = "".join(
        f"<p><b>{_esc(taxonomy.title(kq))}, {_esc(latest[0])}</b></p>{_examples_html(list(cells[(kq, latest[0])].examples))}"
        for kq in taxonomy.key_questions if latest and (kq, latest[0]) in cells)
    return (f"<table class=kq><tr><th class=l>key question</th>{head}</tr>{''.join(body)}</table>"
            f'<p class="muted">Negative share, then negative/n; † marks a small cell (n &lt; {summary.config.min_cell}): '
            "shown, but read it with care.</p>"
            f"<details><summary>Example comments, latest period</summary>{examples}</details>")


def _abstained(summary: Summary) -> str:
    if not summary.abstained:
        return ""
    parts = ", ".join(f"{n} {_esc(reason.replace('_', ' '))}" for reason, n in sorted(summary.abstained.items()))
    return f"{sum(summary.abstained.values())} abstained ({parts}), "


def render_html(summary: Summary, taxonomy: Taxonomy | None = None, title: str = "Feedback summary") -> str:
    """The whole report as one HTML string (self-contained: inline CSS, base64 PNGs)."""
    from evidencenlp import __version__ as version

    taxonomy = taxonomy or default_taxonomy()
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    dated = [p for p in summary.periods if p != UNDATED]
    span = f"{dated[0]} to {dated[-1]}" if dated else "no dated comments"
    undated = ""
    if summary.undated:
        vals = ", ".join(f"{_esc(v)!s} (row {r})" for r, v in summary.undated_values)
        undated = (f'<p class="note" id="undated">{summary.undated} comments have a missing or unparseable date '
                   f"(e.g. {vals}); they are counted in the period <code>{UNDATED}</code> and not tested.</p>")
    sections = [
        f"<h1>{_esc(title)}</h1>",
        f'<p class="muted">Generated {now} by evidencenlp {_esc(version)} from <code>{_esc(summary.source)}</code></p>',
        (f"<p>{summary.rows} rows, {summary.tagged} tagged comments, {_abstained(summary)}{summary.blank} blank, "
         f"{len(summary.locations)} locations, {summary.config.period}ly periods {_esc(span)}. "
         f"Negative = band {' or '.join(_esc(taxonomy.title(b)) for b in summary.negative_bands)}.</p>"),
        undated,
        ('<p class="muted">Key questions, statements and bands are the tool\'s suggestions, not an inspector\'s '
         "judgement; an alert says where to read the comments first, not that quality has changed.</p>"),
        _alerts_section(summary, taxonomy),
    ]
    alerted = {a.location for a in summary.alerts}
    totals = summary.groups[summary.groups["dimension"] == "all"].groupby("location")["n"].sum()
    order = sorted(summary.locations, key=lambda loc: (loc not in alerted, -int(totals.get(loc, 0)), loc))
    sections.append('<h2 id="locations">Locations</h2>')
    if order:
        sections.append('<div id="compare">' + _png(locations_figure(summary, order[:len(_KQ_COLOURS)]),
                                                   "negative share by location") + "</div>"
                        + ('<p class="muted">The chart compares the first '
                           f"{len(_KQ_COLOURS)} locations (alerted first, then the busiest).</p>"
                           if len(order) > len(_KQ_COLOURS) else ""))
    if len(order) > MAX_LOCATIONS:
        sections.append(f'<p class="note">Charts for the first {MAX_LOCATIONS} of {len(order)} locations (alerted '
                        "first, then the busiest); the spreadsheet output has every location.</p>")
    for i, loc in enumerate(order[:MAX_LOCATIONS]):
        heat = heatmap_figure(summary, loc, taxonomy)
        sections.append(f'<section class="location" id="loc-{i}"><h3>{_esc(loc)}</h3><div class="grid">'
                        + _png(kq_mix_figure(summary, loc, taxonomy), f"key question mix, {loc}")
                        + _png(negative_share_figure(summary, loc), f"negative share, {loc}") + "</div>"
                        + (_png(heat, f"statements by period, {loc}") if heat is not None else "")
                        + _kq_table(summary, loc, taxonomy) + "</section>")
    body = "\n".join(s for s in sections if s)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")


def write_report(summary: Summary, path: Path, taxonomy: Taxonomy | None = None,
                 title: str = "Feedback summary") -> Path:
    """Write :func:`render_html` to ``path`` atomically and return it."""
    from evidencenlp.fileio import write_text_atomic

    return write_text_atomic(path, render_html(summary, taxonomy, title))


def _frame_for_sheet(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for col in out.columns:
        if out[col].dtype == object or str(out[col].dtype) in ("str", "string"):
            out[col] = [spreadsheet_safe(v) for v in out[col]]
    return out


def summary_tables(summary: Summary) -> dict[str, pd.DataFrame]:
    """The summary as spreadsheet-ready tables (formula-safe text): alerts, tests, groups, top statements, about."""
    columns = list(TestRecord.__dataclass_fields__) + ["ratio"]

    def frame(tests: list[TestRecord], examples: bool) -> pd.DataFrame:
        out = pd.DataFrame([t.to_dict(examples=examples) for t in tests],
                           columns=[c for c in columns if examples or c != "examples"])
        out["window"] = [", ".join(v) if isinstance(v, list) else v for v in out["window"]]
        out["parts"] = [", ".join(f"{k} {v:.3g}" for k, v in d.items()) if isinstance(d, dict) else d
                        for d in out["parts"]]
        return out

    alerts = frame(summary.alerts, True)
    abstained = ", ".join(f"{k} {v}" for k, v in sorted(summary.abstained.items()))
    about = pd.DataFrame({"field": ["source", "rows", "tagged", "abstained", "blank", "undated", "period", "periods",
                                    "locations", "negative bands", "tests", "no test reason", "fdr", "method"],
                          "value": [summary.source, summary.rows, summary.tagged, abstained, summary.blank,
                                    summary.undated, summary.config.period, " ".join(summary.periods),
                                    len(summary.locations), ", ".join(summary.negative_bands), summary.family_size,
                                    summary.no_test_reason, summary.config.fdr, METHOD]})
    about["value"] = about["value"].astype(str)
    return {"alerts": _frame_for_sheet(alerts), "tests": _frame_for_sheet(frame(summary.tests, False)),
            "groups": _frame_for_sheet(summary.groups),
            "top statements": _frame_for_sheet(summary.top_statements), "about": _frame_for_sheet(about)}


def write_tables(summary: Summary, path: Path) -> list[Path]:
    """Write the summary to ``path`` (.xlsx: one sheet per table; .csv: groups, plus ``-alerts``, ``-tests``
    and ``-statements`` siblings; .json: :meth:`Summary.to_dict` with examples), each atomically."""
    import json

    from evidencenlp.errors import InputFileError
    from evidencenlp.tabular import write_table

    path = Path(path)
    suffix = path.suffix.lower()
    tables = summary_tables(summary) if suffix in (".xlsx", ".csv") else {}
    if suffix == ".json":
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(summary.to_dict(examples=True), ensure_ascii=False, indent=1), encoding="utf-8")
            tmp.replace(path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return [path]
    if suffix == ".csv":
        written = []
        for name, sibling in (("groups", path), ("alerts", path.with_name(f"{path.stem}-alerts.csv")),
                              ("tests", path.with_name(f"{path.stem}-tests.csv")),
                              ("top statements", path.with_name(f"{path.stem}-statements.csv"))):
            write_table(tables[name], sibling)
            written.append(sibling)
        return written
    if suffix == ".xlsx":
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.xlsx")
        try:
            with pd.ExcelWriter(tmp, engine="openpyxl") as writer:
                for name, frame in tables.items():
                    frame.to_excel(writer, sheet_name=name, index=False)
            tmp.replace(path)
        finally:
            if tmp.exists():
                tmp.unlink()
        return [path]
    raise InputFileError(f"{path}: unsupported summary output {path.suffix or '(none)'!r}; use .xlsx, .csv or .json")
