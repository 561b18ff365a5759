#!/usr/bin/env python3
"""Build jNN.json from _src/jNN.txt. Source format:
@type <service_type>
@location <text>
@style <text>
@intend S E C R W   (O/G/RI/I/NR)  -- intended key question ratings, checked against the computed ones
@score <slug> <1-4> <reason>       -- required for every statement whose notes have mixed bands
<slug> <O|G|RI|I> <pe|sl|pf|ob|pr|ou> | <note text>
"""
import json, os, re, sys
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
rows = [l.rstrip("\n").split("\t") for l in open("/work/shared/reference/saf-quality-statements.tsv", encoding="utf-8")][1:]
SLUG = {r[0].split(".", 1)[1]: r[0] for r in rows}
KQS = ["safe", "effective", "caring", "responsive", "well-led"]
CAT = {"pe": "people_experience", "sl": "staff_leaders_feedback", "pf": "partner_feedback", "ob": "observation", "pr": "processes", "ou": "outcomes"}
BAND = {"O": "outstanding", "G": "good", "RI": "requires_improvement", "I": "inadequate"}
BV = {"outstanding": 4, "good": 3, "requires_improvement": 2, "inadequate": 1}
AB = {"O": "outstanding", "G": "good", "RI": "requires_improvement", "I": "inadequate", "NR": "no_rating"}
NICE = {"outstanding": "outstanding", "good": "good", "requires_improvement": "requires improvement", "inadequate": "inadequate", "no_rating": "no rating"}

def band_of(p):
    if 25 <= p <= 38: return "inadequate"
    if 39 <= p <= 62: return "requires_improvement"
    if 63 <= p <= 87: return "good"
    if p >= 88: return "outstanding"
    return None

