"""Power and false alarms of the trend alerts, measured on streams of real comments.

The phase-1 comments, tagged once by the tool (:mod:`evidencenlp.trends.pool`: the labels a user gets,
no text), are resampled into locations × months: each location draws its comments from one trust's
comments (trusts A, B, C in turn), ``per_month`` a month on average (Poisson), of which a share is
drawn from the comments the tool tags *negative about the target key question* so that it has
``target_share × per_month`` of them a month (the rest from every other comment of that trust,
abstentions included). Scenarios:

* ``rise ×m`` — location 0 gets ``(m-1) × target_share × per_month`` extra (Poisson) comments from
  that target pool in the last month (``single``) or the last two (``sustained``): the month's volume
  rises by the complaints, as in real life;
* ``null`` — nothing changes; ``volume`` — location 0's volume doubles in the last two months with
  the same mix; ``national`` — every location gets the ×2 sustained rise (a national shift).

A *hit* is an alert at location 0 in an injected month about the target key question (any kind, or a
statement of it) or its overall negative share; every other alert is false, counted once per
location × period × topic (a statement alert under its key question's alert is the same finding).
False alerts are reported per 100 tested location-months (locations × ``recent_periods``).

Detectors are run once on the year (the report at month 12: its latest month is tested) or, as an
analyst uses the tool, as a **monthly report** (:func:`monitor_detector`): the family is run at the end of
each of the last months on the data up to that month, and a rise is found when any of those reports
alerts in an injected month; its tested location-months are locations × reports.

Run ``python -m evidencenlp.trends.simulate --phase1 PATH`` to print the table.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from evidencenlp.taxonomy import Taxonomy, default_taxonomy
from evidencenlp.trends.alerts import Counts, run_family
from evidencenlp.trends.config import SummaryConfig
from evidencenlp.trends.stats import bh_qvalues, poisson_baseline_test

#: the scenarios: name → (rise multiplier at location 0, injected months, kind)
SCENARIOS: dict[str, tuple[float, int, str]] = {
    "null": (1.0, 0, "null"), "volume x2": (1.0, 2, "volume"), "national x2": (2.0, 2, "national"),
    "x1.5 single": (1.5, 1, "rise"), "x2 single": (2.0, 1, "rise"), "x3 single": (3.0, 1, "rise"),
    "x1.5 sustained": (1.5, 2, "rise"), "x2 sustained": (2.0, 2, "rise"), "x3 sustained": (3.0, 2, "rise"),
}


@dataclass(frozen=True)
class StreamSetup:
    """Shape of the simulated streams (see the module docstring)."""

    locations: int = 3
    months: int = 12
    per_month: float = 40.0
    target_share: float = 0.3
    key_question: str = ""
    #: where the injected complaints come from: ``"tagged"`` — comments the tool tags negative about the
    #: key question (each counts where it is meant to: the method's own power); ``"true"`` — comments the
    #: coders labelled negative about it, counted wherever the tool tags them (some land elsewhere:
    #: the power a user sees, the classifier's dilution included)
    inject: str = "tagged"


@dataclass
class LabelPool:
    """The pool as integer codes: ``kq`` / ``st`` index into the taxonomy (-1 none), ``negative``, ``org``."""

    kq: np.ndarray
    st: np.ndarray
    negative: np.ndarray
    org: np.ndarray
    orgs: list[str]
    #: the coder's key question (index, -1 none) and polarity (True = negative) of each comment
    true_kq: np.ndarray | None = None
    true_negative: np.ndarray | None = None


def label_pool(frame: object, taxonomy: Taxonomy) -> LabelPool:
    """Codes of a pool frame (:data:`evidencenlp.trends.pool.POOL_COLUMNS`)."""
    import pandas as pd

    assert isinstance(frame, pd.DataFrame)
    def codes(column: str, labels: Sequence[str]) -> np.ndarray:
        values = frame[column].where(frame[column].isin(list(labels)))  # "" (no label) → -1
        return np.asarray(pd.Categorical(values, categories=list(labels)).codes, dtype=np.int64)

    kq = codes("key_question", taxonomy.key_questions)
    st = codes("statement", taxonomy.statements)
    org = pd.Categorical(frame["organization"])
    true_kq = codes("true_key_question", taxonomy.key_questions)
    return LabelPool(kq=kq, st=st, negative=frame["band"].isin(taxonomy.negative_bands).to_numpy(),
                     org=org.codes.astype(np.int64), orgs=[str(c) for c in org.categories],
                     true_kq=true_kq.astype(np.int64), true_negative=(frame["true_polarity"] == "negative").to_numpy())


def target_key_question(pool: LabelPool, taxonomy: Taxonomy) -> str:
    """The key question with the most comments the tool tags negative."""
    counts = np.bincount(pool.kq[(pool.kq >= 0) & pool.negative], minlength=len(taxonomy.key_questions))
    return taxonomy.key_questions[int(np.argmax(counts))]


def simulate_counts(rng: np.random.Generator, pool: LabelPool, taxonomy: Taxonomy, setup: StreamSetup,
                    scenario: str) -> Counts:
    """One stream of ``scenario`` as :class:`Counts` (periods ``M01`` … ``Mnn``)."""
    mult, injected, kind = SCENARIOS[scenario]
    kq_index = taxonomy.key_questions.index(setup.key_question)
    target_rows = np.flatnonzero((pool.kq == kq_index) & pool.negative)
    if setup.inject == "true":
        if pool.true_kq is None or pool.true_negative is None:
            raise ValueError("inject='true' needs the pool's true labels")
        inject_rows = np.flatnonzero((pool.true_kq == kq_index) & pool.true_negative)
    else:
        inject_rows = target_rows
    L, P, K, S = setup.locations, setup.months, len(taxonomy.key_questions), len(taxonomy.statements)
    shape_kq, shape_st = (L, K, P), (L, S, P)
    counts = Counts(locations=[f"L{i}" for i in range(L)], periods=[f"M{t + 1:02d}" for t in range(P)],
                    key_questions=list(taxonomy.key_questions), statements=list(taxonomy.statements),
                    statement_kq=list(taxonomy.statement_kq), n_all=np.zeros((L, P), np.int64),
                    x_all=np.zeros((L, P), np.int64), n_kq=np.zeros(shape_kq, np.int64),
                    x_kq=np.zeros(shape_kq, np.int64), n_st=np.zeros(shape_st, np.int64),
                    x_st=np.zeros(shape_st, np.int64))
    for li in range(L):
        org = li % len(pool.orgs)
        own_target = np.intersect1d(target_rows, np.flatnonzero(pool.org == org))
        tgt = own_target if len(own_target) >= 30 else target_rows
        rest = np.setdiff1d(np.flatnonzero(pool.org == org), tgt)
        for t in range(P):
            late = t >= P - injected
            volume = setup.per_month * (2 if kind == "volume" and li == 0 and late else 1)
            n = rng.poisson(volume)
            k = rng.binomial(n, setup.target_share)
            extra = 0
            if late and (kind == "national" or (kind == "rise" and li == 0)):
                extra = rng.poisson((mult - 1) * setup.target_share * setup.per_month)
            rows = np.concatenate([rng.choice(tgt, k), rng.choice(inject_rows, extra), rng.choice(rest, n - k)])
            _add(counts, pool, rows, li, t)
    return counts


def _add(counts: Counts, pool: LabelPool, rows: np.ndarray, li: int, t: int) -> None:
    neg = pool.negative[rows]
    counts.n_all[li, t] += len(rows)
    counts.x_all[li, t] += int(neg.sum())
    kq, st = pool.kq[rows], pool.st[rows]
    k_len, s_len = counts.n_kq.shape[1], counts.n_st.shape[1]
    counts.n_kq[li, :, t] += np.bincount(kq[kq >= 0], minlength=k_len)
    counts.x_kq[li, :, t] += np.bincount(kq[(kq >= 0) & neg], minlength=k_len)
    counts.n_st[li, :, t] += np.bincount(st[st >= 0], minlength=s_len)
    counts.x_st[li, :, t] += np.bincount(st[(st >= 0) & neg], minlength=s_len)


#: a detector's alerts: (location index, period index, key question or None)
Found = list[tuple[int, int, str | None]]


@dataclass(frozen=True)
class Detector:
    """A detector: ``detect`` maps counts to alerts; ``recent`` how many latest periods it tests (the
    denominator of its false alerts per 100 location-months)."""

    detect: Callable[[Counts], Found]
    recent: int


def family_detector(config: SummaryConfig) -> Detector:
    """The tool's own alert family (:func:`evidencenlp.trends.alerts.run_family`) with ``config``."""
    def detect(counts: Counts) -> Found:
        family = run_family(counts, config)
        return [(counts.locations.index(a.location), counts.periods.index(a.period), a.key_question)
                for a in family.alerts]
    return Detector(detect, config.recent_periods or 12)


