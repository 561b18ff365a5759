"""How a topic's direction is pooled (issue 23): direction per topic under each rule tried, on
leave-one-trust-out phase-1 composites and single comments and, with the shipped model, on a
long-stories file. Development only: figures, never note text.

The rule shipped is ``prod0.3`` (:func:`evidencenlp.topics.with_note_direction`, the default
``Suggester.topic_note_direction``); the others patch ``Suggester.pooled_choices`` in this process
(direction only), with one topic per key question (``topic_split_direction = None``, as when the rules were
compared). Rules: ``alone`` (the clauses' pooled direction, ``topic_note_direction = 0``),
``linW`` (linear mix with the whole note's direction, weight W), ``pkqW`` (the mix weighted W x the note's
probability of the topic's key question), ``shareW`` (W x the topic's share of the note's characters),
``uncW`` (W x the clauses' uncertainty 1 - |p+ - p-|), ``prodW`` (the product with the note's direction
raised to W: the library's rule).

    PYTHONPATH=src python experiments/topic_direction_rules.py --phase1 ../shared/data/pxtextmining-phase1/text_data.csv \
        --long-stories evaluation/long_stories/stories.jsonl [--rules alone prod0.3 lin0.3 ...]

About 1 minute a trust on 2 cores (the training vectors come from the evaluation cache).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from evidencenlp.evaluation import topics as T
from evidencenlp.suggest import Suggester
from evidencenlp.topics import pooled_rows

RULE: dict[str, Any] = {"name": "alone"}
NOTE: dict[str, Any] = {}
_pooled_choices = Suggester.pooled_choices
_topics = Suggester._topics
#: the pooling setting the shipped model uses (threshold, whole weight, any segment)
SETTING = (0.2, 0.0, True)
DEFAULT_RULES = ["alone", "lin0.2", "lin0.3", "lin0.5", "pkq0.5", "pkq1.0", "share0.5", "share1.0", "unc0.5",
                 "prod0.1", "prod0.2", "prod0.3", "prod0.4", "prod0.5", "prod1.0"]


def remember_note(self: Suggester, p: Any, main: Any, preds: Any, row: int, rows: list[int], segs: list[str]) -> Any:
    """``Suggester._topics``, keeping the whole note's direction, key question row and segment lengths."""
    NOTE.update(direction=preds.proba["direction"][row], kq=preds.proba["key_question"][row],
                lengths=np.array([len(x) for x in segs], dtype=float))
    return _topics(self, p, main, preds, row, rows, segs)


def patched_choices(self: Suggester, preds: Any, parts: Any, rows: list[int], groups: Any, note: int | None = None) -> Any:
    """``Suggester.pooled_choices`` with the direction pooled by :data:`RULE` (``prodW``: the library itself)."""
    name = RULE["name"]
    if name.startswith("prod"):
        self.topic_note_direction = float(name[4:])
        return _pooled_choices(self, preds, parts, rows, groups, note=note)
    self.topic_note_direction = 0.0
    out = _pooled_choices(self, preds, parts, rows, groups, note=note)
    if name == "alone" or len(parts) < 3:
        return out
    kq_proba = preds.proba["key_question"]
    new = []
    for g, (j, pooled) in zip(groups, out):
        members = [rows[m] for m in g.members]
        base = pooled_rows(parts[2], members, kq_proba[members, g.key_question])
        w = float(name.lstrip("abcdefghijklmnopqrstuvwxyz"))
        if name.startswith("pkq"):
            w *= float(NOTE["kq"][g.key_question])
        elif name.startswith("share"):
            w *= float(NOTE["lengths"][list(g.members)].sum() / NOTE["lengths"].sum())
        elif name.startswith("unc"):
            w *= 1.0 - abs(float(base[0] - base[1]))
        elif not name.startswith("lin"):
            raise SystemExit(f"unknown rule {name}")
        pooled = list(pooled)
        pooled[2] = (1 - w) * base + w * NOTE["direction"]
        new.append((j, pooled))
    return new


def loto(phase1: Path, rules: list[str]) -> dict[tuple[str, str, str], T.TopicCounts]:
    """Direction counts per (trust, composite|single, rule), each trust scored by a classifier fitted without it."""
    out = {}
    for trust, texts, s in T.fold_suggesters(phase1, setting=SETTING):
        s.topic_split_direction = None  # the rules were compared with one topic per key question
        true, kind = texts["topics"].tolist(), texts["kind"].to_numpy()
        for rule in rules:
            RULE["name"] = rule
            pred = T.predicted_topics(s.suggest_many(texts["text"].tolist(), sentences=False, evidence=False,
                                                     topics=True))
            for k in ("composite", "single"):
                idx = np.flatnonzero(kind == k)
                out[(trust, k, rule)] = T.count_topics([true[i] for i in idx], [pred[i] for i in idx])
        print(f"{trust} done", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--phase1", type=Path)
    ap.add_argument("--long-stories", type=Path)
    ap.add_argument("--rules", nargs="+", default=DEFAULT_RULES)
    args = ap.parse_args()
    Suggester.pooled_choices = patched_choices  # type: ignore[method-assign]
    Suggester._topics = remember_note  # type: ignore[method-assign]
    if args.long_stories:
        s = Suggester.load()
        s.topic_split_direction = None  # the rules were compared with one topic per key question
        texts, _ = T.read_long_stories(args.long_stories, s.index.taxonomy)
        for rule in args.rules:
            RULE["name"] = rule
            pred = T.predicted_topics(s.suggest_many([t.text for t in texts], sentences=False, evidence=False,
                                                     topics=True))
            row = []
            for kind in sorted({t.kind for t in texts}):
                idx = [i for i, t in enumerate(texts) if t.kind == kind]
                f = T.count_topics([[(k, d) for k, _, d in texts[i].topics] for i in idx], [pred[i] for i in idx])
                row.append(f"{kind} {f.figures()['direction_per_topic']:.3f}")
            print(f"long stories | {rule} | " + " | ".join(row), flush=True)
    if args.phase1:
        res = loto(args.phase1, args.rules)
        trusts = sorted({k[0] for k in res})
        print("| rule | composites | singles | mean | composites by trust |\n|---|---|---|---|---|")
        for rule in args.rules:
            d = {k: T.TopicCounts.total([res[(t, k, rule)] for t in trusts]).figures()["direction_per_topic"]
                 for k in ("composite", "single")}
            per = " / ".join(f"{res[(t, 'composite', rule)].figures()['direction_per_topic']:.3f}" for t in trusts)
            print(f"| {rule} | {d['composite']:.3f} | {d['single']:.3f} | {(d['composite'] + d['single']) / 2:.3f} | {per} |")


if __name__ == "__main__":
    main()
