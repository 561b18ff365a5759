#!/usr/bin/env python3
"""Build i01..i24.json from the compact sources _src/iNN.txt.
Source format:
  type: <service_type>
  location: <text>
  style: <text>
  intend: S E C R W OVERALL     (O G RI I NR)
  score: <slug>=<n> ...         (optional judgement scores; otherwise default rule)
  note: <free text for the overall rationale>  (optional)
  <alias> <cat> <band> | <text>
Default statement score = mean of its notes' band values, rounded to nearest, .5 rounded down
(cautious). Explicit 'score:' lines record a judgement different from the default.
"""
import json, os, re, sys, glob
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)
KQS = ["safe", "effective", "caring", "responsive", "well-led"]
ALIAS = {
 "lc": "safe.learning-culture", "ssp": "safe.safe-systems-pathways-transitions", "sg": "safe.safeguarding",
 "risk": "safe.involving-people-to-manage-risks", "env": "safe.safe-environments",
 "staff": "safe.safe-and-effective-staffing", "ipc": "safe.infection-prevention-and-control",
 "meds": "safe.medicines-optimisation",
 "needs": "effective.assessing-needs", "ebc": "effective.delivering-evidence-based-care",
 "team": "effective.how-staff-teams-and-services-work-together",
 "healthy": "effective.supporting-people-to-live-healthier-lives",
 "outc": "effective.monitoring-and-improving-outcomes", "consent": "effective.consent-to-care-and-treatment",
 "kind": "caring.kindness-compassion-and-dignity", "indiv": "caring.treating-people-as-individuals",
 "choice": "caring.independence-choice-and-control", "immed": "caring.responding-to-immediate-needs",
 "wfw": "caring.workforce-wellbeing-and-enablement",
 "pcc": "responsive.person-centred-care", "cont": "responsive.care-provision-integration-and-continuity",
 "info": "responsive.providing-information", "listen": "responsive.listening-to-and-involving-people",
 "access": "responsive.equity-in-access", "equity": "responsive.equity-in-experiences-and-outcomes",
 "future": "responsive.planning-for-the-future",
 "vision": "well-led.shared-direction-and-culture", "leaders": "well-led.capable-compassionate-and-inclusive-leaders",
 "ftsu": "well-led.freedom-to-speak-up", "edi": "well-led.workforce-equality-diversity-and-inclusion",
 "gov": "well-led.governance-management-and-sustainability", "partners": "well-led.partnerships-and-communities",
 "lii": "well-led.learning-improvement-and-innovation", "envsus": "well-led.environmental-sustainability",
}
CAT = {"pe": "people_experience", "sl": "staff_leaders_feedback", "pf": "partner_feedback", "ob": "observation",
       "pr": "processes", "oc": "outcomes"}
BAND = {"O": "outstanding", "G": "good", "RI": "requires_improvement", "I": "inadequate"}
BV = {"outstanding": 4, "good": 3, "requires_improvement": 2, "inadequate": 1}
RAT = {"O": "outstanding", "G": "good", "RI": "requires_improvement", "I": "inadequate", "NR": "no_rating"}
NICE = {"outstanding": "outstanding", "good": "good", "requires_improvement": "requires improvement",
        "inadequate": "inadequate", "no_rating": "no rating"}

def band_of(p):
    if 25 <= p <= 38: return "inadequate"
    if 39 <= p <= 62: return "requires_improvement"
    if 63 <= p <= 87: return "good"
    if p >= 88: return "outstanding"
    return None

def overall(rs):
    rs = [r for r in rs if r != "no_rating"]
    if rs.count("inadequate") >= 2: return "inadequate", "two or more key questions are inadequate, so the overall rating is inadequate"
    if rs.count("outstanding") >= 2 and all(r in ("outstanding", "good") for r in rs):
        return "outstanding", "at least two key questions are outstanding and the rest good, so the overall rating is outstanding"
    if rs.count("inadequate") == 0 and rs.count("requires_improvement") <= 1:
        if rs.count("outstanding") == 1:
            return "good", "only one key question is outstanding (outstanding needs at least two) and none is below good except at most one requires improvement, so the overall rating is good"
        return "good", "no key question is inadequate and at most one requires improvement, so the overall rating is good"
    if rs.count("inadequate") == 1:
        return "requires_improvement", "one key question is inadequate (good needs none), but not two, so the overall rating is requires improvement"
    return "requires_improvement", "two or more key questions require improvement, so the overall rating is requires improvement"

