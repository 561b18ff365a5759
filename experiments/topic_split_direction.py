"""Splitting a key question's topic by direction (issue 23): figures for each ``Suggester.topic_split_direction``.

Direction per topic (true topics paired one to one within a key question), direction precision and topics per
true topic, on leave-one-trust-out phase-1 composites and single comments (the shipped pooling setting, each
trust scored by a classifier fitted without it) and, with the shipped model, on long-stories files. Development
only: figures, never note text.

    PYTHONPATH=src python experiments/topic_split_direction.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv \
        --long-stories evaluation/long_stories/stories.jsonl evaluation/long_stories_2/stories.jsonl [--sure none 0.9 0.8]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from evidencenlp.evaluation import topics as T
from evidencenlp.suggest import Suggester

SETTING = (0.2, 0.0, True)


def level(value: str) -> float | None:
    return None if value == "none" else float(value)


def line(name: str, c: T.TopicCounts) -> str:
    f = c.figures()
    return (f"| {name} | {f['recall']:.3f} | {f['topics_per_true_topic']:.3f} | {f['direction_per_topic']:.3f} | "
            f"{f['direction_precision']:.3f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase1", type=Path)
    ap.add_argument("--long-stories", type=Path, nargs="*", default=[])
    ap.add_argument("--sure", nargs="+", default=["none", "0.95", "0.9", "0.8", "0.7"])
    args = ap.parse_args()
    levels = [level(x) for x in args.sure]
    print("| split at | topic recall | topics per true topic | direction per topic | direction precision |")
    print("|---|---|---|---|---|")
    if args.long_stories:
        s = Suggester.load()
        sets = [T.read_long_stories(p, s.index.taxonomy)[0] for p in args.long_stories]
        for sure in levels:
            s.topic_split_direction = sure
            total: list[T.TopicCounts] = []
            for path, texts in zip(args.long_stories, sets):
                pred = T.predicted_topics(s.suggest_many([t.text for t in texts], sentences=False, evidence=False,
                                                         topics=True))
                for kind in sorted({t.kind for t in texts}):
                    idx = [i for i, t in enumerate(texts) if t.kind == kind]
                    c = T.count_topics([[(k, d) for k, _, d in texts[i].topics] for i in idx], [pred[i] for i in idx])
                    total.append(c)
                    print(line(f"{sure} {path.parent.name} {kind}", c), flush=True)
            print(line(f"{sure} long stories, all", T.TopicCounts.total(total)))
    if args.phase1:
        counts: dict[tuple[float | None, str], list[T.TopicCounts]] = {}
        for trust, texts, sg in T.fold_suggesters(args.phase1, setting=SETTING):
            true, kind = texts["topics"].tolist(), texts["kind"].to_numpy()
            for sure in levels:
                sg.topic_split_direction = sure
                pred = T.predicted_topics(sg.suggest_many(texts["text"].tolist(), sentences=False, evidence=False,
                                                          topics=True))
                for k in ("composite", "single"):
                    idx = np.flatnonzero(kind == k)
                    counts.setdefault((sure, k), []).append(T.count_topics([true[i] for i in idx],
                                                                           [pred[i] for i in idx]))
            print(f"{trust} done", flush=True)
        for (sure, k), cs in counts.items():
            print(line(f"{sure} leave one trust out, {k}s", T.TopicCounts.total(cs)))

if __name__ == "__main__":
    main()