def cut(counts: Counts, periods: int) -> Counts:
    """The stream as it stood after its first ``periods`` periods (every array cut on its period axis)."""
    return replace(counts, periods=counts.periods[:periods], n_all=counts.n_all[:, :periods],
                   x_all=counts.x_all[:, :periods], n_kq=counts.n_kq[..., :periods], x_kq=counts.x_kq[..., :periods],
                   n_st=counts.n_st[..., :periods], x_st=counts.x_st[..., :periods])


def monitor_detector(config: SummaryConfig, months: int = 2) -> Detector:
    """The family as an analyst uses it: a monthly report. The family (``config``) is run on the stream as
    it stood at the end of each of the latest ``months`` months (data up to that month only), and the
    alerts of every run are pooled; each run tests its own latest ``config.recent_periods`` periods, so
    ``months × recent_periods`` location-months per location are tested."""
    def detect(counts: Counts) -> Found:
        p_len = len(counts.periods)
        found: Found = []
        for end in range(max(1, p_len - months + 1), p_len + 1):
            now = cut(counts, end)
            found += [(now.locations.index(a.location), now.periods.index(a.period), a.key_question)
                      for a in run_family(now, config).alerts]
        return found
    return Detector(detect, months * (config.recent_periods or 12))


def poisson_detector(baseline: int = 8, recent: int = 3, fdr: float = 0.05) -> Detector:
    """The reference: each key question's negatives in each of the latest ``recent`` months against the
    location's own previous ``baseline`` months (exact conditional Poisson test), BH over all of them."""
    def detect(counts: Counts) -> Found:
        p = poisson_baseline_test(counts.x_kq, baseline)
        p_len = p.shape[-1]
        cells = [(li, gi, t) for li in range(p.shape[0]) for gi in range(p.shape[1])
                 for t in range(max(0, p_len - recent), p_len) if not np.isnan(p[li, gi, t])]
        q = bh_qvalues([p[c] for c in cells])
        return [(li, t, counts.key_questions[gi]) for (li, gi, t), qv in zip(cells, q) if qv <= fdr]
    return Detector(detect, recent)


