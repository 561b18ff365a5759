"""Benchmarks for `tag` throughput, warm `suggest` latency and `tag` peak memory.

Everything is measured in ONE run on the same machine, and reported as ratios where a comparison is
meant (timings depend on the machine; the ratios and the flatness of memory are what we track):

1. throughput: `tag` on N realistic short notes (sampled from the hand-written corpus) versus bare
   `SentenceTransformer.encode` of the same texts, same process → ratio tag/bare (target ≥ 0.9);
2. latency: warm `Suggester.suggest` of one note, p50/p90 over many notes (target p50 < 25 ms);
3. memory: peak RSS of `evidencenlp tag` in a fresh process on 10k and on 200k rows (target: within 10%).

    python bench/run.py                    # all three (the 200k-row run takes several minutes)
    python bench/run.py --skip-memory      # throughput and latency only
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]


def realistic_notes(n: int, seed: int = 0) -> list[str]:
    """``n`` short notes sampled (with replacement) from the hand-written corpus."""
    from evidencenlp.training_data import corpus_files

    texts = pd.concat([pd.read_csv(p, dtype=str) for p in corpus_files()])["text"].dropna().tolist()
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.integers(0, len(texts), n)]


def bench_throughput(n: int) -> dict[str, float]:
    from evidencenlp import encoder
    from evidencenlp.suggest import Suggester
    from evidencenlp.tagging import tag_file

    notes = realistic_notes(n)
    suggester = Suggester.load()
    model = encoder.get_model()
    model.encode(notes[:64])  # warm both paths
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "notes.csv", Path(tmp) / "tagged.csv"
        pd.DataFrame({"id": range(n), "text": notes}).to_csv(src, index=False)
        t0 = time.perf_counter()
        model.encode(notes)
        bare = time.perf_counter() - t0
        t0 = time.perf_counter()
        tag_file(suggester, src, out, "text")
        tagged = time.perf_counter() - t0
        t0 = time.perf_counter()
        model.encode(notes)
        bare2 = time.perf_counter() - t0
    bare_best = min(bare, bare2)
    return {"rows": n, "bare_encode_s": round(bare_best, 2), "tag_s": round(tagged, 2),
            "bare_rows_per_s": round(n / bare_best, 1), "tag_rows_per_s": round(n / tagged, 1),
            "ratio_tag_to_bare": round(bare_best / tagged, 3)}


def bench_latency(n: int) -> dict[str, float]:
    from evidencenlp.suggest import Suggester

    notes = realistic_notes(n, seed=1)
    s = Suggester.load()
    for note in notes[:10]:
        s.suggest(note)
    times = []
    for note in notes:
        t0 = time.perf_counter()
        s.suggest(note)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return {"notes": n, "p50_ms": round(statistics.median(times), 1), "p90_ms": round(times[int(0.9 * n)], 1),
            "max_ms": round(times[-1], 1)}


def peak_rss_of_tag(rows: int, tmp: Path) -> float:
    """Peak RSS in MiB of a fresh `evidencenlp tag` process on ``rows`` rows."""
    notes = realistic_notes(min(rows, 5000), seed=2)
    src, out = tmp / f"notes-{rows}.csv", tmp / f"tagged-{rows}.csv"
    reps = (rows + len(notes) - 1) // len(notes)
    pd.DataFrame({"id": range(rows), "text": (notes * reps)[:rows]}).to_csv(src, index=False)
    proc = subprocess.Popen([sys.executable, "-m", "evidencenlp", "tag", str(src), "-o", str(out), "--force"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        raise RuntimeError(f"tag on {rows} rows failed with status {status}")
    return usage.ru_maxrss / 1024


def bench_memory(sizes: list[int]) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        peaks = {n: peak_rss_of_tag(n, Path(tmp)) for n in sizes}
    result = {f"peak_rss_mib_{n}": round(v, 1) for n, v in peaks.items()}
    result["ratio_largest_to_smallest"] = round(peaks[max(sizes)] / peaks[min(sizes)], 3)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=5000, help="notes for the throughput run")
    parser.add_argument("--latency-notes", type=int, default=300)
    parser.add_argument("--memory-rows", type=int, nargs="+", default=[10_000, 200_000])
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    args = parser.parse_args()
    results = {"machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    results["throughput"] = bench_throughput(args.rows)
    print("throughput", json.dumps(results["throughput"]), flush=True)
    results["latency"] = bench_latency(args.latency_notes)
    print("latency", json.dumps(results["latency"]), flush=True)
    if not args.skip_memory:
        results["memory"] = bench_memory(args.memory_rows)
        print("memory", json.dumps(results["memory"]), flush=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
