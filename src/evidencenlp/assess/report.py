"""One self-contained HTML page for an :class:`Assessment` (inline CSS and SVG; no scripts, no network).

The page is the only output that shows note text, and only as a short excerpt redacted again here.
Files are written atomically (temporary name, then rename).
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from evidencenlp.assess.model import (
    INDICATIVE,
    Assessment,
    KeyQuestionAssessment,
    LocationAssessment,
    StatementAssessment,
)
from evidencenlp.fileio import write_text_atomic

#: band colours by position, best first (the bands themselves come from the framework data)
_PALETTE = ("#1b7837", "#5aae61", "#f1a340", "#d7301f", "#6a51a3", "#999999")

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;
line-height:1.4;padding:0 1rem}
h1{font-size:1.6rem}h2{border-bottom:2px solid #ddd;padding-bottom:.2rem;margin-top:2.5rem}
.notice{background:#fff8e1;border-left:4px solid #f1a340;padding:.6rem 1rem;margin:1rem 0}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1rem}th,td{border-bottom:1px solid #e3e3e3;
padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.92rem}th{background:#f6f6f6}
.badge{display:inline-block;padding:.1rem .5rem;border-radius:.8rem;color:#fff;font-weight:600;font-size:.85rem}
.none{background:#999}.small{font-size:.85rem;color:#555}details{margin:.4rem 0 .8rem}summary{cursor:pointer}
.ex{color:#444;font-style:italic}code{background:#f3f3f3;padding:0 .2rem}
"""


def _colour(band: str | None, bands: list[str]) -> str:
    if band is None or band not in bands:
        return "#999999"
    return _PALETTE[min(bands.index(band), len(_PALETTE) - 1)]


def _badge(band: str | None, bands: list[str], titles: dict[str, str]) -> str:
    label = titles.get(band or "", band or "no rating") if band else "no rating"
    return f'<span class="badge" style="background:{_colour(band, bands)}">{escape(label)}</span>'


