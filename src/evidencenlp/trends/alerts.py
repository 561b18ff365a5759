"""The alert family: which tests run on a location × period table of counts, one FDR control, alerts.

In: :class:`Counts` (comments and negative comments per location × period, per key question and per
statement, as arrays). Out: :class:`Family` — every test run (kind, counts behind it, p, q) and the
reason when none could run. The kinds (:data:`~evidencenlp.trends.config.KINDS`):

* ``site_share`` — the location's negative comments on every topic against its other comments
  (the overall negative share, as odds);
* ``kq_count`` — negative comments about a key question against the location's own past months,
  following the location's volume only upwards (``volume="rise"``: the reference is the location's
  *other* comments, so the complaints cannot dilute it, and a volume rise with the same mix is no alarm);
* ``kq_share`` — the negative share within the key question.

By default a key question's first-stage test is its count alone (the analyst's "more complaints"), so
the family holds one site test and one count test per key question for every location × period; for
the latest ``recent_periods`` periods they form ONE family under Benjamini–Hochberg. With ``kq_share``
in ``SummaryConfig.kinds`` a key question's count and share are one first-stage test instead (weighted
Bonferroni, ``min(p_count/0.8, p_share/0.2)``; the record names the kind with the smaller p and keeps
both in ``parts``). The family may be weighted (``SummaryConfig.weighted``, off by default: weighted
Benjamini–Hochberg with each test's expected negatives, capped, as its weight). The statements of a
key question that alerted, and its share when that is not in the first stage, are then tested as its
children (``statement_count``, the same count test; ``kq_share``), with Benjamini–Hochberg within each
child family (hierarchical FDR, Yekutieli 2008): key questions before statements. ``stage`` says which
step a test belongs to (1 the family, 2 a drill-down).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from evidencenlp.trends.config import STATEMENT_KIND, SummaryConfig
from evidencenlp.trends.stats import SurveillanceResult, bh_qvalues, surveillance_test, weighted_bh_qvalues

#: weighted Bonferroni of a key question's two tests (weights sum to 1): the count is the primary question
KIND_WEIGHTS: dict[str, float] = {"kq_count": 0.8, "kq_share": 0.2}
#: a test's weight in the family is its expected negatives over the longest window (from its baseline),
#: capped here: about the count at which a doubling becomes detectable, so a topic with a negative comment
#: a month spends little of the error rate and a topic that can show a doubling gets its full share
WEIGHT_CAP = 10.0


@dataclass
class Counts:
    """Counts as arrays. ``n_all``/``x_all``: (L, P) comments and negatives at each location;
    ``n_kq``/``x_kq``: (L, K, P) per key question; ``n_st``/``x_st``: (L, S, P) per statement."""

    locations: list[str]
    periods: list[str]
    key_questions: list[str]
    statements: list[str]
    statement_kq: list[str]
    n_all: np.ndarray
    x_all: np.ndarray
    n_kq: np.ndarray
    x_kq: np.ndarray
    n_st: np.ndarray
    x_st: np.ndarray


@dataclass
class TestRecord:
    """One test: what was tested, the counts behind it, p and q.

    ``observed`` negatives in the ``window`` periods (ending at ``period``) against ``expected``;
    ``reference`` the comments it is measured against in the window (the location's other comments for
    counts; the non-negative comments of the topic for shares); ``baseline_observed`` /
    ``baseline_reference`` the same over ``baseline_periods`` earlier periods (with comments);
    ``national_factor`` ≥ 1 the rise seen at the other locations that was allowed for.
    """

    kind: str
    location: str
    period: str
    key_question: str | None
    statement: str | None
    direction: str
    window: list[str]
    observed: int
    expected: float
    reference: int
    baseline_observed: int
    baseline_reference: int
    baseline_periods: int
    national_factor: float
    z: float
    p_value: float
    q_value: float
    alert: bool
    #: the test's weight in the family's weighted Benjamini–Hochberg (1 = an equal share; see :data:`WEIGHT_CAP`)
    weight: float = 1.0
    #: 1: a test of the first-stage family; 2: a drill-down under a key question alert (statements, share)
    stage: int = 1
    #: the one-sided p of each component test (count and share of a key question, combined by Simes)
    parts: dict[str, float] = field(default_factory=dict)
    #: redacted example comments of an alert's window (filled by the summary; never in JSON on stdout)
    examples: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        """Observed over expected (the effect size)."""
        return self.observed / self.expected if self.expected > 0 else float("inf")

    def to_dict(self, examples: bool = False) -> dict[str, Any]:
        """JSON-ready form (floats rounded); note text (``examples``) only when asked."""
        d = asdict(self)
        if not examples:
            d.pop("examples")
        d["ratio"] = self.ratio
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = None if not np.isfinite(v) else round(v, 6)
        return d


@dataclass
class Family:
    """Every test run, the alerts among them, and why no test ran (``""`` when some did)."""

    tests: list[TestRecord]
    no_test_reason: str = ""

    @property
    def alerts(self) -> list[TestRecord]:
        """The tests that alerted."""
        return [t for t in self.tests if t.alert]

    @property
    def size(self) -> int:
        """The size of the first-stage family (the drill-downs not counted)."""
        return sum(t.stage == 1 for t in self.tests)


def _series(counts: Counts, kind: str, volume: str) -> tuple[np.ndarray, np.ndarray, str]:
    """Target, reference arrays (L, G, P) and the volume mode of one kind."""
    if kind == "site_share":
        return counts.x_all[:, None, :], (counts.n_all - counts.x_all)[:, None, :], "ratio"
    if kind == "kq_count":
        return counts.x_kq, (counts.n_all - counts.x_all)[:, None, :].repeat(counts.x_kq.shape[1], axis=1), volume
    if kind == "kq_share":
        return counts.x_kq, counts.n_kq - counts.x_kq, "ratio"
    if kind == STATEMENT_KIND:
        return counts.x_st, (counts.n_all - counts.x_all)[:, None, :].repeat(counts.x_st.shape[1], axis=1), volume
    raise ValueError(f"unknown kind {kind!r}")


def _run(counts: Counts, kind: str, config: SummaryConfig) -> SurveillanceResult:
    y, r, volume = _series(counts, kind, config.volume)
    first_tested = len(counts.periods) - (config.recent_periods or len(counts.periods))
    history = max(0, first_tested - max(config.windows) + 1)
    return surveillance_test(y, r, windows=config.windows, baseline=config.baseline_periods,
                             min_baseline_periods=config.min_baseline_periods, volume=volume,
                             national=config.national, history=history if history >= 2 else None,
                             window_weights=config.window_weights, national_prior=config.national_prior,
                             national_estimate=config.national_estimate)


def _record(res: SurveillanceResult, kind: str, idx: tuple[int, int, int], direction: str, p: float,
            counts: Counts, group: str | None) -> TestRecord:
    li, gi, pi = idx
    w = res.windows[int(res.best[idx])] if direction == "worse" else res.windows[0]
    kq = None
    statement = None
    if kind in ("kq_count", "kq_share"):
        kq = group
    elif kind == STATEMENT_KIND and group is not None:
        statement = group
        kq = counts.statement_kq[counts.statements.index(group)]
    return TestRecord(kind=kind, location=counts.locations[li], period=counts.periods[pi], key_question=kq,
                      statement=statement, direction=direction,
                      window=counts.periods[max(0, pi - w.window + 1):pi + 1], observed=int(w.observed[idx]),
                      expected=float(w.expected[idx]), reference=int(w.reference[idx]),
                      baseline_observed=int(w.baseline_target[idx]), baseline_reference=int(w.baseline_reference[idx]),
                      baseline_periods=int(w.baseline_periods[idx]), national_factor=float(w.national[idx]),
                      z=float(w.z[idx]), p_value=p, q_value=float("nan"), alert=False)


def _weight(res: SurveillanceResult, idx: tuple[int, int, int]) -> float:
    """A test's prior weight: its baseline mean count over the longest window (no national factor, the
    window's own counts not used), capped at :data:`WEIGHT_CAP`, never below a tenth of a comment."""
    longest = res.windows[-1]
    mean = longest.baseline_target[idx] / max(int(longest.baseline_periods[idx]), 1) * longest.window
    return float(min(max(mean, 0.1), WEIGHT_CAP))


