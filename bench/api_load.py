"""Bounded load test of ``evidencenlp api`` on 127.0.0.1: latency for one note, throughput for batches of 100.

For each backend (default: torch, then static) it starts the API as a whole process on a free
127.0.0.1 port, waits for ``GET /v1/health`` to answer 200, and over one kept-alive connection:

1. ``GET /v1/health`` a number of times (the HTTP floor: no suggestion);
2. one-note ``POST /v1/suggest`` requests after a warm-up: with the default options (per-sentence
   suggestions and every explaining sentence, as ``classify``) and with ``sentences`` and
   ``evidence`` off (the work ``tag`` does per row); p50 and p95 latency;
3. batches of 100 notes, both ways; rows per second;

then stops the API and runs ``evidencenlp tag`` (whole processes) on the first ``--tag-small`` and
on ``--tag-rows`` corpus notes (``--tag-rows-static`` for static, whose rows cost too little
for 1,000 to stand out of start-up noise; at most every distinct corpus note once, with no repeated
text: the static ``tag`` analyses a repeated text once, which would flatter it against a batch of
distinct notes): the difference divided by the difference in rows is
``tag``'s per-row cost with its start-up taken out. Wall time and CPU time (user + system, all
threads: of the API process around each loop, of each ``tag`` process) are both reported: on a
shared machine the CPU figures are the steadier ones. Every loop is bounded in count and in time
(``--seconds`` per phase), and the script stops by itself. It prints a table and writes
``bench/api_results.json`` atomically. Notes are short hand-written corpus notes
(``training/corpus/``), never real feedback.

If the static backend's one-note p50 misses its target, one warm request is profiled in this
process (cProfile) and the functions that take the time are printed and saved.

    python bench/api_load.py                     # torch and static, 200 one-note requests each
    python bench/api_load.py --backends static --requests 100
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import json
import os
import pstats
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-not-secret-0123456789"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
#: targets of issue 24 (warm one-note p50 in ms per backend; the batch's per-row cost ÷ tag's)
P50_TARGET_MS = {"torch": 50.0, "static": 5.0, "onnx-int8": 50.0}
BATCH_VS_TAG_TARGET = 1.2
FAST = {"sentences": False, "evidence": False}


def corpus_notes(n: int, seed: int = 0) -> list[str]:
    """``n`` short hand-written notes from ``training/corpus`` (sampled with replacement, reproducible)."""
    from evidencenlp.training_data import corpus_files

    texts = pd.concat([pd.read_csv(p, dtype=str) for p in corpus_files()])["text"].dropna().tolist()
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.integers(0, len(texts), n)]


def distinct_corpus_notes(seed: int = 0) -> list[str]:
    """Every distinct hand-written note of ``training/corpus`` once, in a reproducible shuffled order: ``tag``'s
    input for its per-row cost. ``tag`` (static backend) analyses each distinct text of a chunk once, so rows
    drawn with replacement would flatter it against an API batch of distinct notes."""
    from evidencenlp.training_data import corpus_files

    texts = list(dict.fromkeys(pd.concat([pd.read_csv(p, dtype=str) for p in corpus_files()])["text"].dropna()))
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.permutation(len(texts))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentiles(ms: Sequence[float]) -> dict[str, float]:
    """p50, p95, mean (ms) and the count of ``ms``."""
    a = np.asarray(ms, dtype=float)
    return {"p50_ms": round(float(np.percentile(a, 50)), 2), "p95_ms": round(float(np.percentile(a, 95)), 2),
            "mean_ms": round(float(a.mean()), 2), "n": int(a.size)}


class Client:
    """One kept-alive HTTP connection to the API."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, bytes]:
        payload = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, path, body=payload, headers=HEADERS)
        answer = self.conn.getresponse()
        return answer.status, answer.read()

    def suggest(self, notes: list[str], **options: bool) -> list[Any]:
        status, data = self.request("POST", "/v1/suggest", {"notes": notes, **options})
        if status != 200:
            raise RuntimeError(f"POST /v1/suggest answered {status}: {data[:300]!r}")
        return list(json.loads(data)["suggestions"])

    def close(self) -> None:
        self.conn.close()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far, all its threads (Linux ``/proc``; 0 elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_loop(n: int, seconds: float, call: Callable[[int], object], pid: int) -> tuple[list[float], float]:
    """Milliseconds of ``call(i)`` for i = 0, 1, ...: at most ``n`` calls and about ``seconds`` in all; and
    the CPU milliseconds per call of the server process ``pid`` (a figure other processes on a shared
    machine disturb far less than wall time)."""
    out: list[float] = []
    stop = time.monotonic() + seconds
    cpu = process_cpu_seconds(pid)
    for i in range(n):
        if time.monotonic() > stop:
            break
        started = time.perf_counter()
        call(i)
        out.append((time.perf_counter() - started) * 1000)
    return out, round((process_cpu_seconds(pid) - cpu) * 1000 / max(len(out), 1), 2)


def start_api(backend: str, port: int, log: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "evidencenlp", "api", "--backend", backend, "--port", str(port),
           "--timeout", "300"]
    with log.open("wb") as fh:
        return subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT,
                                env={**os.environ, "EVIDENCENLP_API_TOKEN": TOKEN})


