"""Assessment bundles: reading and checking bundle files, and their notes as training rows.

A bundle is one JSON file of notes, each with key question, statement, evidence category and band, and
the key question and overall ratings decided from them by hand (:func:`read_bundle`; the format is in
:mod:`evidencenlp.evaluation.assessments`, which rates bundles). It is written for measuring ``assess``;
its notes are also labelled inspection evidence in all four bands, the kind the phase-1
comments and the corpus have least of. In: folders of ``*.json`` bundles. Out: one row per note with the
corpus columns and ``origin`` ``bundle:<folder>/<bundle id>`` (so ``source_weights`` can weigh them). They
are training rows only: the held-out figures of ``train`` and its review thresholds are measured on the
other sources (:data:`evidencenlp.training.TRAIN_ONLY_ORIGINS`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from evidencenlp.errors import DataError, InputFileError
from evidencenlp.frameworks.rules import RatingRules

#: the origin prefix of bundle notes (``bundle:<folder>/<bundle id>``)
BUNDLE_ORIGIN = "bundle"

#: what a key question without a rating is called in bundles and in the tables
NO_RATING = "no_rating"
NOTE_FIELDS: tuple[str, ...] = ("id", "text", "evidence_category", "key_question", "statement", "band")


@dataclass(frozen=True)
class BundleNote:
    """One note of a bundle with the labels its author meant."""

    id: str
    text: str
    evidence_category: str
    key_question: str
    statement: str
    band: str


@dataclass(frozen=True)
class Bundle:
    """One assessment bundle: notes and the ratings decided by hand from them."""

    id: str
    path: Path
    service_type: str
    style: str
    notes: tuple[BundleNote, ...]
    expected: Mapping[str, str]
    expected_overall: str
    expected_provisional: bool | None


def _field(path: Path, doc: Mapping[str, Any], name: str, where: str = "") -> Any:
    if name not in doc:
        raise InputFileError(f"{path}: {where}missing field {name!r}")
    return doc[name]


def read_bundle(path: Path, rules: RatingRules) -> Bundle:
    """Read and check one bundle file; errors name the file, the note and the field (never note text)."""
    tax = rules.taxonomy
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise InputFileError(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(doc, dict):
        raise InputFileError(f"{path}: expected a JSON object")
    notes = _field(path, doc, "notes")
    if not isinstance(notes, list) or not notes:
        raise InputFileError(f"{path}: 'notes' must be a non-empty list")
    allowed = {"key_question": tax.key_questions, "statement": tax.statements, "band": tax.bands,
               "evidence_category": tax.categories}
    parsed = []
    for i, note in enumerate(notes, start=1):
        where = f"note {i}: "
        if not isinstance(note, dict):
            raise InputFileError(f"{path}: {where}expected an object")
        values = {name: _field(path, note, name, where) for name in NOTE_FIELDS}
        for name, options in allowed.items():
            if options and values[name] not in options:
                raise InputFileError(f"{path}: {where}field {name!r}: unknown label {values[name]!r}")
        if tax.key_question_of(values["statement"]) != values["key_question"]:
            raise InputFileError(f"{path}: {where}statement {values['statement']!r} is not in key question "
                                 f"{values['key_question']!r}")
        if not isinstance(values["text"], str) or not values["text"].strip():
            raise InputFileError(f"{path}: {where}field 'text': expected non-empty text")
        parsed.append(BundleNote(**{k: str(v) for k, v in values.items()}))
    expected = _field(path, doc, "expected")
    kqs = _field(path, expected, "key_questions", "expected: ") if isinstance(expected, dict) else None
    if not isinstance(kqs, dict):
        raise InputFileError(f"{path}: expected.key_questions must be an object")
    ratings = (*tax.bands, NO_RATING)
    for kq in tax.key_questions:
        value = kqs.get(kq, NO_RATING)
        if value not in ratings:
            raise InputFileError(f"{path}: expected.key_questions.{kq}: expected one of {', '.join(ratings)}; "
                                 f"got {value!r}")
    overall = expected.get("overall", NO_RATING)
    if overall not in ratings:
        raise InputFileError(f"{path}: expected.overall: expected one of {', '.join(ratings)}; got {overall!r}")
    provisional = expected.get("overall_provisional")
    return Bundle(id=str(doc.get("id") or path.stem), path=path, service_type=str(doc.get("service_type", "")),
                  style=str(doc.get("style", "")), notes=tuple(parsed),
                  expected={kq: str(kqs.get(kq, NO_RATING)) for kq in tax.key_questions},
                  expected_overall=str(overall),
                  expected_provisional=bool(provisional) if provisional is not None else None)


def read_bundles(folder: Path, rules: RatingRules) -> tuple[list[Bundle], list[str]]:
    """Every ``*.json`` bundle of a folder (name order), and one line per file that could not be used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"{folder}: not a folder of assessment bundles")
    bundles, problems = [], []
    for path in sorted(folder.glob("*.json")):
        try:
            bundles.append(read_bundle(path, rules))
        except InputFileError as exc:  # a bad bundle never fails the others
            problems.append(str(exc))
    if not bundles and not problems:
        raise InputFileError(f"{folder}: no .json bundles found")
    return bundles, problems



