"""Trend alerts judged on scenarios an analyst wrote and called by eye, before the method was run on them.

A case file (JSON list) gives, per scenario, 12 months of counts per location: the total comments and
the NEGATIVE comments per key question, and the analyst's call: the alerts an analyst would raise
(location, key question or ``null`` for the site's overall negative share, month), or none, with why.

Each scenario becomes a stream of real comments: for every location × month, the analyst's number of
negative comments about each key question is drawn from the phase-1 comments whose *coders* labelled
them negative about that key question (by the project's mapping; where the pool has too few such
comments for a key question, from the comments the tool tags negative about it, and the report says
so), and the rest of the month's total from the comments coded positive or neutral. What the alert
method then sees is the **tool's** tags of those comments (:mod:`evidencenlp.trends.pool`: each
comment tagged once; no text is kept), exactly as a user running ``summarise`` would.

The method is run as an analyst runs it, every month on the data so far (``monitor=True``: the stream cut
after each month from the fourth on; the alerts of all those runs, each finding once), since alerts
are about the latest periods; ``monitor=False`` runs it once on the whole year.

A called alert is *found* when the method alerts (direction ``worse``) at that location, about that key
question (or one of its statements; the site's overall share for a ``null`` key question) in the
called month or one month either side. Every other alert is *false*, counted once per location ×
month × topic. The figures are averaged over ``runs`` draws of the comments.

The case writers' own matching rules are scored beside these strict ones (``lenient``): an alert the
analyst lists under ``analyst.tolerated`` (same shape as ``alerts``: what they could not call either
way) is neither a hit nor false; a site alert (``null`` key question) at a location and month where a
key question is called is neither; a called site alert is found by any alert at that location and
month. Both sets of figures come from the same runs.

In: the case file, the phase-1 CSV, a backend. Out: :class:`CaseReport` (printed by
``evidencenlp evaluate --trend-cases FILE --phase1 PATH``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.errors import DataError
from evidencenlp.taxonomy import Taxonomy, default_taxonomy

#: at least this many coded negative comments about a key question in the pool to draw by coded labels
MIN_CODED = 40
#: a called alert is found in its month or this many months either side
SLACK_MONTHS = 1


@dataclass(frozen=True)
class CalledAlert:
    """An alert the analyst called: where, about what (None: the site's overall negative share), when."""

    scenario: str
    location: str
    key_question: str | None
    month: str


@dataclass
class CaseReport:
    """Detection of the called alerts and false alerts, over ``runs`` draws of every scenario.

    ``found``: per called alert, the share of runs in which it was found; ``false_alerts``: per scenario,
    the mean number of false alerts a run; ``location_months``: per scenario, locations × months (the
    denominator of the false-alert rate); ``drawn_by_tool``: key questions whose negatives were drawn
    by the tool's tags (too few coded ones in the pool).
    """

    runs: int
    backend: str
    monitor: bool = True
    found: dict[CalledAlert, float] = field(default_factory=dict)
    false_alerts: dict[str, float] = field(default_factory=dict)
    location_months: dict[str, int] = field(default_factory=dict)
    quiet: dict[str, bool] = field(default_factory=dict)
    drawn_by_tool: list[str] = field(default_factory=list)
    #: the same figures by the case writers' matching rules (tolerated alerts, site/key question leniency)
    lenient_found: dict[CalledAlert, float] = field(default_factory=dict)
    lenient_false_alerts: dict[str, float] = field(default_factory=dict)

    @property
    def detection_rate(self) -> float:
        """Mean share of runs in which a called alert was found (over every called alert)."""
        return float(np.mean(list(self.found.values()))) if self.found else float("nan")

    @property
    def false_per_100_location_months(self) -> float:
        """False alerts per 100 location-months, over every scenario."""
        months = sum(self.location_months.values())
        return 100.0 * sum(self.false_alerts.values()) / months if months else float("nan")

    def lenient_figures(self) -> dict[str, float]:
        """Detection rate and false alerts per 100 location-months by the writers' matching rules."""
        months = sum(self.location_months.values())
        found = list(self.lenient_found.values())
        return {"detection_rate": float(np.mean(found)) if found else float("nan"),
                "false_alerts_per_100_location_months":
                    100.0 * sum(self.lenient_false_alerts.values()) / months if months else float("nan")}

    def quiet_scenarios_alerted(self) -> float:
        """Mean false alerts a run in the scenarios the analyst called quiet (no alert at all)."""
        values = [self.false_alerts[s] for s, quiet in self.quiet.items() if quiet]
        return float(np.mean(values)) if values else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"runs": self.runs, "backend": self.backend, "monitor": self.monitor, "detection_rate": self.detection_rate,
                "false_alerts_per_100_location_months": self.false_per_100_location_months,
                "false_alerts_per_run_in_quiet_scenarios": self.quiet_scenarios_alerted(),
                "called": [{"scenario": c.scenario, "location": c.location, "key_question": c.key_question,
                            "month": c.month, "found": v} for c, v in self.found.items()],
                "lenient": self.lenient_figures(),
                "false_alerts_per_run": self.false_alerts, "location_months": self.location_months,
                "drawn_by_tool": self.drawn_by_tool}


