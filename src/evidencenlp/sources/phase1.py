"""Turn the pxtextmining phase-1 feedback file into labelled corpus rows through a documented mapping.

The mapping (``training/phase1_mapping.yaml``) gives, per subcategory, a SAF key question and,
where defensible, a quality statement, with a confidence (high / medium / low); subcategories with
no defensible mapping have ``key_question: null`` and are excluded (counted). Criticality (-5…+5)
becomes a ``polarity`` column (positive / negative / empty); no band is derived from it (see the
mapping file's header). Dirty criticality values (``-o``, ``A``, ``SS``, …) and values outside the
valid range are missing.

The data file is never copied into the repository; nothing here logs comment text.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from evidencenlp.errors import DataError, FrameworkError
from evidencenlp.frameworks.files import read_document
from evidencenlp.frameworks.set import default_taxonomy
from evidencenlp.paths import shared_dir, training_dir
from evidencenlp.sources.corpus import CORPUS_COLUMNS
from evidencenlp.tabular import read_table

MAPPING_FILE = "phase1_mapping.yaml"
REQUIRED_COLUMNS: tuple[str, ...] = ("feedback", "subcategory", "criticality")
CONFIDENCE_LEVELS: tuple[str, ...] = ("low", "medium", "high")
_INT = re.compile(r"^[+-]?\d+$")


def default_mapping_path() -> Path:
    """``training/phase1_mapping.yaml`` (``EVIDENCENLP_TRAINING`` overrides the folder)."""
    return training_dir() / MAPPING_FILE


def default_data_path() -> Path:
    """Where the shared phase-1 file usually is: ``shared/data/pxtextmining-phase1/text_data.csv``."""
    return shared_dir() / "data" / "pxtextmining-phase1" / "text_data.csv"


def _norm(name: str) -> str:
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class SubcategoryMapping:
    """Where one subcategory goes: key question (None = excluded), statement, confidence."""

    subcategory: str
    key_question: str | None
    statement: str | None
    confidence: str | None
    note: str = ""


@dataclass(frozen=True)
class CriticalityRule:
    """Criticality → polarity: ``>= positive_at_least`` positive, ``<= negative_at_most`` negative."""

    valid_min: int = -5
    valid_max: int = 5
    positive_at_least: int = 3
    negative_at_most: int = -3

    def parse(self, value: Any) -> int | None:
        """An integer criticality in the valid range, or None for missing/dirty/out-of-range values."""
        text = str(value).strip() if value is not None else ""
        if not _INT.match(text):
            return None
        n = int(text)
        return n if self.valid_min <= n <= self.valid_max else None

    def polarity(self, value: Any) -> str:
        """``"positive"``, ``"negative"`` or ``""`` (missing, or too mild to call)."""
        n = self.parse(value)
        if n is None:
            return ""
        if n >= self.positive_at_least:
            return "positive"
        if n <= self.negative_at_most:
            return "negative"
        return ""


@dataclass(frozen=True)
class Phase1Mapping:
    """The whole mapping file: subcategory → :class:`SubcategoryMapping`, the criticality rule."""

    version: str
    evidence_category: str
    criticality: CriticalityRule
    subcategories: dict[str, SubcategoryMapping]  # keyed by normalised subcategory name

    def get(self, subcategory: str) -> SubcategoryMapping | None:
        """The mapping of a subcategory (case and spacing ignored), or None when it is not listed."""
        return self.subcategories.get(_norm(subcategory))


def load_mapping(path: Path | None = None, statements: list[str] | None = None) -> Phase1Mapping:
    """Read and check the mapping file (key questions, statements, confidences are valid).

    Raises :class:`DataError` naming the file and the bad entry.
    """
    path = Path(path) if path else default_mapping_path()
    try:
        doc = read_document(path)
    except FrameworkError as exc:  # the shared YAML reader's error: same message, a data error here
        raise DataError(str(exc)) from None
    entries = doc.get("mappings")
    if not isinstance(entries, list) or not entries:
        raise DataError(f"{path}: expected a non-empty list under 'mappings'")
    crit = doc.get("criticality") or {}
    rule = CriticalityRule(**{k: int(crit[k]) for k in ("valid_min", "valid_max", "positive_at_least",
                                                        "negative_at_most") if k in crit})
    category = str(doc.get("evidence_category") or "people_experience")
    taxonomy = default_taxonomy()
    if category not in taxonomy.categories:
        raise DataError(f"{path}: evidence_category {category!r} is not one of {', '.join(taxonomy.categories)}")
    out: dict[str, SubcategoryMapping] = {}
    for i, e in enumerate(entries):
        where = f"{path}: mappings[{i}]"
        if not isinstance(e, dict) or not e.get("subcategory"):
            raise DataError(f"{where}: every entry needs a 'subcategory'")
        kq, st, conf = e.get("key_question"), e.get("statement"), e.get("confidence")
        if kq is not None and kq not in taxonomy.key_questions:
            raise DataError(f"{where}: key_question {kq!r} is not one of {', '.join(taxonomy.key_questions)} or null")
        if st is not None:
            if kq is None:
                raise DataError(f"{where}: a statement needs a key_question")
            if statements is not None and st not in statements:
                raise DataError(f"{where}: unknown SAF statement {st!r}")
            if st.split(".")[0] != kq:
                raise DataError(f"{where}: statement {st!r} does not belong to key question {kq!r}")
        if kq is not None and conf not in CONFIDENCE_LEVELS:
            raise DataError(f"{where}: confidence must be one of {', '.join(CONFIDENCE_LEVELS)}; got {conf!r}")
        key = _norm(e["subcategory"])
        if key in out:
            raise DataError(f"{where}: subcategory {e['subcategory']!r} is listed twice")
        out[key] = SubcategoryMapping(str(e["subcategory"]), kq, st, conf if kq is not None else None,
                                      str(e.get("note", "")))
    return Phase1Mapping(str(doc.get("version", "")), category, rule, out)


def looks_like_phase1(columns: list[str]) -> bool:
    """True when a table has the pxtextmining columns (feedback, subcategory, criticality)."""
    names = {str(c).strip().casefold() for c in columns}
    return all(c in names for c in REQUIRED_COLUMNS)


@dataclass
class Phase1Data:
    """The converted rows plus what was left out and why (counts only, no text).

    ``frame`` has the corpus columns plus ``origin``, ``polarity``, ``criticality``, ``subcategory``,
    ``organization``, ``mapping_confidence``.
    """

    frame: pd.DataFrame
    total_rows: int
    blank_text: int = 0
    excluded_no_mapping: dict[str, int] = field(default_factory=dict)
    excluded_low_confidence: dict[str, int] = field(default_factory=dict)
    unknown_subcategories: dict[str, int] = field(default_factory=dict)
    criticality_missing: int = 0
    criticality_dirty: dict[str, int] = field(default_factory=dict)
    min_confidence: str = "medium"
    mapping_version: str = ""

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts of what was used and excluded."""
        f = self.frame
        return {
            "total_rows": self.total_rows, "rows_used": len(f), "blank_text": self.blank_text,
            "min_confidence": self.min_confidence, "mapping_version": self.mapping_version,
            "excluded_no_mapping": dict(self.excluded_no_mapping),
            "excluded_no_mapping_total": int(sum(self.excluded_no_mapping.values())),
            "excluded_low_confidence": dict(self.excluded_low_confidence),
            "excluded_low_confidence_total": int(sum(self.excluded_low_confidence.values())),
            "unknown_subcategories": dict(self.unknown_subcategories),
            "with_statement": int((f["statement"] != "").sum()) if len(f) else 0,
            "key_questions": {str(k): int(v) for k, v in f["key_question"].value_counts().items()} if len(f) else {},
            "polarity": {str(k or "none"): int(v) for k, v in f["polarity"].value_counts().items()} if len(f) else {},
            "criticality_missing": self.criticality_missing, "criticality_dirty": dict(self.criticality_dirty),
        }