def wait_ready(proc: subprocess.Popen[bytes], port: int, seconds: float, log: Path) -> float:
    """Seconds until health answered 200 (raises when the process ends or the time is up)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if proc.poll() is not None:
            raise RuntimeError(f"the API process ended ({proc.returncode}): {log.read_text()[-800:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/v1/health")
            if conn.getresponse().status == 200:
                conn.close()
                return time.monotonic() - started
            conn.close()
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"the API was not ready within {seconds:g} s")


def stop_api(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def bench_api(backend: str, notes: list[str], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Start the API for ``backend``, measure latency and throughput, stop it."""
    port = free_port()
    log = tmp / f"api-{backend}.log"
    proc = start_api(backend, port, log)
    try:
        ready = wait_ready(proc, port, args.ready_seconds, log)
        client = Client(port)
        one = notes[: args.requests]
        for i in range(args.warmup):  # warm-up: both option sets, and one batch
            client.suggest([one[i % len(one)]])
            client.suggest([one[i % len(one)]], **FAST)
        client.suggest(notes[: args.batch_size], **FAST)
        pid = proc.pid
        health, health_cpu = timed_loop(args.requests, args.seconds, lambda i: client.request("GET", "/v1/health"),
                                        pid)
        single, single_cpu = timed_loop(args.requests, args.seconds, lambda i: client.suggest([one[i % len(one)]]),
                                        pid)
        single_fast, single_fast_cpu = timed_loop(args.requests, args.seconds,
                                                  lambda i: client.suggest([one[i % len(one)]], **FAST), pid)
        batches = [notes[j: j + args.batch_size] for j in range(0, len(notes), args.batch_size)][: args.batches]
        batch_fast, batch_fast_cpu = timed_loop(len(batches), args.seconds,
                                                lambda i: client.suggest(batches[i], **FAST), pid)
        batch_full, batch_full_cpu = timed_loop(len(batches), args.seconds, lambda i: client.suggest(batches[i]), pid)
        client.close()
    finally:
        stop_api(proc)
    size = args.batch_size

    def throughput(ms: list[float], cpu_ms: float) -> dict[str, float]:
        return {"batches": len(ms), "ms_per_batch_p50": round(statistics.median(ms), 1),
                "ms_per_row": round(sum(ms) / (len(ms) * size), 3),
                "rows_per_s": round(len(ms) * size / (sum(ms) / 1000), 1),
                "server_cpu_ms_per_row": round(cpu_ms / size, 3)}

    return {"seconds_to_ready": round(ready, 1), "health": {**percentiles(health), "server_cpu_ms": health_cpu},
            "one_note": {**percentiles(single), "server_cpu_ms": single_cpu},
            "one_note_fast": {**percentiles(single_fast), "server_cpu_ms": single_fast_cpu},
            f"batch_{size}_fast": throughput(batch_fast, batch_fast_cpu),
            f"batch_{size}": throughput(batch_full, batch_full_cpu)}