def read_cases(path: Path, taxonomy: Taxonomy) -> list[dict[str, Any]]:
    """Read and check a case file; errors name the file, the scenario and what is wrong."""
    try:
        cases = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: not a readable JSON case file ({exc})") from None
    if not isinstance(cases, list) or not cases:
        raise DataError(f"{path}: expected a JSON list of scenarios")
    kqs = set(taxonomy.key_questions)
    for case in cases:
        sid = case.get("id", "?")
        months = case.get("months") or []
        for name, loc in (case.get("locations") or {}).items():
            if len(loc.get("total", [])) != len(months):
                raise DataError(f"{path}: scenario {sid}: location {name!r}: 'total' needs one count a month")
            for kq, counts in (loc.get("negative") or {}).items():
                if kq not in kqs:
                    raise DataError(f"{path}: scenario {sid}: unknown key question {kq!r}")
                if len(counts) != len(months):
                    raise DataError(f"{path}: scenario {sid}: location {name!r}: {kq}: one count a month")
        analyst = case.get("analyst") or {}
        for a in [*(analyst.get("alerts") or []), *(analyst.get("tolerated") or [])]:
            if a.get("key_question") not in kqs | {None} or a.get("month") not in months:
                raise DataError(f"{path}: scenario {sid}: an analyst alert names an unknown key question or month")
            if a.get("location") not in (case.get("locations") or {}):
                raise DataError(f"{path}: scenario {sid}: an analyst alert names no location of the scenario")
    return cases


def _pools(frame: pd.DataFrame, taxonomy: Taxonomy) -> tuple[dict[str, np.ndarray], np.ndarray, list[str]]:
    """Row indices of the negative comments per key question (coded, else tagged) and of the others."""
    negative_tagged = frame["band"].isin(taxonomy.negative_bands).to_numpy()
    coded_negative = (frame["true_polarity"] == "negative").to_numpy()
    by_kq: dict[str, np.ndarray] = {}
    by_tool: list[str] = []
    for kq in taxonomy.key_questions:
        coded = np.flatnonzero(coded_negative & (frame["true_key_question"] == kq).to_numpy())
        if len(coded) >= MIN_CODED:
            by_kq[kq] = coded
        else:
            by_kq[kq] = np.flatnonzero(negative_tagged & (frame["key_question"] == kq).to_numpy())
            by_tool.append(kq)
    others = np.flatnonzero(~coded_negative & ~negative_tagged)
    return by_kq, others, by_tool


def stream(case: dict[str, Any], frame: pd.DataFrame, pools: dict[str, np.ndarray], others: np.ndarray,
           rng: np.random.Generator) -> pd.DataFrame:
    """One draw of a scenario as a tagged table (location, date, the tool's labels) for ``summarise``."""
    parts = []
    for name, loc in case["locations"].items():
        for m, month in enumerate(case["months"]):
            rows = [rng.choice(pools[kq], size=int(counts[m])) for kq, counts in (loc.get("negative") or {}).items()
                    if int(counts[m]) > 0]
            n_neg = sum(len(r) for r in rows)
            rest = max(int(loc["total"][m]) - n_neg, 0)
            rows.append(rng.choice(others, size=rest))
            idx = np.concatenate(rows) if rows else np.empty(0, dtype=int)
            part = frame.iloc[idx][["key_question", "statement", "band", "reason"]].copy()
            part["location"], part["date"], part["text"] = name, f"{month}-15", ""
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _month_index(months: Sequence[str], month: str) -> int:
    return list(months).index(month) if month in months else -10


#: the first month after which the monitoring replay runs the method (it needs a few months of baseline)
FIRST_MONITORED_MONTH = 4


