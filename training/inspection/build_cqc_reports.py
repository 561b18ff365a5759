"""Build cqc_reports.csv from raw_excerpts.txt.

raw_excerpts.txt holds verbatim text transcribed from CQC report pages (found through the
`search` tool, corpus "pages"). Each page block starts with `### <url>`, has a `service:` line
and one or more `@@ <key_question> | <band>` section markers followed by paragraphs.

Each paragraph is split into units of 1-3 sentences (>= 8 words). Texts are never altered
except for whitespace. Rows from locations whose id does not end in an odd digit are refused.
"""
import csv
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RAW = HERE / "raw_excerpts.txt"
OUT = HERE / "cqc_reports.csv"
RETRIEVED = "2026-11-30"
KQS = {"safe", "effective", "caring", "responsive", "well-led"}
BANDS = {"", "outstanding", "good", "requires_improvement", "inadequate"}
LOC_RE = re.compile(r"/location/(1-\d+)(?:/|$)")
MIN_WORDS = 8
MAX_SENTS = 3


def split_sentences(par):
    """Split on . ! ? followed by space and a capital/quote, never inside double quotes."""
    sents, buf, in_q = [], [], False
    i, n = 0, len(par)
    while i < n:
        ch = par[i]
        buf.append(ch)
        if ch == "“":
            in_q = True
        elif ch == "”":
            in_q = False
        elif ch == '"':
            in_q = not in_q
        if ch in ".!?" and not in_q:
            j = i + 1
            # swallow closing quotes/brackets directly after the stop
            while j < n and par[j] in "'’”\")":
                buf.append(par[j])
                if par[j] in "”\"":
                    in_q = False
                j += 1
            if j < n and par[j] == " ":
                k = j
                while k < n and par[k] == " ":
                    k += 1
                if k < n and (par[k].isupper() or par[k].isdigit() or par[k] in "“\"'‘("):
                    prev = "".join(buf).split()[-1] if buf else ""
                    if prev.lower() not in {"e.g.", "i.e.", "dr.", "mr.", "mrs.", "ms.", "st."}:
                        sents.append("".join(buf).strip())
                        buf = []
                        i = k
                        continue
            i = j
            continue
        i += 1
    if "".join(buf).strip():
        sents.append("".join(buf).strip())
    return sents


def units_from_paragraph(par):
    sents = split_sentences(par)
    if len(sents) <= MAX_SENTS:
        return [" ".join(sents)]
    # chunk into groups of up to 3 sentences, balancing sizes (e.g. 4 -> 2+2, 5 -> 3+2)
    k = -(-len(sents) // MAX_SENTS)
    size, extra = divmod(len(sents), k)
    out, pos = [], 0
    for g in range(k):
        m = size + (1 if g < extra else 0)
        out.append(" ".join(sents[pos:pos + m]))
        pos += m
    return out


def parse(raw_text):
    pages, cur, kq, band = [], None, None, None
    for line in raw_text.splitlines():
        s = line.strip()
        if not s or s.startswith("#") and not s.startswith("###"):
            continue
        if s.startswith("### "):
            url = s[4:].strip()
            m = LOC_RE.search(url)
            cur = {"url": url, "loc": m.group(1) if m else None, "service": "", "sections": []}
            pages.append(cur)
            kq = band = None
            continue
        if s.startswith("service:"):
            cur["service"] = s.split(":", 1)[1].strip()
            continue
        if s.startswith("@@"):
            a, _, b = s[2:].partition("|")
            kq, band = a.strip(), b.strip()
            assert kq in KQS, (cur["url"], kq)
            assert band in BANDS, (cur["url"], band)
            cur["sections"].append({"kq": kq, "band": band, "pars": []})
            continue
        assert cur is not None and cur["sections"], line
        cur["sections"][-1]["pars"].append(re.sub(r"\s+", " ", s))
    return pages


def main():
    pages = parse(RAW.read_text(encoding="utf-8"))
    rows, seen, refused = [], set(), []
    for p in pages:
        loc = p["loc"]
        if not loc or loc[-1] not in "13579":
            refused.append(p["url"])
            continue
        for sec in p["sections"]:
            for par in sec["pars"]:
                for u in units_from_paragraph(par):
                    u = u.strip()
                    if len(u.split()) < MIN_WORDS:
                        continue
                    key = u.lower()
                    if key in seen:
                        continue
                    seen.add(key)
                    rows.append({
                        "text": u, "key_question": sec["kq"], "band": sec["band"],
                        "location_id": loc, "service_type": p["service"],
                        "url": p["url"], "retrieved": RETRIEVED,
                    })
    if refused:
        print("REFUSED (not odd-id):", refused, file=sys.stderr)
        sys.exit(1)
    with OUT.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["text", "key_question", "band", "location_id",
                                          "service_type", "url", "retrieved"])
        w.writeheader()
        w.writerows(rows)
    print("pages", len(pages), "locations", len({p["loc"] for p in pages}), "rows", len(rows))
    print("key_question", dict(Counter(r["key_question"] for r in rows)))
    print("band", dict(Counter(r["band"] or "(empty)" for r in rows)))
    print("service", dict(Counter(r["service_type"] or "(empty)" for r in rows)))


if __name__ == "__main__":
    main()