def run_tag(src: Path, out: Path, backend: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system, all threads) of a whole ``evidencenlp tag`` process.

    ``--jobs 1``: tag in one process, as the API answers a batch (the static backend's default of one
    worker process per core would halve tag's wall time per row and make the batch comparison one of
    cores, not of per-row work)."""
    cmd = [sys.executable, "-m", "evidencenlp", "tag", str(src), "-o", str(out), "--force", "--backend", backend,
           "--jobs", "1"]
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        if status != 0:
            err.seek(0)
            raise RuntimeError(f"tag failed ({status}): {err.read().decode(errors='replace')[-500:]}")
    return seconds, usage.ru_utime + usage.ru_stime


def bench_tag(backend: str, notes: list[str], small: int, big: int, tmp: Path, repeats: int) -> dict[str, float]:
    """``tag``'s per-row cost on ``notes``: (seconds for ``big`` rows - seconds for ``small``) / (big - small),
    each the fastest of ``repeats`` whole-process runs."""
    files = {}
    for n in (small, big):
        files[n] = tmp / f"tag-{n}.csv"
        pd.DataFrame({"id": range(n), "text": notes[:n]}).to_csv(files[n], index=False)
    seconds = {n: float("inf") for n in (small, big)}
    cpu = {n: float("inf") for n in (small, big)}
    for _ in range(repeats):  # the best of ``repeats`` runs: the machine is shared, others only add time
        for n in (small, big):
            wall, used = run_tag(files[n], tmp / f"tagged-{backend}-{n}.csv", backend)
            seconds[n], cpu[n] = min(seconds[n], wall), min(cpu[n], used)
    return {"rows_small": small, "rows_big": big, "runs_each": repeats, "seconds_small": round(seconds[small], 2),
            "seconds_big": round(seconds[big], 2),
            "ms_per_row": round((seconds[big] - seconds[small]) * 1000 / (big - small), 3),
            "cpu_seconds_small": round(cpu[small], 2), "cpu_seconds_big": round(cpu[big], 2),
            "cpu_ms_per_row": round((cpu[big] - cpu[small]) * 1000 / (big - small), 3)}


#: the pipeline's stages as (file, function) in the profile: their cumulative time says where a request goes
STAGES: dict[str, tuple[str, str]] = {
    "suggest_many (all stages)": ("suggest.py", "suggest_many"),
    "abstain (abstention_reasons)": ("abstain.py", "abstention_reasons"),
    "segment + redact (process_many)": ("text.py", "process_many"),
    "redact only (redact_only)": ("text.py", "redact_only"),
    "encode (encoder.encode)": ("encoder.py", "encode"),
    "classify (Suggester.probabilities)": ("suggest.py", "probabilities"),
    "explain + assemble (Suggester._build)": ("suggest.py", "_build"),
    "to_dict (Suggestion.to_dict)": ("suggest.py", "to_dict"),
    "JSON (json.dumps)": ("__init__.py", "dumps"),
}


def stage_times(stats: pstats.Stats, repeats: int) -> dict[str, float]:
    """Cumulative ms per request of each of :data:`STAGES` found in ``stats`` (0 when not called)."""
    out: dict[str, float] = {}
    for label, (file, func) in STAGES.items():
        found = [v[3] for (f, _, name), v in stats.stats.items()  # type: ignore[attr-defined]
                 if name == func and Path(f).name == file]
        # several functions of that name in one file (e.g. the nested to_dict methods): the outermost
        out[label] = round(max(found, default=0.0) * 1000 / repeats, 3)
    return out


def profile_one_request(backend: str, note: str, repeats: int = 50, top: int = 25) -> dict[str, Any]:
    """Profile warm one-note suggestions in this process (the API's own work function); the top functions."""
    from evidencenlp.api.routes import suggest_json
    from evidencenlp.tagging import SuggesterSpec, worker_suggester

    suggester = worker_suggester(SuggesterSpec(backend=backend))
    for options in ((True, True), (False, False)):
        for _ in range(5):
            suggest_json(suggester, [note], *options)
    out: dict[str, Any] = {}
    for name, options in (("default", (True, True)), ("fast", (False, False))):
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(repeats):
            suggest_json(suggester, [note], *options)
        profiler.disable()
        ms = (time.perf_counter() - started) * 1000 / repeats
        stream = io.StringIO()
        stats = pstats.Stats(profiler, stream=stream)
        stats.sort_stats("tottime").print_stats(top)
        rows = []
        for (file, line, func), (_, calls, tottime, cumtime, _) in sorted(
                stats.stats.items(), key=lambda kv: -kv[1][2])[:top]:  # type: ignore[attr-defined]
            rows.append({"function": f"{Path(file).name}:{line}({func})", "calls_per_request": calls / repeats,
                         "self_ms_per_request": round(tottime * 1000 / repeats, 3),
                         "cumulative_ms_per_request": round(cumtime * 1000 / repeats, 3)})
        out[name] = {"ms_per_request_profiled": round(ms, 3), "stages_ms": stage_times(stats, repeats),
                     "top_self_time": rows}
    return out


def table(results: dict[str, Any]) -> str:
    lines = ["| backend | ready (s) | health p50 | one note p50 / p95 (server CPU) | one note, fast p50 / p95 "
             "(server CPU) | batch 100 fast: rows/s, ms/row (CPU ms/row) | batch 100 full rows/s | tag ms/row "
             "(CPU ms/row) | batch ÷ tag: wall (CPU) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for backend, r in results["backends"].items():
        b, one, fast, tag = r["batch_100_fast"], r["one_note"], r["one_note_fast"], r["tag"]
        lines.append(f"| {backend} | {r['seconds_to_ready']} | {r['health']['p50_ms']} ms | "
                     f"{one['p50_ms']} / {one['p95_ms']} ms ({one.get('server_cpu_ms')} ms) | "
                     f"{fast['p50_ms']} / {fast['p95_ms']} ms ({fast.get('server_cpu_ms')} ms) | "
                     f"{b['rows_per_s']}, {b['ms_per_row']} ({b.get('server_cpu_ms_per_row')}) | "
                     f"{r['batch_100']['rows_per_s']} | {tag['ms_per_row']} ({tag.get('cpu_ms_per_row')}) | "
                     f"{r['batch_vs_tag']} ({r.get('batch_vs_tag_cpu')}) |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", nargs="+", default=["torch", "static"], choices=list(P50_TARGET_MS))
    parser.add_argument("--requests", type=int, default=200, help="one-note requests per measurement")
    parser.add_argument("--warmup", type=int, default=20, help="one-note requests before measuring")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--batches", type=int, default=10, help="batches per measurement")
    parser.add_argument("--tag-small", type=int, default=100, help="rows of the small tag run (start-up taken out)")
    parser.add_argument("--tag-rows", type=int, default=1000, help="rows of the large tag run (torch, onnx-int8)")
    parser.add_argument("--tag-rows-static", type=int, default=10_000,
                        help="rows of the large static tag run (at ~1 ms a row, 1,000 rows are lost in start-up noise)")
    parser.add_argument("--tag-runs", type=int, default=2, help="runs of each tag size (the fastest counts)")
    parser.add_argument("--seconds", type=float, default=120, help="time bound of each measured loop")
    parser.add_argument("--ready-seconds", type=float, default=900, help="time bound for the API to become ready")
    parser.add_argument("--no-profile", action="store_true", help="do not profile a static request")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "api_results.json")
    args = parser.parse_args()
    if args.batch_size != 100:
        parser.error("the report's columns are for batches of 100")
    notes = corpus_notes(max(args.requests, args.batches * args.batch_size))
    tag_notes = distinct_corpus_notes()
    if max(args.tag_rows, args.tag_rows_static) > len(tag_notes):
        print(f"tag's large run: {len(tag_notes)} rows, every distinct corpus note once (no repeated text, which "
              "tag's de-duplication would flatter)", flush=True)
    results: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0], "date": time.strftime("%Y-%m-%d"),
                    "note": "shared machine: other processes ran at the same time"},
        "notes": {"source": "training/corpus (hand-written)", "count": len(notes), "tag_distinct_notes": len(tag_notes),
                  "mean_chars": round(float(np.mean([len(t) for t in notes])), 1)},
        "settings": {k: v for k, v in vars(args).items() if k != "out"} | {"out": str(args.out)},
        "targets": {"one_note_p50_ms": P50_TARGET_MS, "batch_vs_tag": BATCH_VS_TAG_TARGET},
        "backends": {},
    }
    if args.out.is_file():  # keep the backends not measured this time
        earlier = json.loads(args.out.read_text(encoding="utf-8")).get("backends", {})
        results["backends"] = {k: v for k, v in earlier.items() if k not in args.backends}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for backend in args.backends:
            print(f"{backend}: starting the API ...", flush=True)
            r = bench_api(backend, notes, args, tmp)
            print(f"{backend}: API {json.dumps(r)}", flush=True)
            big = min(args.tag_rows_static if backend == "static" else args.tag_rows, len(tag_notes))
            r["tag"] = bench_tag(backend, tag_notes, args.tag_small, big, tmp, args.tag_runs)
            print(f"{backend}: tag {json.dumps(r['tag'])}", flush=True)
            r["batch_vs_tag"] = round(r["batch_100_fast"]["ms_per_row"] / r["tag"]["ms_per_row"], 3)
            r["batch_vs_tag_cpu"] = round(r["batch_100_fast"]["server_cpu_ms_per_row"] / r["tag"]["cpu_ms_per_row"], 3)
            r["met"] = {"one_note_p50": r["one_note"]["p50_ms"] <= P50_TARGET_MS[backend],
                        "one_note_fast_p50": r["one_note_fast"]["p50_ms"] <= P50_TARGET_MS[backend],
                        "batch_vs_tag": 0 < r["batch_vs_tag"] <= BATCH_VS_TAG_TARGET,
                        "batch_vs_tag_cpu": 0 < r["batch_vs_tag_cpu"] <= BATCH_VS_TAG_TARGET}
            results["backends"][backend] = r
    static = results["backends"].get("static")
    if static and not args.no_profile and static["one_note"]["p50_ms"] > P50_TARGET_MS["static"]:
        print("static: one-note p50 misses its target; profiling one warm request in this process ...", flush=True)
        results["profile_static"] = profile_one_request("static", notes[0])
        for name, prof in results["profile_static"].items():
            print(f"  {name}: {prof['ms_per_request_profiled']} ms per request (profiled); stages (cumulative):")
            for stage, ms in prof["stages_ms"].items():
                print(f"    {ms:8.3f} ms  {stage}")
            print("  most self time:")
            for row in prof["top_self_time"][:12]:
                print(f"    {row['self_ms_per_request']:8.3f} ms  {row['function']}")
    partial = args.out.with_suffix(".json.tmp")
    partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    partial.replace(args.out)
    print(table(results))
    print(f"written {args.out}")


if __name__ == "__main__":
    main()