def _monitored(case: dict[str, Any], tagged: pd.DataFrame, summarise: Callable[[pd.DataFrame], list[Any]],
               monitor: bool) -> list[Any]:
    """The method's alerts on the whole stream, or (``monitor``) on the stream cut after each month."""
    if not monitor:
        return summarise(tagged)
    month = tagged["date"].str[:7]
    out = []
    for cut in case["months"][FIRST_MONITORED_MONTH - 1:]:
        out.extend(summarise(tagged[month <= cut]))
    return out


def _near(months: Sequence[str], called_month: str, period: str) -> bool:
    return abs(_month_index(months, called_month) - _month_index(months, period)) <= SLACK_MONTHS


def _score(months: Sequence[str], called: Sequence[CalledAlert], tolerated: Sequence[CalledAlert],
           alerts: Sequence[Any], lenient: bool) -> tuple[set[CalledAlert], int]:
    """The called alerts found by one run's ``alerts`` and its number of false alerts (one per location ×
    month × topic); ``lenient``: the writers' rules (module docstring), with ``tolerated`` alerts ignored."""
    found: set[CalledAlert] = set()
    false_topics = set()
    for a in alerts:
        match = {c for c in called if c.location == a.location and _near(months, c.month, a.period)
                 and (c.key_question == a.key_question or (lenient and c.key_question is None))}
        found |= match
        if match:
            continue
        if lenient:
            if any(t.location == a.location and t.key_question == a.key_question and _near(months, t.month, a.period)
                   for t in tolerated):
                continue
            if a.key_question is None and any(c.location == a.location and _near(months, c.month, a.period)
                                              for c in called):
                continue
        false_topics.add((a.location, a.period, a.key_question))
    return found, len(false_topics)


def judge(cases: list[dict[str, Any]], frame: pd.DataFrame, taxonomy: Taxonomy, runs: int, backend: str,
          summarise: Callable[[pd.DataFrame], list[Any]], seed: int = 0, monitor: bool = True) -> CaseReport:
    """Run every scenario ``runs`` times; ``summarise(tagged)`` returns the alerts (records with
    ``location``, ``period``, ``key_question``, ``statement`` and ``direction``); see the module docstring
    for ``monitor``."""
    pools, others, by_tool = _pools(frame, taxonomy)
    report = CaseReport(runs=runs, backend=backend, monitor=monitor, drawn_by_tool=by_tool)
    rng = np.random.default_rng(seed)
    for case in cases:
        sid = str(case["id"])
        analyst = case.get("analyst") or {}
        called = [CalledAlert(sid, a["location"], a.get("key_question"), a["month"])
                  for a in analyst.get("alerts") or []]
        tolerated = [CalledAlert(sid, a["location"], a.get("key_question"), a["month"])
                     for a in analyst.get("tolerated") or []]
        hits = dict.fromkeys(called, 0)
        lenient_hits = dict.fromkeys(called, 0)
        false_total = lenient_false = 0
        for _ in range(runs):
            tagged = stream(case, frame, pools, others, rng)
            alerts = [a for a in _monitored(case, tagged, summarise, monitor) if a.direction == "worse"]
            strict = _score(case["months"], called, [], alerts, lenient=False)
            loose = _score(case["months"], called, tolerated, alerts, lenient=True)
            false_total += strict[1]
            lenient_false += loose[1]
            for c in strict[0]:
                hits[c] += 1
            for c in loose[0]:
                lenient_hits[c] += 1
        for c in called:
            report.found[c] = hits[c] / runs
            report.lenient_found[c] = lenient_hits[c] / runs
        report.false_alerts[sid] = false_total / runs
        report.lenient_false_alerts[sid] = lenient_false / runs
        # monitoring tests every month once; a single run on the whole year tests only its latest month
        report.location_months[sid] = len(case["locations"]) * (len(case["months"]) if monitor else 1)
        report.quiet[sid] = not called
    return report


def run(cases_path: Path, phase1: Path, backend: str = "torch", runs: int = 20, seed: int = 0,
        monitor: bool = True) -> CaseReport:
    """Judge the library's ``summarise`` on the case file with the phase-1 comments tagged by ``backend``."""
    from evidencenlp.trends import normalise_frame, summarise_frame
    from evidencenlp.trends.pool import load_pool

    taxonomy = default_taxonomy()
    cases = read_cases(cases_path, taxonomy)
    pool = load_pool(phase1, backend=backend).frame.reset_index(drop=True)

    def alerts(tagged: pd.DataFrame) -> list[Any]:
        normal = normalise_frame(tagged, taxonomy, location_column="location", date_column="date",
                                 text_column="text")
        return list(summarise_frame(normal, taxonomy).alerts)

    return judge(cases, pool, taxonomy, runs, backend, alerts, seed, monitor)
