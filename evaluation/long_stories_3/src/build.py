#!/usr/bin/env python3
"""Build stories.jsonl from the block files in src/.

Block format:
    ### <kind> | <main_key_question>
    <text lines>
    @@
    <statement id> | + or - | O/G/RI/I | <exact span>
Blocks are shuffled with a fixed seed before ids s3-001.. are assigned,
so the id order does not give away the kind.
"""
import json, os, random, sys

SEED = 58213
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(os.path.dirname(HERE), "stories.jsonl")
FILES = ["public_1.txt", "public_2.txt", "notes.txt"]
BANDS = {"O": "outstanding", "G": "good", "RI": "requires_improvement", "I": "inadequate"}
DIRS = {"+": "positive", "-": "negative"}


def parse(path):
    blocks, cur, mode = [], None, None
    with open(path, encoding="utf-8") as f:
        for n, raw in enumerate(f, 1):
            line = raw.rstrip("\n")
            if line.startswith("### "):
                kind, main = [x.strip() for x in line[4:].split("|")]
                cur = {"kind": kind, "main": main, "text": [], "topics": [], "where": f"{os.path.basename(path)}:{n}"}
                blocks.append(cur)
                mode = "text"
            elif cur is None:
                continue  # header comments
            elif line.strip() == "@@":
                mode = "topics"
            elif mode == "text":
                cur["text"].append(line)
            elif mode == "topics":
                if not line.strip() or line.startswith("#"):
                    continue
                st, d, b, span = [x.strip() for x in line.split("|", 3)]
                cur["topics"].append((st, DIRS[d], BANDS[b], span))
    return blocks


def main():
    blocks = []
    for fn in FILES:
        blocks += parse(os.path.join(HERE, fn))
    rng = random.Random(SEED)
    rng.shuffle(blocks)
    errors = 0
    with open(OUT, "w", encoding="utf-8") as out:
        for i, b in enumerate(blocks, 1):
            text = "\n".join(b["text"]).strip("\n")
            topics = []
            for st, d, band, span in b["topics"]:
                if span not in text:
                    print(f"SPAN NOT FOUND {b['where']}: {span!r}", file=sys.stderr)
                    errors += 1
                topics.append({"key_question": st.split(".")[0], "statement": st,
                               "direction": d, "band": band, "span": span})
            rec = {"id": f"s3-{i:03d}", "kind": b["kind"], "text": text,
                   "topics": topics, "main_key_question": b["main"]}
            out.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {len(blocks)} records to {OUT}; span errors: {errors}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
