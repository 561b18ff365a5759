"""The crosswalk: many-to-many links between SAF statements, v6 topics and KLOEs (``crosswalk.yaml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks.files import Framework, read_document, validate_document
from evidencenlp.frameworks.ids import CROSSWALK_FILE, KLOE_ID, MAX_ERRORS_SHOWN, SAF_ID, V6_ID
from evidencenlp.paths import frameworks_dir


@dataclass(frozen=True)
class CrosswalkRow:
    """One SAF quality statement and the v6 topics and KLOEs that correspond to it."""

    saf: str
    v6: tuple[str, ...]
    kloe: tuple[str, ...]
    judgement: bool
    note: str = ""


@dataclass(frozen=True)
class Crosswalk:
    """Many-to-many links between SAF statements, v6 topics and KLOEs."""

    version: str
    rows: tuple[CrosswalkRow, ...]

    def saf_for_v6(self, topic_id: str) -> list[str]:
        """SAF statement ids linked to a v6 topic id."""
        return [r.saf for r in self.rows if topic_id in r.v6]

    def saf_for_kloe(self, kloe_id: str) -> list[str]:
        """SAF statement ids linked to a KLOE id (``S1``) or prompt id (``S1.2``)."""
        kloe_id = kloe_id.split(".")[0]
        return [r.saf for r in self.rows if kloe_id in r.kloe]

    def row(self, saf_id: str) -> CrosswalkRow | None:
        """The crosswalk row of a SAF statement id, if any."""
        return next((r for r in self.rows if r.saf == saf_id), None)

    def saf_for(self, framework_id: str, item: str) -> list[str]:
        """SAF statement ids for an item of any known framework (a SAF id maps to itself)."""
        if framework_id == SAF_ID:
            return [item]
        if framework_id == V6_ID:
            return self.saf_for_v6(item)
        if framework_id == KLOE_ID:
            return self.saf_for_kloe(item)
        return []


def load_crosswalk(path: Path | None = None, frameworks: dict[str, Framework] | None = None) -> Crosswalk:
    """Load ``crosswalk.yaml``; when ``frameworks`` is given, check every id it names exists."""
    path = path or frameworks_dir() / CROSSWALK_FILE
    doc = read_document(path)
    validate_document(doc, path, schema="crosswalk.schema.json")
    rows = tuple(CrosswalkRow(r["saf"], tuple(r["v6"]), tuple(r["kloe"]), r["judgement"], r.get("note", ""))
                 for r in doc["mappings"])
    if frameworks:
        _check_crosswalk_ids(rows, frameworks, path)
    return Crosswalk(version=str(doc["version"]), rows=rows)


def _check_crosswalk_ids(rows: tuple[CrosswalkRow, ...], frameworks: dict[str, Framework], path: Path) -> None:
    known = {
        "saf": {q["id"] for q in frameworks[SAF_ID].section("quality_statements")} if SAF_ID in frameworks else None,
        "v6": {t["id"] for t in frameworks[V6_ID].section("topics")} if V6_ID in frameworks else None,
        "kloe": {k["id"] for k in frameworks[KLOE_ID].section("kloes")} if KLOE_ID in frameworks else None,
    }
    problems = []
    for i, row in enumerate(rows):
        for role, ids in (("saf", (row.saf,)), ("v6", row.v6), ("kloe", row.kloe)):
            valid = known[role]
            problems += [f"at mappings[{i}].{role}: unknown id {x!r}" for x in ids if valid is not None and x not in valid]
    if problems:
        raise FrameworkError(f"{path}: " + "; ".join(problems[:MAX_ERRORS_SHOWN]))
