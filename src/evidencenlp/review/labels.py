"""The label vocabularies an inspector chooses from, with human titles, read from the framework files.

Only the SAF file (statements, key questions, evidence categories, bands) is required; the King's Fund
principles are optional. Each file is loaded on its own so a framework still being written (KLOE,
crosswalk) does not stop a review.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import (
    PRINCIPLES_ID,
    SAF_ID,
    Framework,
    framework_files,
    load_framework_file,
)
from evidencenlp.paths import frameworks_dir
from evidencenlp.review.models import Labels, ReviewError
from evidencenlp.taxonomy import Taxonomy


@dataclass(frozen=True)
class Option:
    """One choosable label: its id, a title for people and (statements only) its key question."""

    id: str
    title: str
    key_question: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """JSON-ready form."""
        return {"id": self.id, "title": self.title, "key_question": self.key_question}


@dataclass(frozen=True)
class Vocabulary:
    """All label options, in framework order, plus the framework versions they came from."""

    key_questions: tuple[Option, ...]
    statements: tuple[Option, ...]
    evidence_categories: tuple[Option, ...]
    bands: tuple[Option, ...]
    principles: tuple[Option, ...]
    versions: dict[str, str]

    def title(self, kind: str, ident: str | None) -> str:
        """The title of ``ident`` among ``kind`` (e.g. ``"statements"``), or the id itself."""
        if ident is None:
            return ""
        return next((o.title for o in getattr(self, kind) if o.id == ident), ident)

    def validate(self, labels: Labels) -> Labels:
        """Check every label is known and the statement belongs to the key question; fill the key question.

        Raises :class:`ReviewError` naming the bad field and the allowed values.
        """
        statements = {o.id: o.key_question for o in self.statements}
        if labels.statement not in statements:
            raise ReviewError(f"unknown quality statement {labels.statement!r}; expected a SAF statement id "
                              f"such as {self.statements[0].id!r}")
        kq = labels.key_question or statements[labels.statement]
        if kq != statements[labels.statement]:
            raise ReviewError(f"statement {labels.statement!r} belongs to key question "
                              f"{statements[labels.statement]!r}, not {kq!r}")
        _check("evidence category", labels.evidence_category, self.evidence_categories)
        _check("band", labels.band, self.bands)
        known = {o.id for o in self.principles}
        bad = [p for p in labels.principles if p not in known]
        if bad:
            raise ReviewError(f"unknown principle(s) {', '.join(map(repr, bad))}; expected some of "
                              f"{', '.join(sorted(known)) or '(none: no principles framework loaded)'}")
        ordered = tuple(o.id for o in self.principles if o.id in labels.principles)
        return Labels(kq, labels.statement, labels.evidence_category, labels.band, ordered)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form for the web page."""
        return {name: [o.to_dict() for o in getattr(self, name)]
                for name in ("key_questions", "statements", "evidence_categories", "bands", "principles")} | {
            "versions": dict(self.versions)}


def _check(what: str, value: str, options: tuple[Option, ...]) -> None:
    if value not in {o.id for o in options}:
        raise ReviewError(f"unknown {what} {value!r}; expected one of {', '.join(o.id for o in options)}")


def _find(directory: Path, framework_id: str) -> Framework | None:
    for suffix in (".yaml", ".yml", ".json"):
        path = directory / f"{framework_id}{suffix}"
        if path.is_file():
            return load_framework_file(path)
    for path in framework_files(directory):
        try:
            fw = load_framework_file(path)
        except FrameworkError:
            continue
        if fw.id == framework_id:
            return fw
    return None


@lru_cache(maxsize=4)
def _load(directory: Path) -> Vocabulary:
    saf = _find(directory, SAF_ID)
    if saf is None:
        raise FrameworkError(f"{directory}: no {SAF_ID} framework file; the review needs the SAF statements")
    titles = {k["id"]: k["title"] for k in saf.section("key_questions")}
    categories = {c["id"]: c["title"] for c in saf.section("evidence_categories")}
    bands = {b["id"]: b["title"] for b in saf.section("bands")}
    taxonomy = Taxonomy.from_frameworks({saf.id: saf})
    try:
        kf = _find(directory, PRINCIPLES_ID)
    except FrameworkError:
        kf = None
    versions = {saf.id: saf.version}
    if kf is not None:
        versions[kf.id] = kf.version
    return Vocabulary(
        key_questions=tuple(Option(k, titles.get(k, k)) for k in taxonomy.key_questions),
        statements=tuple(Option(q["id"], q["title"], q["key_question"]) for q in saf.section("quality_statements")),
        evidence_categories=tuple(Option(c, categories.get(c, c)) for c in taxonomy.categories),
        bands=tuple(Option(b, bands.get(b, b.replace("_", " ").capitalize())) for b in taxonomy.bands),
        principles=tuple(Option(p["id"], p["title"]) for p in kf.section("principles")) if kf else (),
        versions=versions,
    )


def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """The vocabularies from ``directory`` (default: the project's frameworks folder), cached."""
    return _load((directory or frameworks_dir()).resolve())
