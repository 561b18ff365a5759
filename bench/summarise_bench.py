"""Benchmark ``summarise`` and measure its change detector (a benchmark, not a test).

1. Speed: generates N tagged rows (default 100,000: 20 locations × 12 months, labels from the
   taxonomy, one injected local rise), writes them to Parquet, and times reading + summarising
   (:func:`evidencenlp.trends.summarise_file`), then the .xlsx output and the HTML report.
The detector's power and false alarms are measured on real comment streams by
``python -m evidencenlp.trends.simulate --phase1 PATH`` (see the README).

    python bench/summarise_bench.py [--rows 100000]
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
from evidencenlp.trends.report import write_report, write_tables


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
                            "groups": len(summary.groups), "tests": summary.family_size, "alerts": len(summary.alerts),
                            "undated": summary.undated,
                            "injected_rise_found": any(a.location == "Location 00" and a.period == "2024-12"
                                                       and a.direction == "worse" for a in summary.alerts)}
        print(f"summarise {args.rows:,} tagged rows (read + tables + tests): {t1 - t0:.2f} s; "
              f"xlsx {t2 - t1:.2f} s; HTML report {t3 - t2:.2f} s; {summary.family_size} tests, {len(summary.alerts)} alerts",
              flush=True)
    results["date"] = dt.date.today().isoformat()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
