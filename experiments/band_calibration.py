"""Fit the band calibration of ``evidencenlp assess`` and measure it across bundle sets (issue 21).

Each set of assessment bundles is held out in turn: the calibration is fitted on the labelled notes of
the other sets and the held-out bundles are rated with it (unreviewed mode), and without any
calibration. Then, with ``--write``,
the calibration is fitted on every set's notes and saved to ``models/band_calibration.json``.

    PYTHONPATH=src python experiments/band_calibration.py evaluation/assessment_bundles \
        evaluation/assessment_bundles_c tests/data/assessment_dev [--write] [--cache /tmp/sugg.pkl]

No note text is printed. The suggestions come from the shipped model (``Suggester.load()``).

When the shipped heads were trained with the bundles' own notes (``evidencenlp train --bundles …``), their
suggestions on those notes are not what an unseen location gets, so the calibration is fitted on
**out-of-fold** suggestions instead: each set's notes as suggested by heads trained without that set
(``experiments/assess_bundle_heads_loso.py`` caches them as ``WORK/fold_<set>.pkl``), fitted on every set and
saved for the shipped band head's version:

    PYTHONPATH=src python experiments/band_calibration.py --out-of-fold /tmp/bandloso --write
"""

from __future__ import annotations

import argparse
import json
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

from evidencenlp.assess import AssessOptions, load_rules
from evidencenlp.assess.bands import CALIBRATION_FILE, BandCalibration, save_band_calibration
from evidencenlp.evaluation.assessments import fit_bundle_calibration, rate_bundle, read_bundles, summarise
from evidencenlp.paths import models_dir


def bundle_suggestions(folders: list[str], cache: Path | None) -> tuple[dict[str, list[Any]], str]:
    """``({folder: [(bundle, suggestions)]}, model_version)`` of the shipped model, read from the pickle
    ``cache`` when present (and written there when given); also used by ``assess_loso.py``."""
    if cache is not None and cache.is_file():
        with cache.open("rb") as fh:
            loaded: tuple[dict[str, list[Any]], str] = pickle.load(fh)
        return loaded
    from evidencenlp.suggest import Suggester

    rules = load_rules()[2]
    suggester = Suggester.load()
    out: dict[str, list[Any]] = {}
    for folder in folders:
        bundles, _ = read_bundles(Path(folder), rules)
        out[folder] = [(b, suggester.suggest_many([n.text for n in b.notes], sentences=False, evidence=False))
                       for b in bundles]
    result = (out, str(suggester.model_version))
    if cache is not None:
        with cache.open("wb") as fh:
            pickle.dump(result, fh)
    return result


def trained_on(folders: list[str], version: str) -> list[str]:
    """The folders among ``folders`` whose notes the models folder's heads were trained on (``train --bundles``,
    by :func:`evidencenlp.sources.bundles.trained_on` on ``heads.json``'s provenance), when ``version`` is those
    heads' version; else ``[]``. Suggestions of such heads on those folders are in-sample: no calibration or
    rating figure should be fitted or judged on them."""
    from evidencenlp.evaluation.run import shipped_model_version, shipped_training_data
    from evidencenlp.sources.bundles import trained_on as folder_trained_on

    if shipped_model_version() != version:
        return []
    data = shipped_training_data()
    return [f for f in folders if folder_trained_on(Path(f), data)]


def _score(data: list[Any], options: AssessOptions, calibration: BandCalibration | None) -> dict[str, Any]:
    rules = load_rules()[2]
    results = [rate_bundle(b, s, rules, options, None, calibration) for b, s in data]
    summary = summarise(results, rules)["unreviewed"]
    return {"key_questions_exact": summary["key_questions"]["exact_count"],
            "within_one": summary["key_questions"]["within_one_count"], "n": summary["key_questions"]["n"],
            "overall_exact": summary["overall"]["exact_count"], "bundles": summary["overall"]["n"],
            "inadequate_rated_better_than_ri": len(summary["inadequate_rated_better_than_requires_improvement"])}