def _tested_periods(n_periods: int, config: SummaryConfig) -> range:
    start = 0 if config.recent_periods is None else max(0, n_periods - config.recent_periods)
    return range(start, n_periods)


def _groups_of(counts: Counts, kind: str) -> list[str | None]:
    if kind == "site_share":
        return [None]
    if kind == STATEMENT_KIND:
        return list(counts.statements)
    return list(counts.key_questions)


def no_test_reason(counts: Counts, config: SummaryConfig) -> str:
    """Why no test could run on these counts ("" when the calendar and volumes allow tests)."""
    p = len(counts.periods)
    need = config.min_baseline_periods + min(config.windows)
    if not counts.locations or p == 0:
        return "no dated comments"
    if p < need:
        return (f"{p} {config.period}ly period{'s' if p != 1 else ''} ({', '.join(counts.periods)}): a test needs "
                f"at least {config.min_baseline_periods} earlier period(s) with comments as its baseline before the "
                f"tested period, so at least {need} periods; use a shorter --period or more data")
    return ("no location has comments in the tested periods and at least "
            f"{config.min_baseline_periods} earlier {config.period}s with comments")


def run_family(counts: Counts, config: SummaryConfig) -> Family:
    """Run the first-stage family (site and key question tests in the latest periods), BH, then the
    statement drill-down under every key question alert. Every test is returned with its p and q."""
    p_len = len(counts.periods)
    if p_len == 0 or not counts.locations:
        return Family([], no_test_reason(counts, config))
    tested = np.zeros(p_len, dtype=bool)
    tested[list(_tested_periods(p_len, config))] = True
    directions = ("worse", "better") if config.improvements else ("worse",)
    records: list[TestRecord] = []
    results = {kind: _run(counts, kind, config) for kind in config.kinds}
    # count and share of a key question are one test (Simes): the family stays one test per topic
    tests: list[tuple[str, ...]] = [("site_share",)] if "site_share" in results else []
    kq_kinds = tuple(k for k in ("kq_count", "kq_share") if k in results)
    if kq_kinds:
        tests.append(kq_kinds)
    for kinds in tests:
        eligible = np.logical_or.reduce([results[k].eligible for k in kinds]) & tested[None, None, :]
        groups = _groups_of(counts, kinds[0])
        for li, gi, pi in zip(*np.nonzero(eligible)):
            idx = (int(li), int(gi), int(pi))
            for direction in directions:
                parts = {k: float(results[k].p_worse[idx] if direction == "worse" else results[k].p_better[idx])
                         for k in kinds}
                parts = {k: (1.0 if np.isnan(v) else v) for k, v in parts.items()}
                lead = min(parts, key=lambda k: parts[k])
                p = min(1.0, *(v / KIND_WEIGHTS[k] for k, v in parts.items())) if len(parts) > 1 \
                    else next(iter(parts.values()))
                rec = _record(results[lead], lead, idx, direction, p, counts, groups[gi])
                rec.parts = parts
                rec.weight = _weight(results[kinds[0]], idx) if config.weighted else 1.0
                records.append(rec)
    if not records:
        return Family([], no_test_reason(counts, config))
    weights = [rec.weight for rec in records]
    for rec, w, q in zip(records, np.asarray(weights) * (len(weights) / max(sum(weights), 1e-12)),
                         weighted_bh_qvalues([r.p_value for r in records], weights)):
        rec.weight = float(w)
        rec.q_value = float(q)
        rec.alert = bool(q <= config.fdr)
    if config.statements:
        records += _statement_tests(counts, config, [r for r in records if r.alert and r.key_question is not None])
    return Family(records)


