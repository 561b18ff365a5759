"""Benchmark ``summarise`` and measure its change detector (a benchmark, not a test).

1. Speed: generates N tagged rows (default 100,000: 20 locations × 12 months, labels from the
   taxonomy, one injected local rise), writes them to Parquet, and times reading + summarising
   (:func:`evidencenlp.trends.summarise_file`), then the .xlsx output and the HTML report.
2. Detector: simulated steady, national-shift and local-shift series
   (:mod:`evidencenlp.trends_sim`): false alarm rate (share of series with any false alert) and
   detection rate of an injected rise.

    python bench/summarise_bench.py [--rows 100000] [--replicates 300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from evidencenlp.taxonomy import default_taxonomy
from evidencenlp.trends import SummaryConfig, summarise_file
from evidencenlp.trends_report import write_report, write_tables
from evidencenlp.trends_sim import SimulationSetup, detector_rates


def tagged_rows(rows: int, seed: int = 1) -> pd.DataFrame:
    """``rows`` tagged comments over 20 locations and 2024; location 0's first key question rises in December."""
    tax = default_taxonomy()
    rng = np.random.default_rng(seed)
    locations = np.array([f"Location {i:02d}" for i in range(20)])
    loc = rng.integers(0, len(locations), rows)
    day = rng.integers(0, 366, rows)
    dates = pd.Timestamp("2024-01-01") + pd.to_timedelta(day, unit="D")
    st_idx = rng.integers(0, len(tax.statements), rows)
    statements = np.array(tax.statements)[st_idx]
    kqs = np.array(tax.statement_kq)[st_idx]
    share = np.where((loc == 0) & (kqs == tax.key_questions[0]) & (dates.month == 12), 0.6, 0.25)
    negative = rng.random(rows) < share
    neg, pos = np.array(tax.negative_bands), np.array(tax.positive_bands)
    bands = np.where(negative, neg[rng.integers(0, len(neg), rows)], pos[rng.integers(0, len(pos), rows)])
    fmt = np.array(["%Y-%m-%d", "%d/%m/%Y", "%d %B %Y"])[rng.integers(0, 3, rows)]
    date_text = [d.strftime(f) for d, f in zip(dates, fmt)]
    for i in rng.choice(rows, 50, replace=False):
        date_text[i] = "last Tuesday"
    return pd.DataFrame({
        "id": np.arange(rows), "location": locations[loc], "date": date_text,
        "text": [f"comment {i} about the service" for i in range(rows)],
        "key_question": kqs, "statement": statements,
        "evidence_category": np.array(tax.categories)[rng.integers(0, len(tax.categories), rows)],
        "band": bands, "band_score": rng.uniform(0.4, 0.95, rows).round(4),
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--replicates", type=int, default=300)
    args = ap.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "tagged.parquet"
        tagged_rows(args.rows).to_parquet(src, index=False)
        default_taxonomy()  # load the frameworks once, outside the timing
        t0 = time.perf_counter()
        summary = summarise_file(src, SummaryConfig())
        t1 = time.perf_counter()
        write_tables(summary, Path(tmp) / "summary.xlsx")
        t2 = time.perf_counter()
        write_report(summary, Path(tmp) / "summary.html")
        t3 = time.perf_counter()
        results["speed"] = {"rows": args.rows, "summarise_seconds": round(t1 - t0, 2),
                            "xlsx_seconds": round(t2 - t1, 2), "report_seconds": round(t3 - t2, 2),
                            "groups": len(summary.groups), "tests": summary.tests, "alerts": len(summary.alerts),
                            "undated": summary.undated,
                            "injected_rise_found": any(a.location == "Location 00" and a.period == "2024-12"
                                                       and a.direction == "worse" for a in summary.alerts)}
        print(f"summarise {args.rows:,} tagged rows (read + tables + tests): {t1 - t0:.2f} s; "
              f"xlsx {t2 - t1:.2f} s; HTML report {t3 - t2:.2f} s; {summary.tests} tests, {len(summary.alerts)} alerts",
              flush=True)
    detector = []
    scenarios = [("steady", SimulationSetup()), ("national", SimulationSetup(odds_ratio=3.0))]
    scenarios += [("local", SimulationSetup(odds_ratio=o, mean_n=m)) for m in (15, 40) for o in (2.0, 4.0, 6.0)]
    for name, setup in scenarios:
        r = detector_rates(name, replicates=args.replicates, setup=setup)
        detector.append({**r.to_dict(), "odds_ratio": setup.odds_ratio, "mean_n": setup.mean_n,
                         "locations": setup.locations, "groups": setup.groups, "periods": setup.periods})
        det = f"detection {r.detection_rate:.3f}; " if r.detection_rate is not None else ""
        print(f"{name:8s} OR {setup.odds_ratio:3.1f} mean n/cell {setup.mean_n:4.0f}: {det}"
              f"series with a false alarm {r.any_alert_rate:.3f}; false alerts/series "
              f"{r.false_alerts_per_series:.3f}; {r.tests_per_series:.0f} tests/series", flush=True)
    results["detector"] = detector
    results["date"] = dt.date.today().isoformat()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
