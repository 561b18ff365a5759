"""One self-contained HTML page from an :class:`~evidencenlp.evaluation.cv.Evaluation`.

Plots are drawn with matplotlib's Agg canvas (no display, no pyplot state) and embedded as
base64 PNG ``<img>`` tags; styles are inline; nothing is loaded from outside the file. Sections:
summary (model vs baselines), data and split, per-task figures (confusion matrices, reliability
diagrams, selective accuracy curves, per-class scores), breakdowns by service / evidence category.
No note text is ever included.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evidencenlp.evaluation.baselines import MODEL_TITLES
from evidencenlp.evaluation.cv import Evaluation

COLOURS: dict[str, str] = {"heads": "#1b5e9b", "majority": "#9e9e9e", "tfidf_svm": "#d9822b", "zero_shot": "#3a9b5c"}
TASK_TITLES: dict[str, str] = {"key_question": "Key question", "statement": "SAF quality statement",
                               "evidence_category": "Evidence category", "band": "Rating band",
                               "polarity": "Polarity (band direction)"}

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;max-width:1150px;
color:#1d1d1d;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #1b5e9b;padding-bottom:.2rem;margin-top:2.2rem}
h3{margin-top:1.6rem}table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.88rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:right}th{background:#eef3f8}
td.l,th.l{text-align:left}td.best{font-weight:700;background:#e6f0e6}.muted{color:#666;font-size:.88rem}
img{max-width:100%;height:auto;border:1px solid #eee;margin:.3rem 0}.grid{display:flex;flex-wrap:wrap;gap:.6rem}
.note{background:#fff7e0;border-left:4px solid #e0a800;padding:.4rem .8rem;margin:.5rem 0}
code{background:#f3f3f3;padding:0 .25rem}
"""


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _fmt(v: float | None, digits: int = 3) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{digits}f}"


def _png(fig: Figure) -> str:
    """The figure as an ``<img>`` tag with a base64 PNG data URI."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="plot" src="data:image/png;base64,{data}">'


def _title(model: str) -> str:
    return MODEL_TITLES.get(model, model)


def confusion_figure(evaluation: Evaluation, task: str) -> Figure:
    """Row-normalised confusion matrices of every model side by side (counts written when few labels)."""
    models = [m for m in evaluation.models if task in evaluation.results[m]]
    k = max(len(evaluation.results[m][task].labels) for m in models)
    cols = len(models) if k <= 12 else min(2, len(models))
    rows = math.ceil(len(models) / cols)
    side = min(6.5, 2.6 + 0.14 * k)
    fig = Figure(figsize=(side * cols, side * rows + 0.3), layout="constrained")
    small = 6 if k > 12 else 8
    for n, model in enumerate(models):
        result = evaluation.results[model][task]
        ax = fig.add_subplot(rows, cols, n + 1)
        cm = result.confusion.astype(float)
        totals = cm.sum(axis=1, keepdims=True)
        norm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        short = [lab.split(".", 1)[-1][:24] for lab in result.labels]
        ax.set_xticks(range(len(short)), short, rotation=90, fontsize=small)
        ax.set_yticks(range(len(short)), short if n % cols == 0 else [""] * len(short), fontsize=small)
        ax.set_xlabel("predicted", fontsize=8)
        if n % cols == 0:
            ax.set_ylabel("true", fontsize=8)
        if len(short) <= 8:
            for i in range(len(short)):
                for j in range(len(short)):
                    if cm[i, j]:
                        ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                                color="white" if norm[i, j] > 0.5 else "black")
        ax.set_title(f"{_title(model)} (acc {_fmt(result.accuracy)})", fontsize=9)
    fig.suptitle(f"Confusion matrices — {TASK_TITLES.get(task, task)} (rows = true label, row-normalised)",
                 fontsize=10)
    return fig


def reliability_figure(evaluation: Evaluation, task: str) -> Figure:
    """Reliability diagram: accuracy vs mean confidence per bin, one line per model, plus the diagonal."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], ls="--", color="#999", lw=1, label="perfect calibration")
    for model in evaluation.models:
        r = evaluation.results[model].get(task)
        if r is None:
            continue
        pts = [(b.mean_confidence, b.accuracy, b.count) for b in r.reliability if b.count]
        if not pts:
            continue
        x, y, c = zip(*pts)
        ax.plot(x, y, marker="o", color=COLOURS.get(model), lw=1.5, label=f"{_title(model)} (ECE {_fmt(r.ece)})")
        ax.scatter(x, y, s=[10 + 80 * ci / max(c) for ci in c], color=COLOURS.get(model), alpha=0.35)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("confidence (top-label probability)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Reliability — {TASK_TITLES.get(task, task)}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left")
    return fig


