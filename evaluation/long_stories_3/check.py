#!/usr/bin/env python3
"""Validate stories.jsonl and print counts. Python 3 standard library only."""
import csv, json, os, sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "stories.jsonl")
TSV = "/work/shared/reference/saf-quality-statements.tsv"
KQS = {"safe", "effective", "caring", "responsive", "well-led"}
KINDS = {"public_story", "inspection_note"}
DIRS = {"positive", "negative"}
BANDS = {"positive": {"outstanding", "good"}, "negative": {"requires_improvement", "inadequate"}}


def pct(sorted_vals, p):
    if not sorted_vals:
        return None
    k = (len(sorted_vals) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(sorted_vals) - 1)
    return round(sorted_vals[lo] + (sorted_vals[hi] - sorted_vals[lo]) * (k - lo))


def main():
    with open(TSV, encoding="utf-8") as f:
        stmt_kq = {r["id"]: r["key_question"] for r in csv.DictReader(f, delimiter="\t")}
    errs, recs, ids = [], [], set()
    with open(DATA, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                errs.append(f"line {n}: bad JSON ({e})"); continue
            where = f"line {n} ({r.get('id')})"
            if set(r) != {"id", "kind", "text", "topics", "main_key_question"}:
                errs.append(f"{where}: fields {sorted(r)}")
            if r.get("id") in ids:
                errs.append(f"{where}: duplicate id")
            ids.add(r.get("id"))
            if r.get("kind") not in KINDS:
                errs.append(f"{where}: kind {r.get('kind')!r}")
            text = r.get("text")
            if not isinstance(text, str) or not text.strip():
                errs.append(f"{where}: empty text"); text = ""
            topics = r.get("topics")
            if not isinstance(topics, list) or not topics:
                errs.append(f"{where}: no topics"); topics = []
            seen = set()
            for t in topics:
                if set(t) != {"key_question", "statement", "direction", "band", "span"}:
                    errs.append(f"{where}: topic fields {sorted(t)}")
                kq, st, d, b, sp = (t.get(k) for k in ("key_question", "statement", "direction", "band", "span"))
                if kq not in KQS:
                    errs.append(f"{where}: key_question {kq!r}")
                if st not in stmt_kq:
                    errs.append(f"{where}: unknown statement {st!r}")
                elif stmt_kq[st] != kq:
                    errs.append(f"{where}: {st} belongs to {stmt_kq[st]}, not {kq}")
                if d not in DIRS:
                    errs.append(f"{where}: direction {d!r}")
                elif b not in BANDS[d]:
                    errs.append(f"{where}: band {b!r} does not fit direction {d}")
                if not isinstance(sp, str) or not sp or sp not in text:
                    errs.append(f"{where}: span not in text: {sp!r}")
                if (st, d) in seen:
                    errs.append(f"{where}: ({st}, {d}) listed twice")
                seen.add((st, d))
            if r.get("main_key_question") not in {t.get("key_question") for t in topics}:
                errs.append(f"{where}: main_key_question {r.get('main_key_question')!r} not among topics")
            recs.append(r)

    print(f"records: {len(recs)}")
    kinds = Counter(r["kind"] for r in recs)
    print("texts per kind:", dict(kinds))
    ntop = Counter(min(len(r["topics"]), 5) for r in recs)
    print("topics per text:", {("5+" if k == 5 else str(k)): ntop[k] for k in sorted(ntop)},
          "| total topics:", sum(len(r["topics"]) for r in recs))
    for kind in sorted(kinds):
        c = Counter(min(len(r["topics"]), 5) for r in recs if r["kind"] == kind)
        print(f"  {kind}:", {("5+" if k == 5 else str(k)): c[k] for k in sorted(c)})
    tops = [t for r in recs for t in r["topics"]]
    print("directions:", dict(Counter(t["direction"] for t in tops)))
    print("bands:", dict(Counter(t["band"] for t in tops)))
    print("topic key questions:", dict(Counter(t["key_question"] for t in tops)))
    print("main key questions:", dict(Counter(r["main_key_question"] for r in recs)))
    mixed = [r for r in recs if len({t["direction"] for t in r["topics"]}) > 1]
    allpos = sum(1 for r in recs if {t["direction"] for t in r["topics"]} == {"positive"})
    allneg = sum(1 for r in recs if {t["direction"] for t in r["topics"]} == {"negative"})
    print(f"mixed-direction texts: {len(mixed)} (public_story {sum(r['kind']=='public_story' for r in mixed)}, "
          f"inspection_note {sum(r['kind']=='inspection_note' for r in mixed)}); all positive: {allpos}; all negative: {allneg}")
    sc = Counter(t["statement"] for t in tops)
    unused = sorted(set(stmt_kq) - set(sc))
    print(f"statements used: {len(sc)}/{len(stmt_kq)}; unused: {unused}")
    print("least used statements:", sorted(sc.items(), key=lambda x: (x[1], x[0]))[:8])
    for kind in sorted(kinds):
        L = sorted(len(r["text"]) for r in recs if r["kind"] == kind)
        print(f"length chars {kind}: min {L[0]}, p10 {pct(L,10)}, p25 {pct(L,25)}, median {pct(L,50)}, "
              f"p75 {pct(L,75)}, p90 {pct(L,90)}, max {L[-1]}; >=1500: {sum(x >= 1500 for x in L)}")
    if errs:
        print(f"\nERRORS ({len(errs)}):")
        for e in errs:
            print("  " + e)
        return 1
    print("\nOK: no validation errors")
    return 0


if __name__ == "__main__":
    sys.exit(main())