def _bar(weights: dict[str, float], bands: list[str], width: int = 220, height: int = 14) -> str:
    """An inline SVG stacked bar of the confidence-weighted band distribution."""
    total = sum(weights.values())
    if total <= 0:
        return ""
    x = 0.0
    parts = []
    for band in bands:
        w = width * weights.get(band, 0.0) / total
        if w > 0:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{_colour(band, bands)}">'
                         f"<title>{escape(band)}: {weights[band]:.2f}</title></rect>")
            x += w
    return (f'<svg width="{width}" height="{height}" role="img" aria-label="band distribution" '
            f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>')


def _statement(s: StatementAssessment, bands: list[str], titles: dict[str, str]) -> str:
    hint = s.what_would_make_outstanding
    rows = "".join(
        f"<tr><td>{escape(n.note)}</td><td>{n.row}</td><td>{escape(titles.get(n.band, n.band))}</td>"
        f"<td>{n.weight:.2f}</td><td>{escape(n.source)}</td><td>{escape(n.evidence_category or '')}</td>"
        f'<td class="ex">{escape(n.excerpt())}</td></tr>' for n in s.notes)
    band = titles.get(s.band or "", s.band or "")
    score = "insufficient evidence" if s.insufficient_evidence else f"score {s.score} ({escape(band)})"
    hint_html = ""
    if hint is not None:
        hint_html = (f'<p><b>What would make this outstanding</b> (v6 topic <code>{escape(hint.topic)}</code>, '
                     f"{escape(hint.topic_title)}): {escape(hint.descriptor)}</p>")
    categories = ", ".join(f"{escape(c)} ({n})" for c, n in s.evidence_categories.items())
    return (f"<details><summary><b>{escape(s.title)}</b> — {score} {_bar(s.band_weights, bands)}</summary>"
            f'<p class="small">{escape(s.rule)}</p><p class="small">Evidence categories: {categories or "none"}</p>'
            f"{hint_html}<table><tr><th>note</th><th>row</th><th>band</th><th>weight</th><th>source</th>"
            f"<th>category</th><th>redacted excerpt</th></tr>{rows}</table></details>")


def _key_question(kq: KeyQuestionAssessment, bands: list[str], titles: dict[str, str]) -> str:
    rules = "".join(f"<li>{escape(r)}</li>" for r in kq.rules_applied)
    sens = (f"<p><b>Sensitivity:</b> {escape(kq.sensitivity.line())}</p>" if kq.sensitivity else
            f"<p class='small'><b>Sensitivity:</b> {escape(kq.sensitivity_omitted)}</p>" if kq.sensitivity_omitted
            else "")
    principles = ""
    if kq.principles:
        items = "".join(f"<li>{escape(p.title)}: notes {escape(', '.join(p.notes))}</li>" for p in kq.principles)
        principles = f"<p><b>King's Fund principles evidenced</b></p><ul>{items}</ul>"
    missing = ", ".join(escape(titles.get(s, s)) for s in kq.statements_without_evidence)
    statements = "".join(_statement(s, bands, titles) for s in kq.statements)
    score = _score(kq) or "—"
    return (f"<h3>{escape(kq.title)} {_badge(kq.rating, bands, titles)} <span class='small'>{score}</span></h3>"
            f"<ul class='small'>{rules}</ul>{sens}{principles}{statements}"
            f"<p class='small'><b>No evidence:</b> {missing or 'none'}</p>")


def _score(kq: KeyQuestionAssessment) -> str:
    """The percentage, labelled when it is the expected-score computation's and the posterior rated otherwise."""
    if kq.score is None:
        return ""
    return f"{kq.score}%" + (" (expected-score computation)" if kq.expected_score is not None else "")


def _probability(kq: KeyQuestionAssessment) -> str:
    """`` <span>p 0.62</span>`` when the rating is the most probable over the posterior draws, else empty."""
    if kq.posterior is None or kq.rating is None:
        return ""
    return f" <span class='small'>p {kq.posterior.get(kq.rating, 0.0):.2f}</span>"


def _location(loc: LocationAssessment, bands: list[str], titles: dict[str, str]) -> str:
    summary = "".join(
        f"<tr><td>{escape(kq.title)}</td><td>{_badge(kq.rating, bands, titles)}{_probability(kq)}</td>"
        f"<td>{escape(_score(kq))}</td>"
        f"<td>{escape(str(kq.limited_by['description'])) if kq.limited_by else ''}</td>"
        f"<td>{len(kq.scored)} / {sum(1 for s in kq.statements if s.insufficient_evidence)} / "
        f"{len(kq.statements_without_evidence)}</td>"
        f"<td class='small'>{escape(kq.sensitivity.line() if kq.sensitivity else kq.sensitivity_omitted or '')}</td>"
        "</tr>"
        for kq in loc.key_questions.values())
    overall_rules = "".join(f"<li>{escape(r)}</li>" for r in loc.overall.rules_applied)
    return (f"<h2>{escape(loc.location)}</h2><p>Overall (indicative): {_badge(loc.overall.rating, bands, titles)} "
            f"<span class='small'>{loc.n_notes} notes, {loc.n_confirmed} confirmed by an inspector</span></p>"
            f"<ul class='small'>{overall_rules}</ul>"
            "<table><tr><th>key question</th><th>rating</th><th>score</th><th>limited by</th>"
            "<th>statements scored / insufficient / no evidence</th><th>sensitivity</th></tr>"
            f"{summary}</table>" + "".join(_key_question(kq, bands, titles) for kq in loc.key_questions.values()))


def render_html(assessment: Assessment, titles: dict[str, str] | None = None, title: str = "Indicative assessment") -> str:
    """The report as one HTML string."""
    titles = {**assessment.titles, **(titles or {})}
    rules = assessment.rules
    bands = [str(v) for _, v in sorted(((int(k), v) for k, v in rules.get("statement_scores", {}).items()),
                                        reverse=True)]
    rules_json = escape(json.dumps(rules, indent=2, ensure_ascii=False))
    body = "".join(_location(loc, bands, titles) for loc in assessment.locations)
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"<style>{_CSS}</style></head><body><h1>{escape(title)}</h1>"
            f"<div class='notice'><b>{escape(INDICATIVE)}</b> Every rating below links to its notes and to the "
            "rules applied; note text appears only as short redacted excerpts.</div>"
            f"{body}<h2>Rules applied</h2><details><summary>rules and options (from the framework data)"
            f"</summary><pre>{rules_json}</pre></details></body></html>")




def write_report(assessment: Assessment, path: Path, titles: dict[str, str] | None = None) -> None:
    """Write the HTML report atomically."""
    write_text_atomic(path, render_html(assessment, titles))


def write_json(assessment: Assessment, path: Path) -> None:
    """Write ``assessment.to_dict()`` as JSON atomically."""
    write_text_atomic(path, json.dumps(assessment.to_dict(), indent=2, ensure_ascii=False) + "\n")


def as_json(data: Any) -> str:
    """Pretty JSON text."""
    return json.dumps(data, indent=2, ensure_ascii=False)