def check_bundle_folders(folders: Sequence[Path], option: str) -> None:
    """Raise :class:`DataError` naming the first of ``folders`` that is not a folder (``option``: the command-line
    option that named it, for the message); cheap, so options can check before any model loads."""
    for folder in folders:
        if not Path(folder).is_dir():
            raise DataError(f"{folder}: not a folder of assessment bundles ({option} takes a folder of *.json "
                            "bundles, e.g. evaluation/assessment_bundles)")


def bundle_rows(folders: Sequence[Path]) -> pd.DataFrame:
    """The notes of every bundle in ``folders`` as training rows (corpus columns, ``origin``, ``direction``).

    Training data must be whole: raises :class:`DataError` naming the folder when it is not a folder of
    bundles (or is empty, or is given twice, which would count its notes twice), and naming the file, note
    and field of the first bundle that cannot be read (with how many could not), never note text.
    """
    from evidencenlp.frameworks import load_framework_set

    seen: set[Path] = set()
    for folder in folders:
        resolved = Path(folder).resolve()
        if resolved in seen:
            raise DataError(f"{folder}: this folder of assessment bundles is given twice (its notes would be "
                            "trained on twice)")
        seen.add(resolved)
    rules = load_framework_set().rules
    rows: list[dict[str, str]] = []
    for folder in folders:
        try:
            bundles, bad = read_bundles(Path(folder), rules)
        except InputFileError as exc:
            raise DataError(f"assessment bundles for training: {exc}") from None
        if bad:
            raise DataError(f"assessment bundles for training: {folder}: {len(bad)} bundle(s) cannot be read; "
                            f"first: {bad[0]}")
        for b in bundles:
            for note in b.notes:
                rows.append({"note_id": f"{b.id}/{note.id}", "text": note.text, "key_question": note.key_question,
                             "statement": note.statement, "evidence_category": note.evidence_category,
                             "band": note.band, "principles": "", "service": b.service_type,
                             "origin": f"{BUNDLE_ORIGIN}:{Path(folder).name}/{b.id}", "direction": ""})
    return pd.DataFrame(rows, columns=["note_id", "text", "key_question", "statement", "evidence_category", "band",
                                       "principles", "service", "origin", "direction"])


def folder_sha256(folder: Path) -> str:
    """SHA-256 over the names and bytes of a bundle folder's ``*.json`` files (name order): which version of
    the bundles a model was trained on."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(Path(folder).glob("*.json")):
        digest.update(path.name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).hexdigest().encode("ascii")
                      + b"\n")
    return digest.hexdigest()


def _provenance(training_data: Mapping[str, Any]) -> Mapping[str, Any]:
    """The bundle part of a model's ``training_data_`` provenance (empty when it was trained on none)."""
    return (training_data.get("sources") or {}).get(BUNDLE_ORIGIN) or {}


def trained_on(folder: Path, training_data: Mapping[str, Any]) -> str:
    """Why the bundles of ``folder`` are training data of a model whose ``training_data_`` is given ("" when
    they are not, as far as its provenance tells): the same folder contents (SHA-256), or, for models whose
    provenance has no hashes, a trained folder of the same name. No note text."""
    bundle = _provenance(training_data)
    hashes = bundle.get("sha256") or {}
    if hashes:
        mine = folder_sha256(Path(folder))
        same = [name for name, sha in hashes.items() if sha == mine]
        return f"the model was trained on these bundles (same files as its training folder {same[0]})" if same else ""
    names = [name for name in (bundle.get("folders") or {}) if Path(name).name == Path(folder).name]
    return f"the model was trained on a bundle folder of the same name ({names[0]})" if names else ""


def trained_folders(training_data: Mapping[str, Any]) -> tuple[tuple[Path, ...], list[str]]:
    """The bundle folders a model was trained on, from its ``training_data_`` provenance: the ones found (as
    written at training, else under the checkout's root) and the names of those that are not here (e.g. run
    from an installed wheel), for the caller to report — a baseline "on the model's rows" then lacks them."""
    from evidencenlp.paths import PROJECT_ROOT

    bundle = _provenance(training_data)
    found, missing = [], []
    for name in bundle.get("folders") or {}:
        path = next((p for p in (Path(name), PROJECT_ROOT / name) if p.is_dir()), None)
        if path is None:
            missing.append(str(name))
        else:
            found.append(path)
    return tuple(found), missing