def build(bid):
    src = open(os.path.join(HERE, bid + ".txt"), encoding="utf-8").read().splitlines()
    meta, scores_given, notes = {}, {}, []
    for line in src:
        if not line.strip() or line.startswith("#"): continue
        if line.startswith("@score "):
            _, slug, s, why = line.split(" ", 3)
            scores_given[SLUG[slug]] = (int(s), why.strip())
        elif line.startswith("@"):
            k, _, v = line[1:].partition(" "); meta[k] = v.strip()
        else:
            head, _, text = line.partition(" | ")
            slug, b, c = head.split()
            st = slug if slug in SLUG.values() else SLUG[slug]
            notes.append({"id": "n%02d" % (len(notes) + 1), "text": text.strip(), "evidence_category": CAT[c],
                          "key_question": st.split(".")[0], "statement": st, "band": BAND[b]})
    intend = dict(zip(KQS, [AB[x] for x in meta["intend"].split()]))
    kqr, rat, problems = {}, {}, []
    for kq in KQS:
        kn = [n for n in notes if n["key_question"] == kq]
        if not kn:
            kqr[kq] = "no_rating"
            rat[kq] = "0 notes. No evidence was gathered for this key question, so it is not rated (no rating)."
            continue
        order = []
        for n in kn:
            if n["statement"] not in order: order.append(n["statement"])
        sc, whys = {}, []
        for st in order:
            bs = [BV[n["band"]] for n in kn if n["statement"] == st]
            if min(bs) == max(bs):
                sc[st] = bs[0]
                if st in scores_given and scores_given[st][0] != bs[0]: problems.append("%s score given differs from uniform band" % st)
            else:
                if st not in scores_given: problems.append("%s mixed %s needs @score" % (st, bs)); sc[st] = bs[0]; continue
                s, why = scores_given[st]
                if not min(bs) <= s <= max(bs): problems.append("%s score %d outside %s" % (st, s, bs))
                sc[st] = s
                inv = {v: k for k, v in BV.items()}
                mix = ", ".join("%d %s" % (bs.count(v), NICE[inv[v]]) for v in sorted(set(bs), reverse=True))
                whys.append("%s is mixed (%s notes) and scores %d: %s" % (st.split(".", 1)[1], mix, s, why))
        vals = list(sc.values())
        pct = 100.0 * sum(vals) / (4 * len(vals))
        r = band_of(pct)
        if r is None: problems.append("%s pct %.1f in gap" % (kq, pct)); r = "gap"
        lim = ""
        if r == "good" and 1 in vals:
            r = "requires_improvement"; lim = " Limiter: the percentage is in the good range but a statement scores 1, so the rating is limited to requires improvement."
        elif r == "outstanding" and (1 in vals or 2 in vals):
            r = "good"; lim = " Limiter: the percentage is in the outstanding range but a statement scores %s, so the rating is limited to good." % ("1" if 1 in vals else "2")
        kqr[kq] = r
        t = "%d note%s. Scores: %s. Sum %d/%d = %.1f%% -> %s." % (len(kn), "" if len(kn) == 1 else "s", ", ".join("%s=%d" % (k.split(".", 1)[1], v) for k, v in sc.items()), sum(vals), 4 * len(vals), pct, NICE[r])
        t += lim
        if whys: t += " " + " ".join(w.rstrip(".") + "." for w in whys)
        else: t += " Every scored statement's notes share one band, so each statement takes that band's score."
        if len(kn) <= 2: t += " Thin evidence: this key question rests on only %d note%s." % (len(kn), "" if len(kn) == 1 else "s")
        rat[kq] = t
        if r != intend[kq]: problems.append("%s computed %s but intended %s" % (kq, r, intend[kq]))
    for st in scores_given:
        if st not in {n["statement"] for n in notes}: problems.append("@score for %s with no notes" % st)
    rs = [kqr[k] for k in KQS if kqr[k] != "no_rating"]
    ni, nri, no = rs.count("inadequate"), rs.count("requires_improvement"), rs.count("outstanding")
    summ = "Key question ratings: %s." % ", ".join("%s %s" % (k, NICE[kqr[k]]) for k in KQS)
    if ni >= 2: ov = "inadequate"; why = "two or more key questions are inadequate, so the overall rating is inadequate"
    elif no >= 2 and all(r in ("outstanding", "good") for r in rs): ov = "outstanding"; why = "%d key questions are outstanding and the rest good, which meets the outstanding principle (at least two outstanding, the others good)" % no
    elif ni == 0 and nri <= 1:
        ov = "good"
        why = ("no key question is inadequate and only one requires improvement, so the overall rating is good" if nri == 1 else
               ("only one key question is outstanding (outstanding needs at least two), and none is inadequate or requires improvement, so the overall rating is good" if no == 1 else
                "no key question is inadequate or requires improvement, so the overall rating is good"))
    else:
        ov = "requires_improvement"
        why = ("one key question is inadequate (not two), which rules out good, so the overall rating is requires improvement" if ni == 1 and nri < 2 else
               "%s key questions require improvement%s, so the overall rating is requires improvement" % (nri, " and one is inadequate (not two)" if ni == 1 else ""))
    thin = [k for k in KQS if 0 < len([n for n in notes if n["key_question"] == k]) <= 2]
    none = [k for k in KQS if kqr[k] == "no_rating"]
    prov = bool(thin or none)
    ot = summ + " " + why[0].upper() + why[1:] + "."
    if none: ot += " %s has no notes and is not rated; the overall rating is taken from the rated key questions." % ", ".join(none)
    if prov: ot += " The overall rating is provisional because %s." % "; ".join(["%s has only %d note(s)" % (k, len([n for n in notes if n["key_question"] == k])) for k in thin] + ["%s has no notes" % k for k in none])
    else: ot += " Every key question has at least three notes, so the rating is not provisional."
    if "overall_note" in meta: ot += " " + meta["overall_note"]
    rat["overall"] = ot
    d = {"id": bid, "service_type": meta["type"], "location": meta["location"], "style": meta["style"], "notes": notes,
         "expected": {"key_questions": kqr, "overall": ov, "overall_provisional": prov}, "rationale": rat}
    if "intend_overall" in meta and AB[meta["intend_overall"]] != ov: problems.append("overall computed %s, intended %s" % (ov, meta["intend_overall"]))
    json.dump(d, open(os.path.join(OUT, bid + ".json"), "w", encoding="utf-8"), indent=1, ensure_ascii=False)
    return problems, len(notes), kqr, ov

if __name__ == "__main__":
    ids = sys.argv[1:] or sorted(f[:-4] for f in os.listdir(HERE) if re.fullmatch(r"j\d\d\.txt", f))
    for bid in ids:
        p, n, k, o = build(bid)
        print(bid, n, " ".join("%s=%s" % (x[:3], y[:4]) for x, y in k.items()), "overall=" + o, ("PROBLEMS: " + "; ".join(p)) if p else "ok")
