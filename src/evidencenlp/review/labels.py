"""The label vocabularies an inspector chooses from, with human titles, read from the framework files.

The label space is a :class:`~evidencenlp.taxonomy.Taxonomy` (:meth:`Vocabulary.from_taxonomy`);
the store validates every decision's labels against its :class:`Vocabulary` before writing (the
database schema does not know the labels). Only the SAF file (statements, key questions, evidence
categories, bands) is required; the King's Fund principles are optional. Each file is loaded on its
own so a framework still being written (KLOE, crosswalk) does not stop a review. Nothing is loaded
at import time: :func:`load_vocabulary` reads the files on first call.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks import PRINCIPLES_ID, SAF_ID, Framework, framework_files, load_framework_file
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

    @classmethod
    def from_taxonomy(cls, taxonomy: Taxonomy, versions: dict[str, str] | None = None) -> Vocabulary:
        """The options of a :class:`~evidencenlp.taxonomy.Taxonomy`, in its order, with its titles."""
        def title(ident: str) -> str:
            return taxonomy.title(ident)

        def band_title(ident: str) -> str:  # a band without a title reads as its id, spaced
            named = taxonomy.title(ident)
            return named if named != ident else ident.replace("_", " ").capitalize()

        return cls(
            key_questions=tuple(Option(k, title(k)) for k in taxonomy.key_questions),
            statements=tuple(Option(s, title(s), taxonomy.key_question_of(s)) for s in taxonomy.statements),
            evidence_categories=tuple(Option(c, title(c)) for c in taxonomy.categories),
            bands=tuple(Option(b, band_title(b)) for b in taxonomy.bands),
            principles=tuple(Option(p, title(p)) for p in taxonomy.principles),
            versions=dict(versions or {}),
        )

    def key_question_of(self, statement: str) -> str | None:
        """The key question a statement belongs to, or None for a statement the frameworks do not have."""
        return next((o.key_question for o in self.statements if o.id == statement), None)

    def with_own_key_question(self, labels: Labels) -> Labels:
        """``labels`` with the key question its statement belongs to (unchanged for an unknown statement).

        A stored suggestion may pair a statement with another key question (older data); accepting
        it records the statement under its own key question.
        """
        own = self.key_question_of(labels.statement)
        return labels if own is None or own == labels.key_question else labels.replace(key_question=own)

    def title(self, kind: str, ident: str | None) -> str:
        """The title of ``ident`` among ``kind`` (e.g. ``"statements"``), or the id itself."""
        if ident is None:
            return ""
        return next((o.title for o in getattr(self, kind) if o.id == ident), ident)

    def validate(self, labels: Labels) -> Labels:
        """Check every label is known and the statement belongs to the key question; fill the key question.

        Raises :class:`ReviewError` naming the bad field and the allowed values.
        """
        own = self.key_question_of(labels.statement)
        if own is None:
            raise ReviewError(f"unknown quality statement {labels.statement!r}; expected a SAF statement id "
                              f"such as {self.statements[0].id!r}")
        kq = labels.key_question or own
        if kq != own:
            raise ReviewError(f"statement {labels.statement!r} belongs to key question {own!r}, not {kq!r}")
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
    try:
        kf = _find(directory, PRINCIPLES_ID)
    except FrameworkError:
        kf = None
    frameworks = {saf.id: saf} | ({kf.id: kf} if kf is not None else {})
    taxonomy = Taxonomy.from_frameworks(frameworks, primary=saf.id)
    return Vocabulary.from_taxonomy(taxonomy, {fw.id: fw.version for fw in frameworks.values()})


def load_vocabulary(directory: Path | None = None) -> Vocabulary:
    """The vocabularies from ``directory`` (default: the project's frameworks folder), cached."""
    return _load((directory or frameworks_dir()).resolve())