def build(path, report):
    bid = os.path.basename(path)[:-4]
    hdr, notes, overrides, extra = {}, [], {}, ""
    for ln in open(path, encoding="utf-8"):
        ln = ln.rstrip("\n")
        if not ln.strip() or ln.startswith("#"): continue
        m = re.match(r"(type|location|style|intend|score|note):\s*(.*)", ln)
        if m and "|" not in ln.split(":")[0]:
            k, v = m.groups()
            if k == "score":
                for tok in v.split():
                    a, s = tok.split("="); overrides[ALIAS[a]] = int(s)
            elif k == "note": extra = v
            else: hdr[k] = v
            continue
        left, text = ln.split("|", 1)
        a, c, b = left.split()
        st = ALIAS[a]
        notes.append({"id": "n%02d" % (len(notes) + 1), "text": text.strip(), "evidence_category": CAT[c],
                      "key_question": st.split(".")[0], "statement": st, "band": BAND[b]})
    intend = hdr["intend"].split()
    want = {k: RAT[x] for k, x in zip(KQS, intend[:5])}
    kqr, rat, problems, counts = {}, {}, [], {}
    for kq in KQS:
        kn = [n for n in notes if n["key_question"] == kq]
        counts[kq] = len(kn)
        if not kn:
            kqr[kq] = "no_rating"
            rat[kq] = "0 notes. No evidence was collected for this key question, so it has no rating and the overall rating is provisional."
            continue
        sts = []
        for n in kn:
            if n["statement"] not in sts: sts.append(n["statement"])
        scores, parts, judged, mixed = [], [], [], []
        for st in sts:
            bv = [BV[n["band"]] for n in kn if n["statement"] == st]
            mean = sum(bv) / len(bv)
            d = int(mean) if mean - int(mean) <= 0.5 else int(mean) + 1
            s = overrides.get(st, d)
            if not min(bv) <= s <= max(bv): problems.append("%s score %d outside %s" % (st, s, bv))
            if s != d: judged.append("%s=%d (notes %s, default %d)" % (st.split(".")[1], s, bv, d))
            scores.append(s); parts.append("%s=%d" % (st.split(".")[1], s))
            if len(set(bv)) > 1: mixed.append("%s (note bands %s) scored %d" % (st.split(".")[1], "/".join(str(x) for x in sorted(bv)), s))
        tot, mx = sum(scores), 4 * len(scores)
        p = 100.0 * tot / mx
        b = band_of(p)
        if b is None:
            problems.append("%s %.1f%% in a gap" % (kq, p)); b = "gap"
        r = b
        lim = ""
        if b == "good" and 1 in scores:
            r = "requires_improvement"; lim = " The percentage is in the good range but a statement is scored 1, so the limiter caps it at requires improvement."
        elif b == "outstanding" and (1 in scores or 2 in scores):
            r = "good"; lim = " The percentage is in the outstanding range but a statement is scored %s, so the limiter caps it at good." % ("1" if 1 in scores else "2")
        thin = " Only %d note%s: thin evidence, so the overall rating is provisional." % (len(kn), "" if len(kn) == 1 else "s") if len(kn) <= 2 else ""
        mix = (" Mixed evidence: %s (a statement with mixed notes takes the rounded mean of its notes' bands, halves rounded down)." % "; ".join(mixed)) if mixed else ""
        rat[kq] = "%d notes. Scores: %s. Sum %d/%d = %.1f%% -> %s.%s%s%s" % (len(kn), ", ".join(parts), tot, mx, p, NICE.get(r, r), lim, mix, thin)
        kqr[kq] = r
        if judged: report.append("%s %s judged: %s" % (bid, kq, "; ".join(judged)))
        if lim: report.append("%s %s limiter: %.1f%% -> %s" % (bid, kq, p, r))
    ov, why = overall([kqr[k] for k in KQS])
    prov = any(counts[k] <= 2 for k in KQS)
    for k in KQS:
        if kqr[k] != want[k]: problems.append("%s intended %s got %s" % (k, want[k], kqr[k]))
    if ov != RAT[intend[5]]: problems.append("overall intended %s got %s" % (RAT[intend[5]], ov))
    if ov in ("good", "outstanding"):
        for kq in KQS:
            if "=1" in rat[kq].split("Sum")[0]: problems.append("good/outstanding overall but a statement scored 1 (possible breach) in %s" % kq)
    summ = ", ".join("%s %s" % (k, NICE.get(kqr[k], kqr[k])) for k in KQS)
    ovtxt = "Key question ratings: %s. %s." % (summ, why[0].upper() + why[1:])
    if prov:
        ovtxt += " Provisional because %s." % "; ".join("%s has %d note%s" % (k, counts[k], "" if counts[k] == 1 else "s") for k in KQS if counts[k] <= 2)
    if extra: ovtxt += " " + extra
    rat["overall"] = ovtxt
    d = {"id": bid, "service_type": hdr["type"], "location": hdr["location"], "style": hdr["style"], "notes": notes,
         "expected": {"key_questions": kqr, "overall": ov, "overall_provisional": prov}, "rationale": rat}
    json.dump(d, open(os.path.join(OUT, bid + ".json"), "w", encoding="utf-8"), indent=1, ensure_ascii=False)
    return problems, len(notes), counts, kqr, ov

if __name__ == "__main__":
    report = []
    bad = 0
    for p in sorted(glob.glob(os.path.join(HERE, "i??.txt"))):
        probs, n, counts, kqr, ov = build(p, report)
        bid = os.path.basename(p)[:-4]
        print("%s %3d %s %s %s" % (bid, n, " ".join("%s:%d" % (k[:2], counts[k]) for k in KQS), " ".join(kqr[k][:4] for k in KQS), ov))
        for pr in probs: print("   PROBLEM", pr); bad += 1
    print("\n".join(report))
    open(os.path.join(HERE, "judgements.txt"), "w").write("\n".join(report) + "\n")
    sys.exit(1 if bad else 0)