def convert(raw: pd.DataFrame, mapping: Phase1Mapping, min_confidence: str = "medium",
            source: str = "phase1") -> Phase1Data:
    """Map a pxtextmining table (columns feedback, subcategory, criticality; optional organization,
    row_index, code) to corpus rows with evidence_category = the mapping's (people_experience)."""
    if min_confidence not in CONFIDENCE_LEVELS:
        raise DataError(f"min_confidence must be one of {', '.join(CONFIDENCE_LEVELS)}; got {min_confidence!r}")
    cols = {str(c).strip().casefold(): c for c in raw.columns}
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if missing:
        raise DataError(f"{source}: missing column(s) {', '.join(missing)} of a pxtextmining file; columns found: "
                        f"{', '.join(map(str, raw.columns))}")
    get = {c: raw[cols[c]].fillna("").astype(str) for c in cols}
    text = get["feedback"].str.strip()
    sub = get["subcategory"].str.strip()
    crit = get["criticality"].str.strip()
    org = get.get("organization", pd.Series([""] * len(raw), index=raw.index))
    row_id = get.get("row_index", pd.Series([str(i) for i in range(len(raw))], index=raw.index))
    level = CONFIDENCE_LEVELS.index(min_confidence)
    data = Phase1Data(frame=pd.DataFrame(), total_rows=len(raw), min_confidence=min_confidence,
                      mapping_version=mapping.version)
    no_map: Counter[str] = Counter()
    low: Counter[str] = Counter()
    unknown: Counter[str] = Counter()
    dirty: Counter[str] = Counter()
    rows = []
    for i in range(len(raw)):
        t, s, c = text.iat[i], sub.iat[i], crit.iat[i]
        if not t:
            data.blank_text += 1
            continue
        m = mapping.get(s)
        if m is None:
            unknown[s or "(empty)"] += 1
            continue
        if m.key_question is None:
            no_map[m.subcategory] += 1
            continue
        if CONFIDENCE_LEVELS.index(m.confidence or "low") < level:
            low[m.subcategory] += 1
            continue
        if mapping.criticality.parse(c) is None:
            data.criticality_missing += 1
            dirty[c or "(empty)"] += 1
        rows.append({"note_id": f"{source}:{row_id.iat[i] or i}", "text": t, "key_question": m.key_question,
                     "statement": m.statement or "", "evidence_category": mapping.evidence_category, "band": "",
                     "principles": "", "service": "", "origin": f"{source}:{org.iat[i]}" if org.iat[i] else source,
                     "polarity": mapping.criticality.polarity(c), "criticality": c, "subcategory": m.subcategory,
                     "organization": org.iat[i], "mapping_confidence": m.confidence})
    columns = [*CORPUS_COLUMNS, "origin", "polarity", "criticality", "subcategory", "organization",
               "mapping_confidence"]
    data.frame = pd.DataFrame(rows, columns=columns)
    data.excluded_no_mapping = dict(no_map.most_common())
    data.excluded_low_confidence = dict(low.most_common())
    data.unknown_subcategories = dict(unknown.most_common())
    data.criticality_dirty = dict(dirty.most_common())
    return data