#: the scenarios inject into at most the last this-many months, so the monthly monitor runs the reports of
#: those months (earlier reports see no injected month)
MONITOR_MONTHS = 2


def candidates() -> dict[str, Detector]:
    """The detectors compared: the plain Poisson reference, the chosen family (run once on the year, and as
    a monthly report), the previous method and variants of the chosen one."""
    chosen = SummaryConfig()
    previous = replace(chosen, kinds=("site_share", "kq_count", "kq_share"), window_weights=None)
    return {
        "Poisson vs own 8 months, BH over the latest 3 (reference)": poisson_detector(),
        "chosen: latest month; site + key question count; windows 1 and 2 (weighted Simes 0.3/0.7)":
            family_detector(chosen),
        f"chosen as a monthly report (run at each of the last {MONITOR_MONTHS} months on the data so far)":
            monitor_detector(chosen, MONITOR_MONTHS),
        "previous: latest month; site + key question (count, share); windows 1 and 2 (Simes)":
            family_detector(previous),
        "variant: equal window weights (Simes)": family_detector(replace(chosen, window_weights=None)),
        "variant: share in the first stage (min(p_count/0.8, p_share/0.2))":
            family_detector(replace(chosen, kinds=("site_share", "kq_count", "kq_share"))),
        "variant: national prior from the other locations' own rises":
            family_detector(replace(chosen, national_prior="others")),
        "variant: national shift = random-effects (DerSimonian-Laird) mean of the others":
            family_detector(replace(chosen, national_estimate="random")),
        "variant: national shift = median of the others' log shifts, count tests too":
            family_detector(replace(chosen, national_estimate="logmedian")),
        "variant: national shift = the smallest of the others' shifts":
            family_detector(replace(chosen, national_estimate="min")),
        "variant: national shift only as likely as that most other locations rose, each on its own counts":
            family_detector(replace(chosen, national_estimate="most")),
        "variant: national shift = median of the others' ratios, share tests too (the method before)":
            family_detector(replace(chosen, national_estimate="median")),
        "variant: weighted BH (weight = expected negatives, capped at 10)": family_detector(replace(chosen, weighted=True)),
        "variant: latest 3 months tested": family_detector(replace(chosen, recent_periods=3)),
        "variant: no national factor": family_detector(replace(chosen, national=False)),
        "variant: count ignores volume (volume=none)": family_detector(replace(chosen, volume="none")),
    }


@dataclass
class Rate:
    """Outcome of one detector on one scenario over ``runs`` streams."""

    detector: str
    scenario: str
    per_month: float
    runs: int
    detected: float | None
    false_per_100: float
    inject: str = "tagged"


