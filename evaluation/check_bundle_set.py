#!/usr/bin/env python3
"""Independent checker for one bundles-X evaluation set (python3 stdlib only), shared by the sets' check.py.

Usage: check_bundle_set.py FOLDER PREFIX (e.g. evaluation/assessment_bundles_f f). Each set's writer delivered
this checker as their folder's check.py with their letter written in; those copies differed only in the
letter, so each folder's check.py now runs this one on itself.

Reads PREFIX01.json ... PREFIX24.json in FOLDER and verifies shape, labels, note
counts, that each statement score (parsed from the rationale) lies within the
bands of that statement's notes, that no key question percentage falls in a
gap between bands, and that the expected key question ratings, overall rating
and provisional flag follow from the scores by the published rules.
Prints a summary of the set. Exit status 1 if any check fails.
"""
import json, os, re, sys
from collections import Counter

if len(sys.argv) != 3 or not re.fullmatch(r"[a-z]", sys.argv[2]):
    sys.exit("usage: check_bundle_set.py FOLDER PREFIX (one lower-case letter)")
HERE, PREFIX = os.path.abspath(sys.argv[1]), sys.argv[2]
TSV = "/work/shared/reference/saf-quality-statements.tsv"
STATEMENTS = """safe.learning-culture safe.safe-systems-pathways-transitions safe.safeguarding
safe.involving-people-to-manage-risks safe.safe-environments safe.safe-and-effective-staffing
safe.infection-prevention-and-control safe.medicines-optimisation effective.assessing-needs
effective.delivering-evidence-based-care effective.how-staff-teams-and-services-work-together
effective.supporting-people-to-live-healthier-lives effective.monitoring-and-improving-outcomes
effective.consent-to-care-and-treatment caring.kindness-compassion-and-dignity
caring.treating-people-as-individuals caring.independence-choice-and-control
caring.responding-to-immediate-needs caring.workforce-wellbeing-and-enablement
responsive.person-centred-care responsive.care-provision-integration-and-continuity
responsive.providing-information responsive.listening-to-and-involving-people
responsive.equity-in-access responsive.equity-in-experiences-and-outcomes
responsive.planning-for-the-future well-led.shared-direction-and-culture
well-led.capable-compassionate-and-inclusive-leaders well-led.freedom-to-speak-up
well-led.workforce-equality-diversity-and-inclusion well-led.governance-management-and-sustainability
well-led.partnerships-and-communities well-led.learning-improvement-and-innovation
well-led.environmental-sustainability""".split()
KQS = ["safe", "effective", "caring", "responsive", "well-led"]
CATS = ["people_experience", "staff_leaders_feedback", "partner_feedback", "observation", "processes", "outcomes"]
BANDS = {"outstanding": 4, "good": 3, "requires_improvement": 2, "inadequate": 1}
TYPES = ["care_home", "home_care", "gp", "acute_ward", "mental_health", "dental", "hospice", "urgent_care"]
RATINGS = ["outstanding", "good", "requires_improvement", "inadequate", "no_rating"]

errors = []
def err(bid, msg):
    errors.append("%s: %s" % (bid, msg))

# statement -> key question, from the reference TSV when present (must agree with the embedded list)
ST_KQ = {s: s.split(".")[0] for s in STATEMENTS}
if os.path.exists(TSV):
    rows = [l.rstrip("\n").split("\t") for l in open(TSV, encoding="utf-8")][1:]
    tsv = {r[0]: r[1] for r in rows if r and r[0]}
    if tsv != ST_KQ:
        errors.append("reference TSV statements differ from the embedded list")
    ST_KQ = tsv


def band_of(pct):
    if 25 <= pct <= 38: return "inadequate"
    if 39 <= pct <= 62: return "requires_improvement"
    if 63 <= pct <= 87: return "good"
    if pct >= 88: return "outstanding"
    return None


def kq_rating(scores):
    pct = 100.0 * sum(scores) / (4 * len(scores))
    r = band_of(pct)
    if r == "good" and 1 in scores: r = "requires_improvement"
    elif r == "outstanding" and (1 in scores or 2 in scores): r = "good"
    return pct, r