def load_phase1(path: Path | None = None, mapping: Phase1Mapping | None = None, min_confidence: str = "medium",
                statements: list[str] | None = None) -> Phase1Data:
    """Read a pxtextmining CSV (any table format) and :func:`convert` it through the mapping file."""
    path = Path(path) if path else default_data_path()
    mapping = mapping or load_mapping(statements=statements)
    raw = read_table(path)
    return convert(raw, mapping, min_confidence=min_confidence, source="phase1")


def training_rows(raw: pd.DataFrame, mapping: Phase1Mapping, min_confidence: str = "medium",
                  direction_only_rows: bool = True, source: str = "phase1") -> pd.DataFrame:
    """Phase-1 comments as training rows: corpus columns + ``origin`` (``phase1:<trust>``), ``direction``
    (the polarity) and ``group`` (the trust).

    Mapped rows carry their key question (and statement where the mapping gives one). With
    ``direction_only_rows`` the comments whose subcategory has no defensible key question still
    teach the band's direction when their criticality is clear. Evidence category is left empty: a
    file's source is known to its user (``tag --evidence-category``), and the corpus teaches categories.
    """
    converted = convert(raw, mapping, min_confidence=min_confidence, source=source).frame
    frame = converted.assign(direction=converted["polarity"], group=converted["organization"], evidence_category="")
    if direction_only_rows:
        cols = {str(c).strip().casefold(): c for c in raw.columns}
        text = raw[cols["feedback"]].fillna("").astype(str).str.strip()
        sub = raw[cols["subcategory"]].fillna("").astype(str).str.strip()
        org = (raw[cols["organization"]].fillna("").astype(str) if "organization" in cols
               else pd.Series([""] * len(raw), index=raw.index))
        polarity = raw[cols["criticality"]].map(mapping.criticality.polarity)
        unmapped = [(mapping.get(s) is None or mapping.get(s).key_question is None) for s in sub]  # type: ignore[union-attr]
        keep = np.asarray(unmapped) & (text != "").to_numpy() & (polarity != "").to_numpy()
        extra = pd.DataFrame({"note_id": [f"{source}:direction:{i}" for i in np.flatnonzero(keep)],
                              "text": text[keep].to_numpy(), "key_question": "", "statement": "",
                              "evidence_category": "", "band": "", "principles": "", "service": "",
                              "origin": [f"{source}:{o}" if o else source for o in org[keep]],
                              "direction": polarity[keep].to_numpy(), "group": org[keep].to_numpy()})
        frame = pd.concat([frame, extra], ignore_index=True)
    keep_cols = [*CORPUS_COLUMNS, "origin", "direction", "group"]
    return frame[keep_cols].fillna("").astype(str).reset_index(drop=True)


__all__ = ["CONFIDENCE_LEVELS", "CriticalityRule", "MAPPING_FILE", "Phase1Data", "Phase1Mapping", "REQUIRED_COLUMNS", "SubcategoryMapping", "convert", "default_data_path", "default_mapping_path", "load_mapping", "load_phase1", "looks_like_phase1", "training_rows"]