def out_of_fold(work: Path, write: bool) -> None:
    """Fit the calibration on the out-of-fold suggestions cached in ``work`` (every set of
    ``assess_bundle_heads_loso.SETS``), for the shipped heads' version; print it, save it with ``write``."""
    from assess_bundle_heads_loso import SETS  # experiments/ is the script's folder

    from evidencenlp.classifier import EvidenceClassifier

    rules = load_rules()[2]
    data: dict[str, Any] = {}
    versions = {}
    for short, folder in SETS.items():
        with (work / f"fold_{short}.pkl").open("rb") as fh:
            fold = pickle.load(fh)
        data[folder], versions[short] = fold["items"], fold["model_version"]
    shipped = EvidenceClassifier.load(models_dir())
    version = str(shipped.model_version)
    cal = fit_bundle_calibration(data, list(SETS.values()), rules, version)
    cal = replace(cal, trained_on=(
        "out-of-fold suggestions of the labelled notes of the assessment bundles in " + ", ".join(SETS.values())
        + ": each set's notes as suggested by heads trained without that set (experiments/assess_bundle_heads_loso.py; "
        + "fold heads " + ", ".join(f"{k} {v}" for k, v in versions.items()) + ")"))
    print(json.dumps({"model_version": version, "n_notes": cal.n_notes, "reference_prior": cal.reference_prior},
                     indent=1))
    if write:
        save_band_calibration(cal, models_dir() / CALIBRATION_FILE)
        print(f"wrote {models_dir() / CALIBRATION_FILE} ({cal.n_notes} notes, for {version})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*")
    parser.add_argument("--out-of-fold", type=Path, default=None, help="folder of assess_bundle_heads_loso.py's "
                        "fold_<set>.pkl caches: fit on every set's out-of-fold suggestions (with --write: save it "
                        "for the shipped heads)")
    parser.add_argument("--write", action="store_true", help="fit on every folder and save models/" + CALIBRATION_FILE)
    parser.add_argument("--cache", type=Path, default=None, help="pickle of the suggestions (read if present)")
    args = parser.parse_args()
    if args.out_of_fold is not None:
        out_of_fold(args.out_of_fold, args.write)
        return
    if not args.folders:
        parser.error("give the bundle folders (or --out-of-fold WORK)")
    data, version = bundle_suggestions(args.folders, args.cache)
    seen = trained_on(args.folders, version)
    if seen and args.write:
        raise SystemExit(f"{version} was trained on the notes of {', '.join(seen)}: a calibration fitted on its own "
                         "suggestions of them is in-sample; fit it with --out-of-fold WORK instead")
    rules = load_rules()[2]
    report: dict[str, Any] = {"model_version": version, "held_out": {}}
    if seen:
        report["in_sample"] = f"{version} was trained on the notes of {', '.join(seen)}: these figures are in-sample"
    for held in args.folders:
        train = [f for f in args.folders if f != held]
        cal = fit_bundle_calibration(data, train, rules, version)
        report["held_out"][held] = {
            "trained_on": train,
            "calibrated": _score(data[held], AssessOptions(use_encoder=False), cal),
            "calibrated_without_key_question": _score(data[held], AssessOptions(use_encoder=False),
                                                      fit_bundle_calibration(data, train, rules, version, by_key_question=False)),
            "uncalibrated": _score(data[held], AssessOptions(use_encoder=False, band_calibration=False), None)}
    print(json.dumps(report, indent=1))
    if args.write:
        cal = fit_bundle_calibration(data, args.folders, rules, version)
        save_band_calibration(cal, models_dir() / CALIBRATION_FILE)
        print(f"wrote {models_dir() / CALIBRATION_FILE} ({cal.n_notes} notes)")


if __name__ == "__main__":
    main()