def overall(ratings):
    rs = [r for r in ratings if r != "no_rating"]
    if rs.count("inadequate") >= 2: return "inadequate"
    if rs.count("outstanding") >= 2 and all(r in ("outstanding", "good") for r in rs): return "outstanding"
    if rs.count("inadequate") == 0 and rs.count("requires_improvement") <= 1: return "good"
    return "requires_improvement"


stats = {"kq": Counter(), "overall": Counter(), "band": Counter(), "cat": Counter(), "sizes": [],
         "types": Counter(), "limited": [], "prov": 0, "thin": []}
table = []
files = sorted(f for f in os.listdir(HERE) if re.fullmatch(PREFIX + r"\d\d\.json", f))
expected_ids = [PREFIX + "%02d" % i for i in range(1, 25)]
if [f[:-5] for f in files] != expected_ids:
    errors.append("expected files %s01.json..%s24.json, found %s" % (PREFIX, PREFIX, files))

for fn in files:
    bid = fn[:-5]
    try:
        d = json.load(open(os.path.join(HERE, fn), encoding="utf-8"))
    except Exception as e:
        err(bid, "invalid JSON: %s" % e); continue
    if list(d.keys()) != ["id", "service_type", "location", "style", "notes", "expected", "rationale"]:
        err(bid, "top-level keys/order %s" % list(d.keys()))
    if d.get("id") != bid: err(bid, "id mismatch %r" % d.get("id"))
    if d.get("service_type") not in TYPES: err(bid, "bad service_type %r" % d.get("service_type"))
    stats["types"][d.get("service_type")] += 1
    for k in ("location", "style"):
        if not isinstance(d.get(k), str) or len(d[k]) < 10: err(bid, "missing %s" % k)
    notes = d.get("notes", [])
    n = len(notes)
    stats["sizes"].append(n)
    if not 10 <= n <= 60: err(bid, "%d notes (need 10-60)" % n)
    texts = set()
    for i, note in enumerate(notes, 1):
        if list(note.keys()) != ["id", "text", "evidence_category", "key_question", "statement", "band"]:
            err(bid, "note %d keys/order %s" % (i, list(note.keys())))
            continue
        if note["id"] != "n%02d" % i: err(bid, "note id %s should be n%02d" % (note["id"], i))
        if not note["text"].strip(): err(bid, "%s empty text" % note["id"])
        if note["text"] in texts: err(bid, "%s duplicate text" % note["id"])
        texts.add(note["text"])
        if note["evidence_category"] not in CATS: err(bid, "%s bad category %s" % (note["id"], note["evidence_category"]))
        if note["statement"] not in ST_KQ: err(bid, "%s bad statement %s" % (note["id"], note["statement"]))
        elif ST_KQ[note["statement"]] != note["key_question"]:
            err(bid, "%s key question %s != statement's %s" % (note["id"], note["key_question"], ST_KQ[note["statement"]]))
        if note["key_question"] not in KQS: err(bid, "%s bad key question" % note["id"])
        if note["band"] not in BANDS: err(bid, "%s bad band %s" % (note["id"], note["band"]))
        stats["band"][note["band"]] += 1
        stats["cat"][note["evidence_category"]] += 1
    exp = d.get("expected", {})
    rat = d.get("rationale", {})
    if list(exp.keys()) != ["key_questions", "overall", "overall_provisional"]: err(bid, "expected keys %s" % list(exp.keys()))
    if list(exp.get("key_questions", {}).keys()) != KQS: err(bid, "expected.key_questions keys %s" % list(exp.get("key_questions", {}).keys()))
    if list(rat.keys()) != KQS + ["overall"]: err(bid, "rationale keys %s" % list(rat.keys()))
    computed = {}
    counts = {}
    for kq in KQS:
        kn = [x for x in notes if x.get("key_question") == kq]
        counts[kq] = len(kn)
        want = exp.get("key_questions", {}).get(kq)
        if want not in RATINGS: err(bid, "%s bad rating %r" % (kq, want))
        if not kn:
            computed[kq] = "no_rating"
            if want != "no_rating": err(bid, "%s has no notes but rating %s" % (kq, want))
            continue
        text = rat.get(kq, "")
        m = re.match(r"(\d+) notes?\. Scores: ([^.]*)\.", text)
        if not m:
            err(bid, "%s rationale does not start with '<n> notes. Scores: ...'" % kq); continue
        if int(m.group(1)) != len(kn): err(bid, "%s rationale says %s notes, found %d" % (kq, m.group(1), len(kn)))
        scores = {}
        for tok in m.group(2).split(","):
            slug, _, s = tok.strip().partition("=")
            scores["%s.%s" % (kq, slug)] = int(s)
        sts = set(x["statement"] for x in kn)
        if set(scores) != sts:
            err(bid, "%s scored statements %s != statements with notes %s" % (kq, sorted(scores), sorted(sts)))
            continue
        for st, s in scores.items():
            bs = [BANDS[x["band"]] for x in kn if x["statement"] == st]
            if s not in (1, 2, 3, 4) or not min(bs) <= s <= max(bs):
                err(bid, "%s score %d outside note bands %s" % (st, s, bs))
        pct, r = kq_rating(list(scores.values()))
        if r is None:
            err(bid, "%s percentage %.1f falls in a gap" % (kq, pct)); continue
        if band_of(pct) != r: stats["limited"].append("%s %s %.1f%% %s->%s" % (bid, kq, pct, band_of(pct), r))
        m2 = re.search(r"Sum (\d+)/(\d+) = ([\d.]+)%", text)
        if not m2 or int(m2.group(1)) != sum(scores.values()) or int(m2.group(2)) != 4 * len(scores) or abs(float(m2.group(3)) - pct) > 0.06:
            err(bid, "%s rationale sum/percentage does not match scores" % kq)
        computed[kq] = r
        if want != r: err(bid, "%s expected %s but rules give %s" % (kq, want, r))
        if len(kn) <= 2: stats["thin"].append("%s %s (%d)" % (bid, kq, len(kn)))
    ov = overall([computed.get(k, "no_rating") for k in KQS])
    if exp.get("overall") != ov: err(bid, "overall expected %s but rules give %s" % (exp.get("overall"), ov))
    prov = any(counts[k] <= 2 for k in KQS)  # 0 notes = no_rating, 1-2 = thin
    if exp.get("overall_provisional") is not prov: err(bid, "overall_provisional %s, rules give %s" % (exp.get("overall_provisional"), prov))
    stats["prov"] += prov
    for kq in KQS: stats["kq"][exp.get("key_questions", {}).get(kq)] += 1
    stats["overall"][exp.get("overall")] += 1
    table.append((bid, d.get("service_type"), n, counts, exp))