def measure(pool: LabelPool, taxonomy: Taxonomy, setup: StreamSetup, detectors: dict[str, Detector],
            scenarios: Sequence[str], runs: int, seed: int = 20240601) -> list[Rate]:
    """Run every detector on the same ``runs`` streams of each scenario."""
    out = []
    for scenario in scenarios:
        mult, injected, kind = SCENARIOS[scenario]
        rng = np.random.default_rng([seed, list(SCENARIOS).index(scenario), int(setup.per_month)])
        streams = [simulate_counts(rng, pool, taxonomy, setup, scenario) for _ in range(runs)]
        last = setup.months - injected
        for name, det in detectors.items():
            hits = false = 0
            for counts in streams:
                alerts = list(dict.fromkeys(det.detect(counts)))  # one finding per location × period × topic
                hit = [a for a in alerts if kind == "rise" and a[0] == 0 and a[1] >= last
                       and a[2] in (None, setup.key_question)]
                hits += bool(hit)
                false += len(alerts) - len(hit)
            out.append(Rate(name, scenario, setup.per_month, runs, hits / runs if kind == "rise" else None,
                            100 * false / (runs * setup.locations * min(det.recent, setup.months)), setup.inject))
    return out


def table(rates: list[Rate]) -> str:
    """A Markdown table per volume and injection: detectors as rows, scenarios as columns (detection
    rate, and false alerts per 100 location-months in brackets)."""
    scenarios = list(dict.fromkeys(r.scenario for r in rates))
    lines = []
    for vol, inject in dict.fromkeys((r.per_month, r.inject) for r in rates):
        how = ("injected complaints counted where the tool tags them (coders' negatives about the key question)"
               if inject == "true" else "injected complaints all counted in the key question (the method's own power)")
        lines.append(f"\n{vol:g} comments a month per location; {how}. Detected share of runs; in brackets: "
                     "false alerts per 100 tested location-months\n")
        lines.append("| detector | " + " | ".join(scenarios) + " |")
        lines.append("|---|" + "---|" * len(scenarios))
        for det in dict.fromkeys(r.detector for r in rates):
            cells = []
            for sc in scenarios:
                r = next((x for x in rates if x.detector == det and x.scenario == sc and x.per_month == vol
                          and x.inject == inject), None)
                if r is None:
                    cells.append("")
                    continue
                cells.append((f"{r.detected:.2f} " if r.detected is not None else "") + f"({r.false_per_100:.2f})")
            lines.append(f"| {det} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m evidencenlp.trends.simulate --phase1 PATH [--runs N] [--backend static]``."""
    from evidencenlp.evaluation.phase1 import default_data_path
    from evidencenlp.trends.pool import load_pool

    ap = argparse.ArgumentParser(description="Power and false alarms of summarise's alerts on real comment streams.")
    ap.add_argument("--phase1", type=Path, default=None, help="the pxtextmining phase-1 text_data.csv")
    ap.add_argument("--runs", type=int, default=300)
    ap.add_argument("--backend", default="static", help="the encoder the pool is tagged with (tagged once, cached)")
    ap.add_argument("--locations", type=int, default=3)
    ap.add_argument("--per-month", type=float, nargs="+", default=[20.0, 40.0, 100.0])
    ap.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS))
    ap.add_argument("--inject", nargs="+", default=["tagged", "true"], choices=["tagged", "true"],
                    help="tagged: injected complaints counted in the key question; true: coders' negatives, "
                         "counted where the tool tags them")
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--detectors", nargs="+", type=int, default=None,
                    help="which detectors to run, by their row number in the table (0 = the reference)")
    args = ap.parse_args(argv)
    taxonomy = default_taxonomy()
    pool = load_pool(args.phase1 or default_data_path(), backend=args.backend)
    codes = label_pool(pool.frame, taxonomy)
    kq = target_key_question(codes, taxonomy)
    ki = taxonomy.key_questions.index(kq)
    true_rows = (codes.true_kq == ki) & codes.true_negative if codes.true_kq is not None else np.zeros(0, bool)
    print(f"pool: {len(pool.frame):,} comments, {pool.source}; target key question {kq!r} "
          f"({int(((codes.kq == ki) & codes.negative).sum()):,} tagged negative about it; "
          f"{int(true_rows.sum()):,} coded negative about it, of which the tool tags "
          f"{float(((codes.kq == ki) & codes.negative)[true_rows].mean()):.0%} negative about it)")
    detectors = candidates()
    if args.detectors is not None:
        names = list(detectors)
        detectors = {names[i]: detectors[names[i]] for i in args.detectors}
    rates: list[Rate] = []
    for inject in args.inject:
        for vol in args.per_month:
            setup = StreamSetup(locations=args.locations, per_month=vol, key_question=kq, inject=inject)
            rates += measure(codes, taxonomy, setup, detectors, args.scenarios, args.runs, args.seed)
    print(f"{args.runs} runs per scenario; {args.locations} locations × 12 months")
    print(table(rates))
    return 0


if __name__ == "__main__":
    sys.exit(main())