def _statement_tests(counts: Counts, config: SummaryConfig, parents: list[TestRecord]) -> list[TestRecord]:
    """Children of each key question alert: its statements' count tests and (when ``kq_share`` is not in the
    first stage) its negative share within the key question, BH within each child family."""
    if not parents:  # nothing alerted: no child test is run (the share test costs a full family run)
        return []
    share = None if "kq_share" in config.kinds else _run(counts, "kq_share", config)
    if not counts.statements and share is None:
        return []
    res = _run(counts, STATEMENT_KIND, config)
    out: list[TestRecord] = []
    seen: set[tuple[str, str, str, str]] = set()
    for parent in parents:
        key = (parent.location, parent.period, parent.key_question or "", parent.direction)
        if key in seen:
            continue
        seen.add(key)
        li, pi = counts.locations.index(parent.location), counts.periods.index(parent.period)
        children = []
        for gi, st in enumerate(counts.statements):
            if counts.statement_kq[gi] != parent.key_question or not res.eligible[li, gi, pi]:
                continue
            idx = (li, gi, pi)
            p = float(res.p_worse[idx] if parent.direction == "worse" else res.p_better[idx])
            children.append(_record(res, STATEMENT_KIND, idx, parent.direction, p, counts, st))
        gi = counts.key_questions.index(parent.key_question) if parent.key_question in counts.key_questions else -1
        if share is not None and gi >= 0 and share.eligible[li, gi, pi]:
            idx = (li, gi, pi)
            p = float(share.p_worse[idx] if parent.direction == "worse" else share.p_better[idx])
            children.append(_record(share, "kq_share", idx, parent.direction, p, counts, parent.key_question))
        for rec, q in zip(children, bh_qvalues([c.p_value for c in children])):
            rec.stage = 2
            rec.q_value = float(q)
            rec.alert = bool(q <= config.fdr)
        out += children
    return out