def selective_figure(evaluation: Evaluation, task: str) -> Figure:
    """Accuracy of the most confident fraction of notes vs that fraction (coverage)."""
    fig = Figure(figsize=(4.6, 4.2))
    ax = fig.add_subplot()
    for model in evaluation.models:
        r = evaluation.results[model].get(task)
        if r is None or not r.selective:
            continue
        ax.plot([p.coverage for p in r.selective], [p.accuracy for p in r.selective], marker="o",
                color=COLOURS.get(model), label=_title(model))
    ax.set_xlim(0.05, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("coverage (fraction answered, most confident first)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Selective accuracy — {TASK_TITLES.get(task, task)}", fontsize=10)
    ax.legend(fontsize=7, loc="lower left")
    return fig


def _summary_table(evaluation: Evaluation) -> str:
    head = "".join(f"<th>{_esc(_title(m))}</th>" for m in evaluation.models)
    rows = []
    for task, metric, values in evaluation.summary_rows():
        present = {m: v for m, v in values.items() if v is not None}
        best = (min if metric == "ECE" else max)(present, key=present.__getitem__) if present else None
        cells = "".join(f'<td class="{"best" if m == best else ""}">{_fmt(values[m])}</td>' for m in evaluation.models)
        n = next((evaluation.results[m][task].n for m in evaluation.models if task in evaluation.results[m]), 0)
        rows.append(f'<tr><td class="l">{_esc(TASK_TITLES.get(task, task))} <span class="muted">(n={n})</span></td>'
                    f'<td class="l">{_esc(metric)}</td>{cells}</tr>')
    folds = []
    for task in evaluation.tasks:
        for m in evaluation.models:
            r = evaluation.results[m].get(task)
            if r is not None and len(r.fold_accuracy) > 1:
                folds.append(f'<tr><td class="l">{_esc(TASK_TITLES.get(task, task))}</td><td class="l">{_esc(_title(m))}'
                             f"</td><td>{_fmt(float(np.mean(r.fold_accuracy)))} ± {_fmt(float(np.std(r.fold_accuracy)))}"
                             f"</td><td>{_fmt(float(np.mean(r.fold_macro_f1)))} ± {_fmt(float(np.std(r.fold_macro_f1)))}"
                             "</td></tr>")
    out = (f'<table><tr><th class="l">task</th><th class="l">metric</th>{head}</tr>{"".join(rows)}</table>'
           '<p class="muted">Best value per row in bold (lowest for ECE). ECE: expected calibration error, '
           f"top label, {len(next(iter(next(iter(evaluation.results.values())).values())).reliability)} equal-width "
           "bins. QWK: quadratic weighted kappa over inadequate &lt; requires improvement &lt; good &lt; outstanding."
           "</p>")
    if folds:
        out += ('<h3>Per-fold spread</h3><table><tr><th class="l">task</th><th class="l">model</th>'
                f'<th>accuracy (mean ± sd)</th><th>macro-F1 (mean ± sd)</th></tr>{"".join(folds)}</table>')
    return out


def _per_class_table(evaluation: Evaluation, task: str) -> str:
    main = evaluation.models[0]
    r = evaluation.results[main][task]
    others = [m for m in evaluation.models[1:] if task in evaluation.results[m]]
    f1 = {m: {c.label: c.f1 for c in evaluation.results[m][task].per_class} for m in others}
    head = "".join(f"<th>F1 {_esc(_title(m))}</th>" for m in others)
    rows = []
    for c in r.per_class:
        extra = "".join(f"<td>{_fmt(f1[m].get(c.label))}</td>" for m in others)
        rows.append(f'<tr><td class="l">{_esc(c.label)}</td><td>{c.support}</td><td>{_fmt(c.precision)}</td>'
                    f"<td>{_fmt(c.recall)}</td><td>{_fmt(c.f1)}</td>{extra}</tr>")
    return (f'<table><tr><th class="l">class</th><th>support</th><th>precision {_esc(_title(main))}</th>'
            f"<th>recall</th><th>F1</th>{head}</tr>{''.join(rows)}</table>")


def _breakdown_tables(evaluation: Evaluation) -> str:
    if not evaluation.breakdowns:
        return '<p class="muted">No <code>service</code> or <code>evidence_category</code> column in the test data.</p>'
    parts = []
    for column, tasks in evaluation.breakdowns.items():
        parts.append(f"<h3>By {_esc(column.replace('_', ' '))}</h3>")
        for task, rows in tasks.items():
            if not rows:
                continue
            head = "".join(f"<th>{_esc(_title(m))}</th>" for m in evaluation.models)
            body = []
            for row in rows:
                vals = {m: row.get(m) for m in evaluation.models}
                present = {m: v for m, v in vals.items() if v is not None and not math.isnan(v)}
                best = max(present, key=present.__getitem__) if present else None
                cells = "".join(f'<td class="{"best" if m == best else ""}">{_fmt(vals[m])}</td>'
                                for m in evaluation.models)
                body.append(f'<tr><td class="l">{_esc(row["value"])}</td><td>{row["n"]}</td>{cells}</tr>')
            parts.append(f"<p><b>{_esc(TASK_TITLES.get(task, task))}</b> — accuracy</p>"
                         f'<table><tr><th class="l">{_esc(column)}</th><th>n</th>{head}</tr>{"".join(body)}</table>')
    return "".join(parts)


def _data_section(evaluation: Evaluation) -> str:
    rows = "".join(f'<tr><td class="l">{_esc(k)}</td><td class="l">{_esc(v)}</td></tr>' for k, v in evaluation.data.items())
    notes = "".join(f'<div class="note">{_esc(n)}</div>' for n in evaluation.notes)
    return f"<p>{_esc(evaluation.description)}</p>{notes}<table>{rows}</table>"


def risk_coverage_figure(evaluation: Evaluation, review: dict[str, Any]) -> Figure:
    """Risk (1 − accuracy among the answered) against coverage for key question and band direction,
    with the shipped thresholds' operating point (coverage and error among notes not flagged)."""
    fig = Figure(figsize=(5.2, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    model = evaluation.models[0]
    for task, label in (("key_question", "key question"), ("polarity", "direction"), ("band", "band")):
        r = evaluation.results.get(model, {}).get(task)
        if r is None or not r.selective:
            continue
        ax.plot([p.coverage for p in r.selective], [1 - p.accuracy for p in r.selective], marker="o", ms=3,
                label=f"{label} (this evaluation)")
    for name, marker in (("all", "s"), ("corpus", "^"), ("real_feedback", "D")):
        point = review.get(name)
        if point and point.get("kq_error_unflagged") is not None:
            ax.scatter([point["coverage"]], [point["kq_error_unflagged"]], marker=marker, s=40, zorder=3,
                       label=f"shipped thresholds, key question ({name.replace('_', ' ')})")
    targets = review.get("targets", {})
    for key, style in (("kq_error", "--"), ("direction_error", ":")):
        if key in targets:
            ax.axhline(targets[key], color="grey", linestyle=style, linewidth=1)
    ax.set_xlabel("coverage (share of notes not flagged)")
    ax.set_ylabel("risk (share wrong among them)")
    ax.set_xlim(0, 1.02)
    ax.legend(fontsize=6, loc="upper left")
    fig.tight_layout()
    return fig


def review_section(evaluation: Evaluation, review: dict[str, Any] | None) -> str:
    """Where the needs_review thresholds sit: the risk-coverage curve and the held-out operating points."""
    if not review:
        return ""
    rows = []
    for name in ("all", "corpus", "real_feedback"):
        r = review.get(name)
        if r:
            rows.append(f"<tr><td>{_esc(name.replace('_', ' '))} (n={r['rows']})</td><td>{_fmt(r['coverage'])}</td>"
                        f"<td>{_fmt(r['kq_error_unflagged'])}</td><td>{_fmt(r['direction_error_unflagged'])}</td>"
                        f"<td>{_fmt(r['kq_error_all'])}</td><td>{_fmt(r['direction_error_all'])}</td></tr>")
    targets = review.get("targets", {})
    return ('<h2 id="review">When the tool says needs_review</h2>'
            f"<p>Thresholds of the shipped model, chosen on {review.get('rated_rows', review.get('held_out_rows', '?'))} "
            "rated held-out rows so that "
            f"among notes not flagged the key question is wrong in at most {_fmt(targets.get('kq_error'), 2)} and "
            f"the band direction in at most {_fmt(targets.get('direction_error'), 2)}: key question probability ≥ "
            f"{_fmt(review.get('key_question'))}, direction probability ≥ {_fmt(review.get('direction'))}.</p>"
            "<table><tr><th>held-out rows</th><th>coverage</th><th>key question wrong (not flagged)</th>"
            "<th>direction wrong (not flagged)</th><th>key question wrong (all)</th><th>direction wrong (all)</th>"
            "</tr>" + "".join(rows) + "</table>" + _png(risk_coverage_figure(evaluation, review)))


def render_html(evaluation: Evaluation, title: str = "evidencenlp evaluation",
                review: dict[str, Any] | None = None) -> str:
    """The whole report as one HTML string (self-contained: inline CSS, base64 PNGs)."""
    from evidencenlp import __version__ as version

    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    sections = [
        f"<h1>{_esc(title)}</h1>",
        (f'<p class="muted">Generated {now} by evidencenlp {_esc(version)} · mode <code>{_esc(evaluation.mode)}</code> · '
         f"data sha256 <code>{_esc(evaluation.data.get('sha256', '?'))}</code></p>"),
        ('<p class="muted">Suggestions are for an inspector to confirm or correct; these figures describe how often '
         "the suggestions match people's labels on the test notes below, not the quality of any service.</p>"),
        '<h2 id="summary">Summary: model vs baselines</h2>', _summary_table(evaluation),
        '<h2 id="data">Data and split</h2>', _data_section(evaluation),
        review_section(evaluation, review),
    ]
    for task in evaluation.tasks:
        sections.append(f'<h2 id="task-{_esc(task)}">{_esc(TASK_TITLES.get(task, task))}</h2>')
        sections.append('<h3>Reliability diagram and selective accuracy</h3><div class="grid">'
                        + _png(reliability_figure(evaluation, task)) + _png(selective_figure(evaluation, task))
                        + "</div>")
        sections.append("<h3>Per-class precision, recall and F1</h3>" + _per_class_table(evaluation, task))
        sections.append("<h3>Confusion matrices</h3>" + _png(confusion_figure(evaluation, task)))
    sections += ['<h2 id="breakdowns">Breakdowns</h2>', _breakdown_tables(evaluation)]
    body = "\n".join(sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>\n{body}\n</body></html>\n")


def write_report(evaluation: Evaluation, path: Path, title: str = "evidencenlp evaluation",
                 review: dict[str, Any] | None = None) -> Path:
    """Write :func:`render_html` to ``path`` atomically and return it. ``review`` is the shipped model's
    ``metrics["review"]`` (its needs_review thresholds and their held-out coverage), shown when given."""
    from evidencenlp.fileio import write_text_atomic

    return write_text_atomic(path, render_html(evaluation, title, review))
