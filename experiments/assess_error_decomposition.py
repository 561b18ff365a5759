"""Where the unreviewed ratings' errors come from (issue 21): the suggested bands or the placements.

For every bundle of the seen sets, the key question and overall ratings of ``evidencenlp assess`` are
computed three ways on the shipped model's suggestions and the shipped band calibration:

* ``tool``: the suggestions as they are (what ``evaluate --assessments`` scores as *unreviewed*);
* ``writers_bands``: the same placements (statements and weights), each note's band replaced by the
  band its writer gave it (near-certain probabilities; no calibration, which is fitted on the model's
  probabilities, not on these);
* ``writers_placements``: each note placed on its writer's statement alone with weight 1, its band
  probabilities the model's (calibrated as shipped).

The gap between ``tool`` and each oracle is what perfect bands, or perfect placements, would gain.

    PYTHONPATH=src python experiments/assess_error_decomposition.py --cache /tmp/decomp_sugg.pkl \\
        --out experiments/assess_error_decomposition.json

No note text is printed. The suggestions are cached (pickle, made with the shipped model when absent).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from assess_loso import rate  # experiments/ is the script's folder
from band_calibration import bundle_suggestions

from evidencenlp.assess import load_rules
from evidencenlp.assess.bands import shipped_band_calibration
from evidencenlp.assess.records import EvidenceRecord
from evidencenlp.evaluation.assessments import Bundle, unreviewed_records
from evidencenlp.fileio import write_text_atomic

SETS = ["evaluation/assessment_bundles", "evaluation/assessment_bundles_c", "evaluation/assessment_bundles_d",
        "evaluation/assessment_bundles_e", "evaluation/assessment_bundles_f", "evaluation/assessment_bundles_g",
        "tests/data/assessment_dev"]
#: how sure a writer's band is made (the rest shared by the other bands): near one, never exactly one
WRITER_BAND_PROBABILITY = 0.997


def variants(bundle: Bundle, tool: list[EvidenceRecord], bands: tuple[str, ...]
             ) -> dict[str, list[EvidenceRecord]]:
    """The three record sets of one bundle (see the module docstring)."""
    notes = {n.id: n for n in bundle.notes}
    rest = (1.0 - WRITER_BAND_PROBABILITY) / (len(bands) - 1)
    writers_bands = [replace(r, band=notes[r.note].band, band_probabilities=tuple(
        (b, WRITER_BAND_PROBABILITY if b == notes[r.note].band else rest) for b in bands)) for r in tool]
    primary = {r.note: r for r in tool if r.primary}
    writers_placements = [replace(primary[n.id], key_question=n.key_question, statement=n.statement, weight=1.0)
                          for n in bundle.notes if n.id in primary]
    return {"tool": tool, "writers_bands": writers_bands, "writers_placements": writers_placements}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, required=True, help="pickle of the suggestions (made if absent)")
    parser.add_argument("--out", type=Path, default=None, help="write the figures here as JSON")
    args = parser.parse_args()
    rules = load_rules()[2]
    calibration = shipped_band_calibration()
    data, version = bundle_suggestions(SETS, args.cache)
    n_kq = len(rules.taxonomy.key_questions)
    per_set: dict[str, dict[str, Counter[str]]] = {}  # folder -> variant -> counts
    for folder, items in data.items():
        for bundle, suggestions in items:
            tool = unreviewed_records(bundle, suggestions, rules)
            for name, records in variants(bundle, tool, tuple(rules.taxonomy.bands)).items():
                got, got_overall = rate(bundle, records, rules, None if name == "writers_bands" else calibration)
                per_set.setdefault(folder, {}).setdefault(name, Counter()).update(
                    key_questions_exact=sum(got[k] == bundle.expected[k] for k in rules.taxonomy.key_questions),
                    key_questions=n_kq, overall_exact=int(got_overall == bundle.expected_overall), bundles=1)
    totals: dict[str, Counter[str]] = {}
    for rows in per_set.values():
        for name, counts in rows.items():
            totals.setdefault(name, Counter()).update(counts)
    kq = {k: {"exact": v["key_questions_exact"], "n": v["key_questions"]} for k, v in totals.items()}
    overall = {k: {"exact": v["overall_exact"], "n": v["bundles"]} for k, v in totals.items()}
    report: dict[str, Any] = {"model_version": version, "sets": SETS, "key_questions_exact": kq,
                              "overall_exact": overall,
                              "per_set": {f: {k: dict(v) for k, v in rows.items()} for f, rows in per_set.items()}}
    for name in kq:
        print(f"{name:20s} key questions {kq[name]['exact']}/{kq[name]['n']}  overall "
              f"{overall[name]['exact']}/{overall[name]['n']}")
    if args.out is not None:
        write_text_atomic(args.out, json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