for t, c in stats["types"].items():
    if c != 3: errors.append("service type %s has %d bundles (need 3)" % (t, c))

ab = {"outstanding": "O", "good": "G", "requires_improvement": "RI", "inadequate": "I", "no_rating": "NR"}
print("id   type           notes  S        E        C        R        W        overall  prov")
for bid, typ, n, counts, exp in table:
    cells = ["%-2s(%2d)" % (ab.get(exp["key_questions"][k], "?"), counts[k]) for k in KQS]
    print("%-4s %-14s %5d  %s  %-2s       %s" % (bid, typ, n, "  ".join(cells), ab.get(exp["overall"], "?"), "yes" if exp["overall_provisional"] else "no"))
tot = sum(stats["kq"].values())
if not table:  # no bundle could be read: nothing to summarise
    print("FAILED: %d problem(s)" % len(errors))
    for e in errors: print("  " + e)
    sys.exit(1)
print("\nnotes: total %d, min %d, max %d; sizes %s" % (sum(stats["sizes"]), min(stats["sizes"]), max(stats["sizes"]), sorted(stats["sizes"])))
print("key question ratings (%d): %s" % (tot, ", ".join("%s %d (%.1f%%)" % (r, stats["kq"][r], 100.0 * stats["kq"][r] / tot) for r in RATINGS)))
print("overall: %s; provisional %d" % (", ".join("%s %d" % (r, stats["overall"][r]) for r in RATINGS[:4]), stats["prov"]))
print("note bands: %s" % ", ".join("%s %d" % (b, stats["band"][b]) for b in BANDS))
print("categories: %s" % ", ".join("%s %d" % (c, stats["cat"][c]) for c in CATS))
print("thin key questions (1-2 notes): %s" % "; ".join(stats["thin"]))
print("limiters applied: %s" % "; ".join(stats["limited"]))
if errors:
    print("\nFAILED: %d problem(s)" % len(errors))
    for e in errors: print("  " + e)
    sys.exit(1)
print("\nPASSED: all %d bundles valid" % len(table))
