"""The label space, built from the framework data: no other module lists key questions, bands or categories.

The primary framework (CQC's Single Assessment Framework by default, or a user's sector framework of
the same shape) declares ``key_questions``, ``quality_statements`` (each with its key question),
``bands`` (with scores) and ``evidence_categories``; a principles framework (The King's Fund's)
declares ``principles``. :class:`Taxonomy` reads them in file order and answers every "which labels,
in which order" question the rest of the package asks.

>>> from evidencenlp.frameworks import default_taxonomy   # doctest: +SKIP
>>> t = default_taxonomy()                                 # doctest: +SKIP
>>> t.key_questions[0], t.bands[0], t.band_score("good")   # doctest: +SKIP
('safe', 'outstanding', 3)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from evidencenlp.errors import FrameworkError
from evidencenlp.frameworks.files import Framework
from evidencenlp.frameworks.ids import SAF_ID

#: The bands and key questions as CQC publishes them. Used ONLY by the builders that turn the seed
#: documents into framework files (which then declare the label space as data); everything else
#: reads the label space from the loaded frameworks through :class:`Taxonomy`.
PUBLISHED_BANDS: tuple[str, ...] = ("outstanding", "good", "requires_improvement", "inadequate")
PUBLISHED_KEY_QUESTIONS: tuple[str, ...] = ("safe", "effective", "caring", "responsive", "well-led")
#: the label tasks a suggestion carries, in output order
TASKS: tuple[str, ...] = ("key_question", "statement", "evidence_category", "band")
#: the direction of a band: "positive" for the better half of the bands, "negative" for the worse half
DIRECTIONS: tuple[str, ...] = ("positive", "negative")


@dataclass(frozen=True)
class Taxonomy:
    """Ordered label lists for every task, and the links between them.

    Attributes:
        framework: id of the framework that declared the key questions, statements, bands and categories.
        key_questions: key question ids in framework order (``n_kq``).
        statements: quality statement ids in framework order (``n_statements``).
        statement_kq: the key question of each statement (``n_statements``).
        bands: band ids from best to worst (highest score first).
        band_scores: score of each band (same order as ``bands``), e.g. 4, 3, 2, 1.
        categories: evidence category ids in framework order.
        principles: principle ids (empty when no principles framework is loaded).
        titles: id → human title for every label above.
    """

    framework: str
    key_questions: tuple[str, ...]
    statements: tuple[str, ...]
    statement_kq: tuple[str, ...]
    bands: tuple[str, ...]
    band_scores: tuple[int, ...]
    categories: tuple[str, ...]
    principles: tuple[str, ...] = ()
    titles: Mapping[str, str] = field(default_factory=dict, compare=False, hash=False)

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_frameworks(cls, frameworks: Mapping[str, Framework], primary: str | None = None) -> Taxonomy:
        """Build from loaded frameworks.

        ``primary`` names the framework that declares the label space; by default the SAF when
        loaded, otherwise the only framework that declares ``quality_statements``. Principles come
        from any framework that declares ``principles``.
        Raises :class:`FrameworkError` when no framework (or more than one, ambiguously) declares them.
        """
        fw = _primary(frameworks, primary)
        kqs = fw.section("key_questions")
        statements = fw.section("quality_statements")
        bands = sorted(fw.section("bands"), key=lambda b: -int(b["score"]))
        categories = fw.section("evidence_categories")
        missing = [name for name, items in (("key_questions", kqs), ("quality_statements", statements),
                                            ("bands", bands)) if not items]
        if missing:
            raise FrameworkError(f"{fw.path}: the label space needs {', '.join(missing)}; the file has none")
        principles = [p for other in frameworks.values() for p in other.section("principles")]
        titles: dict[str, str] = {}
        for item in [*kqs, *statements, *bands, *categories, *principles]:
            titles[str(item["id"])] = str(item.get("title", item["id"]))
        return cls(framework=fw.id,
                   key_questions=tuple(str(k["id"]) for k in kqs),
                   statements=tuple(str(s["id"]) for s in statements),
                   statement_kq=tuple(str(s["key_question"]) for s in statements),
                   bands=tuple(str(b["id"]) for b in bands),
                   band_scores=tuple(int(b["score"]) for b in bands),
                   categories=tuple(str(c["id"]) for c in categories),
                   principles=tuple(str(p["id"]) for p in principles),
                   titles=titles)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Taxonomy:
        """Rebuild from :meth:`to_dict` (as stored beside a trained model)."""
        return cls(framework=str(data["framework"]), key_questions=tuple(data["key_questions"]),
                   statements=tuple(data["statements"]), statement_kq=tuple(data["statement_kq"]),
                   bands=tuple(data["bands"]), band_scores=tuple(int(s) for s in data["band_scores"]),
                   categories=tuple(data["categories"]), principles=tuple(data.get("principles", ())),
                   titles=dict(data.get("titles", {})))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (without titles)."""
        return {"framework": self.framework, "key_questions": list(self.key_questions),
                "statements": list(self.statements), "statement_kq": list(self.statement_kq),
                "bands": list(self.bands), "band_scores": list(self.band_scores),
                "categories": list(self.categories), "principles": list(self.principles)}

    # -- questions ------------------------------------------------------------------------------

    def labels(self, task: str) -> tuple[str, ...]:
        """The ordered labels of ``task`` (one of :data:`TASKS`, ``principles`` or ``direction``)."""
        table = {"key_question": self.key_questions, "statement": self.statements,
                 "evidence_category": self.categories, "band": self.bands, "principles": self.principles,
                 "direction": DIRECTIONS}
        if task not in table:
            raise KeyError(f"unknown task {task!r}; expected one of {', '.join(table)}")
        return table[task]

    def key_question_of(self, statement: str) -> str:
        """The key question a statement belongs to. Raises KeyError for an unknown statement."""
        return self.statement_kq[self.statements.index(statement)]

    def statements_of(self, key_question: str) -> tuple[str, ...]:
        """The statements of one key question, in framework order."""
        return tuple(s for s, k in zip(self.statements, self.statement_kq) if k == key_question)

    def band_score(self, band: str) -> int:
        """The score of a band (e.g. good → 3)."""
        return self.band_scores[self.bands.index(band)]

    def band_for_score(self, score: int) -> str:
        """The band whose score is ``score``."""
        return self.bands[self.band_scores.index(score)]

    @property
    def positive_bands(self) -> tuple[str, ...]:
        """The better half of the bands (e.g. outstanding, good): a positive direction."""
        return self.bands[: len(self.bands) // 2]

    @property
    def negative_bands(self) -> tuple[str, ...]:
        """The worse half of the bands (e.g. requires improvement, inadequate): a negative direction."""
        return self.bands[len(self.bands) // 2:]

    def direction_of(self, band: str) -> str:
        """``"positive"`` or ``"negative"`` for a band."""
        if band not in self.bands:
            raise KeyError(f"unknown band {band!r}")
        return DIRECTIONS[0] if band in self.positive_bands else DIRECTIONS[1]

    def title(self, label: str) -> str:
        """A human title for any label id (the id itself when none is known)."""
        return self.titles.get(label, label)


def _primary(frameworks: Mapping[str, Framework], primary: str | None) -> Framework:
    if primary is not None:
        if primary not in frameworks:
            raise FrameworkError(f"framework {primary!r} is not loaded; loaded: {', '.join(sorted(frameworks))}")
        return frameworks[primary]
    if SAF_ID in frameworks:
        return frameworks[SAF_ID]
    declaring = [fw for fw in frameworks.values() if fw.section("quality_statements")]
    if len(declaring) == 1:
        return declaring[0]
    if not declaring:
        raise FrameworkError("no loaded framework declares quality_statements: the label space cannot be built")
    raise FrameworkError("more than one framework declares quality_statements "
                         f"({', '.join(fw.id for fw in declaring)}); name the primary one")


def check_labels(task: str, values: Sequence[str], taxonomy: Taxonomy) -> list[str]:
    """The values (non-empty) that are not labels of ``task``; empty when all are valid."""
    allowed = set(taxonomy.labels(task))
    return sorted({v for v in values if v and v not in allowed})
